package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// initProject writes files to a new directory, runs `stowage init` there,
// and returns the directory.
func initProject(t *testing.T, files map[string]string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	writeFiles(t, dir, files)
	cmd := exec.Command(needCLI(t), append([]string{"init"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stowage init: %v\n%s", err, out)
	}
	return dir
}

// TestInitTemplatesBuild: what `stowage init` writes builds, through
// buildx and the frontend image, on the stack's own images, for each
// template the stack has an image for: Go (a binary on scratch, run), npm
// (a dependency from the npm registry), pip and apt. Rust, pnpm, yarn and
// uv lack a local image here; their templates are checked by lint and
// golden files in package scaffold.
func TestInitTemplatesBuild(t *testing.T) {
	s := needStack(t)
	for _, tc := range []struct {
		kind    string
		files   map[string]string
		command string // run in the built image
		want    string
	}{
		{"go", map[string]string{
			"go.mod":  "module example.com/greeter\n\ngo 1.26\n",
			"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from init\") }\n",
		}, "", ""},
		{"node", map[string]string{
			"package.json":      readFile(t, filepath.Join(repoRoot(t), "examples", "node", "package.json")),
			"package-lock.json": readFile(t, filepath.Join(repoRoot(t), "examples", "node", "package-lock.json")),
			"index.js":          readFile(t, filepath.Join(repoRoot(t), "examples", "node", "index.js")),
		}, "node index.js", "42: a number\n"},
		{"python", map[string]string{
			"requirements.txt": "# nothing from PyPI: the stack is offline\n",
			"app.py":           "print('hello from init')\n",
		}, "python app.py", "hello from init\n"},
		{"apt", map[string]string{
			"Dockerfile": "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*\n",
		}, "jq --version", "jq-"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			if tc.kind == "apt" && s.debian == "" || tc.kind == "go" && s.golang == "" || tc.kind == "node" && s.node == "" || tc.kind == "python" && s.python == "" {
				t.Fatal("the stack lacks the base image: hack/stack up builds it")
			}
			dir := initProject(t, tc.files)
			spec := readFile(t, filepath.Join(dir, "stowage.yaml"))
			if !strings.Contains(spec, "Written by `stowage init`") {
				t.Fatalf("init wrote:\n%s", spec)
			}
			layout, _ := s.buildExample(t, dir, "--build-arg", "STOWAGE_CACHE_NAMESPACE=init-"+nonce())
			if tc.kind == "go" {
				out := t.TempDir()
				s.buildx(t, dir, append(append([]string{"-f", "stowage.yaml", "--build-arg", "BUILDKIT_SYNTAX=" + s.frontend},
					s.exampleContexts()...), "--output", "type=local,dest="+out, dir)...)
				got, err := exec.Command(filepath.Join(out, "greeter")).CombinedOutput()
				if err != nil || string(got) != "hello from init\n" {
					t.Errorf("the built binary: %v, %q", err, got)
				}
				return
			}
			if got := s.runImage(t, layout, tc.command); !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s printed %q, want %q", tc.command, got, tc.want)
			}
		})
	}
}

// TestGoInstallInitBuild is the first run of a user with only buildkitd on
// PATH: no BUILDKIT_HOST, no buildx builder, no hack/. `stowage init &&
// stowage build .` starts stowage's own buildkitd (state under
// $XDG_DATA_HOME/stowage, socket under $XDG_RUNTIME_DIR), the second build
// after a source change reuses that daemon and the same Go build volume,
// `stowage builder status` names it, and `stowage builder stop` stops it.
func TestGoInstallInitBuild(t *testing.T) {
	s := needStack(t)
	if s.golang == "" {
		t.Fatal("STOWAGE_GOLANG_IMAGE is unset: hack/stack up builds it")
	}
	// The daemon's state is removed with it, snapshot mounts included.
	home := filepath.Dir(faultRoot(t))
	registry := os.Getenv("STOWAGE_REGISTRY")
	if registry == "" {
		t.Fatal("STOWAGE_REGISTRY is unset: hack/stack env sets it")
	}
	pathDir := filepath.Join(home, "bin")
	writeFiles(t, home, map[string]string{
		// The local registry speaks HTTP; a user's mirror is set the same way.
		"config/stowage/buildkitd.toml": "[registry.\"" + registry + "\"]\n  http = true\n[worker.oci]\n  networkMode = \"host\"\n",
	})
	if err := os.MkdirAll(pathDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(filepath.Dir(s.buildctl), "buildkitd"), filepath.Join(pathDir, "buildkitd")); err != nil {
		t.Fatal(err)
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatal("runc is not on PATH")
	}
	env := []string{
		"HOME=" + home, "PATH=" + pathDir + ":" + filepath.Dir(runc) + ":/usr/bin:/bin",
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_RUNTIME_DIR=" + filepath.Join(home, "run"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
	}
	cli := needCLI(t)
	stowage := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("stowage %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		cmd := exec.Command(cli, "builder", "stop")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stowage builder stop: %v\n%s", err, out)
		}
	})

	dir := filepath.Join(home, "greeter")
	writeFiles(t, dir, map[string]string{
		"go.mod":  "module example.com/greeter\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"one\") }\n",
	})
	stowage(dir, "init")
	status := stowage(dir, "builder", "status")
	if !strings.Contains(status, "to be started from PATH") || !strings.Contains(status, filepath.Join(pathDir, "buildkitd")) {
		t.Errorf("builder status before the first build:\n%s", status)
	}
	build := func() string {
		t.Helper()
		out := filepath.Join(home, "out")
		os.RemoveAll(out)
		return stowage(dir, "build", "--progress=plain", "--build-context", "golang:1.26=docker-image://"+s.golang, "-o", "type=local,dest="+out, ".")
	}
	first := build()
	if !strings.Contains(first, "stowage's own buildkitd, started now") {
		t.Errorf("the first build did not start stowage's own buildkitd:\n%s", first)
	}
	volumes := func() map[string]int {
		t.Helper()
		var recs []struct {
			Name    string
			Records []json.RawMessage
			Size    int64
		}
		mustJSON(t, []byte(stowage(dir, "cache", "ls", "--format", "json")), &recs)
		got := map[string]int{}
		for _, r := range recs {
			if r.Size > 0 {
				got[r.Name] = len(r.Records)
			}
		}
		return got
	}
	if got := volumes(); got["gobuild"] != 1 {
		t.Fatalf("after the first build the volumes are %v, want one gobuild record with data", got)
	}
	writeFiles(t, dir, map[string]string{"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"two\") }\n"})
	second := build()
	if !strings.Contains(second, "stowage's own buildkitd: pid ") || strings.Contains(second, "started now") {
		t.Errorf("the second build did not reuse the running daemon:\n%s", second)
	}
	if got := volumes(); got["gobuild"] != 1 {
		t.Errorf("after the second build the volumes are %v, want the same one gobuild record", got)
	}
	got, err := exec.Command(filepath.Join(home, "out", "greeter")).CombinedOutput()
	if err != nil || string(got) != "two\n" {
		t.Errorf("the second build's binary: %v, %q", err, got)
	}
	if out := stowage(dir, "builder", "stop"); !strings.Contains(out, "stopped buildkitd (pid ") {
		t.Errorf("builder stop said %q", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stowage(dir, "builder", "status"), "to be started") {
		if time.Now().After(deadline) {
			t.Fatal("after builder stop, status does not say the daemon is to be started")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
