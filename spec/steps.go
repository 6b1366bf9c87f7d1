package spec

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	units "github.com/docker/go-units"
	"go.yaml.in/yaml/v3"

	"github.com/stowage-build/stowage/spec/syntax"
)

// rawSource is a from: value to classify once every step name is known.
type rawSource struct {
	dst      *Source
	text     string
	rng      Range
	path     string
	stepOnly bool
}

func (d *decoder) steps(n *yaml.Node, p string) []*Step {
	var out []*Step
	before := len(d.errs.list)
	kvs := d.pairs(n, p, "a mapping of step names to steps")
	if len(kvs) == 0 && len(d.errs.list) == before {
		d.add(rangeOf(d.resolve(n)), p, "add a step like `build: {from: busybox, run: make}`", "the spec has no steps")
	}
	for _, kv := range kvs {
		st := &Step{Name: kv.key.Value, Range: rangeOf(kv.key)}
		st.Range.End = rangeOf(kv.val).End
		spath := join(p, st.Name)
		if st.Name == "" || st.Name == "scratch" || st.Name == "context" || strings.HasPrefix(st.Name, "context:") {
			// from: would read these as sources, never as this step.
			d.add(st.Range, spath, "name the step after what it does, like build or test", "%q cannot name a step: from: reads it as a source", st.Name)
		}
		ps := d.pairs(kv.val, spath, "a step like {from: IMAGE, run: COMMAND}")
		var g syntax.Step
		st.ranges = d.readPairs(ps, spath, &g)
		// The step's args come first whatever their place in the step: its
		// other fields may refer to them. They are in scope in this step
		// only.
		if v, p := at(g.Args, spath); v != nil {
			outer := d.x.enterStep()
			st.Args = d.stepArgs(v, p)
			d.step(st, &g, spath)
			d.x.leaveStep(outer)
		} else {
			d.step(st, &g, spath)
		}
		if !g.From.IsSet() {
			d.add(st.Range, join(spath, "from"), "add `from: IMAGE`, `from: STEP`, or `from: scratch` to start empty", "step %q has no from", st.Name)
		}
		out = append(out, st)
	}
	return out
}

// step decodes a step's fields but args.
func (d *decoder) step(st *Step, g *syntax.Step, spath string) {
	if v, p := at(g.Network, spath); v != nil {
		st.Network = enum(d, v, p, Networks)
	}
	if v, p := at(g.Security, spath); v != nil {
		st.Security = enum(d, v, p, Securities)
	}
	if v, p := at(g.Description, spath); v != nil {
		st.Description, _ = d.scalar(v, p, "a string")
	}
	if v, p := at(g.From, spath); v != nil {
		st.FromRange = rangeOf(d.resolve(v))
		if from, ok := d.strOK(v, p, "an image, a step name or scratch"); ok {
			d.source(&st.From, from, st.FromRange, p)
		}
	}
	if v, p := at(g.Platform, spath); v != nil {
		var ok bool
		if st.Platform, ok = d.strOK(v, p, "a platform like linux/amd64"); ok && st.Platform != "" {
			if _, err := platforms.Parse(st.Platform); err != nil {
				d.add(rangeOf(d.resolve(v)), p, "write a platform like linux/amd64 or ${BUILDPLATFORM}", "%q is not a platform", st.Platform)
			}
		}
	}
	if v, p := at(g.Workdir, spath); v != nil {
		st.Workdir = d.str(v, p, "an absolute path")
		if st.Workdir != "" && !strings.HasPrefix(st.Workdir, "/") {
			d.add(rangeOf(v), p, "write an absolute path like /src", "workdir %q is not absolute", st.Workdir)
		} else if msg, hint := containerPathProblem(st.Workdir); msg != "" {
			d.add(rangeOf(v), p, hint, "workdir %s %s", quoteShort(st.Workdir), msg)
		}
	}
	if v, p := at(g.Env, spath); v != nil {
		st.Env = d.envVars(v, p)
	}
	if v, p := at(g.User, spath); v != nil {
		st.User = d.str(v, p, `a user like "1000" or "app:app"`)
		d.checkOwnerIDs(st.User, rangeOf(d.resolve(v)), p)
	}
	if v, p := at(g.Shell, spath); v != nil {
		st.Shell = d.strs(v, p, "a string", false)
		if len(st.Shell) == 0 {
			d.add(rangeOf(v), p, "write a list like [/bin/bash, -c]", "the shell is empty")
		}
	}
	if v, p := at(g.Copy, spath); v != nil {
		st.Copy = d.copies(v, p)
	}
	if v, p := at(g.Mounts, spath); v != nil {
		st.Mounts = d.mounts(v, p)
	}
	if v, p := at(g.Run, spath); v != nil {
		st.Run = d.commands(v, p)
	}
	if v, p := at(g.Entrypoint, spath); v != nil {
		st.Entrypoint = d.strs(v, p, "a string", false)
	}
	if v, p := at(g.Cmd, spath); v != nil {
		st.Cmd = d.strs(v, p, "a string", false)
	}
	if v, p := at(g.Expose, spath); v != nil {
		st.Expose = d.expose(v, p)
	}
	if v, p := at(g.Labels, spath); v != nil {
		st.Labels = d.keyValues(v, p)
	}
	if v, p := at(g.Volumes, spath); v != nil {
		st.Volumes = d.volumes(v, p)
	}
	if v, p := at(g.StopSignal, spath); v != nil {
		st.StopSignal = d.stopSignal(v, p)
	}
	if v, p := at(g.Healthcheck, spath); v != nil {
		st.Healthcheck = d.healthcheck(v, p)
	}
}

func (d *decoder) commands(n *yaml.Node, p string) []*Command {
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return []*Command{{Text: d.str(n, p, "a command"), Range: rangeOf(n)}}
	}
	if n.Kind != yaml.SequenceNode {
		d.add(rangeOf(n), p, "write a command, or a list of commands", "expected a command, found %s", describe(n))
		return nil
	}
	out := make([]*Command, 0, len(n.Content))
	for i, item := range n.Content {
		item = d.resolve(item)
		c := &Command{Text: d.str(item, index(p, i), "a command"), Range: rangeOf(item)}
		if strings.TrimSpace(c.Text) == "" && item.Kind == yaml.ScalarNode {
			d.add(c.Range, index(p, i), "write a command, or remove the entry", "empty command")
		}
		out = append(out, c)
	}
	return out
}

func (d *decoder) mounts(n *yaml.Node, p string) []*Mount {
	var out []*Mount
	for i, item := range d.list(n, p, "a list of mounts like {cache: NAME, path: PATH}") {
		mpath := index(p, i)
		m := &Mount{Range: rangeOf(item)}
		sh := &mountShapes{d: d, p: mpath}
		m.ranges = d.read(item, mpath, "a mount like {cache: NAME, path: PATH}", sh.all()...)
		var typ MountType
		var typeRange Range
		// type: and cache: are read as the cache shape's; every shape has
		// type:.
		v, tp := at(sh.cache.Type, mpath)
		if v != nil {
			typ = enum(d, v, tp, MountTypes)
			typeRange = rangeOf(v)
		}
		named := sh.cache.Cache.IsSet()
		switch {
		case typ == "" && named:
			typ = MountCache
		case typ == "" && v != nil:
			// enum reported the unknown type.
		case typ == "":
			d.add(m.Range, join(mpath, "type"), "add `cache: NAME` for a cache volume, or `type:` one of "+oneOf(MountTypes), "the mount has no type")
		case typ != MountCache && named:
			d.add(typeRange, join(mpath, "type"), "remove `type:` or `cache:`", "a %s mount cannot name a cache volume", typ)
		}
		m.Type = typ
		if typ == "" {
			// What the fields mean depends on the type.
			out = append(out, m)
			continue
		}
		// The type's shape in the grammar is its table of fields.
		shape := VisitMount(m, sh)
		d.onlyShapeFields(m, shape, mpath, named)
		d.checkMount(m, mpath, sh.readonly)
		out = append(out, m)
	}
	return out
}

// onlyShapeFields reports the fields of a mount that its type's shape does
// not have. By the field's presence, not its value: an image or step name
// in from: is resolved only after decoding, and `size: 0` on a cache mount
// is as much a mistake as `size: 64m`.
func (d *decoder) onlyShapeFields(m *Mount, shape any, p string, named bool) {
	keys := syntax.Keys(shape)
	for _, field := range slices.Sorted(maps.Keys(m.ranges)) {
		if slices.Contains(keys, field) || field == "cache" && named || strings.HasPrefix(field, "x-") {
			continue
		}
		hint := "remove it"
		if m.Type == MountCache && (field == "uid" || field == "gid" || field == "mode") {
			hint = "set `owner:` and `mode:` on the volume under caches:, applied when it is created"
		}
		d.add(m.FieldRange(field), join(p, field), hint, "%s does not apply to a %s mount", field, m.Type)
	}
}

// mountShapes is a mount's mapping read as each type's shape. As a
// MountVisitor it decodes the mount's fields as its type's shape has them,
// and returns that shape.
type mountShapes struct {
	d        *decoder
	p        string
	readonly *bool
	cache    syntax.CacheMount
	tmpfs    syntax.TmpfsMount
	bind     syntax.BindMount
	secret   syntax.SecretMount
	ssh      syntax.SSHMount
}

func (s *mountShapes) all() []any {
	return []any{&s.cache, &s.tmpfs, &s.bind, &s.secret, &s.ssh}
}

// common decodes the fields every type has.
func (s *mountShapes) common(m *Mount, path syntax.Field[syntax.MountPath], readonly syntax.Field[bool]) {
	if v, p := at(path, s.p); v != nil {
		m.Path = s.d.str(v, p, "an absolute path")
	}
	if v, p := at(readonly, s.p); v != nil {
		b := s.d.bool(v, p)
		s.readonly = &b
	}
}

// agent decodes the fields of secrets and SSH sockets.
func (s *mountShapes) agent(m *Mount, id syntax.Field[string], required syntax.Field[bool], uid, gid syntax.Field[syntax.NumericID], mode syntax.Field[syntax.Mode]) {
	if v, p := at(id, s.p); v != nil {
		m.ID = s.d.str(v, p, "an id")
	}
	if v, p := at(required, s.p); v != nil {
		m.Required = s.d.bool(v, p)
	}
	if v, p := at(uid, s.p); v != nil {
		m.UID = s.d.id(v, p)
	}
	if v, p := at(gid, s.p); v != nil {
		m.GID = s.d.id(v, p)
	}
	if v, p := at(mode, s.p); v != nil {
		m.Mode = s.d.mode(v, p)
	}
}

func (s *mountShapes) Cache(m *Mount) any {
	g := &s.cache
	s.common(m, g.Path, g.Readonly)
	if v, p := at(g.Cache, s.p); v != nil {
		m.Volume = s.d.str(v, p, "a cache volume name")
	}
	if v, p := at(g.Source, s.p); v != nil {
		m.Seed = s.d.seed(v, p)
	}
	return g
}

func (s *mountShapes) Tmpfs(m *Mount) any {
	g := &s.tmpfs
	s.common(m, g.Path, g.Readonly)
	if v, p := at(g.Size, s.p); v != nil {
		if sz, ok := s.d.strOK(v, p, `a size like "64m"`); ok {
			n, err := units.RAMInBytes(sz)
			if err != nil || n < 0 {
				s.d.add(rangeOf(v), p, `write a size like "64m" or "1g"`, "%q is not a size", sz)
			}
			m.Size = n
		}
	}
	return g
}

func (s *mountShapes) Bind(m *Mount) any {
	g := &s.bind
	s.common(m, g.Path, g.Readonly)
	if v, p := at(g.From, s.p); v != nil {
		if from, ok := s.d.strOK(v, p, "a step name or context"); ok {
			s.d.source(&m.From, from, m.FieldRange("from"), p)
		}
	}
	if v, p := at(g.Src, s.p); v != nil {
		m.Src = s.d.str(v, p, "a path")
	}
	return g
}

func (s *mountShapes) Secret(m *Mount) any {
	g := &s.secret
	s.common(m, g.Path, g.Readonly)
	s.agent(m, g.ID, g.Required, g.UID, g.GID, g.Mode)
	if v, p := at(g.Env, s.p); v != nil {
		var ok bool
		if m.Env, ok = s.d.strOK(v, p, "an environment variable name"); ok && !ValidArgName(m.Env) {
			s.d.add(m.FieldRange("env"), p, "write a name like TOKEN: letters, digits and underscores, not starting with a digit", "%q is not an environment variable name", m.Env)
		}
	}
	return g
}

func (s *mountShapes) SSH(m *Mount) any {
	g := &s.ssh
	s.common(m, g.Path, g.Readonly)
	s.agent(m, g.ID, g.Required, g.UID, g.GID, g.Mode)
	return g
}

// checkMount applies the rules of each mount type and its defaults.
func (d *decoder) checkMount(m *Mount, p string, readonly *bool) {
	if readonly != nil {
		m.Readonly = *readonly
	} else if m.Type == MountBind {
		// Like Dockerfile's RUN --mount=type=bind, read-only unless asked.
		m.Readonly = true
	}
	switch m.Type {
	case MountSecret:
		if m.ID == "" && m.Path != "" {
			m.ID = path.Base(m.Path)
		}
		if m.ID == "" {
			d.add(m.Range, join(p, "id"), "add `id: NAME` matching --secret id=NAME", "a secret mount needs an id")
		}
		// As Dockerfile's env=: a secret exposed as a variable is a file
		// too only when a path says where.
		if m.Path == "" && m.Env == "" {
			m.Path = "/run/secrets/" + m.ID
		}
	case MountSSH:
		if m.ID == "" {
			m.ID = "default"
		}
	}
	if m.Path == "" && m.Type != MountSSH && m.Type != MountSecret {
		d.add(m.Range, join(p, "path"), "add `path: /ABSOLUTE/PATH`", "the mount has no path")
	} else if m.Path != "" && !strings.HasPrefix(m.Path, "/") {
		d.add(m.FieldRange("path"), join(p, "path"), "write an absolute path like "+path.Join("/", m.Path), "mount path %q is not absolute", m.Path)
	} else if m.Path != "" && path.Clean(m.Path) == "/" {
		d.add(m.FieldRange("path"), join(p, "path"), "mount a directory below /, like /cache", "a mount cannot cover /")
	} else if msg, hint := containerPathProblem(m.Path); msg != "" {
		d.add(m.FieldRange("path"), join(p, "path"), hint, "mount path %s %s", quoteShort(m.Path), msg)
	}
	d.checkMountOwner(m, p)
	if m.Type == MountBind && m.From.Kind == "" {
		m.From = Source{Kind: SourceContext}
	}
}

// seed decodes a cache mount's source: {step: NAME, path: P}, {context: P}
// or {context: NAME, path: P}.
func (d *decoder) seed(n *yaml.Node, p string) *Seed {
	s := &Seed{Range: rangeOf(d.resolve(n))}
	var step, ctx, pth string
	var stepOK bool
	var fromStep syntax.StepSeed
	var fromCtx syntax.ContextSeed
	d.read(n, p, "{step: NAME, path: PATH} or {context: PATH}", &fromStep, &fromCtx)
	hasStep, hasCtx := fromStep.Step.IsSet(), fromCtx.Context.IsSet()
	var stepRange Range
	if v, p := at(fromStep.Step, p); v != nil {
		step, stepOK = d.strOK(v, p, "a step name")
		stepRange = rangeOf(d.resolve(v))
	}
	if v, p := at(fromCtx.Context, p); v != nil {
		ctx = d.str(v, p, "a path or a context name")
	}
	// path: is both shapes' field.
	if v, p := at(fromStep.Path, p); v != nil {
		pth = d.str(v, p, "a path")
	}
	switch {
	case hasStep == hasCtx:
		d.add(s.Range, p, "write {step: NAME, path: PATH}, {context: PATH} or {context: NAME, path: PATH}", "a cache source needs exactly one of step or context")
	case hasStep:
		s.From = Source{Kind: SourceStep, Ref: step}
		s.Path = pth
		if stepOK {
			d.pending = append(d.pending, rawSource{dst: &s.From, text: step, rng: stepRange, path: join(p, "step"), stepOnly: true})
		}
	case pth == "":
		// {context: P}: a path in the main build context.
		s.From = Source{Kind: SourceContext}
		s.Path = ctx
	default:
		s.From = Source{Kind: SourceContext, Ref: ctx}
		s.Path = pth
	}
	if s.Path == "" {
		s.Path = "/"
	}
	return s
}

// list decodes a sequence, reporting anything else.
func (d *decoder) list(n *yaml.Node, p, what string) []*yaml.Node {
	n = d.resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.add(rangeOf(n), p, "write "+what, "expected a list, found %s", describe(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = d.resolve(item)
	}
	return out
}

// source records a from: value to be classified once all step names are
// known: "scratch", "context", "context:NAME", a step name or an image ref.
func (d *decoder) source(dst *Source, text string, r Range, p string) {
	switch {
	case text == "scratch":
		*dst = Source{Kind: SourceScratch}
	case text == "context":
		*dst = Source{Kind: SourceContext}
	case strings.HasPrefix(text, "context:"):
		*dst = Source{Kind: SourceContext, Ref: strings.TrimPrefix(text, "context:")}
		if dst.Ref == "" {
			d.add(r, p, "write context for the main build context, or context:NAME for a named one", "empty context name")
		}
	case text == "":
		d.add(r, p, "write an image like busybox:1.37, a step name, scratch, or context", "from is empty")
	default:
		d.pendingSource(dst, text, r, p)
	}
}

func (d *decoder) pendingSource(dst *Source, text string, r Range, p string) {
	d.pending = append(d.pending, rawSource{dst: dst, text: text, rng: r, path: p})
}

func parseImageRef(s string) (reference.Named, error) {
	return reference.ParseNormalizedNamed(s)
}

// Linux's limits on a path: NAME_MAX for each component, PATH_MAX in all.
const (
	maxPathComponent = 255
	maxPathLen       = 4095
)

// containerPathProblem says what keeps p from being a path inside a
// container that the kernel takes, with a hint, or "" when it is fine. A
// path the kernel refuses would fail the build with a bare exit code; a
// control character is always a mistake (an escape in a YAML string), and
// Stowage mounts its own lock before every path that has none (llbgen's
// lock guard).
func containerPathProblem(p string) (msg, hint string) {
	if len(p) > maxPathLen {
		return fmt.Sprintf("is %d bytes long, more than Linux's %d", len(p), maxPathLen), "use a shorter path"
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fmt.Sprintf("holds the control character %U", r), "write the path without control characters (check the YAML escapes in a double-quoted string)"
		}
	}
	for c := range strings.SplitSeq(p, "/") {
		if len(c) > maxPathComponent {
			return fmt.Sprintf("has a component of %d bytes, more than Linux's %d", len(c), maxPathComponent), "use shorter directory names"
		}
	}
	return "", ""
}
