package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

func TestCheck(t *testing.T) {
	// Files of the test's own: -update may write them.
	dir := t.TempDir()
	file := filepath.Join(dir, "hello.txt")
	if err := os.WriteFile(file, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Check(r, file, []byte("hello\n"))
	if r.failed {
		t.Error("Check failed on equal content")
	}
	r = &recorder{TB: t}
	Check(r, file, []byte("goodbye\n"))
	if !r.failed && !*update {
		t.Error("Check passed on different content")
	}
	r = &recorder{TB: t}
	Check(r, filepath.Join(dir, "missing.txt"), nil)
	if !r.failed && !*update {
		t.Error("Check passed on a missing file")
	}
	if got := LineDiff("a\nb\n", "a\nc\n"); got != "- b\n+ c\n" {
		t.Errorf("LineDiff = %q", got)
	}
}
