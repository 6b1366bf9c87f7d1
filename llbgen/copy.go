package llbgen

import (
	"context"
	"path"
	"strings"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/spec"
)

// copy adds a copy into the step. Like Dockerfile's COPY, a directory's
// contents land in dest, wildcards expand, and dest is created.
func (l *lowering) copy(ctx context.Context, ss *stepState, c *spec.Copy, n *namer) (llb.State, error) {
	src, err := l.sourceState(ctx, c.From, ss, c.Range)
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
	action := llb.Copy(src, c.Src, dest, &llb.CopyInfo{
		CopyDirContentsOnly: true,
		FollowSymlinks:      true,
		AllowWildcard:       true,
		CreateDestPath:      true,
	})
	what := "COPY " + c.Src + " " + c.Dest
	if c.From.Kind == spec.SourceStep {
		what = "COPY --from=" + c.From.Ref + " " + c.Src + " " + c.Dest
	}
	return ss.state.File(action, append([]llb.ConstraintsOpt{n.name(what), l.location(c.Range)}, n.extra...)...), nil
}

// sourceState is the filesystem a copy or bind mount reads from.
func (l *lowering) sourceState(ctx context.Context, src spec.Source, ss *stepState, r spec.Range) (llb.State, error) {
	switch src.Kind {
	case spec.SourceStep:
		return l.steps[src.Ref].state, nil
	case spec.SourceScratch:
		return llb.Scratch(), nil
	case spec.SourceImage:
		return llb.Image(src.Ref, llb.Platform(ss.platform), l.opt.ImageResolveMode), nil
	}
	st, _, err := l.context(ctx, src.Ref, ss.platform, r)
	return st, err
}

// context returns the main build context (name "") or a named one.
func (l *lowering) context(ctx context.Context, name string, p ocispecs.Platform, r spec.Range) (llb.State, *dockerspec.DockerOCIImage, error) {
	if name == "" {
		if l.opt.MainContext != nil {
			return *l.opt.MainContext, nil, nil
		}
		return llb.Local("context", llb.SharedKeyHint("context"), llb.WithCustomName("[internal] load build context")), nil, nil
	}
	if l.opt.NamedContext == nil {
		return llb.Local(name, llb.SharedKeyHint(name), llb.WithCustomName("[internal] load context "+name)), nil, nil
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
