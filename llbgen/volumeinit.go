package llbgen

import (
	"context"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stowage-build/stowage/cacheid"
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
	// initRestoreDir holds the restore points a volume with restore: keys
	// records itself in.
	initRestoreDir = "/run/stowage/r"
	// seedCheckFile is what a passing seed check writes, always the same
	// bytes, so the init exec's cache key (by content, through a selector)
	// does not change when the check re-runs.
	seedCheckFile = "/seed-ok"
)

// volumeInit is one cache volume a step sets up.
type volumeInit struct {
	mount *spec.Mount
	vol   *Volume
	// owner is what chown gets: the volume's owner, or the step's non-root
	// user when the volume sets none.
	owner string
}

// setupOf returns what mount m of a step running as user needs set up, or
// nil when a fresh volume is right as it is.
func (l *lowering) setupOf(m *spec.Mount, user string) *volumeInit {
	if m.Type != spec.MountCache {
		return nil
	}
	v := l.volumes[m.Volume]
	owner := v.Spec.Owner
	if owner == "" && !isRootUser(user) {
		owner = user
	}
	_, imported := l.opt.Imported[v.ID]
	if v.ID == "" || (m.Seed == nil && !imported && len(v.Restore) == 0 && owner == "" && v.Spec.Mode == nil) {
		return nil
	}
	return &volumeInit{mount: m, vol: v, owner: owner}
}

// initVolumes adds, before a step's first command, one exec that sets up the
// shared and locked cache volumes the step mounts that need it: a seed
// (source:), an owner or mode, or a non-root step user. It returns the state
// the step's commands run on, which is st's state when nothing needs setting
// up. Private volumes are set up by BuildKit itself (privateSource).
//
// Why an extra exec rather than BuildKit's own ways: a cache mount with a
// non-scratch source (a seed state, or the Mkdir'd scratch Dockerfile uses for
// uid/gid/mode) is keyed by BuildKit as id + ":" + the source's ref ID
// (solver/llbsolver/mounts getRefCacheDir), so one volume would split into one
// cache per seed content or owner (moby/buildkit#1673). Here every shared or
// locked mount stays on scratch, keyed by its ID alone, and the exec seeds
// the volume only while it is empty: a volume is seeded when first created,
// never after.
//
// Seeding is safe to run twice at once and to be killed halfway: the exec
// holds a locked cache mount of its own per volume (setupLockID), so two
// builds seed one volume one after the other, and it copies the seed into
// a staging directory inside the volume, marks it complete, and only then
// moves its entries into place. A later exec that finds an incomplete
// staging directory copies again; one that finds a complete one finishes
// the moves. No step runs on a partly seeded volume: its own init exec
// finishes first.
//
// The owner and mode are applied each time the exec runs, not only to a
// fresh volume: when the step's user now resolves to another uid (a new base
// image, an edited user:), the root and, for a volume that already held
// data, its contents are given to the new owner, with a note in the log.
//
// The exec runs in the step's own rootfs as root with the step's shell, so
// owner names resolve against the step's /etc/passwd and /etc/group; it needs
// a POSIX sh with cp, mv, rm, mkdir, chown, chmod and stat there.
func (l *lowering) initVolumes(ctx context.Context, st *spec.Step, ss *stepState, n *namer) (llb.State, error) {
	if len(st.Run) == 0 {
		return ss.state, nil
	}
	var inits []*volumeInit
	seen := map[string]bool{}
	for _, m := range st.Mounts {
		vi := l.setupOf(m, ss.image.Config.User)
		// One volume mounted twice is set up once: mounting a locked volume
		// twice in one exec would wait for itself.
		if vi == nil || vi.vol.Sharing == spec.SharingPrivate || l.throwaway(vi.vol) || seen[vi.vol.ID] {
			continue
		}
		seen[vi.vol.ID] = true
		inits = append(inits, vi)
	}
	if len(inits) == 0 {
		return ss.state, nil
	}

	shell := stepShell(st)
	var (
		script = []string{
			"set -e",
			`for t in cp mv rm mkdir chown chmod stat; do command -v "$t" >/dev/null || { echo "stowage: setting up cache volumes needs a POSIX sh with cp, mv, rm, mkdir, chown, chmod and stat in the step's image; $t is missing" >&2; exit 127; }; done`,
			setupFunctions,
		}
		names  []string
		ids    []string
		ranges []spec.Range
		opts   []llb.RunOption
		locked int
	)
	for i, vi := range inits {
		m, v := vi.mount, vi.vol
		dir := initVolumeDir + strconv.Itoa(i)
		names = append(names, v.Name)
		ids = append(ids, dir+"="+v.ID)
		ranges = append(ranges, m.Range)
		// The same ID and sharing as the step's commands, on scratch.
		opts = append(opts, llb.AddMount(dir, llb.Scratch(), llb.AsPersistentCacheDir(v.ID, sharingMode(v.Sharing))))
		if v.Sharing == spec.SharingLocked {
			locked++
		}
		seeds, err := l.seedsOf(ctx, st, ss, vi, n)
		if err != nil {
			return llb.State{}, err
		}
		seedOpts, seedArgs, seedIDs, seedLocked := seedMounts(seeds,
			func(k int) string { return fmt.Sprintf("%s%d_%d", initSeedDir, i, k) },
			func(k int) string { return fmt.Sprintf("%s%d_%d", initCheckDir, i, k) })
		opts, ids, locked = append(opts, seedOpts...), append(ids, seedIDs...), locked+seedLocked
		if len(seeds) > 0 {
			opts = append(opts, setupLock(v.ID))
			locked++
		}
		script = append(script, setupCall(v, dir, vi.owner, seedArgs))
		// Record this volume as the one set up last under each restore key.
		for j, rid := range v.Restore {
			rdir := fmt.Sprintf("%s%d_%d", initRestoreDir, i, j)
			opts = append(opts, llb.AddMount(rdir, llb.Scratch(), llb.AsPersistentCacheDir(RestorePointID(rid), llb.CacheMountShared)))
			ids = append(ids, rdir+"="+RestorePointID(rid))
			script = append(script, fmt.Sprintf(`printf '%%s %%s\n' %s %s > %s/latest.$$ && mv -f %s/latest.$$ %s/latest`, shellQuote(v.ID), shellQuote(string(v.Sharing)), rdir, rdir, rdir))
		}
	}

	prs := make([]*pb.Range, len(ranges))
	for i, r := range ranges {
		prs[i] = PBRange(r)
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
	opts = append(opts, lockGuard(locked)...)
	// The exec's root output is a layer of the image, even if an empty one:
	// without its own history entry the step's RUN entries would describe
	// the wrong layers.
	addHistory(&ss.image, "init cache volumes "+strings.Join(names, " "), false)
	return ss.state.Run(opts...).Root(), nil
}

// initLockDir holds the setup locks of the execs that seed volumes.
const initLockDir = "/run/stowage/l"

// setupLockID names the locked cache mount that serialises the seeding of
// volume id. It holds nothing.
func setupLockID(id string) string { return id + ".setup-lock" }

// setupLock mounts volume id's setup lock under initLockDir, whose paths
// sort before every volume's: BuildKit takes locks in mount path order, so
// every exec takes setup locks first, and in ID order.
func setupLock(id string) llb.RunOption {
	return llb.AddMount(initLockDir+"/"+id, llb.Scratch(), llb.AsPersistentCacheDir(setupLockID(id), llb.CacheMountLocked))
}

// setupCall is the line of setupFunctions' shell that sets volume v up at
// dir, owned by owner, with the volume's mode, and, while it is fresh,
// seeded from the first of seeds ("DIR:WHAT") that holds anything.
func setupCall(v *Volume, dir, owner string, seeds []string) string {
	mode := "''"
	if v.Spec.Mode != nil {
		mode = fmt.Sprintf("%04o", *v.Spec.Mode)
	}
	line := fmt.Sprintf("stowage_setup %s %s %s %s", shellQuote(v.Name), shellQuote(dir), shellQuote(owner), mode)
	for _, sd := range seeds {
		line += " " + shellQuote(sd)
	}
	return line
}

// seedMounts mounts seeds for the setup shell, seed k at dir(k) and its
// check at check(k): it returns the mounts, setupCall's seed arguments, the
// CacheIDsEnv entries of earlier volumes, and how many mounts are locked.
func seedMounts(seeds []*seed, dir, check func(k int) string) (opts []llb.RunOption, args, ids []string, locked int) {
	for k, sd := range seeds {
		d := dir(k)
		switch {
		case sd.volume != "":
			// An earlier volume, read as it is while others may use it:
			// restore: copies it, and a file that goes away meanwhile is no
			// failure ("live").
			args = append(args, "live:"+d+":"+sd.label)
			opts = append(opts, llb.AddMount(d, llb.Scratch(), llb.AsPersistentCacheDir(sd.volume, sharingMode(sd.sharing)), llb.Readonly))
			ids = append(ids, d+"="+sd.volume)
			if sd.sharing == spec.SharingLocked {
				locked++
			}
			continue
		case sd.only:
			args = append(args, "one:"+d+":"+sd.label)
		default:
			args = append(args, d+":"+sd.label)
		}
		// The seed path as BuildKit resolves a selector (inside the
		// source's root), which the check has proved is the path's real
		// directory; the selector keeps the exec's cache key to the seed's
		// own contents.
		opts = append(opts, llb.AddMount(d, sd.state, llb.SourcePath(sd.path), llb.Readonly))
		if sd.check != nil {
			opts = append(opts, llb.AddMount(check(k), *sd.check, llb.SourcePath(seedCheckFile), llb.Readonly))
		}
	}
	return opts, args, ids, locked
}

// seed is one thing a fresh volume may be filled from: directory path of
// state, or an earlier cache volume by ID; check is the op that proves a
// declared source's path a real directory inside it (nil when there is
// nothing to check); label says which, in the build's log.
type seed struct {
	state  llb.State
	path   string
	volume string
	// sharing is how the earlier volume's own builds mount it.
	sharing spec.Sharing
	// only marks an export (cache-import): its root holds the volume's one
	// directory, named as the volume was when it was exported.
	only  bool
	check *llb.State
	label string
}

// seedsOf returns what vi's volume may be filled from, nearest first; a
// fresh volume takes the first that holds anything. An export of the
// volume's own key (cache-import) is this volume as it was and stands
// alone. Otherwise: the volume most recently set up under one of its
// restore keys on this builder, the export of a restore key in the
// cache-import repository, then the declared source:.
func (l *lowering) seedsOf(ctx context.Context, st *spec.Step, ss *stepState, vi *volumeInit, n *namer) ([]*seed, error) {
	m, v := vi.mount, vi.vol
	if imp, ok := l.opt.Imported[v.ID]; ok {
		return []*seed{{state: imp, path: "/", only: true, label: "its export (cache-import)"}}, nil
	}
	var out []*seed
	if len(v.Restore) > 0 {
		from, err := l.restoreFrom(ctx, st, ss, v, n)
		if err != nil {
			return nil, err
		}
		if from.id != "" {
			out = append(out, &seed{volume: from.id, sharing: from.sharing, label: "volume " + from.id + " (restore:)"})
		}
		if imp, ok := l.opt.ImportedRestore[v.ID]; ok {
			out = append(out, &seed{state: imp, path: "/", only: true, label: "the export of a restore key (restore:, cache-import)"})
		}
	}
	if m.Seed != nil {
		src, err := l.sourceState(ctx, m.Seed.From, ss, m.Seed.Range)
		if err != nil {
			return nil, err
		}
		check := l.checkSeed(st, ss.state, src, m, v, stepShell(st), n)
		out = append(out, &seed{state: src, path: m.Seed.Path, check: &check, label: "source:"})
	}
	return out, nil
}

// RestoreProbeFile is the file of a restore probe's output that holds the
// ID of the earlier volume to start from, or nothing.
const RestoreProbeFile = "/restore"

// restoreFrom asks the builder, through opt.ReadProbe, which volume was set
// up last under v's restore keys, nearest key first, other than v itself;
// "" when none was or there is no way to ask.
//
// The probe op reads the restore points and is keyed by v's ID, not run
// every build: BuildKit answers it from cache until the key changes, which
// is exactly when the answer matters (a volume is seeded only while
// fresh), so a warm build costs nothing and its init op stays cached.
func (l *lowering) restoreFrom(ctx context.Context, st *spec.Step, ss *stepState, v *Volume, n *namer) (restoredVolume, error) {
	if l.opt.ReadProbe == nil {
		return restoredVolume{}, nil
	}
	if r, ok := l.restored[v.ID]; ok {
		return r, nil
	}
	const out = "/run/stowage/out"
	script := []string{"set -e"}
	// Each restore point's "latest" holds "ID SHARING" of the volume set up
	// last under it.
	opts := []llb.RunOption{llb.User("0"), llb.Dir("/")}
	ids := []string{"volume=" + v.ID}
	for j, rid := range v.Restore {
		dir := fmt.Sprintf("%s%d", initRestoreDir, j)
		opts = append(opts, llb.AddMount(dir, llb.Scratch(), llb.AsPersistentCacheDir(RestorePointID(rid), llb.CacheMountShared), llb.Readonly))
		ids = append(ids, dir+"="+RestorePointID(rid))
		script = append(script, fmt.Sprintf(`if [ -s %[1]s/latest ]; then read -r id sharing < %[1]s/latest || :; if [ -n "$id" ] && [ "$id" != %[2]s ]; then printf '%%s %%s' "$id" "$sharing" > %[3]s; exit 0; fi; fi`, dir, shellQuote(v.ID), out+RestoreProbeFile))
	}
	script = append(script, ": > "+out+RestoreProbeFile)
	opts = append(opts,
		llb.Args(append(append([]string(nil), stepShell(st)...), strings.Join(script, "\n"))),
		llb.AddEnv(CacheIDsEnv, strings.Join(ids, ",")),
		n.unnumbered("find the volume cache volume "+v.Name+" restores from"),
		l.location(v.Spec.FieldRange("restore")),
	)
	// On the chain's root (its image), not the step's filesystem: the
	// answer does not depend on the steps before, so lowering does not wait
	// for them to build, and a source edit does not ask again. A chain
	// from scratch has only the step's filesystem to run a shell in.
	root := ss.root
	if root.Output() == nil {
		root = ss.state
	}
	probe := root.Run(opts...).AddMount(out, llb.Scratch())
	b, err := l.opt.ReadProbe(ctx, probe)
	if err != nil {
		return restoredVolume{}, err
	}
	var r restoredVolume
	id, sharing, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if cacheid.Valid(id) {
		r.id = id
		// The earlier volume is mounted as its own builds mount it: another
		// sharing would make BuildKit hand out a new, empty record of it.
		r.sharing = spec.SharingShared
		if sharing == string(spec.SharingLocked) {
			r.sharing = spec.SharingLocked
		}
	}
	// Otherwise an empty or foreign restore point: start as without
	// restore:.
	l.restored[v.ID] = r
	return r, nil
}

// restoredVolume is the earlier volume a fresh one starts from, with the
// sharing its own builds mount it with; a zero id means none.
type restoredVolume struct {
	id      string
	sharing spec.Sharing
}

// seedStaging is the directory inside a volume that a seed is copied into
// before its entries are moved into place; seedDone, inside it, marks the
// copy complete.
const (
	seedStaging = ".stowage-seed"
	seedDone    = "complete"
)

// setupFunctions is the shell the init exec sets each volume up with
// (setupCall writes the calls).
var setupFunctions = strings.Join([]string{
	// stowage_has DIR [SKIP]: DIR holds an entry other than SKIP.
	`stowage_has() { for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do if { [ -e "$f" ] || [ -L "$f" ]; } && [ "$f" != "$1/$2" ]; then return 0; fi; done; return 1; }`,
	// stowage_moved STAGING DIR: move a complete copy's entries into DIR,
	// 256 to an mv: one process per entry made a seed of 65,536 top-level
	// files cost a minute.
	`stowage_moved() {
  ms=$1 md=$2; set --
  for f in "$ms"/data/* "$ms"/data/.[!.]* "$ms"/data/..?*; do
    if [ -e "$f" ] || [ -L "$f" ]; then set -- "$@" "$f"; if [ $# -ge 256 ]; then mv -f "$@" "$md"/; set --; fi; fi
  done
  if [ $# -gt 0 ]; then mv -f "$@" "$md"/; fi
  rm -rf "$ms"
}`,
	// stowage_one DIR: DIR's one directory, whatever its name (an export
	// made when the volume had another name).
	`stowage_one() { o1=; for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do if [ -d "$f" ] && [ ! -L "$f" ]; then [ -z "$o1" ] || return 1; o1=$f; fi; done; [ -n "$o1" ] && printf '%s\n' "$o1"; }`,
	// stowage_copy_live SRC DEST NAME WHAT: copy a volume others may be
	// writing; files that vanish meanwhile are no failure.
	`stowage_copy_live() { cp -a "$1/." "$2/" 2>/dev/null || echo "stowage: cache volume $3: files of $4 changed while they were copied; it starts from what was copied" >&2; }`,
	// stowage_setup NAME DIR OWNER MODE [[live:|one:]SEED:WHAT…]: seed a fresh DIR
	// from the first SEED that holds anything, then apply OWNER and MODE. A
	// one: seed is an export: its one directory is the volume. A live seed
	// is a volume others may be writing (restore:): files that
	// vanish while it is copied are no failure, and when its owner is not
	// OWNER the copy is given to OWNER, so the step's user can write what it
	// finds.
	`stowage_setup() {
  n=$1 d=$2 o=$3 m=$4; shift 4
  s="$d/` + seedStaging + `" fresh= restored=
  if [ -e "$s/` + seedDone + `" ]; then
    stowage_moved "$s" "$d"; fresh=1
  elif ! stowage_has "$d" ` + seedStaging + `; then
    rm -rf "$s"; fresh=1
    for c in "$@"; do
      live= one=
      case $c in live:*) live=1; c=${c#live:};; one:*) one=1; c=${c#one:};; esac
      src=${c%%:*}
      if [ -n "$one" ]; then src=$(stowage_one "$src") || continue; fi
      if stowage_has "$src" ` + seedStaging + `; then
        mkdir -p "$s/data"
        if [ -n "$live" ]; then
          stowage_copy_live "$src" "$s/data" "$n" "${c#*:}"
          restored=$src
        else
          cp -a "$src/." "$s/data/"
        fi
        rm -rf "$s/data/` + seedStaging + `"; : > "$s/` + seedDone + `"
        stowage_moved "$s" "$d"; echo "stowage: cache volume $n starts from ${c#*:}"; break
      fi
    done
  fi
  if [ -n "$o" ]; then
    was=$(stat -c %u:%g "$d"); chown "$o" "$d"; now=$(stat -c %u:%g "$d")
    if [ -n "$restored" ] && [ "$(stat -c %u:%g "$restored")" != "$now" ]; then
      chown -R "$o" "$d"
    elif [ "$was" != "$now" ] && [ -z "$fresh" ] && stowage_has "$d"; then
      echo "stowage: cache volume $n was owned by $was and its owner is now $now (the step's user changed): giving its contents to $now" >&2
      chown -R "$o" "$d"
    fi
  fi
  if [ -n "$m" ]; then chmod "$m" "$d"; fi
}`,
}, "\n")

// privateSource returns what BuildKit creates each new instance of a private
// volume from, for a mount that needs setting up: a directory owned and
// moded as vi says, holding the seed. A private volume has one instance per
// concurrent user, made on demand, so no exec before the step could set them
// all up; BuildKit copies this source into each. Every op here is keyed by
// content (selectors), so the source, and with it the instances' key
// (ID:source ref), stays the same while the seed's contents and the owner
// do (README, Setting up a volume).
func (l *lowering) privateSource(ctx context.Context, st *spec.Step, ss *stepState, vi *volumeInit, n *namer) (llb.State, error) {
	const dir = "/run/stowage/private"
	m, v := vi.mount, vi.vol
	mode := os.FileMode(0o755)
	if v.Spec.Mode != nil {
		mode = os.FileMode(*v.Spec.Mode)
	}
	mk := []llb.MkdirOption{llb.WithParents(true)}
	if vi.owner != "" {
		// Names resolve against the step's own /etc/passwd and /etc/group.
		mk = append(mk, llb.WithUser(vi.owner))
	}
	name := n.unnumbered("set up private cache volume " + v.Name)
	owned := ss.state.File(llb.Rm(dir, llb.WithAllowNotFound(true)).Mkdir(dir, mode, mk...), name, l.location(m.Range))
	src := llb.Scratch().File(llb.Copy(owned, dir, privateRoot, &llb.CopyInfo{CreateDestPath: true}), name, l.location(m.Range))
	seeds, err := l.seedsOf(ctx, st, ss, vi, n)
	if err != nil || len(seeds) == 0 {
		return src, err
	}
	// Package spec refuses restore: on private volumes, so the one seed is
	// an export or the declared source.
	sd := seeds[0]
	contents := llb.Copy(sd.state, path.Join("/", sd.path)+"/", privateRoot+"/", &llb.CopyInfo{CopyDirContentsOnly: true})
	if sd.check != nil {
		contents = llb.Copy(*sd.check, seedCheckFile, seedCheckFile).Copy(sd.state, path.Join("/", sd.path)+"/", privateRoot+"/", &llb.CopyInfo{CopyDirContentsOnly: true})
	}
	src = src.File(contents, name, l.location(m.Range))
	if vi.owner != "" || v.Spec.Mode != nil {
		// Copying the seed's contents may take its root's metadata.
		src = src.File(llb.Copy(owned, dir, privateRoot, &llb.CopyInfo{CopyDirContentsOnly: true}), name, l.location(m.Range))
	}
	return src, nil
}

// privateRoot is where privateSource puts a private volume's root.
const privateRoot = "/volume"

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
	msg := fmt.Sprintf("stowage: cache volume %s: its source path %s is not a directory inside the source (missing, or a symlink that leads out of it); name the real directory", v.Name, m.Seed.ShownPath())
	script := fmt.Sprintf(`set -e
d=$(cd %s 2>/dev/null && pwd -P) && case "$d" in %s|%s/*) ;; *) false;; esac || { echo %s >&2; exit 1; }
: > %s`, shellQuote(path.Join(root, m.Seed.Path)), shellQuote(root), shellQuote(root), shellQuote(msg), shellQuote(out+seedCheckFile))
	opts := []llb.RunOption{
		llb.Args(append(append([]string(nil), shell...), script)),
		llb.User("0"),
		llb.Dir("/"),
		llb.AddMount(root, src, llb.Readonly),
		n.unnumbered("check the seed of cache volume " + v.Name),
		l.opt.SourceMap.Location([]*pb.Range{PBRange(m.Seed.Range)}),
	}
	opts = append(opts, l.noCache(st, n)...)
	return rootfs.Run(opts...).AddMount(out, llb.Scratch())
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
