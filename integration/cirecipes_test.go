package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
	"go.yaml.in/yaml/v3"
)

// TestCIRecipes keeps examples/ci true to the code: the files parse, every
// volume a `stowage cache` line names is one of examples/go's, and every
// STOWAGE_ build arg and --opt they pass is one the frontend reads.
func TestCIRecipes(t *testing.T) {
	root := repoRoot(t)
	dt, err := os.ReadFile(filepath.Join(root, "examples", "go", "stowage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(dt, spec.Options{File: "stowage.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{
		llbgen.ArgCacheImport: true, llbgen.ArgCacheMode: true, llbgen.ArgCacheReset: true, llbgen.ArgCacheTenant: true, llbgen.ArgCacheNamespace: true,
		llbgen.OptCacheImport: true, llbgen.OptCacheMode: true, llbgen.OptCacheReset: true, llbgen.OptCacheTenant: true, llbgen.OptCacheNamespace: true,
	}
	cacheLine := regexp.MustCompile(`stowage cache (export|import) -f examples/go/stowage.yaml ((?:[a-z]+ )+)--(to|from) `)
	option := regexp.MustCompile(`(?:--build-arg (STOWAGE_[A-Z_]+)=|--opt ([a-z-]+)=)`)
	for _, f := range []string{"github-actions.yml", "gitlab-ci.yml", "kubernetes.md"} {
		dt, err := os.ReadFile(filepath.Join(root, "examples", "ci", f))
		if err != nil {
			t.Fatal(err)
		}
		text := string(dt)
		if strings.HasSuffix(f, ".yml") {
			var v any
			if err := yaml.Unmarshal(dt, &v); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if n := len(cacheLine.FindAllString(text, -1)); n == 0 {
				t.Errorf("%s: no stowage cache export/import line", f)
			}
		}
		for _, m := range cacheLine.FindAllStringSubmatch(text, -1) {
			for _, name := range strings.Fields(m[2]) {
				if s.Volume(name) == nil {
					t.Errorf("%s: %q names volume %s, which examples/go does not declare", f, m[0], name)
				}
			}
		}
		for _, m := range option.FindAllStringSubmatch(text, -1) {
			if name := m[1] + m[2]; !known[name] {
				t.Errorf("%s: %s is not an option the frontend reads", f, name)
			}
		}
	}
}
