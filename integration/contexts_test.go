package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const contextsSpec = `# syntax=[[.Frontend]]
project: contexts-ID
steps:
  base:
    from: context:base
    run: mkdir -p /out && echo base > /out/base
  work:
    from: base
    copy: [{from: context:src, src: hello.txt, dest: /out/copied.txt}]
    mounts:
      - {type: bind, from: context:src, src: /, path: /src}
      - {type: bind, from: context:layout, path: /layout}
    run: >-
      cp /src/hello.txt /out/bound.txt &&
      (test -x /layout/bin/busybox && echo has-busybox || echo no-busybox) > /out/layout
  out:
    from: scratch
    copy: [{from: work, src: /out, dest: /}]
`

// TestNamedContexts: --build-context NAME=DIR, docker-image:// and
// oci-layout:// contexts, used as from: context:NAME, copy from and bind
// mount from, through buildx.
func TestNamedContexts(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, contextsSpec, map[string]string{"srcdir/hello.txt": "hello from a named context\n"})

	// An OCI layout of the busybox image, as `docker buildx build --output
	// type=oci,tar=false` writes one.
	layout := filepath.Join(t.TempDir(), "layout")
	img := t.TempDir()
	if err := os.WriteFile(filepath.Join(img, "Dockerfile"), []byte("FROM "+s.busybox+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.buildx(t, img, "--output", "type=oci,tar=false,dest="+layout, ".")

	out := t.TempDir()
	s.buildx(t, p.dir, "-f", "stowage.yaml",
		"--build-context", "base=docker-image://"+s.busybox,
		"--build-context", "src="+filepath.Join(p.dir, "srcdir"),
		"--build-context", "layout=oci-layout://"+layout,
		"--output", "type=local,dest="+out, ".")
	for file, want := range map[string]string{
		"base":       "base",
		"copied.txt": "hello from a named context",
		"bound.txt":  "hello from a named context",
		"layout":     "has-busybox",
	} {
		if got := strings.TrimSpace(readFile(t, filepath.Join(out, file))); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
}

// TestBuildContextReplacesEveryImage: a --build-context named like an image
// replaces that image wherever the spec names it (a step's from:, a copy's
// and a bind mount's from:), as Dockerfile's FROM and COPY --from.
// The image itself does not exist: a pull fails the build.
func TestBuildContextReplacesEveryImage(t *testing.T) {
	s := needStack(t)
	const ghost = "ghost.invalid/none/busybox:0"
	p := ownershipProject(t, s, `project: replace-ID
steps:
  base:
    from: `+ghost+`
    run: mkdir -p /out && echo from > /out/from
  use:
    from: base
    copy: [{from: `+ghost+`, src: /bin/busybox, dest: /out/copied}]
    mounts:
      - {type: bind, from: `+ghost+`, src: /etc, path: /ghost-etc}
    run: cp /ghost-etc/passwd /out/bound
  out:
    from: scratch
    copy: [{from: use, src: /out, dest: /}]
`, nil)
	res := s.mustBuild(context.Background(), t, p, buildOpts{attrs: map[string]string{"context:" + ghost: "docker-image://" + s.busybox}})
	for _, f := range []string{"from", "copied", "bound"} {
		if res.file(t, f) == "" {
			t.Errorf("%s is empty", f)
		}
	}
}
