package main

import (
	"os"
	"os/exec"
	"testing"
)

// TestCrossCompiles builds the CLI for every platform the release ships
// (.goreleaser.yaml): code that only compiles on Linux fails here, not in
// the release workflow.
func TestCrossCompiles(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, goarch := range []string{"amd64", "arm64"} {
			t.Run(goos+"/"+goarch, func(t *testing.T) {
				cmd := exec.Command("go", "build", "-trimpath", "-o", os.DevNull, ".")
				cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("GOOS=%s GOARCH=%s go build: %v\n%s", goos, goarch, err, out)
				}
			})
		}
	}
}
