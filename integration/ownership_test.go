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
	viaBoth(t, s, func(t *testing.T, b via) {
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
		res := b.mustBuild(context.Background(), t, p, buildOpts{})
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
	})
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
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		p := ownershipProject(t, s, seedSpec, nil)
		args := func(seed, key, bust string) buildOpts {
			return buildOpts{attrs: map[string]string{"build-arg:SEED": seed, "build-arg:KEY": key, "build-arg:BUST": bust}}
		}
		first := b.mustBuild(ctx, t, p, args("v1", "k1", "one"))
		if got := first.file(t, "seed"); got != "v1\n" {
			t.Fatalf("first build: seed %q, want v1", got)
		}
		second := b.mustBuild(ctx, t, p, args("v2", "k1", "two"))
		if got := second.file(t, "seed"); got != "v1\n" {
			t.Errorf("changing the seed reseeded (or emptied) the volume: seed %q, want v1", got)
		}
		if got := second.file(t, "runs"); got != "one\ntwo\n" {
			t.Errorf("the volume lost what the first build wrote: runs %q", got)
		}
		other := b.mustBuild(ctx, t, p, args("v2", "k2", "three"))
		if got := other.file(t, "seed"); got != "v2\n" {
			t.Errorf("a new key with seed v2: seed %q", got)
		}
	})
}

// TestSeedFromMainContext seeds a volume from a directory of the build
// context. Changing another file of the context re-runs the seed's escape
// check but not the step: its cache key follows the seed directory only.
func TestSeedFromMainContext(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: ctxseed-ID
caches:
  c: {key: c}
steps:
  use:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c, source: {context: seeds/data}}]
    run: mkdir -p /out && cp /c/hello.txt /out/hello && ls -A /c > /out/ls && cat /proc/sys/kernel/random/uuid > /out/run
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`, map[string]string{"seeds/data/hello.txt": "hello from the context\n", "seeds/other.txt": "not seeded\n"})
	res := s.mustBuild(context.Background(), t, p, buildOpts{})
	if err := os.WriteFile(filepath.Join(p.dir, "seeds/other.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := s.mustBuild(context.Background(), t, p, buildOpts{})
	if a, b := res.file(t, "run"), again.file(t, "run"); a != b {
		t.Errorf("changing a context file outside the seed re-ran the step (run %q, then %q)", a, b)
	}
	if got := res.file(t, "hello"); got != "hello from the context\n" {
		t.Errorf("hello = %q", got)
	}
	if got := strings.Fields(res.file(t, "ls")); strings.Join(got, " ") != "hello.txt" {
		t.Errorf("volume holds %v, want only hello.txt", got)
	}
}

// TestSeedSymlinkEscape: a seed path that is, or passes through, a symlink
// leading out of the seed's filesystem fails the build with a message naming
// the volume and the path, as BuildKit's testCacheMountSourceEscape demands
// of a cache mount's source; the volume gets nothing. A symlink that stays
// inside the seed's filesystem is followed.
func TestSeedSymlinkEscape(t *testing.T) {
	s := needStack(t)
	const tmpl = `project: escape-ID
caches:
  c: {key: c}
steps:
  seed:
    from: [[.Busybox]]
    run: mkdir -p /data/sub && echo inside > /data/sub/marker && echo inside > /etc/stowage-marker && LINK
  use:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c, source: {step: seed, path: SEED}}]
    run: mkdir -p /out && ls -A /c > /out/ls
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`
	for _, tc := range []struct{ link, seed string }{
		{"ln -s ../../etc /cache", "/cache"},
		{"ln -s ../../../../../../etc /cache", "/cache"},
		{"ln -s /etc /cache", "/cache"},
		{"ln -s /etc /data/sub/up", "/data/sub/up"},
		{"ln -s ../../../.. /data/sub/up", "/data/sub/up/etc"},
	} {
		t.Run(strings.ReplaceAll(tc.seed+" "+tc.link, "/", "_"), func(t *testing.T) {
			spec := strings.NewReplacer("LINK", tc.link, "SEED", tc.seed).Replace(tmpl)
			p := ownershipProject(t, s, spec, nil)
			res, err := s.build(context.Background(), t, p, buildOpts{})
			if err == nil {
				t.Fatalf("the build passed; the volume holds %v", strings.Fields(res.file(t, "ls")))
			}
			want := "cache volume c: its source path " + tc.seed + " is not a directory inside the source"
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
	t.Run("inside", func(t *testing.T) {
		spec := strings.NewReplacer("LINK", "ln -s data/sub /cache && ln -s ../sub /data/sub/again", "SEED", "/cache/again").Replace(tmpl)
		p := ownershipProject(t, s, spec, nil)
		res := s.mustBuild(context.Background(), t, p, buildOpts{})
		if got := strings.Fields(res.file(t, "ls")); strings.Join(got, " ") != "again marker" {
			t.Errorf("volume holds %v, want the seed's /data/sub: again marker", got)
		}
	})
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
