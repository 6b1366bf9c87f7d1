package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
)

const callSpec = `# syntax=[[.Frontend]]
project: call-test
args:
  VERSION: {default: "1.0", description: the release}
caches:
  gomod: {key: go-mod, scope: global}
steps:
  build:
    description: compile
    from: [[.Busybox]]
    mounts:
      - {cache: gomod, path: /go/pkg/mod}
      - {type: secret, id: netrc, required: true}
    run: echo ${VERSION}
  image:
    description: the release image
    from: scratch
    copy: [{from: build, src: /etc/passwd, dest: /passwd}]
`

func callJSON(t *testing.T, s *stack, call string, v any) {
	t.Helper()
	p := newProject(t, s, callSpec, nil)
	out, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=quiet",
		"--call", call+",format=json", "-f", "stowage.yaml", ".")
	if err != nil {
		t.Fatalf("--call=%s: %v\n%s", call, err, out)
	}
	start := strings.Index(out, "{")
	if start < 0 {
		t.Fatalf("--call=%s printed no JSON:\n%s", call, out)
	}
	if err := json.Unmarshal([]byte(out[start:]), v); err != nil {
		t.Fatalf("--call=%s: %v\n%s", call, err, out)
	}
}

func TestCallTargets(t *testing.T) {
	s := needStack(t)
	var list targets.List
	callJSON(t, s, "targets", &list)
	var got []string
	for _, tg := range list.Targets {
		got = append(got, tg.Name+"|"+tg.Description+"|"+map[bool]string{true: "default"}[tg.Default])
	}
	if want := "build|compile|,image|the release image|default"; strings.Join(got, ",") != want {
		t.Errorf("targets %q, want %q", strings.Join(got, ","), want)
	}
}

func TestCallOutline(t *testing.T) {
	s := needStack(t)
	var o outline.Outline
	callJSON(t, s, "outline", &o)
	if o.Name != "image" || len(o.Args) != 1 || o.Args[0].Name != "VERSION" || o.Args[0].Value != "1.0" || o.Args[0].Description != "the release" {
		t.Errorf("outline name/args: %+v", o)
	}
	if len(o.Secrets) != 1 || o.Secrets[0].Name != "netrc" || !o.Secrets[0].Required {
		t.Errorf("outline secrets: %+v", o.Secrets)
	}
	// The global go-mod volume's ID is a golden vector of the ID contract.
	if len(o.Cache) != 1 || o.Cache[0].ID != "stowage-c565173ef30cec2e5eb82be83bcf94ac" {
		t.Fatalf("outline cache: %+v", o.Cache)
	}
	if r := o.Cache[0].Location.Ranges[0]; r.Start.Line != 6 {
		t.Errorf("volume located at line %d, want 6", r.Start.Line)
	}
}

// TestCallCheck runs the lint rules through `docker buildx build
// --call=check`: a finding fails the call and names the rule and line.
func TestCallCheck(t *testing.T) {
	s := needStack(t)
	p := newProject(t, s, `# syntax=[[.Frontend]]
project: check-test
caches:
  lists: {key: apt-lists}
steps:
  a:
    from: [[.Busybox]]
    mounts: [{cache: lists, path: /var/lib/apt/lists}]
    run: true
`, nil)
	out, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--call", "check", "-f", "stowage.yaml", ".")
	if err == nil {
		t.Fatalf("--call=check passed a spec with a finding:\n%s", out)
	}
	for _, want := range []string{"PackageManagerNotLocked", "set `sharing: locked` on volume \"lists\"", "stowage.yaml:8"} {
		if !strings.Contains(out, want) {
			t.Errorf("--call=check output lacks %q:\n%s", want, out)
		}
	}
}

// TestCallOutlineFollowsPlatformAndTarget: the outline's volume IDs are the
// target platform's (as `stowage ids --platform` gives them), an unknown
// --target is an error rather than an empty outline, and `stowage build
// --call outline` lists the volumes in its text form too.
func TestCallOutlineFollowsPlatformAndTarget(t *testing.T) {
	s := needStack(t)
	bin := needCLI(t)
	p := newProject(t, s, `# syntax=[[.Frontend]]
project: outline-platform
caches:
  arch: {key: [per-arch, "${TARGETARCH}"]}
steps:
  build:
    from: [[.Busybox]]
    mounts: [{cache: arch, path: /c}]
    run: "true"
`, nil)
	idFor := func(platform string) string {
		out, err := run(t, p.dir, bin, "ids", "-f", "stowage.yaml", "--platform", platform)
		if err != nil {
			t.Fatalf("stowage ids --platform %s: %v\n%s", platform, err, out)
		}
		return strings.TrimPrefix(strings.TrimSpace(out), "arch\t")
	}
	arm, amd := idFor("linux/arm64"), idFor("linux/amd64")
	if arm == amd {
		t.Fatalf("stowage ids gives one ID for two architectures: %s", arm)
	}
	for platform, want := range map[string]string{"linux/arm64": arm, "linux/amd64": amd} {
		out, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=quiet",
			"--platform", platform, "--call", "outline,format=json", "-f", "stowage.yaml", ".")
		if err != nil {
			t.Fatalf("--call=outline --platform %s: %v\n%s", platform, err, out)
		}
		var o outline.Outline
		if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &o); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(o.Cache) != 1 || o.Cache[0].ID != want {
			t.Errorf("--platform %s: outline cache %+v, want the ID %s", platform, o.Cache, want)
		}
	}
	out, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=quiet",
		"--target", "biuld", "--call", "outline", "-f", "stowage.yaml", ".")
	if err == nil || !strings.Contains(out, `target "biuld" is not a step of stowage.yaml`) {
		t.Errorf("--call=outline --target biuld: err %v, output:\n%s", err, out)
	}
	cmd := exec.Command(bin, "build", "--call", "outline", "--platform", "linux/arm64", p.dir)
	cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+s.addr)
	text, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("stowage build --call outline: %v\n%s", err, text)
	}
	if !strings.Contains(string(text), "arch") || !strings.Contains(string(text), arm) {
		t.Errorf("stowage build --call outline does not list volume arch (%s):\n%s", arm, text)
	}
}
