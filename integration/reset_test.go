package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const resetSpec = `# syntax=[[.Frontend]]
project: reset-ID
args: {RUN: x}
caches:
  deps: {key: deps, sharing: locked}
  keep: {key: keep}
  seeded: {key: seeded}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /s && echo seed > /s/seed.txt
  work:
    from: [[.Busybox]]
    mounts:
      - {cache: deps, path: /deps}
      - {cache: keep, path: /keep}
      - {cache: seeded, path: /seeded, source: {step: seed, path: /s}}
    run: >-
      for v in deps keep seeded; do echo ${RUN} >> /$v/log; done &&
      mkdir -p /out && for v in deps keep seeded; do cp /$v/log /out/$v; done &&
      ls /seeded > /out/seeded-ls
  out:
    from: scratch
    copy: [{from: work, src: /out, dest: /}]
`

// TestCacheResetThroughBuildx: the STOWAGE_CACHE_RESET build arg (how a
// buildx user passes cache-reset) empties just the volumes it names, re-runs
// the steps that mount them even though nothing else changed, and sets a
// seeded volume up again; the next build keeps what the reset build wrote.
func TestCacheResetThroughBuildx(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, resetSpec, nil)
	build := func(args ...string) map[string]string {
		t.Helper()
		out := t.TempDir()
		s.buildx(t, p.dir, append(append([]string{"-f", "stowage.yaml", "--output", "type=local,dest=" + out}, args...), ".")...)
		files := map[string]string{}
		for _, f := range []string{"deps", "keep", "seeded", "seeded-ls"} {
			files[f] = strings.Join(strings.Fields(readFile(t, filepath.Join(out, f))), " ")
		}
		return files
	}
	want := func(step string, got map[string]string, deps, keep, seeded, ls string) {
		t.Helper()
		for f, w := range map[string]string{"deps": deps, "keep": keep, "seeded": seeded, "seeded-ls": ls} {
			if got[f] != w {
				t.Errorf("%s: %s = %q, want %q", step, f, got[f], w)
			}
		}
	}
	want("first build", build("--build-arg", "RUN=a"), "a", "a", "a", "log seed.txt")
	want("reset deps and seeded", build("--build-arg", "RUN=a", "--build-arg", "STOWAGE_CACHE_RESET=deps, seeded"), "a", "a a", "a", "log seed.txt")
	want("after the reset", build("--build-arg", "RUN=b"), "a b", "a a b", "a b", "log seed.txt")
}

// TestCacheResetOption: --opt cache-reset=NAME (buildctl's way) empties the
// volume; a name that is no volume, or one the target never mounts, fails
// the build rather than silently keeping everything.
func TestCacheResetOption(t *testing.T) {
	s := needStack(t)
	ctx := context.Background()
	p := ownershipProject(t, s, resetSpec, nil)
	opts := func(run, reset string) buildOpts {
		a := map[string]string{"build-arg:RUN": run}
		if reset != "" {
			a["cache-reset"] = reset
		}
		return buildOpts{attrs: a}
	}
	s.mustBuild(ctx, t, p, opts("a", ""))
	res := s.mustBuild(ctx, t, p, opts("a", "keep"))
	if got := res.file(t, "keep"); got != "a\n" {
		t.Errorf("keep after cache-reset=keep: %q, want a", got)
	}
	if got := res.file(t, "deps"); got != "a\na\n" {
		t.Errorf("deps, not reset: %q, want a, a", got)
	}
	for reset, want := range map[string]string{
		"nope": `cache-reset "nope": stowage.yaml has no cache volume of that name; its volumes are deps, keep, seeded`,
		"deps": `cache-reset "deps": no step that target "seed" builds mounts this volume`,
	} {
		o := opts("a", reset)
		o.attrs["target"] = "seed"
		_, err := s.build(ctx, t, p, o)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("cache-reset=%s: %v, want an error saying %s", reset, err, want)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}
