package main

import (
	"cmp"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChooseBuilder: --addr, then --builder, then $BUILDKIT_HOST, then the
// current buildx builder (by $BUILDX_BUILDER or buildx's "current"), each
// driver's address, and an error that says what to do when there is none.
func TestChooseBuilder(t *testing.T) {
	store := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(store, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("instances/remote", `{"Name":"remote","Driver":"remote","Nodes":[{"Name":"remote0","Endpoint":"tcp://10.0.0.1:1234"}]}`)
	write("instances/dc", `{"Name":"dc","Driver":"docker-container","Nodes":[{"Name":"dc0","Endpoint":"unix:///var/run/docker.sock"}]}`)
	write("instances/k8s", `{"Name":"k8s","Driver":"kubernetes","Nodes":[{"Name":"k8s0"}]}`)
	t.Setenv("BUILDX_CONFIG", store)
	defer func(f func() []string) { defaultSocketPaths = f }(defaultSocketPaths)
	noSocket := filepath.Join(t.TempDir(), "buildkitd.sock")
	defaultSocketPaths = func() []string { return []string{noSocket} }
	// PATH and XDG dirs of the test's own: no buildkitd, then a fake one.
	empty, withBuildkitd, xdg := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(withBuildkitd, "buildkitd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_DATA_HOME", filepath.Join(xdg, "data"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(xdg, "run"))
	for _, tc := range []struct {
		name, addr, builder, host, buildxEnv, current string
		path                                          string
		want, why, err                                string
	}{
		{name: "addr wins", addr: "unix:///a.sock", builder: "remote", host: "tcp://h:1", want: "unix:///a.sock", why: "--addr"},
		{name: "builder beats env", builder: "remote", host: "tcp://h:1", want: "tcp://10.0.0.1:1234", why: "from --builder"},
		{name: "env", host: "tcp://h:1", buildxEnv: "remote", want: "tcp://h:1", why: "$BUILDKIT_HOST"},
		{name: "BUILDX_BUILDER", buildxEnv: "dc", want: "docker-container://buildx_buildkit_dc0", why: "$BUILDX_BUILDER"},
		{name: "buildx current", current: `{"Key":"x","Name":"remote","Global":false}`, want: "tcp://10.0.0.1:1234", why: "current builder"},
		{name: "kubernetes says what to pass", builder: "k8s", err: "kube-pod://"},
		{name: "unknown builder", builder: "nope", err: "no such buildx builder"},
		{name: "dockerd's default builder", builder: "default", err: "docker driver"},
		{name: "nothing at all", err: "put buildkitd on PATH"},
		{name: "buildkitd on PATH", path: withBuildkitd, want: "unix://" + filepath.Join(xdg, "run", "stowage", "buildkitd.sock"), why: "to be started from PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BUILDKIT_HOST", tc.host)
			t.Setenv("BUILDX_BUILDER", tc.buildxEnv)
			t.Setenv("PATH", cmp.Or(tc.path, empty))
			os.Remove(filepath.Join(store, "current"))
			if tc.current != "" {
				write("current", tc.current)
			}
			got, err := chooseBuilder(tc.addr, tc.builder)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got.addr != tc.want || !strings.Contains(got.why, tc.why) {
				t.Errorf("got %+v, %v; want %s (%s)", got, err, tc.want, tc.why)
			}
		})
	}
}
