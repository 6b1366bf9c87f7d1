package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stowage-build/stowage/cacheid"
	"github.com/stowage-build/stowage/ctxhash"
)

// TestHashTokenFollowsLockFile keys a volume on a lock file: builds with
// the same file share the volume; a changed file gives a fresh, empty one.
func TestHashTokenFollowsLockFile(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		id := nonce()
		p := appendProject(t, s, "hash-"+id, "[npm, {hash: [package-lock.json]}]", "")
		lock := filepath.Join(p.dir, "package-lock.json")
		writeFile(t, lock, `{"lockfileVersion": 3, "v": "`+id+`"}`)

		b.mustBuild(ctx, t, p, runArg("a"))
		if got := b.mustBuild(ctx, t, p, runArg("b")).file(t, "log"); got != "a\nb\n" {
			t.Fatalf("same lock file: log %q, want the volume shared", got)
		}
		writeFile(t, lock, `{"lockfileVersion": 3, "v": "`+id+`-2"}`)
		res := b.mustBuild(ctx, t, p, runArg("c"))
		if got := res.file(t, "log"); got != "c\n" {
			t.Fatalf("changed lock file: log %q, want a fresh volume\n%s", got, res.logs)
		}
	})
}

// digestSpec keys a volume on the local busybox image's digest and exports
// the volume's log and the step's STOWAGE_CACHE_IDS.
const digestSpec = `project: [[.Project]]
args: {RUN: ""}
caches:
  notes: {key: [base, {digest: "[[.Busybox]]"}]}
steps:
  work:
    from: [[.Busybox]]
    mounts: [{cache: notes, path: /cache}]
    run: mkdir -p /out && echo "${RUN}" >> /cache/log && cp /cache/log /out/log && echo "$STOWAGE_CACHE_IDS" > /out/ids
  out:
    from: scratch
    copy: [{from: work, src: /out, dest: /}]
`

// TestDigestTokenIsTheRegistryDigest keys a volume on an image: the volume
// is shared across builds, and its ID is cacheid.ID over the digest the
// registry reports for the image.
func TestDigestTokenIsTheRegistryDigest(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		project := "digest-" + nonce()
		p := newProject(t, s, strings.ReplaceAll(digestSpec, "[[.Project]]", project), nil)

		b.mustBuild(ctx, t, p, runArg("a"))
		res := b.mustBuild(ctx, t, p, runArg("b"))
		if got := res.file(t, "log"); got != "a\nb\n" {
			t.Fatalf("log %q, want the volume shared across builds", got)
		}
		dgst := registryDigest(t, s.busybox)
		want, err := cacheid.ID(cacheid.Input{Scope: "project", Namespace: project, Tokens: []string{"base", dgst}})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(res.file(t, "ids")); got != "/cache="+want {
			t.Errorf("STOWAGE_CACHE_IDS = %q, want /cache=%s (the registry's digest %s)", got, want, dgst)
		}
	})
}

// TestDigestTokenFollowsNamedContext: a --build-context that replaces the
// image of a {digest: …} token (as it replaces a from:) moves the token to
// the replacement: busybox:1.37, which this stack cannot reach on Docker
// Hub, keys on the local registry's image; a directory in its place has no
// digest and fails the build, naming the token.
func TestDigestTokenFollowsNamedContext(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		project := "digest-ctx-" + nonce()
		spec := strings.NewReplacer("[[.Project]]", project, `{digest: "[[.Busybox]]"}`, `{digest: "busybox:1.37"}`).Replace(digestSpec)
		p := newProject(t, s, spec, map[string]string{"dir/f": "x"})
		opts := buildOpts{attrs: map[string]string{"build-arg:RUN": "a", "context:busybox:1.37": "docker-image://" + s.busybox}}
		res := b.mustBuild(ctx, t, p, opts)
		want, err := cacheid.ID(cacheid.Input{Scope: "project", Namespace: project, Tokens: []string{"base", registryDigest(t, s.busybox)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(res.file(t, "ids")); got != "/cache="+want {
			t.Errorf("STOWAGE_CACHE_IDS = %q, want /cache=%s, keyed on the replacing image", got, want)
		}

		opts.attrs["context:busybox:1.37"] = filepath.Join(p.dir, "dir")
		res, err = b.build(ctx, t, p, opts)
		if err == nil || !strings.Contains(err.Error(), "{digest: busybox:1.37}: --build-context replaces busybox:1.37 with") {
			t.Errorf("a directory replacing the image: %v\n%s", err, res.logs)
		}
	})
}

// TestHashTokenWithoutMatchFails: a glob that matches nothing fails the
// build with an error naming the glob.
func TestHashTokenWithoutMatchFails(t *testing.T) {
	s := needStack(t)
	p := appendProject(t, s, "nohash-"+nonce(), `[npm, {hash: ["nothing-*.lock"]}]`, "")
	res, err := s.build(context.Background(), t, p, runArg("a"))
	if err == nil {
		t.Fatalf("build succeeded\n%s", res.logs)
	}
	if !strings.Contains(err.Error(), `no file of the build context matches ["nothing-*.lock"]`) {
		t.Errorf("error %q does not name the glob", err)
	}
}

// TestHashTokenMatchesLocalHash: the gateway hashes the context files a
// "**" glob matches (through fsutil's include patterns) exactly as
// ctxhash does over the same directory, which `stowage ids` uses.
func TestHashTokenMatchesLocalHash(t *testing.T) {
	s := needStack(t)
	project := "hashglob-" + nonce()
	tmpl := strings.NewReplacer("[[.Project]]", project, `{digest: "[[.Busybox]]"}`, `{hash: ["**/go.sum", "*.lock"]}`).Replace(digestSpec)
	p := newProject(t, s, tmpl, map[string]string{
		"go.sum": "root\n", "a/go.sum": "a\n", "a/b/c/go.sum": "c\n", "a/go.mod": "not hashed\n",
		"x.lock": "x\n", "a/y.lock": "not hashed\n",
	})
	res := s.mustBuild(context.Background(), t, p, runArg("a"))
	sum, err := ctxhash.Sum(ctxhash.DirFS(p.dir), []string{"**/go.sum", "*.lock"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := cacheid.ID(cacheid.Input{Scope: "project", Namespace: project, Tokens: []string{"base", sum}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(res.file(t, "ids")); got != "/cache="+want {
		t.Errorf("STOWAGE_CACHE_IDS = %q, want /cache=%s (token %s)", got, want, sum)
	}
}

// registryDigest asks the registry for ref's manifest digest, as a client
// pulling it would see it.
func registryDigest(t *testing.T, ref string) string {
	t.Helper()
	host, repoTag, _ := strings.Cut(ref, "/")
	repo, tag := repoTag, "latest"
	if i := strings.LastIndex(repoTag, ":"); i >= 0 {
		repo, tag = repoTag[:i], repoTag[i+1:]
	}
	req, err := http.NewRequest(http.MethodHead, "http://"+host+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", strings.Join([]string{
		"application/vnd.oci.image.index.v1+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.docker.distribution.manifest.v2+json",
	}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	dgst := resp.Header.Get("Docker-Content-Digest")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(dgst, "sha256:") {
		t.Fatalf("HEAD %s: %s, digest %q", req.URL, resp.Status, dgst)
	}
	return dgst
}

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHashTokenAgreesWithIDs: `stowage ids` and a build give one ID for
// every {hash:} glob, whatever the context holds: a symlinked directory
// (hashed as the link, never followed), a symlink to a file, nested files.
func TestHashTokenAgreesWithIDs(t *testing.T) {
	s := needStack(t)
	bin := needCLI(t)
	for _, glob := range []string{"link/**", "real/**", "**", "flink", "real/*", "**/f"} {
		t.Run(strings.ReplaceAll(glob, "*", "x"), func(t *testing.T) {
			p := newProject(t, s, `project: hash-agree
caches:
  c: {key: [k, {hash: ["`+glob+`"]}]}
steps:
  work:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /cache}]
    run: mkdir -p /out && echo "$STOWAGE_CACHE_IDS" > /out/ids
  out:
    from: scratch
    copy: [{from: work, src: /out, dest: /}]
`, map[string]string{"real/f": "one\n", "real/sub/g": "two\n"})
			for link, target := range map[string]string{"link": "real", "flink": "real/f"} {
				if err := os.Symlink(target, filepath.Join(p.dir, link)); err != nil {
					t.Fatal(err)
				}
			}
			out, err := run(t, p.dir, bin, "ids", "-f", "stowage.yaml")
			if err != nil {
				t.Fatalf("stowage ids: %v\n%s", err, out)
			}
			want := strings.TrimPrefix(strings.TrimSpace(out), "c\t")
			res := s.mustBuild(context.Background(), t, p, buildOpts{})
			if got := strings.TrimSpace(res.file(t, "ids")); got != "/cache="+want {
				t.Errorf("glob %s: the build's %s, stowage ids' %s", glob, got, want)
			}
		})
	}
}
