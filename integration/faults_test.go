package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"golang.org/x/sync/errgroup"
)

// daemon is a buildkitd of the test's own, with its own state dir and
// socket, for faults the stack's daemon must not suffer.
type daemon struct {
	t    *testing.T
	root string
	addr string
	cmd  *exec.Cmd
}

// startDaemon starts a buildkitd on root (made if missing) and waits until
// it answers. It is stopped by pid when the test ends.
func startDaemon(t *testing.T, s *stack, root string) *daemon {
	t.Helper()
	bin := filepath.Join(filepath.Dir(s.buildctl), "buildkitd")
	config := filepath.Join(os.Getenv("STOWAGE_STACK_DIR"), "buildkitd.toml")
	d := &daemon{t: t, root: root, addr: "unix://" + filepath.Join(root, "buildkitd.sock")}
	d.cmd = exec.Command(bin, "--oci-worker=true", "--containerd-worker=false", "--root", root,
		"--addr", d.addr, "--config", config)
	log, err := os.Create(filepath.Join(root, "..", filepath.Base(root)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout, d.cmd.Stderr = log, log
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("buildkitd: %v", err)
	}
	t.Cleanup(func() { d.stop(syscall.SIGTERM) })
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.New(context.Background(), d.addr)
		if err == nil {
			_, err = c.ListWorkers(context.Background())
			c.Close()
			if err == nil {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("buildkitd on %s did not answer: %v (log %s)", root, err, log.Name())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop sends sig to the daemon and waits (at most 30 s, then SIGKILL) for it
// to exit.
func (d *daemon) stop(sig syscall.Signal) {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// faultRoot is a state dir for startDaemon that the test removes, snapshot
// mounts a killed daemon left behind included.
func faultRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "stowage-fault-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A killed buildkitd leaves overlay mounts; RemoveAll cannot cross them.
		if mounts, err := os.ReadFile("/proc/self/mounts"); err == nil {
			for _, line := range strings.Split(string(mounts), "\n") {
				if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
					_ = syscall.Unmount(f[1], syscall.MNT_DETACH)
				}
			}
		}
		_ = os.RemoveAll(dir)
	})
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	return root
}

// faultSpec: step w appends ${RUN} to the volume's log, slowly when SLOW is
// set (so the daemon can be stopped halfway), and exports the log.
const faultSpec = `project: fault-ID
args: {RUN: "", SLOW: ""}
caches:
  c: {key: c, sharing: locked}
steps:
  w:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c}]
    run: >-
      if [ -n "${SLOW}" ]; then for i in $(seq 50); do echo "${RUN} $i" >> /c/slow; sleep 0.1; done; fi;
      echo "${RUN}" >> /c/log && mkdir -p /out && cp /c/log /out/log
  out:
    from: scratch
    copy: [{from: w, src: /out, dest: /}]
`

// TestDaemonKilledMidWrite: buildkitd stopped (SIGKILL, SIGTERM) while a
// step writes a locked volume, then restarted on the same state: the next
// build succeeds and sees what the completed build wrote.
func TestDaemonKilledMidWrite(t *testing.T) {
	s := needStack(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			root := faultRoot(t)
			d := startDaemon(t, s, root)
			own := *s
			own.addr = d.addr
			p := ownershipProject(t, s, faultSpec, nil)
			ctx := context.Background()
			own.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "first"}})

			// The second build writes for 5 s; stop the daemon 2 s in.
			errc := make(chan error, 1)
			go func() {
				_, err := own.build(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "second", "build-arg:SLOW": "1"}})
				errc <- err
			}()
			time.Sleep(2 * time.Second)
			d.stop(sig)
			// SIGTERM lets buildkitd finish what runs; SIGKILL does not.
			secondDone := <-errc == nil
			if secondDone && sig == syscall.SIGKILL {
				t.Fatal("the build went on after its daemon was killed")
			}

			d = startDaemon(t, s, root)
			own.addr = d.addr
			res := own.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "third"}})
			want := "first\nthird\n"
			if secondDone {
				want = "first\nsecond\nthird\n"
			}
			if log := res.file(t, "log"); log != want {
				t.Errorf("after %s and a restart the volume's log is %q, want %q", sig, log, want)
			}
		})
	}
}

// TestClientKilledMidBuild: the stowage CLI killed while its build writes a
// locked volume leaves nothing held: the next build takes the lock, runs,
// and sees what earlier builds wrote.
func TestClientKilledMidBuild(t *testing.T) {
	s := needStack(t)
	bin := needCLI(t)
	p := ownershipProject(t, s, faultSpec, nil)
	ctx := context.Background()
	s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "first"}})
	cmd := exec.Command(bin, "build", "--build-arg", "RUN=killed", "--build-arg", "SLOW=1", p.dir)
	cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+s.addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	// Bounded: a lock the killed build still held would hang here.
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	res := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "after"}})
	if log := res.file(t, "log"); !strings.HasPrefix(log, "first\n") || !strings.HasSuffix(log, "after\n") {
		t.Errorf("after the killed client the volume's log is %q", log)
	}
}

// TestImageRegistryDownPointsAtYAML: an image whose registry does not
// answer fails the build at the YAML line that names it, with the image's
// address, for a step's from:, a copy's from: and a bind mount's from:.
func TestImageRegistryDownPointsAtYAML(t *testing.T) {
	s := needStack(t)
	down := freeAddr(t) + "/busybox:latest"
	for name, tc := range map[string]struct {
		body string
		line int
	}{
		"from": {"from: " + down + "\n    run: \"true\"", 4},
		"copy": {"from: [[.Busybox]]\n    copy: [{from: \"" + down + "\", src: /bin/sh, dest: /x}]", 5},
		"bind": {"from: [[.Busybox]]\n    mounts: [{type: bind, from: \"" + down + "\", path: /o}]\n    run: \"true\"", 5},
	} {
		t.Run(name, func(t *testing.T) {
			p := newProject(t, s, "project: down\nsteps:\n  s:\n    "+tc.body+"\n", nil)
			res, err := s.build(context.Background(), t, p, buildOpts{})
			if err == nil {
				t.Fatal("the build succeeded")
			}
			if !strings.Contains(err.Error()+res.logs, down) {
				t.Errorf("the error does not name %s:\n%v", down, err)
			}
			// At the line as text (a spec error) or as a source range (a
			// failing op), as buildx prints it.
			text, rng := fmt.Sprintf("stowage.yaml:%d:", tc.line), "stowage.yaml:"+itoa(tc.line)+"-"
			if !strings.Contains(err.Error(), text) && !strings.Contains(strings.Join(sourceLines(err), " "), rng) {
				t.Errorf("the error does not point at line %d (sources %v):\n%v", tc.line, sourceLines(err), err)
			}
		})
	}
}

// TestManyProjectsManyModes: 20 builds at once across 5 projects, each
// mounting a global locked volume, a project shared one and a private one:
// every build finishes (no deadlock, bounded), every write is counted, and
// no private instance is seen by two steps at once.
func TestManyProjectsManyModes(t *testing.T) {
	s := needStack(t)
	id := nonce()
	const projects, perProject = 5, 4
	spec := func(i int) *project {
		return newProject(t, s, fmt.Sprintf(`project: modes-%d-%s
args: {RUN: ""}
caches:
  global: {key: [modes-global, "%s"], scope: global, sharing: locked}
  shared: {key: shared}
  private: {key: private, sharing: private}
steps:
  w:
    from: [[.Busybox]]
    mounts:
      - {cache: global, path: /g}
      - {cache: shared, path: /s}
      - {cache: private, path: /p}
    run: >-
      if [ -e /p/busy ]; then echo "private instance in use by $(cat /p/busy)" >&2; exit 1; fi;
      echo ${RUN} > /p/busy; echo ${RUN} >> /g/log; echo ${RUN} >> /s/log; sleep 0.2; rm /p/busy
`, i, id, id), nil)
	}
	ps := make([]*project, projects)
	for i := range ps {
		ps[i] = spec(i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var eg errgroup.Group
	for i := range projects * perProject {
		eg.Go(func() error {
			_, err := s.build(ctx, t, ps[i%projects], buildOpts{attrs: map[string]string{"build-arg:RUN": fmt.Sprintf("b%d", i)}})
			if err != nil {
				return fmt.Errorf("build %d: %w", i, err)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	count := func(i int) (global, shared string) {
		c := newProject(t, s, fmt.Sprintf(`project: modes-%d-%s
caches:
  global: {key: [modes-global, "%s"], scope: global, sharing: locked}
  shared: {key: shared}
steps:
  count:
    from: [[.Busybox]]
    mounts: [{cache: global, path: /g}, {cache: shared, path: /s}]
    run: mkdir -p /out && wc -l < /g/log > /out/g && wc -l < /s/log > /out/s
  out:
    from: scratch
    copy: [{from: count, src: /out, dest: /}]
`, i, id, id), nil)
		res := s.mustBuild(context.Background(), t, c, buildOpts{})
		return strings.TrimSpace(res.file(t, "g")), strings.TrimSpace(res.file(t, "s"))
	}
	for i := range ps {
		g, sh := count(i)
		if g != fmt.Sprint(projects*perProject) {
			t.Errorf("the global locked volume has %s writes, want %d", g, projects*perProject)
		}
		if sh != fmt.Sprint(perProject) {
			t.Errorf("project %d's shared volume has %s writes, want %d", i, sh, perProject)
		}
	}
}
