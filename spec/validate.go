package spec

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/reference"

	"github.com/stowage-build/stowage/spec/syntax"
)

// validate checks what needs the whole spec: references between steps and
// volumes, cycles, and defaults that depend on other fields.
func (d *decoder) validate(s *Spec) {
	// Lookups go through maps: Spec.Step and Spec.Cache scan, and a 1 MiB
	// spec can hold 40,000 steps.
	v := &lookup{steps: map[string]*Step{}, caches: map[string]*Volume{}}
	for _, st := range s.Steps {
		v.stepNames = append(v.stepNames, st.Name)
		v.steps[st.Name] = st
	}
	for _, c := range s.Volumes {
		v.cacheNames = append(v.cacheNames, c.Name)
		v.caches[c.Name] = c
	}
	d.resolveSources(v)
	d.validateCaches(s, v)
	for _, st := range s.Steps {
		d.validateStep(v, st)
	}
	d.stepCycles(s, v)
	switch {
	case s.Default == "" && len(s.Steps) > 0:
		// Like a Dockerfile's last stage.
		s.Default = s.Steps[len(s.Steps)-1].Name
	case s.Default != "" && v.steps[s.Default] == nil:
		d.add(d.defaultRange, "default", "name one of the steps"+d.suggest(s.Default, v.stepNames), "default step %q does not exist", s.Default)
	}
}

// lookup finds steps and volumes by name.
type lookup struct {
	steps      map[string]*Step
	caches     map[string]*Volume
	stepNames  []string
	cacheNames []string
}

// parent returns a volume's parent, or nil for a root or an unknown parent.
func (v *lookup) parent(c *Volume) *Volume {
	if c.From == "" {
		return nil
	}
	return v.caches[c.From]
}

// resolveSources classifies every from: value: a step name wins over an image
// of the same name, as a Dockerfile stage name does.
func (d *decoder) resolveSources(v *lookup) {
	steps := v.stepNames
	for _, p := range d.pending {
		if v.steps[p.text] != nil {
			*p.dst = Source{Kind: SourceStep, Ref: p.text}
			continue
		}
		if p.stepOnly {
			d.add(p.rng, p.path, "name one of the steps"+d.suggest(p.text, steps), "step %q does not exist", p.text)
			continue
		}
		named, err := parseImageRef(p.text)
		if err != nil {
			hint := "write an image like busybox:1.37, a step name, scratch, or context:NAME"
			if dym := d.suggest(p.text, steps); dym != "" {
				hint = "name a step" + dym
			}
			d.add(p.rng, p.path, hint, "%q is neither a step nor an image reference (%v)", p.text, err)
			continue
		}
		// Tagged as BuildKit and the Dockerfile frontend name it, so that
		// busybox and docker.io/library/busybox:latest are one source.
		*p.dst = Source{Kind: SourceImage, Ref: reference.TagNameOnly(named).String()}
	}
}

// maxKeyTokens bounds a volume's full key, its parents' tokens included. Real
// keys hold a handful; the bound keeps a long chain of child volumes from
// costing memory quadratic in its length.
const maxKeyTokens = syntax.MaxKeyTokens

func (d *decoder) validateCaches(s *Spec, v *lookup) {
	for _, c := range s.Volumes {
		if c.Key == nil {
			c.Key = []Token{Literal(c.Name, c.Range)}
		}
		if c.Sharing == "" {
			c.Sharing = SharingShared
		}
		if c.From != "" && v.caches[c.From] == nil {
			d.add(c.FieldRange("from"), "caches."+c.Name+".from", "name one of the cache volumes"+d.suggest(c.From, v.cacheNames), "parent volume %q does not exist", c.From)
		}
	}
	d.resolveChains(s, v)
}

// resolveChains fills each volume's full tokens and effective scope from its
// parents. It walks every chain once, so that a long one costs its length,
// and reports each cycle once.
func (d *decoder) resolveChains(s *Spec, v *lookup) {
	order := make(map[*Volume]int, len(s.Volumes))
	for i, c := range s.Volumes {
		order[c] = i
	}
	done := map[*Volume]bool{}
	// failed volumes are on or below a cycle, or have too long a key: their
	// children get no tokens either, and no second error.
	failed := map[*Volume]bool{}
	for _, c := range s.Volumes {
		// Walk up to a resolved volume, a root, or back onto this walk.
		var walk []*Volume
		on := map[*Volume]bool{}
		cur := c
		for cur != nil && !done[cur] && !on[cur] {
			on[cur] = true
			walk = append(walk, cur)
			cur = v.parent(cur)
		}
		bad := cur != nil && failed[cur]
		if cur != nil && on[cur] {
			d.cacheCycle(walk[slices.Index(walk, cur):], order)
			bad = true
		}
		// Resolve top down, each volume after its parent.
		for i := len(walk) - 1; i >= 0; i-- {
			x := walk[i]
			done[x] = true
			if bad || !d.inherit(x, v.parent(x)) {
				failed[x], bad = true, true
			}
		}
	}
}

// cacheCycle reports a cycle of from: fields at its first volume in file
// order.
func (d *decoder) cacheCycle(cycle []*Volume, order map[*Volume]int) {
	first := 0
	for i, c := range cycle {
		if order[c] < order[cycle[first]] {
			first = i
		}
	}
	cycle = append(slices.Clone(cycle[first:]), cycle[:first]...)
	names := make([]string, 0, len(cycle)+1)
	for _, c := range cycle {
		names = append(names, c.Name)
	}
	names = append(names, cycle[0].Name)
	c := cycle[0]
	d.add(c.FieldRange("from"), "caches."+c.Name+".from", "remove one of the from: fields", "cache volumes form a cycle: %s", arrows(names))
}

// inherit sets a volume's scope and full tokens from its resolved parent (nil
// for a root) and its own key. It reports false when the key is too long.
func (d *decoder) inherit(c, parent *Volume) bool {
	scope := c.Scope
	var tokens []Token
	if parent != nil {
		if c.Scope != "" && c.Scope != parent.Scope {
			d.add(c.FieldRange("scope"), "caches."+c.Name+".scope", fmt.Sprintf("remove scope: (a child volume has its parent's scope, %q)", parent.Scope),
				"scope %q differs from the scope of parent volume %q", c.Scope, parent.Name)
		}
		scope = parent.Scope
		tokens = append(tokens, parent.Tokens...)
	}
	if scope == "" {
		scope = ScopeProject
	}
	tokens = append(tokens, c.Key...)
	if g := c.Generation; g > 0 {
		tokens = append(tokens, Literal("generation="+strconv.Itoa(g), c.Range))
	}
	if len(tokens) > maxKeyTokens {
		d.add(c.FieldRange("key"), "caches."+c.Name+".key", "derive the volume from a parent nearer the root, or shorten the keys",
			"the key of volume %q has %d tokens with its parents', more than %d", c.Name, len(tokens), maxKeyTokens)
		return false
	}
	c.Scope, c.Tokens = scope, tokens
	d.inheritRestore(c, parent)
	return true
}

// inheritRestore builds the full keys of c's restore: as inherit builds
// its key, and refuses restore keys no build could use.
func (d *decoder) inheritRestore(c, parent *Volume) {
	if len(c.Restore) == 0 {
		return
	}
	path, r := "caches."+c.Name+".restore", c.FieldRange("restore")
	switch {
	case c.Scope == ScopeSession:
		d.add(r, path, "remove restore:, or use scope: project", "a volume with scope: session is new in every build, so no later build restores from it")
		return
	case c.Sharing == SharingPrivate:
		d.add(r, path, "use sharing: shared or locked, or remove restore:", "a private volume cannot restore: its instances are made by BuildKit from source: alone")
		return
	}
	for i, k := range c.Restore {
		var tokens []Token
		if parent != nil {
			tokens = append(tokens, parent.Tokens...)
		}
		tokens = append(tokens, k...)
		if g := c.Generation; g > 0 {
			tokens = append(tokens, Literal("generation="+strconv.Itoa(g), c.Range))
		}
		if len(tokens) > maxKeyTokens {
			d.add(r, index(path, i), "shorten the restore key", "restore key %d has %d tokens with its parents', more than %d", i, len(tokens), maxKeyTokens)
			continue
		}
		if sameTokens(tokens, c.Tokens) {
			d.add(keyRange(k), index(path, i), "name a less specific key, like the key without its {hash:} token", "restore key %d is the volume's own key", i)
			continue
		}
		if j := slices.IndexFunc(c.RestoreTokens, func(o []Token) bool { return sameTokens(o, tokens) }); j >= 0 {
			d.add(keyRange(k), index(path, i), "remove it", "restore key %d repeats an earlier restore key", i)
			continue
		}
		c.RestoreTokens = append(c.RestoreTokens, tokens)
	}
}

// sameTokens reports whether two keys are written the same.
func sameTokens(a, b []Token) bool {
	return slices.EqualFunc(a, b, func(x, y Token) bool { return TokenIdentity(x) == TokenIdentity(y) })
}

// TokenIdentity is a token as written, kind included, as a string: two
// tokens with the same identity always resolve to the same value, so
// volumes whose keys agree on it are one cache.
func TokenIdentity(t Token) string { return VisitToken[string](t, tokenIdentity{}) }

type tokenIdentity struct{}

func (tokenIdentity) Literal(l LiteralToken) string { return "literal\x00" + l.Value }
func (tokenIdentity) Hash(h HashToken) string {
	return "hash\x00" + strings.Join(h.Globs, "\x00")
}
func (tokenIdentity) Digest(d DigestToken) string { return "digest\x00" + d.Image }

// keyRange spans a key's tokens.
func keyRange(k []Token) Range {
	r := k[0].Range
	r.End = k[len(k)-1].Range.End
	return r
}

func (d *decoder) validateStep(v *lookup, st *Step) {
	p := "steps." + st.Name
	for _, r := range stepRefs(st) {
		switch {
		case r.name != st.Name:
		case r.path == p+".from":
			d.add(r.rng, r.path, "start from an image, another step, or scratch", "step %q starts from itself", st.Name)
		default:
			d.add(r.rng, r.path, "read from another step, an image or a context", "step %q reads from itself", st.Name)
		}
	}
	paths := map[string]int{}
	envs := map[string]int{}
	for i, m := range st.Mounts {
		mp := index(p+".mounts", i)
		if m.Env != "" {
			if j, dup := envs[m.Env]; dup {
				d.add(m.FieldRange("env"), mp+".env", "expose each secret in its own variable", "variable %s is already set by the secret of mounts[%d]", m.Env, j)
			} else {
				envs[m.Env] = i
			}
		}
		if m.Path != "" {
			clean := path.Clean(m.Path)
			if j, dup := paths[clean]; dup {
				d.add(m.FieldRange("path"), mp+".path", "mount each path once per step", "path %s is already mounted by mounts[%d]", clean, j)
			} else {
				paths[clean] = i
			}
		}
		if m.Type == MountCache && m.Volume != "" && v.caches[m.Volume] == nil {
			hint := "name one of the volumes under caches:" + d.suggest(m.Volume, v.cacheNames)
			if len(v.cacheNames) == 0 {
				hint = "declare it under caches:, like `caches: {" + m.Volume + ": {key: " + m.Volume + "}}`"
			}
			d.add(m.FieldRange("cache"), mp+".cache", hint, "cache volume %q is not declared", m.Volume)
		}
		if m.Type == MountCache && m.Volume == "" {
			d.add(m.Range, mp+".cache", "add `cache: NAME` naming a volume under caches:", "a cache mount needs a volume")
		}
	}
}

// stepRef is one place where a step names another.
type stepRef struct {
	name string
	rng  Range
	path string
}

// stepRefs lists where st names a step, in the order of Deps.
func stepRefs(st *Step) []stepRef {
	p := "steps." + st.Name
	var out []stepRef
	add := func(src Source, r Range, p string) {
		if src.Kind == SourceStep {
			out = append(out, stepRef{name: src.Ref, rng: r, path: p})
		}
	}
	add(st.From, st.FromRange, p+".from")
	for i, c := range st.Copy {
		add(c.From, c.Range, index(p+".copy", i)+".from")
	}
	for i, m := range st.Mounts {
		mp := index(p+".mounts", i)
		add(m.From, m.FieldRange("from"), mp+".from")
		if m.Seed != nil {
			add(m.Seed.From, m.Seed.Range, mp+".source.step")
		}
	}
	return out
}

// stepCycles reports dependency cycles between steps, once per cycle, at
// the reference that closes it.
func (d *decoder) stepCycles(s *Spec, v *lookup) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(st *Step)
	visit = func(st *Step) {
		state[st.Name] = visiting
		stack = append(stack, st.Name)
		seen := map[string]bool{}
		for _, r := range stepRefs(st) {
			next := v.steps[r.name]
			if next == nil || seen[r.name] {
				continue
			}
			seen[r.name] = true
			switch state[r.name] {
			case visiting:
				if r.name == st.Name {
					continue // reported by validateStep
				}
				i := slices.Index(stack, r.name)
				cycle := append([]string{st.Name}, stack[i:]...)
				d.add(r.rng, r.path, "remove one of the references between these steps", "steps form a cycle: %s", arrows(cycle))
			case unvisited:
				visit(next)
			}
		}
		stack = stack[:len(stack)-1]
		state[st.Name] = done
	}
	for _, st := range s.Steps {
		if state[st.Name] == unvisited {
			visit(st)
		}
	}
}

// arrows renders a cycle like "a -> b -> a", eliding the middle of a long
// one: a generated spec can make cycles of thousands.
func arrows(names []string) string {
	if len(names) > 12 {
		names = slices.Concat(names[:6], []string{"…"}, names[len(names)-5:])
	}
	return strings.Join(names, " -> ")
}

// Deps returns the names of the steps st reads from, in the order its fields
// name them, without repeats.
func Deps(st *Step) []string {
	var out []string
	add := func(src Source) {
		if src.Kind == SourceStep && !slices.Contains(out, src.Ref) {
			out = append(out, src.Ref)
		}
	}
	add(st.From)
	for _, c := range st.Copy {
		add(c.From)
	}
	for _, m := range st.Mounts {
		add(m.From)
		if m.Seed != nil {
			add(m.Seed.From)
		}
	}
	return out
}
