package integration

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"
)

// restoreSpec keeps a history in two volumes keyed by the hash of a lock
// file: npm falls back to the volume set up last under [npm] when its key
// is new, plain does not.
const restoreSpec = `# syntax=[[.Frontend]]
project: restore-ID
args: {N: ""}
caches:
  npm: {key: [npm, {hash: [lock]}], restore: [npm]}
  plain: {key: [plain, {hash: [lock]}]}
steps:
  s:
    from: [[.Busybox]]
    copy: [{src: lock, dest: /lock}]
    mounts: [{cache: npm, path: /npm}, {cache: plain, path: /plain}]
    run: |
      : ${N}; cat /lock >> /npm/history && cat /lock >> /plain/history
      mkdir -p /out && cp /npm/history /out/npm && cp /plain/history /out/plain
  out:
    from: scratch
    copy: [{from: s, src: /out, dest: /}]
`

// TestRestoreKeys: a volume whose key is new starts from the volume set up
// last under its restore key on the same builder, the nearest one each
// time (v1, then v2 from v1, then v3 from v2), and says so in the log; a
// volume without restore: starts empty; the old key's volume is left as
// it was.
func TestRestoreKeys(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		p := ownershipProject(t, s, restoreSpec, map[string]string{"lock": "v1\n"})
		ctx := context.Background()
		want := "v1\n"
		for i, lock := range []string{"v1", "v2", "v3"} {
			writeFiles(t, p.dir, map[string]string{"lock": lock + "\n"})
			res := b.mustBuild(ctx, t, p, buildOpts{})
			if i > 0 {
				want += lock + "\n"
			}
			if got := res.file(t, "npm"); got != want {
				t.Errorf("lock %s: npm's history is %q, want %q (restored from the previous key)\n%s", lock, got, want, res.logs)
			}
			if got := res.file(t, "plain"); got != lock+"\n" {
				t.Errorf("lock %s: plain's history is %q, want a fresh volume", lock, got)
			}
			if i > 0 && !strings.Contains(res.logs, "cache volume npm starts from volume stowage-") {
				t.Errorf("lock %s: the log does not say where npm started from\n%s", lock, res.logs)
			}
		}
		// Back to v1 (the step run again, not answered from cache): its
		// own volume, untouched by the later keys.
		writeFiles(t, p.dir, map[string]string{"lock": "v1\n"})
		if got := b.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:N": "again"}}).file(t, "npm"); got != "v1\nv1\n" {
			t.Errorf("back on v1, npm's history is %q, want v1's own volume with one more line", got)
		}
	})
}

// TestRestoreKeysThroughCacheImport: on a fresh builder, a volume whose key
// has no export starts from the latest export under its restore key,
// which `stowage cache export --to type=registry` pushed with it.
func TestRestoreKeysThroughCacheImport(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, restoreSpec, map[string]string{"lock": "v1\n"})
	ctx := context.Background()
	repo, out := exportFromFreshBuilder(t, s, p, buildOpts{}, "npm")
	if !strings.Contains(out, ".restore") {
		t.Fatalf("export --to registry pushed no restore tag:\n%s", out)
	}

	// The stack's builder has never had this project's volumes.
	writeFiles(t, p.dir, map[string]string{"lock": "v2\n"})
	res := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"cache-import": "type=registry,ref=" + repo}})
	if got := res.file(t, "npm"); got != "v1\nv2\n" {
		t.Errorf("npm's history is %q, want v1's export and v2\n%s", got, res.logs)
	}
	if got := res.file(t, "plain"); got != "v2\n" {
		t.Errorf("plain's history is %q, want a fresh volume", got)
	}

	// stowage cache import falls back the same way.
	d2 := startDaemon(t, s, faultRoot(t))
	third := *s
	third.addr = d2.addr
	writeFiles(t, p.dir, map[string]string{"lock": "v3\n"})
	if out, err := cacheCLI(t, &third, p.dir, "import", "npm", "--from", "type=registry,ref="+repo); err != nil || !strings.Contains(out, "restore keys") {
		t.Fatalf("import --from registry of a new key: %v (want the restore export, said so)\n%s", err, out)
	}
	if got := third.mustBuild(ctx, t, p, buildOpts{}).file(t, "npm"); got != "v1\nv3\n" {
		t.Errorf("after import, npm's history is %q, want v1's export and v3", got)
	}
}

var restoreRaceRounds = flag.Int("restorerace.rounds", 2, "rounds of TestConcurrentRestore")

// TestConcurrentRestore: builds that first mount a new key at the same time
// each start from the earlier volume, whole (its 500 files), never from a
// half-made copy and never empty; every round moves to a new key, restored
// from the round before's.
func TestConcurrentRestore(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: restorerace-ID
args: {ROUND: "0", N: ""}
caches:
  c: {key: [c, "${ROUND}"], restore: [c]}
steps:
  use:
    from: [[.Busybox]]
    env: {N: "${N}"}
    mounts: [{cache: c, path: /c}]
    run: >-
      mkdir -p /out /c/d && ls /c/d | wc -l > /out/count &&
      if [ ! -e /c/d/f500 ]; then for i in $(seq 500); do echo $i > /c/d/f$i; done; fi
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`, nil)
	ctx := context.Background()
	// Round 0 fills the first key.
	if got := strings.TrimSpace(s.mustBuild(ctx, t, p, buildOpts{}).file(t, "count")); got != "0" {
		t.Fatalf("the first key's volume held %s files, want a fresh one", got)
	}
	for round := 1; round <= *restoreRaceRounds; round++ {
		var eg errgroup.Group
		for n := range 3 {
			eg.Go(func() error {
				res, err := s.build(ctx, t, p, buildOpts{attrs: map[string]string{
					"build-arg:ROUND": fmt.Sprint(round), "build-arg:N": fmt.Sprint(n)}})
				if err != nil {
					return fmt.Errorf("round %d, build %d: %w\n%s", round, n, err, res.logs)
				}
				if got := strings.TrimSpace(res.file(t, "count")); got != "500" {
					return fmt.Errorf("round %d, build %d started from a volume of %s files, want the earlier key's 500\n%s", round, n, got, res.logs)
				}
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRestoreFromAnotherVolumesExport: two volumes share a restore key; on
// a fresh builder the one never exported starts from the other's export
// under that key, whatever that volume was called.
func TestRestoreFromAnotherVolumesExport(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: restoreshare-ID
caches:
  a: {key: [a, {hash: [lock]}], restore: [deps]}
  b: {key: [b, {hash: [lock]}], restore: [deps]}
steps:
  s:
    from: [[.Busybox]]
    copy: [{src: lock, dest: /lock}]
    mounts: [{cache: a, path: /a}, {cache: b, path: /b}]
    run: |
      echo "a $(cat /lock)" >> /a/history
      mkdir -p /out && cat /b/history > /out/b 2>/dev/null || : > /out/b
  out:
    from: scratch
    copy: [{from: s, src: /out, dest: /}]
`, map[string]string{"lock": "v1\n"})
	ctx := context.Background()
	repo, _ := exportFromFreshBuilder(t, s, p, buildOpts{}, "a")
	writeFiles(t, p.dir, map[string]string{"lock": "v2\n"})
	res := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"cache-import": "type=registry,ref=" + repo}})
	if got := res.file(t, "b"); got != "a v1\n" {
		t.Errorf("b holds %q, want a's exported history (the latest export under restore key deps)\n%s", got, res.logs)
	}
}

// TestCacheResetWithRestoreKeys: a reset volume is refilled by the steps
// that mount it even when a later step's volume has restore: keys, whose
// probe must not build those steps ahead of the reset.
func TestCacheResetWithRestoreKeys(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: resetrestore-ID
caches:
  a: {key: a}
  b: {key: [b, "1"], restore: [b]}
steps:
  s1:
    from: [[.Busybox]]
    mounts: [{cache: a, path: /a}]
    run: echo fill >> /a/history
  s2:
    from: s1
    mounts: [{cache: b, path: /b}]
    run: "true"
  s3:
    from: s2
    mounts: [{cache: a, path: /a}]
    run: mkdir -p /out && cat /a/history > /out/a
  out:
    from: scratch
    copy: [{from: s3, src: /out, dest: /}]
`, nil)
	ctx := context.Background()
	if got := s.mustBuild(ctx, t, p, buildOpts{}).file(t, "a"); got != "fill\n" {
		t.Fatalf("first build: a holds %q", got)
	}
	res := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"cache-reset": "a"}})
	if got := res.file(t, "a"); got != "fill\n" {
		t.Errorf("after cache-reset=a the volume holds %q, want it emptied and refilled once by s1\n%s", got, res.logs)
	}
}

// TestPruneAllOfSpecTakesRestorePoints: cache ls --all shows a volume's
// restore point, and prune --all-of-spec removes it with the volumes.
func TestPruneAllOfSpecTakesRestorePoints(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: prunerestore-ID
caches:
  c: {key: [c, "1"], restore: [c]}
steps:
  s:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c}]
    run: echo x > /c/f
`, nil)
	s.mustBuild(context.Background(), t, p, buildOpts{})
	idsOut, err := run(t, p.dir, needCLI(t), "ids", "--json")
	if err != nil {
		t.Fatalf("stowage ids --json: %v\n%s", err, idsOut)
	}
	var vols []struct{ Restore []string }
	mustJSON(t, []byte(idsOut), &vols)
	if len(vols) != 1 || len(vols[0].Restore) != 1 {
		t.Fatalf("stowage ids --json: %s", idsOut)
	}
	point := vols[0].Restore[0] + ".restore"
	if e, ok := cacheLs(t, s, p.dir, "--all")[point]; !ok || e.Kind != "restore-point" || len(e.Records) == 0 {
		t.Fatalf("cache ls --all does not list the restore point %s after a build of a volume with restore: (%+v)", point, e)
	}
	out, err := cacheCLI(t, s, p.dir, "prune", "--all-of-spec")
	if err != nil {
		t.Fatalf("prune --all-of-spec: %v\n%s", err, out)
	}
	if e, ok := cacheLs(t, s, p.dir, "--all")[point]; ok && len(e.Records) > 0 {
		t.Errorf("after prune --all-of-spec the restore point %s still has %d records\n%s", point, len(e.Records), out)
	}
}
