package ctxhash

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree is the test context. The golden sums below were computed
// independently with Python's hashlib:
//
//	def ns(s): b = s.encode(); return str(len(b)).encode() + b":" + b + b","
//	h = hashlib.sha256()
//	for p in sorted(paths, key=lambda p: p.encode()):
//	    h.update(ns(p)); h.update(ns(hashlib.sha256(files[p]).hexdigest()))
//	"sha256:" + h.hexdigest()
//
// with files = tree, and the symlink "link" hashed as its target text "a.txt".
var tree = map[string]string{
	"a.txt":                      "hello\n",
	"B.txt":                      "upper\n",
	"package-lock.json":          "{}\n",
	"sub/b.txt":                  "b\n",
	"sub/deep/c.txt":             "c\n",
	"sub/deep/package-lock.json": "x\n",
	"sub-x.txt":                  "dash\n",
}

func writeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range tree {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSum(t *testing.T) {
	dir := writeTree(t)
	for _, tc := range []struct {
		name  string
		globs []string
		want  string
		err   string
	}{
		{name: "root file", globs: []string{"a.txt"}, want: "sha256:09f9825d5e38d529cf8db2f22550f57b9985f846c2611ca354cae6cf979f98c7"},
		// "*" stays in one directory; byte order puts "B.txt" before "a.txt".
		{name: "star", globs: []string{"*.txt"}, want: "sha256:9bf0d7740a1c7461bce0cd01ddd6aa8ef654e46a618818b11233556c53a4c0c6"},
		// A file matched by two globs counts once; glob order does not matter.
		{name: "overlap", globs: []string{"sub-x.txt", "*.txt", "a.txt"}, want: "sha256:9bf0d7740a1c7461bce0cd01ddd6aa8ef654e46a618818b11233556c53a4c0c6"},
		// "sub-x.txt" sorts before "sub/b.txt": '-' < '/'.
		{name: "starstar", globs: []string{"**/*.txt"}, want: "sha256:2fc4cb38b10b9dad648fbbbc01c590f78ec58ded5c7d916c60794c2f34e39ba9"},
		{name: "any depth", globs: []string{"**/package-lock.json"}, want: "sha256:5810b62e9008c113588f2492bc59b18ee8df7db4551dde71d96d0dbdbad30e9f"},
		{name: "under dir", globs: []string{"sub/**"}, want: "sha256:37e1f1633e89313350d473ded3659617a75c418e92315a5db8e2196e217873c8"},
		{name: "symlink not followed", globs: []string{"link"}, want: "sha256:ed9b44e33f6551df45d3d379427608cd2f2096c6baeb5e0d1164de1a1c164047"},
		{name: "everything", globs: []string{"**"}, want: "sha256:656f5f58fb8a8b1995676e10e87a033f1c6fb19d679d9ee2f1a449853ea09482"},
		{name: "no match", globs: []string{"yarn.lock", "empty/**"}, err: `no file of the build context matches ["yarn.lock", "empty/**"]`},
		{name: "bad pattern", globs: []string{"[a"}, err: `glob "[a": syntax error in pattern`},
		{name: "outside", globs: []string{"../x"}, err: `glob "../x": write a path relative to the build context`},
		{name: "absolute", globs: []string{"/x"}, err: `glob "/x": write a path relative to the build context`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Sum(DirFS(dir), tc.globs)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Sum(%q) = %s, want %s", tc.globs, got, tc.want)
			}
		})
	}
}

func TestSumChangesWithContent(t *testing.T) {
	dir := writeTree(t)
	before, err := Sum(DirFS(dir), []string{"package-lock.json"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte("{\"v\":2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	after, err := Sum(DirFS(dir), []string{"package-lock.json"})
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Errorf("sum did not change with the file: %s", before)
	}
}

func TestTransferPatterns(t *testing.T) {
	for _, tc := range []struct {
		globs []string
		want  string
	}{
		{[]string{"package-lock.json"}, "package-lock.json"},
		{[]string{"link/**"}, "link/**,link"},
		{[]string{"a/**/b"}, "a/**/b,a/b"},
		{[]string{"**/go.sum", "src/**"}, "**/go.sum,go.sum,src/**,src"},
		{[]string{"**"}, "**"},
	} {
		if got := strings.Join(TransferPatterns(tc.globs), ","); got != tc.want {
			t.Errorf("TransferPatterns(%q) = %s, want %s", tc.globs, got, tc.want)
		}
	}
}
