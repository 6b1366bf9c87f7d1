//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// detach starts cmd in a session of its own, so the daemon outlives the
// command that started it and its terminal's signals.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

// terminate asks the process to stop, as buildkitd wants: SIGTERM.
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// lockFile takes an exclusive lock on file (made if missing), waiting for
// it, and returns its release.
func lockFile(file string) (func(), error) {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
