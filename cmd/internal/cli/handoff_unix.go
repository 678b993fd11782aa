//go:build unix

package cli

import "syscall"

// replaceProcess executes path in place of this process; it returns only
// on failure.
func replaceProcess(path string, argv, env []string) error {
	return syscall.Exec(path, argv, env)
}
