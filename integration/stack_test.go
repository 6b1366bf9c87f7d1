package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/progress/progressui"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/frontend"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// stack is the environment hack/stack prints.
type stack struct {
	addr     string // BUILDKIT_HOST
	frontend string // the frontend image, e.g. 127.0.0.1:5000/stowage:dev
	busybox  string
	golang   string
	node     string // node:20, made from the host's node
	python   string // python:3.11, made from Debian's python3.11
	debian   string // debian:bookworm, made by debootstrap
	rust     string // rust:1, Debian's cargo on that debian image
	buildctl string
	builder  string // docker buildx builder name
}

// needStack returns the stack or fails the test: a missing buildkitd,
// registry or runc is a broken test environment, not a reason to pass.
func needStack(t testing.TB) *stack {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("integration test: skipped in -short mode outside CI")
	}
	s := &stack{
		addr:     os.Getenv("BUILDKIT_HOST"),
		frontend: os.Getenv("STOWAGE_FRONTEND_IMAGE"),
		busybox:  os.Getenv("STOWAGE_BUSYBOX_IMAGE"),
		golang:   os.Getenv("STOWAGE_GOLANG_IMAGE"),
		node:     os.Getenv("STOWAGE_NODE_IMAGE"),
		python:   os.Getenv("STOWAGE_PYTHON_IMAGE"),
		debian:   os.Getenv("STOWAGE_DEBIAN_IMAGE"),
		rust:     os.Getenv("STOWAGE_RUST_IMAGE"),
		buildctl: os.Getenv("BUILDCTL"),
		builder:  os.Getenv("STOWAGE_BUILDX_BUILDER"),
	}
	var missing []string
	for name, v := range map[string]string{"BUILDKIT_HOST": s.addr, "STOWAGE_FRONTEND_IMAGE": s.frontend, "STOWAGE_BUSYBOX_IMAGE": s.busybox, "BUILDCTL": s.buildctl, "STOWAGE_BUILDX_BUILDER": s.builder} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("the BuildKit stack is not set up (%s unset): run `hack/stack up && eval \"$(hack/stack env)\"`, or hack/test, which does both", strings.Join(missing, ", "))
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Fatal("runc is not installed: hack/stack up installs it")
	}
	return s
}

// project is a build context made from a spec template and extra files.
type project struct {
	dir string
}

// newProject writes stowage.yaml from tmpl, executed with the stack (so
// {{.Busybox}} names the local busybox image), plus the given files.
func newProject(t *testing.T, s *stack, tmpl string, files map[string]string) *project {
	t.Helper()
	dir := t.TempDir()
	var b bytes.Buffer
	err := template.Must(template.New("spec").Delims("[[", "]]").Parse(tmpl)).Execute(&b, map[string]string{
		"Busybox": s.busybox, "Golang": s.golang, "Frontend": s.frontend,
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, mapsWith(files, "stowage.yaml", b.String()))
	return &project{dir: dir}
}

// writeFiles writes files (by slash-separated path) under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mapsWith(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for kk, vv := range m {
		out[kk] = vv
	}
	return out
}

// buildOpts are the inputs of one build.
type buildOpts struct {
	attrs  map[string]string // frontend attrs: build-arg:X, target, platform, cache-tenant…
	export client.ExportEntry
	// buildx builds through `docker buildx build` and the frontend image
	// (named by the BUILDKIT_SYNTAX build arg), as a user does, rather than
	// in this process; attrs become the flags a user would pass.
	buildx bool
}

// result is what a build left behind.
type result struct {
	out  string // the local export directory
	logs string // plain progress output
}

func (r *result) file(t *testing.T, name string) string {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join(r.out, name))
	if err != nil {
		t.Fatalf("%v\nbuild log:\n%s", err, r.logs)
	}
	return string(dt)
}

// build runs the frontend in this process against buildkitd (the gateway
// API over the session, as BuildKit's own frontend tests do), exporting the
// result to a local directory unless opts say otherwise.
func (s *stack) build(ctx context.Context, t *testing.T, p *project, opts buildOpts) (*result, error) {
	t.Helper()
	if opts.buildx {
		return s.buildxBuild(t, p, opts)
	}
	c, err := client.New(ctx, s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fs, err := fsutil.NewFS(p.dir)
	if err != nil {
		t.Fatal(err)
	}
	res := &result{out: t.TempDir()}
	attrs := map[string]string{}
	for k, v := range opts.attrs {
		attrs[k] = v
	}
	export := opts.export
	if export.Type == "" {
		export = client.ExportEntry{Type: client.ExporterLocal, OutputDir: res.out}
	}
	solveOpt := client.SolveOpt{
		Exports:       []client.ExportEntry{export},
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		FrontendAttrs: attrs,
	}
	res.logs, err = buildWithLogs(ctx, c, solveOpt, frontend.Build)
	return res, err
}

// buildWithLogs runs a frontend in this process on c and returns BuildKit's
// progress as plain text, for failure messages.
func buildWithLogs(ctx context.Context, c *client.Client, opt client.SolveOpt, build gateway.BuildFunc) (string, error) {
	ch := make(chan *client.SolveStatus)
	var logs bytes.Buffer
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		_, err := c.Build(ctx, opt, "stowage-integration", build, ch)
		return err
	})
	eg.Go(func() error {
		d, err := progressui.NewDisplay(&logs, progressui.PlainMode)
		if err != nil {
			return err
		}
		_, err = d.UpdateFrom(context.WithoutCancel(ctx), ch)
		return err
	})
	err := eg.Wait()
	return logs.String(), err
}

// mustBuild is build that fails the test on error, showing the log.
func (s *stack) mustBuild(ctx context.Context, t *testing.T, p *project, opts buildOpts) *result {
	t.Helper()
	res, err := s.build(ctx, t, p, opts)
	if err != nil {
		t.Fatalf("build failed: %v\nlog:\n%s", err, res.logs)
	}
	return res
}

// fileOutput makes an exporter write its tarball to path.
func fileOutput(path string) func(map[string]string) (io.WriteCloser, error) {
	return func(map[string]string) (io.WriteCloser, error) { return os.Create(path) }
}

// run executes a command with a deadline, returning its combined output.
func run(t *testing.T, dir string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ociImage reads the image config out of an OCI layout tarball.
func ociImage(t *testing.T, tarball string) dockerspec.DockerOCIImage {
	t.Helper()
	_, _, img := ociSingle(t, tarball)
	return img
}

// ociSingle reads the single image of an OCI layout (a tarball or a
// directory): its descriptor in index.json, its manifest and its config.
func ociSingle(t *testing.T, layout string) (ocispecs.Descriptor, ocispecs.Manifest, dockerspec.DockerOCIImage) {
	t.Helper()
	blobs := ociBlobs(t, layout)
	var idx ocispecs.Index
	mustJSON(t, blobs["index.json"], &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("index has %d manifests", len(idx.Manifests))
	}
	var mfst ocispecs.Manifest
	mustJSON(t, blobs[blobPath(idx.Manifests[0].Digest.String())], &mfst)
	var img dockerspec.DockerOCIImage
	mustJSON(t, blobs[blobPath(mfst.Config.Digest.String())], &img)
	return idx.Manifests[0], mfst, img
}

// ociBlobs reads every file of an OCI layout, a tarball or a directory, by
// its slash-separated path.
func ociBlobs(t *testing.T, layout string) map[string][]byte {
	t.Helper()
	st, err := os.Stat(layout)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsDir() {
		return readTar(t, layout)
	}
	out := map[string][]byte{}
	err = filepath.WalkDir(layout, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(layout, path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readTar reads every regular file of a tarball by name.
func readTar(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if out[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
}

func blobPath(dgst string) string {
	alg, hex, _ := strings.Cut(dgst, ":")
	return fmt.Sprintf("blobs/%s/%s", alg, hex)
}

func mustJSON(t *testing.T, dt []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(dt, v); err != nil {
		t.Fatalf("%v in %q", err, dt)
	}
}

// nonce makes a value no earlier build used, to bust a step's cache without
// --no-cache (which would also empty its cache mounts).
func nonce() string {
	return fmt.Sprintf("%d", time.Now().UnixNano())
}

// buildx runs `docker buildx build` on the stack's builder in dir, with
// plain progress, and returns its output; a failed build fails the test.
func (s *stack) buildx(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := append([]string{"buildx", "build", "--builder", s.builder, "--progress=plain"}, args...)
	log, err := run(t, dir, "docker", cmd...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(cmd, " "), err, log)
	}
	return log
}

// buildxBuild is build through `docker buildx build`. The cache options have
// no buildx flag and go as their build args, as a buildx user passes them.
func (s *stack) buildxBuild(t *testing.T, p *project, opts buildOpts) (*result, error) {
	t.Helper()
	if opts.export.Type != "" {
		t.Fatal("buildxBuild exports to a local directory only")
	}
	res := &result{out: t.TempDir()}
	args := []string{"buildx", "build", "--builder", s.builder, "--progress=plain", "-f", "stowage.yaml",
		"--build-arg", "BUILDKIT_SYNTAX=" + s.frontend, "--output", "type=local,dest=" + res.out}
	byOpt := map[string]string{"cache-tenant": "STOWAGE_CACHE_TENANT", "cache-namespace": "STOWAGE_CACHE_NAMESPACE", "cache-reset": "STOWAGE_CACHE_RESET", "cache-mode": "STOWAGE_CACHE_MODE", "cache-import": "STOWAGE_CACHE_IMPORT"}
	for _, k := range slices.Sorted(maps.Keys(opts.attrs)) {
		v := opts.attrs[k]
		switch {
		case strings.HasPrefix(k, "build-arg:"):
			args = append(args, "--build-arg", strings.TrimPrefix(k, "build-arg:")+"="+v)
		case byOpt[k] != "":
			args = append(args, "--build-arg", byOpt[k]+"="+v)
		case k == "no-cache" && v == "":
			args = append(args, "--no-cache")
		case k == "no-cache":
			args = append(args, "--no-cache-filter", v)
		case strings.HasPrefix(k, "context:"):
			args = append(args, "--build-context", strings.TrimPrefix(k, "context:")+"="+v)
		case k == "target" || k == "platform":
			args = append(args, "--"+k, v)
		default:
			t.Fatalf("no buildx flag for frontend attr %s", k)
		}
	}
	log, err := run(t, p.dir, "docker", append(args, ".")...)
	res.logs = log
	if err != nil {
		return res, fmt.Errorf("docker buildx build: %w\n%s", err, log)
	}
	return res, nil
}

// via builds in process or through buildx.
type via struct {
	s      *stack
	buildx bool
}

func (v via) build(ctx context.Context, t *testing.T, p *project, opts buildOpts) (*result, error) {
	t.Helper()
	opts.buildx = v.buildx
	return v.s.build(ctx, t, p, opts)
}

func (v via) mustBuild(ctx context.Context, t *testing.T, p *project, opts buildOpts) *result {
	t.Helper()
	opts.buildx = v.buildx
	return v.s.mustBuild(ctx, t, p, opts)
}

// viaBoth runs f once with builds in this process and once with builds
// through `docker buildx build` and the frontend image, as users run them.
func viaBoth(t *testing.T, s *stack, f func(t *testing.T, b via)) {
	t.Run("gateway", func(t *testing.T) { f(t, via{s: s}) })
	t.Run("buildx", func(t *testing.T) { f(t, via{s: s, buildx: true}) })
}
