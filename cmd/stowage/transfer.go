package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/stowage-build/stowage/llbgen"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// importLocal is the local source an import sends the volumes' directories
// through.
const importLocal = "stowage-import"

// transferTarget is a parsed --to or --from: type=local with dest/src DIR,
// or type=tar with dest/src FILE.
type transferTarget struct {
	typ, path string
}

func parseTransferTarget(flag, v, key string) (transferTarget, error) {
	var t transferTarget
	for kv := range strings.SplitSeq(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "type":
			t.typ = val
		case key:
			t.path = val
		default:
			return t, usageError{fmt.Sprintf("%s %q: unknown key %q; write type=local,%s=DIR or type=tar,%s=FILE", flag, v, k, key, key)}
		}
	}
	if (t.typ != "local" && t.typ != "tar") || t.path == "" {
		return t, usageError{fmt.Sprintf("%s %q: write type=local,%s=DIR or type=tar,%s=FILE (type=registry is not supported yet)", flag, v, key, key)}
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
func (cf *cacheFlags) lowerOptions(gc gateway.Client) llbgen.Options {
	vo := cf.volumeOptions()
	return llbgen.Options{VolumeOptions: vo, MetaResolver: gc}
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
	export := client.ExportEntry{Type: client.ExporterLocal, OutputDir: to.path}
	if to.typ == "tar" {
		export = client.ExportEntry{Type: client.ExporterTar, Output: func(map[string]string) (io.WriteCloser, error) {
			return os.Create(to.path)
		}}
	}
	err = cf.transferBuild(ctx, out, nil, []client.ExportEntry{export}, func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		st, err := llbgen.Export(ctx, s, cf.lowerOptions(gc), cf.names)
		if err != nil {
			return nil, err
		}
		def, err := st.Marshal(ctx)
		if err != nil {
			return nil, err
		}
		return gc.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	})
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
	if from.typ == "tar" {
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
	src, err := fsutil.NewFS(dir)
	if err != nil {
		return err
	}
	err = cf.transferBuild(ctx, out, map[string]fsutil.FS{importLocal: src}, nil, func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		opts := []llb.LocalOption{llb.SharedKeyHint(importLocal), llb.WithCustomName("[internal] load the volumes to import")}
		if tarName != "" {
			opts = append(opts, llb.IncludePatterns([]string{tarName}))
		}
		local := llb.Local(importLocal, opts...)
		if tarName != "" {
			local = llb.Scratch().File(llb.Copy(local, tarName, "/", &llb.CopyInfo{AttemptUnpack: true}), llb.WithCustomName("[internal] unpack "+tarName))
		}
		sts, err := llbgen.Import(ctx, s, cf.lowerOptions(gc), cf.names, local, cf.force)
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
