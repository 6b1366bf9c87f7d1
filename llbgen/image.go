package llbgen

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/spec"
)

// defaultPath is the PATH a Linux image gets when its config has none, as
// the Dockerfile frontend does.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

type resolvedImage struct {
	ref    string
	config dockerspec.DockerOCIImage
}

// from returns the state and config a step starts with.
func (l *lowering) from(ctx context.Context, st *spec.Step, n *namer) (*stepState, error) {
	switch st.From.Kind {
	case spec.SourceStep:
		parent := l.steps[st.From.Ref]
		ss := &stepState{state: parent.state, root: parent.root, image: cloneImage(parent.image), base: parent.base, platform: l.platformOf(st)}
		return ss, nil
	case spec.SourceScratch:
		p := l.platformOf(st)
		// No root to probe in: a chain from scratch has no shell but what
		// its steps put there.
		return &stepState{state: llb.Scratch().Platform(p), image: emptyImage(p), platform: p}, nil
	case spec.SourceContext:
		p := l.platformOf(st)
		state, img, err := l.context(ctx, st.From.Ref, p, st.FromRange)
		if err != nil {
			return nil, err
		}
		ss := &stepState{state: state.Platform(p), root: state.Platform(p), image: emptyImage(p), platform: p}
		if img != nil {
			ss.image = cloneImage(*img)
			ss.base = img
		}
		return ss, nil
	}
	p := l.platformOf(st)
	named, namedImg, err := l.replacedImage(ctx, st.From.Ref, p, st.FromRange, "steps."+st.Name+".from")
	if err != nil {
		return nil, err
	}
	if named != nil {
		n.total-- // no FROM vertex of ours: the context brings its own
		ss := &stepState{state: named.Platform(p), root: named.Platform(p), image: emptyImage(p), platform: p}
		if namedImg != nil {
			ss.image, ss.base = cloneImage(*namedImg), namedImg
			ss.image.Created = nil
		}
		return ss, nil
	}
	ri, err := l.resolveImage(ctx, st.From.Ref, p)
	if err != nil {
		return nil, specError(l.s, st.FromRange, "steps."+st.Name+".from", err.Error(), "check the image name and tag, and that the registry is reachable")
	}
	base := cloneImage(ri.config)
	state := llb.Image(ri.ref, llb.Platform(p), l.opt.ImageResolveMode, n.name("FROM "+ri.ref), l.location(st.FromRange))
	img := cloneImage(ri.config)
	img.Created = nil
	return &stepState{state: state, root: state, image: img, base: &base, platform: p}, nil
}

// resolveImage fetches an image's config and pins its digest, so the config
// the step inherits is the config of the image that runs.
func (l *lowering) resolveImage(ctx context.Context, ref string, p ocispecs.Platform) (*resolvedImage, error) {
	key := ref + " " + platforms.FormatAll(p)
	if ri, ok := l.images[key]; ok {
		return ri, nil
	}
	ri := &resolvedImage{ref: ref, config: emptyImage(p)}
	if l.opt.MetaResolver != nil {
		resolved, dgst, dt, err := l.opt.MetaResolver.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
			LogName: "[internal] load metadata for " + ref,
			ImageOpt: &sourceresolver.ResolveImageOpt{
				Platform:    &p,
				ResolveMode: l.opt.ImageResolveMode.String(),
			},
		})
		if err != nil {
			return nil, err
		}
		var img dockerspec.DockerOCIImage
		if err := json.Unmarshal(dt, &img); err != nil {
			return nil, fmt.Errorf("parse config of %s: %w", ref, err)
		}
		ri.config = img
		if dgst != "" {
			named, err := reference.ParseNormalizedNamed(resolved)
			if err != nil {
				return nil, err
			}
			if withDigest, err := reference.WithDigest(reference.TrimNamed(named), dgst); err == nil {
				ri.ref = withDigest.String()
			}
		}
	}
	if !slices.ContainsFunc(ri.config.Config.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) && p.OS != "windows" {
		ri.config.Config.Env = append(ri.config.Config.Env, "PATH="+defaultPath)
	}
	l.images[key] = ri
	return ri, nil
}

func emptyImage(p ocispecs.Platform) dockerspec.DockerOCIImage {
	img := dockerspec.DockerOCIImage{}
	img.Platform = p
	img.RootFS.Type = "layers"
	img.Config.WorkingDir = "/"
	if p.OS != "windows" {
		img.Config.Env = []string{"PATH=" + defaultPath}
	}
	return img
}

// cloneImage deep-copies the parts of a config that steps mutate, so a step
// never changes the config of the step it starts from.
func cloneImage(img dockerspec.DockerOCIImage) dockerspec.DockerOCIImage {
	img.Config.Env = slices.Clone(img.Config.Env)
	img.Config.Entrypoint = slices.Clone(img.Config.Entrypoint)
	img.Config.Cmd = slices.Clone(img.Config.Cmd)
	img.Config.Shell = slices.Clone(img.Config.Shell)
	img.History = slices.Clone(img.History)
	img.RootFS.DiffIDs = slices.Clone(img.RootFS.DiffIDs)
	if img.Config.Labels != nil {
		labels := make(map[string]string, len(img.Config.Labels))
		for k, v := range img.Config.Labels {
			labels[k] = v
		}
		img.Config.Labels = labels
	}
	if img.Config.ExposedPorts != nil {
		ports := make(map[string]struct{}, len(img.Config.ExposedPorts))
		for k := range img.Config.ExposedPorts {
			ports[k] = struct{}{}
		}
		img.Config.ExposedPorts = ports
	}
	img.Config.Volumes = maps.Clone(img.Config.Volumes)
	return img
}

// applyConfig layers a step's settings over the config it inherited, as
// Dockerfile instructions do.
func applyConfig(img *dockerspec.DockerOCIImage, st *spec.Step) {
	for _, kv := range st.Env {
		img.Config.Env = setEnv(img.Config.Env, kv.Key, kv.Value)
	}
	if st.Workdir != "" {
		img.Config.WorkingDir = st.Workdir
	}
	if st.User != "" {
		img.Config.User = st.User
	}
	if st.Shell != nil {
		// Steps built on this one run in it too, as after Dockerfile's SHELL.
		img.Config.Shell = st.Shell
	}
	if st.Entrypoint != nil {
		img.Config.Entrypoint = st.Entrypoint
		// A new entrypoint drops an inherited cmd, like Dockerfile's
		// ENTRYPOINT does; the step's own cmd is applied next.
		img.Config.Cmd = nil
	}
	if st.Cmd != nil {
		img.Config.Cmd = st.Cmd
	}
	for _, e := range st.Expose {
		if img.Config.ExposedPorts == nil {
			img.Config.ExposedPorts = map[string]struct{}{}
		}
		ports, _ := spec.ExposedPorts(e) // checked by package spec
		for _, port := range ports {
			img.Config.ExposedPorts[port] = struct{}{}
		}
	}
	for _, kv := range st.Labels {
		if img.Config.Labels == nil {
			img.Config.Labels = map[string]string{}
		}
		img.Config.Labels[kv.Key] = kv.Value
	}
	for _, v := range st.Volumes {
		if img.Config.Volumes == nil {
			img.Config.Volumes = map[string]struct{}{}
		}
		img.Config.Volumes[v] = struct{}{}
	}
	if st.StopSignal != "" {
		img.Config.StopSignal = st.StopSignal
	}
	if h := st.Healthcheck; h != nil {
		hc := &dockerspec.HealthcheckConfig{Test: []string{"NONE"}}
		if !h.None {
			hc = &dockerspec.HealthcheckConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
				StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
		}
		img.Config.Healthcheck = hc
	}
	if len(st.Env)+len(st.Expose)+len(st.Labels)+len(st.Volumes) > 0 || st.Workdir != "" || st.User != "" ||
		st.Entrypoint != nil || st.Cmd != nil || st.StopSignal != "" || st.Healthcheck != nil {
		addHistory(img, "stowage step "+st.Name+" config", true)
	}
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if name, _, _ := strings.Cut(e, "="); name == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// withConfig makes the state carry the config's env, workdir and user, so
// every exec of the step runs with them.
func withConfig(st llb.State, img *dockerspec.DockerOCIImage) llb.State {
	for _, e := range img.Config.Env {
		k, v, _ := strings.Cut(e, "=")
		st = st.AddEnv(k, v)
	}
	if img.Config.WorkingDir != "" {
		st = st.Dir(img.Config.WorkingDir)
	}
	if img.Config.User != "" {
		st = st.User(img.Config.User)
	}
	return st
}

func addHistory(img *dockerspec.DockerOCIImage, createdBy string, empty bool) {
	img.History = append(img.History, ocispecs.History{CreatedBy: createdBy, Comment: "stowage", EmptyLayer: empty})
}

// replacedImage returns the named context that replaces image ref, or a nil
// state when none does. Every image a spec names (a step's from:, a copy's
// or a bind mount's from:, a seed's image) goes through it, as Dockerfile's
// FROM and COPY --from do (--build-context busybox=docker-image://mirror/…).
func (l *lowering) replacedImage(ctx context.Context, ref string, p ocispecs.Platform, r spec.Range, path string) (*llb.State, *dockerspec.DockerOCIImage, error) {
	if l.opt.NamedContext == nil {
		return nil, nil, nil
	}
	state, img, err := l.opt.NamedContext(ctx, ref, p)
	if err != nil {
		return nil, nil, specError(l.s, r, path, err.Error(), "")
	}
	return state, img, nil
}
