package llbgen

import (
	"context"
	"fmt"

	"github.com/stowage-build/stowage/cacheid"
	"github.com/stowage-build/stowage/spec"
)

// Volume is a cache volume with its ID resolved for one build.
type Volume struct {
	Name string
	// ID is what BuildKit sees; empty for a session-scoped volume when no
	// session ID was given (it exists only inside a build).
	ID        string
	Tokens    []string
	Tenant    string
	Scope     spec.Scope
	Namespace string
	Sharing   spec.Sharing
	Spec      *spec.Volume
	// Restore are the IDs of the volume's restore keys (restore:), nearest
	// first: each is the ID a volume with that key would have, and names the
	// restore point RestorePointID that records the volume set up last
	// under it.
	Restore []string
}

// VolumeOptions are the build options that feed cache IDs.
type VolumeOptions struct {
	// Tenant is the cache-tenant option; it separates everything.
	Tenant string
	// Namespace is the cache-namespace option; it replaces the project as
	// the namespace of project-scoped volumes (team-wide caches).
	Namespace string
	// SessionID is the BuildKit session of this build, the namespace of
	// session-scoped volumes.
	SessionID string
	// Tokens computes content- and image-derived key tokens; nil makes such
	// tokens an error.
	Tokens TokenResolver
}

// TokenResolver computes the key tokens that depend on the outside world.
type TokenResolver interface {
	// HashFiles returns "sha256:" + the hash of the build context's files
	// matching globs, as docs/cache-ids.md defines it.
	HashFiles(ctx context.Context, globs []string) (string, error)
	// ImageDigest returns the manifest digest of ref for the build's
	// target platform.
	ImageDigest(ctx context.Context, ref string) (string, error)
}

// Volumes resolves the ID of every cache volume of s, in file order.
func Volumes(ctx context.Context, s *spec.Spec, opt VolumeOptions) ([]*Volume, error) {
	out := make([]*Volume, 0, len(s.Volumes))
	for _, c := range s.Volumes {
		v, err := volume(ctx, s, c, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func volume(ctx context.Context, s *spec.Spec, c *spec.Volume, opt VolumeOptions) (*Volume, error) {
	v := &Volume{Name: c.Name, Tenant: opt.Tenant, Scope: c.Scope, Sharing: c.Sharing, Spec: c}
	switch c.Scope {
	case spec.ScopeProject:
		v.Namespace = s.Project
		if opt.Namespace != "" {
			v.Namespace = opt.Namespace
		}
	case spec.ScopeSession:
		v.Namespace = opt.SessionID
	}
	for _, t := range c.Tokens {
		val, err := tokenValue(ctx, t, opt.Tokens)
		if err != nil {
			return nil, specError(s, t.Range, "caches."+c.Name+".key", err.Error(), "")
		}
		v.Tokens = append(v.Tokens, val)
	}
	if c.Scope == spec.ScopeSession && v.Namespace == "" {
		return v, nil
	}
	id, err := cacheid.ID(cacheid.Input{Tenant: v.Tenant, Scope: string(v.Scope), Namespace: v.Namespace, Tokens: v.Tokens})
	if err != nil {
		return nil, specError(s, c.Range, "caches."+c.Name, err.Error(), "")
	}
	v.ID = id
	for _, key := range c.RestoreTokens {
		var tokens []string
		for _, t := range key {
			val, err := tokenValue(ctx, t, opt.Tokens)
			if err != nil {
				return nil, specError(s, t.Range, "caches."+c.Name+".restore", err.Error(), "")
			}
			tokens = append(tokens, val)
		}
		rid, err := cacheid.ID(cacheid.Input{Tenant: v.Tenant, Scope: string(v.Scope), Namespace: v.Namespace, Tokens: tokens})
		if err != nil {
			return nil, specError(s, c.FieldRange("restore"), "caches."+c.Name+".restore", err.Error(), "")
		}
		v.Restore = append(v.Restore, rid)
	}
	return v, nil
}

// RestorePointID is the cache volume that records, in its file "latest",
// the ID of the volume most recently set up under restore key id; it is
// also the tag under which `stowage cache export --to type=registry`
// pushes the latest export under that key. The suffix keeps it apart from
// a volume whose own key is the restore key.
func RestorePointID(id string) string { return id + ".restore" }

func tokenValue(ctx context.Context, t spec.Token, r TokenResolver) (string, error) {
	res := spec.VisitToken[tokenResult](t, tokenResolution{ctx, r})
	return res.value, res.err
}

type tokenResult struct {
	value string
	err   error
}

// tokenResolution resolves each kind of token: a literal is itself, the
// others ask the build's resolver.
type tokenResolution struct {
	ctx context.Context
	r   TokenResolver
}

var errNoResolver = fmt.Errorf("this key token needs the build context and registry, which only a build has")

func (tokenResolution) Literal(l spec.LiteralToken) tokenResult { return tokenResult{l.Value, nil} }

func (t tokenResolution) Hash(h spec.HashToken) tokenResult {
	if t.r == nil {
		return tokenResult{"", errNoResolver}
	}
	v, err := t.r.HashFiles(t.ctx, h.Globs)
	return tokenResult{v, err}
}

func (t tokenResolution) Digest(d spec.DigestToken) tokenResult {
	if t.r == nil {
		return tokenResult{"", errNoResolver}
	}
	v, err := t.r.ImageDigest(t.ctx, d.Image)
	return tokenResult{v, err}
}

// specError makes a positioned error about the spec, in the same form as
// package spec's, so the frontend turns both into source-mapped errors.
func specError(s *spec.Spec, r spec.Range, path, msg, hint string) error {
	return spec.ErrorList{{File: s.File, Range: r, Path: path, Msg: msg, Hint: hint}}
}
