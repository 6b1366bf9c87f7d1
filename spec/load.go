package spec

import (
	"bytes"
	"errors"
	"fmt"
	units "github.com/docker/go-units"
	"github.com/stowage-build/stowage/ctxhash"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec/syntax"
)

// MaxSize is the largest spec Load reads. A 1,000-step pipeline is ~300 KiB;
// anything near this is a mistake (a generated file gone wrong, or an attack)
// and should fail before it costs memory.
const MaxSize = 1 << 20

// DefaultFile is the spec's file name when none is given.
const DefaultFile = "stowage.yaml"

// Options are the inputs of a spec besides its bytes.
type Options struct {
	// File names the spec in errors; DefaultFile when empty.
	File string
	// BuildArgs override the defaults of declared args (--build-arg). Names
	// the spec does not declare are ignored, as BuildKit passes its own.
	BuildArgs map[string]string
	// PlatformArgs are BuildKit's automatic args (TARGETARCH, BUILDPLATFORM,
	// …); see PlatformArgs. Nil means the host platform for both.
	PlatformArgs map[string]string
}

// Load parses and validates a spec. The error, when not nil, is an ErrorList
// holding every problem found, sorted by position.
func Load(data []byte, opt Options) (*Spec, error) {
	return Parse(data, opt.File).Load(opt)
}

// Document is a spec's YAML read once. A multi-platform build loads the
// same document once per platform (${TARGETARCH} and the rest differ),
// without reading the bytes again.
type Document struct {
	file string
	data []byte
	root *yaml.Node
	err  *Error // why the bytes are not a YAML document
}

// Parse reads a spec's bytes as YAML; file names it in errors (DefaultFile
// when empty). Errors come from Load.
func Parse(data []byte, file string) *Document {
	if file == "" {
		file = DefaultFile
	}
	doc := &Document{file: file, data: data}
	if len(data) > MaxSize {
		doc.err = &Error{Range: Range{Start: Pos{1, 1}}, Hint: fmt.Sprintf("keep the spec under %d KiB; split generated content into the build context", MaxSize>>10),
			Msg: fmt.Sprintf("the spec is %d bytes, more than the limit of %d", len(data), MaxSize)}
		return doc
	}
	doc.root, doc.err = parse(data)
	return doc
}

// Load expands and validates the document with opt's args and platform
// (opt.File is the document's). Decoding reads the tree and never changes
// it, so loads of one document are independent.
func (doc *Document) Load(opt Options) (*Spec, error) {
	d := &decoder{errs: errs{file: doc.file}}
	if doc.err != nil {
		d.add(doc.err.Range, "", doc.err.Hint, "%s", doc.err.Msg)
		return nil, d.err()
	}
	platformArgs := opt.PlatformArgs
	if platformArgs == nil {
		platformArgs = PlatformArgs(nil, nil)
	}
	d.x = newExpander(&d.errs, doc.data, opt.BuildArgs, platformArgs)
	s := d.spec(doc.root)
	if d.blown != nil {
		// Everything decoded after the budget ran out read as null: other
		// errors would only echo it.
		return nil, ErrorList{d.blown}
	}
	if s != nil {
		s.File = doc.file
		d.validate(s)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkText finds what a YAML parser would report at 1:1, or handle
// differently from one reader to the next, before it parses: a NUL byte,
// bytes that are not UTF-8, and the line separators NEL, LS and PS (YAML
// 1.1 breaks lines on them, YAML 1.2 does not, so a key could change with
// the reader). Each is an error at its own line and column.
func checkText(data []byte) *Error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		at := Range{Start: Pos{line, col}, End: Pos{line, col}}
		switch {
		case r == 0:
			return &Error{Range: at, Msg: "the spec holds a NUL byte", Hint: "a spec is text: remove it (is this a binary file, or saved as UTF-16?)"}
		case r == utf8.RuneError && size <= 1:
			return &Error{Range: at, Msg: fmt.Sprintf("the spec is not UTF-8 here (byte 0x%02x)", data[i]), Hint: "save the file as UTF-8"}
		case r == '\u0085' || r == '\u2028' || r == '\u2029':
			return &Error{Range: at, Msg: fmt.Sprintf("the spec holds the line separator %U, which YAML readers disagree on", r), Hint: `end lines with \n only; in a double-quoted string, write the character as an escape (\N, \L or \P)`}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return nil
}

// parse reads exactly one YAML document.
func parse(data []byte) (*yaml.Node, *Error) {
	if err := checkText(data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Range: Range{Start: Pos{1, 1}}, Msg: "the spec is empty", Hint: "start with `project: NAME` and a `steps:` mapping"}
		}
		return nil, yamlError(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{Range: rangeOf(&extra), Msg: "a second YAML document", Hint: "a spec is one document: remove the `---` and what follows, or merge it into the first"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(err, data)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{Range: Range{Start: Pos{1, 1}}, Msg: "the spec is empty", Hint: "start with `project: NAME` and a `steps:` mapping"}
	}
	return doc.Content[0], nil
}

// yamlError turns the YAML parser's "yaml: line N: msg" into a positioned
// Error. The parser gives no column, so the column is 1.
func yamlError(err error, data []byte) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 1, 1
	hint := "fix the YAML syntax (check indentation, quotes and colons)"
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		hint = "define the anchor with &" + name + " before an alias *" + name + " uses it"
		// This one comes without a line: point at the first use instead.
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
			col = 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i])
		}
	}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l, tail
				// yaml.v3 counts the lines of its parser errors (not of its
				// scanner errors) from 0: "line 2" is the construct that
				// starts on the third line.
				if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found undefined tag handle") ||
					strings.HasPrefix(msg, "found duplicate %") || strings.HasPrefix(msg, "found incompatible YAML document") {
					line++
				}
			}
		}
	}
	return &Error{Range: Range{Start: Pos{line, col}}, Msg: "invalid YAML: " + msg, Hint: hint}
}

func (d *decoder) spec(root *yaml.Node) *Spec {
	root = d.resolve(root)
	if root.Kind != yaml.MappingNode {
		d.add(rangeOf(root), "", "start with `project: NAME` and a `steps:` mapping", "expected a mapping, found %s", describe(root))
		return nil
	}
	s := &Spec{Version: 1, Range: rangeOf(root)}
	ps := d.pairs(root, "", "a mapping with project: and steps:")
	d.x.declared = declaredArgs(ps)
	var doc syntax.Document
	d.readPairs(ps, "", &doc)
	// Args come first whatever their place in the file: every other field
	// may refer to them.
	if doc.Args.IsSet() {
		s.Args = d.args(doc.Args.Value, "args")
	}
	if v, path := at(doc.Version, ""); v != nil {
		if val, ok := d.scalar(v, path, "1"); ok && val != "1" {
			d.add(rangeOf(v), path, "write `version: 1`, or leave it out", "unsupported schema version %q", val)
		}
	}
	if v, path := at(doc.Project, ""); v != nil {
		s.Project = strings.TrimSpace(d.str(v, path, "a project name"))
		if s.Project == "" && !isNull(d.resolve(v)) {
			d.add(rangeOf(v), path, "write a name, like `project: hello-go`", "the project name is empty")
		}
	}
	if v, path := at(doc.Caches, ""); v != nil {
		s.Volumes = d.caches(v, path)
	}
	if v, path := at(doc.Steps, ""); v != nil {
		s.Steps = d.steps(v, path)
	}
	if v, path := at(doc.Default, ""); v != nil {
		var ok bool
		s.Default, ok = d.strOK(v, path, "a step name")
		d.defaultRange = rangeOf(d.resolve(v))
		if ok && s.Default == "" {
			d.add(d.defaultRange, path, "name a step, or leave default: out to build the last one", "default is empty")
		}
	}
	start := Range{Start: Pos{Line: root.Line, Col: root.Column}}
	if !doc.Project.IsSet() {
		d.add(start, "project", "add `project: NAME`; it namespaces this pipeline's caches", "the spec has no project")
	}
	if !doc.Steps.IsSet() {
		d.add(start, "steps", "add a `steps:` mapping with at least one step", "the spec has no steps")
	}
	return s
}

func (d *decoder) args(n *yaml.Node, path string) []*Arg {
	var out []*Arg
	for _, p := range d.pairs(n, path, "a mapping of arg names to default values") {
		name := p.key.Value
		apath := join(path, name)
		a := &Arg{Name: name, Range: rangeOf(p.key)}
		a.Range.End = rangeOf(p.val).End
		if !ValidArgName(name) {
			d.add(rangeOf(p.key), apath, "use letters, digits and underscores, starting with a letter or underscore", "%q is not a valid arg name", name)
			continue
		}
		if _, auto := d.x.lookup(name); auto {
			d.add(rangeOf(p.key), apath, "remove it: BuildKit sets it for every build", "%s is an automatic platform arg", name)
			continue
		}
		d.x.failed = false
		v := d.resolve(p.val)
		if v.Kind == yaml.MappingNode {
			var decl syntax.ArgDecl
			d.read(v, apath, "a mapping with default: and description:", &decl)
			if v, path := at(decl.Default, apath); v != nil {
				a.Default = d.str(v, path, "a string")
			}
			if v, path := at(decl.Description, apath); v != nil {
				a.Description, _ = d.scalar(v, path, "a string")
			}
		} else if !isNull(v) {
			a.Default = d.str(v, apath, "a string")
		}
		// Later args may refer to earlier ones.
		a.Value = d.x.define(name, a.Default, d.x.failed)
		out = append(out, a)
	}
	return out
}

func (d *decoder) caches(n *yaml.Node, path string) []*Volume {
	var out []*Volume
	for _, p := range d.pairs(n, path, "a mapping of volume names to volumes") {
		c := &Volume{Name: p.key.Value, Range: rangeOf(p.key)}
		c.Range.End = rangeOf(p.val).End
		cpath := join(path, c.Name)
		if c.Name == "" {
			// The name is the default key, and a key token is never empty.
			d.add(c.Range, cpath, "name the volume, like `gomod: {key: go-mod}`", "a cache volume needs a name")
		}
		var g syntax.Cache
		c.ranges = d.read(p.val, cpath, "a cache volume like {key: go-build, sharing: locked}", &g)
		d.volume(c, &g, cpath)
		out = append(out, c)
	}
	return out
}

// volume decodes a volume's fields.
func (d *decoder) volume(c *Volume, g *syntax.Cache, cpath string) {
	if v, path := at(g.Key, cpath); v != nil {
		c.Key = d.key(v, path, keyHint)
	}
	if v, path := at(g.Restore, cpath); v != nil {
		c.Restore = d.restoreKeys(v, path)
	}
	if v, path := at(g.From, cpath); v != nil {
		c.From = d.str(v, path, "a cache volume name")
	}
	if v, path := at(g.Scope, cpath); v != nil {
		c.Scope = enum(d, v, path, Scopes)
	}
	if v, path := at(g.Sharing, cpath); v != nil {
		c.Sharing = enum(d, v, path, Sharings)
	}
	if v, path := at(g.MaxAge, cpath); v != nil {
		if s, ok := d.strOK(v, path, "a duration like 72h or 30d"); ok {
			if c.MaxAge, ok = parseAge(s); !ok {
				d.add(rangeOf(d.resolve(v)), path, "write a duration like 72h, 30d or 1d12h", "%q is not a duration of more than 0", s)
			}
		}
	}
	if v, path := at(g.MaxSize, cpath); v != nil {
		if s, ok := d.strOK(v, path, `a size like "2g"`); ok {
			if sz, err := units.RAMInBytes(s); err != nil || sz <= 0 {
				d.add(rangeOf(d.resolve(v)), path, `write a size like "512m" or "2g"`, "%q is not a size of more than 0", s)
			} else {
				c.MaxSize = sz
			}
		}
	}
	if v, path := at(g.Owner, cpath); v != nil {
		var ok bool
		if c.Owner, ok = d.strOK(v, path, `"uid:gid"`); ok {
			if u, g, ok := strings.Cut(c.Owner, ":"); !ok || u == "" || g == "" || strings.Contains(g, ":") {
				d.add(rangeOf(v), path, `write "uid:gid", like "1000:1000" or "app:app"`, "owner %q is not uid:gid", c.Owner)
			} else {
				d.checkOwnerIDs(c.Owner, rangeOf(v), path)
			}
		}
	}
	if v, path := at(g.Mode, cpath); v != nil {
		if s, ok := d.strOK(v, path, `an octal mode like "0755"`); ok {
			m, err := strconv.ParseUint(strings.TrimPrefix(s, "0o"), 8, 32)
			if err != nil || m > 0o7777 {
				d.add(rangeOf(v), path, `write an octal mode like "0755"`, "mode %q is not an octal permission", s)
			} else {
				m32 := uint32(m)
				c.Mode = &m32
			}
		}
	}
	if v, path := at(g.Generation, cpath); v != nil {
		if s, ok := d.scalar(v, path, "a whole number"); ok {
			gen, err := strconv.Atoi(s)
			if err != nil || gen < 0 {
				d.add(rangeOf(v), path, "write a whole number like `generation: 2`, and bump it to start a fresh cache", "generation %q is not a whole number of 0 or more", s)
			}
			c.Generation = gen
		}
	}
	if v, path := at(g.Description, cpath); v != nil {
		c.Description, _ = d.scalar(v, path, "a string")
	}
}

// maxRestoreKeys bounds restore:, each key of which costs a lookup.
const maxRestoreKeys = syntax.MaxRestoreKeys

// restoreKeys decodes restore:: one key, or a list of keys, each as key:
// is written (a string, or a list of tokens).
func (d *decoder) restoreKeys(n *yaml.Node, path string) [][]Token {
	n = d.resolve(n)
	if n.Kind != yaml.SequenceNode {
		if k := d.key(n, path, restoreHint); k != nil {
			return [][]Token{k}
		}
		return nil
	}
	if len(n.Content) == 0 {
		d.add(rangeOf(n), path, "list the keys to start from, nearest first, like `restore: [npm]`, or remove restore:", "restore: is an empty list")
		return nil
	}
	if len(n.Content) > maxRestoreKeys {
		d.add(rangeOf(n), path, "keep the nearest ones", "restore: lists %d keys, more than %d", len(n.Content), maxRestoreKeys)
		return nil
	}
	out := make([][]Token, 0, len(n.Content))
	for i, item := range n.Content {
		if it := d.resolve(item); it.Kind == yaml.MappingNode {
			d.add(rangeOf(it), index(path, i), "write the key as a list, like [npm, {hash: [package-lock.json]}]", "a restore key is a string or a list of tokens, not a single token mapping")
			continue
		}
		if k := d.key(item, index(path, i), restoreHint); k != nil {
			out = append(out, k)
		}
	}
	return out
}

// What to write for a key, and for a restore key.
const (
	keyHint     = "write a string like `key: go-build`, or a list like `key: [go-build, \"${GO_VERSION}\"]`"
	restoreHint = "write restore keys as keys are written, nearest first: `restore: [npm]` or `restore: [[go, linux], go]`"
)

// key decodes a cache key: a string, or a list of strings, {hash: [GLOB…]}
// and {digest: REF} tokens; hint says what to write instead.
func (d *decoder) key(n *yaml.Node, path, hint string) []Token {
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return []Token{d.token(n, path)}
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		found := describe(n)
		if n.Kind == yaml.SequenceNode {
			found = "an empty list"
		}
		d.add(rangeOf(n), path, hint, "expected a cache key, found %s", found)
		return nil
	}
	out := make([]Token, 0, len(n.Content))
	for i, item := range n.Content {
		out = append(out, d.token(item, index(path, i)))
	}
	return out
}

func (d *decoder) token(n *yaml.Node, path string) Token {
	n = d.resolve(n)
	t := Token{Range: rangeOf(n)}
	if n.Kind == yaml.MappingNode {
		var hash syntax.HashToken
		var digest syntax.DigestToken
		d.read(n, path, "{hash: [GLOB, …]} or {digest: IMAGE}", &hash, &digest)
		set := 0
		if v, path := at(hash.Hash, path); v != nil {
			set++
			t.Kind = d.hashToken(v, path)
		}
		if v, path := at(digest.Digest, path); v != nil {
			set++
			image, ok := d.strOK(v, path, "an image reference")
			if ok {
				if _, err := parseImageRef(image); err != nil {
					d.add(rangeOf(v), path, "write an image reference like debian:bookworm", "%q is not an image reference: %v", image, err)
				}
			}
			t.Kind = DigestToken{image}
		}
		if set != 1 {
			d.add(t.Range, path, "write one of {hash: [GLOB, …]} or {digest: IMAGE}", "a key token mapping needs exactly one of hash or digest")
		}
		if t.Kind == nil {
			t.Kind = LiteralToken{}
		}
		return t
	}
	before := len(d.errs.list)
	value := d.str(n, path, "a string")
	if value == "" && n.Kind == yaml.ScalarNode && !isNull(n) && len(d.errs.list) == before {
		d.add(t.Range, path, "give the token a value, or set the arg it refers to", "a cache key token is empty")
	}
	t.Kind = LiteralToken{value}
	return t
}

// hashToken decodes a {hash: GLOBS} token's globs.
func (d *decoder) hashToken(v *yaml.Node, path string) HashToken {
	before := len(d.errs.list)
	var h HashToken
	h.Globs = d.strs(v, path, "a glob", true)
	// An empty glob after another error is that error's echo.
	ok := len(d.errs.list) == before
	n := d.resolve(v)
	for i, g := range h.Globs {
		r := rangeOf(n)
		if n.Kind == yaml.SequenceNode {
			r = rangeOf(d.resolve(n.Content[i]))
		}
		if g == "" && ok {
			d.add(r, index(path, i), "write a glob like package-lock.json or go.sum", "empty glob")
		} else if err := ctxhash.CheckGlob(g); g != "" && err != nil {
			// What ids, llb and a build would say, said by lint too;
			// ctxhash's message says what to write but for a pattern
			// error.
			hint := ""
			if !strings.Contains(err.Error(), "write") {
				hint = "close every [ and escape a literal [ as \\["
			}
			d.add(r, index(path, i), hint, "%v", err)
		}
	}
	if len(h.Globs) == 0 && n.Kind == yaml.SequenceNode {
		d.add(rangeOf(n), path, "list the files the cache depends on, like [package-lock.json]", "a hash token needs at least one glob")
	}
	if h.Globs == nil {
		h.Globs = []string{}
	}
	return h
}

// enum decodes one of a fixed set of strings.
func enum[T ~string](d *decoder, n *yaml.Node, path string, valid []T) T {
	s, ok := d.strOK(n, path, "one of "+oneOf(valid))
	for _, v := range valid {
		if string(v) == s {
			return v
		}
	}
	// An empty string is as wrong as any other word; it is not the default.
	if ok {
		d.add(rangeOf(n), path, "write "+oneOf(valid)+didYouMean(s, valid), "unknown value %q", s)
	}
	return ""
}

// parseAge reads a retention age: a Go duration, which may start with a
// number of days ("30d", "1d12h").
func parseAge(s string) (time.Duration, bool) {
	var days time.Duration
	if d, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.ParseUint(d, 10, 16)
		if err != nil {
			return 0, false
		}
		days, s = time.Duration(n)*24*time.Hour, rest
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil || rest < 0 {
			return 0, false
		}
	}
	total := days + rest
	return total, total > 0
}
