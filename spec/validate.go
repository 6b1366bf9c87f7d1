package spec

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
)

// validate checks what needs the whole spec: references between steps and
// volumes, cycles, and defaults that depend on other fields.
func (d *decoder) validate(s *Spec) {
	steps := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		steps[i] = st.Name
	}
	d.resolveSources(s, steps)
	d.validateCaches(s)
	for _, st := range s.Steps {
		d.validateStep(s, st)
	}
	d.stepCycles(s)
	if len(s.Steps) == 0 && s.Steps != nil {
		d.add(s.Range, "steps", "add a step like `build: {from: busybox, run: make}`", "the spec has no steps")
	}
	switch {
	case s.Default == "" && len(s.Steps) > 0:
		// Like a Dockerfile's last stage.
		s.Default = s.Steps[len(s.Steps)-1].Name
	case s.Default != "" && s.Step(s.Default) == nil:
		d.add(d.defaultRange, "default", "name one of the steps"+didYouMean(s.Default, steps), "default step %q does not exist", s.Default)
	}
}

// resolveSources classifies every from: value: a step name wins over an image
// of the same name, as a Dockerfile stage name does.
func (d *decoder) resolveSources(s *Spec, steps []string) {
	for _, p := range d.pending {
		if s.Step(p.text) != nil {
			*p.dst = Source{Kind: SourceStep, Ref: p.text}
			continue
		}
		if p.stepOnly {
			d.add(p.rng, p.path, "name one of the steps"+didYouMean(p.text, steps), "step %q does not exist", p.text)
			continue
		}
		named, err := parseImageRef(p.text)
		if err != nil {
			hint := "write an image like busybox:1.37, a step name, scratch, or context:NAME"
			if dym := didYouMean(p.text, steps); dym != "" {
				hint = "name a step" + dym
			}
			d.add(p.rng, p.path, hint, "%q is neither a step nor an image reference (%v)", p.text, err)
			continue
		}
		*p.dst = Source{Kind: SourceImage, Ref: named.String()}
	}
}

func (d *decoder) validateCaches(s *Spec) {
	names := make([]string, len(s.Caches))
	for i, c := range s.Caches {
		names[i] = c.Name
		if c.Key == nil {
			c.Key = []Token{{Value: c.Name, Range: c.Range}}
		}
		if c.Sharing == "" {
			c.Sharing = SharingShared
		}
	}
	for _, c := range s.Caches {
		if c.From != "" && s.Cache(c.From) == nil {
			d.add(c.Range, join("caches."+c.Name, "from"), "name one of the cache volumes"+didYouMean(c.From, names), "parent volume %q does not exist", c.From)
		}
	}
	for _, c := range s.Caches {
		d.resolveChain(s, c)
	}
}

// resolveChain fills a volume's full tokens and effective scope from its
// parents, reporting a cycle once, at the volume where it was found.
func (d *decoder) resolveChain(s *Spec, c *Cache) {
	var chain []*Cache
	for cur := c; cur != nil; cur = s.Cache(cur.From) {
		if i := slices.Index(chain, cur); i >= 0 {
			// Report the cycle once, at its first volume in file order.
			if i == 0 && slices.IndexFunc(s.Caches, func(x *Cache) bool { return slices.Contains(chain, x) }) == slices.Index(s.Caches, c) {
				names := make([]string, 0, len(chain)+1)
				for _, x := range chain {
					names = append(names, x.Name)
				}
				names = append(names, c.Name)
				d.add(c.Range, "caches."+c.Name+".from", "remove one of the from: fields", "cache volumes form a cycle: %s", strings.Join(names, " -> "))
			}
			return
		}
		chain = append(chain, cur)
		if cur.From == "" {
			break
		}
	}
	root := chain[len(chain)-1]
	scope := root.Scope
	if scope == "" {
		scope = ScopeProject
	}
	var tokens []Token
	for i := len(chain) - 1; i >= 0; i-- {
		tokens = append(tokens, chain[i].Key...)
		if g := chain[i].Generation; g > 0 {
			tokens = append(tokens, Token{Value: "generation=" + strconv.Itoa(g), Range: chain[i].Range})
		}
	}
	if c.Scope != "" && c.Scope != scope {
		d.add(c.Range, "caches."+c.Name+".scope", fmt.Sprintf("remove scope: (a child volume has its parent's scope, %q)", scope),
			"scope %q differs from the scope of parent volume %q", c.Scope, root.Name)
	}
	c.Scope = scope
	c.Tokens = tokens
}

func (d *decoder) validateStep(s *Spec, st *Step) {
	p := "steps." + st.Name
	if st.Platform != "" {
		if _, err := platforms.Parse(st.Platform); err != nil {
			d.add(st.Range, p+".platform", "write a platform like linux/amd64 or ${BUILDPLATFORM}", "%q is not a platform: %v", st.Platform, err)
		}
	}
	if st.From.Kind == SourceStep && st.From.Ref == st.Name {
		d.add(st.FromRange, p+".from", "start from an image, another step, or scratch", "step %q starts from itself", st.Name)
	}
	paths := map[string]int{}
	caches := make([]string, len(s.Caches))
	for i, c := range s.Caches {
		caches[i] = c.Name
	}
	for i, m := range st.Mounts {
		mp := index(p+".mounts", i)
		if m.Path != "" {
			clean := path.Clean(m.Path)
			if j, dup := paths[clean]; dup {
				d.add(m.FieldRange("path"), mp+".path", "mount each path once per step", "path %s is already mounted by mounts[%d]", clean, j)
			} else {
				paths[clean] = i
			}
		}
		if m.Type == MountCache && m.Cache != "" && s.Cache(m.Cache) == nil {
			hint := "name one of the volumes under caches:" + didYouMean(m.Cache, caches)
			if len(caches) == 0 {
				hint = "declare it under caches:, like `caches: {" + m.Cache + ": {key: " + m.Cache + "}}`"
			}
			d.add(m.FieldRange("cache"), mp+".cache", hint, "cache volume %q is not declared", m.Cache)
		}
		if m.Type == MountCache && m.Cache == "" {
			d.add(m.Range, mp+".cache", "add `cache: NAME` naming a volume under caches:", "a cache mount needs a volume")
		}
	}
}

// stepCycles reports dependency cycles between steps, once per cycle.
func (d *decoder) stepCycles(s *Spec) {
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
		for _, dep := range Deps(st) {
			next := s.Step(dep)
			if next == nil {
				continue
			}
			switch state[dep] {
			case visiting:
				if dep == st.Name {
					continue // reported by validateStep
				}
				i := slices.Index(stack, dep)
				cycle := append(slices.Clone(stack[i:]), dep)
				d.add(next.FromRange, "steps."+dep, "remove one of the references between these steps", "steps form a cycle: %s", strings.Join(cycle, " -> "))
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
