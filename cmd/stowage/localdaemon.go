package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
)

// localDaemon is the buildkitd stowage starts itself when it finds no
// other: buildkitd from PATH, state under $XDG_DATA_HOME/stowage, socket
// under $XDG_RUNTIME_DIR, reused by later commands until `stowage builder
// stop`. Not root, it runs under rootlesskit, as BuildKit's rootless mode
// wants.
type localDaemon struct {
	root, sock, pidFile, logFile string
	// addrFile records where the running daemon listens; lockFile keeps two
	// commands from starting it at once.
	addrFile, lockFile string
	// running is the pid start found answering, so it started nothing.
	running int
	// config is $XDG_CONFIG_HOME/stowage/buildkitd.toml when it exists:
	// registry mirrors and the like, in buildkitd's own format.
	config string
}

// newLocalDaemon says where stowage's own buildkitd keeps its state.
func newLocalDaemon() *localDaemon {
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home, _ := os.UserHomeDir()
		data = filepath.Join(home, ".local", "share")
	}
	state := filepath.Join(data, "stowage")
	run := os.Getenv("XDG_RUNTIME_DIR")
	switch {
	case run != "":
		run = filepath.Join(run, "stowage")
	case os.Geteuid() == 0:
		run = "/run/stowage"
	default:
		run = state
	}
	d := &localDaemon{
		root:     filepath.Join(state, "buildkitd"),
		sock:     filepath.Join(run, "buildkitd.sock"),
		pidFile:  filepath.Join(state, "buildkitd.pid"),
		logFile:  filepath.Join(state, "buildkitd.log"),
		addrFile: filepath.Join(state, "buildkitd.addr"),
		lockFile: filepath.Join(state, "start.lock"),
	}
	// A running daemon is reached where it was started, whatever this
	// command's $XDG_RUNTIME_DIR says.
	if dt, err := os.ReadFile(d.addrFile); err == nil && d.pid() != 0 {
		if a, ok := strings.CutPrefix(strings.TrimSpace(string(dt)), "unix://"); ok {
			d.sock = a
		}
	}
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		home, _ := os.UserHomeDir()
		cfg = filepath.Join(home, ".config")
	}
	if f := filepath.Join(cfg, "stowage", "buildkitd.toml"); fileExists(f) {
		d.config = f
	}
	return d
}

func (d *localDaemon) addr() string { return "unix://" + d.sock }

// pid is the recorded buildkitd's pid while that process still runs and is
// this daemon (not a recycled pid); 0 otherwise.
func (d *localDaemon) pid() int {
	dt, err := os.ReadFile(d.pidFile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(dt)))
	if err != nil || pid <= 0 {
		return 0
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !isDaemon(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"), d.root) {
		return 0
	}
	return pid
}

// isDaemon says whether argv is buildkitd (or rootlesskit running it)
// started with --root root exactly: a recycled pid running anything else,
// even `tail -f` of the daemon's log under root, is not it.
func isDaemon(argv []string, root string) bool {
	if len(argv) == 0 {
		return false
	}
	if b := filepath.Base(argv[0]); b != "buildkitd" && b != "rootlesskit" {
		return false
	}
	for i := 1; i+1 < len(argv); i++ {
		if argv[i] == "--root" && argv[i+1] == root {
			return true
		}
	}
	return false
}

// command is how the daemon is started: rootless through rootlesskit when
// not root, as BuildKit's docs say.
func (d *localDaemon) command() ([]string, error) {
	if runtime.GOOS != "linux" {
		return nil, errors.New("stowage starts buildkitd itself on Linux only: here, use a buildx builder (docker buildx create --use) or pass --addr")
	}
	bin, err := exec.LookPath("buildkitd")
	if err != nil {
		return nil, errors.New("no buildkitd on PATH to start")
	}
	args := []string{bin, "--addr", d.addr(), "--root", d.root}
	if d.config != "" {
		args = append(args, "--config", d.config)
	}
	if os.Geteuid() != 0 {
		rk, err := exec.LookPath("rootlesskit")
		if err != nil {
			return nil, errors.New("buildkitd is on PATH, but running it as a user needs rootlesskit on PATH too (BuildKit's rootless mode)")
		}
		args = append([]string{rk}, args...)
	}
	return args, nil
}

// start runs the daemon detached (it outlives this command, for the next
// one) and waits until it answers.
func (d *localDaemon) start(ctx context.Context) (pid int, started bool, err error) {
	pid, err = d.startLocked(ctx)
	return pid, err == nil && pid != d.running, err
}

// startLocked is start's body; d.running is the pid that answered before it
// started anything.
func (d *localDaemon) startLocked(ctx context.Context) (int, error) {
	if err := os.MkdirAll(d.root, 0o700); err != nil {
		return 0, err
	}
	// Two commands at once start one daemon: the second waits here, then
	// finds the first's running.
	unlock, err := lockFile(d.lockFile)
	if err != nil {
		return 0, err
	}
	defer unlock()
	// A running daemon is used as it is, whatever PATH says now.
	if pid := d.pid(); pid != 0 && answers(ctx, d.addr()) {
		d.running = pid
		return pid, nil
	}
	args, err := d.command()
	if err != nil {
		return 0, err
	}
	// sockaddr_un holds 108 bytes, the terminating NUL included.
	if len(d.sock) > 107 {
		return 0, fmt.Errorf("the socket path %s is %d bytes, more than a unix socket takes (107): set XDG_RUNTIME_DIR to a shorter directory", d.sock, len(d.sock))
	}
	if err := os.MkdirAll(filepath.Dir(d.sock), 0o700); err != nil {
		return 0, err
	}
	logf, err := os.OpenFile(d.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Not the project's directory, which the daemon would keep busy.
	cmd.Dir = d.root
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	if err := os.WriteFile(d.pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		return 0, err
	}
	if err := os.WriteFile(d.addrFile, []byte(d.addr()+"\n"), 0o600); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		// Ours must be the one that answers: alive, and recorded.
		if d.pid() == pid && answers(ctx, d.addr()) {
			return pid, nil
		}
		if d.pid() == 0 {
			return 0, fmt.Errorf("buildkitd exited as it started: %s", tail(d.logFile))
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("buildkitd (pid %d) did not answer on %s within a minute: %s", pid, d.addr(), tail(d.logFile))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM to the recorded daemon and waits for it to exit, as
// buildkitd finishes or cancels what it runs.
func (d *localDaemon) stop(ctx context.Context) (int, error) {
	pid := d.pid()
	if pid == 0 {
		return 0, nil
	}
	if err := terminate(pid); err != nil {
		return pid, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for d.pid() != 0 {
		select {
		case <-ctx.Done():
			return pid, fmt.Errorf("buildkitd (pid %d) still runs a minute after SIGTERM", pid)
		case <-time.After(100 * time.Millisecond):
		}
	}
	_ = os.Remove(d.pidFile)
	_ = os.Remove(d.addrFile)
	return pid, nil
}

// answers says whether a buildkitd answers at addr.
func answers(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cl, err := client.New(ctx, addr)
	if err != nil {
		return false
	}
	defer cl.Close()
	_, err = cl.Info(ctx)
	return err == nil
}

// tail is the end of a log file, for an error.
func tail(file string) string {
	dt, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimSpace(string(dt)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n") + " (log: " + file + ")"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
