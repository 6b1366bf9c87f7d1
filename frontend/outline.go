package frontend

import (
	"context"
	"slices"

	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
)

// outline answers --call=outline: the args, the secrets and SSH sockets the
// target needs, and every cache volume with the ID this build would use and
// the YAML lines that declare it.
func (b *builder) outline(ctx context.Context) (*outline.Outline, error) {
	s, err := b.load(nil)
	if err != nil {
		return nil, err
	}
	target := b.bc.Target
	if target == "" {
		target = s.Default
	}
	st := s.Step(target)
	if st == nil {
		return nil, nil
	}
	o := &outline.Outline{Name: st.Name, Description: st.Description, Sources: [][]byte{b.src.Data}}
	for _, a := range s.Args {
		o.Args = append(o.Args, outline.Arg{Name: a.Name, Description: a.Description, Value: a.Value, Location: location(a.Range)})
	}
	// The args steps declare of their own, as Dockerfile's outline lists the
	// ARGs of the target's stages; platform args are BuildKit's.
	platformArgs := spec.PlatformArgs(nil, nil)
	for _, dep := range needed(s, st) {
		for _, a := range dep.Args {
			if _, auto := platformArgs[a.Name]; !auto && !slices.ContainsFunc(o.Args, func(x outline.Arg) bool { return x.Name == a.Name }) {
				o.Args = append(o.Args, outline.Arg{Name: a.Name, Description: a.Description, Value: a.Value, Location: location(a.Range)})
			}
		}
	}
	for _, dep := range needed(s, st) {
		for _, m := range dep.Mounts {
			switch m.Type {
			case spec.MountSecret:
				if !slices.ContainsFunc(o.Secrets, func(x outline.Secret) bool { return x.Name == m.ID }) {
					o.Secrets = append(o.Secrets, outline.Secret{Name: m.ID, Required: m.Required, Location: location(m.Range)})
				}
			case spec.MountSSH:
				if !slices.ContainsFunc(o.SSH, func(x outline.SSH) bool { return x.Name == m.ID }) {
					o.SSH = append(o.SSH, outline.SSH{Name: m.ID, Required: m.Required, Location: location(m.Range)})
				}
			}
		}
	}
	vols, err := llbgen.Volumes(ctx, s, b.volumeOptions())
	if err != nil {
		return nil, withSource(err, b.src.SourceMap)
	}
	for _, v := range vols {
		o.Cache = append(o.Cache, outline.CacheMount{ID: v.ID, Location: location(v.Cache.Range)})
	}
	return o, nil
}

// needed returns the target and every step it depends on, in file order.
func needed(s *spec.Spec, target *spec.Step) []*spec.Step {
	seen := map[string]bool{}
	var visit func(st *spec.Step)
	visit = func(st *spec.Step) {
		if seen[st.Name] {
			return
		}
		seen[st.Name] = true
		for _, d := range spec.Deps(st) {
			if dep := s.Step(d); dep != nil {
				visit(dep)
			}
		}
	}
	visit(target)
	var out []*spec.Step
	for _, st := range s.Steps {
		if seen[st.Name] {
			out = append(out, st)
		}
	}
	return out
}

func location(r spec.Range) *pb.Location {
	return &pb.Location{SourceIndex: 0, Ranges: []*pb.Range{pbRange(r)}}
}
