package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestReadonlyCacheMount: a step that mounts a volume readonly reads what
// another step wrote there and cannot write to it; through buildx, the
// volume's owner and mode were applied when it was created.
func TestReadonlyCacheMount(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `# syntax=[[.Frontend]]
project: readonly-ID
caches:
  c: {key: c, owner: "1000:1000", mode: "0750"}
steps:
  fill:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c}]
    run: echo filled > /c/data
  read:
    from: fill
    mounts: [{cache: c, path: /c, readonly: true}]
    run: >-
      mkdir -p /out && cp /c/data /out/data && stat -c "%u %g %a" /c > /out/stat &&
      if touch /c/new 2>/dev/null; then echo writable; else echo readonly; fi > /out/write
  out:
    from: scratch
    copy: [{from: read, src: /out, dest: /}]
`, nil)
	out := t.TempDir()
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--output", "type=local,dest="+out, ".")
	if got := readFile(t, filepath.Join(out, "data")); got != "filled\n" {
		t.Errorf("the readonly mount shows %q, want what fill wrote", got)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(out, "stat"))); got != "1000 1000 750" {
		t.Errorf("the volume's root: uid gid mode %q, want 1000 1000 750", got)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(out, "write"))); got != "readonly" {
		t.Errorf("writing to the readonly mount: %s", got)
	}
}

// TestSessionScope: a scope: session volume is shared by the steps of one
// build and starts empty in the next (a project volume would hold both
// builds' lines).
func TestSessionScope(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `# syntax=[[.Frontend]]
project: session-ID
args: {RUN: x}
caches:
  s: {key: s, scope: session}
steps:
  write:
    from: [[.Busybox]]
    mounts: [{cache: s, path: /s}]
    run: echo ${RUN} >> /s/log
  read:
    from: write
    mounts: [{cache: s, path: /s}]
    run: mkdir -p /out && cp /s/log /out/log
  out:
    from: scratch
    copy: [{from: read, src: /out, dest: /}]
`, nil)
	for _, run := range []string{"one", "two"} {
		out := t.TempDir()
		s.buildx(t, p.dir, "-f", "stowage.yaml", "--build-arg", "RUN="+run, "--output", "type=local,dest="+out, ".")
		if got := readFile(t, filepath.Join(out, "log")); got != run+"\n" {
			t.Errorf("build %s: the session volume holds %q, want this build's one line", run, got)
		}
	}
}

// TestGenerationMovesToAFreshVolume: bumping generation gives a fresh, empty
// volume (and re-runs the step); going back finds the old one untouched.
func TestGenerationMovesToAFreshVolume(t *testing.T) {
	s := needStack(t)
	const tmpl = `# syntax=[[.Frontend]]
project: generation-ID
args: {RUN: x}
caches:
  c: {key: c GENERATION}
steps:
  work:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c}]
    run: echo ${RUN} >> /c/log && mkdir -p /out && cp /c/log /out/log
  out:
    from: scratch
    copy: [{from: work, src: /out, dest: /}]
`
	id := nonce()
	build := func(generation, run string) string {
		t.Helper()
		p := newProject(t, s, strings.NewReplacer("ID", id, "GENERATION", generation).Replace(tmpl), nil)
		out := t.TempDir()
		s.buildx(t, p.dir, "-f", "stowage.yaml", "--build-arg", "RUN="+run, "--output", "type=local,dest="+out, ".")
		return strings.Join(strings.Fields(readFile(t, filepath.Join(out, "log"))), " ")
	}
	steps := []struct{ generation, run, want string }{
		{"", "a", "a"},
		{"", "b", "a b"},
		{", generation: 2", "b", "b"}, // same RUN: only the new ID re-runs the step
		{", generation: 2", "c", "b c"},
		{"", "d", "a b d"},
	}
	for _, st := range steps {
		if got := build(st.generation, st.run); got != st.want {
			t.Errorf("generation %q, RUN=%s: log %q, want %q", st.generation, st.run, got, st.want)
		}
	}
}
