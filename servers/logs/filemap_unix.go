//go:build unix

package logs

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a file into memory read-only. Searching a mapping avoids
// copying the file through read buffers, and the page cache makes a second
// search of the same file nearly free. (x/sys/unix rather than syscall:
// syscall has no Madvise on macOS.)
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if size == 0 {
		return nil, func() {}, nil
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return readAll(f, size)
	}
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return data, func() { _ = unix.Munmap(data) }, nil
}
