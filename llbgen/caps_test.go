package llbgen

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/util/apicaps"
)

// TestCapsOfTheOldestBuildKit lowers every spec of the tests and examples
// and checks that each LLB capability it asks for is one the oldest
// supported BuildKit has (testdata/caps-v0.17.3.txt, the IDs in that
// release's solver/pb/caps.go), or is in CapFeatures, which names its field
// for the error an older builder gets.
func TestCapsOfTheOldestBuildKit(t *testing.T) {
	dt, err := os.ReadFile("testdata/caps-" + OldestBuildKit + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	oldest := strings.Fields(string(dt))
	files, _ := filepath.Glob("testdata/lower/*.yaml")
	examples, _ := filepath.Glob("../examples/*/stowage.yaml")
	asked := map[apicaps.CapID]bool{}
	for _, file := range slices.Concat(files, examples) {
		opts := testOptions()
		opts.Tokens = fakeTokens{}
		res, err := Lower(context.Background(), load(t, file), opts)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, md := range marshal(t, res).Metadata {
			for id := range md.Caps {
				asked[id] = true
			}
		}
	}
	for id := range asked {
		if _, ok := CapFeatures[id]; !ok && !slices.Contains(oldest, string(id)) {
			t.Errorf("the lowering asks for %s, which BuildKit %s lacks: add it to CapFeatures with the field that asks for it", id, OldestBuildKit)
		}
	}
	for id := range CapFeatures {
		if slices.Contains(oldest, string(id)) {
			t.Errorf("CapFeatures lists %s, which BuildKit %s has", id, OldestBuildKit)
		}
		if !asked[id] {
			t.Errorf("CapFeatures lists %s, which no spec of the tests asks for: add one that does", id)
		}
	}
}
