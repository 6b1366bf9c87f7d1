package spec

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/stowage-build/stowage/spec/syntax"
)

// named records which method a visitor called.
type named struct{}

func (named) Cache(*Mount) string  { return "cache" }
func (named) Tmpfs(*Mount) string  { return "tmpfs" }
func (named) Bind(*Mount) string   { return "bind" }
func (named) Secret(*Mount) string { return "secret" }
func (named) SSH(*Mount) string    { return "ssh" }

// TestVisitMountCoversMountTypes: every type Load accepts reaches the
// visitor method of its own name, so a type added to MountTypes without a
// case in VisitMount fails here, and one added to MountVisitor fails to
// compile above.
func TestVisitMountCoversMountTypes(t *testing.T) {
	var got []string
	for _, typ := range MountTypes {
		got = append(got, VisitMount[string](&Mount{Type: typ}, named{}))
	}
	want := make([]string, len(MountTypes))
	for i, typ := range MountTypes {
		want[i] = string(typ)
	}
	if !slices.Equal(got, want) {
		t.Errorf("VisitMount called %q for %q", got, want)
	}
}

// TestVisitTokenCoversKinds: each kind Load makes reaches its method.
func TestVisitTokenCoversKinds(t *testing.T) {
	for _, tc := range []struct {
		kind TokenKind
		want string
	}{{LiteralToken{"x"}, "x"}, {HashToken{[]string{"go.sum"}}, "hash:go.sum"}, {DigestToken{"debian"}, "digest:debian"}} {
		if got := VisitToken[string](Token{Kind: tc.kind}, shown{}); got != tc.want {
			t.Errorf("%T: %q, want %q", tc.kind, got, tc.want)
		}
	}
}

type sourceNamed struct{}

func (sourceNamed) Image(Source) string   { return "image" }
func (sourceNamed) Step(Source) string    { return "step" }
func (sourceNamed) Scratch(Source) string { return "scratch" }
func (sourceNamed) Context(Source) string { return "context" }
func (sourceNamed) URL(Source) string     { return "url" }
func (sourceNamed) Git(Source) string     { return "git" }
func (sourceNamed) Content(Source) string { return "content" }

// TestVisitSourceCoversKinds: each source kind reaches the method of its
// own name.
func TestVisitSourceCoversKinds(t *testing.T) {
	for _, k := range []SourceKind{SourceImage, SourceStep, SourceScratch, SourceContext, SourceURL, SourceGit, SourceContent} {
		if got := VisitCopySource[string](Source{Kind: k}, sourceNamed{}); got != string(k) {
			t.Errorf("%s reached %s", k, got)
		}
	}
}

// TestMountShapesAreTheGrammars checks that the decoder reads mounts as
// exactly the shapes the grammar's Mount union lists, so the schema has a
// shape for every mount type VisitMount dispatches.
func TestMountShapesAreTheGrammars(t *testing.T) {
	var union []reflect.Type
	u := reflect.TypeFor[syntax.Mount]()
	for i := range u.NumField() {
		if f := u.Field(i); f.IsExported() {
			union = append(union, f.Type)
		}
	}
	var read []reflect.Type
	for _, sh := range (&mountShapes{}).all() {
		read = append(read, reflect.TypeOf(sh).Elem())
	}
	if !slices.Equal(union, read) {
		t.Errorf("the grammar's mounts are %v, the decoder reads %v", union, read)
	}
	for _, typ := range MountTypes {
		shape := VisitMount(&Mount{Type: typ}, &mountShapes{d: &decoder{}})
		if !slices.Contains(read, reflect.TypeOf(shape).Elem()) {
			t.Errorf("a %s mount is read as %T, not one of the grammar's shapes", typ, shape)
		}
	}
}

// TestPlatformArgNames keeps the grammar's names of BuildKit's automatic
// args those PlatformArgs gives values for.
func TestPlatformArgNames(t *testing.T) {
	if got := slices.Sorted(maps.Keys(PlatformArgs(nil, nil))); !slices.Equal(got, syntax.PlatformArgs) {
		t.Errorf("PlatformArgs gives %q, the grammar names %q", got, syntax.PlatformArgs)
	}
}
