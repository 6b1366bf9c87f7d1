package llbgen

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stowage-build/stowage/spec"
)

// ReadOnlyEnv carries the build's session ID into the ops that copy
// volumes for a cache-mode=readonly build, so each build copies them as
// they are now rather than reusing an old copy.
const ReadOnlyEnv = "STOWAGE_CACHE_MODE_READONLY"

// throwaway reports whether v is mounted as a throwaway copy in this build.
func (l *lowering) throwaway(v *Volume) bool {
	return l.opt.ReadOnly && v.Scope != spec.ScopeSession
}

// throwawayCopy is one volume as a step of a readonly build mounts it: a
// plain (not cache) mount of a copy, threaded from command to command.
type throwawayCopy struct {
	path     string
	state    llb.State
	readonly bool
}

func (c *throwawayCopy) mount() llb.RunOption {
	if c.readonly {
		return llb.AddMount(c.path, c.state, llb.Readonly)
	}
	return llb.AddMount(c.path, c.state)
}

// next makes the step's next command see what es wrote in the copy; what
// the last command writes is never read, so BuildKit discards it.
func (c *throwawayCopy) next(es llb.ExecState) {
	if !c.readonly {
		c.state = es.GetMount(c.path)
	}
}

// throwaways returns the copies of the volumes st mounts in a readonly
// build, nil otherwise.
//
// Why a copy rather than a read-only cache mount: tools write their caches
// (go build, npm, apt), and a read-only mount fails them. Why not BuildKit's
// own: a cache mount is always written back, and a cache mount with a source
// (as Dockerfile's from= on type=cache) is a new cache keyed by that source.
// So each volume is copied, as it is at the start of the build, into an
// op's output, set up as a fresh volume would be (seed, restore, owner,
// mode) when it is empty, and each command mounts that output. The real
// volume is only ever mounted read-only; no setup lock, no restore point is
// written. The cost is one copy of the volume per step that mounts it, and
// the steps run again each build (their input, the copy, is new).
func (l *lowering) throwaways(ctx context.Context, st *spec.Step, ss *stepState, n *namer) ([]*throwawayCopy, error) {
	if !l.opt.ReadOnly || len(st.Run) == 0 {
		return nil, nil
	}
	var out []*throwawayCopy
	for _, m := range st.Mounts {
		if m.Type != spec.MountCache || !l.throwaway(l.volumes[m.Volume]) {
			continue
		}
		st, err := l.copyOfVolume(ctx, st, ss, m, n)
		if err != nil {
			return nil, err
		}
		out = append(out, &throwawayCopy{path: m.Path, state: st, readonly: m.Readonly})
	}
	return out, nil
}

// copyOfVolume is the op that copies mount m's volume for a readonly build,
// run on the step's filesystem as root with its shell, as the init exec is.
func (l *lowering) copyOfVolume(ctx context.Context, st *spec.Step, ss *stepState, m *spec.Mount, n *namer) (llb.State, error) {
	const vol, out = "/run/stowage/ro/v", "/run/stowage/ro/out"
	v := l.volumes[m.Volume]
	src, sel := llb.Scratch(), ""
	owner := ""
	var seeds []*seed
	if vi := l.setupOf(m, ss.image.Config.User); vi != nil {
		owner = vi.owner
		if v.Sharing == spec.SharingPrivate {
			// The same instances the step mounts in a readwrite build.
			var err error
			if src, err = l.privateSource(ctx, st, ss, vi, n); err != nil {
				return llb.State{}, err
			}
			sel = privateRoot
		} else {
			var err error
			if seeds, err = l.seedsOf(ctx, st, ss, vi, n); err != nil {
				return llb.State{}, err
			}
		}
	}
	mo := []llb.MountOption{llb.AsPersistentCacheDir(v.ID, sharingMode(v.Sharing)), llb.Readonly}
	if sel != "" {
		mo = append(mo, llb.SourcePath(sel))
	}
	opts := []llb.RunOption{llb.AddMount(vol, src, mo...)}
	ids := []string{vol + "=" + v.ID}
	locked := 0
	if v.Sharing == spec.SharingLocked {
		locked++
	}
	seedOpts, seedArgs, seedIDs, seedLocked := seedMounts(seeds,
		func(k int) string { return fmt.Sprintf("%s%d", initSeedDir, k) },
		func(k int) string { return fmt.Sprintf("%s%d", initCheckDir, k) })
	opts, ids, locked = append(opts, seedOpts...), append(ids, seedIDs...), locked+seedLocked
	script := []string{
		"set -e",
		setupFunctions,
		// The volume as it is, less a setup's staging directory; other
		// builds may be writing it while it is copied.
		fmt.Sprintf(`if stowage_has %[1]s %[3]s; then stowage_copy_live %[1]s %[2]s %[4]s 'the volume'; fi; rm -rf %[2]s/%[3]s`, vol, out, seedStaging, shellQuote(v.Name)),
		setupCall(v, out, owner, seedArgs),
	}
	opts = append(opts,
		llb.Args(append(append([]string(nil), stepShell(st)...), strings.Join(script, "\n"))),
		llb.User("0"),
		llb.Dir("/"),
		llb.AddEnv(CacheIDsEnv, strings.Join(ids, ",")),
		llb.AddEnv(ReadOnlyEnv, l.resetNonce()),
		n.unnumbered("copy cache volume "+v.Name+" (cache-mode=readonly)"),
		l.opt.SourceMap.Location([]*pb.Range{PBRange(m.Range)}),
	)
	opts = append(opts, lockGuard(locked)...)
	return ss.state.Run(opts...).AddMount(out, llb.Scratch()), nil
}
