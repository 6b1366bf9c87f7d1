package spec

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec/syntax"
)

// stepArgs decodes a step's args: a list of names of top-level or platform
// args (`[GO_VERSION, TARGETARCH]`), or a mapping of names to defaults
// (`{VERSION: dev}`, `{VERSION: {default: dev, description: …}}`), where a
// name without a value is a top-level or platform arg too. Like Dockerfile's
// ARG in a stage: --build-arg NAME=… overrides a step's default, and each
// arg is in scope for ${NAME} in the step's fields once decoded.
func (d *decoder) stepArgs(n *yaml.Node, p string) []*Arg {
	n = d.resolve(n)
	var out []*Arg
	switch {
	case isNull(n):
	case n.Kind == yaml.SequenceNode:
		seen := map[string]bool{}
		for i, item := range n.Content {
			item = d.resolve(item)
			ipath := index(p, i)
			name, ok := d.scalar(item, ipath, "an arg name")
			if !ok {
				continue
			}
			if seen[name] {
				d.add(rangeOf(item), ipath, "list each arg once", "arg %q is listed twice", name)
				continue
			}
			seen[name] = true
			if a := d.stepArg(name, rangeOf(item), ipath, nil); a != nil {
				out = append(out, a)
			}
		}
	case n.Kind == yaml.MappingNode:
		for _, kv := range d.pairs(n, p, "a mapping of arg names to defaults") {
			if a := d.stepArg(kv.key.Value, rangeOf(kv.key), join(p, kv.key.Value), kv.val); a != nil {
				out = append(out, a)
			}
		}
	default:
		d.add(rangeOf(n), p, "write a list of arg names like [GO_VERSION, TARGETARCH], or a mapping of names to defaults like {VERSION: dev}",
			"expected a list or a mapping, found %s", describe(n))
	}
	return out
}

// stepArg decodes one arg of a step; val is nil for a list entry.
func (d *decoder) stepArg(name string, r Range, p string, val *yaml.Node) *Arg {
	if !ValidArgName(name) {
		d.add(r, p, "use letters, digits and underscores, starting with a letter or underscore", "%q is not a valid arg name", name)
		return nil
	}
	a := &Arg{Name: name, Range: r}
	hasDefault := false
	if val != nil {
		a.Range.End = rangeOf(val).End
		v := d.resolve(val)
		switch {
		case v.Kind == yaml.MappingNode:
			var decl syntax.ArgDecl
			d.read(v, p, "a mapping with default: and description:", &decl)
			if v, path := at(decl.Default, p); v != nil {
				hasDefault = true
				a.Default = d.str(v, path, "a string")
			}
			if v, path := at(decl.Description, p); v != nil {
				a.Description, _ = d.scalar(v, path, "a string")
			}
		case !isNull(v):
			hasDefault = true
			a.Default = d.str(v, p, "a string")
		}
	}
	_, auto := d.x.platformArgs[name]
	inherited, known := d.x.lookup(name)
	switch {
	case auto && hasDefault:
		d.add(r, p, "BuildKit sets it for every build: list it without a default, like `args: ["+name+"]`", "%s is an automatic platform arg", name)
		return nil
	case hasDefault:
		// Later args and the step's other fields may refer to it. A step's
		// default never poisons: only top-level args do.
		a.Value = d.x.define(name, a.Default, false)
	case known:
		// In scope already: the step's args: only list it.
		a.Default, a.Value = inherited, inherited
	default:
		hint := "declare it under the top-level args:, or give it a default here, like `args: {" + name + `: ""}` + "`"
		if !d.full() {
			hint += didYouMean(name, d.x.names())
		}
		d.add(r, p, hint, "arg %q is not declared", name)
		return nil
	}
	return a
}

// id decodes a uid or gid: a whole number.
func (d *decoder) id(n *yaml.Node, p string) *uint32 {
	s, ok := d.strOK(n, p, "a number")
	if !ok {
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v > MaxID {
		d.add(rangeOf(d.resolve(n)), p, fmt.Sprintf("write a number from 0 to %d, like 1000", MaxID), "%q is not a numeric id", s)
		return nil
	}
	v32 := uint32(v)
	return &v32
}

// mode decodes an octal permission like "0440".
func (d *decoder) mode(n *yaml.Node, p string) *uint32 {
	s, ok := d.strOK(n, p, `an octal mode like "0440"`)
	if !ok {
		return nil
	}
	m, err := strconv.ParseUint(strings.TrimPrefix(s, "0o"), 8, 32)
	if err != nil || m > 0o7777 {
		d.add(rangeOf(d.resolve(n)), p, `write an octal mode like "0440"`, "mode %q is not an octal permission", s)
		return nil
	}
	m32 := uint32(m)
	return &m32
}

// MaxID is the largest uid or gid Linux takes: (uid_t)-1 means "unchanged".
const MaxID uint64 = 1<<32 - 2

// checkOwnerIDs checks the numeric parts of an owner "uid:gid" or a user.
func (d *decoder) checkOwnerIDs(owner string, r Range, p string) {
	for part := range strings.SplitSeq(owner, ":") {
		if part == "" || strings.TrimLeft(part, "0123456789") != "" {
			continue // a name, resolved in the step's image
		}
		if v, err := strconv.ParseUint(part, 10, 64); err != nil || v > MaxID {
			d.add(r, p, fmt.Sprintf("write ids from 0 to %d", MaxID), "%q: %s is not a uid or gid Linux takes", owner, part)
			return
		}
	}
}

// checkMountOwner checks uid, gid and mode of a secret: they set the
// secret file's owner and permissions, as in Dockerfile's RUN --mount.
func (d *decoder) checkMountOwner(m *Mount, p string) {
	for _, f := range []struct {
		name string
		set  bool
	}{{"uid", m.UID != nil}, {"gid", m.GID != nil}, {"mode", m.Mode != nil}} {
		if f.set && m.Type == MountSecret && m.Path == "" && m.Env != "" {
			d.add(m.FieldRange(f.name), join(p, f.name), "add `path:` to have the secret as a file too, or remove it", "%s does not apply to a secret exposed only as env", f.name)
		}
	}
}
