package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpecCannotReachHostFiles (docs/security.md): a spec sees only what the
// client sends. A copy or bind of a path above the context, or of a symlink
// in the context that points at a host file, never yields the host file.
func TestSpecCannotReachHostFiles(t *testing.T) {
	s := needStack(t)
	outside := t.TempDir()
	marker := "host-only-" + nonce()
	writeFile(t, filepath.Join(outside, "marker"), marker)
	for name, tc := range map[string]struct{ step string }{
		"copy above the context": {`copy: [{src: ../marker, dest: /got}]
    run: "true"`},
		"copy a symlink to a host file": {`copy: [{src: hostlink, dest: /got}]
    run: "true"`},
		"bind a symlink to a host file": {`mounts: [{type: bind, from: context, src: /, path: /ctx}]
    run: cat /ctx/hostlink > /got 2>/dev/null || echo unreadable > /got`},
	} {
		t.Run(name, func(t *testing.T) {
			p := newProject(t, s, `project: host-paths
steps:
  s:
    from: [[.Busybox]]
    `+tc.step+`
  out:
    from: scratch
    copy: [{from: s, src: /got, dest: /got}]
`, nil)
			// The context is a directory beside the marker's.
			if err := os.Symlink(filepath.Join(outside, "marker"), filepath.Join(p.dir, "hostlink")); err != nil {
				t.Fatal(err)
			}
			res, err := s.build(context.Background(), t, p, buildOpts{})
			if err != nil {
				if strings.Contains(err.Error(), marker) {
					t.Fatalf("the error shows the host file: %v", err)
				}
				return // refused: the host file was not reached
			}
			if got, err := os.ReadFile(filepath.Join(res.out, "got")); err == nil && strings.Contains(string(got), marker) {
				t.Errorf("the build read the host file %s", filepath.Join(outside, "marker"))
			}
		})
	}
}
