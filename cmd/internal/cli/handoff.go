package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
)

// FullName is the program that links everything opstower leaves out.
const FullName = "opstower-full"

// handOffEnv marks a process that opstower started in its place, so that
// a program found under FullName which is not the full build (a copy of
// opstower) fails instead of handing over to itself for ever. The full
// build clears it, so the servers it launches may hand over again.
const handOffEnv = "OPSTOWER_HANDED_OVER"

// What only opstower-full links: the agent host's commands, its
// `opstower mcp agents` server, and (through connections.ErrNotLinked)
// providers built on large client libraries, such as the CloudWatch and
// Cloud Logging log providers. The host
// package's tests check that these lists name everything it registers.
var (
	fullOnlyCommands   = []string{"chat", "agents", "host"}
	fullOnlyCategories = []string{"agents"}
)

// FullOnly reports the commands and categories opstower hands over to
// opstower-full, for the host package's tests.
func FullOnly() (commands, categories []string) {
	return slices.Clone(fullOnlyCommands), slices.Clone(fullOnlyCategories)
}

func isFullOnly(list []string, name string) bool {
	return !build.Full && slices.Contains(list, name)
}

// handOff runs args with opstower-full in place of this process: the same
// arguments, environment, stdin and stdout, so an MCP client that launched
// `opstower mcp logs` never notices. what names the command for errors.
func handOff(args []string, what string) error {
	if build.Full {
		return fmt.Errorf("%s is not available in this build", what)
	}
	if os.Getenv(handOffEnv) != "" {
		return fmt.Errorf("%s needs %s, but the program started as %s does not have it either: reinstall both from the same build", what, FullName, FullName)
	}
	path, err := fullBinary()
	if err != nil {
		return fmt.Errorf("%s needs %s, which is neither beside this program nor on PATH: "+
			"run make build (it writes both to bin/), or go install github.com/opstower/opstower/cmd/...@latest", what, FullName)
	}
	return replaceProcess(path, append([]string{path}, args...), append(os.Environ(), handOffEnv+"=1"))
}

// fullBinary finds opstower-full beside this program first, so that a
// build's two programs stay together, then on PATH.
func fullBinary() (string, error) {
	name := FullName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			p := filepath.Join(filepath.Dir(exe), name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", errors.New(name + " not found")
	}
	return p, nil
}
