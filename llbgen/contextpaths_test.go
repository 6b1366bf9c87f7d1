package llbgen

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

func TestContextPaths(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       map[string][]string
	}{
		{"copy, bind and seed of the main context", `project: p
caches: {c: {key: c}}
steps:
  s:
    from: scratch
    copy: [{src: ./b.txt, dest: /}, {src: "*.go", dest: /src/}, {src: "a/**/x", dest: /, parents: true}]
    mounts: [{type: bind, src: /m, path: /m}, {cache: c, path: /c, source: {context: seed}}]
    run: "true"
`, map[string][]string{"": {"*.go", "a/**/x", "b.txt", "m", "seed"}}},
		{"the root sends everything", `project: p
steps:
  s: {from: scratch, copy: [{src: a, dest: /}, {src: ., dest: /all}]}
`, map[string][]string{"": nil}},
		{"a step from a context sends all of it", `project: p
steps:
  s: {from: "context:base", copy: [{from: "context:assets", src: x/y, dest: /}]}
`, map[string][]string{"base": nil, "assets": {"x/y"}}},
		{"only the target's steps", `project: p
default: a
steps:
  dep: {from: scratch, copy: [{src: dep.txt, dest: /}]}
  a: {from: dep, copy: [{src: a.txt, dest: /}]}
  other: {from: scratch, copy: [{src: big.bin, dest: /}]}
`, map[string][]string{"": {"a.txt", "dep.txt"}}},
		{"no context read", `project: p
steps:
  s: {from: scratch, copy: [{from: "busybox", src: /bin/sh, dest: /}]}
`, map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ContextPaths(loadYAML(t, []byte(tc.yaml)), ""); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestTransferSendsEveryStepsPaths: export and import lower every step, so
// their local sources carry what every step reads, not only the default
// target's.
func TestTransferSendsEveryStepsPaths(t *testing.T) {
	s := loadYAML(t, []byte(`project: p
caches: {lint: {key: lint}}
default: app
steps:
  lintbase: {from: "busybox:1.37", copy: [{src: .golangci.yml, dest: /}]}
  lint: {from: lintbase, mounts: [{cache: lint, path: /c}], run: "true"}
  app: {from: "busybox:1.37", copy: [{src: go.mod, dest: /}]}
`))
	opt := testOptions()
	opt.MainContext = nil
	parts, err := Export(context.Background(), s, opt, []string{"lint"})
	if err != nil {
		t.Fatal(err)
	}
	def, err := parts[0].State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "local://") {
			found = true
			if fp := src.Attrs[pb.AttrFollowPaths]; fp != "" && !strings.Contains(fp, ".golangci.yml") {
				t.Errorf("the export's local source follows %s, not .golangci.yml, which step lintbase copies", fp)
			}
		}
	}
	if !found {
		t.Fatal("the export reads no local source")
	}
}
