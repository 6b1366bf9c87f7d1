package llbgen

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/identity"
	"github.com/stowage-build/stowage/spec"
)

// The frontend option and build arg that empty named volumes
// (cache-reset=NAME[,NAME…]). BuildKit has no way to empty one cache mount:
// --no-cache empties every cache mount it touches (moby/buildkit#2447) and
// pruning is per builder, so a build empties them itself.
const (
	OptCacheReset = "cache-reset"
	ArgCacheReset = "STOWAGE_CACHE_RESET"
)

// ResetEnv carries a nonce into every command of a step that mounts a volume
// being reset, so the step runs again and refills the emptied volume rather
// than being answered from cache.
const ResetEnv = "STOWAGE_CACHE_RESET"

// parseCacheReset reads the volume names of a cache-reset value.
func parseCacheReset(v string) []string {
	var names []string
	for n := range strings.SplitSeq(v, ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// Resets lowers the ops that empty the volumes opt.Reset names, one per
// volume ID: each mounts the volume by ID, with its sharing mode, and
// deletes everything under its root. The frontend solves them before the
// build proper, so no step of the build, on any platform, sees a volume
// emptied halfway.
//
// An op runs on the filesystem of the first step (in lowering order) that
// mounts the volume, as that step's own commands would see it, as root with
// the step's shell: it needs a POSIX sh with rm there. That step's ancestors
// do not mount the volume, so emptying it cannot undo their work.
//
// A name that is not a volume, or a volume no step of the target mounts, is
// an error: a reset that silently did nothing would be worse than none.
func Resets(ctx context.Context, s *spec.Spec, opt Options) ([]Reset, error) {
	if len(opt.Reset) == 0 {
		return nil, nil
	}
	if opt.ReadOnly {
		return nil, fmt.Errorf("%s empties volumes and %s=readonly never writes them: drop one of the two", OptCacheReset, OptCacheMode)
	}
	for _, name := range opt.Reset {
		if s.Volume(name) == nil {
			return nil, fmt.Errorf("%s %q: %s has no cache volume of that name; its volumes are %s", OptCacheReset, name, s.File, volumeNames(s))
		}
	}
	// No restore probes: solving one would build the steps before the
	// reset, with the reset's nonce, and the build proper would then take
	// them from cache instead of refilling the emptied volume. A reset op
	// needs no seed.
	opt.ReadProbe = nil
	l, err := newLowering(ctx, s, opt)
	if err != nil {
		return nil, err
	}
	l.resets = map[string]llb.State{}
	if _, err := l.step(ctx, l.targetStep()); err != nil {
		return nil, err
	}
	var out []Reset
	for _, name := range opt.Reset {
		v := l.volumes[name]
		st, ok := l.resets[v.ID]
		if !ok {
			return nil, fmt.Errorf("%s %q: no step that target %q builds mounts this volume", OptCacheReset, name, l.targetStep().Name)
		}
		if !slices.ContainsFunc(out, func(r Reset) bool { return r.ID == v.ID }) {
			out = append(out, Reset{ID: v.ID, Volume: name, State: st})
		}
	}
	return out, nil
}

// Reset is the op that empties one volume.
type Reset struct {
	// ID is the volume's cache ID; volumes that share a key share it.
	ID     string
	Volume string
	State  llb.State
}

// resetting reports whether m mounts a volume being reset.
func (l *lowering) resetting(m *spec.Mount) bool {
	if m.Type != spec.MountCache || len(l.opt.Reset) == 0 {
		return false
	}
	id := l.volumes[m.Volume].ID
	return id != "" && slices.ContainsFunc(l.opt.Reset, func(name string) bool {
		v, ok := l.volumes[name]
		return ok && v.ID == id
	})
}

// collectResets, while Resets runs, adds the reset op of each volume being
// reset that st is the first step to mount.
func (l *lowering) collectResets(st *spec.Step, ss *stepState, n *namer) {
	if l.resets == nil || len(st.Run) == 0 {
		return
	}
	shell := stepShell(st)
	for _, m := range st.Mounts {
		if !l.resetting(m) {
			continue
		}
		v := l.volumes[m.Volume]
		if _, ok := l.resets[v.ID]; ok {
			continue
		}
		const dir = "/run/stowage/reset"
		script := fmt.Sprintf(`set -e
command -v rm >/dev/null || { echo "stowage: emptying cache volume %s needs a POSIX sh with rm in the image of step %s" >&2; exit 127; }
cd %s && rm -rf -- * .[!.]* ..?*`, v.Name, st.Name, shellQuote(dir))
		l.resets[v.ID] = ss.state.Run(
			llb.Args(append(append([]string(nil), shell...), script)),
			llb.User("0"),
			llb.Dir("/"),
			llb.AddEnv(CacheIDsEnv, dir+"="+v.ID),
			llb.AddEnv(ResetEnv, l.resetNonce()),
			l.volumeMountAt(m, v, dir),
			n.unnumbered("empty cache volume "+v.Name+" (cache-reset)"),
			l.location(m.Range),
		).Root()
	}
}

// resetOptions makes the commands of a step that mounts a volume being reset
// run again.
func (l *lowering) resetOptions(st *spec.Step) []llb.RunOption {
	if !slices.ContainsFunc(st.Mounts, l.resetting) {
		return nil
	}
	return []llb.RunOption{llb.AddEnv(ResetEnv, l.resetNonce())}
}

// resetNonce is the build's session ID, so a reset happens once per build
// and the next build without cache-reset is answered from cache again.
func (l *lowering) resetNonce() string {
	if l.opt.SessionID != "" {
		return l.opt.SessionID
	}
	if l.nonce == "" {
		l.nonce = identity.NewID()
	}
	return l.nonce
}

func volumeNames(s *spec.Spec) string {
	names := make([]string, len(s.Volumes))
	for i, c := range s.Volumes {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
