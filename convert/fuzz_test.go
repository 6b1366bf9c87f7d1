package convert

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// FuzzConvert: no Dockerfile panics the conversion or makes a spec that
// does not load (Convert loads what it writes and says BugError).
func FuzzConvert(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.Dockerfile")
	// The equivalence corpus: real Dockerfiles, BuildKit's and projects'.
	corpus, _ := filepath.Glob("../integration/testdata/convert/*/Dockerfile")
	files = append(files, corpus...)
	for _, file := range files {
		dt, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(dt, false)
	}
	f.Fuzz(func(t *testing.T, dt []byte, bestEffort bool) {
		var out []byte
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			out, err = Convert(dt, Options{Project: "fuzz", Syntax: "stowage", BestEffort: bestEffort})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Convert has not returned after 10s on %q", dt)
		}
		var bug *BugError
		if errors.As(err, &bug) {
			t.Fatalf("%v\nfrom the Dockerfile:\n%s", err, dt)
		}
		if err != nil {
			return
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, out)
		}
	})
}
