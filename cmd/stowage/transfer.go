package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// importLocal is the local source an import sends the volumes' directories
// through.
const importLocal = "stowage-import"

// transferTarget is a parsed --to or --from: type=local with dest/src DIR,
// type=tar with dest/src FILE, or type=registry with ref=REPO (one image
// per volume, tagged with its cache ID) and registry.insecure=true for a
// plain-HTTP registry.
type transferTarget struct {
	typ, path string
	insecure  bool
}

func parseTransferTarget(flag, v, key string) (transferTarget, error) {
	var t transferTarget
	want := fmt.Sprintf("write type=local,%[1]s=DIR, type=tar,%[1]s=FILE or type=registry,ref=REPOSITORY", key)
	for kv := range strings.SplitSeq(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch {
		case k == "type":
			t.typ = val
		case k == key || k == "ref":
			t.path = val
		case k == "registry.insecure":
			t.insecure = val == "true"
		default:
			return t, usageError{fmt.Sprintf("%s %q: unknown key %q; %s", flag, v, k, want)}
		}
	}
	if !slices.Contains([]string{"local", "tar", "registry"}, t.typ) || t.path == "" {
		return t, usageError{fmt.Sprintf("%s %q: %s", flag, v, want)}
	}
	if t.typ == "registry" {
		if strings.Contains(path.Base(t.path), ":") || strings.Contains(t.path, "@") {
			return t, usageError{fmt.Sprintf("%s %q: name a repository without tag or digest; each volume is pushed as REPOSITORY:ID", flag, v)}
		}
	}
	return t, nil
}

// transferBuild runs f as a build on the builder, with the spec's context
// sent as the steps the transfer ops start from may need it; extra local
// mounts and exports as given. Lines the ops print that start "stowage:"
// go to out.
func (cf *cacheFlags) transferBuild(ctx context.Context, out io.Writer, locals map[string]fsutil.FS, exports []client.ExportEntry, f gateway.BuildFunc) error {
	cl, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctxFS, err := fsutil.NewFS(cf.contextDir())
	if err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	if locals == nil {
		locals = map[string]fsutil.FS{}
	}
	locals["context"] = ctxFS
	opt := client.SolveOpt{
		LocalMounts: locals,
		Exports:     exports,
		Session: []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(config.LoadDefaultConfigFile(cf.stderr)),
		})},
	}
	ch := make(chan *client.SolveStatus)
	var eg errgroup.Group
	eg.Go(func() error {
		for st := range ch {
			for _, l := range st.Logs {
				for line := range strings.SplitSeq(strings.TrimSpace(string(l.Data)), "\n") {
					if strings.HasPrefix(line, "stowage:") {
						fmt.Fprintln(out, line)
					}
				}
			}
		}
		return nil
	})
	_, err = cl.Build(ctx, opt, "stowage", f, ch)
	_ = eg.Wait()
	return err
}

// lowerOptions are what a transfer lowers the spec with, inside a build.
func (cf *cacheFlags) lowerOptions(gc gateway.Client) (llbgen.Options, error) {
	vo, err := cf.volumeOptions()
	return llbgen.Options{VolumeOptions: vo, MetaResolver: gc}, err
}

func cacheExport(ctx context.Context, cf *cacheFlags, out io.Writer) error {
	if len(cf.names) == 0 {
		return usageError{"name the volumes to export"}
	}
	to, err := parseTransferTarget("--to", cf.to, "dest")
	if err != nil {
		return err
	}
	s, _, err := cf.load()
	if err != nil {
		return err
	}
	// Lowering needs the builder (image configs), so it runs in a build;
	// a registry export then pushes each volume from a build of its own.
	var parts []llbgen.Exported
	solve := func(exports []client.ExportEntry, pick func([]llbgen.Exported) llb.State) error {
		return cf.transferBuild(ctx, out, nil, exports, func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
			lo, err := cf.lowerOptions(gc)
			if err != nil {
				return nil, err
			}
			if parts, err = llbgen.Export(ctx, s, lo, cf.names); err != nil {
				return nil, err
			}
			def, err := pick(parts).Marshal(ctx)
			if err != nil {
				return nil, err
			}
			return gc.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
		})
	}
	merged := func(ps []llbgen.Exported) llb.State {
		states := make([]llb.State, len(ps))
		for i, p := range ps {
			states[i] = p.State
		}
		if len(states) == 1 {
			return states[0]
		}
		return llb.Merge(states, llb.WithCustomName("export cache volumes "+strings.Join(cf.names, " ")))
	}
	switch to.typ {
	case "local":
		err = solve([]client.ExportEntry{{Type: client.ExporterLocal, OutputDir: to.path}}, merged)
	case "tar":
		err = solve([]client.ExportEntry{{Type: client.ExporterTar, Output: func(map[string]string) (io.WriteCloser, error) {
			return os.Create(to.path)
		}}}, merged)
	case "registry":
		vols, err := cf.volumes(s)
		if err != nil {
			return err
		}
		for i, name := range cf.names {
			if slices.Index(cf.names, name) < i {
				continue
			}
			v := vols[name].ID
			// Also the latest export under each restore key, for a build
			// whose own key is new (restore:, cache-import).
			refs := []string{llbgen.VolumeImage(to.path, v)}
			for _, rid := range vols[name].Restore {
				refs = append(refs, llbgen.VolumeImage(to.path, llbgen.RestorePointID(rid)))
			}
			attrs := map[string]string{"name": strings.Join(refs, ","), "push": "true"}
			if to.insecure {
				attrs["registry.insecure"] = "true"
			}
			if err := solve([]client.ExportEntry{{Type: client.ExporterImage, Attrs: attrs}}, func(ps []llbgen.Exported) llb.State {
				// By ID: Export lists a key once, under its first name.
				for _, p := range ps {
					if p.Volume.ID == v {
						return p.State
					}
				}
				return merged(ps)
			}); err != nil {
				return err
			}
			fmt.Fprintf(out, "pushed %s as %s\n", name, strings.Join(refs, ", "))
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "exported %s to %s\n", strings.Join(cf.names, ", "), cf.to)
	return nil
}

func cacheImport(ctx context.Context, cf *cacheFlags, out io.Writer) error {
	if len(cf.names) == 0 {
		return usageError{"name the volumes to import"}
	}
	from, err := parseTransferTarget("--from", cf.from, "src")
	if err != nil {
		return err
	}
	s, _, err := cf.load()
	if err != nil {
		return err
	}
	// A directory is sent as it is (BuildKit's local sources own every file
	// by root); a tar is sent whole and unpacked in the builder, as ADD
	// unpacks one, so its owners survive.
	dir, tarName := from.path, ""
	if from.typ == "registry" {
		dir = ""
	} else if from.typ == "tar" {
		dir, tarName = filepath.Dir(from.path), filepath.Base(from.path)
		if _, err := os.Stat(from.path); err != nil {
			return err
		}
	} else {
		for _, name := range cf.names {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || !fi.IsDir() {
				return fmt.Errorf("%s holds no directory %s: export the volume with `stowage cache export %s --to …` first", cf.from, name, name)
			}
		}
	}
	locals := map[string]fsutil.FS{}
	if dir != "" {
		src, err := fsutil.NewFS(dir)
		if err != nil {
			return err
		}
		locals[importLocal] = src
	}
	err = cf.transferBuild(ctx, out, locals, nil, func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		opts := []llb.LocalOption{llb.SharedKeyHint(importLocal), llb.WithCustomName("[internal] load the volumes to import")}
		if tarName != "" {
			opts = append(opts, llb.IncludePatterns([]string{tarName}))
		}
		local := llb.Local(importLocal, opts...)
		if tarName != "" {
			local = llb.Scratch().File(llb.Copy(local, tarName, "/", &llb.CopyInfo{AttemptUnpack: true}), llb.WithCustomName("[internal] unpack "+tarName))
		}
		source := llbgen.ImportSource{State: func(*llbgen.Volume) llb.State { return local }}
		if from.typ == "registry" {
			// By key: the image of each volume's ID, which a missing export
			// should say plainly, before any op runs.
			vols, err := cf.volumes(s)
			if err != nil {
				return nil, err
			}
			refs := map[string]string{}
			for _, name := range cf.names {
				v := vols[name]
				ref, err := exportOf(ctx, gc, from.path, v)
				if err != nil {
					return nil, fmt.Errorf("volume %s: no export of its key (ID %s) in %s: export it first with `stowage cache export %s --to %s` (%v)", name, v.ID, from.path, name, cf.from, err)
				}
				if ref != llbgen.VolumeImage(from.path, v.ID) {
					fmt.Fprintf(out, "volume %s: no export of its own key; importing %s, the latest under its restore keys\n", name, ref)
				}
				refs[v.ID] = ref
			}
			source = llbgen.ImportSource{One: true, State: func(v *llbgen.Volume) llb.State {
				return llb.Image(refs[v.ID], llb.WithCustomName("[internal] pull cache volume "+v.Name))
			}}
		}
		lo, err := cf.lowerOptions(gc)
		if err != nil {
			return nil, err
		}
		sts, err := llbgen.Import(ctx, s, lo, cf.names, source, cf.force)
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			def, err := st.Marshal(ctx)
			if err != nil {
				return nil, err
			}
			if _, err := gc.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true}); err != nil {
				return nil, err
			}
		}
		return gateway.NewResult(), nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "imported %s from %s\n", strings.Join(cf.names, ", "), cf.from)
	return nil
}

// exportOf finds the export of v in repo: its own key's, else the latest
// under its nearest restore key; the error is the own key's lookup.
func exportOf(ctx context.Context, gc gateway.Client, repo string, v *llbgen.Volume) (string, error) {
	ref := llbgen.VolumeImage(repo, v.ID)
	_, _, _, err := gc.ResolveImageConfig(ctx, ref, sourceresolver.Opt{LogName: "[internal] look up cache volume " + v.Name})
	if err == nil {
		return ref, nil
	}
	for _, rid := range v.Restore {
		r := llbgen.VolumeImage(repo, llbgen.RestorePointID(rid))
		if _, _, _, rerr := gc.ResolveImageConfig(ctx, r, sourceresolver.Opt{LogName: "[internal] look up cache volume " + v.Name + " (restore:)"}); rerr == nil {
			return r, nil
		}
	}
	return "", err
}

// volumes are the volumes names lists, by name, with their IDs for this
// command's options: computed once, with their {hash:} tokens.
func (cf *cacheFlags) volumes(s *spec.Spec) (map[string]*llbgen.Volume, error) {
	vo, err := cf.volumeOptions()
	if err != nil {
		return nil, err
	}
	vols, err := llbgen.Volumes(context.Background(), s, vo)
	if err != nil {
		return nil, err
	}
	byName := map[string]*llbgen.Volume{}
	for _, v := range vols {
		byName[v.Name] = v
	}
	out := map[string]*llbgen.Volume{}
	for _, name := range cf.names {
		switch v := byName[name]; {
		case v == nil:
			return nil, fmt.Errorf("%s has no cache volume %q%s; its volumes are %s", s.File, name, suggestName(name, s), cacheNames(s))
		case v.ID == "":
			return nil, fmt.Errorf("volume %q has scope: session: it exists only inside one build, so there is nothing to move", name)
		default:
			out[name] = v
		}
	}
	return out, nil
}
