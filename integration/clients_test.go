package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The spec these tests build through each client: it writes a file whose
// content proves the args and the cache volume reached the step.
const clientSpec = `# syntax=[[.Frontend]]
project: clients
args: {WHO: nobody}
caches:
  c: {key: clients}
steps:
  greet:
    from: [[.Busybox]]
    mounts: [{cache: c, path: /c}]
    run: mkdir -p /out && echo "hello ${WHO}" > /out/greeting && touch /c/seen
  out:
    from: scratch
    copy: [{from: greet, src: /out/greeting, dest: /greeting}]
`

func TestBuildctlGatewayFrontend(t *testing.T) {
	s := needStack(t)
	p := newProject(t, s, clientSpec, nil)
	out := t.TempDir()
	log, err := run(t, p.dir, s.buildctl, "--addr", s.addr, "build",
		"--frontend", "gateway.v0",
		"--opt", "source="+s.frontend,
		"--opt", "build-arg:WHO=buildctl",
		"--local", "context=.", "--local", "dockerfile=.",
		"--output", "type=local,dest="+out)
	if err != nil {
		t.Fatalf("buildctl: %v\n%s", err, log)
	}
	assertFile(t, filepath.Join(out, "greeting"), "hello buildctl\n", log)
}

func TestBuildxSyntaxLine(t *testing.T) {
	s := needStack(t)
	p := newProject(t, s, clientSpec, nil)
	out := t.TempDir()
	log, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=plain",
		"-f", "stowage.yaml", "--build-arg", "WHO=buildx",
		"--output", "type=local,dest="+out, ".")
	if err != nil {
		t.Fatalf("docker buildx build: %v\n%s", err, log)
	}
	assertFile(t, filepath.Join(out, "greeting"), "hello buildx\n", log)
	// buildx must have gone through our frontend, named on line 1.
	if !strings.Contains(log, "resolve image config for docker-image://"+s.frontend) && !strings.Contains(log, s.frontend) {
		t.Errorf("the build log does not mention the frontend image %s:\n%s", s.frontend, log)
	}
}

// TestBuildxSpecErrorShowsYAML checks what a buildx user sees for a typo:
// the file, line and column, and the YAML line itself.
func TestBuildxSpecErrorShowsYAML(t *testing.T) {
	s := needStack(t)
	p := newProject(t, s, `# syntax=[[.Frontend]]
project: typo
steps:
  a:
    from: [[.Busybox]]
    rnu: echo hi
`, nil)
	log, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=plain", "-f", "stowage.yaml", ".")
	if err == nil {
		t.Fatalf("buildx accepted a spec with a typo:\n%s", log)
	}
	for _, want := range []string{`stowage.yaml:6:5: steps.a.rnu: unknown field "rnu"`, `did you mean "run"?`, "rnu: echo hi"} {
		if !strings.Contains(log, want) {
			t.Errorf("buildx output lacks %q:\n%s", want, log)
		}
	}
}

func assertFile(t *testing.T, path, want, log string) {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log)
	}
	if string(dt) != want {
		t.Fatalf("%s = %q, want %q\nlog:\n%s", path, dt, want, log)
	}
}

// repoRoot is the repository, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
