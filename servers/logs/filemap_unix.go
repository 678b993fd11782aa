//go:build unix

package logs

import (
	"os"
	"syscall"
)

// mapFile maps a file into memory read-only. Searching a mapping avoids
// copying the file through read buffers, and the page cache makes a second
// search of the same file nearly free.
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if size == 0 {
		return nil, func() {}, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readAll(f, size)
	}
	_ = syscall.Madvise(data, syscall.MADV_SEQUENTIAL)
	return data, func() { _ = syscall.Munmap(data) }, nil
}
