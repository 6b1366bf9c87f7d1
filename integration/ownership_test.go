package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
)

// ownershipProject writes a spec whose "ID" placeholder becomes a fresh
// nonce, so every run of a test gets fresh volumes.
func ownershipProject(t *testing.T, s *stack, tmpl string, files map[string]string) *project {
	t.Helper()
	return newProject(t, s, strings.ReplaceAll(tmpl, "ID", nonce()), files)
}

// TestOwnerAndMode: owner (numeric and by name, resolved against the step's
// /etc/passwd) and mode apply to a fresh volume's root, and the init exec's
// private mount points do not reach the step's filesystem.
func TestOwnerAndMode(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: owner-ID
caches:
  num: {key: num, owner: "1000:1000", mode: "0750"}
  named: {key: named, owner: "app:app"}
steps:
  check:
    from: [[.Busybox]]
    mounts:
      - {cache: num, path: /mnt}
      - {cache: named, path: /named}
    run: >-
      mkdir -p /out && stat -c "%u %g %a" /mnt > /out/num && stat -c "%u %g" /named > /out/named &&
      if [ -e /run/stowage ]; then echo leaked > /out/stub; else echo clean > /out/stub; fi
  out:
    from: scratch
    copy: [{from: check, src: /out, dest: /}]
`, nil)
	res := s.mustBuild(context.Background(), t, p, buildOpts{})
	if got := strings.TrimSpace(res.file(t, "num")); got != "1000 1000 750" {
		t.Errorf("owner 1000:1000 mode 0750: stat says %q\n%s", got, res.logs)
	}
	if got := strings.TrimSpace(res.file(t, "named")); got != "1000 1000" {
		t.Errorf("owner app:app: stat says %q", got)
	}
	if got := strings.TrimSpace(res.file(t, "stub")); got != "clean" {
		t.Errorf("the init exec's mount points are left in the step's rootfs")
	}
	if !strings.Contains(res.logs, "[check] init cache volumes num named") {
		t.Errorf("no init vertex in the progress:\n%s", res.logs)
	}
}

// TestNonRootUserWritesFreshVolume: a step running as a non-root user owns
// its fresh volumes when they set no owner.
func TestNonRootUserWritesFreshVolume(t *testing.T) {
	s := needStack(t)
	for _, user := range []string{"app", "1000"} {
		t.Run(user, func(t *testing.T) {
			p := ownershipProject(t, s, `project: nonroot-ID
caches:
  c: {key: c}
steps:
  w:
    from: [[.Busybox]]
    user: "`+user+`"
    mounts: [{cache: c, path: /cache}]
    run: mkdir -p /tmp/out && echo written > /cache/f && cp /cache/f /tmp/out/f && stat -c "%u" /cache > /tmp/out/uid
  out:
    from: scratch
    copy: [{from: w, src: /tmp/out, dest: /}]
`, nil)
			res := s.mustBuild(context.Background(), t, p, buildOpts{})
			if got := res.file(t, "f"); got != "written\n" {
				t.Errorf("f = %q", got)
			}
			if got := strings.TrimSpace(res.file(t, "uid")); got != "1000" {
				t.Errorf("volume root owned by uid %s, want 1000", got)
			}
		})
	}
}

// seedSpec seeds volume c (key ${KEY}) from step seed's /cache, which holds
// ${SEED}; BUST re-runs the using step.
const seedSpec = `project: seed-ID
args: {SEED: v1, KEY: k1, BUST: ""}
caches:
  c: {key: ["${KEY}"]}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /cache && echo ${SEED} > /cache/seed.txt
  use:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c, source: {step: seed, path: /cache}}]
    run: mkdir -p /out && echo "${BUST}" >> /c/runs && cat /c/seed.txt > /out/seed && cp /c/runs /out/runs
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`

// TestSeedOnlyWhenCreated: a volume is seeded when first created, never
// after, even when the seed changes; a new key gets the new seed.
func TestSeedOnlyWhenCreated(t *testing.T) {
	s := needStack(t)
	ctx := context.Background()
	p := ownershipProject(t, s, seedSpec, nil)
	args := func(seed, key, bust string) buildOpts {
		return buildOpts{attrs: map[string]string{"build-arg:SEED": seed, "build-arg:KEY": key, "build-arg:BUST": bust}}
	}
	first := s.mustBuild(ctx, t, p, args("v1", "k1", "one"))
	if got := first.file(t, "seed"); got != "v1\n" {
		t.Fatalf("first build: seed %q, want v1", got)
	}
	second := s.mustBuild(ctx, t, p, args("v2", "k1", "two"))
	if got := second.file(t, "seed"); got != "v1\n" {
		t.Errorf("changing the seed reseeded (or emptied) the volume: seed %q, want v1", got)
	}
	if got := second.file(t, "runs"); got != "one\ntwo\n" {
		t.Errorf("the volume lost what the first build wrote: runs %q", got)
	}
	other := s.mustBuild(ctx, t, p, args("v2", "k2", "three"))
	if got := other.file(t, "seed"); got != "v2\n" {
		t.Errorf("a new key with seed v2: seed %q", got)
	}
}

// TestSeedFromMainContext seeds a volume from a directory of the build
// context.
func TestSeedFromMainContext(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: ctxseed-ID
caches:
  c: {key: c}
steps:
  use:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c, source: {context: seeds/data}}]
    run: mkdir -p /out && cp /c/hello.txt /out/hello && ls -A /c > /out/ls
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`, map[string]string{"seeds/data/hello.txt": "hello from the context\n", "seeds/other.txt": "not seeded\n"})
	res := s.mustBuild(context.Background(), t, p, buildOpts{})
	if got := res.file(t, "hello"); got != "hello from the context\n" {
		t.Errorf("hello = %q", got)
	}
	if got := strings.Fields(res.file(t, "ls")); strings.Join(got, " ") != "hello.txt" {
		t.Errorf("volume holds %v, want only hello.txt", got)
	}
}

// TestSeedSymlinkEscape: a seed path that is a symlink out of the seed's
// root resolves inside that root (BuildKit resolves a bind mount's selector
// with fs.RootPath), so the volume gets the seed step's own files, never the
// builder host's. Compare BuildKit's testCacheMountSourceEscape.
func TestSeedSymlinkEscape(t *testing.T) {
	s := needStack(t)
	for _, link := range []string{"../../etc", "../../../../../../etc", "/etc"} {
		t.Run(strings.ReplaceAll(link, "/", "_"), func(t *testing.T) {
			p := ownershipProject(t, s, `project: escape-ID
caches:
  c: {key: c}
steps:
  seed:
    from: [[.Busybox]]
    run: echo inside > /etc/stowage-marker && ln -s `+link+` /cache
  use:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c, source: {step: seed, path: /cache}}]
    run: mkdir -p /out && ls -A /c > /out/ls
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`, nil)
			res, err := s.build(context.Background(), t, p, buildOpts{})
			if err != nil {
				t.Logf("build failed, which is safe: %v", err)
				return
			}
			got := strings.Fields(res.file(t, "ls"))
			t.Logf("volume holds %v", got)
			has := func(name string) bool {
				for _, g := range got {
					if g == name {
						return true
					}
				}
				return false
			}
			if !has("stowage-marker") {
				t.Errorf("the volume does not hold the seed step's own /etc: %v", got)
			}
			for _, hostOnly := range []string{"os-release", "machine-id"} {
				if _, err := os.Stat("/etc/" + hostOnly); err == nil && has(hostOnly) {
					t.Errorf("the volume holds the host's /etc/%s: the seed escaped its root", hostOnly)
				}
			}
		})
	}
}

// TestOwnerWithoutShellPointsAtYAML: setting up a volume runs a POSIX sh in
// the step's image; a step without one fails at the mount's YAML line.
func TestOwnerWithoutShellPointsAtYAML(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: noshell-ID
caches:
  c: {key: c, owner: "1000:1000"}
steps:
  bare:
    from: scratch
    mounts:
      - {cache: c, path: /c}
    run: /app
`, nil)
	res, err := s.build(context.Background(), t, p, buildOpts{})
	if err == nil {
		t.Fatalf("a scratch step set up a volume without a shell:\n%s", res.logs)
	}
	t.Logf("error: %v", err)
	if got := strings.Join(sourceLines(err), " "); got != "stowage.yaml:008-008" {
		t.Errorf("error points at %q, want the mount's line stowage.yaml:008-008", got)
	}
	if !strings.Contains(res.logs, "[bare] init cache volumes c") {
		t.Errorf("the failing vertex is not the init exec:\n%s", res.logs)
	}
}

// TestOwnerImageHistory: the init exec's layer has its own history entry, so
// the image's history still lines up with its layers.
func TestOwnerImageHistory(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: history-ID
caches:
  c: {key: c, mode: "0700"}
steps:
  app:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c}]
    run: [echo one > /one, echo two > /two]
`, nil)
	tarball := filepath.Join(t.TempDir(), "image.tar")
	s.mustBuild(context.Background(), t, p, buildOpts{export: client.ExportEntry{Type: client.ExporterOCI, Output: fileOutput(tarball)}})
	img := ociImage(t, tarball)
	var layers []string
	for _, h := range img.History {
		if !h.EmptyLayer {
			layers = append(layers, h.CreatedBy)
		}
	}
	if len(layers) != len(img.RootFS.DiffIDs) {
		t.Fatalf("%d layers, %d history entries with a layer: %q", len(img.RootFS.DiffIDs), len(layers), layers)
	}
	if n := len(layers); n < 3 || layers[n-3] != "init cache volumes c" || layers[n-1] != "RUN echo two > /two" || layers[n-2] != "RUN echo one > /one" {
		t.Errorf("history does not end with the init exec and the step's commands: %q", layers)
	}
}
