package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// TestCacheModeReadonly: with cache-mode=readonly (an untrusted build) each
// step sees the volumes as trusted builds left them, can write to them (a
// tool that writes its cache keeps working), sees its own earlier
// commands' writes, and nothing it writes reaches the volumes: not for
// shared, locked or private volumes, not a fresh volume's seed or owner,
// not a restore point, and not the next untrusted build either.
func TestCacheModeReadonly(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		p := ownershipProject(t, s, `# syntax=[[.Frontend]]
project: readonly-ID
args: {N: ""}
caches:
  w: {key: w}
  l: {key: l, sharing: locked}
  p: {key: p, sharing: private}
  f: {key: [f, "1"], owner: "1000:1000", restore: [f]}
steps:
  trusted:
    from: [[.Busybox]]
    mounts: [{cache: w, path: /w}, {cache: l, path: /l}, {cache: p, path: /p}]
    run: echo trusted > /w/t && echo trusted > /l/t && echo trusted > /p/t
  pr:
    from: [[.Busybox]]
    mounts:
      - {cache: w, path: /w}
      - {cache: l, path: /l}
      - {cache: p, path: /p}
      - {cache: f, path: /f, source: {context: seed}}
    run:
      - ": ${N}; mkdir -p /out && cat /w/t /l/t /p/t > /out/seen && ls -A /w /f > /out/start && stat -c %u /f > /out/owner"
      - for d in /w /l /p /f; do echo pr > $d/pr; done
      - cat /w/pr /f/pr > /out/second
  check:
    from: [[.Busybox]]
    mounts: [{cache: w, path: /w}, {cache: l, path: /l}, {cache: p, path: /p}, {cache: f, path: /f}]
    run: ": ${N}; mkdir -p /out && ls -A /w /l /p /f > /out/after"
  prout:
    from: scratch
    copy: [{from: pr, src: /out, dest: /}]
  checkout:
    from: scratch
    copy: [{from: check, src: /out, dest: /}]
`, map[string]string{"seed/s": "seeded\n"})
		ctx := context.Background()
		b.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"target": "trusted"}})
		for i, n := range []string{"pr1", "pr2"} {
			res := b.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"target": "prout", "cache-mode": "readonly", "build-arg:N": n}})
			if got := res.file(t, "seen"); got != "trusted\ntrusted\ntrusted\n" {
				t.Errorf("build %d: the untrusted step sees %q, want what the trusted build wrote", i, got)
			}
			if got := res.file(t, "start"); got != "/f:\ns\n\n/w:\nt\n" {
				t.Errorf("build %d: at its start the untrusted step sees %q, want the trusted files and a seeded fresh volume, none of an earlier untrusted build's", i, got)
			}
			if got := res.file(t, "owner"); got != "1000\n" {
				t.Errorf("build %d: the fresh volume's copy is owned by %q, want 1000", i, got)
			}
			if got := res.file(t, "second"); got != "pr\npr\n" {
				t.Errorf("build %d: a later command of the step sees %q, want the earlier command's writes", i, got)
			}
		}
		res := b.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"target": "checkout", "build-arg:N": "check"}})
		if got := res.file(t, "after"); strings.Contains(got, "pr") || !strings.Contains(got, "/w:\nt\n") {
			t.Errorf("after untrusted builds the volumes hold %q, want only what trusted builds wrote", got)
		}
		// Writing a volume is refused, not done.
		if _, err := b.build(ctx, t, p, buildOpts{attrs: map[string]string{"target": "prout", "cache-mode": "readonly", "cache-reset": "w"}}); err == nil || !strings.Contains(err.Error(), "readonly") {
			t.Errorf("cache-reset with cache-mode=readonly: %v, want a refusal", err)
		}
		if _, err := b.build(ctx, t, p, buildOpts{attrs: map[string]string{"target": "prout", "cache-mode": "read-only"}}); err == nil || !strings.Contains(err.Error(), "write readonly") {
			t.Errorf("cache-mode=read-only: %v, want an error that says what to write", err)
		}
	})
}

// TestReadonlyCopyWhileWritten: untrusted builds copy a shared volume
// while a trusted build keeps creating and deleting files in it (a Go cache
// trimming itself); the copies must not fail on files that vanish.
func TestReadonlyCopyWhileWritten(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: rocopy-ID
args: {N: ""}
caches:
  w: {key: w}
steps:
  churn:
    from: [[.Busybox]]
    mounts: [{cache: w, path: /w}]
    run: |
      : ${N}; end=$(( $(date +%s) + 6 ))
      while [ $(date +%s) -lt $end ]; do
        for i in $(seq 200); do echo $i > /w/f$i; done
        for i in $(seq 200); do rm -f /w/f$i; done
      done
      touch /w/kept
  pr:
    from: [[.Busybox]]
    mounts: [{cache: w, path: /w}]
    run: ": ${N}; mkdir -p /out && ls /w | wc -l > /out/n"
  prout:
    from: scratch
    copy: [{from: pr, src: /out, dest: /}]
`, nil)
	ctx := context.Background()
	var eg errgroup.Group
	eg.Go(func() error {
		_, err := s.build(ctx, t, p, buildOpts{attrs: map[string]string{"target": "churn", "build-arg:N": "churn"}})
		return err
	})
	for i := range 6 {
		eg.Go(func() error {
			time.Sleep(time.Duration(500+700*i) * time.Millisecond)
			res, err := s.build(ctx, t, p, buildOpts{attrs: map[string]string{"target": "prout", "cache-mode": "readonly", "build-arg:N": fmt.Sprint(i)}})
			if err != nil {
				return fmt.Errorf("readonly build %d, copying while the volume is written: %w\n%s", i, err, res.logs)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
}
