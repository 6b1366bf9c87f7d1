package integration

import (
	"context"
	"testing"
)

// TestNoCacheKeepsVolumes: --no-cache must re-run every step, and must not
// cost the user their caches (moby/buildkit#2447 lost one user ~100k CPU
// hours when it emptied cache mounts). The same RUN value would be answered
// from cache without --no-cache; with it the step runs again and appends to
// the volume it finds still full.
func TestNoCacheKeepsVolumes(t *testing.T) {
	s := needStack(t)
	viaBoth(t, s, func(t *testing.T, b via) {
		ctx := context.Background()
		p := appendProject(t, s, "nocache-"+nonce(), "notes", "")
		b.mustBuild(ctx, t, p, runArg("a"))
		cached := b.mustBuild(ctx, t, p, runArg("a"))
		if got := cached.file(t, "log"); got != "a\n" {
			t.Fatalf("without --no-cache the step re-ran: log %q", got)
		}
		for _, attrs := range []map[string]string{
			{"no-cache": ""},     // --no-cache
			{"no-cache": "work"}, // --no-cache-filter work
		} {
			attrs["build-arg:RUN"] = "a"
			b.mustBuild(ctx, t, p, buildOpts{attrs: attrs})
		}
		res := b.mustBuild(ctx, t, p, runArg("b"))
		if got := res.file(t, "log"); got != "a\na\na\nb\n" {
			t.Fatalf("log %q: want the step re-run by each --no-cache build and the volume kept", got)
		}
	})
}
