// Package llbgen lowers a validated spec to LLB: one llb.State for the target
// step and the image config it produces. It is a pure function of the spec
// and Options; anything that needs a build (image metadata, named contexts,
// content hashes) comes in through Options as an interface or a function.
package llbgen

import (
	"context"
	"fmt"
	"slices"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/spec"
)

// Options configure one lowering, for one target platform.
type Options struct {
	VolumeOptions
	// Target is the step to build; the spec's default when empty.
	Target string
	// TargetPlatform and BuildPlatform default to the host's.
	TargetPlatform *ocispecs.Platform
	BuildPlatform  *ocispecs.Platform
	// MultiPlatform prefixes vertex names with the platform, as the
	// Dockerfile frontend does when several platforms build at once.
	MultiPlatform bool
	// MainContext is the build context; llb.Local("context") when nil.
	MainContext *llb.State
	// NamedContext returns the named context NAME (--build-context); when
	// nil, context:NAME is llb.Local(NAME), as `buildctl --local NAME=DIR`.
	NamedContext NamedContextFunc
	// MetaResolver resolves image configs so steps inherit env, workdir,
	// user, entrypoint and cmd; when nil, images start from an empty config.
	MetaResolver     llb.ImageMetaResolver
	ImageResolveMode llb.ResolveMode
	// SourceMap, when set, tags every op with its YAML range so a failing
	// step points back at its lines.
	SourceMap *llb.SourceMap
	// Imported maps volume IDs to exported copies (cache-import): a fresh
	// volume is seeded from directory NAME of the state instead of from its
	// source:, with the same setup.
	Imported map[string]llb.State
	// ImportedRestore maps volume IDs to the export of their nearest restore
	// key found in the cache-import repository, for a volume whose own key
	// has none: a fresh volume starts from it when no earlier volume on the
	// builder answers its restore keys.
	ImportedRestore map[string]llb.State
	// ReadProbe solves probe and returns its file RestoreProbeFile. It lets
	// a fresh volume with restore: keys start from the volume most recently
	// set up under one of them on this builder; nil (stowage llb, which
	// solves nothing) leaves restore: to cache-import.
	ReadProbe func(ctx context.Context, probe llb.State) ([]byte, error)
	// ReadOnly (cache-mode=readonly) leaves every volume as it is: each
	// step mounts a throwaway copy of it, set up as the volume would be, and
	// what the step writes there is gone when the step ends (throwaway.go).
	// Session-scoped volumes live for one build anyway and are unchanged.
	ReadOnly bool
	// Reset names the volumes this build empties (cache-reset): the steps
	// that mount them run again. Resets lowers the ops that empty them.
	Reset []string
	// NoCache reports whether a step must run again rather than come from
	// BuildKit's cache (--no-cache, --no-cache-filter). Its cache volumes
	// keep their contents either way.
	NoCache func(step string) bool
}

// NamedContextFunc returns a named build context and, for an image, its
// config; a nil state means no such context was given.
type NamedContextFunc func(ctx context.Context, name string, platform ocispecs.Platform) (*llb.State, *dockerspec.DockerOCIImage, error)

// Result is the lowered target.
type Result struct {
	State llb.State
	// Image is the config of the target's image.
	Image *dockerspec.DockerOCIImage
	// BaseImage is the config of the image the target's chain started from.
	BaseImage *dockerspec.DockerOCIImage
	// Volumes are every cache volume of the spec with its ID.
	Volumes []*Volume
	// Steps names the steps in the graph, in the order they were lowered.
	Steps []string
}

// Lower builds the LLB of the target step and of the steps it depends on,
// and nothing else: unneeded steps are not in the graph, and steps that do
// not depend on each other stay independent so BuildKit runs them in parallel.
func Lower(ctx context.Context, s *spec.Spec, opt Options) (*Result, error) {
	l, err := newLowering(ctx, s, opt)
	if err != nil {
		return nil, err
	}
	st, err := l.step(ctx, l.targetStep())
	if err != nil {
		return nil, err
	}
	img := st.image
	if opt.TargetPlatform != nil {
		setPlatform(&img, *opt.TargetPlatform)
	}
	return &Result{State: st.state, Image: &img, BaseImage: st.base, Volumes: l.vols, Steps: l.order}, nil
}

// setPlatform makes an image built for an explicit target platform say so,
// as Dockerfile does: a linux/amd64/v2 build from a linux/amd64 base image
// is a linux/amd64/v2 image. A variant or OS version the target leaves
// unset is kept when the base has the same OS and architecture.
func setPlatform(img *dockerspec.DockerOCIImage, p ocispecs.Platform) {
	same := p.OS == img.OS && p.Architecture == img.Architecture
	img.OS, img.Architecture = p.OS, p.Architecture
	if p.Variant != "" || !same {
		img.Variant = p.Variant
	}
	if p.OSVersion != "" || !same {
		img.OSVersion = p.OSVersion
	}
	if p.OSFeatures != nil {
		img.OSFeatures = slices.Clone(p.OSFeatures)
	}
}

// UnknownTarget is the error for a target that is not a step of s.
func UnknownTarget(s *spec.Spec, target string) error {
	names := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		names[i] = st.Name
	}
	return fmt.Errorf("target %q is not a step of %s; choose one of %v", target, s.File, names)
}

// newLowering checks the target and resolves the volumes' IDs.
func newLowering(ctx context.Context, s *spec.Spec, opt Options) (*lowering, error) {
	if opt.Target == "" {
		opt.Target = s.Default
	}
	if s.Step(opt.Target) == nil {
		return nil, UnknownTarget(s, opt.Target)
	}
	vols, err := Volumes(ctx, s, opt.VolumeOptions)
	if err != nil {
		return nil, err
	}
	l := &lowering{
		s:       s,
		opt:     opt,
		vols:    vols,
		volumes: map[string]*Volume{},
		steps:   map[string]*stepState{},
		sources: map[*spec.Mount]llb.State{},
		images:  map[string]*resolvedImage{},

		restored: map[string]restoredVolume{},
	}
	l.target = platforms.DefaultSpec()
	if opt.TargetPlatform != nil {
		l.target = *opt.TargetPlatform
	}
	for _, v := range vols {
		l.volumes[v.Name] = v
	}
	return l, nil
}

func (l *lowering) targetStep() *spec.Step { return l.s.Step(l.opt.Target) }

type lowering struct {
	s       *spec.Spec
	opt     Options
	target  ocispecs.Platform
	vols    []*Volume
	volumes map[string]*Volume
	steps   map[string]*stepState
	order   []string
	// images memoises resolved base images: several steps often share one.
	images map[string]*resolvedImage
	// resets, set only by Resets, collects the op that empties each volume
	// being reset, by volume ID.
	resets map[string]llb.State
	// sources holds the source each private mount that needs setting up is
	// made from, so its reset mounts the same BuildKit cache.
	sources map[*spec.Mount]llb.State
	// sites, set only by Export and Import, holds where each volume's
	// transfer op runs, by volume ID.
	sites map[string]*site
	// nonce stands in for a session ID when there is none.
	nonce string
	// paths are what the target reads of each context (ContextPaths),
	// computed on first use.
	paths map[string][]string
	// restored holds, by volume ID, the earlier volume a probe found for
	// its restore keys ("" for none), so it is asked once.
	restored map[string]restoredVolume
}

// stepState is a lowered step: its filesystem and its image config.
type stepState struct {
	state llb.State
	// root is the filesystem the step's chain of from: started with (an
	// image or a context), with none of the steps' own changes; unset for a
	// chain from scratch.
	root     llb.State
	image    dockerspec.DockerOCIImage
	base     *dockerspec.DockerOCIImage
	platform ocispecs.Platform
}

// step lowers st after the steps it reads from. Recursion is bounded:
// package spec has rejected cycles.
func (l *lowering) step(ctx context.Context, st *spec.Step) (*stepState, error) {
	if done, ok := l.steps[st.Name]; ok {
		return done, nil
	}
	for _, dep := range spec.Deps(st) {
		if _, err := l.step(ctx, l.s.Step(dep)); err != nil {
			return nil, err
		}
	}
	n := &namer{step: st.Name, total: opCount(st)}
	if l.opt.NoCache != nil && l.opt.NoCache(st.Name) {
		n.noCache = true
		// File ops have no cache mounts: IgnoreCache is safe there.
		n.extra = append(n.extra, llb.IgnoreCache)
	}
	if l.opt.MultiPlatform {
		n.platform = platforms.FormatAll(l.target)
	}
	ss, err := l.from(ctx, st, n)
	if err != nil {
		return nil, err
	}
	l.recordSite(st, ss)
	applyConfig(&ss.image, st)
	ss.state = withConfig(ss.state, &ss.image)
	if st.Workdir != "" {
		ss.state = ss.state.File(llb.Mkdir(st.Workdir, 0o755, llb.WithParents(true), llb.WithUser(ss.image.Config.User)),
			append([]llb.ConstraintsOpt{n.name("WORKDIR " + st.Workdir), l.location(st.Range)}, n.extra...)...)
	}
	for _, c := range st.Copy {
		if ss.state, err = l.copy(ctx, ss, c, n); err != nil {
			return nil, err
		}
		addHistory(&ss.image, copyInstruction(c, false), false)
	}
	mounts, err := l.mounts(ctx, st, ss, n)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, stepRunOptions(st, ss)...)
	l.collectResets(st, ss, n)
	if ss.state, err = l.initVolumes(ctx, st, ss, n); err != nil {
		return nil, err
	}
	copies, err := l.throwaways(ctx, st, ss, n)
	if err != nil {
		return nil, err
	}
	for _, cmd := range st.Run {
		opts := mounts
		for _, c := range copies {
			opts = append(slices.Clip(opts), c.mount())
		}
		es := l.run(st, ss, opts, cmd, n)
		// The step's next command sees what this one wrote in the copy.
		for _, c := range copies {
			c.next(es)
		}
		ss.state = es.Root()
		addHistory(&ss.image, "RUN "+cmd.Text, false)
	}
	l.steps[st.Name] = ss
	l.order = append(l.order, st.Name)
	return ss, nil
}

// platformOf is the step's own platform, else that of the step it starts
// from, else the target platform.
func (l *lowering) platformOf(st *spec.Step) ocispecs.Platform {
	if st.Platform != "" {
		if p, err := platforms.Parse(st.Platform); err == nil {
			return platforms.Normalize(p)
		}
	}
	if st.From.Kind == spec.SourceStep {
		return l.steps[st.From.Ref].platform
	}
	return l.target
}

// location tags an op with a YAML range of the spec.
func (l *lowering) location(r spec.Range) llb.ConstraintsOpt {
	return l.opt.SourceMap.Location([]*pb.Range{PBRange(r)})
}

// PBRange is a spec range as BuildKit's source maps and warnings take it:
// 0-based characters, whole lines at the end. The frontend's errors, lint
// warnings and outline locations use it too.
func PBRange(r spec.Range) *pb.Range {
	return &pb.Range{
		Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(max(r.Start.Col-1, 0))},
		End:   &pb.Position{Line: int32(max(r.End.Line, r.Start.Line))},
	}
}

// namer names vertices as the Dockerfile frontend does in progress output:
// "[build 2/3] RUN go build ./...".
type namer struct {
	// extra constraints apply to the step's file ops, like IgnoreCache.
	extra []llb.ConstraintsOpt
	// noCache: the step must run again (--no-cache); see lowering.noCache.
	noCache  bool
	platform string
	step     string
	index    int
	total    int
}

func (n *namer) name(what string) llb.ConstraintsOpt {
	n.index++
	return llb.WithCustomName(n.label(what))
}

// label is the name of the step's current op.
func (n *namer) label(what string) string {
	prefix := "["
	if n.platform != "" {
		prefix += n.platform + " "
	}
	return fmt.Sprintf("%s%s %d/%d] %s", prefix, n.step, n.index, n.total, what)
}

// opCount is how many named vertices a step has: its FROM when it starts
// from an image, WORKDIR, each copy and each command.
func opCount(st *spec.Step) int {
	n := len(st.Copy) + len(st.Run)
	if st.From.Kind == spec.SourceImage {
		n++
	}
	if st.Workdir != "" {
		n++
	}
	return n
}
