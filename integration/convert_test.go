package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/moby/buildkit/client"
	dfbuilder "github.com/moby/buildkit/frontend/dockerfile/builder"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"

	"github.com/stowage-build/stowage/frontend"
	"github.com/stowage-build/stowage/lint"
	"github.com/stowage-build/stowage/spec"
)

// TestConvertEquivalence converts each Dockerfile of the corpus in
// testdata/convert (BuildKit's own frontend tests' Dockerfiles, see its
// README), builds the Dockerfile with BuildKit's Dockerfile frontend and
// the spec with Stowage's, and compares the two images: every file's path,
// type, mode, owner, size, link target and content digest, and the config
// fields a container runs with. Timestamps and history are not compared; a
// case's .accept lists the other differences it accepts, each a line
// "DIFF-PREFIX: why", and every one of them must still occur (a fixed
// difference is taken off the list, not left to hide another).
func TestConvertEquivalence(t *testing.T) {
	s := needStack(t)
	cases, err := os.ReadDir("testdata/convert")
	if err != nil {
		t.Fatal(err)
	}
	same, accepted, total := 0, 0, 0
	for _, e := range cases {
		if !e.IsDir() {
			continue
		}
		total++
		t.Run(e.Name(), func(t *testing.T) {
			src := filepath.Join("testdata/convert", e.Name())
			dir, specDir := convertCase(t, s, src)
			ctx := context.Background()
			df := s.imageOf(ctx, t, dir, dir, "Dockerfile", dfbuilder.Build)
			st := s.imageOf(ctx, t, dir, specDir, spec.DefaultFile, frontend.Build)
			diff, unused := acceptDiffs(t, src, compareImages(df, st))
			if len(diff) > 0 {
				spc, _ := os.ReadFile(filepath.Join(specDir, spec.DefaultFile))
				t.Fatalf("the images differ (Dockerfile, then Stowage):\n%s\nthe spec:\n%s", strings.Join(diff, "\n"), spc)
			}
			if len(unused) > 0 {
				t.Fatalf("accepted differences that no longer occur (take them off .accept): %q", unused)
			}
			if _, err := os.Stat(filepath.Join(src, ".accept")); err == nil {
				accepted++
			} else {
				same++
			}
		})
	}
	t.Logf("%d of %d Dockerfiles convert and build the same image, %d more but for accepted differences", same, total, accepted)
	if total == 0 {
		t.Fatal("no cases in testdata/convert")
	}
}

// acceptDiffs drops the differences the case's .accept lists and returns
// the rest, with the accepted prefixes that matched nothing.
func acceptDiffs(t *testing.T, src string, diff []string) (rest, unused []string) {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join(src, ".accept"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var prefixes []string
	for _, line := range strings.Split(string(dt), "\n") {
		if prefix, why, ok := strings.Cut(line, " # "); ok && strings.TrimSpace(why) != "" {
			prefixes = append(prefixes, strings.TrimSpace(prefix))
		} else if strings.TrimSpace(line) != "" {
			t.Fatalf("%s/.accept: %q: write DIFF-PREFIX # why", src, line)
		}
	}
	used := map[string]bool{}
	for _, d := range diff {
		i := slices.IndexFunc(prefixes, func(p string) bool { return strings.HasPrefix(d, p) })
		if i < 0 {
			rest = append(rest, d)
			continue
		}
		used[prefixes[i]] = true
	}
	for _, p := range prefixes {
		if !used[p] {
			unused = append(unused, p)
		}
	}
	return rest, unused
}

// convertCase copies a case into a build context, with the stack's images
// in its Dockerfile, and converts it into a directory of its own (so that
// a COPY of the whole context sees the same files in both builds); the
// spec must load and lint clean.
func convertCase(t *testing.T, s *stack, src string) (dir, specDir string) {
	t.Helper()
	dir, specDir = t.TempDir(), t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".source" || d.Name() == ".accept" {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		}
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if rel == "Dockerfile" {
			var b bytes.Buffer
			if err := template.Must(template.New("").Delims("[[", "]]").Parse(string(dt))).Execute(&b, map[string]string{"Busybox": s.busybox, "Golang": s.golang, "Debian": s.debian, "Python": s.python, "Node": s.node}); err != nil {
				return err
			}
			dt = b.Bytes()
		}
		return os.WriteFile(out, dt, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	// Through the CLI, as a user converts: it also carries the
	// Dockerfile's own .dockerignore over.
	file := filepath.Join(specDir, spec.DefaultFile)
	if out, err := exec.Command(needCLI(t), "convert", "-f", filepath.Join(dir, "Dockerfile"), "-o", file,
		"--project", "convert-"+filepath.Base(src), "--syntax", s.frontend).CombinedOutput(); err != nil {
		t.Fatalf("stowage convert: %v\n%s", err, out)
	}
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Load(y, spec.Options{})
	if err != nil {
		t.Fatalf("the converted spec does not load: %v\n%s", err, y)
	}
	for _, w := range lint.Check(sp) {
		t.Errorf("lint: %s", w.String(sp.File))
	}
	return dir, specDir
}

// imageOf builds file (in fileDir) on the context dir with a frontend run
// in this process and returns the OCI layout's image: its files and config.
func (s *stack) imageOf(ctx context.Context, t *testing.T, dir, fileDir, file string, build gateway.BuildFunc) *builtImage {
	t.Helper()
	c, err := client.New(ctx, s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lfs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ffs, err := fsutil.NewFS(fileDir)
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "image.tar")
	logs, err := buildWithLogs(ctx, c, client.SolveOpt{
		Exports:       []client.ExportEntry{{Type: client.ExporterOCI, Output: fileOutput(tarball)}},
		LocalMounts:   map[string]fsutil.FS{"context": lfs, "dockerfile": ffs},
		FrontendAttrs: map[string]string{"filename": file},
	}, build)
	if err != nil {
		t.Fatalf("building %s: %v\n%s", file, err, logs)
	}
	_, mfst, img := ociSingle(t, tarball)
	blobs := ociBlobs(t, tarball)
	files := map[string]fileEntry{}
	for _, l := range mfst.Layers {
		applyLayer(t, files, blobs[blobPath(l.Digest.String())])
	}
	return &builtImage{files: files, config: img}
}

type builtImage struct {
	files  map[string]fileEntry
	config dockerspec.DockerOCIImage
}

// fileEntry is what the comparison sees of a file: all but its times.
type fileEntry struct {
	Type     byte
	Mode     int64
	UID, GID int
	Size     int64
	Link     string
	Digest   string
}

// applyLayer applies a layer's changes, whiteouts included, to files.
func applyLayer(t *testing.T, files map[string]fileEntry, blob []byte) {
	t.Helper()
	var r io.Reader = bytes.NewReader(blob)
	if len(blob) > 2 && blob[0] == 0x1f && blob[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		name := path.Clean("/" + h.Name)
		dir, base := path.Split(name)
		if base == ".wh..wh..opq" {
			prefix := path.Clean(dir) + "/"
			for p := range files {
				if strings.HasPrefix(p, prefix) {
					delete(files, p)
				}
			}
			continue
		}
		if gone, ok := strings.CutPrefix(base, ".wh."); ok {
			gone = path.Join(dir, gone)
			delete(files, gone)
			for p := range files {
				if strings.HasPrefix(p, gone+"/") {
					delete(files, p)
				}
			}
			continue
		}
		e := fileEntry{Type: h.Typeflag, Mode: h.Mode & 0o7777, UID: h.Uid, GID: h.Gid, Link: h.Linkname}
		if h.Typeflag == tar.TypeReg {
			sum := sha256.New()
			n, err := io.Copy(sum, tr)
			if err != nil {
				t.Fatal(err)
			}
			e.Size, e.Digest = n, hex.EncodeToString(sum.Sum(nil))
		}
		files[name] = e
	}
}

// compareImages lists the differences between two images.
func compareImages(a, b *builtImage) []string {
	var out []string
	for _, p := range slices.Sorted(mapKeysOf(a.files, b.files)) {
		fa, oka := a.files[p]
		fb, okb := b.files[p]
		switch {
		case !okb:
			out = append(out, fmt.Sprintf("%s: only in the Dockerfile's image", p))
		case !oka:
			out = append(out, fmt.Sprintf("%s: only in Stowage's image", p))
		case fa != fb:
			out = append(out, fmt.Sprintf("%s: %+v vs %+v", p, fa, fb))
		}
	}
	ca, cb := a.config.Config, b.config.Config
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"Env", ca.Env, cb.Env},
		{"Entrypoint", ca.Entrypoint, cb.Entrypoint},
		{"Cmd", ca.Cmd, cb.Cmd},
		{"WorkingDir", ca.WorkingDir, cb.WorkingDir},
		{"User", ca.User, cb.User},
		{"ExposedPorts", ca.ExposedPorts, cb.ExposedPorts},
		{"Labels", ca.Labels, cb.Labels},
		{"Volumes", ca.Volumes, cb.Volumes},
		{"StopSignal", ca.StopSignal, cb.StopSignal},
		{"Healthcheck", ca.Healthcheck, cb.Healthcheck},
		{"Shell", ca.Shell, cb.Shell},
		{"OnBuild", ca.OnBuild, cb.OnBuild},
		{"Platform", a.config.Platform, b.config.Platform},
	} {
		if !reflect.DeepEqual(f.a, f.b) {
			out = append(out, fmt.Sprintf("config %s: %#v vs %#v", f.name, f.a, f.b))
		}
	}
	return out
}

func mapKeysOf(ms ...map[string]fileEntry) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}

// TestConvertCLIBuild is a user's path: `stowage convert` on a Go
// Dockerfile with cache mounts, then `docker buildx build -f stowage.yaml`
// through the frontend image, twice. The second build, after a source
// change, finds what the first left in the converted cache volume, and
// the binary runs.
func TestConvertCLIBuild(t *testing.T) {
	s := needStack(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"go.mod":  "module example.com/greeter\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from convert\") }\n",
		"Dockerfile": `FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod main.go ./
# The build cache, and a log of the builds that used the notes cache.
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,id=notes,target=/notes \
    CGO_ENABLED=0 go build -o /out/greeter . && \
    wc -c < main.go >> /notes/log && cp /notes/log /out/log

FROM scratch
COPY --from=build /out/ /
ENTRYPOINT ["/greeter"]
`,
	})
	cmd := exec.Command(needCLI(t), "convert", "--project", "convert-cli-"+nonce(), "--syntax", s.frontend)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stowage convert: %v\n%s", err, out)
	}
	build := func() string {
		out := t.TempDir()
		s.buildx(t, dir, append(append([]string{"-f", spec.DefaultFile}, s.exampleContexts()...), "--output", "type=local,dest="+out, dir)...)
		return out
	}
	first := build()
	writeFiles(t, dir, map[string]string{"main.go": "package main\n\nimport \"fmt\"\n\n// changed\nfunc main() { fmt.Println(\"hello from convert\") }\n"})
	second := build()
	if got := strings.Fields(readFile(t, filepath.Join(first, "log"))); len(got) != 1 {
		t.Errorf("first build's log = %q, want one line", got)
	}
	if got := strings.Fields(readFile(t, filepath.Join(second, "log"))); len(got) != 2 || got[0] == got[1] {
		t.Errorf("second build's log = %q, want the first build's line and its own: the converted volume was not reused", got)
	}
	if got, err := exec.Command(filepath.Join(second, "greeter")).CombinedOutput(); err != nil || string(got) != "hello from convert\n" {
		t.Errorf("the built binary: %v, %q", err, got)
	}
}
