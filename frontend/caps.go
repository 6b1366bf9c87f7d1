package frontend

import (
	"fmt"
	"slices"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"

	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
)

// checkCaps fails at once, at the YAML that asks for it, when the
// definition needs a capability the builder lacks, as dockerfile2llb checks
// LLBCaps; BuildKit itself would say only "requested experimental feature
// … is not supported by build server", with no location or version.
func checkCaps(def *llb.Definition, caps apicaps.CapSet, file string) error {
	if def == nil {
		return nil
	}
	var list spec.ErrorList
	seen := map[apicaps.CapID]bool{}
	// Map keys in a fixed order, so the same spec fails the same way.
	dgsts := make([]digest.Digest, 0, len(def.Metadata))
	for d := range def.Metadata {
		dgsts = append(dgsts, d)
	}
	slices.Sort(dgsts)
	for _, d := range dgsts {
		ids := make([]apicaps.CapID, 0, len(def.Metadata[d].Caps))
		for id, on := range def.Metadata[d].Caps {
			if on {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			if seen[id] || caps.Supports(id) == nil {
				continue
			}
			seen[id] = true
			f, ok := llbgen.CapFeatures[id]
			if !ok {
				f = llbgen.CapFeature{Field: "this spec", Since: "a BuildKit newer than this builder's"}
			}
			list = append(list, &spec.Error{
				File:  file,
				Range: opRange(def, d),
				Msg:   fmt.Sprintf("%s needs BuildKit %s or later (LLB capability %s), which this builder lacks", f.Field, f.Since, id),
				Hint:  fmt.Sprintf("upgrade the builder's buildkitd (stowage builder status names it; Stowage supports BuildKit %s and later), or remove the field", llbgen.OldestBuildKit),
			})
		}
	}
	if len(list) == 0 {
		return nil
	}
	return list
}

// opRange is the YAML range of op d: its own source location, else that of
// the nearest op that takes it as an input (a git source has none of its
// own; the copy that reads it does).
func opRange(def *llb.Definition, d digest.Digest) spec.Range {
	users := map[digest.Digest][]digest.Digest{}
	for _, dt := range def.Def {
		var op pb.Op
		if op.UnmarshalVT(dt) != nil {
			continue
		}
		self := digest.FromBytes(dt)
		for _, in := range op.Inputs {
			users[digest.Digest(in.Digest)] = append(users[digest.Digest(in.Digest)], self)
		}
	}
	queue, visited := []digest.Digest{d}, map[digest.Digest]bool{d: true}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if def.Source != nil {
			if locs, ok := def.Source.Locations[cur.String()]; ok {
				for _, l := range locs.Locations {
					for _, r := range l.Ranges {
						return spec.Range{Start: spec.Pos{Line: int(r.Start.Line), Col: int(r.Start.Character) + 1}, End: spec.Pos{Line: int(r.End.Line)}}
					}
				}
			}
		}
		for _, u := range users[cur] {
			if !visited[u] {
				visited[u] = true
				queue = append(queue, u)
			}
		}
	}
	return spec.Range{Start: spec.Pos{Line: 1, Col: 1}, End: spec.Pos{Line: 1}}
}
