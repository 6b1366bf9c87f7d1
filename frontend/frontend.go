// Package frontend is Stowage's BuildKit gateway frontend: it reads the spec
// through dockerui (so filename, build args, target, platforms, named
// contexts and subrequests behave as with Dockerfiles), lowers it per
// platform with llbgen, and turns spec errors into source-mapped errors.
package frontend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
)

// Language names the spec in source maps, so clients highlight it as YAML.
const Language = "YAML"

// Build is the gateway build function.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	c = defaultFilename{c}
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, Language)
	if err != nil {
		return nil, err
	}
	// Read once; each platform's build loads it with its own args.
	b := &builder{c: c, bc: bc, src: src, doc: spec.Parse(src.Data, src.Filename)}
	// A bad setting fails builds; subrequests (outline, targets, lint)
	// still answer.
	b.settings, b.settingsErr = llbgen.ParseSettings(bc.BuildOpts().Opts, bc.BuildArgs)

	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		ListTargets: b.targets,
		Outline:     b.outline,
		Lint:        b.lint,
	}); err != nil || ok {
		b.withVolumes(res)
		return res, err
	}
	b.warn(ctx)
	if err := b.reset(ctx); err != nil {
		return nil, err
	}

	rb, err := bc.Build(ctx, b.build)
	if err != nil {
		return nil, err
	}
	return rb.Finalize()
}

// defaultFilename makes stowage.yaml the spec's name when the client gives
// none, where dockerui would look for a Dockerfile: `buildctl build
// --frontend gateway.v0 --local dockerfile=.` then just works.
type defaultFilename struct{ client.Client }

func (c defaultFilename) BuildOpts() client.BuildOpts {
	bo := c.Client.BuildOpts()
	if _, ok := bo.Opts[keyFilename]; !ok {
		bo.Opts = maps.Clone(bo.Opts)
		if bo.Opts == nil {
			bo.Opts = map[string]string{}
		}
		bo.Opts[keyFilename] = spec.DefaultFile
	}
	return bo
}

// keyFilename is dockerui's option for the spec's path in the dockerfile
// local (buildx -f, buildctl --opt filename=).
const keyFilename = "filename"

type builder struct {
	c   client.Client
	bc  *dockerui.Client
	src *dockerui.Source
	doc *spec.Document
	// settings are Stowage's options of this build, parsed once.
	settings    llbgen.Settings
	settingsErr error
	// tokens caches the {hash}/{digest} key tokens of this build.
	tokens tokenCache
	// outlined are the volumes --call=outline listed, for its text form.
	outlined []*llbgen.Volume
}

// load parses the spec for one target platform.
func (b *builder) load(target *ocispecs.Platform) (*spec.Spec, error) {
	build := platforms.DefaultSpec()
	if len(b.bc.BuildPlatforms) > 0 {
		build = b.bc.BuildPlatforms[0]
	}
	s, err := b.doc.Load(spec.Options{
		BuildArgs:    b.bc.BuildArgs,
		PlatformArgs: spec.PlatformArgs(&build, target),
	})
	return s, withSource(err, b.src.SourceMap)
}

// build lowers and solves the spec for one platform.
func (b *builder) build(ctx context.Context, platform *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
	s, err := b.load(platform)
	if err != nil {
		return nil, err
	}
	opt, err := b.options(ctx, s, platform)
	if err != nil {
		return nil, err
	}
	if opt.Imported, opt.ImportedRestore, err = b.imported(ctx, s, opt.VolumeOptions); err != nil {
		return nil, err
	}
	res, err := llbgen.Lower(ctx, s, opt)
	if err != nil {
		return nil, withSource(err, b.src.SourceMap)
	}
	def, err := res.State.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkCaps(def, b.c.BuildOpts().LLBCaps, s.File); err != nil {
		return nil, withSource(err, b.src.SourceMap)
	}
	// Evaluate a graph whose failures BuildKit would report without a YAML
	// location, so they point at the field that causes them (solveerrors.go).
	evaluate := needsEvaluation(s, res.Steps)
	r, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: evaluate})
	if err != nil {
		if evaluate {
			err = withSource(locateError(err, s, res.Steps), b.src.SourceMap)
		}
		return nil, err
	}
	ref, err := r.SingleRef()
	if err != nil {
		return nil, err
	}
	// --label, as Dockerfile applies it: over the spec's labels.
	if len(b.bc.Labels) > 0 {
		if res.Image.Config.Labels == nil {
			res.Image.Config.Labels = map[string]string{}
		}
		maps.Copy(res.Image.Config.Labels, b.bc.Labels)
	}
	epoch, err := sourceDateEpoch(b.bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	return &dockerui.BuildResult{Reference: ref, Image: res.Image, BaseImage: res.BaseImage, Epoch: epoch}, nil
}

// sourceDateEpoch reads the SOURCE_DATE_EPOCH build arg (buildx passes the
// variable of that name): dockerui hands it to the exporter, which dates
// the image and its history with it, and with rewrite-timestamp=true clamps
// file times in new layers, for reproducible images.
func sourceDateEpoch(args map[string]string) (*time.Time, error) {
	v, ok := args["SOURCE_DATE_EPOCH"]
	if !ok || v == "" {
		return nil, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want whole seconds since 1970-01-01 UTC, like $(git log -1 --format=%%ct)", v)
	}
	t := time.Unix(sec, 0).UTC()
	return &t, nil
}

// options are llbgen's options for one target platform: s loaded for it.
func (b *builder) options(ctx context.Context, s *spec.Spec, platform *ocispecs.Platform) (llbgen.Options, error) {
	// Each context sends only what the target's steps read, as
	// dockerfile2llb filters its contexts; .dockerignore still applies.
	paths := llbgen.ContextPaths(s, b.bc.Target)
	mainContext, err := b.bc.MainContext(ctx, followPaths(paths[""])...)
	if err != nil {
		return llbgen.Options{}, err
	}
	if b.settingsErr != nil {
		return llbgen.Options{}, b.settingsErr
	}
	opt := llbgen.Options{
		ReadOnly:         b.settings.ReadOnly,
		VolumeOptions:    b.volumeOptions(platform),
		Target:           b.bc.Target,
		TargetPlatform:   platform,
		MultiPlatform:    b.bc.MultiPlatformRequested,
		MainContext:      mainContext,
		NamedContext:     b.namedContext(paths),
		MetaResolver:     b.c,
		ImageResolveMode: b.bc.ImageResolveMode,
		SourceMap:        b.src.SourceMap,
		NoCache:          b.bc.IsNoCache,
		Reset:            b.settings.Reset,
		ReadProbe:        b.readProbe,
	}
	if len(b.bc.BuildPlatforms) > 0 {
		opt.BuildPlatform = &b.bc.BuildPlatforms[0]
	}
	return opt, nil
}

// reset empties the volumes cache-reset names, for every target platform
// (a key may differ per platform), before any step of the build runs: done
// inside the build's graph, one platform's reset could empty a volume
// another platform's step has just filled.
func (b *builder) reset(ctx context.Context) error {
	if len(b.settings.Reset) == 0 {
		return nil
	}
	targets := b.bc.TargetPlatforms
	if len(targets) == 0 {
		targets = []ocispecs.Platform{platforms.DefaultSpec()}
	}
	done := map[string]bool{}
	for i := range targets {
		p := &targets[i]
		s, err := b.load(p)
		if err != nil {
			return err
		}
		opt, err := b.options(ctx, s, p)
		if err != nil {
			return err
		}
		resets, err := llbgen.Resets(ctx, s, opt)
		if err != nil {
			return withSource(err, b.src.SourceMap)
		}
		for _, r := range resets {
			if done[r.ID] {
				continue
			}
			done[r.ID] = true
			def, err := r.State.Marshal(ctx)
			if err != nil {
				return err
			}
			if _, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), Evaluate: true}); err != nil {
				return err
			}
		}
	}
	return nil
}

// volumeOptions are the inputs of this build's cache IDs.
// imported finds, for cache-import=type=registry,ref=REPO, the exported
// copy of each of the spec's volumes (REPO:<cache ID>, as `stowage cache
// export --to type=registry` pushes them) and, for a volume with none and
// restore: keys, the latest export under its nearest restore key
// (REPO:<restore ID>.restore). A volume with neither (the first build, a
// new key) is simply not imported.
func (b *builder) imported(ctx context.Context, s *spec.Spec, vo llbgen.VolumeOptions) (exact, restore map[string]llb.State, err error) {
	repo := b.settings.CacheImport
	if b.settingsErr != nil || repo == "" {
		return nil, nil, b.settingsErr
	}
	vols, err := llbgen.Volumes(ctx, s, vo)
	if err != nil {
		return nil, nil, withSource(err, b.src.SourceMap)
	}
	exact, restore = map[string]llb.State{}, map[string]llb.State{}
	for _, v := range vols {
		if _, done := exact[v.ID]; v.ID == "" || done {
			continue
		}
		if ref := llbgen.VolumeImage(repo, v.ID); b.exported(ctx, ref, v) {
			exact[v.ID] = llb.Image(ref, llb.WithCustomName("[internal] cache-import "+v.Name+" from "+ref))
			continue
		}
		for _, rid := range v.Restore {
			if ref := llbgen.VolumeImage(repo, llbgen.RestorePointID(rid)); b.exported(ctx, ref, v) {
				restore[v.ID] = llb.Image(ref, llb.WithCustomName("[internal] cache-import "+v.Name+" (restore:) from "+ref))
				break
			}
		}
	}
	return exact, restore, nil
}

// exported reports whether image ref, an export for volume v, exists;
// looked up once a build, not once a platform. A registry that cannot
// answer is a warning at the volume, and the build goes on without it.
func (b *builder) exported(ctx context.Context, ref string, v *llbgen.Volume) bool {
	found, known := b.tokens.get(&b.tokens.imports, ref)
	if !known {
		_, _, _, err := b.c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{})
		switch {
		case err == nil:
			found = "yes"
		case !strings.Contains(err.Error(), "not found"):
			b.src.Warn(ctx, fmt.Sprintf("cache-import: cannot look up %s for volume %s (%v); it starts as it would without cache-import", ref, v.Name, err),
				client.WarnOpts{Range: []*pb.Range{llbgen.PBRange(v.Spec.Range)}})
		}
		b.tokens.put(&b.tokens.imports, ref, found)
	}
	return found != ""
}

// readProbe solves a probe op of llbgen's and reads its answer.
func (b *builder) readProbe(ctx context.Context, probe llb.State) ([]byte, error) {
	def, err := probe.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	r, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return nil, err
	}
	ref, err := r.SingleRef()
	if err != nil {
		return nil, err
	}
	return ref.ReadFile(ctx, client.ReadRequest{Filename: llbgen.RestoreProbeFile})
}

// volumeOptions are the inputs of volume IDs for a build for platform.
func (b *builder) volumeOptions(platform *ocispecs.Platform) llbgen.VolumeOptions {
	vo := b.settings.VolumeOptions()
	vo.SessionID = b.bc.BuildOpts().SessionID
	vo.Tokens = b.tokenResolver(platform)
	return vo
}

// namedContext answers llbgen's lookups from --build-context; a nil state
// means none was given under that name. A local directory sends only the
// paths the target reads there (llbgen.ContextPaths).
func (b *builder) namedContext(paths map[string][]string) llbgen.NamedContextFunc {
	return func(ctx context.Context, name string, p ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error) {
		nc, err := b.bc.NamedContext(name, dockerui.ContextOpt{
			Platform:       &p,
			ResolveMode:    b.bc.ImageResolveMode.String(),
			AsyncLocalOpts: func() []llb.LocalOption { return followPaths(paths[name]) },
		})
		if err != nil || nc == nil {
			return nil, nil, err
		}
		return nc.Load(ctx)
	}
}

// followPaths filters a local context to paths; none means all of it.
func followPaths(paths []string) []llb.LocalOption {
	if len(paths) == 0 {
		return nil
	}
	return []llb.LocalOption{llb.FollowPaths(paths)}
}

// targets answers --call=targets: every step, the default marked.
func (b *builder) targets(context.Context) (*targets.List, error) {
	s, err := b.load(nil)
	if err != nil {
		return nil, err
	}
	list := &targets.List{Sources: [][]byte{b.src.Data}}
	for _, st := range s.Steps {
		t := targets.Target{
			Name:        st.Name,
			Default:     st.Name == s.Default,
			Description: st.Description,
			Platform:    st.Platform,
			Location:    location(st.Range),
		}
		if st.From.Kind == spec.SourceImage {
			t.Base = st.From.Ref
		}
		list.Targets = append(list.Targets, t)
	}
	return list, nil
}

// withSource attaches the spec's source to every positioned error, so
// buildx and buildctl print the YAML lines around each problem.
func withSource(err error, sm *llb.SourceMap) error {
	var list spec.ErrorList
	if err == nil || sm == nil || !errors.As(err, &list) {
		return err
	}
	for _, e := range list {
		err = errdefs.WithSource(err, &errdefs.Source{
			Info: &pb.SourceInfo{
				Data:       sm.Data,
				Filename:   sm.Filename,
				Language:   sm.Language,
				Definition: sm.Definition.ToPB(),
			},
			Ranges: []*pb.Range{llbgen.PBRange(e.Range)},
		})
	}
	return err
}
