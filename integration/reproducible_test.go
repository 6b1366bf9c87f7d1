package integration

import (
	"path/filepath"
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const reproSpec = `# syntax=[[.Frontend]]
project: repro-ID
steps:
  image:
    from: [[.Busybox]]
    labels: {from.spec: "yes", overridden: spec}
    run: echo built > /built
`

// TestLabelsAndSourceDateEpoch: --label lands in the image config over the
// spec's labels; SOURCE_DATE_EPOCH dates the image and the history it adds, and with
// rewrite-timestamp=true a --no-cache rebuild gives the same manifest digest.
func TestLabelsAndSourceDateEpoch(t *testing.T) {
	s := needStack(t)
	p := ownershipProject(t, s, reproSpec, nil)
	const epoch = 1700000000
	build := func(extra ...string) (ocispecs.Descriptor, dockerspec.DockerOCIImage) {
		t.Helper()
		layout := filepath.Join(t.TempDir(), "layout")
		args := append([]string{"-f", "stowage.yaml", "--label", "overridden=cli", "--label", "from.cli=yes",
			"--build-arg", "SOURCE_DATE_EPOCH=1700000000",
			"--output", "type=oci,tar=false,rewrite-timestamp=true,dest=" + layout}, extra...)
		s.buildx(t, p.dir, append(args, ".")...)
		desc, _, img := ociSingle(t, layout)
		return desc, img
	}
	first, img := build("--provenance=false")
	want := map[string]string{"from.spec": "yes", "overridden": "cli", "from.cli": "yes"}
	for k, v := range want {
		if img.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, img.Config.Labels[k], v, img.Config.Labels)
		}
	}
	when := time.Unix(epoch, 0).UTC()
	if img.Created == nil || !img.Created.Equal(when) {
		t.Errorf("image created %v, want %v", img.Created, when)
	}
	// The exporter dates the history this build adds; the base image's
	// entries keep their own dates, as with Dockerfile.
	last := img.History[len(img.History)-1]
	if last.CreatedBy != "RUN echo built > /built" || last.Created == nil || !last.Created.Equal(when) {
		t.Errorf("last history entry %q created %v, want the step's RUN at %v", last.CreatedBy, last.Created, when)
	}
	again, _ := build("--provenance=false", "--no-cache")
	if first.Digest != again.Digest {
		t.Errorf("a --no-cache rebuild with SOURCE_DATE_EPOCH and rewrite-timestamp gave %s, then %s", first.Digest, again.Digest)
	}
}
