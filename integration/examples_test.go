package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/stowage-build/stowage/cacheid"
	"github.com/stowage-build/stowage/ctxhash"
)

// The examples name public images (busybox:1.37, golang:1.26, node:20,
// python:3.11, debian:bookworm); the tests replace them with the stack's
// local images through named contexts, the way a user points a build at a
// mirror. A {digest: …} key token follows the replacement too.
func (s *stack) exampleContexts() []string {
	var out []string
	for _, c := range []struct{ name, ref string }{
		{"busybox:1.37", s.busybox},
		{"golang:1.26", s.golang},
		{"node:20", s.node},
		{"python:3.11", s.python},
		{"debian:bookworm", s.debian},
		{"debian:bookworm-slim", s.debian},
		{"rust:1", s.rust},
		{"rust:1-bookworm", s.rust},
	} {
		if c.ref != "" {
			out = append(out, "--build-context", c.name+"=docker-image://"+c.ref)
		}
	}
	return out
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

// copyExample copies examples/NAME into a temporary directory, for a test
// that edits its files.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot(t), "examples", name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// editFile rewrites a file of dir through edit, which must change it.
func editFile(t *testing.T, dir, name string, edit func(string) string) {
	t.Helper()
	path := filepath.Join(dir, name)
	before := readFile(t, path)
	after := edit(before)
	if after == before {
		t.Fatalf("the edit left %s unchanged", name)
	}
	writeFile(t, path, after)
}

// buildExample builds the example in dir through `docker buildx build`
// with the stack's images into an OCI layout, and returns the layout and
// the build's log.
func (s *stack) buildExample(t *testing.T, dir string, args ...string) (layout, log string) {
	t.Helper()
	layout = filepath.Join(t.TempDir(), "layout")
	all := append([]string{"-f", filepath.Join(dir, "stowage.yaml"), "--build-arg", "BUILDKIT_SYNTAX=" + s.frontend,
		"--output", "type=oci,tar=false,dest=" + layout}, s.exampleContexts()...)
	all = append(all, args...)
	return layout, s.buildx(t, dir, append(all, dir)...)
}

// exampleVolumeIDs asks `docker buildx build --call=outline` for the IDs of
// the volumes the example in dir would use, in the spec's order.
func (s *stack) exampleVolumeIDs(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	all := append([]string{"buildx", "build", "--builder", s.builder, "--progress=quiet", "--call", "outline,format=json",
		"-f", filepath.Join(dir, "stowage.yaml"), "--build-arg", "BUILDKIT_SYNTAX=" + s.frontend}, s.exampleContexts()...)
	all = append(all, args...)
	out, err := run(t, dir, "docker", append(all, dir)...)
	if err != nil {
		t.Fatalf("--call=outline: %v\n%s", err, out)
	}
	var o outline.Outline
	start := strings.Index(out, "{")
	if start < 0 {
		t.Fatalf("--call=outline printed no JSON:\n%s", out)
	}
	mustJSON(t, []byte(out[start:]), &o)
	var ids []string
	for _, c := range o.Cache {
		ids = append(ids, c.ID)
	}
	return ids
}

// runImage runs command in a step that starts from the image in an OCI
// layout (so in its workdir, with its env) and returns what it printed.
func (s *stack) runImage(t *testing.T, layout, command string) string {
	t.Helper()
	p := newProject(t, s, `# syntax=[[.Frontend]]
project: example-run
args: {COMMAND: ""}
steps:
  run:
    from: context:app
    run: mkdir -p /tmp/out && ${COMMAND} > /tmp/out/said
  out:
    from: scratch
    copy: [{from: run, src: /tmp/out, dest: /}]
`, nil)
	out := t.TempDir()
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--build-context", "app=oci-layout://"+layout,
		"--build-arg", "COMMAND="+command, "--output", "type=local,dest="+out, ".")
	return readFile(t, filepath.Join(out, "said"))
}

// TestExamplesCheck: every example passes the lint rules (`docker buildx
// build --call=check`, as `stowage lint`), with no warning.
func TestExamplesCheck(t *testing.T) {
	s := needStack(t)
	dirs, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "*", "stowage.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range dirs {
		dir := filepath.Dir(file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			args := append([]string{"buildx", "build", "--builder", s.builder, "--call", "check", "-f", file,
				"--build-arg", "BUILDKIT_SYNTAX=" + s.frontend}, s.exampleContexts()...)
			out, err := run(t, dir, "docker", append(args, dir)...)
			if err != nil || !strings.Contains(out, "Check complete, no warnings found") {
				t.Errorf("--call=check: %v\n%s", err, out)
			}
		})
	}
}

// npm's --loglevel=http lines for the example's one dependency: a download
// from the registry, or the cache answering.
const (
	npmDownload = "npm http fetch GET 200 https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz"
	npmCacheHit = "is-number-7.0.0.tgz"
)

// TestExampleNode builds examples/node: npm ci through the npm volume, keyed
// on package-lock.json. A change elsewhere, even to package.json (which
// re-runs npm ci), keeps the volume, and npm installs from it without a
// download; a changed lock file is a new volume, which npm fills again.
func TestExampleNode(t *testing.T) {
	s := needStack(t)
	if s.node == "" {
		t.Fatal("STOWAGE_NODE_IMAGE is unset: hack/stack up makes it from the host's node 20")
	}
	dir := copyExample(t, "node")
	// A namespace of this run's own: the first build finds an empty volume.
	namespace := "example-node-" + nonce()
	ns := []string{"--build-arg", "STOWAGE_CACHE_NAMESPACE=" + namespace}

	layout, log := s.buildExample(t, dir, ns...)
	if !strings.Contains(log, npmDownload) {
		t.Errorf("the first build did not download is-number from the registry:\n%s", log)
	}
	want := "42: a number\n4.2e1: a number\nforty-two: not a number\n"
	if got := s.runImage(t, layout, "node index.js"); got != want {
		t.Errorf("the program printed %q, want %q", got, want)
	}
	first := s.exampleVolumeIDs(t, dir, ns...)
	sum, err := ctxhash.Sum(ctxhash.DirFS(dir), []string{"package-lock.json"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := cacheid.ID(cacheid.Input{Scope: "project", Namespace: namespace, Tokens: []string{"npm", sum}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first, []string{id}) {
		t.Fatalf("volume IDs %q, want [%s] (key npm + the lock file's hash %s, as `stowage ids` computes it)", first, id, sum)
	}

	// Whitespace only, in package.json: npm ci runs again, on the same volume.
	editFile(t, dir, "package.json", func(s string) string { return strings.ReplaceAll(s, "\n  ", "\n    ") })
	_, log = s.buildExample(t, dir, ns...)
	if got := s.exampleVolumeIDs(t, dir, ns...); !slices.Equal(got, first) {
		t.Errorf("after a change to package.json the volume IDs are %q, want %q", got, first)
	}
	if !strings.Contains(log, "(cache hit)") || !strings.Contains(log, npmCacheHit) || strings.Contains(log, npmDownload) {
		t.Errorf("after a change to package.json npm did not install from the volume:\n%s", log)
	}

	// A new version in the lock file: a new, empty volume.
	for _, name := range []string{"package.json", "package-lock.json"} {
		editFile(t, dir, name, func(s string) string {
			return strings.ReplaceAll(s, `"version": "1.0.0"`, `"version": "1.0.1"`)
		})
	}
	if got := s.exampleVolumeIDs(t, dir, ns...); len(got) != 1 || got[0] == first[0] {
		t.Errorf("after a change to package-lock.json the volume IDs are %q, want a new one (was %q)", got, first)
	}
	if _, log = s.buildExample(t, dir, ns...); !strings.Contains(log, npmDownload) {
		t.Errorf("after a change to package-lock.json npm did not download again:\n%s", log)
	}
}

// TestExamplePython builds examples/python: pip builds a wheel of the
// local package's sdist into the pip volume, and when the install re-runs
// (a change to requirements.txt) it takes that wheel instead of building it.
func TestExamplePython(t *testing.T) {
	s := needStack(t)
	if s.python == "" {
		t.Fatal("STOWAGE_PYTHON_IMAGE is unset: hack/stack up makes it from Debian's python3.11")
	}
	dir := copyExample(t, "python")
	ns := []string{"--build-arg", "STOWAGE_CACHE_NAMESPACE=example-python-" + nonce()}

	layout, log := s.buildExample(t, dir, ns...)
	for _, want := range []string{"Building wheel for greet", "Stored in directory: /root/.cache/pip/wheels/"} {
		if !strings.Contains(log, want) {
			t.Errorf("the first build's log lacks %q:\n%s", want, log)
		}
	}
	if got, want := s.runImage(t, layout, "python app.py"), "hello, Stowage, from greet\n"; got != want {
		t.Errorf("the app printed %q, want %q", got, want)
	}

	editFile(t, dir, "requirements.txt", func(s string) string { return s + "# and nothing else\n" })
	_, log = s.buildExample(t, dir, ns...)
	if !strings.Contains(log, "Using cached greet-1.0-py3-none-any.whl") || strings.Contains(log, "Building wheel for greet") {
		t.Errorf("the second install did not take the wheel from the pip volume:\n%s", log)
	}
}

// TestExampleApt builds examples/apt twice on the local Debian image: the
// second build (its step re-run with --no-cache-filter, which keeps
// volumes) finds the lists and the .debs in the locked volumes and
// downloads no package.
func TestExampleApt(t *testing.T) {
	s := needStack(t)
	if s.debian == "" {
		t.Fatal("STOWAGE_DEBIAN_IMAGE is unset: hack/stack up makes it with debootstrap")
	}
	dir := filepath.Join(repoRoot(t), "examples", "apt")
	args := []string{"--build-arg", "STOWAGE_CACHE_NAMESPACE=example-apt-" + nonce()}

	layout, log := s.buildExample(t, dir, args...)
	if !strings.Contains(log, "Need to get ") || strings.Contains(log, "Need to get 0 B") {
		t.Errorf("the first build did not download jq:\n%s", log)
	}
	if got := s.runImage(t, layout, "jq --version"); !strings.HasPrefix(got, "jq-") {
		t.Errorf("jq --version printed %q", got)
	}
	_, log = s.buildExample(t, dir, append(args, "--no-cache-filter", "image")...)
	if !strings.Contains(log, "Need to get 0 B/") {
		t.Errorf("the second build downloaded packages again:\n%s", log)
	}
}
