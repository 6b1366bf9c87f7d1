package frontend

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
)

// outline answers --call=outline: the args, the secrets and SSH sockets the
// target needs, and every cache volume with the ID this build would use and
// the YAML lines that declare it.
func (b *builder) outline(ctx context.Context) (*outline.Outline, error) {
	// The first target platform's spec: args, secrets and sockets do not
	// depend on it; volume IDs may, and are listed for every platform below.
	plats := b.targetPlatforms()
	s, err := b.load(plats[0])
	if err != nil {
		return nil, err
	}
	target := b.bc.Target
	if target == "" {
		target = s.Default
	}
	st := s.Step(target)
	if st == nil {
		return nil, llbgen.UnknownTarget(s, target)
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
			spec.VisitMount[struct{}](m, outlineMounts{o})
		}
	}
	for i, p := range plats {
		if i > 0 {
			if s, err = b.load(p); err != nil {
				return nil, err
			}
		}
		vols, err := llbgen.Volumes(ctx, s, b.volumeOptions(p))
		if err != nil {
			return nil, withSource(err, b.src.SourceMap)
		}
		for _, v := range vols {
			if !slices.ContainsFunc(o.Cache, func(c outline.CacheMount) bool { return c.ID == v.ID }) {
				o.Cache = append(o.Cache, outline.CacheMount{ID: v.ID, Location: location(v.Spec.Range)})
				b.outlined = append(b.outlined, v)
			}
		}
	}
	return o, nil
}

// targetPlatforms are the platforms a build makes; one nil (the default)
// when none was asked for.
func (b *builder) targetPlatforms() []*ocispecs.Platform {
	if len(b.bc.TargetPlatforms) == 0 {
		return []*ocispecs.Platform{nil}
	}
	out := make([]*ocispecs.Platform, len(b.bc.TargetPlatforms))
	for i := range b.bc.TargetPlatforms {
		out[i] = &b.bc.TargetPlatforms[i]
	}
	return out
}

// withVolumes adds the outlined volumes to the text form of an outline,
// which BuildKit's printer writes without them.
func (b *builder) withVolumes(res *client.Result) {
	if res == nil || len(b.outlined) == 0 || res.Metadata == nil {
		return
	}
	var w bytes.Buffer
	w.Write(res.Metadata["result.txt"])
	tw := tabwriter.NewWriter(&w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "\nCACHE VOLUME\tID\tSCOPE")
	for _, v := range b.outlined {
		id := v.ID
		if id == "" {
			id = "(this build's session)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, id, v.Scope)
	}
	tw.Flush()
	res.Metadata["result.txt"] = w.Bytes()
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
	return &pb.Location{SourceIndex: 0, Ranges: []*pb.Range{llbgen.PBRange(r)}}
}

// outlineMounts lists, of each type of mount, what the build must be given:
// secrets and SSH agents.
type outlineMounts struct{ o *outline.Outline }

func (outlineMounts) Cache(*spec.Mount) struct{} { return struct{}{} }
func (outlineMounts) Tmpfs(*spec.Mount) struct{} { return struct{}{} }
func (outlineMounts) Bind(*spec.Mount) struct{}  { return struct{}{} }

func (om outlineMounts) Secret(m *spec.Mount) struct{} {
	if !slices.ContainsFunc(om.o.Secrets, func(x outline.Secret) bool { return x.Name == m.ID }) {
		om.o.Secrets = append(om.o.Secrets, outline.Secret{Name: m.ID, Required: m.Required, Location: location(m.Range)})
	}
	return struct{}{}
}

func (om outlineMounts) SSH(m *spec.Mount) struct{} {
	if !slices.ContainsFunc(om.o.SSH, func(x outline.SSH) bool { return x.Name == m.ID }) {
		om.o.SSH = append(om.o.SSH, outline.SSH{Name: m.ID, Required: m.Required, Location: location(m.Range)})
	}
	return struct{}{}
}
