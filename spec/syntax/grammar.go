// The oneOf fields mark unions for reflect.go, which reads them by type.
//lint:file-ignore U1000 oneOf fields are read by reflection

package syntax

import (
	"maps"
	"slices"
)

// The types below describe the YAML a stowage.yaml may hold, not the
// validated model of package spec: a cache key here is a string or a list,
// a mount one of five shapes, and so on. Generate reflects over them:
//
//   - A struct is a mapping with exactly its fields (named by their json tag)
//     plus x- extension keys. It becomes a definition named after the type,
//     described by the type's doc comment; each field is described by its
//     own.
//   - A struct that embeds oneOf is a union: the YAML value takes the shape
//     of exactly one of its fields. The fields' comments are for the reader
//     of this file: editors show the description of the shape a value
//     matches over the field's, so the shapes carry none.
//   - string is any YAML scalar, read as written (`1.10` stays "1.10");
//     bool is true or false; int is a whole number; a slice is a list; a
//     map is a mapping with any keys.
//   - A pointer element (map[string]*Cache) may also be null.
//   - A named type that is not a struct is inlined; its refine method, when
//     it has one, adds what its Go shape cannot say (patterns, enums, …).
//   - The schema tag adds, comma-separated: required; nullable (the field
//     may be null); nonempty (minLength, minItems or minProperties 1);
//     const=VALUE; default=JSON (last, as it may hold commas).
//
// Comments are the editor's hover text: write them for the person editing a
// stowage.yaml.

// A Stowage pipeline: cache volumes declared by key, and the steps that mount
// them. Unknown fields are errors; keys starting with x- are ignored.
type Document struct {
	// Schema version; optional, 1 is the only one.
	Version Field[Version] `json:"version"`
	// The namespace of this project's cache volumes (scope: project). Required.
	Project Field[Project] `json:"project" schema:"required"`
	// Build args and their defaults: NAME: value, or NAME: {default: value,
	// description: text}. --build-arg NAME=… overrides; a default may use
	// earlier args as ${NAME}.
	Args Field[Args] `json:"args" schema:"nullable"`
	// Cache volumes by local name; the name is only a handle for mounts.
	Caches Field[Caches] `json:"caches" schema:"nullable"`
	// The build graph, by step name. Required.
	Steps Field[Steps] `json:"steps" schema:"required"`
	// The step built when no --target is given; the last step when unset.
	Default Field[string] `json:"default" schema:"nonempty"`
}

// A project name, like hello-go.
type Project string

func (Project) refine(s *Schema) { s.Pattern = `\S` }

// The schema version: 1.
type Version int

func (Version) refine(s *Schema) {
	s.Type = nil
	s.Enum = []any{1, "1"}
}

// Build args by name: letters, digits and underscores, not starting with a
// digit. BuildKit's platform args (TARGETARCH, …) are always defined and
// cannot be declared.
type Args map[string]Arg

func (Args) refine(s *Schema) {
	auto := make([]any, 0, len(PlatformArgs))
	for _, name := range PlatformArgs {
		auto = append(auto, name)
	}
	s.PropertyNames = &Schema{Pattern: argName, Not: &Schema{Enum: auto}}
}

// Cache volumes by name. A volume with no fields (`gomod:`) has its name as
// its key.
type Caches map[string]*Cache

func (Caches) refine(s *Schema) { s.PropertyNames = &Schema{MinLength: ptr(1)} }

// A build arg: its default value, or a mapping with a default and a
// description.
type Arg struct {
	oneOf
	// No default: the arg is empty unless --build-arg sets it.
	None Null
	// The default value; --build-arg NAME=… overrides it.
	Default string
	// A default value and a description.
	Decl ArgDecl
}

// A build arg with a default and a description.
type ArgDecl struct {
	// The default value; --build-arg NAME=… overrides it. May use earlier args
	// as ${NAME}.
	Default Field[string] `json:"default"`
	// Shown by --call=outline.
	Description Field[string] `json:"description"`
}

// A cache volume, found by its key: the same key finds the same cache on any
// builder, a new key starts a fresh one.
type Cache struct {
	// The volume's key: a string, or a list of tokens (strings,
	// {hash: [GLOB, …]} or {digest: IMAGE}). Default: [NAME], so give a key
	// to volumes you may rename. A full key, parents included, has at most
	// 32 tokens.
	Key Field[Key] `json:"key"`
	// A parent volume: this volume's key is the parent's tokens followed by
	// its own, in the parent's scope.
	From Field[string] `json:"from"`
	// Who shares the volume: project (default) shares it between builds of
	// this project, global between every project on the builder, session
	// between the steps of one build only. A child volume (from:) has its
	// parent's scope.
	Scope Field[Scope] `json:"scope"`
	// How concurrent builds use the volume, as BuildKit's cache mounts:
	// shared (default), private (a concurrent writer gets its own fresh
	// volume) or locked (writers wait for each other).
	Sharing Field[Sharing] `json:"sharing"`
	// A whole number; bumping it moves everyone to a fresh volume.
	Generation Field[Generation] `json:"generation"`
	// "uid:gid" (numbers, or names from the step's /etc/passwd and
	// /etc/group) for the volume's root, applied when the volume is created.
	// With no owner, a step whose user is not root owns the fresh volumes it
	// mounts.
	Owner Field[Owner] `json:"owner"`
	// The octal mode of the volume's root, like "0755", applied when the
	// volume is created.
	Mode Field[Mode] `json:"mode"`
	// Free text, shown by --call=outline.
	Description Field[string] `json:"description"`
	// Retention, enforced by `stowage cache prune --policy`: remove records
	// of this volume unused for longer than this, like 72h or 30d.
	MaxAge Field[Age] `json:"max-age"`
	// Retention, enforced by `stowage cache prune --policy`: remove the
	// volume when it grows larger than this, like 2g.
	MaxSize Field[Size] `json:"max-size"`
	// Keys a fresh volume starts from when its own key is new, nearest first,
	// each written as key: is: the volume most recently set up under that
	// key on this builder, else its export in the cache-import repository.
	// Not with scope: session or sharing: private.
	Restore Field[Restore] `json:"restore"`
}

// restore: one key, or a list of keys.
type Restore struct {
	oneOf
	// One key of one token: restore: npm is restore: [npm].
	Token Literal
	// The keys, nearest first, each a string or a list of tokens.
	Keys RestoreKeys
}

// The keys of restore:, nearest first.
type RestoreKeys []Key

func (RestoreKeys) refine(s *Schema) {
	s.MinItems = ptr(1)
	s.MaxItems = ptr(MaxRestoreKeys)
}

// A retention age: a Go duration, optionally starting with days (30d, 1d12h).
type Age string

func (Age) refine(s *Schema) {
	s.Pattern = interpolated(`^([0-9]+d)?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))*$`)
	s.MinLength = ptr(1)
}

// A cache key: one token, or a list of tokens.
type Key struct {
	oneOf
	// One literal token: key: go-mod is key: [go-mod].
	Token Literal
	// The key's tokens, in order: strings, {hash: [GLOB, …]} or
	// {digest: IMAGE}.
	Tokens KeyTokens
}

// The tokens of a cache key, in order.
type KeyTokens []Token

func (KeyTokens) refine(s *Schema) {
	s.MinItems = ptr(1)
	s.MaxItems = ptr(MaxKeyTokens)
}

// A token of a cache key.
type Token struct {
	oneOf
	// A literal token; ${NAME} expands args, like ${TARGETARCH} for a cache per
	// architecture.
	Literal Literal
	// A digest of the build context's files that match the globs.
	Hash HashToken
	// The digest BuildKit resolves an image to.
	Digest DigestToken
}

// A literal, non-empty key token.
type Literal string

func (Literal) refine(s *Schema) { s.MinLength = ptr(1) }

// A key token from the build context's files: a digest of every file that
// matches one of the globs (after .dockerignore). A glob matches the whole
// relative path; * stays within one directory, ** crosses any number, so
// **/go.sum is every go.sum. No match is an error.
type HashToken struct {
	// The globs, like [go.sum] or ["**/package-lock.json"].
	Hash Field[Globs] `json:"hash" schema:"required"`
}

// One glob, or a list of globs.
type Globs struct {
	oneOf
	// One glob, like go.sum.
	Glob Glob
	// The globs, like [go.mod, go.sum].
	List []Glob `schema:"nonempty"`
}

// A glob over the build context's relative paths.
type Glob string

func (Glob) refine(s *Schema) {
	s.MinLength = ptr(1)
	// Relative to the context, never above it.
	s.Not = &Schema{Pattern: `^(/|\.\.(/|$))`}
}

// A key token from an image: the digest BuildKit resolves the image to (the
// index's, for a multi-platform image), so the cache follows the image.
type DigestToken struct {
	// An image reference, like debian:bookworm.
	Digest Field[string] `json:"digest" schema:"required,nonempty"`
}

// Who shares a cache volume.
type Scope string

// The scopes of a cache volume.
const (
	// ScopeProject shares a volume between builds of the same project (or
	// the same cache-namespace option).
	ScopeProject Scope = "project"
	// ScopeGlobal shares a volume between every project on a builder.
	ScopeGlobal Scope = "global"
	// ScopeSession keeps a volume to the steps of one build.
	ScopeSession Scope = "session"
)

// Scopes lists the valid scopes in the order the docs give them.
var Scopes = []Scope{ScopeProject, ScopeGlobal, ScopeSession}

func (Scope) refine(s *Schema) {
	s.Type = nil
	s.Enum = enum(Scopes)
	s.Default = string(ScopeProject)
}

// How concurrent builds use a cache volume.
type Sharing string

// The sharing modes of a cache volume; the values are BuildKit's.
const (
	// SharingShared lets concurrent writers use the volume at once.
	SharingShared Sharing = "shared"
	// SharingPrivate gives a concurrent writer its own fresh volume.
	SharingPrivate Sharing = "private"
	// SharingLocked makes concurrent writers wait for each other.
	SharingLocked Sharing = "locked"
)

// Sharings lists the valid sharing modes.
var Sharings = []Sharing{SharingShared, SharingPrivate, SharingLocked}

func (Sharing) refine(s *Schema) {
	s.Type = nil
	s.Enum = enum(Sharings)
	s.Default = string(SharingShared)
}

// A whole number of 0 or more.
type Generation int

func (Generation) refine(s *Schema) {
	s.Type = nil
	s.OneOf = []*Schema{
		{Type: "integer", Minimum: ptr(0.0)},
		{Type: "string", Pattern: `^\+?[0-9]+$`},
	}
}

// "uid:gid", with numbers or names.
type Owner string

func (Owner) refine(s *Schema) {
	s.Type = "string"
	s.Pattern = interpolated(`^[^:]+:[^:]+$`)
}

// An octal permission mode, like "0755".
type Mode string

func (Mode) refine(s *Schema) {
	s.Type = nil
	s.OneOf = []*Schema{
		{Type: "string", Pattern: interpolated(`^(0o)?0*[0-7]{1,4}$`)},
		// A plain 0755 reads as a number in YAML; its digits count as written.
		{Type: "integer", Minimum: ptr(0.0), Maximum: ptr(7777.0)},
	}
}

// Steps by name. A step name cannot be scratch, context or context:NAME,
// which from: reads as sources.
type Steps map[string]Step

func (Steps) refine(s *Schema) {
	s.MinProperties = ptr(1)
	s.PropertyNames = &Schema{Not: &Schema{AnyOf: []*Schema{
		{Enum: []any{"", "scratch", "context"}},
		{Pattern: "^context:"},
	}}}
}

// A step of the build graph: a filesystem that starts from an image, another
// step, scratch or a context, gets files copied in, and runs commands with
// mounts.
type Step struct {
	// Shown by --call=targets.
	Description Field[string] `json:"description"`
	// Where the step starts: an image (golang:1.26; untagged means :latest),
	// another step, scratch, context or context:NAME. A step name wins over
	// an image of the same name. Required.
	From Field[Source] `json:"from" schema:"required"`
	// Pins the step's platform, like ${BUILDPLATFORM} for cross-compiling.
	Platform Field[string] `json:"platform"`
	// Build args of this step, as Dockerfile's ARG in a stage: a list of
	// top-level or platform args ([GO_VERSION, TARGETARCH]), or a mapping of
	// names to defaults ({VERSION: dev}). They are in scope for ${NAME} in the
	// step's fields and in its commands' environment, never in its image
	// config; --build-arg NAME=… overrides a default.
	Args Field[StepArgs] `json:"args"`
	// The working directory, an absolute path, as Dockerfile's WORKDIR;
	// inherited from the image or step it starts from.
	Workdir Field[AbsPath] `json:"workdir"`
	// Environment variables, as Dockerfile's ENV; inherited from the image or
	// step it starts from.
	Env Field[StepEnv] `json:"env" schema:"nullable"`
	// The user commands run as, like "1000" or "app:app", as Dockerfile's
	// USER.
	User Field[string] `json:"user"`
	// The command runner, as Dockerfile's SHELL: default the shell of what
	// the step starts from (a step's shell, an image's SHELL), else
	// [/bin/sh, -c]. Steps built on this one run in it too, and the image
	// config records it.
	Shell Field[[]string] `json:"shell" schema:"nonempty"`
	// The network of the step's commands, as RUN --network: default
	// (BuildKit's), none (a loopback device only) or host (the host's
	// network; needs the network.host entitlement).
	Network Field[Network] `json:"network"`
	// The security mode of the step's commands, as RUN --security: sandbox
	// (BuildKit's default) or insecure (privileged; needs the
	// security.insecure entitlement).
	Security Field[Security] `json:"security"`
	// Files copied into the step before its commands run, like COPY.
	Copy Field[[]Copy] `json:"copy" schema:"nullable"`
	// Mounts for every command of the step. Each needs an absolute path other
	// than /, unique in its step.
	Mounts Field[[]Mount] `json:"mounts" schema:"nullable"`
	// A command, or a list of commands, each its own cached op, run by shell.
	Run Field[Run] `json:"run"`
	// The ENTRYPOINT of the step's image.
	Entrypoint Field[[]string] `json:"entrypoint"`
	// The CMD of the step's image.
	Cmd Field[[]string] `json:"cmd"`
	// The ports the step's image exposes, like "8080/tcp".
	Expose Field[Expose] `json:"expose"`
	// The labels of the step's image.
	Labels Field[Env] `json:"labels" schema:"nullable"`
	// Paths the step's image declares as volumes, as Dockerfile's VOLUME.
	Volumes Field[Volumes] `json:"volumes"`
	// The signal that stops a container of the step's image, as STOPSIGNAL:
	// SIGTERM, SIGQUIT, 15, …
	StopSignal Field[StopSignal] `json:"stopsignal"`
	// How a runtime checks a container of the step's image is healthy, as
	// HEALTHCHECK; none disables the base image's.
	Healthcheck Field[Healthcheck] `json:"healthcheck"`
}

// Volume paths of an image.
type Volumes struct {
	oneOf
	// One path, like /data.
	Path AbsPath
	// Paths, like [/data, /logs].
	Paths []AbsPath
}

// A signal name or number.
type StopSignal string

func (StopSignal) refine(s *Schema) {
	s.Pattern = interpolated(`^([0-9]+|(SIG)?[A-Z][A-Z0-9]*([+-][0-9]+)?)$`)
}

// A healthcheck, or none.
type Healthcheck struct {
	oneOf
	// Disables the base image's healthcheck (HEALTHCHECK NONE).
	None HealthcheckNone
	// A check.
	Check HealthcheckCheck
}

// none.
type HealthcheckNone string

func (HealthcheckNone) refine(s *Schema) { s.Enum = []any{"none"} }

// A healthcheck, as Dockerfile's HEALTHCHECK and its flags.
type HealthcheckCheck struct {
	// The check: a string runs in the image's shell (CMD-SHELL), a list runs
	// directly (CMD). Required.
	Test Field[HealthcheckTest] `json:"test" schema:"required"`
	// Time between checks, like 30s; 0 or unset: the runtime's default.
	Interval Field[Duration] `json:"interval"`
	// Time a check may take before it counts as failed.
	Timeout Field[Duration] `json:"timeout"`
	// Time the container has to start before failures count.
	StartPeriod Field[Duration] `json:"start-period"`
	// Time between checks during the start period.
	StartInterval Field[Duration] `json:"start-interval"`
	// Consecutive failures before the container is unhealthy.
	Retries Field[int] `json:"retries"`
}

// A healthcheck command.
type HealthcheckTest struct {
	oneOf
	// A command for the image's shell.
	Shell Command
	// A program and its arguments.
	Exec []string
}

// A Go duration like 30s, 1m30s or 500ms.
type Duration string

func (Duration) refine(s *Schema) {
	s.Pattern = interpolated(`^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`)
}

// A step's build args: a list of names, or a mapping of names to defaults.
type StepArgs struct {
	oneOf
	// No args.
	None Null
	// Top-level or platform args the step uses, like [GO_VERSION, TARGETARCH].
	Names ArgNames
	// Args by name: a default, a mapping with a default and a description,
	// or nothing for a top-level or platform arg.
	Defaults StepArgDefaults
}

// Names of top-level or platform args, each listed once.
type ArgNames []ArgName

func (ArgNames) refine(s *Schema) { s.UniqueItems = true }

// The name of a top-level or platform arg.
type ArgName string

func (ArgName) refine(s *Schema) {
	s.Type = "string"
	s.Pattern = argName
}

// A step's args by name. A name without a value is a top-level or platform
// arg; BuildKit's platform args take no default.
type StepArgDefaults map[string]Arg

func (StepArgDefaults) refine(s *Schema) {
	s.PropertyNames = &Schema{Pattern: argName}
	for _, name := range PlatformArgs {
		s.Properties = append(s.Properties, NamedSchema{Name: name, Schema: &Schema{
			Description: "BuildKit's automatic platform arg: list it without a default.",
			OneOf: []*Schema{
				{Type: "null"},
				{AllOf: []*Schema{
					{Ref: "#/definitions/ArgDecl"},
					{Not: &Schema{Required: []string{"default"}}},
				}},
			},
		}})
	}
}

// The network of a step's commands.
type Network string

// The network modes, as Dockerfile's RUN --network.
const (
	// NetworkDefault is BuildKit's default network (the worker's).
	NetworkDefault Network = "default"
	// NetworkNone gives the commands a loopback device only.
	NetworkNone Network = "none"
	// NetworkHost shares the host's network; it needs the network.host
	// entitlement.
	NetworkHost Network = "host"
)

// Networks lists the valid network modes.
var Networks = []Network{NetworkDefault, NetworkNone, NetworkHost}

func (Network) refine(s *Schema) {
	s.Type = nil
	s.Enum = enum(Networks)
	s.Default = string(NetworkDefault)
}

// The security mode of a step's commands.
type Security string

// The security modes, as Dockerfile's RUN --security.
const (
	// SecuritySandbox is BuildKit's default: a container with the default
	// capabilities.
	SecuritySandbox Security = "sandbox"
	// SecurityInsecure runs the commands privileged; it needs the
	// security.insecure entitlement.
	SecurityInsecure Security = "insecure"
)

// Securities lists the valid security modes.
var Securities = []Security{SecuritySandbox, SecurityInsecure}

func (Security) refine(s *Schema) {
	s.Type = nil
	s.Enum = enum(Securities)
	s.Default = string(SecuritySandbox)
}

// Where a filesystem comes from: an image, a step, scratch, context (the
// main build context) or context:NAME (a named one, --build-context NAME=…).
type Source string

func (Source) refine(s *Schema) {
	s.MinLength = ptr(1)
	s.Not = &Schema{Const: "context:"}
}

// An absolute path the kernel takes: no control characters, components of
// at most 255 bytes.
type AbsPath string

func (AbsPath) refine(s *Schema) {
	s.Type = "string"
	s.Pattern = interpolated(`^(/[^/\x00-\x1f\x7f]{0,255})+$`)
}

// Names and string values.
type Env map[string]string

// Environment variables by name: no =, white space or control characters.
type StepEnv map[string]string

func (StepEnv) refine(s *Schema) {
	s.PropertyNames = &Schema{Pattern: `^[^=\s\x00-\x1f\x7f]+$`}
}

// Commands of a step.
type Run struct {
	oneOf
	// One command.
	Command string
	// Commands in order, each its own cached op.
	Commands []Command
}

// A command, run by the step's shell.
type Command string

func (Command) refine(s *Schema) { s.Pattern = `\S` }

// Ports of an image.
type Expose struct {
	oneOf
	// One port, like "8080/tcp".
	Port Port
	// Ports, like ["8080/tcp", "53/udp"].
	Ports []Port
}

// A port or a range of ports, with tcp (the default), udp or sctp, as
// Dockerfile's EXPOSE takes them.
type Port string

func (Port) refine(s *Schema) {
	// A number reads as text, like any scalar here; the pattern is for text.
	s.Pattern = interpolated(`^[0-9]{1,5}(-[0-9]{1,5})?(/([tT][cC][pP]|[uU][dD][pP]|[sS][cC][tT][pP]))?$`)
}

// A copy into a step, like Dockerfile's COPY: a directory's contents land in
// dest, wildcards expand, a relative dest is under workdir. With url: or
// git: instead of src:, like ADD with a remote source.
type Copy struct {
	// Where src is read: a step, an image, context (default) or context:NAME.
	From Field[Source] `json:"from"`
	// The path to copy; . is the whole context. One of src, url, git and
	// content is required.
	Src Field[string] `json:"src" schema:"nonempty"`
	// An http or https URL of a file to download, as ADD URL; it lands in
	// dest/ under the URL's last segment, or as dest.
	URL Field[URL] `json:"url"`
	// A Git repository to check out, as ADD with a Git URL:
	// https://host/repo.git#REF:SUBDIR or git@host:repo.git.
	Git Field[GitURL] `json:"git"`
	// The text of a file to write at dest, as a COPY heredoc; ${NAME} is
	// expanded, $${NAME} is written as ${NAME}.
	Content Field[string] `json:"content"`
	// Pins a url: copy to the file's digest (sha256:…) or a git: copy to a
	// commit, as ADD --checksum.
	Checksum Field[string] `json:"checksum" schema:"nonempty"`
	// Keeps the .git directory of a git: copy, as ADD --keep-git-dir.
	KeepGitDir Field[bool] `json:"keep-git-dir" schema:"default=false"`
	// Extracts a tar archive (plain, gzip, bzip2 or xz) into dest, as ADD
	// does with a local archive.
	Unpack Field[bool] `json:"unpack" schema:"default=false"`
	// Where it lands in the step. Required.
	Dest Field[string] `json:"dest" schema:"required,nonempty"`
	// The owner of the copied files, "user[:group]" with names or numbers, as
	// COPY --chown. With link: true, numbers only.
	Chown Field[Chown] `json:"chown"`
	// The mode of the copied files, octal ("0644") or symbolic ("u+x,go-w"),
	// as COPY --chmod.
	Chmod Field[Chmod] `json:"chmod"`
	// Paths not to copy: a pattern or a list of patterns, as in .dockerignore,
	// as COPY --exclude.
	Exclude Field[Patterns] `json:"exclude"`
	// Copies into an empty layer merged over the step's filesystem, as COPY
	// --link.
	Link Field[bool] `json:"link" schema:"default=false"`
	// Keeps the directories of src under dest, as COPY --parents.
	Parents Field[bool] `json:"parents" schema:"default=false"`
}

// CopySources are the fields that name what a copy reads; a copy has
// exactly one.
var CopySources = []string{"src", "url", "git", "content"}

// CopyFieldSources lists, for the copy fields that apply to some sources
// only, the sources they apply to, and what to write on the others.
var CopyFieldSources = map[string]struct {
	Sources []string
	Hint    string
}{
	"from":         {[]string{"src"}, "remove it: url:, git: and content: are their own source"},
	"parents":      {[]string{"src"}, "remove it"},
	"exclude":      {[]string{"src", "git"}, "remove it: a url: or content: copy is one file"},
	"checksum":     {[]string{"url", "git"}, "remove it: a copy from the context, a step or content: is pinned by its own content"},
	"keep-git-dir": {[]string{"git"}, "remove it, or copy from git: URL"},
	"unpack":       {[]string{"src", "url"}, "remove it: only a file from src: or url: can be an archive"},
}

func (Copy) refine(s *Schema) {
	for _, src := range CopySources {
		s.OneOf = append(s.OneOf, &Schema{Required: []string{src}})
	}
	// The fields that apply to only some sources.
	s.Not = &Schema{}
	for _, field := range slices.Sorted(maps.Keys(CopyFieldSources)) {
		for _, src := range CopySources {
			if !slices.Contains(CopyFieldSources[field].Sources, src) {
				s.Not.AnyOf = append(s.Not.AnyOf, &Schema{Required: []string{src, field}})
			}
		}
	}
}

// An http or https URL.
type URL string

func (URL) refine(s *Schema) { s.Pattern = interpolated(`^https?://[^\s/]+`) }

// A Git URL, as ADD takes one.
type GitURL string

func (GitURL) refine(s *Schema) { s.MinLength = ptr(1) }

// "user[:group]", with names or numbers.
type Chown string

func (Chown) refine(s *Schema) { s.Pattern = interpolated(`^[^:\s]+(:[^:\s]*)?$`) }

// An octal mode up to 07777, or a symbolic one as chmod(1) takes it.
type Chmod string

func (Chmod) refine(s *Schema) {
	clause := `[ugoa]*([-+=]([ugo]|[rwxXst]*))+`
	s.Type = nil
	s.OneOf = []*Schema{
		{Type: "string", Pattern: interpolated(`^0*[0-7]{1,4}$|^` + clause + `(,` + clause + `)*$`)},
		// A plain 0644 reads as a number in YAML; its digits count as written.
		{Type: "integer", Minimum: ptr(0.0), Maximum: ptr(7777.0)},
	}
}

// One pattern, or a list of patterns.
type Patterns struct {
	oneOf
	// One pattern, like *.md.
	Pattern Pattern
	// Patterns, like ["*.md", "**/testdata"].
	List []Pattern
}

// A pattern as in .dockerignore; a leading ! re-includes.
type Pattern string

func (Pattern) refine(s *Schema) { s.MinLength = ptr(1) }

// A mount: {cache: VOLUME, path: P} for a cache volume, or {type: tmpfs |
// bind | secret | ssh, …}.
type Mount struct {
	oneOf
	// A cache volume.
	Cache CacheMount
	// An empty in-memory filesystem.
	Tmpfs TmpfsMount
	// A step's, an image's or a context's files.
	Bind BindMount
	// A secret from --secret id=ID,….
	Secret SecretMount
	// An SSH agent socket from --ssh ID.
	SSH SSHMount
}

// A cache volume mounted into a step.
type CacheMount struct {
	// The mount type, cache; optional, as cache: VOLUME makes a cache mount.
	Type Field[string] `json:"type" schema:"const=cache"`
	// The volume, by its name under caches:. Required.
	Cache Field[string] `json:"cache" schema:"required,nonempty"`
	// Where the volume appears. Required.
	Path Field[MountPath] `json:"path" schema:"required"`
	// Mounts the volume read-only.
	Readonly Field[bool] `json:"readonly" schema:"default=false"`
	// Seeds the volume with a copy of a directory when the volume is created,
	// never after.
	Source Field[Seed] `json:"source"`
}

// An empty in-memory filesystem.
type TmpfsMount struct {
	// The mount type: tmpfs.
	Type Field[string] `json:"type" schema:"required,const=tmpfs"`
	// Where the tmpfs appears. Required.
	Path Field[MountPath] `json:"path" schema:"required"`
	// The size limit, like 64m or 1g; no limit when unset.
	Size Field[Size] `json:"size"`
	// Mounts the tmpfs read-only.
	Readonly Field[bool] `json:"readonly" schema:"default=false"`
}

// A read-only view of a step's, an image's or a context's files (writable
// means writes are discarded).
type BindMount struct {
	// The mount type: bind.
	Type Field[string] `json:"type" schema:"required,const=bind"`
	// Where the files appear. Required.
	Path Field[MountPath] `json:"path" schema:"required"`
	// Whose files: a step, an image, context (default) or context:NAME.
	From Field[Source] `json:"from"`
	// The directory or file to mount from it; default /.
	Src Field[string] `json:"src"`
	// true by default; false makes it writable, with writes discarded.
	Readonly Field[bool] `json:"readonly" schema:"default=true"`
}

// A secret from --secret id=ID,….
type SecretMount struct {
	// The mount type: secret.
	Type Field[string] `json:"type" schema:"required,const=secret"`
	// The secret's id, as in --secret id=ID; default: the base name of path.
	ID Field[string] `json:"id"`
	// Where the secret file appears; default /run/secrets/ID, or no file when
	// env is set.
	Path Field[MountPath] `json:"path"`
	// Exposes the secret in this environment variable; with no path, it is
	// not also a file.
	Env Field[EnvName] `json:"env"`
	// Fails the build when the secret is missing.
	Required Field[bool] `json:"required" schema:"default=false"`
	// The owner uid of the secret file; default 0.
	UID Field[NumericID] `json:"uid"`
	// The owner gid of the secret file; default 0.
	GID Field[NumericID] `json:"gid"`
	// The mode of the secret file, like "0440"; default "0400".
	Mode Field[Mode] `json:"mode"`
	// Mounts the secret read-only.
	Readonly Field[bool] `json:"readonly" schema:"default=false"`
}

func (SecretMount) refine(s *Schema) {
	s.AnyOf = []*Schema{
		{Required: []string{"id"}, Properties: Named{{Name: "id", Schema: &Schema{MinLength: ptr(1)}}}},
		{Required: []string{"path"}},
	}
	// uid, gid and mode are the file's: not with env and no path.
	s.Not = &Schema{
		Required: []string{"env"},
		Not:      &Schema{Required: []string{"path"}},
		AnyOf:    []*Schema{{Required: []string{"uid"}}, {Required: []string{"gid"}}, {Required: []string{"mode"}}},
	}
}

// An environment variable name: letters, digits and underscores, not
// starting with a digit.
type EnvName string

func (EnvName) refine(s *Schema) {
	s.Type = "string"
	s.Pattern = interpolated(argName)
}

// A numeric user or group id.
type NumericID string

func (NumericID) refine(s *Schema) {
	s.Type = nil
	s.OneOf = []*Schema{
		{Type: "integer", Minimum: ptr(0.0), Maximum: ptr(float64(1<<32 - 1))},
		{Type: "string", Pattern: interpolated(`^[0-9]+$`)},
	}
}

// An SSH agent socket from --ssh ID.
type SSHMount struct {
	// The mount type: ssh.
	Type Field[string] `json:"type" schema:"required,const=ssh"`
	// The agent's id, as in --ssh ID; default: default.
	ID Field[string] `json:"id" schema:"default=\"default\""`
	// Where the socket appears; BuildKit picks a path when unset (and sets
	// SSH_AUTH_SOCK).
	Path Field[MountPath] `json:"path"`
	// Fails the build when the agent is missing.
	Required Field[bool] `json:"required" schema:"default=false"`
	// The owner uid of the socket; default 0.
	UID Field[NumericID] `json:"uid"`
	// The owner gid of the socket; default 0.
	GID Field[NumericID] `json:"gid"`
	// The mode of the socket, like "0660"; default "0600".
	Mode Field[Mode] `json:"mode"`
	// Mounts the socket read-only.
	Readonly Field[bool] `json:"readonly" schema:"default=false"`
}

// An absolute path other than /, that the kernel takes (as AbsPath).
type MountPath string

func (MountPath) refine(s *Schema) {
	s.Type = "string"
	s.Pattern = interpolated(`^(/[^/\x00-\x1f\x7f]{0,255})+$`)
	// Not /, nor a spelling of it like /./ or /.. (path.Clean makes them /).
	s.Not = &Schema{Pattern: `^(/+\.{0,2})+/*$`}
}

// A size like 64m or 1g.
type Size string

func (Size) refine(s *Schema) {
	s.Type = []string{"string", "number"}
	s.Pattern = interpolated(`^[0-9]+(\.[0-9]+)* ?[kKmMgGtTpP]?[iI]?[bB]?$`)
	s.Minimum = ptr(0.0)
}

// The first contents of a cache volume: {step: S, path: P}, {context: P} or
// {context: NAME, path: P}.
type Seed struct {
	oneOf
	// A directory of a step.
	Step StepSeed
	// A directory of the main build context, or of a named context.
	Context ContextSeed
}

// A directory of a step, copied into a fresh volume.
type StepSeed struct {
	// The step. Required.
	Step Field[string] `json:"step" schema:"required,nonempty"`
	// The directory in the step; default /.
	Path Field[string] `json:"path"`
}

// A directory of a build context, copied into a fresh volume.
type ContextSeed struct {
	// With path: the named context (--build-context NAME=…). Without: the
	// directory in the main build context.
	Context Field[string] `json:"context" schema:"required"`
	// The directory in the named context; default /.
	Path Field[string] `json:"path"`
}

// YAML null: the field written with no value.
type Null struct{}
