package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// goBuild is section 4: this repository's Go build with warm volumes,
// copied and bind-mounted source, native, and on fresh builders.
func (b *bench) goBuild() error {
	golang := b.env["STOWAGE_GOLANG_IMAGE"]
	logf("4/6 cache volumes: building this repository's ./cmd/... (HEAD) in %s and on the host", golang)
	src := filepath.Join(b.work, "go", "src")
	native := filepath.Join(b.work, "go", "native")
	for _, d := range []string{src, native} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := exec.Command("sh", "-c", "git -C \"$0\" archive HEAD | tar -x -C \"$1\"", b.root, src).Run(); err != nil {
		return fmt.Errorf("git archive: %w", err)
	}
	volumes := "bench-" + b.runID // fresh, empty volumes for this run
	proxy, _ := exec.Command("go", "env", "GOPROXY").Output()
	spec := fmt.Sprintf(`# syntax=%s
version: 1
project: stowage-bench-go
args:
  VOLUMES: {default: none, description: a new value starts from empty volumes}
caches:
  gomod: {key: [bench-gomod, "${VOLUMES}"]}
  gobuild: {key: [bench-gobuild, "${VOLUMES}"]}
steps:
  build:
    from: %s
    workdir: /src
    env:
      CGO_ENABLED: "0"
      GOFLAGS: -buildvcs=false
      GOPROXY: "%s"
      GOMODCACHE: /go/pkg/mod
      GOCACHE: /root/.cache/go-build
    copy:
      - {src: ., dest: /src}
    mounts:
      - {cache: gomod, path: /go/pkg/mod}
      - {cache: gobuild, path: /root/.cache/go-build}
    run: go build -trimpath -o /out/ ./cmd/...
`, b.sfImage, golang, strings.TrimSpace(string(proxy)))
	// The same build with the source bind-mounted instead of copied: no
	// copy of the tree into a layer, the fastest pattern when the image is
	// not the source tree (README, Building it).
	bound := strings.Replace(strings.Replace(spec, "    copy:\n      - {src: ., dest: /src}\n", "", 1),
		"    mounts:\n", "    mounts:\n      - {type: bind, src: ., path: /src}\n", 1)
	specFile, boundFile := filepath.Join(b.work, "go", "stowage.yaml"), filepath.Join(b.work, "go", "stowage-bind.yaml")
	if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(boundFile, []byte(bound), 0o644); err != nil {
		return err
	}
	// At exit, prune this run's volumes (about 600 MB) and the snapshots
	// the Go builds left (50 MB each), by their IDs and their command.
	b.onExit(func() {
		ids, err := exec.Command(b.cli, "ids", "-f", specFile, "--build-arg", "VOLUMES="+volumes).Output()
		if err != nil {
			warnf("could not list this run's cache volumes: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(ids)), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				if err := exec.Command(b.env["BUILDCTL"], "prune", "--filter", "description~="+f[1]).Run(); err != nil {
					warnf("could not prune cache volume %s", f[1])
				}
			}
		}
		if err := exec.Command(b.env["BUILDCTL"], "prune", "--filter", `description~="^mount / from exec /bin/sh -c go build -trimpath -o /out/ \\./cmd/\\.\\.\\.$"`).Run(); err != nil {
			warnf("could not prune the Go builds' snapshots")
		}
	})
	hostBuild := func() *exec.Cmd {
		c := exec.Command("go", "build", "-trimpath", "-o", native+"/", "./cmd/...")
		c.Dir = src
		c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		return c
	}
	inBuilder := func(file string) *exec.Cmd {
		return b.bx("-f", file, "--build-arg", "VOLUMES="+volumes, "--output", "type=cacheonly", src)
	}
	// edit i: the one-line change, a new one each time so nothing is
	// cached: a string variable at the end of spec/load.go. Its data changes
	// spec's object file: spec and the packages that import it compile
	// again, and both commands link again.
	loadGo := filepath.Join(src, "spec", "load.go")
	orig, err := os.ReadFile(loadGo)
	if err != nil {
		return err
	}
	edit := func(i int) error {
		return os.WriteFile(loadGo, fmt.Appendf(orig, "var benchEdit = \"hack/bench edit %s-%d\"\n", b.runID, i), 0o644)
	}

	if err := b.runLogged(hostBuild(), "go-native-warmup.log"); err != nil {
		return err
	}
	logf("4/6 cache volumes: cold build (empty volumes; modules come from %s)", strings.TrimSpace(string(proxy)))
	cold, err := b.timed("go-cold.log", inBuilder(specFile))
	if err != nil {
		return err
	}
	logf("4/6 cache volumes: %d one-line changes, each built with warm volumes (source copied, source bind-mounted) and on the host", b.edits)
	got := map[string]series{}
	for i := 1; i <= b.edits; i++ {
		if err := edit(i); err != nil {
			return err
		}
		for _, side := range order(i, "stowage", "bind", "native") {
			var cmd *exec.Cmd
			switch side {
			case "stowage":
				cmd = inBuilder(specFile)
			case "bind":
				cmd = inBuilder(boundFile)
			default:
				cmd = hostBuild()
			}
			d, err := b.timed(fmt.Sprintf("go-%s-%d.log", side, i), cmd)
			if err != nil {
				return err
			}
			got[side] = append(got[side], d)
		}
	}
	n := strconv.Itoa(b.edits)
	coldS := series{cold}
	b.t.row("Go build of this repo, warm volumes after a one-line change ÷ cold (empty volumes)", cell(seconds, got["stowage"]),
		"cold: "+cell(seconds, coldS), cell(ratio, got["stowage"].scale(cold)), n+" / 1")
	b.t.row("Go build of this repo, warm volumes ÷ native on the host, warm GOCACHE (the limit)", cell(seconds, got["stowage"]),
		"native: "+cell(seconds, got["native"]), cell(ratio, ratios(got["stowage"], got["native"])), n)
	b.t.row("Go build of this repo, source bind-mounted (not copied), warm volumes ÷ native on the host", cell(seconds, got["bind"]),
		"native: "+cell(seconds, got["native"]), cell(ratio, ratios(got["bind"], got["native"])), n)

	// Fresh builders (their own state, as an ephemeral CI runner has): one
	// builds the next change cold, the other with the volumes brought
	// through the registry. Both pay what any fresh runner pays: pulling
	// the golang image and sending the context.
	logf("4/6 cache volumes: export to the registry; a one-line change on a fresh builder, cold and with cache-import")
	repo := b.reg.addr + "/stowage-bench-cache/go-" + strings.ToLower(b.runID)
	export := exec.Command(b.cli, "cache", "export", "-f", specFile, "--build-arg", "VOLUMES="+volumes, "--addr", b.env["BUILDKIT_HOST"],
		"gomod", "gobuild", "--to", "type=registry,ref="+repo+",registry.insecure=true")
	if err := b.runLogged(export, "go-export.log"); err != nil {
		return err
	}
	// Outside the repository: a builder's state must never sit in a build
	// context.
	builders, err := os.MkdirTemp("", "stowage-bench-builders.")
	if err != nil {
		return err
	}
	b.onExit(func() { os.RemoveAll(builders) })
	edited := b.edits
	fresh := func(name string, opts ...string) (float64, error) {
		dir := filepath.Join(builders, name)
		if err := os.MkdirAll(filepath.Join(dir, "root"), 0o755); err != nil {
			return 0, err
		}
		logFile, err := os.Create(filepath.Join(b.res, name+"-buildkitd.log"))
		if err != nil {
			return 0, err
		}
		defer logFile.Close()
		d := exec.Command(filepath.Join(b.root, ".cache", "bin", "buildkitd"), "--oci-worker=true", "--containerd-worker=false",
			"--root", filepath.Join(dir, "root"), "--addr", "unix://"+dir+"/sock", "--config", filepath.Join(b.env["STOWAGE_STACK_DIR"], "buildkitd.toml"))
		d.Stdout, d.Stderr = logFile, logFile
		if err := d.Start(); err != nil {
			return 0, err
		}
		// Stopped by its own pid, and waited for, before its state goes.
		defer func() { d.Process.Signal(syscall.SIGTERM); d.Wait() }()
		addr := "unix://" + dir + "/sock"
		for range 150 {
			if exec.Command(b.env["BUILDCTL"], "--addr", addr, "debug", "workers").Run() == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		edited++
		if err := edit(edited); err != nil {
			return 0, err
		}
		args := []string{"--addr", addr, "build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + b.sfImage,
			"--local", "context=" + src, "--local", "dockerfile=" + filepath.Dir(specFile), "--opt", "filename=stowage.yaml",
			"--opt", "build-arg:VOLUMES=" + volumes}
		return b.timed("go-"+name+".log", exec.Command(b.env["BUILDCTL"], append(args, opts...)...))
	}
	freshCold, err := fresh("fresh-cold")
	if err != nil {
		return err
	}
	freshWarm, err := fresh("fresh-import", "--opt", "cache-import=type=registry,ref="+repo)
	if err != nil {
		return err
	}
	if !strings.Contains(tail(filepath.Join(b.res, "go-fresh-import.log"), 1000), "starts from its export") {
		return fmt.Errorf("the fresh builder's volumes were not seeded from the export (log: go-fresh-import.log)")
	}
	warm := got["stowage"].median()
	b.t.row("Go build of this repo on a fresh builder after a one-line change: volumes from the registry (cache-import) ÷ cold (empty volumes)",
		human(seconds, freshWarm), "cold: "+human(seconds, freshCold), human(ratio, freshWarm/freshCold), "1 / 1")
	// The share of the first builder's warm speedup the fresh builder keeps.
	b.t.row("the fresh builder's speedup (cold ÷ with cache-import) ÷ the first builder's (cold ÷ warm)",
		human(ratio, freshCold/freshWarm)+"×", human(ratio, cold/warm)+"×", human(ratio, (freshCold/freshWarm)/(cold/warm)), "1")
	return nil
}
