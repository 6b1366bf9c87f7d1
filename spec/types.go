// Package spec turns the bytes of a stowage.yaml into a validated model.
//
// Load decodes through yaml.Node so every value keeps its line and column,
// rejects unknown fields, interpolates ${NAME} references and checks every
// cross-reference, collecting all problems of a file in one ErrorList. The
// model it returns knows nothing of LLB: package llbgen lowers it.
package spec

import (
	"fmt"
	"time"

	"github.com/stowage-build/stowage/spec/syntax"
)

// Pos is a 1-based line and column in the spec file.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"column"`
}

// Range is the span of a YAML node: Start is where it begins, End the last
// line it covers (End.Col is 0 when only the line is known).
type Range struct {
	Start Pos `json:"start"`
	End   Pos `json:"end"`
}

// Spec is a validated pipeline.
type Spec struct {
	// File is the name errors and source maps use for the spec.
	File string
	// Version is the schema version; 1 is the only one.
	Version int
	// Project namespaces project-scoped cache volumes.
	Project string
	// Args are the declared build args in file order, with their values after
	// --build-arg overrides.
	Args []*Arg
	// Volumes are the cache volumes (caches: in the YAML) in file order.
	Volumes []*Volume
	// Steps are the steps in file order.
	Steps []*Step
	// Default is the step built when no target is given.
	Default string
	// Range spans the whole document.
	Range Range
}

// Arg is a declared build arg.
type Arg struct {
	Name string
	// Default is the value written in the spec, interpolated.
	Default string
	// Value is Default, or the --build-arg override when one was given.
	Value string
	// Description is shown by --call=outline.
	Description string
	Range       Range
}

// Scope is the grammar's (package syntax): the words it takes are the
// schema's.
type Scope = syntax.Scope

// The Scope values.
const (
	ScopeProject = syntax.ScopeProject
	ScopeGlobal  = syntax.ScopeGlobal
	ScopeSession = syntax.ScopeSession
)

// Scopes lists the valid values.
var Scopes = syntax.Scopes

// Sharing is the grammar's (package syntax): the words it takes are the
// schema's.
type Sharing = syntax.Sharing

// The Sharing values.
const (
	SharingShared  = syntax.SharingShared
	SharingPrivate = syntax.SharingPrivate
	SharingLocked  = syntax.SharingLocked
)

// Sharings lists the valid values.
var Sharings = syntax.Sharings

// Volume is a cache volume, found by its key.
type Volume struct {
	// Name is the local handle steps use; it is not part of the ID.
	Name string
	// Key is the volume's own tokens as written (the name when unset).
	Key []Token
	// From names the parent volume of a child volume, or is empty.
	From string
	// Tokens is the full key: the parent chain's tokens, then Key.
	Tokens []Token
	// Scope is the effective scope (a child has its parent's).
	Scope Scope
	// Sharing is how concurrent builds share the volume.
	Sharing Sharing
	// Owner is "uid:gid" for the cache root when the volume is created.
	Owner string
	// Mode is the permission bits of the cache root, or nil.
	Mode *uint32
	// Generation moves everyone to a fresh volume when bumped; 0 adds nothing
	// to the key.
	Generation int
	// Description is shown by --call=outline.
	Description string
	// MaxAge and MaxSize are the volume's retention, enforced by `stowage
	// cache prune --policy`: records unused for longer than MaxAge, or a
	// volume larger than MaxSize, are removed; zero means no limit.
	MaxAge  time.Duration
	MaxSize int64
	// Restore are the keys, as written, that a fresh volume starts from when
	// its own key is new (restore:), nearest first: each names the volume
	// most recently set up under it (README, Restore keys).
	Restore [][]Token
	// RestoreTokens are Restore's full keys, built as Tokens is: the parent
	// chain's tokens, then the restore key, then the generation.
	RestoreTokens [][]Token
	Range         Range
	// ranges locates individual fields, for errors.
	ranges fieldRanges
}

// FieldRange returns the range of one field's value, or the volume's range
// when that field was not written.
func (c *Volume) FieldRange(field string) Range {
	if r, ok := c.ranges[field]; ok {
		return r
	}
	return c.Range
}

// Token is one element of a cache key, and where it is written.
type Token struct {
	Kind  TokenKind
	Range Range
}

// TokenKind is what a key token is made of: a LiteralToken, a HashToken or
// a DigestToken. Code that handles tokens does so through VisitToken with
// a TokenVisitor, which has one method per kind: a new kind is a compile
// error wherever a visitor does not handle it (its ID, lint's identity,
// validation's equality).
type TokenKind interface{ tokenKind() }

// LiteralToken is a string, after interpolation.
type LiteralToken struct{ Value string }

// HashToken derives the token from the build context's files that match
// Globs.
type HashToken struct{ Globs []string }

// DigestToken derives the token from the manifest digest Image resolves to.
type DigestToken struct{ Image string }

func (LiteralToken) tokenKind() {}
func (HashToken) tokenKind()    {}
func (DigestToken) tokenKind()  {}

// TokenVisitor handles each kind of token, returning an R.
type TokenVisitor[R any] interface {
	Literal(LiteralToken) R
	Hash(HashToken) R
	Digest(DigestToken) R
}

// VisitToken calls v's method for t's kind.
func VisitToken[R any](t Token, v TokenVisitor[R]) R {
	switch k := t.Kind.(type) {
	case LiteralToken:
		return v.Literal(k)
	case HashToken:
		return v.Hash(k)
	case DigestToken:
		return v.Digest(k)
	}
	// Only this package makes kinds (tokenKind is unexported), and each is
	// a case above.
	panic(fmt.Sprintf("spec: token kind %T", t.Kind))
}

// Literal is a literal token at r.
func Literal(value string, r Range) Token { return Token{Kind: LiteralToken{value}, Range: r} }

// IsLiteral reports whether the token is a plain string.
func (t Token) IsLiteral() bool {
	_, ok := t.Kind.(LiteralToken)
	return ok
}

// Value is a literal token's string, "" for another kind.
func (t Token) Value() string {
	l, _ := t.Kind.(LiteralToken)
	return l.Value
}

// SourceKind says where a step starts from, or where a copy or mount reads.
type SourceKind string

// The kinds of source.
const (
	SourceImage   SourceKind = "image"
	SourceStep    SourceKind = "step"
	SourceScratch SourceKind = "scratch"
	SourceContext SourceKind = "context"
	// SourceURL and SourceGit are a copy's url: and git:, as ADD's remote
	// sources; Ref is the URL as written.
	SourceURL SourceKind = "url"
	SourceGit SourceKind = "git"
	// SourceContent is a copy's content:, as a COPY heredoc.
	SourceContent SourceKind = "content"
)

// SourceVisitor handles each kind of filesystem a step starts from or a
// mount reads: an image, a step, scratch, a context. Where the kind decides
// what happens (the lowering, error messages) the code is a visitor, so a
// new kind fails to compile there until it is handled.
type SourceVisitor[R any] interface {
	Image(Source) R
	Step(Source) R
	Scratch(Source) R
	Context(Source) R
}

// CopySourceVisitor handles, besides those, what only a copy reads: a URL,
// a Git repository, a content: text.
type CopySourceVisitor[R any] interface {
	SourceVisitor[R]
	URL(Source) R
	Git(Source) R
	Content(Source) R
}

// VisitSource calls v's method for src's kind. A step's from: and a mount's
// source are never a URL, Git or content (Load refuses them).
func VisitSource[R any](src Source, v SourceVisitor[R]) R {
	switch src.Kind {
	case SourceImage:
		return v.Image(src)
	case SourceStep:
		return v.Step(src)
	case SourceScratch:
		return v.Scratch(src)
	case SourceContext:
		return v.Context(src)
	}
	panic(fmt.Sprintf("spec: %q is not a filesystem source", src.Kind))
}

// VisitCopySource calls v's method for a copy source's kind.
func VisitCopySource[R any](src Source, v CopySourceVisitor[R]) R {
	switch src.Kind {
	case SourceURL:
		return v.URL(src)
	case SourceGit:
		return v.Git(src)
	case SourceContent:
		return v.Content(src)
	}
	return VisitSource[R](src, v)
}

// Source is a resolved reference to an image, a step, scratch or a context.
type Source struct {
	Kind SourceKind
	// Ref is the image ref, the step name, or the named context's name (empty
	// for the main build context).
	Ref string
}

// Step is a node of the build graph.
type Step struct {
	Name        string
	Description string
	// From is where the step's filesystem starts.
	From Source
	// Platform pins the step's platform, e.g. ${BUILDPLATFORM}; empty means
	// the target platform.
	Platform string
	Workdir  string
	// Env is set for the step's commands and lands in the image config.
	Env   []KeyValue
	User  string
	Shell []string
	// Args are the build args the step declares, as Dockerfile's ARG in a
	// stage: their values are in scope for ${NAME} in the step's fields and
	// in the environment of its commands, never in its image config.
	Args []*Arg
	// Network is the network of the step's commands; empty means BuildKit's
	// default.
	Network Network
	// Security is the security mode of the step's commands; empty means
	// BuildKit's default, the sandbox.
	Security Security
	Copy     []*Copy
	// Mounts apply to every command of the step.
	Mounts []*Mount
	Run    []*Command
	// Image config of the step's output image.
	Entrypoint []string
	Cmd        []string
	Expose     []string
	Labels     []KeyValue
	// Volumes, StopSignal and Healthcheck are VOLUME, STOPSIGNAL and
	// HEALTHCHECK; a nil Healthcheck inherits the base image's.
	Volumes     []string
	StopSignal  string
	Healthcheck *Healthcheck
	Range       Range
	// FromRange locates the from: value, for errors about the base image.
	FromRange Range
	// ranges locates individual fields, for errors.
	ranges fieldRanges
}

// FieldRange returns the range of one field's value, or the step's range
// when that field was not written.
func (st *Step) FieldRange(field string) Range {
	if r, ok := st.ranges[field]; ok {
		return r
	}
	return st.Range
}

// Network is the grammar's (package syntax): the words it takes are the
// schema's.
type Network = syntax.Network

// The Network values.
const (
	NetworkDefault = syntax.NetworkDefault
	NetworkNone    = syntax.NetworkNone
	NetworkHost    = syntax.NetworkHost
)

// Networks lists the valid values.
var Networks = syntax.Networks

// Security is the grammar's (package syntax): the words it takes are the
// schema's.
type Security = syntax.Security

// The Security values.
const (
	SecuritySandbox  = syntax.SecuritySandbox
	SecurityInsecure = syntax.SecurityInsecure
)

// Securities lists the valid values.
var Securities = syntax.Securities

// DefaultShell runs a step's commands when neither the step nor what it
// starts from names a shell, as Dockerfile's RUN.
var DefaultShell = []string{"/bin/sh", "-c"}

// KeyValue is an ordered map entry.
type KeyValue struct {
	Key   string
	Value string
}

// Command is one command of a step's run list.
type Command struct {
	Text  string
	Range Range
}

// Copy copies files into a step.
type Copy struct {
	// From is where Src is read; for a url: or git: copy, the remote source.
	From Source
	Src  string
	Dest string
	// Git is the parsed git: source, or nil.
	Git *GitSource
	// Content is the text of a content: copy's file, as a COPY heredoc.
	Content string
	// Checksum pins what a url: or git: copy fetches, as ADD --checksum: the
	// file's digest ("sha256:…") or the commit.
	Checksum string
	// KeepGitDir keeps the .git directory of a git: copy, as ADD
	// --keep-git-dir.
	KeepGitDir bool
	// Unpack extracts a tar archive (plain or compressed) into Dest, as ADD
	// does with a local archive.
	Unpack bool
	// Chown is "user[:group]" (names or numbers) for the copied files, as
	// COPY --chown; empty copies as COPY without --chown does.
	Chown string
	// Chmod is an octal mode ("0644") or a symbolic one ("u+x,go-w") for the
	// copied files, as COPY --chmod.
	Chmod string
	// Exclude are patterns of paths not to copy, as COPY --exclude.
	Exclude []string
	// Link copies into an empty layer merged over the step's filesystem, as
	// COPY --link.
	Link bool
	// Parents keeps the directories of src under dest, as COPY --parents.
	Parents bool
	Range   Range
	// ranges locates individual fields, for errors.
	ranges fieldRanges
}

// has reports whether the copy's field was written.
func (c *Copy) has(field string) bool {
	_, ok := c.ranges[field]
	return ok
}

// GitSource is a git repository to check out, as ADD takes a Git URL:
// "https://host/repo.git#REF:SUBDIR" or "git@host:repo.git".
type GitSource struct {
	Remote string
	// Ref is a branch, tag or commit; empty is the remote's default branch.
	Ref string
	// Subdir is the directory of the repository to copy; empty is all of it.
	Subdir string
	// SkipSubmodules leaves submodules out (the URL's ?submodules=false).
	SkipSubmodules bool
}

// FieldRange returns the range of one field's value, or the copy's range
// when that field was not written.
func (c *Copy) FieldRange(field string) Range {
	if r, ok := c.ranges[field]; ok {
		return r
	}
	return c.Range
}

// MountType is the kind of a mount.
type MountType string

// The kinds of mount.
const (
	MountCache  MountType = "cache"
	MountTmpfs  MountType = "tmpfs"
	MountBind   MountType = "bind"
	MountSecret MountType = "secret"
	MountSSH    MountType = "ssh"
)

// MountTypes lists the valid mount types.
var MountTypes = []MountType{MountCache, MountTmpfs, MountBind, MountSecret, MountSSH}

// MountVisitor handles each type of mount, returning an R. Where a mount's
// type decides what happens (the lowering, the outline), the code is a
// visitor: a new type is a new method here, and a compile error in each
// of them until it handles the type.
type MountVisitor[R any] interface {
	Cache(*Mount) R
	Tmpfs(*Mount) R
	Bind(*Mount) R
	Secret(*Mount) R
	SSH(*Mount) R
}

// VisitMount calls v's method for m's type. Load gives every mount one of
// MountTypes (TestVisitMountCoversMountTypes).
func VisitMount[R any](m *Mount, v MountVisitor[R]) R {
	switch m.Type {
	case MountCache:
		return v.Cache(m)
	case MountTmpfs:
		return v.Tmpfs(m)
	case MountBind:
		return v.Bind(m)
	case MountSecret:
		return v.Secret(m)
	case MountSSH:
		return v.SSH(m)
	}
	panic(fmt.Sprintf("spec: mount type %q", m.Type))
}

// Mount is a filesystem mounted while a step's commands run.
type Mount struct {
	Type MountType
	// Path is where the mount appears in the container.
	Path string
	// Volume names the cache volume (type cache).
	Volume string
	// Seed fills a cache volume when it is first created (type cache).
	Seed *Seed
	// From is the source of a bind mount; Src the path inside it.
	From Source
	Src  string
	// Readonly mounts read-only.
	Readonly bool
	// ID names a secret or an SSH agent socket.
	ID string
	// Required fails the build when the secret or SSH agent is missing.
	Required bool
	// Env names the environment variable a secret is exposed in (type
	// secret); with no path it is not also a file.
	Env string
	// UID, GID and Mode set the owner and permissions of a secret file or an
	// SSH socket; nil means BuildKit's default (root, 0400 for a secret,
	// 0600 for a socket).
	UID  *uint32
	GID  *uint32
	Mode *uint32
	// Size limits a tmpfs, in bytes; 0 means no limit.
	Size  int64
	Range Range
	// ranges locates individual fields, for errors and lint warnings.
	ranges fieldRanges
}

// fieldRanges maps a field name to the range of its value, as the decoder
// read the field (nil when the mapping is empty).
type fieldRanges map[string]Range

// FieldRange returns the range of one field's value, or the mount's range
// when that field was not written.
func (m *Mount) FieldRange(field string) Range {
	if r, ok := m.ranges[field]; ok {
		return r
	}
	return m.Range
}

// Seed is the source of a cache volume's first contents.
type Seed struct {
	From  Source
	Path  string
	Range Range
}

// ShownPath is the seed's path as written, "/" for the whole source.
func (s *Seed) ShownPath() string {
	if s.Path == "" {
		return "/"
	}
	return s.Path
}

// Step returns the step called name, or nil.
func (s *Spec) Step(name string) *Step {
	for _, st := range s.Steps {
		if st.Name == name {
			return st
		}
	}
	return nil
}

// Volume returns the cache volume called name, or nil.
func (s *Spec) Volume(name string) *Volume {
	for _, c := range s.Volumes {
		if c.Name == name {
			return c
		}
	}
	return nil
}
