package syntax

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Field is one key of a mapping as read from the YAML: the key's and the
// value's nodes, both nil when the mapping does not have the key. T is the
// value's shape: what the schema says it may be, and what package spec
// decodes it as. A mapping with fixed keys is a struct of Fields; its json
// tags are its keys, for the schema and the decoder alike.
type Field[T any] struct {
	Key, Value *yaml.Node
}

// IsSet reports whether the mapping has the key.
func (f Field[T]) IsSet() bool { return f.Value != nil }

func (f *Field[T]) assign(key, value *yaml.Node) { f.Key, f.Value = key, value }

func (Field[T]) shape() reflect.Type { return reflect.TypeFor[T]() }

// field is what every Field[T] is, whatever its T.
type field interface {
	assign(key, value *yaml.Node)
	shape() reflect.Type
}

var fieldType = reflect.TypeFor[field]()

// isField reports whether t is a Field[T], and returns T.
func isField(t reflect.Type) (reflect.Type, bool) {
	if !reflect.PointerTo(t).Implements(fieldType) {
		return nil, false
	}
	return reflect.New(t).Interface().(field).shape(), true
}

// keys is a mapping struct's table of keys.
type keys struct {
	names []string // sorted
	index map[string]int
}

var keyTables sync.Map // reflect.Type → *keys

func keysOf(t reflect.Type) *keys {
	if k, ok := keyTables.Load(t); ok {
		return k.(*keys)
	}
	k := &keys{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if _, ok := isField(f.Type); !ok {
			panic(fmt.Sprintf("syntax: %v.%s is not a Field", t, f.Name))
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		k.index[name] = i
		k.names = append(k.names, name)
	}
	slices.Sort(k.names)
	keyTables.Store(t, k)
	return k
}

func mapping(dst any) (reflect.Value, *keys) {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("syntax: %T is not a pointer to a mapping struct", dst))
	}
	return v.Elem(), keysOf(v.Elem().Type())
}

// Keys returns the keys of the mapping dst points to, sorted.
func Keys(dst any) []string {
	_, k := mapping(dst)
	return k.names
}

// Assign sets the field of dst (a pointer to a mapping struct) whose key is
// key.Value, and reports whether dst has that key.
func Assign(dst any, key, value *yaml.Node) bool {
	v, k := mapping(dst)
	i, ok := k.index[key.Value]
	if ok {
		v.Field(i).Addr().Interface().(field).assign(key, value)
	}
	return ok
}
