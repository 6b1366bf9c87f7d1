package convert

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stowage-build/stowage/internal/golden"
	"github.com/stowage-build/stowage/lint"
	"github.com/stowage-build/stowage/spec"
)

// Each Dockerfile in testdata/ok converts to its golden spec, which loads
// without errors and lint warnings.
func TestConvert(t *testing.T) {
	eachCase(t, "ok", func(t *testing.T, file, name string, dt []byte) {
		out, err := Convert(dt, Options{File: "Dockerfile", Project: name, Syntax: "stowage"})
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, file+".yaml", out)
		s, err := spec.Load(out, spec.Options{File: "stowage.yaml"})
		if err != nil {
			t.Fatalf("the spec does not load:\n%v\n%s", err, out)
		}
		for _, w := range lint.Check(s) {
			t.Errorf("lint: %s", w.String(s.File))
		}
	})
}

// Each Dockerfile in testdata/errors fails with the errors in its golden
// file, each naming its line and what to write instead; with BestEffort it
// converts, leaving a TODO per problem.
func TestConvertErrors(t *testing.T) {
	eachCase(t, "errors", func(t *testing.T, file, name string, dt []byte) {
		_, err := Convert(dt, Options{File: "Dockerfile", Project: name, Syntax: "stowage"})
		var list spec.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("want errors, got %v", err)
		}
		for _, e := range list {
			if e.Start.Line < 1 || e.Hint == "" {
				t.Errorf("error without a line or a hint: %v", e)
			}
		}
		golden.Check(t, file+".err", []byte(err.Error()+"\n"))

		out, err := Convert(dt, Options{File: "Dockerfile", Project: name, Syntax: "stowage", BestEffort: true})
		if err != nil {
			t.Fatalf("best effort: %v", err)
		}
		if got := strings.Count(string(out), "# TODO (Dockerfile:"); got != len(list) {
			t.Errorf("best effort wrote %d TODOs for %d errors:\n%s", got, len(list), out)
		}
	})
}

// Each Dockerfile in testdata/invalid is one BuildKit's parser refuses, or
// whose spec Stowage refuses: it fails with the errors in its golden file,
// each at its Dockerfile line with what to write, best effort or not.
func TestConvertInvalid(t *testing.T) {
	eachCase(t, "invalid", func(t *testing.T, file, name string, dt []byte) {
		for _, bestEffort := range []bool{false, true} {
			_, err := Convert(dt, Options{File: "Dockerfile", Project: name, Syntax: "stowage", BestEffort: bestEffort})
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("best effort %v: want positioned errors, got %v", bestEffort, err)
			}
			for _, e := range list {
				if e.Start.Line < 1 || e.Hint == "" {
					t.Errorf("error without a line or a hint: %v", e)
				}
			}
			if !bestEffort {
				golden.Check(t, file+".err", []byte(err.Error()+"\n"))
			}
		}
	})
}

// eachCase runs f on each Dockerfile of testdata/DIR, as a subtest named
// for the file; file is its path without .Dockerfile.
func eachCase(t *testing.T, dir string, f func(t *testing.T, file, name string, dt []byte)) {
	t.Helper()
	files, _ := filepath.Glob("testdata/" + dir + "/*.Dockerfile")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, path := range files {
		file := strings.TrimSuffix(path, ".Dockerfile")
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			dt, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f(t, file, name, dt)
		})
	}
}
