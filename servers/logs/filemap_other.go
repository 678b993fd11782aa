//go:build !unix

package logs

import "os"

// mapFile reads the file into memory where mmap is not available.
func mapFile(f *os.File, size int64) ([]byte, func(), error) { return readAll(f, size) }
