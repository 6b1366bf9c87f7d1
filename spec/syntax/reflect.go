package syntax

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strings"
)

// grammarSource is grammar.go itself: its comments are the descriptions.
//
//go:embed grammar.go
var grammarSource string

// oneOf marks a union: a struct that embeds it describes a YAML value that
// takes the shape of exactly one of its fields.
type oneOf struct{}

// refiner is implemented by document types whose schema needs more than their
// Go shape says.
type refiner interface{ refine(*Schema) }

// scalar is the schema of a Go string: package spec reads any YAML scalar as
// text, as written (`env: {CGO_ENABLED: 0}` is "0").
var scalar = []string{"string", "number", "boolean"}

// extension describes the x- keys every mapping with fixed keys allows.
const extension = "An extension: keys starting with x- are ignored, for your own use (like anchors to merge)."

var (
	pkgPath   = reflect.TypeFor[oneOf]().PkgPath()
	oneOfType = reflect.TypeFor[oneOf]()
	nullType  = reflect.TypeFor[Null]()
)

// generator turns the document types into a schema.
type generator struct {
	// docs holds the doc comments of types ("Cache") and fields
	// ("Cache.Key"), as one line per paragraph.
	docs map[string]string
	defs Named
	seen map[reflect.Type]bool
}

func newGenerator() (*generator, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "grammar.go", grammarSource, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, sp := range gd.Specs {
			ts := sp.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			docs[ts.Name.Name] = text(doc)
			if st, ok := ts.Type.(*ast.StructType); ok {
				for _, field := range st.Fields.List {
					for _, n := range field.Names {
						docs[ts.Name.Name+"."+n.Name] = text(field.Doc)
					}
				}
			}
		}
	}
	return &generator{docs: docs, seen: map[reflect.Type]bool{}}, nil
}

// text reflows a comment: one line per paragraph.
func text(c *ast.CommentGroup) string {
	if c == nil {
		return ""
	}
	paras := strings.Split(strings.TrimSpace(c.Text()), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

// document builds the whole schema: Document at the root, every struct type
// it reaches in definitions, sorted by name.
func (g *generator) document() (*Schema, error) {
	root, err := g.definition(reflect.TypeFor[Document]())
	if err != nil {
		return nil, err
	}
	root.Schema, root.ID, root.Title = Draft, ID, "stowage.yaml"
	slices.SortFunc(g.defs, func(a, b NamedSchema) int { return strings.Compare(a.Name, b.Name) })
	root.Definitions = g.defs
	return root, nil
}

// schemaFor returns the schema of a value of type t: a $ref for a struct
// type, an inline schema otherwise.
func (g *generator) schemaFor(t reflect.Type) (*Schema, error) {
	if t.Kind() == reflect.Pointer {
		s, err := g.schemaFor(t.Elem())
		if err != nil {
			return nil, err
		}
		return nullable(s), nil
	}
	if t == nullType {
		return &Schema{Description: g.docs[t.Name()], Type: "null"}, nil
	}
	local := t.PkgPath() == pkgPath && t.Name() != ""
	if local && t.Kind() == reflect.Struct {
		if !g.seen[t] {
			g.seen[t] = true
			def, err := g.definition(t)
			if err != nil {
				return nil, err
			}
			g.defs = append(g.defs, NamedSchema{Name: t.Name(), Schema: def})
		}
		return &Schema{Ref: "#/definitions/" + t.Name()}, nil
	}
	var s *Schema
	switch t.Kind() {
	case reflect.String:
		s = &Schema{Type: slices.Clone(scalar)}
	case reflect.Bool:
		s = &Schema{Type: "boolean"}
	case reflect.Int:
		s = &Schema{Type: "integer"}
	case reflect.Slice:
		items, err := g.schemaFor(t.Elem())
		if err != nil {
			return nil, err
		}
		s = &Schema{Type: "array", Items: items}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%v: mapping keys are strings", t)
		}
		elem, err := g.schemaFor(t.Elem())
		if err != nil {
			return nil, err
		}
		s = &Schema{Type: "object", AdditionalProperties: elem}
	default:
		return nil, fmt.Errorf("%v: no schema for a %v", t, t.Kind())
	}
	if local {
		s.Description = g.docs[t.Name()]
		if r, ok := reflect.Zero(t).Interface().(refiner); ok {
			r.refine(s)
		}
	}
	return s, nil
}

// definition builds the schema of a struct type: a mapping with its fields,
// or, for a union, one of its fields' shapes.
func (g *generator) definition(t reflect.Type) (*Schema, error) {
	s := &Schema{Description: g.docs[t.Name()]}
	if s.Description == "" {
		return nil, fmt.Errorf("type %s has no doc comment: it is the editor's hover text", t.Name())
	}
	union := t.NumField() > 0 && t.Field(0).Type == oneOfType
	if !union {
		s.Type = "object"
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == oneOfType {
			continue
		}
		fs, opts, err := g.field(t, f, union)
		if err != nil {
			return nil, err
		}
		if union {
			// Editors show the description of the shape a value matches
			// rather than the field's: a shape has none, so that hovering
			// a field shows what the field is.
			fs.Description = ""
			s.OneOf = append(s.OneOf, fs)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return nil, fmt.Errorf("%s.%s: name the YAML key in a json tag", t.Name(), f.Name)
		}
		s.Properties = append(s.Properties, NamedSchema{Name: name, Schema: fs})
		if opts.required {
			s.Required = append(s.Required, name)
		}
	}
	if !union {
		s.PatternProperties = Named{{Name: "^x-", Schema: &Schema{Description: extension}}}
		s.AdditionalProperties = false
	}
	if r, ok := reflect.Zero(t).Interface().(refiner); ok {
		r.refine(s)
	}
	return s, nil
}

// options are a field's schema tag.
type options struct {
	required, nullable, nonempty bool
	constant, defaults           *string
}

func parseOptions(tag string) (options, error) {
	var o options
	for tag != "" {
		var opt string
		if strings.HasPrefix(tag, "default=") {
			// The rest is JSON, commas and all.
			opt, tag = tag, ""
		} else {
			opt, tag, _ = strings.Cut(tag, ",")
		}
		key, val, hasVal := strings.Cut(opt, "=")
		switch {
		case key == "required" && !hasVal:
			o.required = true
		case key == "nullable" && !hasVal:
			o.nullable = true
		case key == "nonempty" && !hasVal:
			o.nonempty = true
		case key == "const" && hasVal:
			o.constant = &val
		case key == "default" && hasVal:
			o.defaults = &val
		default:
			return o, fmt.Errorf("unknown schema tag option %q", opt)
		}
	}
	return o, nil
}

// field builds the schema of one field, described by its doc comment.
// A mapping's field is a Field[SHAPE]; a union's is the shape itself.
func (g *generator) field(t reflect.Type, f reflect.StructField, union bool) (*Schema, options, error) {
	where := t.Name() + "." + f.Name
	opts, err := parseOptions(f.Tag.Get("schema"))
	if err != nil {
		return nil, opts, fmt.Errorf("%s: %w", where, err)
	}
	doc := g.docs[where]
	if doc == "" {
		return nil, opts, fmt.Errorf("%s has no doc comment: it is the editor's hover text", where)
	}
	shape, ok := isField(f.Type)
	switch {
	case union && ok:
		return nil, opts, fmt.Errorf("%s: a union's field is a shape, not a Field", where)
	case union:
		shape = f.Type
	case !ok:
		return nil, opts, fmt.Errorf("%s: a mapping's field is a Field[SHAPE]", where)
	}
	s, err := g.schemaFor(shape)
	if err != nil {
		return nil, opts, err
	}
	if s.Ref != "" && (opts.nonempty || opts.constant != nil || opts.defaults != nil) {
		// Draft-07 ignores the keywords beside a $ref.
		return nil, opts, fmt.Errorf("%s: nonempty, const and default do not apply to a struct type", where)
	}
	if opts.nonempty {
		switch s.Type {
		case "array":
			s.MinItems = ptr(1)
		case "object":
			s.MinProperties = ptr(1)
		default:
			s.MinLength = ptr(1)
		}
	}
	if opts.constant != nil {
		s.Type, s.Const = nil, *opts.constant
	}
	if opts.defaults != nil {
		if err := json.Unmarshal([]byte(*opts.defaults), &s.Default); err != nil {
			return nil, opts, fmt.Errorf("%s: default: %w", where, err)
		}
	}
	if opts.nullable {
		s = nullable(s)
	}
	s.Description = doc
	return s, opts, nil
}

// nullable lets s also be null: a null type beside its own, or, when s is not
// so simple, a choice between s and null.
func nullable(s *Schema) *Schema {
	if s.Ref == "" && s.Enum == nil && s.Const == nil && s.OneOf == nil && s.AnyOf == nil {
		switch t := s.Type.(type) {
		case string:
			s.Type = []string{t, "null"}
			return s
		case []string:
			s.Type = append(t, "null")
			return s
		}
	}
	return &Schema{OneOf: []*Schema{s, {Type: "null"}}}
}

func ptr[T any](v T) *T { return &v }

// enum lists the values of a string type.
func enum[T ~string](vals []T) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// interpolated extends a pattern to accept any value holding a ${NAME}
// reference, which package spec checks only once it is expanded.
func interpolated(pattern string) string {
	return pattern + `|\$\{`
}
