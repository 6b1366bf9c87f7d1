package spec

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many nodes one decode visits, counting every visit
// through an alias again. A billion-laughs document hits it after a few
// milliseconds instead of exhausting memory; a 1,000-step spec uses ~30,000.
const maxNodes = 1 << 20

// decoder walks yaml.Nodes into the model, collecting errors as it goes.
type decoder struct {
	errs
	vars    *vars
	pending []rawSource
	// defaultRange locates the default: value.
	defaultRange Range
	visited      int
	blown        bool
}

// resolve follows aliases and charges the node budget. Once the budget is
// spent every node decodes as null, so decoding winds down quickly.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.visited++
	if d.visited > maxNodes {
		if !d.blown {
			d.blown = true
			d.add(rangeOf(n), "", "write the document without deeply nested aliases", "the document expands to more than %d nodes through YAML aliases", maxNodes)
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	return n
}

// pair is one key and value of a mapping.
type pair struct {
	key, val *yaml.Node
}

// pairs returns a mapping's entries in file order, with YAML merge keys
// (`<<: *base`) expanded and explicit keys winning over merged ones. It
// reports duplicate keys and a non-mapping node.
func (d *decoder) pairs(n *yaml.Node, path, what string) []pair {
	n = d.resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.add(rangeOf(n), path, "write "+what, "expected a mapping, found %s", describe(n))
		return nil
	}
	var out, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, d.mergeSources(v, path, what)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.add(rangeOf(k), path, "write a plain string key", "expected a string key, found %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.add(rangeOf(k), join(path, k.Value), "remove one of them or merge their contents",
				"duplicate key %q (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, v})
	}
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; !ok {
			seen[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out
}

func (d *decoder) mergeSources(v *yaml.Node, path, what string) []pair {
	v = d.resolve(v)
	if v.Kind == yaml.SequenceNode {
		var out []pair
		for _, item := range v.Content {
			out = append(out, d.pairs(item, path, what)...)
		}
		return out
	}
	return d.pairs(v, path, what)
}

// fields decodes a mapping with a fixed set of keys, calling each key's
// handler in file order. Unknown keys are errors with a did-you-mean, except
// "x-" extension keys, which are ignored as in Compose and Dalec.
func (d *decoder) fields(n *yaml.Node, path, what string, handlers map[string]func(v *yaml.Node, path string)) {
	d.dispatch(d.pairs(n, path, what), path, handlers)
}

// dispatch is fields for entries already read by pairs.
func (d *decoder) dispatch(ps []pair, path string, handlers map[string]func(v *yaml.Node, path string)) {
	for _, p := range ps {
		h, ok := handlers[p.key.Value]
		if !ok {
			if strings.HasPrefix(p.key.Value, "x-") {
				continue
			}
			known := make([]string, 0, len(handlers))
			for k := range handlers {
				known = append(known, k)
			}
			slices.Sort(known)
			d.add(rangeOf(p.key), join(path, p.key.Value),
				"write one of "+oneOf(known)+didYouMean(p.key.Value, known)+", or prefix an extension with x-",
				"unknown field %q", p.key.Value)
			continue
		}
		h(p.val, join(path, p.key.Value))
	}
}

// scalar returns a scalar's text as written; YAML's typing is ignored so that
// `1.10` stays "1.10". It reports other kinds and returns ok=false.
func (d *decoder) scalar(n *yaml.Node, path, what string) (string, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.add(rangeOf(n), path, "write "+what, "expected %s, found %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

// str is scalar with ${NAME} interpolation.
func (d *decoder) str(n *yaml.Node, path, what string) string {
	s, ok := d.scalar(n, path, what)
	if !ok {
		return ""
	}
	return d.interpolate(d.resolve(n), s, path)
}

// strs decodes a list of strings (or, with single=true, also one string),
// interpolated.
func (d *decoder) strs(n *yaml.Node, path, what string, single bool) []string {
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode && !isNull(n) && single {
		return []string{d.str(n, path, what)}
	}
	if n.Kind != yaml.SequenceNode {
		d.add(rangeOf(n), path, "write a list, like [a, b]", "expected a list, found %s", describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		out = append(out, d.str(item, index(path, i), what))
	}
	return out
}

// bool decodes true or false; YAML 1.1's yes/no/on/off are rejected because
// they surprise people.
func (d *decoder) bool(n *yaml.Node, path string) bool {
	s, ok := d.scalar(n, path, "true or false")
	if !ok {
		return false
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	d.add(rangeOf(n), path, "write true or false", "%q is not a boolean", s)
	return false
}

// keyValues decodes a string-to-string mapping in file order, interpolating
// the values.
func (d *decoder) keyValues(n *yaml.Node, path string) []KeyValue {
	ps := d.pairs(n, path, "a mapping of names to strings")
	out := make([]KeyValue, 0, len(ps))
	for _, p := range ps {
		out = append(out, KeyValue{Key: p.key.Value, Value: d.str(p.val, join(path, p.key.Value), "a string")})
	}
	return out
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" && (n.Value == "" || n.Value == "~" || n.Value == "null")
}

func describe(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode:
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!") + " " + quoteShort(n.Value)
	}
	return "an unexpected node"
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}

// rangeOf spans a node from its start to the last line of its last
// descendant (or of a multi-line block scalar), so a failing step or run
// command highlights all of its lines.
func rangeOf(n *yaml.Node) Range {
	if n == nil {
		return Range{}
	}
	start := Pos{Line: n.Line, Col: n.Column}
	return Range{Start: start, End: Pos{Line: lastLine(n, 0)}}
}

func lastLine(n *yaml.Node, depth int) int {
	end := n.Line
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		// Block scalars start on the line after their indicator.
		end += strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
	} else if n.Kind == yaml.ScalarNode {
		end += strings.Count(n.Value, "\n")
	}
	if depth > 100 {
		return end
	}
	for _, c := range n.Content {
		end = max(end, lastLine(c, depth+1))
	}
	return end
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
