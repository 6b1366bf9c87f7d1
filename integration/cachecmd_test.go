package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cacheCLI runs `stowage cache ARGS…` in dir against the stack's buildkitd.
func cacheCLI(t *testing.T, s *stack, dir string, args ...string) (string, error) {
	t.Helper()
	out, err := cacheCmd(t, s, dir, args...).CombinedOutput()
	return string(out), err
}

func cacheCmd(t *testing.T, s *stack, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(needCLI(t), append([]string{"cache"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+s.addr)
	return cmd
}

type cacheEntry struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Size    int64  `json:"size"`
	Records []struct {
		ID string `json:"id"`
	} `json:"records"`
}

func cacheLs(t *testing.T, s *stack, dir string, args ...string) map[string]cacheEntry {
	t.Helper()
	// JSON on stdout; warnings go to stderr.
	out, err := cacheCmd(t, s, dir, append([]string{"ls", "--format", "json"}, args...)...).Output()
	if err != nil {
		t.Fatalf("stowage cache ls: %v\n%s", err, out)
	}
	var list []cacheEntry
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("stowage cache ls --format json: %v\n%s", err, out)
	}
	m := map[string]cacheEntry{}
	for _, e := range list {
		key := e.Name
		if key == "" {
			key = e.ID
		}
		m[key] = e
	}
	return m
}

// TestCacheLsAndPrune: stowage cache ls lists a spec's volumes on the
// builder by name with their IDs (as stowage ids gives them) and sizes;
// prune NAME removes exactly that volume's records (its setup lock
// included), refuses a name the spec does not declare, and leaves the
// other volumes alone, so the next build finds one empty and one full.
func TestCacheLsAndPrune(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: cachecmd-ID
args: {RUN: ""}
caches:
  big: {key: big}
  keep: {key: keep}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /s && echo seeded > /s/f
  w:
    from: [[.Busybox]]
    mounts:
      - {cache: big, path: /big, source: {step: seed, path: /s}}
      - {cache: keep, path: /keep}
    run: >-
      head -c 1048576 /dev/zero > /big/blob && echo ${RUN} >> /big/log && echo ${RUN} >> /keep/log &&
      mkdir -p /out && cp /big/log /out/big && cp /keep/log /out/keep
  out:
    from: scratch
    copy: [{from: w, src: /out, dest: /}]
`, nil)
	ctx := context.Background()
	s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "one"}})

	idsOut, err := run(t, p.dir, needCLI(t), "ids")
	if err != nil {
		t.Fatalf("stowage ids: %v\n%s", err, idsOut)
	}
	ls := cacheLs(t, s, p.dir)
	for _, line := range strings.Split(strings.TrimSpace(idsOut), "\n") {
		name, id, _ := strings.Cut(line, "\t")
		if ls[name].ID != id || len(ls[name].Records) == 0 {
			t.Errorf("cache ls has %s as %+v, want ID %s with a record", name, ls[name], id)
		}
	}
	if ls["big"].Size < 1<<20 {
		t.Errorf("cache ls says volume big takes %d bytes, want at least the 1 MiB written", ls["big"].Size)
	}
	all := cacheLs(t, s, p.dir, "--all")
	if lock, ok := all[ls["big"].ID+".setup-lock"]; !ok || lock.Kind != "setup-lock" {
		t.Errorf("cache ls --all lacks big's setup lock: %+v", lock)
	}
	if len(all) <= len(ls)+1 {
		t.Errorf("cache ls --all lists %d entries, no more than the spec's own", len(all))
	}

	if out, err := cacheCLI(t, s, p.dir, "prune", "bgi"); err == nil || !strings.Contains(out, `no cache volume "bgi" (did you mean "big"?)`) {
		t.Errorf("prune of an undeclared name: %v\n%s", err, out)
	}
	out, err := cacheCLI(t, s, p.dir, "prune", "big")
	if err != nil {
		t.Fatalf("stowage cache prune big: %v\n%s", err, out)
	}
	if !strings.Contains(out, "freed 1.") {
		t.Errorf("prune does not report the MiB it freed:\n%s", out)
	}
	after := cacheLs(t, s, p.dir, "--all")
	if n := len(after["big"].Records); n != 0 {
		t.Errorf("after prune big, cache ls still lists %d records of big", n)
	}
	if _, ok := after[ls["big"].ID+".setup-lock"]; ok {
		t.Error("after prune big, its setup lock is still there")
	}
	if len(after["keep"].Records) == 0 {
		t.Error("prune big removed keep")
	}
	for id, e := range all {
		if _, ok := after[id]; !ok && e.Name != "big" && id != ls["big"].ID+".setup-lock" {
			t.Errorf("prune big removed %s (%s), which is not big's", id, e.Kind)
		}
	}

	res := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:RUN": "two"}})
	if got := res.file(t, "big") + res.file(t, "keep"); got != "two\none\ntwo\n" {
		t.Errorf("after prune big the next build saw big and keep as %q, want big fresh and keep kept", got)
	}
}

// volumeListing is what a step prints of volume v's tree: every path with
// its owner, mode, link count and type.
const volumeListing = `cd /v && find . | sort | while read -r f; do stat -c '%n %u:%g %a %h %F' "$f"; done > /out/listing; if [ -L d/link ]; then readlink d/link >> /out/listing; fi`

// TestCacheExportImportAcrossBuilders: a volume exported from one builder
// and imported into another (a fresh buildkitd of the test's own) arrives
// with its owners, modes, symlinks, hard links and empty directories
// (type=tar and type=registry), or all but the owners (type=local, as BuildKit's local
// transfers own files by the client); an import leaves a volume that holds
// data alone unless --force.
func TestCacheExportImportAcrossBuilders(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: transfer-ID
args: {MARK: "", N: ""}
caches:
  v: {key: v}
steps:
  w:
    from: [[.Busybox]]
    mounts: [{cache: v, path: /v}]
    run: >-
      if [ -n "${MARK}" ]; then echo "${MARK}" > /v/mark; else
      mkdir -p /v/d/empty /v/d/sub && echo hi > /v/d/f && chown 1234:5678 /v/d/f && chmod 640 /v/d/f &&
      ln -s f /v/d/link && ln /v/d/f /v/d/hard && echo x > /v/d/sub/x && chown -h 42:43 /v/d/link && chmod 1777 /v/d/sub; fi
  list:
    from: [[.Busybox]]
    mounts: [{cache: v, path: /v}]
    run: |
      : ${N}; mkdir -p /out && `+volumeListing+`
  out:
    from: scratch
    copy: [{from: list, src: /out, dest: /}]
`, nil)
	ctx := context.Background()
	s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"target": "w"}})
	n := 0
	listing := func(st *stack) string {
		n++ // a new N each time: the listing step must not come from cache
		return st.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"build-arg:N": fmt.Sprint(n)}}).file(t, "listing")
	}
	want := listing(s)
	if !strings.Contains(want, "./d/f 1234:5678 640 2") || !strings.Contains(want, "./d/link 42:43") {
		t.Fatalf("the source volume is not what the test wrote:\n%s", want)
	}

	dir := t.TempDir()
	tarFile := dir + "/v.tar"
	if out, err := cacheCLI(t, s, p.dir, "export", "v", "--to", "type=tar,dest="+tarFile); err != nil {
		t.Fatalf("export --to tar: %v\n%s", err, out)
	}
	if out, err := cacheCLI(t, s, p.dir, "export", "v", "--to", "type=local,dest="+dir+"/tree"); err != nil {
		t.Fatalf("export --to local: %v\n%s", err, out)
	}
	repo := os.Getenv("STOWAGE_REGISTRY") + "/stowage-cache/transfer-" + nonce()
	if out, err := cacheCLI(t, s, p.dir, "export", "v", "--to", "type=registry,ref="+repo+",registry.insecure=true"); err != nil {
		t.Fatalf("export --to registry: %v\n%s", err, out)
	}

	// Through the registry, into a builder that has never seen the volume.
	viaRegistry := startDaemon(t, s, faultRoot(t))
	third := *s
	third.addr = viaRegistry.addr
	if out, err := cacheCLI(t, &third, p.dir, "import", "v", "--from", "type=registry,ref="+repo); err != nil {
		t.Fatalf("import --from registry: %v\n%s", err, out)
	}
	if got := listing(&third); got != want {
		t.Errorf("after export and import through the registry the volume is\n%s\nwant\n%s", got, want)
	}
	viaRegistry.stop(syscall.SIGTERM)

	d := startDaemon(t, s, faultRoot(t))
	other := *s
	other.addr = d.addr
	if out, err := cacheCLI(t, &other, p.dir, "import", "v", "--from", "type=tar,src="+tarFile); err != nil {
		t.Fatalf("import --from tar: %v\n%s", err, out)
	}
	if got := listing(&other); got != want {
		t.Errorf("after export and import through tar the volume is\n%s\nwant\n%s", got, want)
	}

	// Holding data now, the volume is left alone; --force replaces it.
	other.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"target": "w", "build-arg:MARK": "local-change"}})
	out, err := cacheCLI(t, &other, p.dir, "import", "v", "--from", "type=tar,src="+tarFile)
	if err != nil || !strings.Contains(out, "already holds data: left as it is") {
		t.Errorf("import onto a volume with data: %v\n%s", err, out)
	}
	if got := listing(&other); !strings.Contains(got, "./mark") {
		t.Errorf("import without --force replaced the volume:\n%s", got)
	}
	if out, err := cacheCLI(t, &other, p.dir, "import", "v", "--force", "--from", "type=local,src="+dir+"/tree"); err != nil {
		t.Fatalf("import --force --from local: %v\n%s", err, out)
	}
	got := listing(&other)
	// Through a directory: the same tree, modes and links, owned by root.
	owners := regexp.MustCompile(` [0-9]+:[0-9]+ `)
	if owners.ReplaceAllString(got, " 0:0 ") != owners.ReplaceAllString(want, " 0:0 ") {
		t.Errorf("after export and import --force through a directory the volume is\n%s\nwant, owners aside,\n%s", got, want)
	}
}

// TestCacheImportOption: --opt cache-import=type=registry,ref=REPO (or the
// STOWAGE_CACHE_IMPORT build arg through buildx) seeds a build's fresh
// volumes from what `stowage cache export --to type=registry` pushed, on a
// builder that never had them; a volume never exported starts empty and
// the build does not fail.
func TestCacheImportOption(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `# syntax=[[.Frontend]]
project: cacheimport-ID
args: {N: ""}
caches:
  a: {key: a}
  b: {key: b}
  never: {key: never}
steps:
  w:
    from: [[.Busybox]]
    mounts: [{cache: a, path: /a}, {cache: b, path: /b}]
    run: echo from-a > /a/f && echo from-b > /b/f
  r:
    from: [[.Busybox]]
    mounts: [{cache: a, path: /a}, {cache: b, path: /b}, {cache: never, path: /n}]
    run: |
      : ${N}; mkdir -p /out && cat /a/f /b/f > /out/got 2>&1 || true; ls -A /n > /out/never
  out:
    from: scratch
    copy: [{from: r, src: /out, dest: /}]
`, nil)
	ctx := context.Background()
	// Written on a builder of the test's own, and pushed from there.
	repo, _ := exportFromFreshBuilder(t, s, p, buildOpts{attrs: map[string]string{"target": "w"}}, "a", "b")

	// Through buildx and the frontend image, on the stack's builder, which
	// has never had these volumes.
	out := t.TempDir()
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--build-arg", "STOWAGE_CACHE_IMPORT=type=registry,ref="+repo,
		"--build-arg", "N=buildx", "--output", "type=local,dest="+out, ".")
	if got := readFile(t, out+"/got"); got != "from-a\nfrom-b\n" {
		t.Errorf("through buildx with STOWAGE_CACHE_IMPORT the fresh volumes hold %q, want what the other builder wrote", got)
	}
	if got := readFile(t, out+"/never"); got != "" {
		t.Errorf("a volume never exported holds %q, want it empty", got)
	}

	// Through the gateway with --opt, on another fresh builder.
	d2 := startDaemon(t, s, faultRoot(t))
	third := *s
	third.addr = d2.addr
	res := third.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"cache-import": "type=registry,ref=" + repo, "build-arg:N": "gateway"}})
	if got := res.file(t, "got"); got != "from-a\nfrom-b\n" {
		t.Errorf("with --opt cache-import the fresh volumes hold %q, want what the other builder wrote", got)
	}
}

// TestCachePrunePolicy: prune --policy removes the records of a volume
// unused for longer than its max-age and of a volume over its max-size,
// and keeps a volume without retention and one within it; ls warns when
// the builder's GC would evict a volume before its max-age.
func TestCachePrunePolicy(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: retention-ID
caches:
  old: {key: old, max-age: 1s}
  big: {key: big, max-size: 64k}
  young: {key: young, max-age: 1h}
  plain: {key: plain}
  long: {key: long, max-age: 30d}
steps:
  w:
    from: [[.Busybox]]
    mounts: [{cache: old, path: /o}, {cache: big, path: /b}, {cache: young, path: /y}, {cache: plain, path: /p}, {cache: long, path: /l}]
    run: head -c 1048576 /dev/zero > /b/blob && for d in /o /y /p /l; do echo x > $d/f; done && head -c 204800 /dev/zero > /p/blob
`, nil)
	s.mustBuild(context.Background(), t, p, buildOpts{})
	// BuildKit releases a build's cache mounts after the solve returns; a
	// record is sized, and its last use set, when it is released. Wait for
	// that (big's size), then for old's max-age from there.
	for deadline := time.Now().Add(15 * time.Second); cacheLs(t, s, p.dir)["big"].Size <= 64<<10; {
		if time.Now().After(deadline) {
			t.Fatalf("volume big is not sized after 15 s: %+v", cacheLs(t, s, p.dir)["big"])
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	out, err := cacheCLI(t, s, p.dir, "prune", "--policy")
	if err != nil {
		t.Fatalf("prune --policy: %v\n%s", err, out)
	}
	ls := cacheLs(t, s, p.dir)
	for name, records := range map[string]int{"old": 0, "big": 0, "young": 1, "plain": 1, "long": 1} {
		if got := len(ls[name].Records); got != records {
			t.Errorf("after prune --policy volume %s has %d records, want %d\n%s", name, got, records, out)
		}
	}
	// --max-size alone: the spec's volumes over the size, whatever their
	// retention.
	if out, err := cacheCLI(t, s, p.dir, "prune", "--max-size", "100k"); err != nil {
		t.Fatalf("prune --max-size: %v\n%s", err, out)
	}
	ls = cacheLs(t, s, p.dir)
	for name, records := range map[string]int{"young": 1, "plain": 0, "long": 1} {
		if got := len(ls[name].Records); got != records {
			t.Errorf("after prune --max-size 100k volume %s has %d records, want %d", name, got, records)
		}
	}
	// The stack's buildkitd has BuildKit's default GC: cache mounts unused
	// for 48h go once they take 512 MB.
	warn, err := cacheCLI(t, s, p.dir, "ls")
	if err != nil || !strings.Contains(warn, "warning: volume long keeps records for max-age 720h0m0s, but the builder's GC evicts cache mounts unused for 48h0m0s") {
		t.Errorf("ls does not warn that GC evicts long before its max-age: %v\n%s", err, warn)
	}
	if strings.Contains(warn, "warning: volume young") {
		t.Errorf("ls warns about young, whose max-age is under the GC's:\n%s", warn)
	}
}

// TestImportAfterRename: a volume renamed in the spec keeps its key, so its
// ID, and its registry export (made under the old name) still seeds it,
// through cache-import and through stowage cache import.
func TestImportAfterRename(t *testing.T) {
	s := needStack(t)
	spec := `project: rename-ID
caches:
  NAME: {key: stable}
steps:
  s:
    from: [[.Busybox]]
    mounts: [{cache: NAME, path: /c}]
    run: mkdir -p /out && ls /c > /out/ls && echo x > /c/f
  out:
    from: scratch
    copy: [{from: s, src: /out, dest: /}]
`
	id := nonce()
	p := newProject(t, s, strings.ReplaceAll(strings.ReplaceAll(spec, "ID", id), "NAME", "old"), nil)
	ctx := context.Background()
	repo, _ := exportFromFreshBuilder(t, s, p, buildOpts{}, "old")
	renamed := strings.NewReplacer("ID", id, "NAME", "new", "[[.Busybox]]", s.busybox).Replace(spec)
	writeFiles(t, p.dir, map[string]string{"stowage.yaml": renamed})
	res := s.mustBuild(ctx, t, p, buildOpts{attrs: map[string]string{"cache-import": "type=registry,ref=" + repo}})
	if got := res.file(t, "ls"); got != "f\n" {
		t.Errorf("after the rename, cache-import seeded %q, want the old name's export\n%s", got, res.logs)
	}
	d2 := startDaemon(t, s, faultRoot(t))
	third := *s
	third.addr = d2.addr
	if out, err := cacheCLI(t, &third, p.dir, "import", "new", "--from", "type=registry,ref="+repo); err != nil {
		t.Fatalf("import new after the rename: %v\n%s", err, out)
	}
	if got := third.mustBuild(ctx, t, p, buildOpts{}).file(t, "ls"); got != "f\n" {
		t.Errorf("after the rename, stowage cache import seeded %q, want the old name's export", got)
	}
}

// exportFromFreshBuilder builds p on a buildkitd of the test's own (an
// ephemeral runner), pushes the named volumes to a fresh repository of the
// stack's registry with stowage cache export, stops that daemon, and
// returns the repository and the export's output.
func exportFromFreshBuilder(t *testing.T, s *stack, p *project, opts buildOpts, names ...string) (repo, out string) {
	t.Helper()
	d := startDaemon(t, s, faultRoot(t))
	defer d.stop(syscall.SIGTERM)
	fresh := *s
	fresh.addr = d.addr
	fresh.mustBuild(context.Background(), t, p, opts)
	repo = os.Getenv("STOWAGE_REGISTRY") + "/stowage-cache/fresh-" + nonce()
	out, err := cacheCLI(t, &fresh, p.dir, append(append([]string{"export"}, names...), "--to", "type=registry,ref="+repo+",registry.insecure=true")...)
	if err != nil {
		t.Fatalf("stowage cache export %v --to registry: %v\n%s", names, err, out)
	}
	return repo, out
}
