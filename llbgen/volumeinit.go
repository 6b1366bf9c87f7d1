package llbgen

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stowage-build/stowage/spec"
)

// Where the init exec mounts what it works on. They are private to that exec:
// the step's commands never see them, and BuildKit removes the empty mount
// points it created in the rootfs after the exec (RemoveMountStubsRecursive),
// so they do not reach the step's image.
const (
	initVolumeDir = "/run/stowage/v"
	initSeedDir   = "/run/stowage/s"
	initCheckDir  = "/run/stowage/c"
	// seedCheckFile is what a passing seed check writes, always the same
	// bytes, so the init exec's cache key (by content, through a selector)
	// does not change when the check re-runs.
	seedCheckFile = "/seed-ok"
)

// volumeInit is one cache volume a step's init exec sets up.
type volumeInit struct {
	mount *spec.Mount
	vol   *Volume
	// owner is what chown gets: the volume's owner, or the step's non-root
	// user when the volume sets none.
	owner string
}

// initVolumes adds, before a step's first command, one exec that sets up the
// cache volumes the step mounts that need it: a seed (source:), an owner or
// mode, or a non-root step user. It returns the state the step's commands run
// on, which is st's state when nothing needs setting up.
//
// Why an extra exec rather than BuildKit's own ways: a cache mount with a
// non-scratch source (a seed state, or the Mkdir'd scratch Dockerfile uses for
// uid/gid/mode) is keyed by BuildKit as id + ":" + the source's ref ID
// (solver/llbsolver/mounts getRefCacheDir), so one volume would split into one
// cache per seed content or owner (moby/buildkit#1673). Here every cache mount
// stays on scratch, keyed by its ID alone, and the exec fills and chowns the
// volume's root only while it is empty: a volume is seeded when first created,
// never after.
//
// The exec runs in the step's own rootfs as root with the step's shell, so
// owner names resolve against the step's /etc/passwd and /etc/group; it needs
// a POSIX sh with ls, cp, chown and chmod there.
func (l *lowering) initVolumes(ctx context.Context, st *spec.Step, ss *stepState, n *namer) (llb.State, error) {
	if len(st.Run) == 0 {
		return ss.state, nil
	}
	user := ss.image.Config.User
	var inits []volumeInit
	seen := map[string]bool{}
	for _, m := range st.Mounts {
		if m.Type != spec.MountCache {
			continue
		}
		v := l.volumes[m.Cache]
		owner := v.Cache.Owner
		if owner == "" && !isRootUser(user) {
			owner = user
		}
		if m.Seed == nil && owner == "" && v.Cache.Mode == nil {
			continue
		}
		// One volume mounted twice is set up once: mounting a locked volume
		// twice in one exec would wait for itself.
		if v.ID == "" || seen[v.ID] {
			continue
		}
		seen[v.ID] = true
		inits = append(inits, volumeInit{mount: m, vol: v, owner: owner})
	}
	if len(inits) == 0 {
		return ss.state, nil
	}

	shell := st.Shell
	if shell == nil {
		shell = defaultShell
	}
	var (
		script = []string{
			"set -e",
			`for t in ls cp chown chmod; do command -v "$t" >/dev/null || { echo "stowage: setting up cache volumes needs a POSIX sh with ls, cp, chown and chmod in the step's image; $t is missing" >&2; exit 127; }; done`,
		}
		names  []string
		ids    []string
		ranges []spec.Range
		opts   []llb.RunOption
	)
	for i, vi := range inits {
		m, v, c := vi.mount, vi.vol, vi.vol.Cache
		dir := initVolumeDir + strconv.Itoa(i)
		names = append(names, v.Name)
		ids = append(ids, dir+"="+v.ID)
		ranges = append(ranges, m.Range)
		// The same ID and sharing as the step's commands, on scratch.
		opts = append(opts, llb.AddMount(dir, llb.Scratch(), llb.AsPersistentCacheDir(v.ID, sharingMode(v.Sharing))))
		var steps []string
		if m.Seed != nil {
			seedDir := initSeedDir + strconv.Itoa(i)
			src, err := l.sourceState(ctx, m.Seed.From, ss, m.Seed.Range)
			if err != nil {
				return llb.State{}, err
			}
			check := l.checkSeed(st, ss.state, src, m, v, shell, n)
			// The seed path as BuildKit resolves a selector (inside the
			// source's root), which checkSeed has proved is the path's real
			// directory; the selector keeps this exec's cache key to the
			// seed's own contents.
			opts = append(opts,
				llb.AddMount(seedDir, src, llb.SourcePath(m.Seed.Path), llb.Readonly),
				llb.AddMount(initCheckDir+strconv.Itoa(i), check, llb.SourcePath(seedCheckFile), llb.Readonly))
			steps = append(steps, "cp -a "+shellQuote(seedDir+"/.")+" "+shellQuote(dir+"/"))
		}
		if vi.owner != "" {
			steps = append(steps, "chown "+shellQuote(vi.owner)+" "+shellQuote(dir))
		}
		if c.Mode != nil {
			steps = append(steps, fmt.Sprintf("chmod %04o %s", *c.Mode, shellQuote(dir)))
		}
		script = append(script, fmt.Sprintf(`if [ -z "$(ls -A %s)" ]; then %s; fi`, shellQuote(dir), strings.Join(steps, " && ")))
	}

	prs := make([]*pb.Range, len(ranges))
	for i, r := range ranges {
		end := max(r.End.Line, r.Start.Line)
		prs[i] = &pb.Range{
			Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(max(r.Start.Col-1, 0))},
			End:   &pb.Position{Line: int32(end)},
		}
	}
	args := append(append([]string(nil), shell...), strings.Join(script, "\n"))
	opts = append([]llb.RunOption{
		llb.Args(args),
		llb.User("0"),
		llb.Dir("/"),
		// Part of the exec's cache key, which BuildKit computes without
		// cache IDs (see CacheIDsEnv).
		llb.AddEnv(CacheIDsEnv, strings.Join(ids, ",")),
		n.unnumbered("init cache volumes " + strings.Join(names, " ")),
		l.opt.SourceMap.Location(prs),
	}, opts...)
	// Never IgnoreCache: it would hand the exec throwaway cache mounts.
	opts = append(opts, l.noCache(st, n)...)
	// After cache-reset, set the emptied volume up again.
	opts = append(opts, l.resetOptions(st)...)
	// The exec's root output is a layer of the image, even if an empty one:
	// without its own history entry the step's RUN entries would describe
	// the wrong layers.
	addHistory(&ss.image, "init cache volumes "+strings.Join(names, " "), false)
	return ss.state.Run(opts...).Root(), nil
}

// checkSeed returns the output of an exec that fails unless the seed path of
// m resolves, physically (pwd -P), to a directory inside the seed's own
// filesystem: a path that is or passes through a symlink leading out of it
// fails the build, as BuildKit's testCacheMountSourceEscape requires, instead
// of being quietly re-rooted as a selector would be. It mounts the seed's
// whole filesystem, so it re-runs whenever any of it changes; its output is
// one constant file, so the init exec, which reads that file by selector,
// does not.
func (l *lowering) checkSeed(st *spec.Step, rootfs, src llb.State, m *spec.Mount, v *Volume, shell []string, n *namer) llb.State {
	const root, out = "/run/stowage/seed", "/run/stowage/out"
	msg := fmt.Sprintf("stowage: cache volume %s: its source path %s is not a directory inside the source (missing, or a symlink that leads out of it); name the real directory", v.Name, seedPath(m.Seed.Path))
	script := fmt.Sprintf(`set -e
d=$(cd %s 2>/dev/null && pwd -P) && case "$d" in %s|%s/*) ;; *) false;; esac || { echo %s >&2; exit 1; }
: > %s`, shellQuote(path.Join(root, m.Seed.Path)), shellQuote(root), shellQuote(root), shellQuote(msg), shellQuote(out+seedCheckFile))
	r := m.Seed.Range
	opts := []llb.RunOption{
		llb.Args(append(append([]string(nil), shell...), script)),
		llb.User("0"),
		llb.Dir("/"),
		llb.AddMount(root, src, llb.Readonly),
		n.unnumbered("check the seed of cache volume " + v.Name),
		l.opt.SourceMap.Location([]*pb.Range{{
			Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(max(r.Start.Col-1, 0))},
			End:   &pb.Position{Line: int32(max(r.End.Line, r.Start.Line))},
		}}),
	}
	opts = append(opts, l.noCache(st, n)...)
	return rootfs.Run(opts...).AddMount(out, llb.Scratch())
}

// seedPath shows a seed's path as written, "/" for the whole source.
func seedPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// isRootUser reports whether a step's user (as Dockerfile's USER: a name or
// uid, optionally with :group) runs as uid 0.
func isRootUser(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u == "" || u == "0" || u == "root"
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// unnumbered names a vertex of the step outside its numbered ops, "[STEP]
// what", so the step's other ops keep their numbers.
func (n *namer) unnumbered(what string) llb.ConstraintsOpt {
	prefix := "["
	if n.platform != "" {
		prefix += n.platform + " "
	}
	return llb.WithCustomName(prefix + n.step + "] " + what)
}
