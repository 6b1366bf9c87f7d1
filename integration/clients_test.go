package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// needCLI returns cmd/stowage, built once per test binary.
func needCLI(t *testing.T) string {
	t.Helper()
	bin, err := stowageCLI()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

var stowageCLI = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "stowage-cli")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stowage")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/stowage").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/stowage: %v\n%s", err, out)
	}
	return bin, nil
})

// TestStowageBuild: `stowage build` builds on buildkitd with the frontend
// in its own process, and with --frontend through the image, sharing the
// cache volume; build args, named contexts, secrets and outputs map as in
// buildx, and a failing step shows its YAML.
func TestStowageBuild(t *testing.T) {
	s := needStack(t)
	bin := needCLI(t)
	p := ownershipProject(t, s, `project: cli-ID
args: {WHO: nobody}
caches:
  c: {key: cli}
steps:
  greet:
    from: [[.Busybox]]
    mounts:
      - {cache: c, path: /c}
      - {type: secret, id: tok, env: TOKEN, required: true}
      - {type: bind, from: "context:assets", src: /, path: /assets}
    run: >-
      mkdir -p /out && echo "hello ${WHO}" > /out/greeting &&
      echo "$TOKEN" > /out/token-len && wc -c < /out/token-len > /out/token && rm /out/token-len &&
      cat /assets/a.txt > /out/asset &&
      echo "${WHO}" >> /c/seen && cat /c/seen > /out/seen
  out:
    from: scratch
    copy: [{from: greet, src: /out, dest: /}]
`, map[string]string{"assets/a.txt": "asset\n"})
	build := func(who string, extra ...string) (string, string, error) {
		out := t.TempDir()
		args := append([]string{"build", "--addr", s.addr, "--progress", "plain",
			"--build-arg", "WHO=" + who, "--build-context", "assets=" + filepath.Join(p.dir, "assets"),
			"--secret", "id=tok,env=STOWAGE_TEST_TOKEN", "-o", "type=local,dest=" + out}, extra...)
		cmd := exec.Command(bin, append(args, p.dir)...)
		cmd.Env = append(os.Environ(), "STOWAGE_TEST_TOKEN=s3cret")
		log, err := cmd.CombinedOutput()
		return out, string(log), err
	}
	out, log, err := build("cli")
	if err != nil {
		t.Fatalf("stowage build: %v\n%s", err, log)
	}
	assertFile(t, filepath.Join(out, "greeting"), "hello cli\n", log)
	assertFile(t, filepath.Join(out, "token"), "7\n", log) // "s3cret\n"
	assertFile(t, filepath.Join(out, "asset"), "asset\n", log)
	assertFile(t, filepath.Join(out, "seen"), "cli\n", log)
	if strings.Contains(log, "s3cret") {
		t.Errorf("the secret's value is in the build log:\n%s", log)
	}

	// The same volume, through the frontend image, as # syntax= would run it.
	out, log, err = build("image", "--frontend", s.frontend)
	if err != nil {
		t.Fatalf("stowage build --frontend: %v\n%s", err, log)
	}
	assertFile(t, filepath.Join(out, "seen"), "cli\nimage\n", log)
	if !strings.Contains(log, s.frontend) {
		t.Errorf("the log does not show the frontend image %s:\n%s", s.frontend, log)
	}

	// -t and --push as in buildx; --metadata-file names what was pushed.
	registry := os.Getenv("STOWAGE_REGISTRY")
	if registry == "" {
		t.Fatal("STOWAGE_REGISTRY is unset: eval \"$(hack/stack env)\"")
	}
	meta := filepath.Join(t.TempDir(), "metadata.json")
	tag := nonce()
	_, log, err = build("push", "-t", registry+"/stowage-test/cli:"+tag, "--push", "--metadata-file", meta)
	if err != nil {
		t.Fatalf("stowage build --push: %v\n%s", err, log)
	}
	var md struct {
		Digest string `json:"containerimage.digest"`
		Name   string `json:"image.name"`
	}
	mustJSON(t, []byte(readFile(t, meta)), &md)
	if md.Name != registry+"/stowage-test/cli:"+tag || !strings.HasPrefix(md.Digest, "sha256:") {
		t.Fatalf("metadata: name %q, digest %q\n%s", md.Name, md.Digest, readFile(t, meta))
	}
	for _, ref := range []string{tag, md.Digest} {
		assertManifest(t, registry, "stowage-test/cli", ref)
	}

	// A failing step: exit 1, the YAML lines, the command's error.
	writeFiles(t, p.dir, map[string]string{"stowage.yaml": "project: cli-fail\nsteps:\n  a:\n    from: " + s.busybox + "\n    run: exit 5\n"})
	_, log, err = build("x")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("a failing build: %v, want exit code 1\n%s", err, log)
	}
	for _, want := range []string{"stowage.yaml:5", ">>>     run: exit 5", "exit code: 5"} {
		if !strings.Contains(log, want) {
			t.Errorf("the output lacks %q:\n%s", want, log)
		}
	}
}

// TestStowageBuildCall: `stowage build --call` answers as buildx does, in
// process and through the frontend image; a check with findings exits 1.
func TestStowageBuildCall(t *testing.T) {
	s := needStack(t)
	bin := needCLI(t)
	p := newProject(t, s, `project: cli-call
caches:
  apt: {key: apt}
steps:
  a:
    description: the only step
    from: [[.Busybox]]
    mounts: [{cache: apt, path: /var/cache/apt}]
    run: ls
`, nil)
	call := func(args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"build", "--addr", s.addr, "--progress", "quiet"}, append(args, p.dir)...)...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("stowage %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	for _, via := range [][]string{nil, {"--frontend", s.frontend}} {
		out, code := call(append([]string{"--call", "targets"}, via...)...)
		if code != 0 || !strings.Contains(out, "a (default)") || !strings.Contains(out, "the only step") {
			t.Errorf("--call targets %v: exit %d\n%s", via, code, out)
		}
		out, code = call(append([]string{"--call", "check"}, via...)...)
		if code != 1 || !strings.Contains(out, "PackageManagerNotLocked") || !strings.Contains(out, "stowage.yaml:8") {
			t.Errorf("--call check %v: exit %d, want 1 and the warning at stowage.yaml:8\n%s", via, code, out)
		}
	}
}

// TestCLIFindsTheBuilder: with no --addr and no BUILDKIT_HOST, stowage build,
// stowage cache and stowage builder status find the stack's buildx builder
// by --builder and by $BUILDX_BUILDER in buildx's own store, and say which
// they used.
func TestCLIFindsTheBuilder(t *testing.T) {
	s := needStack(t)
	bin := needCLI(t)
	p := newProject(t, s, clientSpec, nil)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BUILDKIT_HOST=") && !strings.HasPrefix(kv, "BUILDX_BUILDER=") {
			env = append(env, kv)
		}
	}
	cli := func(extraEnv []string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = p.dir
		cmd.Env = append(append([]string(nil), env...), extraEnv...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := cli(nil, "builder", "status", "--builder", s.builder)
	if err != nil || !strings.Contains(out, s.addr) || !strings.Contains(out, "buildx builder "+s.builder) || !strings.Contains(out, "BuildKit: ") {
		t.Fatalf("builder status --builder %s: %v\n%s", s.builder, err, out)
	}
	for _, tc := range []struct {
		env  []string
		args []string
		why  string
	}{
		{nil, []string{"--builder", s.builder}, "from --builder"},
		{[]string{"BUILDX_BUILDER=" + s.builder}, nil, "from $BUILDX_BUILDER"},
	} {
		dest := t.TempDir()
		args := append([]string{"build", "--progress", "plain", "--build-arg", "WHO=discovery", "-o", "type=local,dest=" + dest}, tc.args...)
		out, err := cli(tc.env, append(args, ".")...)
		if err != nil {
			t.Fatalf("stowage build %v: %v\n%s", tc.args, err, out)
		}
		if want := "stowage: building on " + s.addr + " (buildx builder " + s.builder + ", " + tc.why + ")"; !strings.Contains(out, want) {
			t.Errorf("stowage build %v does not say %q:\n%s", tc.args, want, out)
		}
		assertFile(t, filepath.Join(dest, "greeting"), "hello discovery\n", out)
	}
	if out, err := cli(nil, "cache", "ls", "--builder", s.builder); err != nil || !strings.Contains(out, "c") {
		t.Errorf("stowage cache ls --builder: %v\n%s", err, out)
	}
	if out, err := cli(nil, "cache", "ls", "--builder", "no-such-builder"); err == nil || !strings.Contains(out, "no such buildx builder") {
		t.Errorf("stowage cache ls --builder no-such-builder: %v\n%s", err, out)
	}
}
