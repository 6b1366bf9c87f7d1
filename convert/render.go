package convert

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// render writes the spec; root is its tree, whose nodes c.src maps to
// their Dockerfile lines.
func (c *converter) render() (y []byte, root *yaml.Node, err error) {
	c.src = map[*yaml.Node]int{}
	root = mapping(false)
	add(root, "version", 1)
	add(root, "project", c.opt.Project)
	if len(c.args) > 0 {
		args := mapping(false)
		for _, a := range c.args {
			k := c.at(add(args, a.name, *a.value), args, a.line)
			k.HeadComment = comment(a.comments)
		}
		addNode(root, "args", args)
	}
	if len(c.vorder) > 0 {
		caches := mapping(false)
		for _, v := range c.vorder {
			f := []field{{"key", v.id}}
			if v.sharing != "" {
				f = append(f, field{"sharing", v.sharing})
			}
			if v.owner != "" {
				f = append(f, field{"owner", v.owner})
			}
			if v.mode != "" {
				f = append(f, field{"mode", v.mode})
			}
			c.at(addNode(caches, v.name, value(f)), caches, v.line)
		}
		k := addNode(root, "caches", caches)
		k.HeadComment = comment([]string{
			"The Dockerfile's cache mounts, one volume per id (the key). A Dockerfile",
			"cache mount is shared by every build on the builder; these volumes are",
			"this project's (scope: project). Add `scope: global` to one to share it",
			"with other projects' Stowage builds under the same key. A Dockerfile",
			"still built on this builder keeps its own caches: to share one, give its",
			"--mount=type=cache the id this volume has (`stowage ids` prints it).",
		})
	}
	steps := mapping(false)
	for _, s := range c.steps {
		k := c.at(addNode(steps, s.name, c.stepNode(s)), steps, s.line)
		k.HeadComment = comment(append(append([]string(nil), s.comments...), s.todos...))
	}
	addNode(root, "steps", steps)

	var b bytes.Buffer
	syntax := c.opt.Syntax
	fmt.Fprintf(&b, "# syntax=%s\n", syntax)
	fmt.Fprintf(&b, "# Converted from %s by `stowage convert`.\n", filepath.Base(c.opt.File))
	for _, n := range c.notes {
		fmt.Fprintf(&b, "# %s\n", commentText(n))
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), root, nil
}

// at records that the entry of m whose key is k came from Dockerfile
// line; it returns k.
func (c *converter) at(k, m *yaml.Node, line int) *yaml.Node {
	if line > 0 {
		c.src[k] = line
		c.src[m.Content[len(m.Content)-1]] = line
	}
	return k
}

// list adds a step's list field, each entry with its Dockerfile line and
// comments; none when there are no entries.
func (c *converter) list(m *yaml.Node, key string, items []*item) {
	if len(items) == 0 {
		return
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, it := range items {
		n := value(it.value)
		c.src[n] = it.line
		n.HeadComment = comment(it.comments)
		seq.Content = append(seq.Content, n)
	}
	addNode(m, key, seq)
}

// field adds a step's field, with the line of the instruction that set it.
func (c *converter) field(m *yaml.Node, s *step, key string, v any) {
	c.at(add(m, key, v), m, s.lines[key])
}

func (c *converter) stepNode(s *step) *yaml.Node {
	m := mapping(false)
	c.src[m] = s.line
	if s.fromStep != nil {
		add(m, "from", s.fromStep.name)
	} else {
		add(m, "from", s.from)
	}
	if s.platform != "" {
		add(m, "platform", s.platform)
	}
	if len(s.args) > 0 {
		args := mapping(false)
		for _, a := range s.args {
			if a.unset && !c.referenced[a.name] {
				continue
			}
			var k *yaml.Node
			if a.value == nil {
				k = addNode(args, a.name, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
			} else {
				k = add(args, a.name, *a.value)
			}
			c.at(k, args, a.line)
			k.HeadComment = comment(a.comments)
		}
		if len(args.Content) > 0 {
			addNode(m, "args", args)
		}
	}
	if s.workdir != "" {
		c.field(m, s, "workdir", s.workdir)
	}
	if s.user != "" {
		c.field(m, s, "user", s.user)
	}
	if len(s.env) > 0 {
		env := mapping(false)
		for _, e := range s.env {
			c.at(add(env, e.key, e.value), env, e.line).HeadComment = comment(e.comments)
		}
		addNode(m, "env", env)
	}
	if s.shell != nil {
		c.field(m, s, "shell", s.shell)
	}
	if s.network != "" {
		c.field(m, s, "network", s.network)
	}
	if s.security != "" {
		c.field(m, s, "security", s.security)
	}
	c.list(m, "copy", s.copies)
	c.list(m, "mounts", s.mounts)
	c.list(m, "run", s.runs)
	if s.entrypoint != nil {
		c.field(m, s, "entrypoint", s.entrypoint)
	}
	if s.cmd != nil {
		c.field(m, s, "cmd", s.cmd)
	}
	if len(s.expose) > 0 {
		c.field(m, s, "expose", s.expose)
	}
	if len(s.labels) > 0 {
		labels := mapping(false)
		for _, l := range s.labels {
			c.at(add(labels, l.key, l.value), labels, l.line)
		}
		addNode(m, "labels", labels)
	}
	if len(s.volumes) > 0 {
		c.field(m, s, "volumes", s.volumes)
	}
	if s.stopsignal != "" {
		c.field(m, s, "stopsignal", s.stopsignal)
	}
	if h := s.healthcheck; h != nil {
		if t, ok := h.test.(string); ok && t == "none" {
			c.field(m, s, "healthcheck", "none")
		} else {
			f := []field{{"test", h.test}}
			for _, d := range []field{{"interval", h.interval}, {"timeout", h.timeout}, {"start-period", h.startPeriod}, {"start-interval", h.startInterval}} {
				if d.value != "" {
					f = append(f, d)
				}
			}
			if h.retries > 0 {
				f = append(f, field{"retries", h.retries})
			}
			c.field(m, s, "healthcheck", f)
		}
	}
	return m
}

func mapping(flow bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return n
}

func add(m *yaml.Node, key string, v any) *yaml.Node {
	return addNode(m, key, value(v))
}

func addNode(m *yaml.Node, key string, v *yaml.Node) *yaml.Node {
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	m.Content = append(m.Content, k, v)
	return k
}

// value is the node of a string, bool, number, list of strings or
// mapping of fields; short mappings and lists are written flow-style.
func value(v any) *yaml.Node {
	switch v := v.(type) {
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
		if strings.Contains(v, "\n") {
			// yaml.v3 would write a block scalar even where it cannot
			// hold the string.
			n.Style = yaml.DoubleQuotedStyle
			if readsBack(v, yaml.LiteralStyle) {
				n.Style = yaml.LiteralStyle
			}
		}
		return n
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}
	case uint64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(v, 10)}
	case []string:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range v {
			e := value(s)
			if e.Style == yaml.LiteralStyle {
				n.Style = 0
			}
			n.Content = append(n.Content, e)
		}
		return n
	case []field:
		n := mapping(true)
		for _, f := range v {
			e := value(f.value)
			if e.Style == yaml.LiteralStyle || e.Style == 0 && e.Kind != yaml.ScalarNode {
				n.Style = 0
			}
			addNode(n, f.key, e)
		}
		return n
	case *yaml.Node:
		return v
	case *step:
		// Named once every stage is known.
		return value(v.name)
	}
	panic(fmt.Sprintf("convert: no YAML for %T", v))
}

func comment(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "# " + commentText(l)
	}
	return strings.Join(out, "\n")
}

// commentText is s as a YAML comment can hold it: YAML allows no control
// characters there (nor the BOM and the Unicode line separators, which
// readers disagree on), so each but tab is written as its escape.
func commentText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r != '\t' && (unicode.IsControl(r) || r == '\uFEFF' || r == '\u2028' || r == '\u2029') {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// readsBack reports whether s written in style, nested in block
// collections as the spec nests it, reads back as s. A block scalar cannot
// hold every string (a first line that starts with a tab is read as
// indentation); a quoted one can.
func readsBack(s string, style yaml.Style) bool {
	m := mapping(false)
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	seq.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: style}}
	addNode(m, "k", seq)
	dt, err := yaml.Marshal(m)
	if err != nil {
		return false
	}
	var back map[string][]string
	return yaml.Unmarshal(dt, &back) == nil && len(back["k"]) == 1 && back["k"][0] == s
}
