//go:build unix

package cli

import (
	"os"
	"syscall"
)

// replaceProcess executes path in place of this process; it returns only
// on failure.
func replaceProcess(path string, argv []string) error {
	return syscall.Exec(path, argv, os.Environ())
}
