package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
)

// builderHas asks the stack's buildkitd, as a frontend does, whether it
// has an LLB capability.
func (s *stack) builderHas(t *testing.T, id apicaps.CapID) bool {
	t.Helper()
	c, err := client.New(context.Background(), s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var has bool
	_, err = c.Build(context.Background(), client.SolveOpt{}, "stowage-integration", func(_ context.Context, gc gateway.Client) (*gateway.Result, error) {
		caps := gc.BuildOpts().LLBCaps
		has = caps.Supports(id) == nil
		return gateway.NewResult(), nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return has
}

// TestOlderBuilderNamesTheFeature: on a buildkitd without source.git.checksum
// (BuildKit before v0.24, as hack/compat runs), a git: copy with checksum:
// fails before anything runs, at its YAML, naming the field and the
// release that has it, through the frontend in process and the image. On
// a builder that has it, that message never appears (the build fails later,
// fetching a repository that is not there).
func TestOlderBuilderNamesTheFeature(t *testing.T) {
	s := needStack(t)
	has := s.builderHas(t, pb.CapSourceGitChecksum)
	p := newProject(t, s, `# syntax=[[.Frontend]]
project: caps
steps:
  src:
    from: scratch
    copy:
      - {git: "http://127.0.0.1:9/nothing.git#v1", dest: /a, checksum: 4b825dc}
`, nil)
	viaBoth(t, s, func(t *testing.T, b via) {
		res, err := b.build(context.Background(), t, p, buildOpts{})
		if err == nil {
			t.Fatalf("a git copy of a repository that is not there was built:\n%s", res.logs)
		}
		const want = "stowage.yaml:7:15: a git: copy's checksum: needs BuildKit v0.24.0 or later (LLB capability source.git.checksum)"
		got := err.Error() + res.logs
		if has && strings.Contains(got, "LLB capability") {
			t.Errorf("a builder with source.git.checksum was told it lacks it: %v", err)
		}
		if !has && !strings.Contains(got, want) {
			t.Errorf("a builder without source.git.checksum: %v\n%s\nwant %q", err, res.logs, want)
		}
	})
}
