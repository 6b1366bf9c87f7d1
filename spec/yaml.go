package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec/syntax"
)

// maxNodes bounds how many nodes one decode visits, counting every visit
// through an alias again. A billion-laughs document hits it after a few
// milliseconds instead of exhausting memory; a 1,000-step spec uses ~30,000.
const maxNodes = 1 << 20

// decoder walks yaml.Nodes into the model, collecting errors as it goes.
type decoder struct {
	errs
	// x expands ${NAME} in the values read.
	x       *expander
	pending []rawSource
	// defaultRange locates the default: value.
	defaultRange Range
	visited      int
	// blown is the error reported when the node budget ran out, or nil.
	blown *Error
	// merging holds the mappings whose merge keys are being expanded, to
	// catch a mapping that merges itself (`&a {<<: *a}`).
	merging map[*yaml.Node]bool
}

// resolve follows aliases and charges the node budget. Once the budget is
// spent every node decodes as null, so decoding winds down quickly.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	// A long scalar costs like the nodes it could have been: one alias to a
	// 500 KiB string, repeated, amplifies work and memory just as nodes do.
	if !d.spend(1+len(n.Value)/64, n) {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	return n
}

// spend charges k units of the node budget and reports whether any is left;
// it reports the overrun once.
func (d *decoder) spend(k int, n *yaml.Node) bool {
	d.visited += k
	if d.visited <= maxNodes {
		return true
	}
	if d.blown == nil {
		// Load returns this error alone.
		d.blown = &Error{File: d.file, Range: rangeOf(n), Msg: fmt.Sprintf("the document expands to more than %d nodes through YAML aliases", maxNodes), Hint: "write the document without deeply nested aliases"}
	}
	return false
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
	// Entries cost too: merging one big mapping many times is as costly as
	// the nodes it would expand to.
	if !d.spend(len(n.Content)/2, n) {
		return nil
	}
	var out, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			k = d.resolve(k)
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if d.merging == nil {
				d.merging = map[*yaml.Node]bool{}
			}
			d.merging[n] = true
			merged = append(merged, d.mergeSources(v, path, what)...)
			delete(d.merging, n)
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
	if r := d.resolve(v); r.Kind == yaml.SequenceNode {
		var out []pair
		for _, item := range r.Content {
			out = append(out, d.merge(item, path, what)...)
		}
		return out
	}
	return d.merge(v, path, what)
}

// merge returns the entries of one mapping named by a merge key.
func (d *decoder) merge(v *yaml.Node, path, what string) []pair {
	if d.merging[d.resolve(v)] {
		// Expanding it would never end (or end at the node budget, deep in
		// recursion).
		d.add(rangeOf(v), path, "merge another mapping, not one that contains the merge key", "a merge key includes its own mapping")
		return nil
	}
	return d.pairs(v, path, what)
}

// read decodes a mapping with a fixed set of keys into the grammar's types
// (pointers to package syntax's mapping structs): each key goes to every
// one of dsts that has it, so one mapping may be read as several shapes (a
// mount as each mount type) and the caller picks. Unknown keys are errors
// with a did-you-mean, except "x-" extension keys, which are ignored as in
// Compose and Dalec. It returns the range of every value read, by key.
func (d *decoder) read(n *yaml.Node, path, what string, dsts ...any) fieldRanges {
	return d.readPairs(d.pairs(n, path, what), path, dsts...)
}

// readPairs is read for entries already read by pairs.
func (d *decoder) readPairs(ps []pair, path string, dsts ...any) fieldRanges {
	if len(ps) == 0 {
		return nil
	}
	r := make(fieldRanges, len(ps))
	for _, p := range ps {
		known := false
		for _, dst := range dsts {
			known = syntax.Assign(dst, p.key, p.val) || known
		}
		switch {
		case known:
			r[p.key.Value] = rangeOf(follow(p.val))
		case strings.HasPrefix(p.key.Value, "x-"):
		default:
			var keys []string
			for _, dst := range dsts {
				keys = append(keys, syntax.Keys(dst)...)
			}
			slices.Sort(keys)
			keys = slices.Compact(keys)
			d.add(rangeOf(p.key), join(path, p.key.Value),
				"write one of "+oneOf(keys)+d.suggest(p.key.Value, keys)+", or prefix an extension with x-",
				"unknown field %q", p.key.Value)
		}
	}
	return r
}

// at is a field's value and its path below path; nil when the field is
// not set.
func at[T any](f syntax.Field[T], path string) (*yaml.Node, string) {
	if !f.IsSet() {
		return nil, ""
	}
	return f.Value, join(path, f.Key.Value)
}

// follow resolves aliases without charging the node budget: for nodes
// resolve has already charged.
func follow(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
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

// str is scalar expanded by the expansion stage.
func (d *decoder) str(n *yaml.Node, path, what string) string {
	s, ok := d.scalar(n, path, what)
	if !ok {
		return ""
	}
	// Follow the alias again without charging the budget twice.
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return d.x.expand(n, s, path)
}

// strOK is str that also reports whether the value decoded without errors,
// so callers can skip checks that would only echo the problem.
func (d *decoder) strOK(n *yaml.Node, path, what string) (string, bool) {
	before := len(d.errs.list)
	s := d.str(n, path, what)
	return s, len(d.errs.list) == before
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
	quoted := d.resolve(n).Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0
	switch {
	case quoted && (s == "true" || s == "false"):
		d.add(rangeOf(n), path, "write "+s+" without quotes", "%q is a string, not a boolean", s)
	case s == "true":
		return true
	case s == "false":
		return false
	default:
		d.add(rangeOf(n), path, "write true or false", "%q is not a boolean", s)
	}
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

// envVars decodes a step's env. A name that is empty, holds "=" or white
// space or a control character would not survive the exec's NAME=VALUE
// environment (Dockerfile's ENV refuses the same).
func (d *decoder) envVars(n *yaml.Node, path string) []KeyValue {
	kvs := d.keyValues(n, path)
	for i, kv := range kvs {
		bad := kv.Key == "" || strings.ContainsFunc(kv.Key, func(r rune) bool { return r == '=' || unicode.IsSpace(r) || unicode.IsControl(r) })
		if bad {
			ps := d.pairs(n, path, "")
			d.add(rangeOf(ps[i].key), join(path, kv.Key), "write a name like GOFLAGS: no =, spaces or control characters", "%q is not an environment variable name", kv.Key)
		}
	}
	return kvs
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
		// Cut at a rune boundary, so the message stays valid UTF-8.
		cut := 37
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
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
	// The last child ends last: following it alone keeps this O(depth), not
	// O(size), for a big mapping reached through many aliases.
	if depth > 100 || len(n.Content) == 0 {
		return end
	}
	return max(end, lastLine(n.Content[len(n.Content)-1], depth+1))
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
