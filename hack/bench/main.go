// Command bench measures Stowage against BuildKit's own Dockerfile frontend
// of the same BuildKit version, both measured in this one run, and prints
// one markdown table (docs/benchmarks.md holds the latest). Progress goes to
// stderr; the raw numbers and build logs to $STOWAGE_BENCH_DIR/latest/.
//
//	go run ./hack/bench
//
// Sections (STOWAGE_BENCH_SECTIONS picks, default "1 2 3 4 5 6"):
//
//  1. lowering: parse + validate + lower + marshal of generated pipelines of
//     10, 100 and 1,000 steps against dockerfile2llb on the same pipelines as
//     Dockerfiles (BenchmarkLower in llbgen/bench_test.go), in rounds that
//     alternate the two;
//  2. end to end: a fully cached rebuild of a 10-step pipeline through
//     `docker buildx build`, each frontend named on its file's `# syntax=`
//     line, alternating; then the first build with a frontend image the
//     builder has never pulled;
//  3. the frontend images' sizes, and the frontend process's peak RSS while
//     it lowers the 1,000-step pipeline in a real build;
//  4. what cache volumes buy: this repository's commands built in the
//     stack's golang image with gomod and gobuild volumes, cold, then warm
//     after a one-line change (source copied, and bind-mounted), against the
//     same change built on the host with a warm GOCACHE; then fresh builders
//     (ephemeral CI runners), cold and warmed through the registry;
//  5. moving volumes: `stowage cache export` and `import` (type=tar) of a
//     volume of many small files and of one of a few big ones, against
//     buildkit-cache-dance's method on the same bytes (its inject and
//     extract Dockerfile builds, with --output type=tar standing in for its
//     --load and docker cp, so that peer is faster here than in CI) and
//     against plain tar of the same bytes on the host (the limit);
//  6. context bytes: what a build that copies one small file from the main
//     and from a named context sends of each, next to a 4 MiB file no step
//     reads, against the Dockerfile frontend on the same files.
//
// Both frontend images are made here the same way: the binary alone on
// scratch with its upstream labels, pushed straight to the stack's registry
// (never built by buildkitd, so a first pull really pulls). It starts the
// stack itself (hack/stack up).
//
// Environment: STOWAGE_BENCH_DIR (default .cache/bench), and the repetitions:
// STOWAGE_BENCH_ROUNDS (Go benchmark rounds, 5), STOWAGE_BENCH_BENCHTIME
// (per benchmark and round, 1s), STOWAGE_BENCH_REBUILDS (cached rebuilds per
// frontend, 10), STOWAGE_BENCH_PULLS (first builds per frontend, 3),
// STOWAGE_BENCH_RSS (peak RSS builds per frontend, 3), STOWAGE_BENCH_EDITS
// (warm Go builds and native builds, 5), STOWAGE_BENCH_TRANSFER_MB (the size
// of each volume section 5 moves, 1024).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bench is one run: its settings, where it writes, and what it found.
type bench struct {
	root     string // the repository
	res      string // kept: raw numbers, logs, the table
	work     string // removed at the end
	runID    string
	sections map[string]bool

	rounds, rebuilds, pulls, rssRuns, edits, transferMB int
	benchtime                                           string

	env      map[string]string // the stack's (hack/stack env)
	reg      registry
	sfImage  string
	dfImage  string
	sfBin    string
	dfBin    string
	cli      string
	sfLabels string
	dfLabels string

	t        table
	cleanups []func()
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "\033[1;31merror:\033[0m %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	start := time.Now()
	load0 := loadAverage()
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return fmt.Errorf("run from the repository: %w", err)
	}
	b := &bench{
		root:       strings.TrimSpace(string(root)),
		rounds:     envInt("STOWAGE_BENCH_ROUNDS", 5),
		benchtime:  envStr("STOWAGE_BENCH_BENCHTIME", "1s"),
		rebuilds:   envInt("STOWAGE_BENCH_REBUILDS", 10),
		pulls:      envInt("STOWAGE_BENCH_PULLS", 3),
		rssRuns:    envInt("STOWAGE_BENCH_RSS", 3),
		edits:      envInt("STOWAGE_BENCH_EDITS", 5),
		transferMB: envInt("STOWAGE_BENCH_TRANSFER_MB", 1024),
		sections:   map[string]bool{},
	}
	for _, s := range strings.Fields(envStr("STOWAGE_BENCH_SECTIONS", "1 2 3 4 5 6")) {
		b.sections[s] = true
	}
	dir := envStr("STOWAGE_BENCH_DIR", filepath.Join(b.root, ".cache", "bench"))
	b.runID = fmt.Sprintf("%s-%d", time.Now().UTC().Format("20060102T150405Z"), os.Getpid())
	b.res = filepath.Join(dir, b.runID)
	b.work = filepath.Join(b.res, "work")
	if err := os.MkdirAll(b.work, 0o755); err != nil {
		return err
	}
	latest := filepath.Join(dir, "latest")
	os.Remove(latest)
	if err := os.Symlink(b.runID, latest); err != nil {
		return err
	}
	// Every section's cleanup runs at the end, last added first, and on
	// an interrupt.
	defer b.cleanup()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		b.cleanup()
		os.Exit(130)
	}()

	if err := b.setup(); err != nil {
		return err
	}
	for _, s := range []struct {
		n string
		f func() error
	}{
		{"1", b.lowering}, {"2", b.endToEnd}, {"3", b.sizes}, {"4", b.goBuild}, {"5", b.transfer}, {"6", b.contextBytes},
	} {
		if b.sections[s.n] {
			if err := s.f(); err != nil {
				return err
			}
		}
	}

	elapsed := time.Since(start)
	var out bytes.Buffer
	fmt.Fprintf(&out, "%s, %d cores (nproc), %s, %s, BuildKit %s, %s; hack/bench took %dm%02ds; 1-minute load average %s at the start, %s at the end.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), uname(), cpuModel(), b.env["BUILDKIT_VERSION"], runtime.Version(),
		int(elapsed.Minutes()), int(elapsed.Seconds())%60, load0, loadAverage())
	out.WriteString("| measure | Stowage | peer: the Dockerfile frontend, unless named | Stowage ÷ peer | n |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range b.t.rows {
		out.WriteString(r + "\n")
	}
	os.Stdout.Write(out.Bytes())
	if err := os.WriteFile(filepath.Join(b.res, "table.md"), out.Bytes(), 0o644); err != nil {
		return err
	}
	logf("done in %dm%ds; raw numbers and logs in %s", int(elapsed.Minutes()), int(elapsed.Seconds())%60, strings.TrimPrefix(b.res, b.root+"/"))
	return nil
}

func (b *bench) onExit(f func()) { b.cleanups = append(b.cleanups, f) }

func (b *bench) cleanup() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
	os.RemoveAll(b.work)
}

// setup brings the stack up and pushes both frontend images.
func (b *bench) setup() error {
	logf("bringing the stack up (hack/stack up)")
	up := exec.Command(filepath.Join(b.root, "hack", "stack"), "up")
	up.Env = append(os.Environ(), "STOWAGE_SRC_DIR="+b.root, "STOWAGE_FRONTEND_BUILD=host")
	if err := b.runLogged(up, "stack.log"); err != nil {
		return err
	}
	envOut, err := exec.Command(filepath.Join(b.root, "hack", "stack"), "env").Output()
	if err != nil {
		return fmt.Errorf("hack/stack env: %w", err)
	}
	b.env = map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(envOut))
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			// As the shell would read it: PATH=DIR:"$PATH".
			v = os.ExpandEnv(strings.NewReplacer(`"`, "", `'`, "").Replace(v))
			b.env[k] = v
			os.Setenv(k, v)
		}
	}
	for _, k := range []string{"STOWAGE_REGISTRY", "BUILDKIT_HOST", "BUILDCTL", "STOWAGE_BUILDX_BUILDER", "STOWAGE_BUSYBOX_IMAGE", "STOWAGE_GOLANG_IMAGE", "STOWAGE_STACK_DIR"} {
		if b.env[k] == "" {
			return fmt.Errorf("hack/stack env gives no %s", k)
		}
	}
	if b.env["BUILDKIT_VERSION"] == "" {
		b.env["BUILDKIT_VERSION"] = buildkitVersion(b.root)
	}
	b.reg = registry{addr: b.env["STOWAGE_REGISTRY"]}
	b.sfImage = b.reg.addr + "/stowage-bench:stowage"
	b.dfImage = b.reg.addr + "/stowage-bench:dockerfile"

	logf("building the frontend binaries and pushing both images")
	bin := filepath.Join(b.work, "bin")
	// As hack/stack builds the frontend; hack/build-tools builds
	// dockerfile-frontend with the same flags (-trimpath -s -w, no cgo).
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin+"/", "./cmd/stowage-frontend", "./cmd/stowage")
	build.Dir = b.root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if err := b.runLogged(build, "build.log"); err != nil {
		return err
	}
	b.sfBin = filepath.Join(bin, "stowage-frontend")
	b.cli = filepath.Join(bin, "stowage")
	b.dfBin = filepath.Join(bin, "dockerfile-frontend")
	if err := copyFile(filepath.Join(b.root, ".cache", "bin", "dockerfile-frontend"), b.dfBin); err != nil {
		return err
	}
	b.sfLabels = filepath.Join(b.root, "Dockerfile")
	mod := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/moby/buildkit")
	mod.Dir = filepath.Join(b.root, "hack", "tools")
	modDir, err := mod.Output()
	if err != nil {
		return fmt.Errorf("finding BuildKit's module: %w", err)
	}
	b.dfLabels = filepath.Join(strings.TrimSpace(string(modDir)), "frontend", "dockerfile", "cmd", "dockerfile-frontend", "Dockerfile")
	if err := b.reg.pushFrontend(b.sfImage, b.sfBin, b.sfLabels, ""); err != nil {
		return err
	}
	return b.reg.pushFrontend(b.dfImage, b.dfBin, b.dfLabels, "")
}

// runLogged runs cmd with its output in the result file name; a failure
// shows the log's end.
func (b *bench) runLogged(cmd *exec.Cmd, name string) error {
	path := filepath.Join(b.res, name)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if cmd.Dir == "" {
		cmd.Dir = b.root
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w (log: %s)\n%s", strings.Join(cmd.Args, " "), err, path, tail(path, 30))
	}
	return nil
}

// timed runs cmd with its output in the result file name and returns its
// wall time in seconds.
func (b *bench) timed(name string, cmd *exec.Cmd) (float64, error) {
	start := time.Now()
	err := b.runLogged(cmd, name)
	return time.Since(start).Seconds(), err
}

// bx is docker buildx build on the stack's builder, plain progress.
func (b *bench) bx(args ...string) *exec.Cmd {
	return exec.Command("docker", append([]string{"buildx", "build", "--builder", b.env["STOWAGE_BUILDX_BUILDER"], "--progress=plain"}, args...)...)
}

// order is the sides of round i, rotating which goes first.
func order(i int, sides ...string) []string {
	k := i % len(sides)
	return append(append([]string(nil), sides[k:]...), sides[:k]...)
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "\033[1;34m==>\033[0m "+format+"\n", a...)
}

func warnf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "\033[1;33mwarn:\033[0m "+format+"\n", a...)
}

func envStr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

func tail(path string, n int) string {
	dt, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(dt), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func copyFile(src, dst string) error {
	dt, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, dt, 0o755)
}

func loadAverage() string {
	dt, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(dt))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func uname() string {
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		return runtime.GOARCH
	}
	return strings.TrimSpace(string(out))
}

func cpuModel() string {
	dt, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(dt), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// buildkitVersion reads BUILDKIT_VERSION from hack/lib.sh, which pins it.
func buildkitVersion(root string) string {
	dt, _ := os.ReadFile(filepath.Join(root, "hack", "lib.sh"))
	for _, l := range strings.Split(string(dt), "\n") {
		if v, ok := strings.CutPrefix(l, "BUILDKIT_VERSION="); ok {
			return strings.Fields(v)[0]
		}
	}
	return "?"
}
