package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The examples name public images (busybox:1.37, golang:1.26); the tests
// replace them with the stack's local images through named contexts, the
// way a user points a build at a mirror.
func (s *stack) exampleContexts() []string {
	return []string{
		"--build-context", "busybox:1.37=docker-image://" + s.busybox,
		"--build-context", "golang:1.26=docker-image://" + s.golang,
	}
}

// TestExampleHelloThroughBuildx is the README's demo: two builds through
// `docker buildx build -f examples/hello/stowage.yaml`, the second finding
// what the first left in the cache volume.
func TestExampleHelloThroughBuildx(t *testing.T) {
	s := needStack(t)
	dir := filepath.Join(repoRoot(t), "examples", "hello")
	id := nonce()
	var second string
	for _, runID := range []string{"one-" + id, "two-" + id} {
		args := append([]string{"buildx", "build", "--builder", s.builder, "--progress=plain",
			"-f", filepath.Join(dir, "stowage.yaml"), "--build-arg", "RUN=" + runID,
			"--build-arg", "BUILDKIT_SYNTAX=" + s.frontend}, s.exampleContexts()...)
		log, err := run(t, dir, "docker", append(args, dir)...)
		if err != nil {
			t.Fatalf("build %s: %v\n%s", runID, err, log)
		}
		second = log
	}
	for _, want := range []string{"build one-" + id + " was here", "build two-" + id + " was here"} {
		if !strings.Contains(second, want) {
			t.Errorf("the second build's output lacks %q:\n%s", want, second)
		}
	}
}

// TestExampleGo builds examples/go for real (module download through the
// proxy, compile with the module and build caches) and runs the binary.
func TestExampleGo(t *testing.T) {
	s := needStack(t)
	if s.golang == "" {
		t.Fatal("STOWAGE_GOLANG_IMAGE is unset: hack/stack up builds it")
	}
	dir := filepath.Join(repoRoot(t), "examples", "go")
	out := t.TempDir()
	args := []string{"--addr", s.addr, "build", "--frontend", "gateway.v0", "--opt", "source=" + s.frontend,
		"--opt", "context:golang:1.26=docker-image://" + s.golang,
		"--local", "context=" + dir, "--local", "dockerfile=" + dir,
		"--output", "type=local,dest=" + out}
	log, err := run(t, dir, s.buildctl, args...)
	if err != nil {
		t.Fatalf("buildctl: %v\n%s", err, log)
	}
	got, err := exec.Command(filepath.Join(out, "hello")).CombinedOutput()
	if err != nil {
		t.Fatalf("running the built binary: %v\n%s", err, got)
	}
	if !strings.HasPrefix(string(got), "hello from a Stowage-built image ") {
		t.Fatalf("the built binary printed %q", got)
	}
}
