package convert

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec"
)

// parseHint is what to do about a line BuildKit's own parser refuses: the
// Dockerfile does not build either.
const parseHint = "fix the line as the Dockerfile reference says (`docker buildx build --check` reports it too), then convert again"

// lineRef is the line BuildKit's instruction parser writes into its
// messages; the position says it already.
var lineRef = regexp.MustCompile(`^dockerfile parse error on line \d+: `)

// dockerfileError is an error of BuildKit's parser as a positioned error:
// FILE:LINE:1, its message, and what to do.
func dockerfileError(err error, file string) error {
	line := 1
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 && le.Locations[0][0].Start.Line > 0 {
		line = le.Locations[0][0].Start.Line
	}
	msg, hint := lineRef.ReplaceAllString(err.Error(), ""), parseHint
	if msg == errNoStage.Error() {
		msg, hint = "the Dockerfile has no FROM", "start a stage with FROM IMAGE; only ARG and comments may come before it"
	}
	return spec.ErrorList{{File: file, Range: spec.Range{Start: spec.Pos{Line: line, Col: 1}}, Msg: msg, Hint: hint}}
}

// errNoStage is BuildKit's parser's word for a Dockerfile without FROM.
var errNoStage = errors.New("no build stage in current context")

// BugError is a spec convert made that does not load: a bug in convert,
// reported with what it wrote rather than written.
type BugError struct {
	Err  error
	Spec []byte
}

func (e *BugError) Error() string {
	return fmt.Sprintf("stowage convert made a spec that does not load, which is a bug in convert (please report it with the Dockerfile): %v\n%s", e.Err, e.Spec)
}

func (e *BugError) Unwrap() error { return e.Err }

// refused says each error of the spec convert wrote at the Dockerfile line
// its field came from. An error convert cannot place is its own bug.
func (c *converter) refused(loadErr error, y []byte, root *yaml.Node) error {
	var list spec.ErrorList
	var doc yaml.Node
	if !errors.As(loadErr, &list) || yaml.Unmarshal(y, &doc) != nil || len(doc.Content) == 0 {
		return &BugError{Err: loadErr, Spec: y}
	}
	lines := map[int]int{}
	c.mapLines(root, doc.Content[0], 0, lines)
	out := make(spec.ErrorList, 0, len(list))
	for _, e := range list {
		line := lines[e.Start.Line]
		if line == 0 {
			return &BugError{Err: loadErr, Spec: y}
		}
		msg := e.Msg
		if e.Path != "" {
			msg = "the converted spec's " + e.Path + ": " + msg
		}
		out = append(out, &spec.Error{File: c.opt.File, Range: spec.Range{Start: spec.Pos{Line: line, Col: 1}}, Msg: msg, Hint: e.Hint})
	}
	return out
}

// mapLines walks the tree render made beside the same tree read back from
// the text, mapping each output line to the Dockerfile line of the most
// specific node on it.
func (c *converter) mapLines(made, read *yaml.Node, inherited int, lines map[int]int) {
	line, own := c.src[made]
	if !own || line == 0 {
		line, own = inherited, false
	}
	if line > 0 && (own || lines[read.Line] == 0) {
		lines[read.Line] = line
	}
	for i := range made.Content {
		if i < len(read.Content) {
			c.mapLines(made.Content[i], read.Content[i], line, lines)
		}
	}
}
