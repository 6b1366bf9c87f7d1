package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hashSpec = `project: hello
caches:
  npm: {key: [npm, {hash: [package-lock.json]}]}
steps:
  build:
    from: busybox
    mounts:
      - {cache: npm, path: /root/.npm}
    run: ls /root/.npm
`

func TestIDsHashToken(t *testing.T) {
	file := writeSpec(t, hashSpec)
	dir := filepath.Dir(file)
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Computed independently with Python's hashlib: the token is
	// sha256:ad9fead31bfb1e220b2d038b4d759478b8661cee43aa9cd0ecd751b2973e8222.
	const want = "npm\tstowage-dc2b7b9de1b4dc2d371894285b76f456\n"
	code, out, errOut := stowage(t, "ids", "-f", file)
	if code != 0 || out != want {
		t.Fatalf("exit %d, out %q, want %q; stderr: %s", code, out, want, errOut)
	}
	code, out, errOut = stowage(t, "ids", "-f", file, "--context", dir)
	if code != 0 || out != want {
		t.Fatalf("--context: exit %d, out %q, want %q; stderr: %s", code, out, want, errOut)
	}

	// Another context without the lock file: a positioned error naming the glob.
	code, _, errOut = stowage(t, "ids", "-f", file, "--context", t.TempDir())
	if code != 1 || !strings.Contains(errOut, ":3:") || !strings.Contains(errOut, `no file of the build context matches ["package-lock.json"]`) {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := stowage(t, "llb", "-f", file, "--context", t.TempDir()); code != 1 || !strings.Contains(errOut, "package-lock.json") {
		t.Errorf("llb, missing file: exit %d, stderr %q", code, errOut)
	}
}

func TestIDsDigestTokenNeedsBuild(t *testing.T) {
	file := writeSpec(t, strings.Replace(hashSpec, "{hash: [package-lock.json]}", "{digest: busybox}", 1))
	code, _, errOut := stowage(t, "ids", "-f", file)
	if code != 1 || !strings.Contains(errOut, ":3:") || !strings.Contains(errOut, "{digest: busybox}") || !strings.Contains(errOut, "needs a build") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// The CLI leaves out what .dockerignore excludes, as a build does, and a
// spec-specific STOWAGE.yaml.dockerignore wins over it.
func TestIDsHashTokenDockerignore(t *testing.T) {
	file := writeSpec(t, strings.Replace(hashSpec, "[package-lock.json]", "['**/*.lock']", 1))
	dir := filepath.Dir(file)
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids := func() string {
		t.Helper()
		code, out, errOut := stowage(t, "ids", "-f", file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		return out
	}
	write("a.lock", "a\n")
	only := ids()
	write("vendor/b.lock", "b\n")
	both := ids()
	if both == only {
		t.Fatal("a second matching file did not change the ID")
	}
	write(".dockerignore", "vendor\n")
	if got := ids(); got != only {
		t.Errorf(".dockerignore excluding vendor: got %q, want the ID without vendor/b.lock %q", got, only)
	}
	write(".dockerignore", "vendor\n!vendor/b.lock\n")
	if got := ids(); got != both {
		t.Errorf(".dockerignore re-including vendor/b.lock: got %q, want %q", got, both)
	}
	write(filepath.Base(file)+".dockerignore", "**/*.lock\n")
	code, _, errOut := stowage(t, "ids", "-f", file)
	if code != 1 || !strings.Contains(errOut, "no file of the build context matches") {
		t.Errorf("spec-specific ignore file excluding every lock file: exit %d, stderr %q", code, errOut)
	}
}
