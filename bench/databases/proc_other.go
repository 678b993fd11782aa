//go:build !linux

package main

import (
	"os"
	"syscall"
)

// childAttr sets nothing: parent-death signals are Linux-only.
func childAttr() *syscall.SysProcAttr { return nil }

// maxRSS is not measured outside Linux, where rusage units differ.
func maxRSS(*os.ProcessState) (int64, bool) { return 0, false }

// cpuTime is the user+system CPU an exited process used, in seconds.
func cpuTime(ps *os.ProcessState) float64 {
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

// selfCPU is not measured outside Linux.
func selfCPU() float64 { return 0 }

// loadAvg is not read outside Linux.
func loadAvg() string { return "?" }
