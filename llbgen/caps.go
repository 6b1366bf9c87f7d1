package llbgen

import (
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
)

// OldestBuildKit is the oldest BuildKit release hack/compat runs and the
// README's table lists.
const OldestBuildKit = "v0.17.3"

// CapFeature is the spec field that makes the lowering ask for an LLB
// capability, and the first release of hack/compat's matrix that has it.
type CapFeature struct{ Field, Since string }

// CapFeatures are the capabilities the lowering can ask for that
// OldestBuildKit lacks (TestCapsOfTheOldestBuildKit keeps this list whole).
var CapFeatures = map[apicaps.CapID]CapFeature{
	pb.CapSourceGitChecksum:       {"a git: copy's checksum:", "v0.24.0"},
	pb.CapSourceGitSkipSubmodules: {"a git: copy's ?submodules=false", "v0.24.0"},
}
