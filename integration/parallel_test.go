package integration

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/sync/errgroup"
)

// TestNestedCacheMountsInParallel ports BuildKit's nested cache mount test:
// 20 builds at once, each of two steps mounting volumes at /foo/bar and
// /foo/bar/baz, must all succeed and see both mounts.
func TestNestedCacheMountsInParallel(t *testing.T) {
	s := needStack(t)
	ctx := context.Background()
	id := nonce()
	p := newProject(t, s, `project: nested-`+id+`
args: {RUN: ""}
caches:
  outer: {key: outer}
  inner: {key: inner}
steps:
  one:
    from: [[.Busybox]]
    mounts:
      - {cache: outer, path: /foo/bar}
      - {cache: inner, path: /foo/bar/baz}
    run: echo "one ${RUN}" >> /foo/bar/log && echo "one ${RUN}" >> /foo/bar/baz/log && mkdir -p /out && echo ok > /out/one
  two:
    from: [[.Busybox]]
    mounts:
      - {cache: inner, path: /foo/bar/baz}
      - {cache: outer, path: /foo/bar}
    run: echo "two ${RUN}" >> /foo/bar/log && echo "two ${RUN}" >> /foo/bar/baz/log && mkdir -p /out && echo ok > /out/two
  both:
    from: scratch
    copy:
      - {from: one, src: /out/one, dest: /one}
      - {from: two, src: /out/two, dest: /two}
`, nil)
	var eg errgroup.Group
	for i := range 20 {
		eg.Go(func() error {
			res, err := s.build(ctx, t, p, runArg(fmt.Sprintf("%s-%d", id, i)))
			if err != nil {
				return fmt.Errorf("build %d: %w\n%s", i, err, res.logs)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	// Every run wrote one line per step into each volume: 40 each.
	check := newProject(t, s, `project: nested-`+id+`
caches:
  outer: {key: outer}
  inner: {key: inner}
steps:
  count:
    from: [[.Busybox]]
    mounts:
      - {cache: outer, path: /o}
      - {cache: inner, path: /i}
    run: mkdir -p /out && wc -l < /o/log > /out/outer && wc -l < /i/log > /out/inner
  out:
    from: scratch
    copy: [{from: count, src: /out, dest: /}]
`, nil)
	res := s.mustBuild(ctx, t, check, buildOpts{})
	for _, f := range []string{"outer", "inner"} {
		if got := res.file(t, f); got != "40\n" {
			t.Errorf("volume %s has %q lines, want 40", f, got)
		}
	}
}

// TestCacheNamespaceSharesAcrossProjects: two projects given the same
// cache-namespace option share their project-scoped volumes (team caches).
func TestCacheNamespaceSharesAcrossProjects(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		id := nonce()
		team := "team-" + id
		// One through --opt, one through the build arg buildx users have.
		alpha := buildOpts{attrs: map[string]string{"build-arg:RUN": "alpha", "cache-namespace": team}}
		beta := buildOpts{attrs: map[string]string{"build-arg:RUN": "beta", "build-arg:STOWAGE_CACHE_NAMESPACE": team}}
		b.mustBuild(ctx, t, appendProject(t, s, "alpha-"+id, "team-key", ""), alpha)
		got := b.mustBuild(ctx, t, appendProject(t, s, "beta-"+id, "team-key", ""), beta).file(t, "log")
		if got != "alpha\nbeta\n" {
			t.Fatalf("beta in the same cache-namespace sees %q, want alpha's and beta's lines", got)
		}
	})
}
