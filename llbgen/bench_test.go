package llbgen_test

// Lowering cost, side by side with BuildKit's Dockerfile frontend: the same
// pipeline of N steps as a stowage.yaml and as a Dockerfile, each taken from
// bytes to a marshalled LLB definition in this process. hack/bench runs
//
//	go test ./llbgen -run '^$' -bench '^BenchmarkLower$' -benchmem
//
// and writes the same pipelines to disk for its end-to-end builds with
// TestWriteBenchSpecs. Without -bench, only a 10-step check that both sides
// of the comparison still convert, alike, runs.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
)

var (
	benchSpecsDir = flag.String("benchspecs", "", "TestWriteBenchSpecs writes the benchmark pipelines under this `DIR`")
	benchSteps    = flag.String("benchsteps", "10,100,1000", "the step counts TestWriteBenchSpecs writes")
	benchImage    = flag.String("benchimage", benchBaseImage, "the base `IMAGE` of the pipelines TestWriteBenchSpecs writes")
)

// benchBaseImage is the image every step starts from in the benchmarks.
const benchBaseImage = "busybox:1.37"

// benchContextFiles is how many files the pipelines copy from the context.
const benchContextFiles = 10

var benchAmd64 = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// benchPipeline returns the same pipeline of n steps as a stowage.yaml and
// as a Dockerfile. Step i starts from image, sets a workdir, copies a file
// from the context and (after the first) a file from step i-1, so the last
// step, the default target, needs every other; it mounts two cache volumes
// and runs two commands. With fail, the first command of the first step
// fails: the build stops right after the frontend has handed over the graph.
func benchPipeline(n int, image string, fail bool) (yaml, dockerfile string) {
	var y, d strings.Builder
	y.WriteString("version: 1\nproject: bench\ncaches:\n")
	y.WriteString("  a: {key: bench-a}\n")
	y.WriteString("  b: {key: [bench-b, \"${TARGETARCH}\"]}\n")
	y.WriteString("steps:\n")
	mounts := "--mount=type=cache,id=bench-a,target=/cache/a --mount=type=cache,id=bench-b,target=/cache/b"
	for i := range n {
		name := fmt.Sprintf("s%04d", i)
		file := fmt.Sprintf("files/f%d.txt", i%benchContextFiles)
		first := fmt.Sprintf("mkdir -p /out && cp /work/f%d.txt /out/%s", i%benchContextFiles, name)
		if fail && i == 0 {
			first = "exit 1" // not `false`: YAML would read a boolean
		}
		second := "touch /cache/a/" + name + " /cache/b/" + name

		fmt.Fprintf(&y, "  %s:\n    from: %s\n    workdir: /work\n    copy:\n", name, image)
		fmt.Fprintf(&y, "      - {src: %s, dest: /work/}\n", file)
		fmt.Fprintf(&d, "FROM %s AS %s\nWORKDIR /work\nCOPY %s /work/\n", image, name, file)
		if i > 0 {
			prev := fmt.Sprintf("s%04d", i-1)
			fmt.Fprintf(&y, "      - {from: %s, src: /out/%s, dest: /work/in/}\n", prev, prev)
			fmt.Fprintf(&d, "COPY --from=%s /out/%s /work/in/\n", prev, prev)
		}
		y.WriteString("    mounts:\n      - {cache: a, path: /cache/a}\n      - {cache: b, path: /cache/b}\n")
		fmt.Fprintf(&y, "    run:\n      - %s\n      - %s\n", first, second)
		fmt.Fprintf(&d, "RUN %s %s\nRUN %s %s\n\n", mounts, first, mounts, second)
	}
	return y.String(), d.String()
}

// benchResolver answers every image config lookup with one config, already
// marshalled, so neither side pays for the stand-in registry.
type benchResolver []byte

func newBenchResolver(tb testing.TB) benchResolver {
	img := dockerspec.DockerOCIImage{}
	img.Platform = benchAmd64
	img.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img.Config.Cmd = []string{"sh"}
	dt, err := json.Marshal(img)
	if err != nil {
		tb.Fatal(err)
	}
	return dt
}

func (r benchResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromBytes(r), r, nil
}

// lowerStowage is what the frontend does with a spec before it solves:
// parse and validate, lower, marshal.
func lowerStowage(ctx context.Context, dt []byte, r llb.ImageMetaResolver) (*llb.Definition, error) {
	s, err := spec.Load(dt, spec.Options{File: spec.DefaultFile, PlatformArgs: spec.PlatformArgs(&benchAmd64, &benchAmd64)})
	if err != nil {
		return nil, err
	}
	res, err := llbgen.Lower(ctx, s, llbgen.Options{
		VolumeOptions:  llbgen.VolumeOptions{SessionID: "bench"},
		TargetPlatform: &benchAmd64,
		BuildPlatform:  &benchAmd64,
		MetaResolver:   r,
		SourceMap:      llb.NewSourceMap(nil, spec.DefaultFile, "YAML", dt),
	})
	if err != nil {
		return nil, err
	}
	return res.State.Marshal(ctx)
}

// lowerDockerfile is the Dockerfile frontend's counterpart: dockerfile2llb
// (parse, lint, convert), then marshal.
func lowerDockerfile(ctx context.Context, dt []byte, r llb.ImageMetaResolver) (*llb.Definition, error) {
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, dt, dockerfile2llb.ConvertOpt{
		Config:         dockerui.Config{BuildPlatforms: []ocispecs.Platform{benchAmd64}},
		TargetPlatform: &benchAmd64,
		MetaResolver:   r,
		SourceMap:      llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dt),
	})
	if err != nil {
		return nil, err
	}
	return res.State.Marshal(ctx)
}

// BenchmarkLower reports each side's cost per pipeline (ns/op, B/op,
// allocs/op) and per step (ns/step), for 10, 100 and 1,000 steps. The
// sub-benchmark names (steps=N/frontend=F) are benchstat's columns.
func BenchmarkLower(b *testing.B) {
	r := newBenchResolver(b)
	sides := []struct {
		name  string
		lower func(context.Context, []byte, llb.ImageMetaResolver) (*llb.Definition, error)
		pick  func(yaml, dockerfile string) string
	}{
		{"stowage", lowerStowage, func(y, _ string) string { return y }},
		{"dockerfile", lowerDockerfile, func(_, d string) string { return d }},
	}
	for _, n := range []int{10, 100, 1000} {
		y, d := benchPipeline(n, benchBaseImage, false)
		for _, side := range sides {
			dt := []byte(side.pick(y, d))
			b.Run(fmt.Sprintf("steps=%d/frontend=%s", n, side.name), func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := side.lower(ctx, dt, r); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/step")
			})
		}
	}
}

// TestBenchPipelineLowers keeps the benchmark honest when nothing runs it:
// both sides of a 10-step pipeline convert, to as many commands, cache
// mounts and file actions.
func TestBenchPipelineLowers(t *testing.T) {
	ctx := context.Background()
	r := newBenchResolver(t)
	y, d := benchPipeline(10, benchBaseImage, false)
	sd, err := lowerStowage(ctx, []byte(y), r)
	if err != nil {
		t.Fatalf("stowage: %v\n%s", err, y)
	}
	dd, err := lowerDockerfile(ctx, []byte(d), r)
	if err != nil {
		t.Fatalf("dockerfile: %v\n%s", err, d)
	}
	se, sc, sf := countOps(t, sd)
	de, dc, df := countOps(t, dd)
	if se != de || sc != dc || sf != df || se != 20 {
		t.Errorf("the pipelines differ: stowage has %d commands, %d cache mounts and %d file actions; the Dockerfile %d, %d and %d (want 20 commands)",
			se, sc, sf, de, dc, df)
	}
}

// countOps tallies a definition's exec ops, their cache mounts and its file
// actions (copies and the workdirs' mkdir).
func countOps(t *testing.T, def *llb.Definition) (execs, caches, files int) {
	t.Helper()
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		switch o := op.Op.(type) {
		case *pb.Op_Exec:
			execs++
			for _, m := range o.Exec.Mounts {
				if m.MountType == pb.MountType_CACHE {
					caches++
				}
			}
		case *pb.Op_File:
			files += len(o.File.Actions)
		}
	}
	return execs, caches, files
}

// TestWriteBenchSpecs writes, for hack/bench, DIR/N/{stowage.yaml,
// Dockerfile} (and stowage-fail.yaml, Dockerfile.fail, whose first command
// fails) with their context files, for each N of -benchsteps. Without
// -benchspecs it writes the 10-step set to a temporary directory, so a plain
// `go test` still proves that what hack/bench would build loads as a spec.
func TestWriteBenchSpecs(t *testing.T) {
	root, steps := *benchSpecsDir, *benchSteps
	if root == "" {
		root, steps = t.TempDir(), "10"
	}
	for _, f := range strings.Split(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("-benchsteps: %q is not a step count", f)
		}
		dir := filepath.Join(root, strconv.Itoa(n))
		if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
			t.Fatal(err)
		}
		y, d := benchPipeline(n, *benchImage, false)
		yf, df := benchPipeline(n, *benchImage, true)
		files := map[string]string{"stowage.yaml": y, "Dockerfile": d, "stowage-fail.yaml": yf, "Dockerfile.fail": df}
		for i := range benchContextFiles {
			files[fmt.Sprintf("files/f%d.txt", i)] = fmt.Sprintf("context file %d\n", i)
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Read back what the builds will read: both specs load, with n steps.
		for _, name := range []string{"stowage.yaml", "stowage-fail.yaml"} {
			dt, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			s, err := spec.Load(dt, spec.Options{File: name, PlatformArgs: spec.PlatformArgs(&benchAmd64, &benchAmd64)})
			if err != nil {
				t.Fatalf("%s/%s: %v", dir, name, err)
			}
			if len(s.Steps) != n {
				t.Errorf("%s/%s has %d steps, want %d", dir, name, len(s.Steps), n)
			}
		}
	}
}

// benchPlatforms are the four targets of BenchmarkLowerPlatforms.
var benchPlatforms = []ocispecs.Platform{
	{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"},
	{OS: "linux", Architecture: "arm", Variant: "v7"}, {OS: "linux", Architecture: "s390x"},
}

// lowerPlatforms lowers one spec for every platform as the frontend does:
// the YAML read once (spec.Parse), then loaded, lowered and marshalled per
// platform.
func lowerPlatforms(ctx context.Context, dt []byte, r llb.ImageMetaResolver) error {
	doc := spec.Parse(dt, spec.DefaultFile)
	for _, p := range benchPlatforms {
		s, err := doc.Load(spec.Options{PlatformArgs: spec.PlatformArgs(&benchAmd64, &p)})
		if err != nil {
			return err
		}
		res, err := llbgen.Lower(ctx, s, llbgen.Options{
			VolumeOptions: llbgen.VolumeOptions{SessionID: "bench"}, TargetPlatform: &p, BuildPlatform: &benchAmd64,
			MetaResolver: r, SourceMap: llb.NewSourceMap(nil, spec.DefaultFile, "YAML", dt),
		})
		if err != nil {
			return err
		}
		if _, err := res.State.Marshal(ctx); err != nil {
			return err
		}
	}
	return nil
}

// lowerPlatformsDockerfile is the Dockerfile frontend's multi-platform
// build: Dockerfile2LLB once per platform, as its Build does.
func lowerPlatformsDockerfile(ctx context.Context, dt []byte, r llb.ImageMetaResolver) error {
	for _, p := range benchPlatforms {
		res, err := dockerfile2llb.Dockerfile2LLB(ctx, dt, dockerfile2llb.ConvertOpt{
			Config:         dockerui.Config{BuildPlatforms: []ocispecs.Platform{benchAmd64}},
			TargetPlatform: &p,
			MetaResolver:   r,
			SourceMap:      llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dt),
		})
		if err != nil {
			return err
		}
		if _, err := res.State.Marshal(ctx); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkLowerPlatforms is a 100-step pipeline lowered for four
// platforms, each side as its frontend does it (hack/bench's 4-platform
// row).
func BenchmarkLowerPlatforms(b *testing.B) {
	r := newBenchResolver(b)
	y, d := benchPipeline(100, benchBaseImage, false)
	for _, side := range []struct {
		name  string
		lower func(context.Context, []byte, llb.ImageMetaResolver) error
		dt    string
	}{{"stowage", lowerPlatforms, y}, {"dockerfile", lowerPlatformsDockerfile, d}} {
		b.Run("platforms=4/frontend="+side.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := side.lower(ctx, []byte(side.dt), r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
