package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/errdefs"
)

// sourceLines returns "file:start-end" for each source range attached to
// err, as buildx uses them to print the YAML around a failure.
func sourceLines(err error) []string {
	var out []string
	for _, s := range errdefs.Sources(err) {
		for _, r := range s.Ranges {
			out = append(out, s.Info.Filename+":"+itoa(int(r.Start.Line))+"-"+itoa(int(r.End.Line)))
		}
	}
	return out
}

func itoa(i int) string { return fmt.Sprintf("%03d", i) }

func TestFailingRunPointsAtItsYAML(t *testing.T) {
	s := needStack(t)
	p := newProject(t, s, `project: failing
steps:
  broken:
    from: [[.Busybox]]
    run:
      - echo fine
      - |
        echo about to fail
        exit 3
`, nil)
	res, err := s.build(context.Background(), t, p, buildOpts{})
	if err == nil {
		t.Fatalf("build of a failing step succeeded:\n%s", res.logs)
	}
	if !strings.Contains(err.Error(), "exit code: 3") {
		t.Errorf("error does not say how the step failed: %v", err)
	}
	got := strings.Join(sourceLines(err), " ")
	// The block scalar starts at its | on line 7 and ends on line 9.
	if got != "stowage.yaml:007-009" {
		t.Errorf("error points at %q, want the run command's lines stowage.yaml:007-009", got)
	}
}

func TestSpecErrorsPointAtYAML(t *testing.T) {
	s := needStack(t)
	p := newProject(t, s, `project: bad
steps:
  a:
    from: [[.Busybox]]
    mounts: [{cache: nope, path: /c}]
    rn: echo typo
`, nil)
	res, err := s.build(context.Background(), t, p, buildOpts{})
	if err == nil {
		t.Fatalf("build of an invalid spec succeeded:\n%s", res.logs)
	}
	for _, want := range []string{
		`stowage.yaml:5:22: steps.a.mounts[0].cache: cache volume "nope" is not declared`,
		`stowage.yaml:6:5: steps.a.rn: unknown field "rn"`,
		`(did you mean "run"?)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	got := strings.Join(sourceLines(err), " ")
	if !strings.Contains(got, "stowage.yaml:005-005") || !strings.Contains(got, "stowage.yaml:006-006") {
		t.Errorf("error sources %q do not cover lines 5 and 6", got)
	}
}
