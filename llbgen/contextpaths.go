package llbgen

import (
	"path"
	"slices"

	"github.com/stowage-build/stowage/spec"
)

// ContextPaths returns, for each build context the target's steps read
// ("" for the main one, else the named context's name), the paths they
// read there, for llb.FollowPaths: copy sources (patterns and parents:
// paths as written), bind-mount sources and seed sources. A nil list means
// the whole context: a step starts from it, or something reads its root.
// A context no step of the target reads is absent. Only the steps the
// target builds count, so an unbuilt step's copy sends nothing, as
// dockerfile2llb filters the contexts its COPY and RUN --mount read.
func ContextPaths(s *spec.Spec, target string) map[string][]string {
	if target == "" {
		target = s.Default
	}
	return contextPaths(s, []string{target})
}

// contextPaths is ContextPaths for the steps roots build.
func contextPaths(s *spec.Spec, roots []string) map[string][]string {
	sets := map[string]map[string]bool{}
	read := func(src spec.Source, p string) {
		if src.Kind != spec.SourceContext {
			return
		}
		set, ok := sets[src.Ref]
		if !ok {
			set = map[string]bool{}
			sets[src.Ref] = set
		}
		set[path.Join("/", p)] = true
	}
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		st := s.Step(name)
		if st == nil || seen[name] {
			return
		}
		seen[name] = true
		read(st.From, "/")
		for _, c := range st.Copy {
			read(c.From, c.Src)
		}
		for _, m := range st.Mounts {
			if m.Type == spec.MountBind {
				read(m.From, m.Src)
			}
			if m.Seed != nil {
				read(m.Seed.From, m.Seed.Path)
			}
		}
		for _, dep := range spec.Deps(st) {
			walk(dep)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	out := make(map[string][]string, len(sets))
	for name, set := range sets {
		if set["/"] {
			out[name] = nil
			continue
		}
		paths := make([]string, 0, len(set))
		for p := range set {
			paths = append(paths, path.Join(".", p))
		}
		slices.Sort(paths)
		out[name] = paths
	}
	return out
}
