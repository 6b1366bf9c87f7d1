package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// tarball returns a tar archive of files, gzipped with gz.
func tarball(t *testing.T, gz bool, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	var w *tar.Writer
	var z *gzip.Writer
	if gz {
		z = gzip.NewWriter(&b)
		w = tar.NewWriter(z)
	} else {
		w = tar.NewWriter(&b)
	}
	for name, body := range files {
		if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if z != nil {
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// gitRepo makes a repository with tag v1 (README "v1", docs/guide.md) and a
// later commit on the default branch (README "v2"), ready to be served over
// Git's dumb HTTP protocol, as BuildKit's own ADD tests serve one. It
// returns the directory and v1's commit.
func gitRepo(t *testing.T) (dir, v1 string) {
	t.Helper()
	dir = t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("config", "user.email", "test@example.com")
	git("config", "user.name", "test")
	writeFiles(t, dir, map[string]string{"README": "v1\n", "docs/guide.md": "v1 guide\n"})
	git("add", "-A")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")
	v1 = git("rev-parse", "v1")
	writeFiles(t, dir, map[string]string{"README": "v2\n"})
	git("commit", "-q", "-am", "v2")
	git("update-server-info")
	return dir, v1
}

// TestCopySources: url: and git: copies fetch what ADD would, pinned by
// checksum:; unpack: extracts archives, local or downloaded; content:
// writes a file, as a COPY heredoc.
func TestCopySources(t *testing.T) {
	s := needStack(t)
	tool := tarball(t, true, map[string]string{"bin/tool": "tool v1\n"})
	repo, v1 := gitRepo(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/dl/tool.tar.gz", func(w http.ResponseWriter, r *http.Request) { w.Write(tool) })
	mux.Handle("/git/", http.StripPrefix("/git", http.FileServer(http.Dir(repo))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sum := digest.FromBytes(tool)

	fill := strings.NewReplacer("URL", srv.URL, "SUM", sum.String(), "V1", v1).Replace
	p := newProject(t, s, fill(`project: remote
args: {V: "7"}
steps:
  files:
    from: [[.Busybox]]
    copy:
      - {url: "URL/dl/tool.tar.gz", dest: /dl/, checksum: "SUM", chmod: "0600"}
      - {url: "URL/dl/tool.tar.gz", dest: /unpacked, unpack: true}
      - {src: local.tar, dest: /local, unpack: true}
      - {git: "URL/git/.git#v1:docs", dest: /docs}
      - {git: "URL/git/.git#v1", dest: /tagged, keep-git-dir: true, checksum: "V1"}
      - {git: "URL/git/.git", dest: /head}
      - content: |
          v=${V}
          home=$${HOME}
        dest: /etc/app.conf
        chmod: "0600"
    run: >-
      mkdir -p /out &&
      stat -c "%a" /dl/tool.tar.gz > /out/dl-mode &&
      sha256sum /dl/tool.tar.gz | cut -d" " -f1 > /out/dl-sum &&
      cat /unpacked/bin/tool > /out/unpacked &&
      cat /local/x.txt > /out/local &&
      ls /docs > /out/docs && cat /docs/guide.md >> /out/docs &&
      cat /tagged/README > /out/tagged && cat /tagged/.git/HEAD > /out/tagged-head &&
      cat /head/README > /out/head && (test -e /head/.git && echo has .git || echo no .git) >> /out/head &&
      cat /etc/app.conf > /out/conf && stat -c "%a" /etc/app.conf >> /out/conf
  out:
    from: scratch
    copy: [{from: files, src: /out, dest: /}]
`), map[string]string{"local.tar": string(tarball(t, false, map[string]string{"x.txt": "local x\n"}))})

	viaBoth(t, s, func(t *testing.T, b via) {
		res := b.mustBuild(context.Background(), t, p, buildOpts{})
		for name, want := range map[string]string{
			"dl-mode":     "600\n",
			"dl-sum":      sum.Encoded() + "\n",
			"unpacked":    "tool v1\n",
			"local":       "local x\n",
			"docs":        "guide.md\nv1 guide\n",
			"tagged":      "v1\n",
			"tagged-head": v1 + "\n", // a detached checkout of the tag
			"head":        "v2\nno .git\n",
			"conf":        "v=7\nhome=${HOME}\n600\n",
		} {
			if got := res.file(t, name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
	})
}

// TestRemoteChecksumMismatch: a download whose digest is not the checksum
// fails the build, at the url: line.
func TestRemoteChecksumMismatch(t *testing.T) {
	s := needStack(t)
	body := []byte("tampered " + nonce() + "\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	t.Cleanup(srv.Close)
	pinned := digest.FromString("what the author checked")
	p := newProject(t, s, fmt.Sprintf(`project: remote-mismatch
steps:
  files:
    from: [[.Busybox]]
    copy:
      - url: %s/tool
        dest: /tool
        checksum: %s
    run: cat /tool
`, srv.URL, pinned), nil)
	res, err := s.build(context.Background(), t, p, buildOpts{})
	if err == nil {
		t.Fatalf("a download that does not match its checksum was copied:\n%s", res.logs)
	}
	// BuildKit says "digest mismatch" and names both digests.
	got := fmt.Sprintf("%x", sha256.Sum256(body))
	if msg := err.Error(); !strings.Contains(msg, "digest mismatch") || !strings.Contains(msg, got) || !strings.Contains(msg, pinned.Encoded()) {
		t.Errorf("the error does not say the digest %s is not the checksum %s: %v", got, pinned.Encoded(), err)
	}
	if got := strings.Join(sourceLines(err), " "); got != "stowage.yaml:006-006" {
		t.Errorf("error points at %q, want the url: line, stowage.yaml:006-006", got)
	}
}
