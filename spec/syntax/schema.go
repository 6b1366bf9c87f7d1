// Package syntax is the grammar of stowage.yaml: the mappings a spec may
// hold as Go types (grammar.go), whose fields are Field[SHAPE]s carrying the
// key's and the value's YAML nodes. Package spec's decoder reads each
// mapping into its type, so the keys it accepts are the fields here and
// every value knows its position; Generate describes the same types, their
// doc comments included, as the JSON Schema editors use.
//
// The generated file is published as schema/stowage.schema.json at the root
// of the repository; `go generate ./spec/syntax` (or `go test ./spec/syntax
// -update`) rewrites it, and the tests fail when it is out of date.
package syntax

//go:generate go run ./gen -o ../../schema/stowage.schema.json

import (
	"bytes"
	"encoding/json"
	"regexp"
)

// ID is the schema's $id: where the repository publishes it, and what a spec
// names in its `# yaml-language-server: $schema=` comment.
const ID = "https://raw.githubusercontent.com/stowage-build/stowage/main/schema/stowage.schema.json"

// Draft is the JSON Schema dialect of the schema: draft-07, the newest that
// every YAML editor integration understands.
const Draft = "http://json-schema.org/draft-07/schema#"

// MaxKeyTokens is the most tokens a volume's full key may hold.
const MaxKeyTokens = 32

// MaxRestoreKeys is the most keys restore: may list; each costs a lookup.
const MaxRestoreKeys = 8

// PlatformArgs are the names of BuildKit's automatic args, which every build
// defines and a spec cannot declare; package spec gives their values.
var PlatformArgs = []string{"BUILDARCH", "BUILDOS", "BUILDPLATFORM", "BUILDVARIANT", "TARGETARCH", "TARGETOS", "TARGETPLATFORM", "TARGETVARIANT"}

// argName is the pattern of an arg's (or an environment variable's) name.
const argName = "^[A-Za-z_][A-Za-z0-9_]*$"

// Schema is one JSON Schema node. Its keywords marshal in the order of its
// fields; properties and definitions in the order they were added.
type Schema struct {
	Schema      string `json:"$schema,omitempty"`
	ID          string `json:"$id,omitempty"`
	Ref         string `json:"$ref,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Type is a type name or a list of them.
	Type    any      `json:"type,omitempty"`
	Const   any      `json:"const,omitempty"`
	Enum    []any    `json:"enum,omitempty"`
	Default any      `json:"default,omitempty"`
	Pattern string   `json:"pattern,omitempty"`
	Minimum *float64 `json:"minimum,omitempty"`
	Maximum *float64 `json:"maximum,omitempty"`

	MinLength *int    `json:"minLength,omitempty"`
	Items     *Schema `json:"items,omitempty"`
	MinItems  *int    `json:"minItems,omitempty"`
	MaxItems  *int    `json:"maxItems,omitempty"`
	// UniqueItems forbids repeated items.
	UniqueItems bool `json:"uniqueItems,omitempty"`

	Required          []string `json:"required,omitempty"`
	MinProperties     *int     `json:"minProperties,omitempty"`
	PropertyNames     *Schema  `json:"propertyNames,omitempty"`
	Properties        Named    `json:"properties,omitempty"`
	PatternProperties Named    `json:"patternProperties,omitempty"`
	// AdditionalProperties is a *Schema, or false.
	AdditionalProperties any `json:"additionalProperties,omitempty"`

	AllOf []*Schema `json:"allOf,omitempty"`
	OneOf []*Schema `json:"oneOf,omitempty"`
	AnyOf []*Schema `json:"anyOf,omitempty"`
	Not   *Schema   `json:"not,omitempty"`

	Definitions Named `json:"definitions,omitempty"`
}

// Named is an ordered set of named schemas: properties or definitions.
type Named []NamedSchema

// NamedSchema is one entry of Named.
type NamedSchema struct {
	Name   string
	Schema *Schema
}

// Get returns the schema called name, or nil.
func (n Named) Get(name string) *Schema {
	for _, e := range n {
		if e.Name == name {
			return e.Schema
		}
	}
	return nil
}

// Names lists the names in order.
func (n Named) Names() []string {
	out := make([]string, len(n))
	for i, e := range n {
		out[i] = e.Name
	}
	return out
}

// MarshalJSON writes the entries as one JSON object, in order.
func (n Named) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(e.Name)
		if err != nil {
			return nil, err
		}
		v, err := marshal(e.Schema)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, so descriptions keep their
// <, > and & readable in the file.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Generate returns the schema of stowage.yaml.
func Generate() (*Schema, error) {
	g, err := newGenerator()
	if err != nil {
		return nil, err
	}
	return g.document()
}

// JSON returns the schema file's contents: Generate's schema, indented, with
// a final newline.
func JSON() ([]byte, error) {
	s, err := Generate()
	if err != nil {
		return nil, err
	}
	raw, err := marshal(s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	// One line for a short list of plain values: "type": ["string", "null"].
	return shortList.ReplaceAllFunc(b.Bytes(), func(m []byte) []byte {
		items := listItem.FindAll(m, -1)
		line := append([]byte("["), bytes.Join(items, []byte(", "))...)
		line = append(line, ']')
		if len(line) > 80 {
			return m
		}
		return line
	}), nil
}

var (
	shortList = regexp.MustCompile(`\[\n\s*(?:(?:"[^"\\\n]*"|-?[0-9.]+),\n\s*)*(?:"[^"\\\n]*"|-?[0-9.]+)\n\s*\]`)
	listItem  = regexp.MustCompile(`"[^"\\\n]*"|-?[0-9.]+`)
)
