package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The test binary doubles as the CLI: with this variable set, TestMain runs
// main instead of the tests, so a test can run `stowage` as separate
// processes.
const asCLIEnv = "STOWAGE_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// determinismSpec has what makes a definition big: several steps and
// platforms' worth of ops, each op with metadata whose capability maps are
// what a non-deterministic marshal would reorder.
const determinismSpec = `project: det
args: {GO_VERSION: "1.26"}
caches:
  gobuild: {key: [go-build, "${GO_VERSION}", "${TARGETARCH}"], owner: "1000:1000", mode: "0750"}
  gomod: {key: go-mod, scope: global, sharing: locked}
steps:
  base:
    from: busybox
    run: mkdir -p /seed && echo hi > /seed/f
  build:
    from: base
    workdir: /src
    env: {A: "1", B: "2", C: "3"}
    copy:
      - {src: ., dest: /src}
      - {content: "hello", dest: /etc/motd}
    mounts:
      - {cache: gobuild, path: /a, source: {step: base, path: /seed}}
      - {cache: gomod, path: /m}
      - {type: tmpfs, path: /t}
      - {type: secret, id: tok, path: /run/secrets/tok}
    run:
      - ls /a /m
      - echo done
  image:
    from: scratch
    copy: [{from: build, src: /src, dest: /app}]
    entrypoint: [/app]
`

// TestLLBBytesAreStableAcrossProcesses: `stowage llb` on one spec writes the
// same bytes from one process to the next, whatever the working directory
// and GOMAXPROCS, so users can diff LLB in CI.
func TestLLBBytesAreStableAcrossProcesses(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "stowage.yaml")
	if err := os.WriteFile(file, []byte(determinismSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	runs := []struct {
		cwd, file, procs string
	}{
		{dir, "stowage.yaml", "1"},
		{dir, "stowage.yaml", "2"},
		{other, file, "1"},
		{other, file, "8"},
		{"/", file, "4"},
	}
	var first []byte
	for round := range 3 {
		for _, r := range runs {
			cmd := exec.Command(exe, "llb", "-f", r.file, "--platform", "linux/arm64")
			cmd.Dir = r.cwd
			cmd.Env = append(os.Environ(), asCLIEnv+"=1", "GOMAXPROCS="+r.procs)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("stowage llb (cwd %s, GOMAXPROCS=%s): %v\n%s", r.cwd, r.procs, err, stderr.String())
			}
			if first == nil {
				first = out
				continue
			}
			if !bytes.Equal(out, first) {
				t.Fatalf("round %d, cwd %s, GOMAXPROCS=%s: %d bytes that differ from the first run's %d", round, r.cwd, r.procs, len(out), len(first))
			}
		}
	}
}
