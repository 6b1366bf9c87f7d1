package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFrontendDockerfile builds the repository's Dockerfile in full (the
// multi-stage path a user without the stack takes), with its base image
// pointed at the stack's local golang image, and checks the image is a
// gateway frontend: entrypoint and the labels BuildKit reads.
func TestFrontendDockerfile(t *testing.T) {
	s := needStack(t)
	if s.golang == "" {
		t.Fatal("STOWAGE_GOLANG_IMAGE is unset: hack/stack up builds it")
	}
	root := repoRoot(t)
	goproxy, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "frontend.tar")
	log, err := run(t, root, s.buildctl, "--addr", s.addr, "build", "--frontend", "dockerfile.v0",
		"--local", "context=.", "--local", "dockerfile=.",
		"--opt", "build-arg:GO_IMAGE="+s.golang,
		"--opt", "build-arg:GOPROXY="+strings.TrimSpace(string(goproxy)),
		"--output", "type=oci,dest="+tarball)
	if err != nil {
		t.Fatalf("building the Dockerfile: %v\n%s", err, log)
	}
	img := ociImage(t, tarball)
	if got := strings.Join(img.Config.Entrypoint, " "); got != "/bin/stowage-frontend" {
		t.Errorf("entrypoint %q", got)
	}
	labels := img.Config.Labels
	if labels["moby.buildkit.frontend.network.none"] != "true" || !strings.Contains(labels["moby.buildkit.frontend.caps"], "moby.buildkit.frontend.contexts") {
		t.Errorf("frontend labels missing: %v", labels)
	}
}
