package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// expander is the expansion stage: it expands ${NAME} in the values the
// model builder reads, given one Load's build args and platform args. The
// builder calls it as it reads each interpolated field, in scope order (the
// top-level args in file order, then each step with its own args in scope),
// the way dockerfile2llb expands with shell.Lex at dispatch: the YAML is
// read once by Parse, the grammar's tree never depends on args or the
// platform, and only what the expander returns does.
type expander struct {
	*errs
	// vars are the names ${NAME} can refer to now: BuildKit's automatic
	// platform args, the args declared so far, and the current step's.
	vars map[string]string
	// buildArgs are the --build-arg values; platformArgs are BuildKit's
	// automatic args, which steps may list but not give defaults.
	buildArgs, platformArgs map[string]string
	// src is the spec's text, split into lines when an error needs them.
	src   []byte
	lines []string
	// expanded counts the bytes ${NAME} references added, against
	// MaxExpandedSize; overExpanded stops expansion once it is spent.
	expanded     int
	overExpanded bool
	// declared lists every arg the file declares, before any is decoded,
	// so an undefined ${NAME} can say why it is not visible.
	declared declarations
	// failed is set by an interpolation that failed or used a poisoned
	// arg; poisoned are the args whose value did.
	failed   bool
	poisoned map[string]bool
}

// newExpander starts one Load's expansion with only the platform args in
// scope; it reports to e.
func newExpander(e *errs, src []byte, buildArgs, platformArgs map[string]string) *expander {
	return &expander{errs: e, src: src, vars: maps.Clone(platformArgs), buildArgs: buildArgs, platformArgs: platformArgs}
}

// names are the names in scope, sorted, for a did-you-mean.
func (x *expander) names() []string {
	return slices.Sorted(maps.Keys(x.vars))
}

// lookup returns the value ${name} has now.
func (x *expander) lookup(name string) (string, bool) {
	v, ok := x.vars[name]
	return v, ok
}

// define brings an arg into scope for the fields read after it. Its value
// is its default unless a --build-arg overrides it; a default whose
// expansion failed (failed) poisons the arg, so values that use it echo
// that error instead of reporting another. It returns the arg's value.
func (x *expander) define(name, dflt string, failed bool) string {
	value, overridden := x.buildArgs[name]
	if !overridden {
		value = dflt
		if failed {
			if x.poisoned == nil {
				x.poisoned = map[string]bool{}
			}
			x.poisoned[name] = true
		}
	}
	x.vars[name] = value
	return value
}

// enterStep opens a step's scope, where its args are visible; leaveStep
// closes it with what enterStep returned.
func (x *expander) enterStep() (outer map[string]string) {
	outer = x.vars
	x.vars = maps.Clone(outer)
	return outer
}

func (x *expander) leaveStep(outer map[string]string) { x.vars = outer }

// Interpolation is bounded twice: args that double each other would
// otherwise turn a spec of a few hundred bytes into terabytes, and many
// references to one big arg multiply it by the size of the file.
const (
	// MaxValueSize bounds one value after ${NAME} expansion.
	MaxValueSize = 64 << 10
	// MaxExpandedSize bounds what expansion adds to a whole spec.
	MaxExpandedSize = 8 << 20
)

// expand expands ${NAME} in s, the value of n at path, and turns $$ into $. Any other $ is left
// alone, so shell code like `echo $HOME` passes through. An unknown name is an
// error, never an empty string: a typo must not silently change a cache key.
func (x *expander) expand(n *yaml.Node, s, path string) string {
	if !strings.Contains(s, "$") || x.overExpanded {
		return s
	}
	before := len(x.list) + x.dropped
	defer func() {
		if len(x.list)+x.dropped > before {
			x.failed = true
			x.echo(rangeOf(n).Start)
		}
	}()
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				x.add(x.offsetRange(n, i), path, "close it with } or write $${ for a literal ${", "unterminated ${ in %s", quoteShort(s))
				return s
			}
			name := s[i+2 : i+2+end]
			if !ValidArgName(name) {
				x.add(x.offsetRange(n, i), path, "only ${NAME} is expanded; write $${"+name+"} to pass it to the shell as written",
					"${%s} is not a reference to a name", name)
			} else if val, ok := x.vars[name]; ok {
				if x.poisoned[name] {
					// Its own error was reported; this value is an echo.
					x.failed = true
					x.echo(rangeOf(n).Start)
				}
				if b.Len()+len(val)+len(s)-i-3-end > MaxValueSize {
					x.add(x.offsetRange(n, i), path, fmt.Sprintf("keep values under %d KiB after expansion; pass large data as a file in the build context", MaxValueSize>>10),
						"${%s} makes the value longer than %d bytes", name, MaxValueSize)
					return s
				}
				x.expanded += len(val)
				if x.expanded > MaxExpandedSize {
					x.overExpanded = true
					x.add(x.offsetRange(n, i), path, fmt.Sprintf("refer to large args less often; ${NAME} may add at most %d MiB to a spec", MaxExpandedSize>>20),
						"${%s}: expanding the spec's ${NAME} references makes it larger than %d bytes", name, MaxExpandedSize)
					return s
				}
				b.WriteString(val)
			} else {
				msg, hint := x.declared.whyUndefined(name, path)
				if msg == "" {
					msg = "${" + name + "} is not defined"
					hint = "declare it under args:, or write $${" + name + "} for a literal"
					if !x.full() {
						hint += didYouMean(name, x.names())
					}
				}
				x.add(x.offsetRange(n, i), path, hint, "%s", msg)
			}
			i += 3 + end
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// ValidArgName reports whether s is an arg name: a letter or underscore,
// then letters, digits or underscores.
func ValidArgName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// offsetRange points at byte off of a scalar's value when the value sits on
// one line as written, and at the scalar itself otherwise.
func (x *expander) offsetRange(n *yaml.Node, off int) Range {
	r := rangeOf(n)
	if n != nil && n.Style == yaml.LiteralStyle {
		return x.literalOffset(n, off, r)
	}
	if n == nil || strings.Contains(n.Value[:off], "\n") {
		return r
	}
	// YAML columns count characters, not bytes.
	at := r
	switch cols := utf8.RuneCountInString(n.Value[:off]); n.Style {
	case 0:
		at.Start.Col += cols
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		at.Start.Col += cols + 1
	default:
		return r
	}
	// Escapes, '' and folded lines make the value differ from the text as
	// written: trust the column only where the file shows the reference.
	if !strings.HasPrefix(x.sourceAt(at.Start), "${") {
		return r
	}
	return at
}

// literalOffset points at byte off of a literal block scalar (run: |): its
// lines are the file's lines from the one after the |, each indented alike,
// so a reference deep in a script is reported on its own line.
func (x *expander) literalOffset(n *yaml.Node, off int, r Range) Range {
	before := n.Value[:off]
	line := n.Line + 1 + strings.Count(before, "\n")
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	text := x.sourceAt(Pos{Line: line, Col: 1})
	indent := len(text) - len(strings.TrimLeft(text, " "))
	at := Range{Start: Pos{Line: line, Col: indent + col + 1}, End: Pos{Line: line, Col: indent + col + 1}}
	// A block with an explicit indentation indicator, or tabs, shifts the
	// text: trust the position only where the file shows the reference.
	if !strings.HasPrefix(x.sourceAt(at.Start), "${") {
		return r
	}
	return at
}

// sourceAt returns the rest of the spec's line from p.
func (x *expander) sourceAt(p Pos) string {
	if x.lines == nil {
		x.lines = strings.Split(string(x.src), "\n")
	}
	if p.Line < 1 || p.Line > len(x.lines) {
		return ""
	}
	line := x.lines[p.Line-1]
	for range p.Col - 1 {
		_, size := utf8.DecodeRuneInString(line)
		if size == 0 {
			return ""
		}
		line = line[size:]
	}
	return line
}

// declarations are the args a spec declares: top-level ones in file order
// with their raw values, and which steps declare each step arg.
type declarations struct {
	top      map[string]declaredArg
	stepArgs map[string][]string
}

type declaredArg struct {
	line int
	raw  string // the default as written, before expansion
}

// declaredArgs reads the arg names of the top-level args: and of every
// step's args:, without decoding (or reporting) anything.
func declaredArgs(root []pair) declarations {
	ds := declarations{top: map[string]declaredArg{}, stepArgs: map[string][]string{}}
	// Aliases are followed without charging the node budget: this pass
	// reads a few names, and the decode proper charges for everything.
	deref := func(n *yaml.Node) *yaml.Node {
		for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
			n = n.Alias
		}
		return n
	}
	mapping := func(n *yaml.Node) []*yaml.Node {
		if n = deref(n); n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		return n.Content
	}
	for _, p := range root {
		switch p.key.Value {
		case "args":
			c := mapping(p.val)
			for i := 0; i+1 < len(c); i += 2 {
				raw := deref(c[i+1])
				if raw != nil && raw.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(raw.Content); j += 2 {
						if raw.Content[j].Value == "default" {
							raw = deref(raw.Content[j+1])
							break
						}
					}
				}
				if raw != nil {
					ds.top[c[i].Value] = declaredArg{line: c[i].Line, raw: raw.Value}
				}
			}
		case "steps":
			c := mapping(p.val)
			for i := 0; i+1 < len(c); i += 2 {
				st := mapping(c[i+1])
				for j := 0; j+1 < len(st); j += 2 {
					if st[j].Value != "args" {
						continue
					}
					a := deref(st[j+1])
					if a == nil {
						continue
					}
					switch a.Kind {
					case yaml.MappingNode:
						for k := 0; k+1 < len(a.Content); k += 2 {
							ds.stepArgs[a.Content[k].Value] = append(ds.stepArgs[a.Content[k].Value], c[i].Value)
						}
					case yaml.SequenceNode:
						for _, e := range a.Content {
							ds.stepArgs[e.Value] = append(ds.stepArgs[e.Value], c[i].Value)
						}
					}
				}
			}
		}
	}
	return ds
}

// whyUndefined says why ${name}, met at path, has no value although the
// spec declares it: a later top-level arg (in a cycle or not), or a step's
// own arg used where only top-level args are visible. Empty when name is
// declared nowhere.
func (ds declarations) whyUndefined(name, path string) (msg, hint string) {
	if a, ok := ds.top[name]; ok {
		cur, isArg := strings.CutPrefix(path, "args.")
		cur, _, _ = strings.Cut(cur, ".")
		if isArg && strings.Contains(a.raw, "${"+cur+"}") {
			return fmt.Sprintf("${%s} refers to arg %s, declared below at line %d, which refers back to ${%s}: the two args form a cycle", name, name, a.line, cur),
				"give one of them a value that does not refer to the other"
		}
		if strings.HasPrefix(path, "args.") {
			return fmt.Sprintf("${%s} refers to arg %s, declared below at line %d; an arg sees only the args above it", name, name, a.line),
				"move " + name + " above this arg"
		}
	}
	if steps, ok := ds.stepArgs[name]; ok {
		step, inStep := strings.CutPrefix(path, "steps.")
		step, _, _ = strings.Cut(step, ".")
		switch {
		case !inStep:
			return fmt.Sprintf("${%s} is an arg of step %s only; here only the top-level args are visible", name, strings.Join(steps, ", ")),
				"declare " + name + " under the top-level args:"
		case !slices.Contains(steps, step):
			return fmt.Sprintf("${%s} is an arg of step %s only; step %s does not declare it", name, strings.Join(steps, ", "), step),
				"add " + name + " to step " + step + "'s args:, or declare it under the top-level args:"
		}
	}
	return "", ""
}
