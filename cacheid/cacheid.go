// Package cacheid computes the stable IDs that name Stowage cache volumes in
// BuildKit. The function is a contract (docs/cache-ids.md, scheme v1): the same
// inputs give the same ID on any machine and in any release, so changing it
// throws away every user's warm caches. Golden vectors in the tests pin it.
package cacheid

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Scheme is the versioned name hashed into every ID. A different ID function
// needs a new scheme name, never an edit of this one.
const Scheme = "stowage.cache.v1"

// idBytes is how much of the SHA-256 an ID keeps.
const idBytes = 16

// Prefix starts every ID, so a cache mount made by Stowage is recognisable in
// `buildctl du` and BuildKit's debug output.
const Prefix = "stowage-"

// The scopes of a volume, as written in the spec.
const (
	ScopeProject = "project"
	ScopeGlobal  = "global"
	ScopeSession = "session"
)

// Input is everything an ID depends on. The volume's local name in the spec is
// deliberately absent: the key is the identity, the name only a handle.
type Input struct {
	// Tenant separates everything, the global scope too; empty when unset.
	Tenant string
	// Scope is ScopeProject, ScopeGlobal or ScopeSession.
	Scope string
	// Namespace is the project (or cache-namespace option) for ScopeProject,
	// empty for ScopeGlobal and the build's session ID for ScopeSession.
	Namespace string
	// Tokens is the full key: a parent volume's tokens, then the child's own.
	Tokens []string
}

// ID returns "stowage-" followed by the first 32 hex digits of the SHA-256 of
// the netstring encoding of scheme, tenant, scope, namespace and tokens.
// Netstrings make the encoding injective, so ["a:b"] and ["a", "b"] differ.
func ID(in Input) (string, error) {
	if err := in.validate(); err != nil {
		return "", err
	}
	sum := sha256.Sum256(Encode(in))
	return Prefix + hex.EncodeToString(sum[:idBytes]), nil
}

// Valid reports whether id has the shape ID gives every ID (Prefix and 32
// hex digits), as an ID read back from a builder must before it is used.
func Valid(id string) bool {
	rest, ok := strings.CutPrefix(id, Prefix)
	if !ok || len(rest) != 2*idBytes {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil
}

// Encode returns the bytes that ID hashes. It is exported for `stowage ids
// --explain`-style debugging and for the golden tests.
func Encode(in Input) []byte {
	n := 64 + len(in.Tenant) + len(in.Namespace)
	for _, t := range in.Tokens {
		n += len(t) + 8
	}
	b := make([]byte, 0, n)
	b = appendNetstring(b, Scheme)
	b = appendNetstring(b, in.Tenant)
	b = appendNetstring(b, in.Scope)
	b = appendNetstring(b, in.Namespace)
	for _, t := range in.Tokens {
		b = appendNetstring(b, t)
	}
	return b
}

func appendNetstring(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	b = append(b, s...)
	return append(b, ',')
}

func (in Input) validate() error {
	switch in.Scope {
	case ScopeProject, ScopeSession:
		if in.Namespace == "" {
			return fmt.Errorf("cache scope %q needs a namespace", in.Scope)
		}
	case ScopeGlobal:
		if in.Namespace != "" {
			return errors.New("cache scope \"global\" takes no namespace")
		}
	default:
		return fmt.Errorf("unknown cache scope %q", in.Scope)
	}
	if len(in.Tokens) == 0 {
		return errors.New("a cache key needs at least one token")
	}
	for i, t := range in.Tokens {
		if t == "" {
			return fmt.Errorf("cache key token %d is empty", i+1)
		}
		if !utf8.ValidString(t) {
			return fmt.Errorf("cache key token %d is not valid UTF-8", i+1)
		}
	}
	return nil
}
