package main

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// parseBuild parses build's flags as run does.
func parseBuild(t *testing.T, args ...string) *common {
	t.Helper()
	c := &common{fs: pflag.NewFlagSet("stowage build", pflag.ContinueOnError), stderr: io.Discard}
	c.fs.SetOutput(io.Discard)
	c.register("build")
	if err := c.fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBuildSolveOpt: build's flags become the frontend attrs, local
// mounts, exports and entitlements that buildx would send for the same
// command line.
func TestBuildSolveOpt(t *testing.T) {
	dir := t.TempDir()
	assets := filepath.Join(dir, "assets")
	for _, d := range []string{assets, filepath.Join(dir, "ci")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := parseBuild(t,
		"--target", "image", "--platform", "linux/amd64,linux/arm64",
		"--build-arg", "A=1", "--opt", "cache-tenant=acme", "--no-cache",
		"--build-context", "assets="+assets, "--build-context", "golang:1.26=docker-image://127.0.0.1:5000/golang:1.26",
		"-o", "type=local,dest="+filepath.Join(dir, "out"), "--allow", "network.host",
	)
	opt, err := c.build.solveOpt(c, dir, filepath.Join(dir, "ci", "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantAttrs := map[string]string{
		"filename": "pipeline.yaml", "target": "image", "platform": "linux/amd64,linux/arm64",
		"build-arg:A": "1", "cache-tenant": "acme", "no-cache": "",
		"context:assets": "local:assets", "context:golang:1.26": "docker-image://127.0.0.1:5000/golang:1.26",
	}
	if !reflect.DeepEqual(opt.FrontendAttrs, wantAttrs) {
		t.Errorf("attrs = %v\nwant %v", opt.FrontendAttrs, wantAttrs)
	}
	var locals []string
	for name := range opt.LocalMounts {
		locals = append(locals, name)
	}
	if strings.Join(slices.Sorted(slices.Values(locals)), " ") != "assets context dockerfile" {
		t.Errorf("local mounts = %v, want assets, context and dockerfile", locals)
	}
	if len(opt.Exports) != 1 || opt.Exports[0].Type != "local" || opt.Exports[0].OutputDir != filepath.Join(dir, "out") {
		t.Errorf("exports = %+v", opt.Exports)
	}
	if !reflect.DeepEqual(opt.AllowedEntitlements, []string{"network.host"}) {
		t.Errorf("entitlements = %v", opt.AllowedEntitlements)
	}
}

// TestBuildTags: -t and --push name and push an image output, as in buildx:
// their own when --output gave none, else the image --output's.
func TestBuildTags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want []string // type and attrs of each export
	}{
		{"tags and push", []string{"-t", "r/a:1", "--tag", "r/a:latest", "--push"}, []string{"image name=r/a:1,r/a:latest push=true"}},
		{"tag only", []string{"-t", "r/a:1"}, []string{"image name=r/a:1"}},
		{"tag names the image output", []string{"-o", "type=registry", "-t", "r/a:1"}, []string{"image name=r/a:1 push=true"}},
		{"registry output", []string{"-o", "type=registry,name=r/a:2"}, []string{"image name=r/a:2 push=true"}},
		// As release.yml pushes the channel tags.
		{"quoted names", []string{"-o", `type=image,"name=r/a:1.2.3,r/a:1.2,r/a:1",push=true,rewrite-timestamp=true`}, []string{"image name=r/a:1.2.3,r/a:1.2,r/a:1 push=true rewrite-timestamp=true"}},
		{"tag beside a local output", []string{"-o", "type=local,dest=" + dir, "-t", "r/a:1"}, []string{"local", "image name=r/a:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parseBuild(t, tc.args...)
			opt, err := c.build.solveOpt(c, dir, filepath.Join(dir, "stowage.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range opt.Exports {
				line := e.Type
				for _, k := range slices.Sorted(maps.Keys(e.Attrs)) {
					line += " " + k + "=" + e.Attrs[k]
				}
				got = append(got, line)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("exports = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBuildUsageErrors: a wrong command line exits 2 with what to write,
// before any daemon is asked.
func TestBuildUsageErrors(t *testing.T) {
	file := writeSpec(t, "project: p\nsteps: {a: {from: scratch}}\n")
	dir := filepath.Dir(file)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--progress", "fancy", dir}, `--progress "fancy": write auto, plain, tty, quiet or rawjson`},
		{[]string{"--allow", "root", dir}, `--allow "root": write network.host or security.insecure`},
		{[]string{"--build-context", "nope", dir}, `--build-context "nope": write NAME=DIR or NAME=docker-image://REF`},
		{[]string{"--build-context", "l=oci-layout:///x", dir}, "oci-layout:// needs the layout's content store"},
		{[]string{"-o", "type", dir}, "--output: "},
		{[]string{dir, dir}, "one build context, not 2"},
		{[]string{"--push", dir}, "--push: name the image with -t REF"},
		{[]string{"--attest", "type=vex", dir}, `--attest "type=vex": write type=sbom or type=provenance`},
		{[]string{"--sbom", "yes", dir}, `--sbom "yes": write true, false or KEY=VALUE fields`},
		{[]string{"-o", "type=image,name=x", "-t", "y", dir}, "the image --output already has name=x"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			code, _, stderr := stowage(t, append([]string{"build", "--addr", "unix:///nonexistent.sock"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
	code, _, stderr := stowage(t, "build", "--addr", "unix:///nonexistent.sock", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "no spec at ") {
		t.Errorf("without a spec: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = stowage(t, "build", "--addr", "unix:///nonexistent.sock", dir)
	if code != 1 || !strings.Contains(stderr, "cannot reach buildkitd at unix:///nonexistent.sock") {
		t.Errorf("without buildkitd: exit %d, stderr %q", code, stderr)
	}
}

func TestParseCall(t *testing.T) {
	for _, tc := range []struct {
		in, name, format, err string
	}{
		{in: "build", name: "build", format: "text"},
		{in: "targets", name: "targets", format: "text"},
		{in: "outline,format=json", name: "outline", format: "json"},
		{in: "check", name: "lint", format: "text"},
		{in: "check,format=json", name: "lint", format: "json"},
		{in: "lint", name: "lint", format: "text"},
		{in: "outline,format=yaml", err: `--call "outline,format=yaml": write NAME or NAME,format=json`},
		{in: "subrequests.describe", err: `--call "subrequests.describe": write build, outline, targets or check`},
	} {
		name, format, err := parseCall(tc.in)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err || !isUsage(err) {
				t.Errorf("parseCall(%q) = %v, want the usage error %q", tc.in, err, tc.err)
			}
		case err != nil || name != tc.name || format != tc.format:
			t.Errorf("parseCall(%q) = %q, %q, %v; want %q, %q", tc.in, name, format, err, tc.name, tc.format)
		}
	}
}

// TestAttestAttrs: --attest, --sbom and --provenance become the attrs
// buildx sends for the same flags.
func TestAttestAttrs(t *testing.T) {
	got, err := attestAttrs([]string{"type=sbom,generator=reg/scanner:1", `type=provenance,"mode=max"`}, "", "")
	if err != nil || !maps.Equal(got, map[string]string{"attest:sbom": "generator=reg/scanner:1", "attest:provenance": "mode=max"}) {
		t.Errorf("--attest: %v, %v", got, err)
	}
	got, err = attestAttrs(nil, "true", "false")
	if err != nil || !maps.Equal(got, map[string]string{"attest:sbom": "", "attest:provenance": "disabled=true"}) {
		t.Errorf("--sbom true --provenance false: %v, %v", got, err)
	}
}
