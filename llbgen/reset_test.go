package llbgen

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

const resetSpec = `project: reset
caches:
  deps: {key: deps, sharing: locked}
  alias: {key: deps, sharing: locked}
  build: {key: build}
  unused: {key: unused}
steps:
  base:
    from: busybox:1.37
    run: mkdir /opt/x
  fetch:
    from: base
    mounts: [{cache: deps, path: /deps}]
    run: touch /deps/a
  compile:
    from: fetch
    mounts:
      - {cache: alias, path: /deps}
      - {cache: build, path: /build}
    run: ls /deps /build
  other:
    from: busybox:1.37
    run: "true"
`

func TestParseSettings(t *testing.T) {
	for _, tc := range []struct {
		opts, args map[string]string
		want       Settings
		err        string
	}{
		{want: Settings{}},
		{opts: map[string]string{"cache-reset": "a, b,,a"}, want: Settings{Reset: []string{"a", "b"}}},
		{args: map[string]string{"STOWAGE_CACHE_RESET": "c"}, want: Settings{Reset: []string{"c"}}},
		{opts: map[string]string{"cache-reset": "a"}, args: map[string]string{"STOWAGE_CACHE_RESET": "c"}, want: Settings{Reset: []string{"a"}}},
		{opts: map[string]string{"cache-tenant": " t ", "cache-namespace": "n"}, args: map[string]string{"STOWAGE_CACHE_TENANT": "x"}, want: Settings{Tenant: "t", Namespace: "n"}},
		{args: map[string]string{"STOWAGE_CACHE_NAMESPACE": "n", "STOWAGE_CACHE_MODE": "readonly"}, want: Settings{Namespace: "n", ReadOnly: true}},
		{opts: map[string]string{"cache-mode": "readwrite"}, args: map[string]string{"STOWAGE_CACHE_MODE": "readonly"}, want: Settings{}},
		{args: map[string]string{"STOWAGE_CACHE_IMPORT": "type=registry,ref=r/c"}, want: Settings{CacheImport: "r/c"}},
		{opts: map[string]string{"cache-mode": "ro"}, err: `cache-mode "ro": write readonly`},
		{opts: map[string]string{"cache-import": "ref=r"}, err: `cache-import "ref=r": write type=registry,ref=REPOSITORY`},
		// A build arg by its name, never by BuildKit's "build-arg:" key.
		{opts: map[string]string{"build-arg:STOWAGE_CACHE_TENANT": "t"}, want: Settings{}},
	} {
		got, err := ParseSettings(tc.opts, tc.args)
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("ParseSettings(%v, %v): error %v, want %q…", tc.opts, tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || got.Tenant != tc.want.Tenant || got.Namespace != tc.want.Namespace || got.CacheImport != tc.want.CacheImport ||
			got.ReadOnly != tc.want.ReadOnly || !slices.Equal(got.Reset, tc.want.Reset) {
			t.Errorf("ParseSettings(%v, %v) = %+v, %v; want %+v", tc.opts, tc.args, got, err, tc.want)
		}
	}
}

// TestResets: one op per volume ID, on the filesystem of the first step that
// mounts it (never after an ancestor that mounts it), mounting the volume by
// ID with its sharing and a nonce; every command of a step that mounts a
// reset volume gets the nonce, others do not.
func TestResets(t *testing.T) {
	s := loadYAML(t, []byte(resetSpec))
	opt := testOptions()
	opt.Target = "compile"
	opt.Reset = []string{"alias", "deps"}
	resets, err := Resets(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(resets) != 1 || resets[0].Volume != "alias" {
		t.Fatalf("resets %+v, want one, for alias (deps has the same ID)", resets)
	}
	def, err := resets[0].State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := vertexNames(t, def)
	if !strings.Contains(got, "[fetch] empty cache volume deps (cache-reset)") {
		t.Errorf("the reset runs on fetch, the first step to mount deps; vertices:\n%s", got)
	}
	if strings.Contains(got, "touch /deps/a") {
		t.Errorf("the reset runs after a command that fills the volume:\n%s", got)
	}
	var reset *pb.ExecOp
	for _, e := range execs(t, def) {
		if strings.Contains(e.Meta.Args[len(e.Meta.Args)-1], "rm -rf") {
			reset = e
		}
	}
	if reset == nil {
		t.Fatal("no exec removes anything")
	}
	if reset.Meta.User != "0" || !slices.Contains(reset.Meta.Env, ResetEnv+"=test-session") {
		t.Errorf("reset runs as %q with env %q; want 0 and %s=test-session", reset.Meta.User, reset.Meta.Env, ResetEnv)
	}
	var m *pb.Mount
	for _, mm := range reset.Mounts {
		if mm.MountType == pb.MountType_CACHE {
			m = mm
		}
	}
	if m == nil || m.CacheOpt.ID != resets[0].ID || m.CacheOpt.Sharing != pb.CacheSharingOpt_LOCKED || m.Input != -1 {
		t.Errorf("reset cache mount %+v, want %s, locked, on scratch", m, resets[0].ID)
	}

	res := mustLower(t, s, opt)
	for _, e := range execs(t, marshal(t, res)) {
		cmd := e.Meta.Args[len(e.Meta.Args)-1]
		has := slices.Contains(e.Meta.Env, ResetEnv+"=test-session")
		if want := cmd != "mkdir /opt/x"; has != want {
			t.Errorf("%q: reset nonce %v, want %v", cmd, has, want)
		}
		if strings.Contains(cmd, "rm -rf") {
			t.Errorf("the build itself empties a volume: %q", cmd)
		}
	}
}

func TestResetsErrors(t *testing.T) {
	s := loadYAML(t, []byte(resetSpec))
	for _, tc := range []struct {
		target string
		reset  []string
		want   string
	}{
		{"compile", []string{"nope"}, `cache-reset "nope": stowage.yaml has no cache volume of that name; its volumes are deps, alias, build, unused`},
		{"compile", []string{"unused"}, `cache-reset "unused": no step that target "compile" builds mounts this volume`},
		{"other", []string{"deps"}, `cache-reset "deps": no step that target "other" builds mounts this volume`},
	} {
		opt := testOptions()
		opt.Target, opt.Reset = tc.target, tc.reset
		_, err := Resets(context.Background(), s, opt)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Resets(%s, %v): %v, want %s", tc.target, tc.reset, err, tc.want)
		}
	}
	if r, err := Resets(context.Background(), s, testOptions()); r != nil || err != nil {
		t.Errorf("no reset asked: %v, %v", r, err)
	}
}
