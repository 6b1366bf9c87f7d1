package llbgen

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/spec"
)

// copy adds a copy into the step. Like Dockerfile's COPY, a directory's
// contents land in dest, wildcards expand, and dest is created.
func (l *lowering) copy(ctx context.Context, ss *stepState, c *spec.Copy, n *namer) (llb.State, error) {
	what := copyInstruction(c, true)
	constraints := append([]llb.ConstraintsOpt{n.name(what), l.location(c.Range)}, n.extra...)
	src, srcPath, err := l.copySource(ctx, ss, c, n, what)
	if err != nil {
		return llb.State{}, err
	}
	dest := c.Dest
	if !path.IsAbs(dest) {
		dest = path.Join(ss.image.Config.WorkingDir, dest)
		if strings.HasSuffix(c.Dest, "/") || c.Dest == "." {
			dest += "/"
		}
	}
	info := &llb.CopyInfo{
		CopyDirContentsOnly: true,
		FollowSymlinks:      true,
		AllowWildcard:       c.From.Kind != spec.SourceURL && c.From.Kind != spec.SourceContent,
		CreateDestPath:      true,
		ExcludePatterns:     c.Exclude,
		Mode:                chmodOpt(c.Chmod),
		AttemptUnpack:       c.Unpack,
	}
	// As COPY: a pattern that matches nothing copies nothing (COPY
	// package.json yarn.lock* ./).
	info.AllowEmptyWildcard = info.AllowWildcard
	if c.Parents {
		srcPath, info.IncludePatterns, info.RequiredPaths = parentsPaths(c.Src)
	}
	copyOpts := []llb.CopyOption{info}
	if c.Chown != "" {
		copyOpts = append(copyOpts, llb.WithUser(c.Chown))
	}
	action := llb.Copy(src, srcPath, dest, copyOpts...)
	// As Dockerfile's COPY --link (which links only without --chmod): the
	// files land in an empty layer that is merged over the step's
	// filesystem, so the layer does not depend on what is below it.
	if c.Link && c.Chmod == "" {
		pgID := strings.TrimSpace(fmt.Sprintf("stowage-link %s %d %s", n.step, n.index, n.platform))
		pgName := n.label(what)
		copied := llb.Scratch().File(action, append(constraints, llb.Platform(ss.platform), llb.ProgressGroup(pgID, pgName, true))...)
		merge := append([]llb.ConstraintsOpt{llb.WithCustomName(n.label("LINK " + what)), l.location(c.Range), llb.ProgressGroup(pgID, pgName, false)}, n.extra...)
		return ss.state.WithOutput(llb.Merge([]llb.State{ss.state, copied}, merge...).Output()), nil
	}
	return ss.state.File(action, constraints...), nil
}

// copySource is the filesystem a copy reads and the path it reads there.
// A url: copy reads one file, named as the URL's last segment (as ADD
// names it); a git: copy reads the checkout's root. Fetches and the file a
// content: copy makes share the copy's name, and --no-cache (n.extra).
func (l *lowering) copySource(ctx context.Context, ss *stepState, c *spec.Copy, n *namer, what string) (llb.State, string, error) {
	r := spec.VisitCopySource[copyRead](c.From, copyReader{l: l, ctx: ctx, ss: ss, c: c, n: n, name: llb.WithCustomName(n.label(what))})
	return r.state, r.path, r.err
}

// copyRead is what a copy reads: a filesystem and the path in it.
type copyRead struct {
	state llb.State
	path  string
	err   error
}

// copyReader reads each kind of copy source.
type copyReader struct {
	l    *lowering
	ctx  context.Context
	ss   *stepState
	c    *spec.Copy
	n    *namer
	name llb.ConstraintsOpt
}

func (cr copyReader) filesystem(src spec.Source) copyRead {
	st, err := cr.l.sourceState(cr.ctx, src, cr.ss, cr.c.Range)
	// A relative src is read in the source's working directory (a step's
	// workdir), as it always was here; COPY --from reads from the root,
	// so stowage convert writes those paths absolute.
	return copyRead{st, cr.c.Src, err}
}

func (cr copyReader) Image(src spec.Source) copyRead   { return cr.filesystem(src) }
func (cr copyReader) Step(src spec.Source) copyRead    { return cr.filesystem(src) }
func (cr copyReader) Scratch(src spec.Source) copyRead { return cr.filesystem(src) }
func (cr copyReader) Context(src spec.Source) copyRead { return cr.filesystem(src) }

func (cr copyReader) URL(src spec.Source) copyRead {
	file := urlFile(src.Ref)
	opts := []llb.HTTPOption{llb.Filename(file), cr.name, cr.l.location(cr.c.FieldRange("url"))}
	if cr.c.Checksum != "" {
		opts = append(opts, llb.Checksum(digest.Digest(cr.c.Checksum)))
	}
	for _, o := range cr.n.extra {
		opts = append(opts, o)
	}
	return copyRead{llb.HTTP(src.Ref, opts...), file, nil}
}

func (cr copyReader) Git(spec.Source) copyRead {
	c, g := cr.c, cr.c.Git
	opts := []llb.GitOption{cr.name, llb.GitRef(g.Ref), cr.l.location(c.FieldRange("git"))}
	for _, o := range cr.n.extra {
		opts = append(opts, o)
	}
	if c.KeepGitDir {
		opts = append(opts, llb.KeepGitDir())
	}
	if c.Checksum != "" {
		opts = append(opts, llb.GitChecksum(c.Checksum))
	}
	if g.Subdir != "" {
		opts = append(opts, llb.GitSubDir(g.Subdir))
	}
	if g.SkipSubmodules {
		opts = append(opts, llb.GitSkipSubmodules())
	}
	return copyRead{llb.Git(g.Remote, "", opts...), "/", nil}
}

// Content is made as a COPY heredoc is: the file in an empty filesystem,
// then copied, so chown, chmod and link apply as to any copy.
func (cr copyReader) Content(spec.Source) copyRead {
	file := path.Base(cr.c.Dest)
	opts := append([]llb.ConstraintsOpt{cr.name, llb.Platform(cr.ss.platform), cr.l.location(cr.c.Range)}, cr.n.extra...)
	return copyRead{llb.Scratch().File(llb.Mkfile(file, 0o644, []byte(cr.c.Content)), opts...), file, nil}
}

// urlFile is the name ADD gives a downloaded file: the URL path's last
// segment, or __unnamed__.
func urlFile(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err == nil {
		if base := path.Base(u.Path); base != "." && base != "/" {
			return base
		}
	}
	return "__unnamed__"
}

// copyInstruction renders a copy as the Dockerfile instruction it stands
// for: COPY (with a heredoc for content:), or ADD for a url: or git:
// source or unpack: true. With name, for the vertex name (every flag, as
// written); without, for the image history (what Dockerfile records there).
func copyInstruction(c *spec.Copy, name bool) string {
	flags := copyFlags(c, name)
	switch {
	case c.From.Kind == spec.SourceContent:
		return "COPY " + flags + "<<EOF " + c.Dest
	case c.From.Kind == spec.SourceURL || c.From.Kind == spec.SourceGit:
		return "ADD " + flags + c.From.Ref + " " + c.Dest
	case c.Unpack:
		return "ADD " + flags + c.Src + " " + c.Dest
	}
	return "COPY " + flags + c.Src + " " + c.Dest
}

// copyFlags renders a copy's COPY and ADD flags, each followed by a space:
// for the vertex name (every flag, as written) or for the image history
// (those Dockerfile records there).
func copyFlags(c *spec.Copy, name bool) string {
	var b strings.Builder
	if name && c.From.Kind == spec.SourceStep {
		b.WriteString("--from=" + c.From.Ref + " ")
	}
	if name && c.Checksum != "" {
		b.WriteString("--checksum=" + c.Checksum + " ")
	}
	if name && c.KeepGitDir {
		b.WriteString("--keep-git-dir ")
	}
	if name && c.Unpack {
		b.WriteString("--unpack ")
	}
	if c.Parents {
		b.WriteString("--parents ")
	}
	if c.Chown != "" {
		b.WriteString("--chown=" + c.Chown + " ")
	}
	if c.Chmod != "" {
		b.WriteString("--chmod=" + c.Chmod + " ")
	}
	if name && c.Link {
		b.WriteString("--link ")
	}
	if name {
		for _, e := range c.Exclude {
			b.WriteString("--exclude=" + e + " ")
		}
	}
	return b.String()
}

// chmodOpt is COPY --chmod's option: an octal mode, or a symbolic one that
// BuildKit applies to each file.
func chmodOpt(chmod string) *llb.ChmodOpt {
	if chmod == "" {
		return nil
	}
	if m, octal, err := spec.ParseChmod(chmod); err == nil && octal {
		return &llb.ChmodOpt{Mode: m}
	}
	return &llb.ChmodOpt{ModeStr: chmod}
}

// parentsPaths splits a copy's src as COPY --parents does: the part before
// a "/./" pivot (or /) is where the copy reads from, the rest a pattern whose
// directories are kept under dest; a path without wildcards must exist.
func parentsPaths(src string) (from string, include, required []string) {
	from, pattern, ok := strings.Cut(src, "/./")
	if !ok {
		from, pattern = "/", src
	}
	from = path.Join("/", from)
	pattern = path.Join("/", pattern)
	include = []string{strings.TrimPrefix(pattern, "/")}
	if !containsWildcards(from) && !containsWildcards(pattern) {
		required = []string{path.Join(from, pattern)}
	}
	return from, include, required
}

func containsWildcards(name string) bool {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '*', '?', '[':
			return true
		case '\\':
			i++
		}
	}
	return false
}

// sourceState is the filesystem a copy or bind mount reads from.
func (l *lowering) sourceState(ctx context.Context, src spec.Source, ss *stepState, r spec.Range) (llb.State, error) {
	res := spec.VisitSource[fsState](src, fsReader{l: l, ctx: ctx, ss: ss, r: r})
	return res.state, res.err
}

type fsState struct {
	state llb.State
	err   error
}

// fsReader makes the filesystem of each kind of source.
type fsReader struct {
	l   *lowering
	ctx context.Context
	ss  *stepState
	r   spec.Range
}

func (fr fsReader) Step(src spec.Source) fsState { return fsState{fr.l.steps[src.Ref].state, nil} }
func (fsReader) Scratch(spec.Source) fsState     { return fsState{llb.Scratch(), nil} }

func (fr fsReader) Image(src spec.Source) fsState {
	state, _, err := fr.l.replacedImage(fr.ctx, src.Ref, fr.ss.platform, fr.r, "")
	if err != nil || state != nil {
		return fsState{derefState(state), err}
	}
	// Located, so a pull that fails (a registry down, a typo) points at
	// the copy or mount that names the image.
	return fsState{llb.Image(src.Ref, llb.Platform(fr.ss.platform), fr.l.opt.ImageResolveMode, fr.l.location(fr.r)), nil}
}

func (fr fsReader) Context(src spec.Source) fsState {
	st, _, err := fr.l.context(fr.ctx, src.Ref, fr.ss.platform, fr.r)
	return fsState{st, err}
}

// context returns the main build context (name "") or a named one.
func (l *lowering) context(ctx context.Context, name string, p ocispecs.Platform, r spec.Range) (llb.State, *dockerspec.DockerOCIImage, error) {
	if name == "" {
		if l.opt.MainContext != nil {
			return *l.opt.MainContext, nil, nil
		}
		return llb.Local("context", l.localOptions("context", "[internal] load build context")...), nil, nil
	}
	if l.opt.NamedContext == nil {
		return llb.Local(name, l.localOptions(name, "[internal] load context "+name)...), nil, nil
	}
	st, img, err := l.opt.NamedContext(ctx, name, p)
	if err != nil {
		return llb.State{}, nil, specError(l.s, r, "", err.Error(), "")
	}
	if st == nil {
		return llb.State{}, nil, specError(l.s, r, "", "no build context named "+name, "pass it with --build-context "+name+"=DIR (buildx) or --local "+name+"=DIR (buildctl)")
	}
	return *st, img, nil
}

// localOptions are those of a local source Stowage makes itself (stowage
// llb, no frontend): it sends only what the target reads there, as the
// frontend's contexts do (ContextPaths).
func (l *lowering) localOptions(name, customName string) []llb.LocalOption {
	opts := []llb.LocalOption{llb.SharedKeyHint(name), llb.WithCustomName(customName)}
	key := name
	if name == "context" {
		key = ""
	}
	if l.paths == nil {
		l.paths = ContextPaths(l.s, l.opt.Target)
	}
	if paths := l.paths[key]; len(paths) > 0 {
		opts = append(opts, llb.FollowPaths(paths))
	}
	return opts
}

func derefState(st *llb.State) llb.State {
	if st == nil {
		return llb.State{}
	}
	return *st
}
