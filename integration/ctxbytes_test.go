package integration

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	units "github.com/docker/go-units"
)

// transferred sums, per local source ("context", "assets", …), the bytes the
// plain progress log says were sent ("#4 transferring context: 35B done"),
// as BuildKit's testNamedFilteredContext reads the progress stream. A
// source sent twice (several platforms, a hash transfer) counts each time.
func transferred(t *testing.T, log string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, m := range regexp.MustCompile(`(?m)^#\d+ transferring ([^:\s]+): ([0-9.]+[kMGT]?B)(?: [0-9.]+s)? done`).FindAllStringSubmatch(log, -1) {
		n, err := units.FromHumanSize(m[2])
		if err != nil {
			t.Fatalf("%q: %v", m[0], err)
		}
		out[m[1]] += n
	}
	return out
}

const ctxBytesSpec = `# syntax=[[.Frontend]]
project: ctxbytes-ID
default: out
caches:
  c: {key: c}
steps:
  s:
    from: [[.Busybox]]
    copy:
      - {src: small.txt, dest: /out/small.txt}
      - {from: context:assets, src: a.txt, dest: /out/a.txt}
    mounts:
      - {type: bind, src: bind.txt, path: /b}
      - {cache: c, path: /c, source: {context: seed}}
    run: cat /b > /out/bind && ls /c > /out/seeded && cat /proc/sys/kernel/random/uuid > /out/stamp
  out:
    from: scratch
    copy: [{from: s, src: /out, dest: /}]
  unbuilt:
    from: [[.Busybox]]
    copy: [{src: big.bin, dest: /big}]
`

// TestContextSendsWhatStepsRead: the main and a named context each send
// the files the target's steps read (copy sources, a bind mount's, a
// seed's), not the 4 MiB files next to them, nor what an unbuilt step
// copies; through buildx, buildctl and stowage build. An edit to the big
// file then re-runs nothing and sends almost nothing.
func TestContextSendsWhatStepsRead(t *testing.T) {
	s := needStack(t)
	big := make([]byte, 4<<20)
	rand.Read(big)
	// A project of its own for each client: BuildKit keeps what a local
	// source sent, by directory, and sends only what changed since, so a
	// second client on the same directory would send nothing either way.
	fresh := func() *project {
		return ownershipProject(t, s, ctxBytesSpec, map[string]string{
			"small.txt": "small\n", "bind.txt": "bind\n", "seed/s": "s\n", "big.bin": string(big),
			"assets/a.txt": "a\n", "assets/big.bin": string(big),
		})
	}
	const bound = 64 << 10
	clients := map[string]func(p *project, out string) (string, error){
		"buildx": func(p *project, out string) (string, error) {
			return run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=plain", "-f", "stowage.yaml",
				"--build-context", "assets="+filepath.Join(p.dir, "assets"), "--output", "type=local,dest="+out, ".")
		},
		"buildctl": func(p *project, out string) (string, error) {
			return run(t, p.dir, s.buildctl, "--addr", s.addr, "build", "--progress=plain", "--frontend", "gateway.v0",
				"--opt", "source="+s.frontend, "--local", "context=.", "--local", "dockerfile=.",
				"--local", "assets="+filepath.Join(p.dir, "assets"), "--opt", "context:assets=local:assets", "--output", "type=local,dest="+out)
		},
		"stowage build": func(p *project, out string) (string, error) {
			return run(t, p.dir, needCLI(t), "build", "--addr", s.addr, "--progress", "plain",
				"--build-context", "assets="+filepath.Join(p.dir, "assets"), "-o", "type=local,dest="+out, ".")
		},
	}
	for _, name := range []string{"buildx", "buildctl", "stowage build"} {
		t.Run(strings.ReplaceAll(name, " ", "-"), func(t *testing.T) {
			out := t.TempDir()
			log, err := clients[name](fresh(), out)
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, log)
			}
			assertFile(t, filepath.Join(out, "a.txt"), "a\n", log)
			assertFile(t, filepath.Join(out, "bind"), "bind\n", log)
			assertFile(t, filepath.Join(out, "seeded"), "s\n", log)
			sent := transferred(t, log)
			for _, ctx := range []string{"context", "assets"} {
				if n, ok := sent[ctx]; !ok || n > bound {
					t.Errorf("%s sent %d bytes of %s (seen: %v), want at most %d: only the files the steps read\n%s", name, n, ctx, ok, bound, log)
				}
			}
		})
	}

	// An unrelated edit: nothing runs again, almost nothing is sent.
	p := fresh()
	first := t.TempDir()
	if log, err := clients["buildx"](p, first); err != nil {
		t.Fatalf("buildx: %v\n%s", err, log)
	}
	big[0] ^= 0xff
	if err := os.WriteFile(filepath.Join(p.dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	again := t.TempDir()
	log, err := clients["buildx"](p, again)
	if err != nil {
		t.Fatalf("buildx after the edit: %v\n%s", err, log)
	}
	if a, b := readFile(t, filepath.Join(first, "stamp")), readFile(t, filepath.Join(again, "stamp")); a != b {
		t.Errorf("an edit to a file no step reads ran the step again\n%s", log)
	}
	if n := transferred(t, log)["context"]; n > bound {
		t.Errorf("after an edit to a file no step reads, the build sent %d bytes of the context, want at most %d\n%s", n, bound, log)
	}
}
