//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a session of its own, so the daemon outlives the
// command that started it and its terminal's signals.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

// terminate asks the process to stop, as buildkitd wants: SIGTERM.
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
