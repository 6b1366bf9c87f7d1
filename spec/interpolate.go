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
				hint := "declare it under args:, or write $${" + name + "} for a literal"
				if !d.full() {
					hint += didYouMean(name, d.vars.names())
				}
				d.add(d.offsetRange(n, i), path, hint, "${%s} is not defined", name)
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
