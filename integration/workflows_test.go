package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/scaffold"
)

// TestReleaseFilesAgree keeps the release and CI files true to the code
// and to each other: ci.yml runs the README's test command and hack/compat
// on the oldest supported BuildKit; release.yml builds the image for the
// platforms TestReleaseImage builds, under the name init's # syntax= line
// uses; goreleaser ships the platforms TestCrossCompiles builds; hack/compat
// starts its matrix at the oldest supported BuildKit, and the README's
// support table lists every version of that matrix.
func TestReleaseFilesAgree(t *testing.T) {
	root := repoRoot(t)
	read := func(name string) string {
		t.Helper()
		dt, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(dt)
	}
	type workflow struct {
		Jobs map[string]struct {
			Env      map[string]string
			Strategy struct{ Matrix map[string][]string }
			Steps    []struct {
				Name, Run, Uses string
				With            map[string]string
			}
		}
	}
	parse := func(name string) workflow {
		t.Helper()
		var w workflow
		if err := yaml.Unmarshal([]byte(read(name)), &w); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return w
	}
	runs := func(w workflow, job string) string {
		var b strings.Builder
		for _, s := range w.Jobs[job].Steps {
			b.WriteString(s.Run + "\n")
		}
		return b.String()
	}

	readme := read("README.md")
	testCmd := regexp.MustCompile(`(?m)^(hack/test)\b`).FindString(readme[:min(len(readme), 3000)])
	if testCmd == "" {
		t.Fatal("the README's first screen shows no test command")
	}
	ci := parse(".github/workflows/ci.yml")
	if !strings.Contains(runs(ci, "test"), "CI=true "+testCmd) {
		t.Errorf("ci.yml's test job does not run the README's test command %q with CI=true:\n%s", testCmd, runs(ci, "test"))
	}
	if m := ci.Jobs["compat"].Strategy.Matrix["buildkit"]; !slices.Contains(m, llbgen.OldestBuildKit) || !strings.Contains(runs(ci, "compat"), "hack/compat") {
		t.Errorf("ci.yml's compat job runs %v, want hack/compat on %s", m, llbgen.OldestBuildKit)
	}

	rel := parse(".github/workflows/release.yml")
	image := rel.Jobs["image"]
	if got := strings.Split(image.Env["PLATFORMS"], ","); !slices.Equal(got, releasePlatforms) {
		t.Errorf("release.yml builds %q, TestReleaseImage %q", got, releasePlatforms)
	}
	name, _, _ := strings.Cut(scaffold.DefaultSyntax, ":")
	if image.Env["IMAGE"] != name {
		t.Errorf("release.yml pushes %s, stowage init writes # syntax=%s", image.Env["IMAGE"], scaffold.DefaultSyntax)
	}
	for _, want := range []string{"--attest type=sbom", "--attest type=provenance,mode=max", "rewrite-timestamp=true", "SOURCE_DATE_EPOCH", "go run ./cmd/stowage build"} {
		if !strings.Contains(runs(rel, "image"), want) {
			t.Errorf("release.yml's image job lacks %q", want)
		}
	}
	for _, ex := range []string{"hello", "go"} {
		if first := strings.SplitN(read("examples/"+ex+"/stowage.yaml"), "\n", 2)[0]; first != "# syntax="+scaffold.DefaultSyntax {
			t.Errorf("examples/%s starts %q, want the published image's # syntax= line", ex, first)
		}
	}

	var gr struct {
		Builds []struct{ Goos, Goarch []string }
	}
	if err := yaml.Unmarshal([]byte(read(".goreleaser.yaml")), &gr); err != nil || len(gr.Builds) != 1 {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	cross := read("cmd/stowage/crosscompile_test.go")
	for _, p := range append(gr.Builds[0].Goos, gr.Builds[0].Goarch...) {
		if !strings.Contains(cross, `"`+p+`"`) {
			t.Errorf(".goreleaser.yaml ships %s, which TestCrossCompiles does not build", p)
		}
	}

	m := regexp.MustCompile(`(?m)^VERSIONS=\(([^)]*)\)`).FindStringSubmatch(read("hack/compat"))
	if m == nil {
		t.Fatal("hack/compat has no VERSIONS=(…)")
	}
	versions := strings.Fields(m[1])
	ours := regexp.MustCompile(`(?m)^BUILDKIT_VERSION=(\S+)`).FindStringSubmatch(read("hack/lib.sh"))
	if ours == nil {
		t.Fatal("hack/lib.sh has no BUILDKIT_VERSION=")
	}
	if versions[0] != llbgen.OldestBuildKit {
		t.Errorf("hack/compat's matrix starts at %s, the oldest supported BuildKit is %s", versions[0], llbgen.OldestBuildKit)
	}
	for _, v := range versions {
		if v == `"$BUILDKIT_VERSION"` {
			v = ours[1]
		}
		if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(v) + ` \|`).MatchString(readme) {
			t.Errorf("the README's support table has no row for %s", v)
		}
	}
}
