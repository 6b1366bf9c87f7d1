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
		hasFrom := false
		ps := d.pairs(kv.val, spath, "a step like {from: IMAGE, run: COMMAND}")
		// The step's args come first whatever their place in the step: its
		// other fields may refer to them. They are in scope in this step
		// only.
		outer := d.vars.m
		for _, p := range ps {
			if p.key.Value == "args" {
				d.vars.m = maps.Clone(outer)
				st.Args = d.stepArgs(p.val, join(spath, "args"))
			}
		}
		d.dispatch(ps, spath, map[string]func(*yaml.Node, string){
			"args": func(*yaml.Node, string) {},
			"network": func(v *yaml.Node, p string) {
				st.Network = enum(d, v, p, Networks)
				st.ranges.set("network", rangeOf(d.resolve(v)))
			},
			"security": func(v *yaml.Node, p string) {
				st.Security = enum(d, v, p, Securities)
				st.ranges.set("security", rangeOf(d.resolve(v)))
			},
			"description": func(v *yaml.Node, p string) { st.Description, _ = d.scalar(v, p, "a string") },
			"from": func(v *yaml.Node, p string) {
				hasFrom = true
				st.FromRange = rangeOf(d.resolve(v))
				if from, ok := d.strOK(v, p, "an image, a step name or scratch"); ok {
					d.source(&st.From, from, st.FromRange, p)
				}
			},
			"platform": func(v *yaml.Node, p string) {
				var ok bool
				if st.Platform, ok = d.strOK(v, p, "a platform like linux/amd64"); !ok || st.Platform == "" {
					return
				}
				if _, err := platforms.Parse(st.Platform); err != nil {
					d.add(rangeOf(d.resolve(v)), p, "write a platform like linux/amd64 or ${BUILDPLATFORM}", "%q is not a platform", st.Platform)
				}
			},
			"workdir": func(v *yaml.Node, p string) {
				st.Workdir = d.str(v, p, "an absolute path")
				if st.Workdir != "" && !strings.HasPrefix(st.Workdir, "/") {
					d.add(rangeOf(v), p, "write an absolute path like /src", "workdir %q is not absolute", st.Workdir)
				} else if msg, hint := containerPathProblem(st.Workdir); msg != "" {
					d.add(rangeOf(v), p, hint, "workdir %s %s", quoteShort(st.Workdir), msg)
				}
			},
			"env": func(v *yaml.Node, p string) { st.Env = d.envVars(v, p) },
			"user": func(v *yaml.Node, p string) {
				st.User = d.str(v, p, `a user like "1000" or "app:app"`)
				d.checkOwnerIDs(st.User, rangeOf(d.resolve(v)), p)
			},
			"shell": func(v *yaml.Node, p string) {
				st.Shell = d.strs(v, p, "a string", false)
				if len(st.Shell) == 0 {
					d.add(rangeOf(v), p, "write a list like [/bin/bash, -c]", "the shell is empty")
				}
			},
			"copy":        func(v *yaml.Node, p string) { st.Copy = d.copies(v, p) },
			"mounts":      func(v *yaml.Node, p string) { st.Mounts = d.mounts(v, p) },
			"run":         func(v *yaml.Node, p string) { st.Run = d.commands(v, p) },
			"entrypoint":  func(v *yaml.Node, p string) { st.Entrypoint = d.strs(v, p, "a string", false) },
			"cmd":         func(v *yaml.Node, p string) { st.Cmd = d.strs(v, p, "a string", false) },
			"expose":      func(v *yaml.Node, p string) { st.Expose = d.expose(v, p) },
			"labels":      func(v *yaml.Node, p string) { st.Labels = d.keyValues(v, p) },
			"volumes":     func(v *yaml.Node, p string) { st.Volumes = d.volumes(v, p) },
			"stopsignal":  func(v *yaml.Node, p string) { st.StopSignal = d.stopSignal(v, p) },
			"healthcheck": func(v *yaml.Node, p string) { st.Healthcheck = d.healthcheck(v, p) },
		})
		d.vars.m = outer
		if !hasFrom {
			d.add(st.Range, join(spath, "from"), "add `from: IMAGE`, `from: STEP`, or `from: scratch` to start empty", "step %q has no from", st.Name)
		}
		out = append(out, st)
	}
	return out
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
		var typ MountType
		var typeRange Range
		hasType := false
		r := fieldRanges{}
		readonly := (*bool)(nil)
		d.fields(item, mpath, "a mount like {cache: NAME, path: PATH}", map[string]func(*yaml.Node, string){
			"type": func(v *yaml.Node, p string) {
				hasType = true
				typ = enum(d, v, p, MountTypes)
				typeRange = rangeOf(v)
			},
			"cache": func(v *yaml.Node, p string) {
				m.Volume = d.str(v, p, "a cache volume name")
				r["cache"] = rangeOf(d.resolve(v))
			},
			"path": func(v *yaml.Node, p string) {
				m.Path = d.str(v, p, "an absolute path")
				r["path"] = rangeOf(d.resolve(v))
			},
			"source": func(v *yaml.Node, p string) {
				m.Seed = d.seed(v, p)
				r["source"] = rangeOf(d.resolve(v))
			},
			"from": func(v *yaml.Node, p string) {
				r["from"] = rangeOf(d.resolve(v))
				if from, ok := d.strOK(v, p, "a step name or context"); ok {
					d.source(&m.From, from, r["from"], p)
				}
			},
			"src": func(v *yaml.Node, p string) {
				m.Src = d.str(v, p, "a path")
				r["src"] = rangeOf(d.resolve(v))
			},
			"readonly": func(v *yaml.Node, p string) {
				b := d.bool(v, p)
				readonly = &b
			},
			"id": func(v *yaml.Node, p string) {
				m.ID = d.str(v, p, "an id")
				r["id"] = rangeOf(d.resolve(v))
			},
			"required": func(v *yaml.Node, p string) {
				m.Required = d.bool(v, p)
				r["required"] = rangeOf(d.resolve(v))
			},
			"env": func(v *yaml.Node, p string) {
				r["env"] = rangeOf(d.resolve(v))
				var ok bool
				if m.Env, ok = d.strOK(v, p, "an environment variable name"); ok && !validName(m.Env) {
					d.add(r["env"], p, "write a name like TOKEN: letters, digits and underscores, not starting with a digit", "%q is not an environment variable name", m.Env)
				}
			},
			"uid": func(v *yaml.Node, p string) {
				r["uid"] = rangeOf(d.resolve(v))
				m.UID = d.id(v, p)
			},
			"gid": func(v *yaml.Node, p string) {
				r["gid"] = rangeOf(d.resolve(v))
				m.GID = d.id(v, p)
			},
			"mode": func(v *yaml.Node, p string) {
				r["mode"] = rangeOf(d.resolve(v))
				m.Mode = d.mode(v, p)
			},
			"size": func(v *yaml.Node, p string) {
				r["size"] = rangeOf(d.resolve(v))
				s, ok := d.strOK(v, p, `a size like "64m"`)
				if !ok {
					return
				}
				sz, err := units.RAMInBytes(s)
				if err != nil || sz < 0 {
					d.add(rangeOf(v), p, `write a size like "64m" or "1g"`, "%q is not a size", s)
				}
				m.Size = sz
			},
		})
		switch {
		case typ == "" && m.Volume != "":
			typ = MountCache
		case typ == "" && hasType:
			// enum reported the unknown type.
		case typ == "":
			d.add(m.Range, join(mpath, "type"), "add `cache: NAME` for a cache volume, or `type:` one of "+oneOf(MountTypes), "the mount has no type")
		case typ != MountCache && m.Volume != "":
			d.add(typeRange, join(mpath, "type"), "remove `type:` or `cache:`", "a %s mount cannot name a cache volume", typ)
		}
		m.Type = typ
		m.ranges = r
		d.checkMount(m, mpath, readonly)
		out = append(out, m)
	}
	return out
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
	// By the field's presence, not its value: an image or step name in
	// from: is resolved only after decoding, and `size: 0` on a cache
	// mount is as much a mistake as `size: 64m`.
	only := func(field string, types ...MountType) {
		if _, set := m.ranges[field]; set && !slices.Contains(types, m.Type) {
			d.add(m.FieldRange(field), join(p, field), "remove it", "%s does not apply to a %s mount", field, m.Type)
		}
	}
	only("source", MountCache)
	only("from", MountBind)
	only("src", MountBind)
	only("size", MountTmpfs)
	only("id", MountSecret, MountSSH)
	only("required", MountSecret, MountSSH)
	only("env", MountSecret)
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
	var hasStep, hasCtx, stepOK bool
	var stepRange Range
	d.fields(n, p, "{step: NAME, path: PATH} or {context: PATH}", map[string]func(*yaml.Node, string){
		"step": func(v *yaml.Node, p string) {
			hasStep = true
			step, stepOK = d.strOK(v, p, "a step name")
			stepRange = rangeOf(d.resolve(v))
		},
		"context": func(v *yaml.Node, p string) { hasCtx = true; ctx = d.str(v, p, "a path or a context name") },
		"path":    func(v *yaml.Node, p string) { pth = d.str(v, p, "a path") },
	})
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
