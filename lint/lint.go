// Package lint finds the cache volume hazards that a valid spec can still
// hold: deadlocks, volumes that silently cache nothing, and package managers
// racing on shared state. It reads the spec model only, so `stowage lint`,
// --call=lint and the warnings of a build all say the same.
package lint

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/util/suggest"
	"github.com/stowage-build/stowage/spec"
)

// Rule is one check.
type Rule struct {
	Name        string
	Description string
}

// The rules, in the order they run.
var (
	LockedVolumeMountedTwice = Rule{"LockedVolumeMountedTwice",
		"A locked volume mounted twice in one step waits for itself: the build hangs."}
	SharingConflict = Rule{"SharingConflict",
		"Volumes with the same key are one cache; mounting it with different sharing modes lets one build bypass another's lock."}
	PackageManagerNotLocked = Rule{"PackageManagerNotLocked",
		"apt, dpkg, dnf, yum and zypper keep lock files and indexes that concurrent builds corrupt unless the volume is locked."}
	CopyIntoCacheMount = Rule{"CopyIntoCacheMount",
		"Files copied under a cache mount's path land in the image layer, hidden while the step runs, and never reach the cache."}
	SessionVolumeOneStep = Rule{"SessionVolumeOneStep",
		"A session-scoped volume starts empty in every build; mounted by one step only, it caches nothing."}
	UnusedVolume = Rule{"UnusedVolume",
		"The volume is declared but no step mounts it."}
	FromLooksLikeStep = Rule{"FromLooksLikeStep",
		"A from: that is not a step but nearly a step's name is pulled as an image: most likely a typo."}
)

// packageManagerPaths hold state that needs exclusive access.
var packageManagerPaths = []string{
	"/var/cache/apt", "/var/lib/apt", "/var/lib/dpkg",
	"/var/cache/dnf", "/var/cache/yum", "/var/cache/zypp", "/var/cache/libdnf5",
}

// Warning is one finding, at a place in the spec.
type Warning struct {
	Rule  Rule
	Msg   string
	Range spec.Range
}

// String renders "FILE:LINE:COL: warning: RULE: MSG", like spec errors.
func (w Warning) String(file string) string {
	return fmt.Sprintf("%s:%d:%d: warning: %s: %s", file, w.Range.Start.Line, w.Range.Start.Col, w.Rule.Name, w.Msg)
}

// Check runs every rule over a validated spec and returns the warnings
// sorted by position.
func Check(s *spec.Spec) []Warning {
	var out []Warning
	add := func(r Rule, rng spec.Range, format string, args ...any) {
		out = append(out, Warning{Rule: r, Msg: fmt.Sprintf(format, args...), Range: rng})
	}
	byName := map[string]*spec.Volume{}
	for _, c := range s.Volumes {
		byName[c.Name] = c
	}
	mountedBy := map[string][]string{}
	for _, st := range s.Steps {
		seen := map[string]*spec.Mount{}
		for _, m := range st.Mounts {
			c := byName[m.Volume]
			if m.Type != spec.MountCache || c == nil {
				continue
			}
			if !slices.Contains(mountedBy[c.Name], st.Name) {
				mountedBy[c.Name] = append(mountedBy[c.Name], st.Name)
			}
			id := identity(c)
			if first, ok := seen[id]; ok && c.Sharing == spec.SharingLocked && !m.Readonly && !first.Readonly {
				add(LockedVolumeMountedTwice, m.FieldRange("cache"), "volume %q is locked and already mounted at %s in step %q; mount it once, or make the volume shared", c.Name, first.Path, st.Name)
			}
			seen[id] = m
			if c.Sharing != spec.SharingLocked && underAny(m.Path, packageManagerPaths) {
				add(PackageManagerNotLocked, m.FieldRange("cache"), "%s holds package manager state; set `sharing: locked` on volume %q", m.Path, c.Name)
			}
			for _, cp := range st.Copy {
				if dest := copyDest(st, cp); under(dest, path.Clean(m.Path)) {
					add(CopyIntoCacheMount, cp.Range, "copy to %s is under cache mount %s of this step; copy elsewhere, or seed the volume with `source:`", dest, m.Path)
				}
			}
		}
	}
	groups := map[string][]*spec.Volume{}
	for _, c := range s.Volumes {
		groups[identity(c)] = append(groups[identity(c)], c)
	}
	for _, c := range s.Volumes {
		for _, other := range groups[identity(c)] {
			if other == c {
				break
			}
			if other.Sharing != c.Sharing {
				add(SharingConflict, c.Range, "volumes %q (%s) and %q (%s) have the same key; give them the same sharing, or different keys", c.Name, c.Sharing, other.Name, other.Sharing)
				break
			}
		}
		switch steps := mountedBy[c.Name]; {
		case len(steps) == 0:
			add(UnusedVolume, c.Range, "no step mounts volume %q; mount it or remove it", c.Name)
		case c.Scope == spec.ScopeSession && len(steps) == 1:
			add(SessionVolumeOneStep, c.Range, "volume %q is session-scoped and mounted only by step %q, so it starts empty every build; use scope: project to keep its contents", c.Name, steps[0])
		}
	}
	steps := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		steps[i] = st.Name
	}
	nearStep := func(src spec.Source, r spec.Range) {
		// Only a bare name (no registry, path or tag; the spec holds it
		// normalised) can be a typo'd step.
		name, library := strings.CutPrefix(src.Ref, "docker.io/library/")
		name, latest := strings.CutSuffix(name, ":latest")
		if src.Kind != spec.SourceImage || !library || !latest || strings.ContainsAny(name, "/:@") {
			return
		}
		if step, ok := suggest.Search(name, steps, true); ok {
			add(FromLooksLikeStep, r, "%q is not a step, so it is pulled as an image; did you mean step %q?", name, step)
		}
	}
	for _, st := range s.Steps {
		nearStep(st.From, st.FromRange)
		for _, c := range st.Copy {
			nearStep(c.From, c.FieldRange("from"))
		}
		for _, m := range st.Mounts {
			nearStep(m.From, m.FieldRange("from"))
		}
	}
	slices.SortStableFunc(out, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Range.Start.Line, b.Range.Start.Line), cmp.Compare(a.Range.Start.Col, b.Range.Start.Col))
	})
	return out
}

// identity is what makes two volumes one cache, without resolving content
// tokens: scope and full key as written. Volumes whose IDs depend on the
// project or session are compared within this one spec, where those agree.
func identity(c *spec.Volume) string {
	var b strings.Builder
	b.WriteString(string(c.Scope))
	for _, t := range c.Tokens {
		fmt.Fprintf(&b, "\x00%q", spec.TokenIdentity(t))
	}
	return b.String()
}

func copyDest(st *spec.Step, c *spec.Copy) string {
	if path.IsAbs(c.Dest) {
		return path.Clean(c.Dest)
	}
	wd := st.Workdir
	if wd == "" {
		wd = "/"
	}
	return path.Join(wd, c.Dest)
}

func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

func underAny(p string, dirs []string) bool {
	p = path.Clean(p)
	for _, d := range dirs {
		if under(p, d) || under(d, p) {
			return true
		}
	}
	return false
}
