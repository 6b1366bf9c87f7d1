package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
)

func stowage(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeSpec(t *testing.T, body string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "stowage.yaml")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

const volumesSpec = `project: hello
args: {GO_VERSION: "1.26"}
caches:
  gobuild: {key: [go-build, "${GO_VERSION}"]}
  gomod: {key: go-mod, scope: global}
  tmp: {scope: session}
steps:
  build:
    from: busybox
    mounts:
      - {cache: gobuild, path: /a}
      - {cache: tmp, path: /t}
    run: ls /a /t
`

func TestIDs(t *testing.T) {
	file := writeSpec(t, volumesSpec)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{
			// The gobuild ID is the design document's example vector.
			name: "defaults",
			want: "gobuild\tstowage-fef1ad7b98cca55607ed3f7fd660f196\ngomod\tstowage-c565173ef30cec2e5eb82be83bcf94ac\ntmp\tsession\n",
		},
		{
			// Computed independently with Python's hashlib.
			name: "build arg changes the key",
			args: []string{"--build-arg", "GO_VERSION=1.25"},
			want: "gobuild\tstowage-b06ba9651dc283303622e29e2b61dfcf\n",
		},
		{
			name: "tenant separates global volumes",
			args: []string{"--opt", "cache-tenant=acme"},
			want: "gomod\tstowage-07b5e3e75db697d39c8f92cdf712aa95\n",
		},
		{
			// The frontend reads the same settings from build args.
			name: "tenant as a build arg",
			args: []string{"--build-arg", "STOWAGE_CACHE_TENANT=acme"},
			want: "gomod\tstowage-07b5e3e75db697d39c8f92cdf712aa95\n",
		},
		{
			name: "tenant as --opt build-arg:",
			args: []string{"--opt", "build-arg:STOWAGE_CACHE_TENANT=acme"},
			want: "gomod\tstowage-07b5e3e75db697d39c8f92cdf712aa95\n",
		},
		{
			name: "the option wins over the build arg",
			args: []string{"--opt", "cache-tenant=acme", "--build-arg", "STOWAGE_CACHE_TENANT=other"},
			want: "gomod\tstowage-07b5e3e75db697d39c8f92cdf712aa95\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := stowage(t, append([]string{"ids", "-f", file}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, line := range strings.SplitAfter(tc.want, "\n") {
				if !strings.Contains(out, line) {
					t.Errorf("output lacks %q:\n%s", line, out)
				}
			}
		})
	}
}

// A setting a build would refuse is refused before any ID is printed.
func TestIDsBadSetting(t *testing.T) {
	file := writeSpec(t, volumesSpec)
	for _, args := range [][]string{
		{"--opt", "cache-mode=sometimes"},
		{"--build-arg", "STOWAGE_CACHE_MODE=sometimes"},
		{"--opt", "cache-import=type=local"},
	} {
		code, out, errOut := stowage(t, append([]string{"ids", "-f", file}, args...)...)
		if code == 0 || out != "" || !strings.Contains(errOut, "cache-") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestIDsJSON(t *testing.T) {
	code, out, errOut := stowage(t, "ids", "-f", writeSpec(t, volumesSpec), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var vols []volumeJSON
	if err := json.Unmarshal([]byte(out), &vols); err != nil {
		t.Fatal(err)
	}
	if len(vols) != 3 || vols[0].Name != "gobuild" || strings.Join(vols[0].Key, ",") != "go-build,1.26" ||
		vols[0].Namespace != "hello" || strings.Join(vols[0].MountedBy, ",") != "build" || vols[0].Location.Line != 4 {
		t.Errorf("unexpected volumes: %s", out)
	}
	if len(vols[1].MountedBy) != 0 || vols[1].Scope != "global" {
		t.Errorf("gomod: %+v", vols[1])
	}
}

func TestLint(t *testing.T) {
	code, _, errOut := stowage(t, "lint", "-f", writeSpec(t, "project: p\nsteps:\n  a:\n    form: busybox\n"))
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{`stowage.yaml:4:5: steps.a.form: unknown field "form"`, `(did you mean "from"?)`, `stowage.yaml:3:3: steps.a.from: step "a" has no from`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	code, out, errOut := stowage(t, "lint", "-f", writeSpec(t, volumesSpec))
	if code != 1 || !strings.Contains(out, "stowage.yaml:5:3: warning: UnusedVolume: no step mounts volume \"gomod\"") {
		t.Errorf("spec with an unused volume: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	clean := "project: p\ncaches:\n  c: {key: c}\nsteps:\n  a:\n    from: busybox\n    mounts: [{cache: c, path: /c}]\n    run: true\n"
	if code, out, errOut := stowage(t, "lint", "-f", writeSpec(t, clean)); code != 0 || out != "" {
		t.Errorf("clean spec: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestLLB(t *testing.T) {
	code, out, errOut := stowage(t, "llb", "-f", writeSpec(t, volumesSpec), "--platform", "linux/arm64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	def, err := llb.ReadFrom(strings.NewReader(out))
	if err != nil {
		t.Fatalf("stdout is not an LLB definition: %v", err)
	}
	if len(def.Def) < 3 {
		t.Fatalf("definition has %d ops", len(def.Def))
	}
	if !strings.Contains(out, "arm64") {
		t.Error("the target platform is not in the definition")
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage:\n  stowage COMMAND\n"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"ids", "--build-arg", "novalue"}, 2, `"novalue" is not KEY=VALUE`},
		{[]string{"ids", "-f", "/nonexistent/stowage.yaml"}, 1, "no such file"},
		{[]string{"llb", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"init", "a", "b"}, 2, `unexpected argument "b"`},
	}
	for _, tc := range tests {
		code, _, errOut := stowage(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("stowage %v: exit %d, stderr %q; want exit %d with %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestVersion: `stowage version` and `--version` name the version and the
// BuildKit module the binary is built against, as the build info records
// them; --format=json gives the same fields.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errOut strings.Builder
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		if !strings.HasPrefix(out.String(), "stowage ") || !strings.Contains(out.String(), "BuildKit v0.") {
			t.Errorf("%v printed %q, want the version and BuildKit's", args, out.String())
		}
	}
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"version", "--format=json"}, &out, &errOut); code != 0 {
		t.Fatalf("version --format=json: exit %d: %s", code, errOut.String())
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out.String()), &v); err != nil || v.Version == "" || v.BuildKit == "" || v.Go == "" {
		t.Errorf("version --format=json printed %q (%v)", out.String(), err)
	}
	if code := run(context.Background(), []string{"version", "--bogus"}, &out, &errOut); code != 2 {
		t.Errorf("version --bogus: exit %d, want 2", code)
	}
}

// TestHelpAndCompletion: help is grouped as docker's is, the four shells
// get a completion script, and completion offers the spec's own names:
// volumes for cache commands, steps for --target.
func TestHelpAndCompletion(t *testing.T) {
	code, out, _ := stowage(t, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, want := range []string{"Building:", "Specs:", "Cache volumes:", "Builders:", "completion", "Options:"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := stowage(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "stowage") || len(out) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes: %s", shell, code, len(out), errOut)
		}
	}
	file := writeSpec(t, volumesSpec)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"cache", "prune", "-f", file, ""}, []string{"gobuild", "gomod", "tmp"}},
		{[]string{"cache", "export", "-f", file, "gomod", ""}, []string{"gobuild", "tmp"}},
		{[]string{"build", "-f", file, "--target", ""}, []string{"build"}},
		{[]string{"build", "--progress", ""}, []string{"auto", "plain", "tty", "quiet", "rawjson"}},
	} {
		code, out, errOut := stowage(t, append([]string{"__complete"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("__complete %v: exit %d: %s", tc.args, code, errOut)
		}
		var got []string
		for _, line := range strings.Split(out, "\n") {
			if line != "" && !strings.HasPrefix(line, ":") {
				got = append(got, strings.SplitN(line, "\t", 2)[0])
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("__complete %v = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestInit: init writes the spec of the project it finds, refuses to
// replace one without --force, and says what it needs when it finds none.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := stowage(t, "init", dir)
	if code != 0 || !strings.Contains(out, "for a go project, from go.mod") {
		t.Fatalf("init: exit %d: %s%s", code, out, errOut)
	}
	if code, _, _ := stowage(t, "lint", "-f", filepath.Join(dir, "stowage.yaml")); code != 0 {
		t.Errorf("lint of what init wrote: exit %d", code)
	}
	if code, _, errOut := stowage(t, "init", dir); code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("init over a spec: exit %d, %q; want 1 naming --force", code, errOut)
	}
	if code, out, _ := stowage(t, "init", "--force", "--syntax", "reg.example/stowage:1.2", "--print", dir); code != 0 || !strings.HasPrefix(out, "# syntax=reg.example/stowage:1.2\n") {
		t.Errorf("init --print --syntax: exit %d, %q", code, out)
	}
	if code, _, errOut := stowage(t, "init", t.TempDir()); code != 1 || !strings.Contains(errOut, "found nothing to build") {
		t.Errorf("init of an empty directory: exit %d, %q", code, errOut)
	}
	if code, _, _ := stowage(t, "init", "--kind", "cobol", dir); code != 2 {
		t.Errorf("init --kind cobol: exit %d, want 2", code)
	}
}

func TestConvertCmd(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(df, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("FROM busybox\nRUN --mount=type=cache,target=/root/.cache echo hi\n")
	code, out, errOut := stowage(t, "convert", "-f", df)
	if code != 0 || !strings.Contains(out, "wrote "+filepath.Join(dir, "stowage.yaml")) {
		t.Fatalf("convert: exit %d: %s%s", code, out, errOut)
	}
	if code, out, _ := stowage(t, "lint", "-f", filepath.Join(dir, "stowage.yaml")); code != 0 {
		t.Errorf("lint of what convert wrote: exit %d: %s", code, out)
	}
	if code, _, errOut := stowage(t, "convert", "-f", df); code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("convert over a spec: exit %d, %q; want 1 naming --force", code, errOut)
	}
	code, out, _ = stowage(t, "convert", "-f", df, "-o", "-", "--project", "demo", "--syntax", "reg.example/stowage:1")
	if code != 0 || !strings.HasPrefix(out, "# syntax=reg.example/stowage:1\n") || !strings.Contains(out, "project: demo\n") {
		t.Errorf("convert -o -: exit %d, %q", code, out)
	}

	write("FROM busybox\nONBUILD RUN make\nCOPY onlyone\n")
	if code, _, errOut := stowage(t, "convert", "-f", df, "-o", "-"); code != 1 || !strings.Contains(errOut, df+":3:1: COPY requires at least two arguments") {
		t.Errorf("convert of a Dockerfile BuildKit refuses: exit %d, %q; want 1 at line 3", code, errOut)
	}
	write("FROM busybox\nONBUILD RUN make\n")
	if code, _, errOut := stowage(t, "convert", "-f", df, "-o", "-"); code != 1 || !strings.Contains(errOut, df+":2:1: ONBUILD has no equivalent") {
		t.Errorf("convert of ONBUILD: exit %d, %q; want 1 at line 2", code, errOut)
	}
	if code, out, errOut := stowage(t, "convert", "-f", df, "-o", "-", "--best-effort"); code != 0 || !strings.Contains(out, "# TODO (Dockerfile:2): ONBUILD") || !strings.Contains(errOut, "1 instruction(s)") {
		t.Errorf("convert --best-effort: exit %d, %q %q", code, out, errOut)
	}
	todo := filepath.Join(t.TempDir(), "stowage.yaml")
	if code, _, errOut := stowage(t, "convert", "-f", df, "-o", todo, "--best-effort"); code != 0 || !strings.Contains(errOut, "1 instruction(s) with no equivalent: see the # TODO comments in the spec") {
		t.Errorf("convert --best-effort to a file: exit %d, %q; want the TODOs counted", code, errOut)
	}
	if code, _, errOut := stowage(t, "convert", "-f", filepath.Join(dir, "missing")); code != 1 || !strings.Contains(errOut, "missing") {
		t.Errorf("convert of a missing file: exit %d, %q", code, errOut)
	}
	if code, _, _ := stowage(t, "convert", "extra"); code != 2 {
		t.Errorf("convert with an argument: exit %d, want 2", code)
	}

	// The Dockerfile's own .dockerignore (BuildKit reads FILE.dockerignore
	// first) follows it to the spec.
	other := t.TempDir()
	df = filepath.Join(other, "app.Dockerfile")
	write("FROM busybox\nCOPY . /src\n")
	if err := os.WriteFile(df+".dockerignore", []byte("secrets/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(other, "app.yaml")
	if code, out, errOut := stowage(t, "convert", "-f", df, "-o", out2); code != 0 || !strings.Contains(out, "wrote "+out2+".dockerignore") {
		t.Fatalf("convert with a Dockerfile-specific .dockerignore: exit %d: %s%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(out2 + ".dockerignore"); string(got) != "secrets/\n" {
		t.Errorf("the spec's .dockerignore holds %q", got)
	}
}

// stowage convert -f - reads the Dockerfile from stdin, as docker build -f -.
func TestConvertStdin(t *testing.T) {
	var out, errOut bytes.Buffer
	cmd := newRootCmd(&out, &errOut)
	cmd.SetIn(strings.NewReader("FROM busybox\nRUN --mount=type=cache,target=/c true\nCOPY onlyone\n"))
	cmd.SetArgs([]string{"convert", "-f", "-", "-o", "-"})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "<stdin>:3:1: COPY requires") {
		t.Errorf("convert -f - of a bad Dockerfile: %v", err)
	}
	out.Reset()
	cmd = newRootCmd(&out, &errOut)
	cmd.SetIn(strings.NewReader("FROM busybox\nRUN --mount=type=cache,target=/c true\n"))
	cmd.SetArgs([]string{"convert", "-f", "-", "-o", "-"})
	if err := cmd.Execute(); err != nil || !strings.Contains(out.String(), "# Converted from <stdin>") || !strings.Contains(out.String(), "{cache: c, path: /c}") {
		t.Errorf("convert -f -: %v\n%s", err, out.String())
	}
}
