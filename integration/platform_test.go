package integration

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Platforms this machine runs natively, so a multi-platform build needs no
// emulation.
var nativePlatforms = []string{"linux/amd64", "linux/amd64/v2"}

const platformSpec = `# syntax=[[.Frontend]]
project: platforms-ID
caches:
  per: {key: [per, "${TARGETPLATFORM}"]}
  shared: {key: shared}
steps:
  tools:
    from: [[.Busybox]]
    platform: ${BUILDPLATFORM}
    run: mkdir -p /tools && cat /proc/sys/kernel/random/uuid > /tools/id
  work:
    from: [[.Busybox]]
    copy: [{from: tools, src: /tools/id, dest: /out/tools-id}]
    mounts:
      - {cache: per, path: /per}
      - {cache: shared, path: /shared}
    run: >-
      echo ${TARGETPLATFORM} >> /per/log && echo ${TARGETPLATFORM} >> /shared/log &&
      mkdir -p /out && cp /per/log /out/per && cp /shared/log /out/shared &&
      echo "${TARGETPLATFORM} ${TARGETOS} ${TARGETARCH} ${TARGETVARIANT}" > /out/args
  out:
    from: scratch
    copy: [{from: work, src: /out, dest: /}]
`

// TestPerPlatformVolumes: in one multi-platform build through buildx, a key
// with ${TARGETPLATFORM} gives each platform its own volume, a key without
// one is shared by both, each platform's step sees its own platform args,
// and a step pinned to ${BUILDPLATFORM} runs once for both.
func TestPerPlatformVolumes(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, platformSpec, nil)
	out := t.TempDir()
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--platform", strings.Join(nativePlatforms, ","),
		"--output", "type=local,dest="+out, ".")
	var shared, toolIDs []string
	for _, plat := range nativePlatforms {
		dir := filepath.Join(out, strings.ReplaceAll(plat, "/", "_"))
		if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "per"))); got != plat {
			t.Errorf("%s: its per-platform volume holds %q, want only its own line", plat, got)
		}
		p := platforms.MustParse(plat)
		wantArgs := strings.TrimSpace(strings.Join([]string{plat, p.OS, p.Architecture, p.Variant}, " "))
		if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "args"))); got != wantArgs {
			t.Errorf("%s: platform args %q, want %q", plat, got, wantArgs)
		}
		toolIDs = append(toolIDs, readFile(t, filepath.Join(dir, "tools-id")))
		lines := strings.Fields(readFile(t, filepath.Join(dir, "shared")))
		if len(lines) > len(shared) {
			shared = lines
		}
	}
	if toolIDs[0] != toolIDs[1] {
		t.Errorf("the step pinned to ${BUILDPLATFORM} ran once per target platform (ids %q)", toolIDs)
	}
	slices.Sort(shared)
	if !slices.Equal(shared, nativePlatforms) {
		t.Errorf("the shared volume holds %v after both platforms ran, want both %v", shared, nativePlatforms)
	}
}

// TestMultiPlatformImageIndex: --platform A,B with an OCI output gives an
// image index with one manifest per platform, each image config naming its
// platform.
func TestMultiPlatformImageIndex(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, strings.Replace(platformSpec, "from: scratch", "from: [[.Busybox]]", 1), nil)
	tarball := filepath.Join(t.TempDir(), "image.tar")
	s.buildx(t, p.dir, "-f", "stowage.yaml", "--platform", strings.Join(nativePlatforms, ","),
		"--output", "type=oci,dest="+tarball, ".")
	blobs := readTar(t, tarball)
	var idx ocispecs.Index
	mustJSON(t, blobs["index.json"], &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("index.json has %d manifests, want one image index", len(idx.Manifests))
	}
	var inner ocispecs.Index
	mustJSON(t, blobs[blobPath(idx.Manifests[0].Digest.String())], &inner)
	var got []string
	for _, m := range inner.Manifests {
		if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue // buildx's provenance, platform unknown/unknown
		}
		plat := platforms.FormatAll(*m.Platform)
		got = append(got, plat)
		var mfst ocispecs.Manifest
		mustJSON(t, blobs[blobPath(m.Digest.String())], &mfst)
		var img ocispecs.Image
		mustJSON(t, blobs[blobPath(mfst.Config.Digest.String())], &img)
		if c := platforms.FormatAll(img.Platform); c != plat {
			t.Errorf("manifest for %s has an image config for %s", plat, c)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, nativePlatforms) {
		t.Errorf("the image index lists %v, want %v", got, nativePlatforms)
	}
}
