package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// releasePlatforms are the frontend image's platforms, as
// .github/workflows/release.yml builds them.
var releasePlatforms = []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le", "linux/s390x", "linux/riscv64"}

// releaseBuild builds the project's own stowage.yaml, the frontend image,
// with `stowage build` (the frontend in the CLI's process: no image needed
// to bootstrap) into an OCI layout, as the release does.
func (s *stack) releaseBuild(t *testing.T, args ...string) string {
	t.Helper()
	layout := filepath.Join(t.TempDir(), "layout")
	all := append([]string{"build", "--addr", s.addr, "--progress=plain",
		"--platform", strings.Join(releasePlatforms, ","),
		"--build-context", "golang:1.26=docker-image://" + s.golang,
		"--build-arg", "VERSION=v1.2.3-test", "--build-arg", "REVISION=0123abc",
		"--build-arg", "SOURCE_DATE_EPOCH=1700000000",
		"-o", "type=oci,tar=false,rewrite-timestamp=true,dest=" + layout}, args...)
	cmd := exec.Command(needCLI(t), append(all, ".")...)
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stowage build of the frontend image: %v\n%s", err, out)
	}
	return layout
}

// imageManifests reads a layout's image index: the manifest of each
// platform by its name, and the attestation manifests.
func imageManifests(t *testing.T, layout string) (blobs map[string][]byte, images map[string]ocispecs.Descriptor, attestations []ocispecs.Descriptor) {
	t.Helper()
	blobs = ociBlobs(t, layout)
	var top, idx ocispecs.Index
	mustJSON(t, blobs["index.json"], &top)
	mustJSON(t, blobs[blobPath(top.Manifests[0].Digest.String())], &idx)
	images = map[string]ocispecs.Descriptor{}
	for _, m := range idx.Manifests {
		if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			attestations = append(attestations, m)
			continue
		}
		images[platforms.Format(*m.Platform)] = m
	}
	return blobs, images, attestations
}

// TestReleaseImage: the frontend image builds from the project's own
// stowage.yaml on the stack, offline, cross-compiled for every release
// platform (32-bit arm included); each image is the frontend with its OCI
// labels and the version stamped in; a second build that runs every step
// again gives the same digests (SOURCE_DATE_EPOCH, rewrite-timestamp); the
// image works as a # syntax= frontend; with --attest the index carries an
// SBOM and max provenance; and the Dockerfile, for users without Stowage,
// builds the same image config.
func TestReleaseImage(t *testing.T) {
	s := needStack(t)
	if s.golang == "" {
		t.Fatal("STOWAGE_GOLANG_IMAGE is unset: hack/stack up builds it")
	}
	first := s.releaseBuild(t)
	blobs, images, _ := imageManifests(t, first)
	var got []string
	for p := range images {
		got = append(got, p)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(releasePlatforms))
	if !slices.Equal(got, want) {
		t.Fatalf("the index has %q, want %q", got, want)
	}
	var amd64 dockerspec.DockerOCIImage
	for p, d := range images {
		var mfst ocispecs.Manifest
		mustJSON(t, blobs[blobPath(d.Digest.String())], &mfst)
		var img dockerspec.DockerOCIImage
		mustJSON(t, blobs[blobPath(mfst.Config.Digest.String())], &img)
		l := img.Config.Labels
		if l["org.opencontainers.image.version"] != "v1.2.3-test" || l["org.opencontainers.image.revision"] != "0123abc" ||
			l["org.opencontainers.image.source"] == "" || l["moby.buildkit.frontend.network.none"] != "true" ||
			!slices.Equal(img.Config.Entrypoint, []string{"/bin/stowage-frontend"}) || img.Created == nil || img.Created.Unix() != 1700000000 {
			t.Errorf("%s: labels %v, entrypoint %q, created %v", p, l, img.Config.Entrypoint, img.Created)
		}
		if p == "linux/amd64" {
			amd64 = img
			bin := layerFile(t, blobs[blobPath(mfst.Layers[0].Digest.String())], "bin/stowage-frontend")
			exe := filepath.Join(t.TempDir(), "stowage-frontend")
			if err := os.WriteFile(exe, bin, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(exe, "--version").CombinedOutput(); err != nil || string(out) != "stowage-frontend v1.2.3-test\n" {
				t.Errorf("stowage-frontend --version: %v, %q", err, out)
			}
		}
	}

	_, again, _ := imageManifests(t, s.releaseBuild(t, "--no-cache"))
	for p, d := range images {
		if again[p].Digest != d.Digest {
			t.Errorf("%s: the second build's digest is %s, the first's %s", p, again[p].Digest, d.Digest)
		}
	}

	// The image as users run it: pushed, then named by a # syntax= line.
	ref := os.Getenv("STOWAGE_REGISTRY") + "/stowage-test/release:" + nonce()
	push := exec.Command(needCLI(t), "build", "--addr", s.addr, "--progress=quiet", "--platform", "linux/amd64",
		"--build-context", "golang:1.26=docker-image://"+s.golang, "-t", ref, "--push", ".")
	push.Dir = repoRoot(t)
	if out, err := push.CombinedOutput(); err != nil {
		t.Fatalf("pushing the frontend image: %v\n%s", err, out)
	}
	p := newProject(t, s, "# syntax="+ref+`
project: release-`+nonce()+`
steps:
  hello:
    from: [[.Busybox]]
    run: mkdir /out && echo built by the released frontend > /out/said
  out:
    from: scratch
    copy: [{from: hello, src: /out, dest: /}]
`, nil)
	out := t.TempDir()
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--output", "type=local,dest="+out, ".")
	if said := readFile(t, filepath.Join(out, "said")); said != "built by the released frontend\n" {
		t.Errorf("the build through the released image said %q", said)
	}

	// Attestations, as the release pushes them (the stack's SBOM scanner
	// stands in for docker/buildkit-syft-scanner).
	scanner := os.Getenv("STOWAGE_REGISTRY") + "/stowage-test/sbom-scanner:latest"
	sdir := t.TempDir()
	writeFile(t, filepath.Join(sdir, "Dockerfile"), strings.Replace(fakeScanner, "BUSYBOX", s.busybox, 1))
	s.buildx(t, sdir, "--provenance=false", "--push", "-t", scanner, ".")
	_, _, att := imageManifests(t, s.releaseBuild(t, "--attest", "type=sbom,generator="+scanner, "--attest", "type=provenance,mode=max"))
	if len(att) != len(releasePlatforms) {
		t.Errorf("%d attestation manifests, want one per platform (%d)", len(att), len(releasePlatforms))
	}

	// The Dockerfile builds the same image config, for one platform.
	dfLayout := filepath.Join(t.TempDir(), "df")
	s.buildx(t, repoRoot(t), "-f", "Dockerfile", "--platform", "linux/amd64", "--build-arg", "GO_IMAGE="+s.golang,
		"--build-arg", "VERSION=v1.2.3-test", "--build-arg", "REVISION=0123abc", "--provenance=false",
		"--output", "type=oci,tar=false,dest="+dfLayout, ".")
	_, _, df := ociSingle(t, dfLayout)
	if !maps.Equal(df.Config.Labels, amd64.Config.Labels) || !slices.Equal(df.Config.Entrypoint, amd64.Config.Entrypoint) {
		t.Errorf("the Dockerfile's image config differs:\nDockerfile: %v %q\nstowage.yaml: %v %q", df.Config.Labels, df.Config.Entrypoint, amd64.Config.Labels, amd64.Config.Entrypoint)
	}
}

// layerFile reads one file out of a gzipped layer.
func layerFile(t *testing.T, layer []byte, name string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(layer))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("no %s in the layer", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			dt, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return dt
		}
	}
}
