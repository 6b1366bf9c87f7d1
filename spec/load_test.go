package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/stowage-build/stowage/internal/golden"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// load loads a spec built on linux/amd64 for linux/arm64, failing the test
// on errors.
func load(t *testing.T, yaml string, args map[string]string) *Spec {
	t.Helper()
	s, err := Load([]byte(yaml), Options{BuildArgs: args, PlatformArgs: testPlatformArgs()})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func loadFile(t *testing.T, file string) *Spec {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return load(t, string(data), nil)
}

// values flattens literal tokens for comparisons, showing a hash token as
// hash:GLOBS and a digest token as digest:REF.
func values(tokens []Token) []string {
	out := make([]string, len(tokens))
	for i, tok := range tokens {
		out[i] = VisitToken[string](tok, shown{})
	}
	return out
}

type shown struct{}

func (shown) Literal(l LiteralToken) string { return l.Value }
func (shown) Hash(h HashToken) string       { return "hash:" + strings.Join(h.Globs, ",") }
func (shown) Digest(d DigestToken) string   { return "digest:" + d.Image }

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// TestValid loads every testdata/valid/CASE.yaml and compares the model with
// CASE.json (-update rewrites them), so a change of the model shows in review.
func TestValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in testdata/valid: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".json", dump(t, loadFile(t, file)))
		})
	}
}

// dump renders a model as JSON with each range shortened to "LINE:COL-LINE",
// so the golden stays readable.
func dump(t *testing.T, s *Spec) []byte {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var short func(v any) any
	short = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			if start, ok := v["start"].(map[string]any); ok && len(v) == 2 {
				end := v["end"].(map[string]any)
				return fmt.Sprintf("%v:%v-%v", start["line"], start["column"], end["line"])
			}
			for k, x := range v {
				v[k] = short(x)
			}
		case []any:
			for i, x := range v {
				v[i] = short(x)
			}
		}
		return v
	}
	out, err := json.MarshalIndent(short(v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// TestLoadFull checks the model of the example in pipeline-spec.md field by
// field: defaults, interpolation and inheritance are what users count on.
func TestLoadFull(t *testing.T) {
	s := loadFile(t, "testdata/valid/full.yaml")
	equal(t, "Project", s.Project, "hello-go")
	equal(t, "Version", s.Version, 1)
	equal(t, "Default", s.Default, "image")
	equal(t, "File", s.File, DefaultFile)
	equal(t, "args", len(s.Args), 1)
	equal(t, "GO_VERSION", *s.Args[0], Arg{Name: "GO_VERSION", Default: "1.26", Value: "1.26", Range: Range{Start: Pos{6, 3}, End: Pos{Line: 6}}})

	caches := []struct {
		name    string
		key     []string
		tokens  []string
		scope   Scope
		sharing Sharing
	}{
		{"gomod", []string{"go-mod"}, []string{"go-mod"}, ScopeGlobal, SharingShared},
		// ${TARGETARCH} is the target's, arm64, not the build platform's.
		{"gobuild", []string{"go-build", "1.26", "arm64"}, []string{"go-build", "1.26", "arm64"}, ScopeProject, SharingLocked},
		// A child: the parent's tokens, then its own, and the parent's scope;
		// sharing is its own (default shared).
		{"gobuild-race", []string{"race"}, []string{"go-build", "1.26", "arm64", "race"}, ScopeProject, SharingShared},
		{"npm", []string{"npm", "hash:package-lock.json"}, []string{"npm", "hash:package-lock.json"}, ScopeProject, SharingShared},
		{"apt", []string{"apt", "digest:debian:bookworm"}, []string{"apt", "digest:debian:bookworm"}, ScopeProject, SharingShared},
	}
	equal(t, "caches", len(s.Volumes), len(caches))
	for i, want := range caches {
		c := s.Volumes[i]
		equal(t, "cache name", c.Name, want.name)
		equal(t, want.name+" key", values(c.Key), want.key)
		equal(t, want.name+" tokens", values(c.Tokens), want.tokens)
		equal(t, want.name+" scope", c.Scope, want.scope)
		equal(t, want.name+" sharing", c.Sharing, want.sharing)
	}
	gobuild := s.Volume("gobuild")
	equal(t, "owner", gobuild.Owner, "1000:1000")
	if gobuild.Mode == nil || *gobuild.Mode != 0o755 {
		t.Errorf("mode = %v, want 0755", gobuild.Mode)
	}
	equal(t, "race from", s.Volume("gobuild-race").From, "gobuild")
	// The inherited tokens keep the parent's positions, for errors.
	equal(t, "inherited token range", s.Volume("gobuild-race").Tokens[2].Range.Start, Pos{13, 38})
	equal(t, "gomod mode", s.Volume("gomod").Mode, (*uint32)(nil))

	equal(t, "step names", names(s.Steps), []string{"build", "image", "warm", "tools"})
	build := s.Step("build")
	equal(t, "build from", build.From, Source{Kind: SourceImage, Ref: "docker.io/library/golang:1.26"})
	equal(t, "build from range", build.FromRange, Range{Start: Pos{27, 11}, End: Pos{Line: 27}})
	equal(t, "build range", build.Range, Range{Start: Pos{26, 3}, End: Pos{Line: 44}})
	equal(t, "platform", build.Platform, "linux/amd64")
	equal(t, "workdir", build.Workdir, "/src")
	equal(t, "env", build.Env, []KeyValue{{"CGO_ENABLED", "0"}})
	equal(t, "user", build.User, "0")
	copy0 := *build.Copy[0]
	equal(t, "copy[0].src range", copy0.FieldRange("src"), Range{Start: Pos{33, 15}, End: Pos{Line: 33}})
	copy0.ranges = nil
	equal(t, "copy[0]", copy0, Copy{From: Source{Kind: SourceContext}, Src: ".", Dest: "/src", Range: Range{Start: Pos{33, 9}, End: Pos{Line: 33}}})
	equal(t, "copy[1] from", build.Copy[1].From, Source{Kind: SourceContext, Ref: "assets"})
	equal(t, "run", []string{build.Run[0].Text, build.Run[1].Text}, []string{"go mod download", "go build -o /out/app ./cmd/app"})
	equal(t, "run[1] range", build.Run[1].Range, Range{Start: Pos{44, 9}, End: Pos{Line: 44}})

	type mount struct {
		Type     MountType
		Path     string
		Cache    string
		From     Source
		Src      string
		Readonly bool
		ID       string
	}
	var mounts []mount
	for _, m := range build.Mounts {
		mounts = append(mounts, mount{m.Type, m.Path, m.Volume, m.From, m.Src, m.Readonly, m.ID})
	}
	equal(t, "mounts", mounts, []mount{
		{Type: MountCache, Path: "/go/pkg/mod", Cache: "gomod"},
		{Type: MountCache, Path: "/root/.cache/go-build", Cache: "gobuild"},
		{Type: MountTmpfs, Path: "/tmp"},
		{Type: MountBind, Path: "/tools", From: Source{Kind: SourceStep, Ref: "tools"}, Src: "/bin", Readonly: true},
		{Type: MountSecret, Path: "/root/.netrc", ID: "netrc"},
		{Type: MountSSH, ID: "default"},
	})
	seed := build.Mounts[1].Seed
	equal(t, "seed", Seed{From: seed.From, Path: seed.Path}, Seed{From: Source{Kind: SourceStep, Ref: "warm"}, Path: "/cache"})
	equal(t, "seed range", seed.Range.Start, Pos{37, 63})
	equal(t, "mount cache range", build.Mounts[1].FieldRange("cache").Start, Pos{37, 17})
	equal(t, "mount unset field range", build.Mounts[1].FieldRange("size"), build.Mounts[1].Range)

	image := s.Step("image")
	equal(t, "image from", image.From, Source{Kind: SourceScratch})
	equal(t, "image copy from", image.Copy[0].From, Source{Kind: SourceStep, Ref: "build"})
	equal(t, "entrypoint", image.Entrypoint, []string{"/app"})
	equal(t, "cmd", image.Cmd, []string{"serve"})
	equal(t, "expose", image.Expose, []string{"8080/tcp"})
	equal(t, "labels", image.Labels, []KeyValue{{"org.opencontainers.image.source", "https://example.com/hello"}})
	equal(t, "image platform", image.Platform, "")

	equal(t, "deps build", Deps(build), []string{"warm", "tools"})
	equal(t, "deps image", Deps(image), []string{"build"})
	equal(t, "deps tools", Deps(s.Step("tools")), []string(nil))
	equal(t, "missing step", s.Step("nope"), (*Step)(nil))
	equal(t, "missing cache", s.Volume("nope"), (*Volume)(nil))
}

func names(steps []*Step) []string {
	var out []string
	for _, st := range steps {
		out = append(out, st.Name)
	}
	return out
}

// TestLoad covers the valid side rule by rule.
func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		args  map[string]string
		check func(t *testing.T, s *Spec)
	}{
		{
			name: "defaults",
			yaml: `
project: p
caches:
  gomod: {}
steps:
  a:
    from: busybox
    mounts:
      - {cache: gomod, path: /m}
      - {type: bind, path: /src}
      - {type: bind, path: /rw, readonly: false}
      - {type: secret, id: npmrc}
      - {type: secret, path: /root/.netrc}
      - {type: ssh}
  b: {from: a}
`,
			check: func(t *testing.T, s *Spec) {
				c := s.Volume("gomod")
				equal(t, "key", values(c.Key), []string{"gomod"})
				equal(t, "tokens", values(c.Tokens), []string{"gomod"})
				equal(t, "scope", c.Scope, ScopeProject)
				equal(t, "sharing", c.Sharing, SharingShared)
				equal(t, "version", s.Version, 1)
				// Like a Dockerfile's last stage.
				equal(t, "default", s.Default, "b")
				m := s.Step("a").Mounts
				equal(t, "cache readonly", m[0].Readonly, false)
				// Like RUN --mount=type=bind: read-only unless asked.
				equal(t, "bind readonly", m[1].Readonly, true)
				equal(t, "bind from", m[1].From, Source{Kind: SourceContext})
				equal(t, "bind readonly: false", m[2].Readonly, false)
				equal(t, "secret path", m[3].Path, "/run/secrets/npmrc")
				equal(t, "secret id from path", m[4].ID, ".netrc")
				equal(t, "ssh id", m[5].ID, "default")
				equal(t, "ssh path", m[5].Path, "")
			},
		},
		{
			name: "build-arg overrides",
			yaml: `
project: p
args:
  TAG: "1.36"
  BASE: busybox:${TAG}
  NOTE: {default: "x", description: shown by outline}
steps:
  a: {from: "${BASE}"}
`,
			args: map[string]string{"TAG": "1.37", "UNDECLARED": "ignored"},
			check: func(t *testing.T, s *Spec) {
				equal(t, "TAG", *s.Args[0], Arg{Name: "TAG", Default: "1.36", Value: "1.37", Range: s.Args[0].Range})
				// An arg sees the overridden value of the ones above it.
				equal(t, "BASE", [2]string{s.Args[1].Default, s.Args[1].Value}, [2]string{"busybox:1.37", "busybox:1.37"})
				equal(t, "NOTE", [3]string{s.Args[2].Default, s.Args[2].Value, s.Args[2].Description}, [3]string{"x", "x", "shown by outline"})
				equal(t, "from", s.Steps[0].From.Ref, "docker.io/library/busybox:1.37")
			},
		},
		{
			name: "args reference earlier args",
			yaml: `
project: p
args:
  A: x
  B: ${A}-y
  C: "${B}${A}"
  EMPTY:
steps:
  a: {from: scratch, env: {C: "${C}", E: "[${EMPTY}]"}}
`,
			check: func(t *testing.T, s *Spec) {
				equal(t, "env", s.Steps[0].Env, []KeyValue{{"C", "x-yx"}, {"E", "[]"}})
			},
		},
		{
			name: "platform args",
			yaml: `
project: p
caches:
  c: {key: ["${TARGETPLATFORM}", "${TARGETOS}", "${TARGETARCH}", "${TARGETVARIANT}x", "${BUILDPLATFORM}", "${BUILDOS}", "${BUILDARCH}", "${BUILDVARIANT}x"]}
steps:
  a: {from: scratch, platform: "${BUILDPLATFORM}"}
`,
			check: func(t *testing.T, s *Spec) {
				equal(t, "tokens", values(s.Volumes[0].Tokens), []string{"linux/arm64", "linux", "arm64", "x", "linux/amd64", "linux", "amd64", "x"})
				equal(t, "platform", s.Steps[0].Platform, "linux/amd64")
			},
		},
		{
			name: "escapes",
			yaml: `
project: p
args:
  V: "1"
steps:
  a:
    from: scratch
    run:
      - echo $${V} $$ $$$$ $HOME ${V} $V$ a$b
      - echo "$$(date)" trailing$
      - "$"
`,
			check: func(t *testing.T, s *Spec) {
				var got []string
				for _, c := range s.Steps[0].Run {
					got = append(got, c.Text)
				}
				equal(t, "run", got, []string{"echo ${V} $ $$ $HOME 1 $V$ a$b", `echo "$(date)" trailing$`, "$"})
			},
		},
		{
			name: "merge keys",
			yaml: `
project: p
x-base: &base
  from: busybox
  workdir: /base
  env: {A: "1"}
x-other: &other
  workdir: /other
  user: nobody
steps:
  a:
    <<: *base
    workdir: /mine
  b:
    workdir: /mine
    <<: [*other, *base]
`,
			check: func(t *testing.T, s *Spec) {
				a, b := s.Step("a"), s.Step("b")
				// Explicit keys win wherever the merge key stands.
				equal(t, "a workdir", a.Workdir, "/mine")
				equal(t, "a from", a.From.Ref, "docker.io/library/busybox:latest")
				equal(t, "a env", a.Env, []KeyValue{{"A", "1"}})
				equal(t, "b workdir", b.Workdir, "/mine")
				// In a list of merged mappings the first wins.
				equal(t, "b user", b.User, "nobody")
				equal(t, "b from", b.From.Ref, "docker.io/library/busybox:latest")
			},
		},
		{
			name: "anchors and aliases",
			yaml: `
project: p
x-mounts: &mounts
  - {type: tmpfs, path: /tmp}
x-name: &name build
steps:
  *name : {from: busybox, mounts: *mounts}
  b: {from: *name, mounts: *mounts}
`,
			check: func(t *testing.T, s *Spec) {
				equal(t, "steps", names(s.Steps), []string{"build", "b"})
				equal(t, "b from", s.Step("b").From, Source{Kind: SourceStep, Ref: "build"})
				equal(t, "b mounts", s.Step("b").Mounts[0].Path, "/tmp")
			},
		},
		{
			name: "scalars stay as written",
			yaml: `
project: 2024
args:
  GO: 1.10
  N: 010
caches:
  c: {key: [1.10, 0x1F, true, ~x], generation: 3}
steps:
  a: {from: "golang:${GO}", env: {V: 1.10, B: yes, N: "${N}"}, user: 1000}
`,
			check: func(t *testing.T, s *Spec) {
				equal(t, "project", s.Project, "2024")
				equal(t, "arg", s.Args[0].Value, "1.10")
				// The generation is the last token of the volume's key.
				equal(t, "tokens", values(s.Volumes[0].Tokens), []string{"1.10", "0x1F", "true", "~x", "generation=3"})
				equal(t, "from", s.Steps[0].From.Ref, "docker.io/library/golang:1.10")
				equal(t, "env", s.Steps[0].Env, []KeyValue{{"V", "1.10"}, {"B", "yes"}, {"N", "010"}})
				equal(t, "user", s.Steps[0].User, "1000")
			},
		},
		{
			name: "sources",
			yaml: `
project: p
steps:
  busybox: {from: scratch}
  s1: {from: busybox}
  s2: {from: context}
  s3: {from: "context:src"}
  s4: {from: alpine}
  s5: {from: ghcr.io/org/tool:v1}
  s6: {from: "alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000"}
  s7: {from: localhost:5000/img}
  s8:
    from: scratch
    copy:
      - {from: s4, src: /a, dest: /a}
      - {from: alpine:3, src: /b, dest: /b}
      - {from: context, src: /c, dest: /c}
      - {from: "context:docs", src: /d, dest: /d}
      - {src: /e, dest: /e}
`,
			check: func(t *testing.T, s *Spec) {
				var got []Source
				for _, st := range s.Steps {
					got = append(got, st.From)
				}
				equal(t, "froms", got, []Source{
					{Kind: SourceScratch},
					// A step name wins over the image of the same name.
					{Kind: SourceStep, Ref: "busybox"},
					{Kind: SourceContext},
					{Kind: SourceContext, Ref: "src"},
					{Kind: SourceImage, Ref: "docker.io/library/alpine:latest"},
					{Kind: SourceImage, Ref: "ghcr.io/org/tool:v1"},
					{Kind: SourceImage, Ref: "docker.io/library/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000"},
					{Kind: SourceImage, Ref: "localhost:5000/img:latest"},
					{Kind: SourceScratch},
				})
				got = nil
				for _, c := range s.Step("s8").Copy {
					got = append(got, c.From)
				}
				equal(t, "copy froms", got, []Source{
					{Kind: SourceStep, Ref: "s4"},
					{Kind: SourceImage, Ref: "docker.io/library/alpine:3"},
					{Kind: SourceContext},
					{Kind: SourceContext, Ref: "docs"},
					{Kind: SourceContext},
				})
			},
		},
		{
			name: "deps",
			yaml: `
project: p
caches:
  c: {}
steps:
  a: {from: scratch}
  b: {from: scratch}
  c: {from: busybox}
  d:
    from: c
    copy:
      - {from: a, src: /, dest: /}
      - {from: c, src: /, dest: /}
      - {from: alpine, src: /, dest: /}
    mounts:
      - {type: bind, from: b, path: /b}
      - {cache: c, path: /c, source: {step: a}}
      - {cache: c, path: /c2, source: {context: seed}}
`,
			check: func(t *testing.T, s *Spec) {
				// In field order, without repeats, images and contexts left out.
				equal(t, "deps", Deps(s.Step("d")), []string{"c", "a", "b"})
				seeds := s.Step("d").Mounts
				equal(t, "seed step", *seeds[1].Seed, Seed{From: Source{Kind: SourceStep, Ref: "a"}, Path: "/", Range: seeds[1].Seed.Range})
				equal(t, "seed context", *seeds[2].Seed, Seed{From: Source{Kind: SourceContext}, Path: "seed", Range: seeds[2].Seed.Range})
			},
		},
		{
			name: "seed from a named context",
			yaml: `
project: p
caches:
  c: {}
steps:
  a:
    from: busybox
    mounts:
      - {cache: c, path: /c, source: {context: warm, path: /cache}}
`,
			check: func(t *testing.T, s *Spec) {
				seed := s.Steps[0].Mounts[0].Seed
				equal(t, "seed", Seed{From: seed.From, Path: seed.Path}, Seed{From: Source{Kind: SourceContext, Ref: "warm"}, Path: "/cache"})
			},
		},
		{
			name: "extensions",
			yaml: `
project: p
x-top: {anything: [1, 2]}
args:
  A: {default: a, x-note: n}
caches:
  c: {x-owner-team: infra, key: [k, {hash: [go.sum], x-why: w}]}
steps:
  a:
    from: busybox
    x-step: 1
    copy:
      - {src: ., dest: /, x-copy: 1}
    mounts:
      - {cache: c, path: /c, x-mount: 1, source: {step: b, x-seed: 1}}
  b: {from: scratch}
default: a
`,
			check: func(t *testing.T, s *Spec) {
				equal(t, "tokens", values(s.Volumes[0].Tokens), []string{"k", "hash:go.sum"})
				equal(t, "default", s.Default, "a")
			},
		},
		{
			name: "cache chains",
			yaml: `
project: p
caches:
  grandchild: {from: child, key: [g], generation: 2}
  child: {from: root, key: c, sharing: private}
  root: {key: [r1, r2], scope: session, generation: 1}
  other: {from: root, scope: session}
steps:
  a: {from: scratch}
`,
			check: func(t *testing.T, s *Spec) {
				// File order does not matter: a child may come before its parent.
				equal(t, "grandchild", values(s.Volume("grandchild").Tokens), []string{"r1", "r2", "generation=1", "c", "g", "generation=2"})
				equal(t, "grandchild scope", s.Volume("grandchild").Scope, ScopeSession)
				equal(t, "grandchild sharing", s.Volume("grandchild").Sharing, SharingShared)
				equal(t, "child sharing", s.Volume("child").Sharing, SharingPrivate)
				// Repeating the parent's scope is allowed; the key defaults to
				// the name.
				equal(t, "other", values(s.Volume("other").Tokens), []string{"r1", "r2", "generation=1", "other"})
			},
		},
		{
			name: "block scalars",
			yaml: `
project: p
steps:
  a:
    from: busybox
    run:
      - |
        echo one
        echo two
      - echo three
`,
			check: func(t *testing.T, s *Spec) {
				run := s.Steps[0].Run
				equal(t, "text", run[0].Text, "echo one\necho two\n")
				// A failing command highlights all of its lines.
				equal(t, "range", run[0].Range, Range{Start: Pos{7, 9}, End: Pos{Line: 9}})
				equal(t, "step range", s.Steps[0].Range, Range{Start: Pos{4, 3}, End: Pos{Line: 10}})
			},
		},
		{
			name: "single strings and lists",
			yaml: `
project: p
caches:
  c: {key: [k, {hash: go.sum}]}
steps:
  a:
    from: busybox
    run: make
    shell: [/bin/bash, -ec]
    expose: "80"
    entrypoint: []
`,
			check: func(t *testing.T, s *Spec) {
				a := s.Steps[0]
				equal(t, "run", a.Run[0].Text, "make")
				equal(t, "shell", a.Shell, []string{"/bin/bash", "-ec"})
				equal(t, "expose", a.Expose, []string{"80"})
				// An empty entrypoint clears the base image's.
				equal(t, "entrypoint", a.Entrypoint, []string{})
				equal(t, "hash", values(s.Volumes[0].Key), []string{"k", "hash:go.sum"})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, load(t, tt.yaml, tt.args))
		})
	}
}

// TestLoadOptions covers the options' defaults.
func TestLoadOptions(t *testing.T) {
	data := []byte("project: p\ncaches:\n  c: {key: \"${TARGETPLATFORM}\"}\nsteps:\n  a: {from: scratch}\n")
	s, err := Load(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Nil platform args mean the host platform, for build and target alike.
	equal(t, "token", s.Volumes[0].Tokens[0].Value(), PlatformArgs(nil, nil)["TARGETPLATFORM"])
	equal(t, "file", s.File, DefaultFile)

	_, err = Load([]byte("project: p\nsteps:\n  a: {from: nope!}\n"), Options{File: "ci/stowage.yaml"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%v) found no *Error", err)
	}
	equal(t, "error file", e.File, "ci/stowage.yaml")
	equal(t, "error path", e.Path, "steps.a.from")
	equal(t, "error start", e.Start, Pos{3, 13})
}

// TestPlatformArgs pins the names and values BuildKit's Dockerfile frontend
// gives its automatic args.
func TestPlatformArgs(t *testing.T) {
	got := PlatformArgs(&ocispecs.Platform{OS: "linux", Architecture: "amd64"}, &ocispecs.Platform{OS: "linux", Architecture: "arm", Variant: "v7"})
	equal(t, "args", got, map[string]string{
		"BUILDPLATFORM":  "linux/amd64",
		"BUILDOS":        "linux",
		"BUILDARCH":      "amd64",
		"BUILDVARIANT":   "",
		"TARGETPLATFORM": "linux/arm/v7",
		"TARGETOS":       "linux",
		"TARGETARCH":     "arm",
		"TARGETVARIANT":  "v7",
	})
	// arm64 is normalised to its canonical variant-less form.
	equal(t, "arm64", PlatformArgs(nil, &ocispecs.Platform{OS: "linux", Architecture: "aarch64"})["TARGETPLATFORM"], "linux/arm64")
}

// TestDeterminism loads the same specs many times: a model that depends on
// map order would change cache IDs between builds.
func TestDeterminism(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, file := range files {
		first := loadFile(t, file)
		for range 50 {
			if s := loadFile(t, file); !reflect.DeepEqual(s, first) {
				t.Fatalf("%s: two loads differ", file)
			}
		}
	}
	// Errors too: several unknown fields at once, several cycles.
	data := []byte("project: p\ncaches:\n  a: {from: b}\n  b: {from: a}\n  c: {from: d}\n  d: {from: c}\nsteps:\n  s: {from: t, bogus: 1, other: 2}\n  t: {from: s, more: 3}\n")
	_, first := Load(data, Options{PlatformArgs: testPlatformArgs()})
	for range 50 {
		if _, err := Load(data, Options{PlatformArgs: testPlatformArgs()}); err.Error() != first.Error() {
			t.Fatalf("two loads give different errors:\n%v\n%v", err, first)
		}
	}
	if !slices.Contains(strings.Split(first.Error(), "\n"), "stowage.yaml:3:13: caches.a.from: cache volumes form a cycle: a -> b -> a; remove one of the from: fields") {
		t.Errorf("unexpected errors:\n%v", first)
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"72h": 72 * time.Hour, "30d": 30 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute,
		"0s": 0, "": 0, "d": 0, "-1h": 0, "3 days": 0, "1.5d": 0,
	} {
		got, ok := parseAge(in)
		if ok != (want > 0) || got != want && ok {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
}

// TestRestoreTokens: a restore key is built as the key is: the parents'
// tokens first, the generation last.
func TestRestoreTokens(t *testing.T) {
	s, err := Load([]byte(`project: p
caches:
  base: {key: [go, "1.26"]}
  build: {from: base, key: [build, {hash: [go.sum]}], restore: [build, [other, x]], generation: 2}
steps:
  s: {from: scratch}
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, k := range s.Volume("build").RestoreTokens {
		var tokens []string
		for _, tk := range k {
			tokens = append(tokens, tk.Value())
		}
		got = append(got, tokens)
	}
	want := [][]string{{"go", "1.26", "build", "generation=2"}, {"go", "1.26", "other", "x", "generation=2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("restore tokens %q, want %q", got, want)
	}
}
