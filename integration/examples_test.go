package integration

import (
	"os"
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

// TestExampleMultistage builds examples/multistage through buildx into an
// OCI layout, checks its config, then runs its entrypoint in a step that
// starts from that image (a named oci-layout:// context): it runs as the
// non-root user, and the build step, as that user, could write its fresh
// cache volume without a chown.
func TestExampleMultistage(t *testing.T) {
	s := needStack(t)
	dir := filepath.Join(repoRoot(t), "examples", "multistage")
	layout := filepath.Join(t.TempDir(), "layout")
	args := append([]string{"-f", filepath.Join(dir, "stowage.yaml"), "--build-arg", "BUILDKIT_SYNTAX=" + s.frontend,
		"--build-arg", "GREETING=hi", "--output", "type=oci,tar=false,dest=" + layout}, s.exampleContexts()...)
	s.buildx(t, dir, append(args, dir)...)

	_, _, img := ociSingle(t, layout)
	if c := img.Config; c.User != "app" || c.WorkingDir != "/home/app" || strings.Join(c.Entrypoint, " ") != "/usr/local/bin/greet" ||
		c.Labels["org.opencontainers.image.title"] != "greet" {
		t.Errorf("image config: user %q, workdir %q, entrypoint %q, labels %v", c.User, c.WorkingDir, c.Entrypoint, c.Labels)
	}

	p := newProject(t, s, `# syntax=[[.Frontend]]
project: multistage-run
steps:
  run:
    from: context:app
    run: mkdir -p /tmp/out && greet > /tmp/out/said
  out:
    from: scratch
    copy: [{from: run, src: /tmp/out, dest: /}]
`, nil)
	out := t.TempDir()
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--build-context", "app=oci-layout://"+layout,
		"--output", "type=local,dest="+out, ".")
	if got := strings.TrimSpace(readFile(t, filepath.Join(out, "said"))); got != "hi from app" {
		t.Errorf("the image's entrypoint said %q, want %q", got, "hi from app")
	}
}

// TestExampleBake: `docker buildx bake` with examples/multistage's
// docker-bake.hcl builds the spec through Stowage; a bake variable from the
// environment reaches the spec's args.
func TestExampleBake(t *testing.T) {
	s := needStack(t)
	dir := filepath.Join(repoRoot(t), "examples", "multistage")
	out := t.TempDir()
	cmd := exec.Command("docker", "buildx", "bake", "--builder", s.builder, "--progress=plain",
		"--set", "default.contexts.busybox:1.37=docker-image://"+s.busybox,
		"--set", "default.args.BUILDKIT_SYNTAX="+s.frontend,
		"--set", "default.output=type=local,dest="+out)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GREETING=bonjour")
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker buildx bake: %v\n%s", err, log)
	}
	if got := readFile(t, filepath.Join(out, "usr/local/bin/greet")); !strings.Contains(got, `echo "bonjour from $(id -un)"`) {
		t.Errorf("greet = %q, want the bake variable's greeting\n%s", got, log)
	}
}
