package spec

import (
	"fmt"
	"github.com/stowage-build/stowage/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// testPlatformArgs pins the platform args, so that goldens do not depend on
// the machine the tests run on: built on amd64 for arm64.
func testPlatformArgs() map[string]string {
	return PlatformArgs(&ocispecs.Platform{OS: "linux", Architecture: "amd64"}, &ocispecs.Platform{OS: "linux", Architecture: "arm64"})
}

// TestInvalid loads every testdata/invalid/CASE.yaml and compares the whole
// error text with CASE.err (-update rewrites them). The file name in the
// errors is the case's path below testdata, so a failing golden reads like
// the message a user would see.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases in testdata/invalid")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel("testdata", file)
			start := time.Now()
			s, err := Load(data, Options{File: filepath.ToSlash(rel), PlatformArgs: testPlatformArgs()})
			// Every case must fail fast, the alias bomb included.
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Load took %v", d)
			}
			if err == nil {
				t.Fatalf("Load succeeded; want the errors of %s.err", name)
			}
			if s != nil {
				t.Errorf("Load returned a spec along with errors")
			}
			checkErrorList(t, err)
			got := err.Error() + "\n"
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".err", []byte(got))
		})
	}
}

// checkErrorList asserts what every consumer of Load's errors relies on: an
// ErrorList of positioned, explained errors, sorted by position.
func checkErrorList(t testing.TB, err error) {
	t.Helper()
	list, ok := err.(ErrorList)
	if !ok {
		t.Fatalf("error is a %T, not an ErrorList: %v", err, err)
	}
	if len(list) == 0 {
		t.Fatalf("empty ErrorList")
	}
	for i, e := range list {
		if e.Start.Line < 1 || e.Start.Col < 1 {
			t.Errorf("error without a position: %v", e)
		}
		if e.Msg == "" {
			t.Errorf("error without a message: %v", e)
		}
		if e.File == "" {
			t.Errorf("error without a file: %v", e)
		}
		if i > 0 && (e.Start.Line < list[i-1].Start.Line || e.Start.Line == list[i-1].Start.Line && e.Start.Col < list[i-1].Start.Col) {
			t.Errorf("errors out of order: %v before %v", list[i-1], e)
		}
	}
}

// TestInvalidGenerated covers specs too big to commit.
func TestInvalidGenerated(t *testing.T) {
	big := func(n int) []byte {
		var b strings.Builder
		b.WriteString("project: p\nsteps:\n  a:\n    from: scratch\n    run:\n")
		for b.Len() < n {
			b.WriteString("      - echo 0123456789012345678901234567890123456789\n")
		}
		return []byte(b.String())
	}
	data := big(MaxSize + 1)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{
			name: "too-large",
			data: data,
			want: fmt.Sprintf("big.yaml:1:1: the spec is %d bytes, more than the limit of 1048576; keep the spec under 1024 KiB; split generated content into the build context", len(data)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.data, Options{File: "big.yaml", PlatformArgs: testPlatformArgs()})
			if s != nil || err == nil {
				t.Fatalf("Load succeeded")
			}
			checkErrorList(t, err)
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
		})
	}
	// Right under the limit is fine.
	if _, err := Load(big(MaxSize-100), Options{PlatformArgs: testPlatformArgs()}); err != nil {
		t.Errorf("a spec under MaxSize: %v", err)
	}
}
