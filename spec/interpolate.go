package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// vars are the names ${NAME} can refer to: declared args and BuildKit's
// automatic platform args.
type vars struct {
	m map[string]string
}

func (v *vars) names() []string {
	return slices.Sorted(maps.Keys(v.m))
}

// Interpolation is bounded twice: args that double each other would
// otherwise turn a spec of a few hundred bytes into terabytes, and many
// references to one big arg multiply it by the size of the file.
const (
	// MaxValueSize bounds one value after ${NAME} expansion.
	MaxValueSize = 64 << 10
	// MaxExpandedSize bounds what expansion adds to a whole spec.
	MaxExpandedSize = 8 << 20
)

// interpolate expands ${NAME} in s and turns $$ into $. Any other $ is left
// alone, so shell code like `echo $HOME` passes through. An unknown name is an
// error, never an empty string: a typo must not silently change a cache key.
func (d *decoder) interpolate(n *yaml.Node, s, path string) string {
	if !strings.Contains(s, "$") || d.overExpanded {
		return s
	}
	before := len(d.errs.list) + d.dropped
	defer func() {
		if len(d.errs.list)+d.dropped > before {
			d.failed = true
			d.echo(rangeOf(n).Start)
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
				d.add(d.offsetRange(n, i), path, "close it with } or write $${ for a literal ${", "unterminated ${ in %s", quoteShort(s))
				return s
			}
			name := s[i+2 : i+2+end]
			if !validName(name) {
				d.add(d.offsetRange(n, i), path, "only ${NAME} is expanded; write $${"+name+"} to pass it to the shell as written",
					"${%s} is not a reference to a name", name)
			} else if val, ok := d.vars.m[name]; ok {
				if d.poisoned[name] {
					// Its own error was reported; this value is an echo.
					d.failed = true
					d.echo(rangeOf(n).Start)
				}
				if b.Len()+len(val)+len(s)-i-3-end > MaxValueSize {
					d.add(d.offsetRange(n, i), path, fmt.Sprintf("keep values under %d KiB after expansion; pass large data as a file in the build context", MaxValueSize>>10),
						"${%s} makes the value longer than %d bytes", name, MaxValueSize)
					return s
				}
				d.expanded += len(val)
				if d.expanded > MaxExpandedSize {
					d.overExpanded = true
					d.add(d.offsetRange(n, i), path, fmt.Sprintf("refer to large args less often; ${NAME} may add at most %d MiB to a spec", MaxExpandedSize>>20),
						"${%s}: expanding the spec's ${NAME} references makes it larger than %d bytes", name, MaxExpandedSize)
					return s
				}
				b.WriteString(val)
			} else {
				msg, hint := d.declared.whyUndefined(name, path)
				if msg == "" {
					msg = "${" + name + "} is not defined"
					hint = "declare it under args:, or write $${" + name + "} for a literal"
					if !d.full() {
						hint += didYouMean(name, d.vars.names())
					}
				}
				d.add(d.offsetRange(n, i), path, hint, "%s", msg)
			}
			i += 3 + end
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// validName reports whether s is an arg name: a letter or underscore, then
// letters, digits or underscores.
func validName(s string) bool {
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
func (d *decoder) offsetRange(n *yaml.Node, off int) Range {
	r := rangeOf(n)
	if n != nil && n.Style == yaml.LiteralStyle {
		return d.literalOffset(n, off, r)
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
	if !strings.HasPrefix(d.sourceAt(at.Start), "${") {
		return r
	}
	return at
}

// literalOffset points at byte off of a literal block scalar (run: |): its
// lines are the file's lines from the one after the |, each indented alike,
// so a reference deep in a script is reported on its own line.
func (d *decoder) literalOffset(n *yaml.Node, off int, r Range) Range {
	before := n.Value[:off]
	line := n.Line + 1 + strings.Count(before, "\n")
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	text := d.sourceAt(Pos{Line: line, Col: 1})
	indent := len(text) - len(strings.TrimLeft(text, " "))
	at := Range{Start: Pos{Line: line, Col: indent + col + 1}, End: Pos{Line: line, Col: indent + col + 1}}
	// A block with an explicit indentation indicator, or tabs, shifts the
	// text: trust the position only where the file shows the reference.
	if !strings.HasPrefix(d.sourceAt(at.Start), "${") {
		return r
	}
	return at
}

// sourceAt returns the rest of the spec's line from p.
func (d *decoder) sourceAt(p Pos) string {
	if d.lines == nil {
		d.lines = strings.Split(string(d.src), "\n")
	}
	if p.Line < 1 || p.Line > len(d.lines) {
		return ""
	}
	line := d.lines[p.Line-1]
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
func declaredArgs(d *decoder, root []pair) declarations {
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
