package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/subrequests/outline"
)

// TestNetworkNone: a step with network: none cannot reach the registry on
// the host's loopback, which a step on the default network (the worker's,
// the host's here) reaches.
func TestNetworkNone(t *testing.T) {
	s := needStack(t)
	registry := os.Getenv("STOWAGE_REGISTRY")
	if registry == "" {
		registry = "127.0.0.1:5000"
	}
	probe := `echo ID && mkdir -p /out && if ` + httpGet(registry) + `; then echo reachable; else echo unreachable; fi > /out/`
	p := ownershipProject(t, s, `project: network-ID
steps:
  none:
    from: [[.Busybox]]
    network: none
    run: `+probe+`none
  default:
    from: [[.Busybox]]
    network: default
    run: `+probe+`default
  unset:
    from: [[.Busybox]]
    run: `+probe+`unset
  out:
    from: scratch
    copy:
      - {from: none, src: /out, dest: /}
      - {from: default, src: /out, dest: /}
      - {from: unset, src: /out, dest: /}
`, nil)
	res := s.mustBuild(context.Background(), t, p, buildOpts{})
	for name, want := range map[string]string{"none": "unreachable\n", "default": "reachable\n", "unset": "reachable\n"} {
		if got := res.file(t, name); got != want {
			t.Errorf("network %s: %q, want %q\n%s", name, got, want, res.logs)
		}
	}
}

// httpGet is a command that succeeds when the registry at host:port
// answers; the busybox image's wget is not usable, its nc is.
func httpGet(registry string) string {
	host, port, _ := strings.Cut(registry, ":")
	return `printf 'GET /v2/ HTTP/1.0\r\n\r\n' | nc -w 5 ` + host + ` ` + port + ` | grep -q "200 OK"`
}

// entitlementSpec has a step that needs security.insecure (mounting a
// tmpfs needs CAP_SYS_ADMIN, which the sandbox drops) and one that needs
// network.host.
const entitlementSpec = `# syntax=[[.Frontend]]
project: entitlements-ID
steps:
  insecure:
    from: [[.Busybox]]
    security: insecure
    run: echo ID && mkdir -p /out /mnt/t && mount -t tmpfs none /mnt/t && echo mounted > /out/insecure
  sandbox:
    from: [[.Busybox]]
    security: sandbox
    run: >-
      echo ID && mkdir -p /out /mnt/t &&
      if mount -t tmpfs none /mnt/t 2>/dev/null; then echo mounted; else echo denied; fi > /out/sandbox
  host:
    from: [[.Busybox]]
    network: host
    run: echo ID && mkdir -p /out && [[.Probe]] && echo reachable > /out/host
  out:
    from: scratch
    copy:
      - {from: insecure, src: /out, dest: /}
      - {from: sandbox, src: /out, dest: /}
      - {from: host, src: /out, dest: /}
`

// TestSecurityAndHostNetworkEntitlements: security: insecure and network:
// host run with buildx --allow; without it, the build fails with an error
// at the step's field that says how to grant the entitlement.
func TestSecurityAndHostNetworkEntitlements(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, strings.ReplaceAll(entitlementSpec, "[[.Probe]]", httpGet("127.0.0.1:5000")), nil)
	out := t.TempDir()
	log := s.buildx(t, p.dir, "-f", "stowage.yaml", "--allow", "security.insecure", "--allow", "network.host", "--output", "type=local,dest="+out, ".")
	assertFile(t, filepath.Join(out, "insecure"), "mounted\n", log)
	assertFile(t, filepath.Join(out, "sandbox"), "denied\n", log)
	assertFile(t, filepath.Join(out, "host"), "reachable\n", log)

	for _, tc := range []struct {
		target, allow string
		want          []string
	}{
		{"insecure", "network.host", []string{
			"stowage.yaml:6:15: steps.insecure.security: step insecure runs with security: insecure, which needs the security.insecure entitlement",
			"--allow security.insecure", "security: insecure",
		}},
		{"host", "security.insecure", []string{
			"stowage.yaml:16:14: steps.host.network: step host runs with network: host, which needs the network.host entitlement",
			"--allow network.host",
		}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			log, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=plain",
				"-f", "stowage.yaml", "--target", tc.target, "--allow", tc.allow, ".")
			if err == nil {
				t.Fatalf("a build of %s without its entitlement succeeded:\n%s", tc.target, log)
			}
			for _, want := range tc.want {
				if !strings.Contains(log, want) {
					t.Errorf("buildx output lacks %q:\n%s", want, log)
				}
			}
		})
	}
}

// TestCopyOptions: chown (by name, resolved in the step's /etc/passwd, and
// by number with link), chmod (octal and symbolic), exclude, parents and
// link, as Dockerfile's COPY flags.
func TestCopyOptions(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: copy-ID
args: {BUST: ""}
steps:
  base:
    from: [[.Busybox]]
    run: echo ID ${BUST} > /bust
  files:
    from: base
    copy:
      - {src: a, dest: /chowned, chown: "app:app", chmod: "0640", exclude: ["*.md", "**/testdata"]}
      - {src: a/x.txt, dest: /sym/x.txt, chmod: "u+x,go-r"}
      - {src: ./cmd/./app/*.go, dest: /parents/, parents: true}
      - {src: go.mod, dest: /parents/, parents: true}
      - {src: cmd/app/main.go, dest: /full/, parents: true}
      - {src: cmd/app/main.go, dest: /flat/}
      - {src: a, dest: /linked, link: true, chown: "1000:1000"}
    run: >-
      echo ID && mkdir -p /out &&
      (cd /chowned && find . | sort) > /out/chowned-tree &&
      stat -c "%U:%G %a" /chowned/x.txt > /out/chowned-stat &&
      stat -c "%a" /sym/x.txt > /out/sym-mode &&
      (cd /parents && find . -type f | sort) > /out/parents &&
      (cd /full && find . -type f) > /out/full &&
      (cd /flat && find . -type f) > /out/flat &&
      stat -c "%u:%g" /linked/x.txt > /out/linked-owner && cat /linked/x.txt > /out/linked
  out:
    from: scratch
    copy: [{from: files, src: /out, dest: /}]
`, map[string]string{
		"a/x.txt":                 "x\n",
		"a/y.md":                  "y\n",
		"a/sub/z.txt":             "z\n",
		"a/sub/testdata/skip.txt": "skip\n",
		"cmd/app/main.go":         "package main\n",
		"cmd/app/util.go":         "package main\n",
		"cmd/lib/lib.go":          "package lib\n",
		"go.mod":                  "module m\n",
	})
	res := s.mustBuild(context.Background(), t, p, buildOpts{attrs: map[string]string{"build-arg:BUST": "1"}})
	for name, want := range map[string]string{
		"chowned-tree": ".\n./sub\n./sub/z.txt\n./x.txt\n",
		"chowned-stat": "app:app 640\n",
		"sym-mode":     "700\n", // 0644, then u+x, then go-r
		"parents":      "./app/main.go\n./app/util.go\n./go.mod\n",
		"full":         "./cmd/app/main.go\n",
		"flat":         "./main.go\n",
		"linked-owner": "1000:1000\n",
		"linked":       "x\n",
	} {
		if got := res.file(t, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// A linked copy's layer does not depend on what is below it: on a new
	// base, the image gets the same layer blob.
	layers := func(bust string) []string {
		tarball := filepath.Join(t.TempDir(), "files.tar")
		s.mustBuild(context.Background(), t, p, buildOpts{
			attrs:  map[string]string{"build-arg:BUST": bust, "target": "files"},
			export: client.ExportEntry{Type: client.ExporterOCI, Output: fileOutput(tarball)},
		})
		return ociLayers(t, tarball)
	}
	one, two := layers("1"), layers("2")
	if len(one) != len(two) || len(one) < 3 {
		t.Fatalf("layers %v and %v", one, two)
	}
	// The last layers: the flat copy, the linked copy, the command.
	n := len(one)
	if one[n-2] != two[n-2] {
		t.Errorf("the linked copy's layer changed with the base: %s, then %s", one[n-2], two[n-2])
	}
	// The base's own layer must differ, or the check above proves nothing.
	// (Whether a plain copy's layer changes too depends on timestamps.)
	if slices.Equal(one[:n-2], two[:n-2]) {
		t.Errorf("the two bases gave the same layers below the linked copy: the test proves nothing")
	}
}

// ociLayers lists the layer digests of the single image in an OCI tarball.
func ociLayers(t *testing.T, tarball string) []string {
	t.Helper()
	_, mfst, _ := ociSingle(t, tarball)
	out := make([]string, len(mfst.Layers))
	for i, l := range mfst.Layers {
		out[i] = l.Digest.String()
	}
	return out
}

// TestOutlineListsStepArgs: --call=outline lists the args the target's
// steps declare of their own, with their values, besides the top-level
// ones, and the secrets they read as variables.
func TestOutlineListsStepArgs(t *testing.T) {
	s := needStack(t)
	p := newProject(t, s, `# syntax=[[.Frontend]]
project: outline-args
args: {GLOBAL: g}
steps:
  build:
    from: [[.Busybox]]
    args: {LOCAL: {default: "l-${GLOBAL}", description: a step arg}, GLOBAL: , TARGETOS: }
    mounts: [{type: secret, id: tok, env: TOKEN, required: true}]
    run: echo $LOCAL
`, nil)
	out, err := run(t, p.dir, "docker", "buildx", "build", "--builder", s.builder, "--progress=quiet",
		"--call", "outline,format=json", "-f", "stowage.yaml", "--build-arg", "GLOBAL=G", ".")
	if err != nil {
		t.Fatalf("--call=outline: %v\n%s", err, out)
	}
	var o outline.Outline
	mustJSON(t, []byte(out[strings.Index(out, "{"):]), &o)
	var args []string
	for _, a := range o.Args {
		args = append(args, a.Name+"="+a.Value+" ("+a.Description+")")
	}
	if got, want := strings.Join(args, ", "), "GLOBAL=G (), LOCAL=l-G (a step arg)"; got != want {
		t.Errorf("outline args: %s, want %s", got, want)
	}
	if len(o.Secrets) != 1 || o.Secrets[0].Name != "tok" || !o.Secrets[0].Required {
		t.Errorf("outline secrets: %+v", o.Secrets)
	}
}

// TestStepArgsUserWorkdirShell: a step's args reach its commands' env and
// ${NAME} in its fields (a --build-arg overrides a step's default), env
// interpolates args, workdir is created for the step's user, named users
// resolve, and shell replaces /bin/sh -c.
func TestStepArgsUserWorkdirShell(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, `project: stepargs-ID
args: {GREETING: hello}
steps:
  s:
    from: [[.Busybox]]
    user: app
    workdir: /home/app/deep/er
    shell: [/bin/sh, -ec]
    args: {LOCAL: "local-${GREETING}", GREETING: }
    env: {FROM_ARG: "${GREETING}-env"}
    run: >-
      echo ID && mkdir -p /tmp/out && id -un > /tmp/out/user && pwd > /tmp/out/pwd &&
      stat -c %U /home/app/deep/er > /tmp/out/owner &&
      echo "$LOCAL $GREETING $FROM_ARG" > /tmp/out/env &&
      case $- in *e*) echo errexit;; *) echo no-errexit;; esac > /tmp/out/shell
  other:
    from: [[.Busybox]]
    run: echo ID && mkdir -p /out && echo "[$${LOCAL:-unset}]" > /out/other
  out:
    from: scratch
    copy:
      - {from: s, src: /tmp/out, dest: /}
      - {from: other, src: /out, dest: /}
`, nil)
	for _, tc := range []struct {
		name  string
		attrs map[string]string
		env   string
	}{
		{"defaults", nil, "local-hello hello hello-env\n"},
		{"build-args", map[string]string{"build-arg:GREETING": "hi", "build-arg:LOCAL": "over"}, "over hi hi-env\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := s.mustBuild(context.Background(), t, p, buildOpts{attrs: tc.attrs})
			for name, want := range map[string]string{
				"user": "app\n", "pwd": "/home/app/deep/er\n", "owner": "app\n", "env": tc.env, "shell": "errexit\n",
				// Step s's args are its own: step other's shell sees no LOCAL.
				"other": "[unset]\n",
			} {
				if got := res.file(t, name); got != want {
					t.Errorf("%s = %q, want %q\n%s", name, got, want, res.logs)
				}
			}
		})
	}
}
