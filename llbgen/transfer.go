package llbgen

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/stowage-build/stowage/spec"
)

// Moving volumes between builders goes through builds: an export mounts each
// volume by its ID and copies it into the build's output, an import mounts
// it and seeds it from a source the client sends. No access to buildkitd's
// state dir is needed, so both work on any builder a client reaches.
//
// Each op runs on the filesystem a step that mounts the volume starts from
// (the first such step in file order), as root with that step's shell: it
// needs a POSIX sh with cp there, and for an import what volume setup needs.

// TransferEnv carries a nonce into export and import ops, so each runs
// again rather than being answered from cache.
const TransferEnv = "STOWAGE_TRANSFER"

// site is where a volume's transfer op runs.
type site struct {
	state llb.State
	shell []string
	mount *spec.Mount
}

// recordSite notes ss, the filesystem st starts from, for the volumes st
// mounts that have no site yet.
func (l *lowering) recordSite(st *spec.Step, ss *stepState) {
	if l.sites == nil {
		return
	}
	for _, m := range st.Mounts {
		if m.Type != spec.MountCache {
			continue
		}
		if v := l.volumes[m.Volume]; v.ID != "" && l.sites[v.ID] == nil {
			l.sites[v.ID] = &site{state: ss.state, shell: stepShell(st), mount: m}
		}
	}
}

// transfer lowers every step of s, noting for each volume ID the site of
// the first step that mounts it, and returns the volumes names lists, each
// ID once.
func transfer(ctx context.Context, s *spec.Spec, opt Options, names []string) (*lowering, []*Volume, error) {
	l, err := newLowering(ctx, s, opt)
	if err != nil {
		return nil, nil, err
	}
	l.sites = map[string]*site{}
	// Every step is lowered, so every step's context paths are sent.
	var all []string
	for _, st := range s.Steps {
		all = append(all, st.Name)
	}
	l.paths = contextPaths(s, all)
	for _, st := range s.Steps {
		if _, err := l.step(ctx, st); err != nil {
			return nil, nil, err
		}
	}
	vols, err := l.transferVolumes(names)
	return l, vols, err
}

// transferVolumes checks names against s and returns their volumes, each ID
// once.
func (l *lowering) transferVolumes(names []string) ([]*Volume, error) {
	var out []*Volume
	for _, name := range names {
		v, ok := l.volumes[name]
		if !ok {
			return nil, fmt.Errorf("%s has no cache volume %q; its volumes are %s", l.s.File, name, volumeNames(l.s))
		}
		if v.ID == "" {
			return nil, fmt.Errorf("volume %q has scope: session: it exists only inside one build, so there is nothing to move", name)
		}
		if l.sites[v.ID] == nil {
			return nil, fmt.Errorf("volume %q: no step mounts it, so no step's image can copy it", name)
		}
		if !slices.ContainsFunc(out, func(o *Volume) bool { return o.ID == v.ID }) {
			out = append(out, v)
		}
	}
	return out, nil
}

// Exported is one volume's part of an export: a filesystem holding a
// directory named as the volume, with a copy of its contents (owners,
// modes, symlinks, hard links and empty directories as they are).
type Exported struct {
	Volume *Volume
	State  llb.State
}

// Export returns, for each volume names lists, what `stowage cache export`
// writes out; a client merges them (one directory per volume) or pushes
// each on its own.
func Export(ctx context.Context, s *spec.Spec, opt Options, names []string) ([]Exported, error) {
	l, vols, err := transfer(ctx, s, opt, names)
	if err != nil {
		return nil, err
	}
	const vol, out = "/run/stowage/export/v", "/run/stowage/export/out"
	var parts []Exported
	for _, v := range vols {
		si := l.sites[v.ID]
		script := fmt.Sprintf(`set -e
mkdir -p %[1]s && cp -a %[2]s/. %[1]s/`, shellQuote(out+"/"+v.Name), shellQuote(vol))
		run := si.state.Run(
			llb.Args(append(append([]string(nil), si.shell...), script)),
			llb.User("0"),
			llb.Dir("/"),
			llb.AddEnv(CacheIDsEnv, vol+"="+v.ID),
			// Always run: an export reads the volume as it is now. Never
			// IgnoreCache: BuildKit would hand the op a fresh, empty
			// volume and drop the old one (moby/buildkit#2447).
			llb.AddEnv(TransferEnv, l.resetNonce()),
			l.volumeMountAt(si.mount, v, vol),
			llb.WithCustomName("export cache volume "+v.Name+" ("+v.ID+")"),
			// A failure points at the mount whose step the op runs on.
			l.location(si.mount.Range),
		)
		parts = append(parts, Exported{Volume: v, State: run.AddMount(out, llb.Scratch())})
	}
	return parts, nil
}

// ImportSource is where Import reads each volume: State(v) holds it as
// the directory named as v or, with One, as its root's one directory
// whatever its name (a registry export: one image a volume, made when the
// volume may have had another name).
type ImportSource struct {
	State func(*Volume) llb.State
	One   bool
}

// Import returns the ops that seed each volume names lists from src, with
// the protocol of volume setup: a volume that already holds data is left
// alone unless force, and an interrupted import leaves a staging directory
// the next setup redoes, never a volume that looks complete. The frontend
// or CLI solves the returned states.
func Import(ctx context.Context, s *spec.Spec, opt Options, names []string, src ImportSource, force bool) ([]llb.State, error) {
	l, vols, err := transfer(ctx, s, opt, names)
	if err != nil {
		return nil, err
	}
	// As in the init op: the setup lock's path sorts before the volume's.
	vol, seed := initVolumeDir+"0", initSeedDir+"0"
	var out []llb.State
	for _, v := range vols {
		importArg, importPath := "", "/"+v.Name
		if src.One {
			importArg, importPath = "one:", "/"
		}
		si := l.sites[v.ID]
		script := []string{"set -e", setupFunctions}
		if force {
			script = append(script, fmt.Sprintf(`cd %s && rm -rf -- * .[!.]* ..?* && cd /`, shellQuote(vol)))
		}
		script = append(script,
			fmt.Sprintf(`if stowage_has %[1]s %[2]s; then echo "stowage: cache volume %[3]s already holds data: left as it is (import --force replaces it)"; fi`, shellQuote(vol), seedStaging, v.Name),
			setupCall(v, vol, v.Spec.Owner, []string{importArg + seed + ":the import"}))
		opts := []llb.RunOption{
			llb.Args(append(append([]string(nil), si.shell...), strings.Join(script, "\n"))),
			llb.User("0"),
			llb.Dir("/"),
			llb.AddEnv(CacheIDsEnv, vol+"="+v.ID),
			llb.AddEnv(TransferEnv, l.resetNonce()),
			l.volumeMountAt(si.mount, v, vol),
			llb.AddMount(seed, src.State(v), llb.SourcePath(importPath), llb.Readonly),
			setupLock(v.ID),
			llb.WithCustomName("import cache volume " + v.Name + " (" + v.ID + ")"),
			l.location(si.mount.Range),
		}
		locked := 1
		if v.Sharing == spec.SharingLocked {
			locked++
		}
		opts = append(opts, lockGuard(locked)...)
		out = append(out, si.state.Run(opts...).Root())
	}
	return out, nil
}
