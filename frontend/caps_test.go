package frontend

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	apicapspb "github.com/moby/buildkit/util/apicaps/pb"

	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
)

// capsWithout is the CapSet of a builder that has every LLB capability but
// those.
func capsWithout(ids ...apicaps.CapID) apicaps.CapSet {
	list := pb.Caps
	var caps []*apicapspb.APICap
	for _, c := range list.All() {
		if !slices.Contains(ids, apicaps.CapID(c.ID)) {
			caps = append(caps, c)
		}
	}
	return list.CapSet(caps)
}

// TestCheckCaps: a field an older builder cannot do fails before the
// solve, at its line, naming the field, the capability and the release
// that has it; a builder that has it passes.
func TestCheckCaps(t *testing.T) {
	const yaml = `project: caps
steps:
  src:
    from: scratch
    copy:
      - {git: "https://example.com/repo.git#v1", dest: /a}
      - {git: "https://example.com/repo.git#v2", dest: /b, checksum: 4b825dc}
`
	s, err := spec.Load([]byte(yaml), spec.Options{File: "stowage.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	sm := llb.NewSourceMap(nil, s.File, "YAML", []byte(yaml))
	res, err := llbgen.Lower(context.Background(), s, llbgen.Options{SourceMap: sm})
	if err != nil {
		t.Fatal(err)
	}
	def, err := res.State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCaps(def, capsWithout(), s.File); err != nil {
		t.Errorf("a builder with every capability: %v", err)
	}
	err = checkCaps(def, capsWithout(pb.CapSourceGitChecksum), s.File)
	want := "stowage.yaml:7:15: a git: copy's checksum: needs BuildKit v0.24.0 or later (LLB capability source.git.checksum), which this builder lacks; upgrade"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("without source.git.checksum: %v\nwant %s…", err, want)
	}
}
