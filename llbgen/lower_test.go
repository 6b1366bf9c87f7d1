package llbgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/containerd/platforms"
	"github.com/stowage-build/stowage/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/cacheid"
	"github.com/stowage-build/stowage/spec"
)

var amd64 = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// fakeResolver answers image config lookups with fixed configs, as the
// gateway would for images in a registry.
type fakeResolver map[string]dockerspec.DockerOCIImage

func (f fakeResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	img, ok := f[ref]
	if !ok {
		return "", "", nil, errors.New(ref + ": not found")
	}
	dt, err := json.Marshal(img)
	if err != nil {
		return "", "", nil, err
	}
	return ref, digest.FromBytes(dt), dt, nil
}

func testImages() fakeResolver {
	busybox := dockerspec.DockerOCIImage{}
	busybox.Platform = amd64
	busybox.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	busybox.Config.Cmd = []string{"sh"}
	golang := dockerspec.DockerOCIImage{}
	golang.Platform = amd64
	golang.Config.Env = []string{"PATH=/go/bin:/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GOPATH=/go", "GOLANG_VERSION=1.26.0"}
	golang.Config.WorkingDir = "/go"
	node := dockerspec.DockerOCIImage{}
	node.Platform = amd64
	node.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_VERSION=20.20.2"}
	node.Config.Cmd = []string{"node"}
	python := dockerspec.DockerOCIImage{}
	python.Platform = amd64
	python.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "PYTHON_VERSION=3.11.2"}
	python.Config.Cmd = []string{"python3"}
	debian := dockerspec.DockerOCIImage{}
	debian.Platform = amd64
	debian.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	debian.Config.Cmd = []string{"bash"}
	return fakeResolver{
		"docker.io/library/busybox:1.37":    busybox,
		"docker.io/library/golang:1.26":     golang,
		"docker.io/library/node:20":         node,
		"docker.io/library/python:3.11":     python,
		"docker.io/library/debian:bookworm": debian,
	}
}

// fakeTokens stands in for a build's key tokens with fixed values: a hash
// of the glob list, the digest of the image's name.
type fakeTokens struct{}

func (fakeTokens) HashFiles(_ context.Context, globs []string) (string, error) {
	return digest.FromString(strings.Join(globs, "\x00")).String(), nil
}

func (fakeTokens) ImageDigest(_ context.Context, ref string) (string, error) {
	return digest.FromString(ref).String(), nil
}

func testOptions() Options {
	return Options{
		VolumeOptions:  VolumeOptions{SessionID: "test-session"},
		TargetPlatform: &amd64,
		BuildPlatform:  &amd64,
		MetaResolver:   testImages(),
	}
}

func load(t testing.TB, file string) *spec.Spec {
	t.Helper()
	dt, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(dt, spec.Options{File: filepath.Base(file), PlatformArgs: spec.PlatformArgs(&amd64, &amd64)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loadYAML loads a spec written inline in a test, for linux/amd64.
func loadYAML(t testing.TB, dt []byte) *spec.Spec {
	t.Helper()
	s, err := spec.Load(dt, spec.Options{PlatformArgs: spec.PlatformArgs(&amd64, &amd64)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func marshal(t testing.TB, res *Result) *llb.Definition {
	t.Helper()
	def, err := res.State.Marshal(context.Background(), llb.LocalUniqueID("stowage-test"))
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// TestGolden lowers every spec under testdata/lower and examples/ and compares
// the LLB and image config with the golden files (-update rewrites them).
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/lower/*.yaml")
	examples, _ := filepath.Glob("../examples/*/stowage.yaml")
	if len(examples) == 0 {
		t.Fatal("no examples found")
	}
	files = append(files, examples...)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		if name == "stowage" {
			name = "example-" + filepath.Base(filepath.Dir(file))
		}
		t.Run(name, func(t *testing.T) {
			opts := testOptions()
			opts.Tokens = fakeTokens{}
			res, err := Lower(context.Background(), load(t, file), opts)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := json.MarshalIndent(res.Image, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got := dump(t, marshal(t, res)) + "\nimage config:\n" + string(cfg) + "\n"
			golden.Check(t, filepath.Join("testdata", "golden", name+".txt"), []byte(got))
		})
	}
}

// TestDeterministic lowers the same spec many times: the definitions must be
// byte-identical, or BuildKit would miss its cache on every build.
func TestDeterministic(t *testing.T) {
	for _, file := range []string{"testdata/lower/graph.yaml", "testdata/lower/mounts.yaml", "testdata/lower/volumes.yaml"} {
		var first []byte
		for i := range 30 {
			res, err := Lower(context.Background(), load(t, file), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			// The ops themselves: protobuf map fields (the metadata) have no
			// defined wire order, so they are compared through the dump.
			def := marshal(t, res)
			dt := append(bytes.Join(def.Def, nil), dump(t, def)...)
			if i == 0 {
				first = dt
			} else if !bytes.Equal(first, dt) {
				t.Fatalf("%s: lowering %d differs from the first", file, i)
			}
		}
	}
}

// TestOnlyTargetDependencies checks that steps the target does not need are
// not lowered, and that independent steps stay independent.
func TestOnlyTargetDependencies(t *testing.T) {
	s := load(t, "testdata/lower/graph.yaml")
	tests := []struct {
		target string
		want   []string
	}{
		{"", []string{"left", "right", "final", "image"}},
		{"right", []string{"right"}},
		{"unused", []string{"unused"}},
		{"final", []string{"left", "right", "final"}},
	}
	for _, tc := range tests {
		opt := testOptions()
		opt.Target = tc.target
		res, err := Lower(context.Background(), s, opt)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.Steps, ",") != strings.Join(tc.want, ",") {
			t.Errorf("target %q lowered %v, want %v", tc.target, res.Steps, tc.want)
		}
		names := vertexNames(t, marshal(t, res))
		if tc.target == "" && strings.Contains(names, "never built") {
			t.Errorf("the default target's graph has the unused step:\n%s", names)
		}
	}

	// left and right share only their base image: neither exec may be an
	// ancestor of the other, so BuildKit can run them at once.
	opt := testOptions()
	opt.Target = "final"
	res, err := Lower(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	g := graphOf(t, marshal(t, res))
	left, right := g.byName("[left 3/3] RUN echo left > out"), g.byName("[right 2/3] RUN echo right > /tmp/out")
	if g.reaches(left, right) || g.reaches(right, left) {
		t.Error("steps left and right depend on each other")
	}
}

func TestCacheMounts(t *testing.T) {
	s := load(t, "testdata/lower/volumes.yaml")
	id := func(in cacheid.Input) string {
		v, err := cacheid.ID(in)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		vo   VolumeOptions
		want map[string]string // mount path -> ID
	}{
		{
			name: "defaults",
			vo:   VolumeOptions{SessionID: "s1"},
			want: map[string]string{
				"/go/pkg/mod":           id(cacheid.Input{Scope: "global", Tokens: []string{"go-mod"}}),
				"/root/.cache/go-build": id(cacheid.Input{Scope: "project", Namespace: "volumes", Tokens: []string{"go-build", "1.26", "amd64"}}),
				"/race":                 id(cacheid.Input{Scope: "project", Namespace: "volumes", Tokens: []string{"go-build", "1.26", "amd64", "race"}}),
				"/d":                    id(cacheid.Input{Scope: "project", Namespace: "volumes", Tokens: []string{"defaultkey"}}),
				"/b":                    id(cacheid.Input{Scope: "project", Namespace: "volumes", Tokens: []string{"tools", "generation=2"}}),
				"/s":                    id(cacheid.Input{Scope: "session", Namespace: "s1", Tokens: []string{"tmp"}}),
			},
		},
		{
			name: "tenant and team namespace",
			vo:   VolumeOptions{SessionID: "s2", Tenant: "acme", Namespace: "team-go"},
			want: map[string]string{
				"/go/pkg/mod":           id(cacheid.Input{Tenant: "acme", Scope: "global", Tokens: []string{"go-mod"}}),
				"/root/.cache/go-build": id(cacheid.Input{Tenant: "acme", Scope: "project", Namespace: "team-go", Tokens: []string{"go-build", "1.26", "amd64"}}),
				"/s":                    id(cacheid.Input{Tenant: "acme", Scope: "session", Namespace: "s2", Tokens: []string{"tmp"}}),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := testOptions()
			opt.VolumeOptions = tc.vo
			res, err := Lower(context.Background(), s, opt)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]*pb.Mount{}
			for _, e := range execs(t, marshal(t, res)) {
				for _, m := range e.Mounts {
					if m.MountType == pb.MountType_CACHE {
						got[m.Dest] = m
					}
				}
			}
			for path, want := range tc.want {
				m, ok := got[path]
				if !ok {
					t.Errorf("no cache mount at %s", path)
					continue
				}
				if m.CacheOpt.ID != want {
					t.Errorf("%s: cache ID %s, want %s", path, m.CacheOpt.ID, want)
				}
				// A non-scratch source would make BuildKit key the cache by
				// id + source digest and split one volume into many.
				if m.Input != -1 {
					t.Errorf("%s: cache mount has input %d, want scratch", path, m.Input)
				}
			}
			if got["/root/.cache/go-build"].CacheOpt.Sharing != pb.CacheSharingOpt_LOCKED {
				t.Error("gobuild is not locked")
			}
		})
	}
}

func TestImageConfigInheritance(t *testing.T) {
	dt := []byte(`project: p
steps:
  build:
    from: golang:1.26
    env: {CGO_ENABLED: "0", GOPATH: /gopath}
    run: go version
  app:
    from: build
    entrypoint: [/app]
`)
	res := mustLower(t, loadYAML(t, dt), testOptions())
	cfg := res.Image.Config
	wantEnv := []string{"PATH=/go/bin:/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GOPATH=/gopath", "GOLANG_VERSION=1.26.0", "CGO_ENABLED=0"}
	if strings.Join(cfg.Env, " ") != strings.Join(wantEnv, " ") {
		t.Errorf("env = %q, want %q", cfg.Env, wantEnv)
	}
	if cfg.WorkingDir != "/go" {
		t.Errorf("workdir = %q, want the base image's /go", cfg.WorkingDir)
	}
	if strings.Join(cfg.Entrypoint, " ") != "/app" || cfg.Cmd != nil {
		t.Errorf("entrypoint %q cmd %q, want [/app] and no cmd", cfg.Entrypoint, cfg.Cmd)
	}
	if res.BaseImage == nil || res.BaseImage.Config.WorkingDir != "/go" {
		t.Errorf("base image config not reported: %+v", res.BaseImage)
	}
	run := execs(t, marshal(t, res))[0]
	if run.Meta.Cwd != "/go" || !strings.Contains(strings.Join(run.Meta.Env, " "), "GOPATH=/gopath") {
		t.Errorf("exec does not run with the inherited config: cwd %q env %q", run.Meta.Cwd, run.Meta.Env)
	}
}

// A step's shell persists, as Dockerfile's SHELL does: a step built on it
// runs its commands in it, and the image config records it. Stowage's own
// execs (a volume's setup) keep /bin/sh: the inherited shell may be
// another language's.
func TestShellInheritance(t *testing.T) {
	dt := []byte(`project: p
caches:
  c: {key: k, owner: "1000:1000"}
steps:
  base:
    from: golang:1.26
    shell: [/bin/ash, -eo, pipefail, -c]
    run: "true"
  app:
    from: base
    mounts:
      - {cache: c, path: /c}
    run: echo app
`)
	res := mustLower(t, loadYAML(t, dt), testOptions())
	if got := strings.Join(res.Image.Config.Shell, " "); got != "/bin/ash -eo pipefail -c" {
		t.Errorf("config shell = %q, want the base step's", got)
	}
	users, own := 0, 0
	for _, run := range execs(t, marshal(t, res)) {
		got := strings.Join(run.Meta.Args, " ")
		switch {
		case got == "/bin/ash -eo pipefail -c true" || got == "/bin/ash -eo pipefail -c echo app":
			users++
		case strings.HasPrefix(got, "/bin/sh -c "):
			own++
		default:
			t.Errorf("exec %q: a command not in the inherited shell, or Stowage's own exec not in /bin/sh", got)
		}
	}
	if users != 2 || own == 0 {
		t.Errorf("%d commands in the inherited shell and %d setup execs in /bin/sh, want 2 and some", users, own)
	}
}

// A step's arg wins over an env it inherits (the image's), as ARG does over
// the base image's ENV in a Dockerfile's RUN; its own env wins over it.
func TestArgOverInheritedEnv(t *testing.T) {
	dt := []byte(`project: p
steps:
  build:
    from: golang:1.26
    args: {GOLANG_VERSION: mine, GOPATH: arg}
    env: {GOPATH: /env}
    run: go version
`)
	run := execs(t, marshal(t, mustLower(t, loadYAML(t, dt), testOptions())))[0]
	env := strings.Join(run.Meta.Env, " ")
	if !strings.Contains(env, "GOLANG_VERSION=mine") || strings.Contains(env, "GOLANG_VERSION=1.26.0") {
		t.Errorf("env %q: the arg does not win over the image's GOLANG_VERSION", env)
	}
	if !strings.Contains(env, "GOPATH=/env") || strings.Contains(env, "GOPATH=arg") {
		t.Errorf("env %q: the step's own env does not win over its arg", env)
	}
}

// A copy from a step reads a relative src in the step's working directory
// (existing specs rely on it; convert writes COPY --from paths absolute);
// a pattern matching nothing copies nothing, as COPY.
func TestCopyFromStep(t *testing.T) {
	dt := []byte(`project: p
steps:
  build:
    from: golang:1.26
    workdir: /src
    run: mkdir -p /out && echo hi > /out/app
  app:
    from: scratch
    copy:
      - {from: build, src: out/app, dest: /app}
      - {from: build, src: "out/*.log", dest: /logs/}
`)
	res := mustLower(t, loadYAML(t, dt), testOptions())
	var srcs []string
	for _, dt := range marshal(t, res).Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		for _, a := range op.GetFile().GetActions() {
			if cp := a.GetCopy(); cp != nil {
				srcs = append(srcs, cp.Src)
				if !cp.AllowEmptyWildcard {
					t.Errorf("copy of %s fails on a pattern that matches nothing", cp.Src)
				}
			}
		}
	}
	if got := strings.Join(srcs, " "); got != "/src/out/app /src/out/*.log" {
		t.Errorf("copies read %q, want /src/out/app /src/out/*.log", got)
	}
}

func TestLowerErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		opt  func(*Options)
		want string
	}{
		{
			name: "unknown image",
			yaml: "project: p\nsteps:\n  a:\n    from: nosuch:1\n    run: true\n",
			want: "stowage.yaml:4:11: steps.a.from: docker.io/library/nosuch:1: not found; check the image name and tag",
		},
		{
			name: "unknown target",
			yaml: "project: p\nsteps:\n  a: {from: scratch}\n",
			opt:  func(o *Options) { o.Target = "b" },
			want: `target "b" is not a step of stowage.yaml; choose one of [a]`,
		},
		{
			name: "session volume without a session",
			yaml: "project: p\ncaches:\n  t: {scope: session}\nsteps:\n  a:\n    from: busybox:1.37\n    mounts: [{cache: t, path: /t}]\n    run: true\n",
			opt:  func(o *Options) { o.SessionID = "" },
			want: `stowage.yaml:7:22: steps.a.mounts[0].cache: volume "t" has scope: session`,
		},
		{
			name: "hash token without a resolver",
			yaml: "project: p\ncaches:\n  n: {key: [npm, {hash: [package-lock.json]}]}\nsteps:\n  a: {from: scratch}\n",
			want: "stowage.yaml:3:18: caches.n.key: this key token needs the build context",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := spec.Load([]byte(tc.yaml), spec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			opt := testOptions()
			if tc.opt != nil {
				tc.opt(&opt)
			}
			_, err = Lower(context.Background(), s, opt)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant prefix %s", err, tc.want)
			}
		})
	}
}

// FuzzLower checks that every spec Load accepts lowers and marshals without
// panicking.
func FuzzLower(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/lower/*.yaml")
	examples, _ := filepath.Glob("../examples/*/stowage.yaml")
	for _, file := range append(seeds, examples...) {
		dt, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(dt)
	}
	f.Fuzz(func(t *testing.T, dt []byte) {
		s, err := spec.Load(dt, spec.Options{PlatformArgs: spec.PlatformArgs(&amd64, &amd64)})
		if err != nil {
			return
		}
		res, err := Lower(context.Background(), s, testOptions())
		if err != nil {
			var el spec.ErrorList
			if !errors.As(err, &el) && !strings.Contains(err.Error(), "not found") {
				t.Fatalf("lowering failed without a positioned error: %v", err)
			}
			return
		}
		if _, err := res.State.Marshal(context.Background()); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

type graph struct {
	ops   map[digest.Digest]*pb.Op
	names map[string]digest.Digest
}

func graphOf(t *testing.T, def *llb.Definition) *graph {
	g := &graph{ops: map[digest.Digest]*pb.Op{}, names: map[string]digest.Digest{}}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		d := digest.FromBytes(dt)
		g.ops[d] = &op
		if n := def.Metadata[d].Description["llb.customname"]; n != "" {
			g.names[n] = d
		}
	}
	return g
}

func (g *graph) byName(name string) digest.Digest {
	d, ok := g.names[name]
	if !ok {
		panic("no vertex named " + name)
	}
	return d
}

// reaches reports whether from depends, directly or not, on to.
func (g *graph) reaches(from, to digest.Digest) bool {
	for _, in := range g.ops[from].Inputs {
		if d := digest.Digest(in.Digest); d == to || g.reaches(d, to) {
			return true
		}
	}
	return false
}

func execs(t *testing.T, def *llb.Definition) []*pb.ExecOp {
	var out []*pb.ExecOp
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if e := op.GetExec(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func vertexNames(t *testing.T, def *llb.Definition) string {
	var names []string
	for _, m := range def.Metadata {
		if n := m.Description["llb.customname"]; n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, "\n")
}

// TestNewKeyChangesExecCacheKey guards moby/moby#47693: BuildKit blanks cache
// IDs when it computes an exec's cache key, so two steps that differ only in
// the key of a volume they mount would share a cached result, and the step
// would never run against its new volume.
func TestNewKeyChangesExecCacheKey(t *testing.T) {
	execFor := func(key string) *pb.ExecOp {
		dt := []byte("project: p\ncaches:\n  c: {key: " + key + "}\nsteps:\n  a:\n    from: busybox:1.37\n    mounts: [{cache: c, path: /c}]\n    run: make\n")
		e := execs(t, marshal(t, mustLower(t, loadYAML(t, dt), testOptions())))[0]
		// What BuildKit's ExecOp.CacheMap clears before hashing.
		for _, m := range e.Mounts {
			if m.CacheOpt != nil {
				m.CacheOpt.ID = ""
				m.CacheOpt.Sharing = 0
			}
			m.Selector = ""
		}
		return e
	}
	a, b := execFor("v1"), execFor("v2")
	if a.EqualVT(b) {
		t.Fatal("execs mounting volumes with different keys have the same cache key")
	}
	if !strings.Contains(strings.Join(a.Meta.Env, " "), CacheIDsEnv+"=/c=stowage-") {
		t.Errorf("exec env %q lacks %s", a.Meta.Env, CacheIDsEnv)
	}
}

// TestNoCache: a --no-cache step's commands that mount volumes get a fresh
// env nonce instead of IgnoreCache, which would give them throwaway cache
// mounts (moby/buildkit#2447); other ops get IgnoreCache.
func TestNoCache(t *testing.T) {
	s := load(t, "testdata/lower/mounts.yaml")
	opt := testOptions()
	opt.NoCache = func(step string) bool { return step == "work" }
	def := marshal(t, mustLower(t, s, opt))
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		e := op.GetExec()
		if e == nil {
			continue
		}
		ignore := def.Metadata[digest.FromBytes(dt)].IgnoreCache
		env := strings.Join(e.Meta.Env, " ")
		switch e.Meta.Args[len(e.Meta.Args)-1] {
		case "ls /cache /tools": // step work, with cache mounts
			if ignore || !strings.Contains(env, NoCacheEnv+"=test-session") {
				t.Errorf("work: ignore-cache %v, env %q; want no ignore-cache and %s", ignore, env, NoCacheEnv)
			}
		case "mkdir -p /opt/tools": // step tools, not filtered
			if ignore || strings.Contains(env, NoCacheEnv) {
				t.Errorf("tools is not --no-cache, yet ignore-cache %v env %q", ignore, env)
			}
		}
	}
}

func mustLower(t testing.TB, s *spec.Spec, opt Options) *Result {
	t.Helper()
	res, err := Lower(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSetPlatform(t *testing.T) {
	for _, tc := range []struct{ base, target, want string }{
		{"linux/amd64", "linux/amd64/v2", "linux/amd64/v2"},
		{"linux/amd64/v3", "linux/amd64", "linux/amd64/v3"}, // same OS/arch, no variant asked: keep the base's
		{"linux/arm/v7", "linux/amd64", "linux/amd64"},
		{"linux/amd64", "linux/arm/v6", "linux/arm/v6"},
	} {
		img := emptyImage(platforms.MustParse(tc.base))
		setPlatform(&img, platforms.MustParse(tc.target))
		if got := platforms.FormatAll(img.Platform); got != tc.want {
			t.Errorf("base %s, target %s: image says %s, want %s", tc.base, tc.target, got, tc.want)
		}
	}
}

// TestNoCacheRefetches: under --no-cache a step's url: and git: copies
// fetch again and its content: file is made again, as its file ops are.
func TestNoCacheRefetches(t *testing.T) {
	s := load(t, "testdata/lower/stepopts.yaml")
	for _, noCache := range []bool{false, true} {
		opt := testOptions()
		opt.NoCache = func(step string) bool { return noCache && step == "files" }
		def := marshal(t, mustLower(t, s, opt))
		seen := map[string]bool{}
		for _, dt := range def.Def {
			var op pb.Op
			if err := op.UnmarshalVT(dt); err != nil {
				t.Fatal(err)
			}
			var kind string
			switch {
			case op.GetSource() != nil && strings.HasPrefix(op.GetSource().Identifier, "https://"):
				kind = "url"
			case op.GetSource() != nil && strings.HasPrefix(op.GetSource().Identifier, "git://"):
				kind = "git"
			case op.GetFile() != nil && op.GetFile().Actions[0].GetMkfile() != nil:
				kind = "content"
			default:
				continue
			}
			seen[kind] = true
			if got := def.Metadata[digest.FromBytes(dt)].IgnoreCache; got != noCache {
				t.Errorf("no-cache %v: the %s op has ignore-cache %v", noCache, kind, got)
			}
		}
		if len(seen) != 3 {
			t.Fatalf("found only %v of the url, git and content ops: the test proves nothing", seen)
		}
	}
}
