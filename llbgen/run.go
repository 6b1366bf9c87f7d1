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

// stepShell runs Stowage's own execs for a step (setting up, seeding,
// emptying, copying volumes): POSIX scripts, run in the step's own shell
// or /bin/sh -c, never in one inherited from an image or an earlier step
// (which may be another language's, or absent from the filesystem the
// exec runs on).
func stepShell(st *spec.Step) []string {
	if st.Shell == nil {
		return spec.DefaultShell
	}
	return st.Shell
}

// runShell runs a step's own commands: its shell, else the one its base's
// config carries (an earlier step's, or an image's), as Dockerfile's SHELL
// persists, else /bin/sh -c.
func runShell(ss *stepState, st *spec.Step) []string {
	if st.Shell == nil && len(ss.image.Config.Shell) > 0 {
		return ss.image.Config.Shell
	}
	return stepShell(st)
}

// run adds one command of a step as an exec op with the step's mounts.
func (l *lowering) run(st *spec.Step, ss *stepState, mounts []llb.RunOption, cmd *spec.Command, n *namer) llb.ExecState {
	state := ss.state
	args := append(append([]string(nil), runShell(ss, st)...), cmd.Text)
	opts := append([]llb.RunOption{llb.Args(args), n.name("RUN " + summary(cmd.Text)), l.location(cmd.Range)}, mounts...)
	opts = append(opts, l.noCache(st, n)...)
	opts = append(opts, l.resetOptions(st)...)
	return state.Run(opts...)
}

// NoCacheEnv carries the build's session ID into the commands of a step
// built with --no-cache that mount cache volumes. BuildKit's IgnoreCache
// would hand such a command fresh, throwaway cache mounts
// (moby/buildkit#2447), so the step is re-run by changing its cache key
// instead, and its volumes keep their contents.
const NoCacheEnv = "STOWAGE_NO_CACHE"

// noCache returns the options that make a command of a --no-cache step run
// again.
func (l *lowering) noCache(st *spec.Step, n *namer) []llb.RunOption {
	if !n.noCache {
		return nil
	}
	if !slices.ContainsFunc(st.Mounts, func(m *spec.Mount) bool { return m.Type == spec.MountCache }) {
		return []llb.RunOption{llb.IgnoreCache}
	}
	nonce := l.opt.SessionID
	if nonce == "" {
		nonce = identity.NewID()
	}
	return []llb.RunOption{llb.AddEnv(NoCacheEnv, nonce)}
}

// CacheIDsEnv is set for every command that mounts cache volumes, to
// "PATH=ID,…" in mount order. BuildKit leaves cache IDs out of an exec's
// cache key (moby/moby#47693), so without it a step whose volume changed key
// would be answered from cache and never see its new volume; the env is part
// of the key.
const CacheIDsEnv = "STOWAGE_CACHE_IDS"

// mounts lowers a step's mounts once; every command of the step gets them.
func (l *lowering) mounts(ctx context.Context, st *spec.Step, ss *stepState, n *namer) ([]llb.RunOption, error) {
	var opts []llb.RunOption
	var ids []string
	locked := map[string]bool{}
	for i, m := range st.Mounts {
		ml := mountLowering{l: l, ctx: ctx, st: st, ss: ss, n: n, path: fmt.Sprintf("steps.%s.mounts[%d]", st.Name, i)}
		r := spec.VisitMount[loweredMount](m, ml)
		if r.err != nil {
			return nil, r.err
		}
		if r.opt != nil {
			opts = append(opts, r.opt)
		}
		if r.id != "" {
			ids = append(ids, m.Path+"="+r.id)
		}
		if r.locked {
			locked[r.id] = true
		}
	}
	if len(ids) > 0 {
		opts = append(opts, llb.AddEnv(CacheIDsEnv, strings.Join(ids, ",")))
	}
	opts = append(opts, lockGuard(len(locked))...)
	return opts, nil
}

// loweredMount is one mount as LLB: its run option (none for a volume
// mounted per command), and for a volume its ID and whether it is locked.
type loweredMount struct {
	opt    llb.RunOption
	id     string
	locked bool
	err    error
}

// mountLowering lowers each type of mount of one step.
type mountLowering struct {
	l    *lowering
	ctx  context.Context
	st   *spec.Step
	ss   *stepState
	n    *namer
	path string
}

func (ml mountLowering) Cache(m *spec.Mount) loweredMount {
	l := ml.l
	v := l.volumes[m.Volume]
	if v.ID == "" {
		return loweredMount{err: specError(l.s, m.FieldRange("cache"), ml.path+".cache", fmt.Sprintf("volume %q has scope: session, and this lowering has no session ID", m.Volume), "build it through BuildKit, or use scope: project")}
	}
	if l.throwaway(v) {
		// Mounted per command by the step's loop (throwaways).
		return loweredMount{}
	}
	src, sel := llb.Scratch(), ""
	if vi := l.setupOf(m, ml.ss.image.Config.User); vi != nil && v.Sharing == spec.SharingPrivate {
		var err error
		if src, err = l.privateSource(ml.ctx, ml.st, ml.ss, vi, ml.n); err != nil {
			return loweredMount{err: err}
		}
		sel = privateRoot
		l.sources[m] = src
	}
	return loweredMount{opt: cacheMount(m, v, src, sel), id: v.ID, locked: v.Sharing == spec.SharingLocked}
}

func (mountLowering) Tmpfs(m *spec.Mount) loweredMount {
	return loweredMount{opt: llb.AddMount(m.Path, llb.Scratch(), llb.Tmpfs(llb.TmpfsSize(m.Size)))}
}

func (ml mountLowering) Bind(m *spec.Mount) loweredMount {
	src, err := ml.l.sourceState(ml.ctx, m.From, ml.ss, m.Range)
	if err != nil {
		return loweredMount{err: err}
	}
	mo := []llb.MountOption{llb.SourcePath(m.Src)}
	if m.Readonly {
		mo = append(mo, llb.Readonly)
	} else {
		// Writable, but what the step writes there is discarded.
		mo = append(mo, llb.ForceNoOutput)
	}
	return loweredMount{opt: llb.AddMount(m.Path, src, mo...)}
}

func (mountLowering) Secret(m *spec.Mount) loweredMount { return loweredMount{opt: secretMount(m)} }
func (mountLowering) SSH(m *spec.Mount) loweredMount    { return loweredMount{opt: sshMount(m)} }

// cacheMount mounts volume v by its ID. Shared and locked volumes are on
// scratch, so the ID alone is the cache's identity in BuildKit; their seeds,
// owner and mode are applied by the step's init exec (volumeinit.go). A
// private volume that needs setting up comes from src at sel, which BuildKit
// copies into each new instance (privateSource).
func cacheMount(m *spec.Mount, v *Volume, src llb.State, sel string) llb.RunOption {
	mo := []llb.MountOption{llb.AsPersistentCacheDir(v.ID, sharingMode(v.Sharing))}
	if sel != "" {
		mo = append(mo, llb.SourcePath(sel))
	}
	if m.Readonly {
		mo = append(mo, llb.Readonly)
	}
	return llb.AddMount(m.Path, src, mo...)
}

// volumeMountAt mounts volume v at dir as mount m of a step does: the same
// ID and sharing and, for a private volume that needs setting up, the same
// source, so Stowage's own ops (reset, export, import) reach the step's
// BuildKit cache.
func (l *lowering) volumeMountAt(m *spec.Mount, v *Volume, dir string) llb.RunOption {
	src, sel := llb.Scratch(), ""
	if s, ok := l.sources[m]; ok {
		src, sel = s, privateRoot
	}
	return cacheMount(&spec.Mount{Path: dir}, v, src, sel)
}

// LockGuardID is a locked cache volume, one per builder, that every exec
// mounting two or more locked volumes takes first. BuildKit takes an exec's
// locks one by one in the order of its mount paths, so two execs that mount
// the same locked volumes at swapped paths (or two projects' execs that
// share global volumes) would each hold one and wait for the other forever.
// Holding the guard first, such execs run one at a time; an exec with one
// locked volume holds nothing while it waits, so it needs no guard.
const LockGuardID = "stowage-lock-order-guard"

// lockGuardPath sorts before every path a spec may mount at (package spec
// refuses control characters in paths), so the guard is taken first. The
// mount point exists only while the exec runs.
const lockGuardPath = "/\x01stowage-lock-order"

// lockGuard returns the guard mount for an exec that holds locked mounts.
func lockGuard(locked int) []llb.RunOption {
	if locked < 2 {
		return nil
	}
	return []llb.RunOption{llb.AddMount(lockGuardPath, llb.Scratch(), llb.AsPersistentCacheDir(LockGuardID, llb.CacheMountLocked))}
}

func sharingMode(s spec.Sharing) llb.CacheMountSharingMode {
	switch s {
	case spec.SharingPrivate:
		return llb.CacheMountPrivate
	case spec.SharingLocked:
		return llb.CacheMountLocked
	}
	return llb.CacheMountShared
}

// summary shortens a multi-line command to its first line for progress
// output, as the Dockerfile frontend does with heredocs.
func summary(cmd string) string {
	cmd = strings.TrimSpace(cmd)
	first, rest, multi := strings.Cut(cmd, "\n")
	if multi && strings.TrimSpace(rest) != "" {
		return first + " ..."
	}
	return first
}
