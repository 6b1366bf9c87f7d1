package main

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/moby/buildkit/frontend/dockerui"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/entitlements"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/spf13/pflag"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	"github.com/stowage-build/stowage/frontend"
	"github.com/stowage-build/stowage/spec"
)

// defaultAddr is where buildctl looks for buildkitd without BUILDKIT_HOST.
const defaultAddr = "unix:///run/buildkit/buildkitd.sock"

// buildFlags are build's own flags, named as in docker buildx build (and,
// for the values' syntax, buildctl), so a command line carries over.
type buildFlags struct {
	addr, builder, progress     string
	frontendImage               string
	metadataFile, call          string
	noCache, push               bool
	contexts, secrets, ssh      strs
	outputs, cacheFrom, cacheTo strs
	allow, tags, attests        strs
	sbom, provenance            string
}

func (b *buildFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&b.addr, "addr", "", "the buildkitd `ADDRESS` (default: --builder, $BUILDKIT_HOST, the current buildx builder, dockerd's BuildKit, "+defaultAddr+", else a buildkitd stowage starts; stowage builder status says which)")
	fs.StringVar(&b.builder, "builder", "", "build on this buildx builder `NAME` (docker buildx ls)")
	fs.StringVar(&b.progress, "progress", "auto", "progress output `MODE`: auto, plain, tty, quiet or rawjson")
	fs.StringVar(&b.frontendImage, "frontend", "", "run the frontend from this `IMAGE` through BuildKit's gateway, as # syntax= does (default: in this process)")
	fs.BoolVar(&b.noCache, "no-cache", false, "run every step again; cache volumes keep their contents (see cache-reset)")
	fs.Var(&b.contexts, "build-context", "a named context, `NAME=DIR|docker-image://REF` (repeatable)")
	fs.Var(&b.secrets, "secret", "a secret, `id=ID,src=FILE` or id=ID,env=VAR (repeatable)")
	fs.Var(&b.ssh, "ssh", "an SSH agent or keys to forward, `default|ID=SOCKET|KEY` (repeatable)")
	fs.VarP(&b.outputs, "output", "o", "where the result goes, `type=local,dest=DIR`, type=oci,dest=FILE, type=image,name=REF,push=true… (repeatable)")
	fs.VarP(&b.tags, "tag", "t", "name the image `REF` (repeatable); with --push, push it")
	fs.BoolVar(&b.push, "push", false, "push the image named by --tag, as --output type=image,push=true")
	fs.StringVar(&b.call, "call", "build", "what to ask the frontend instead of building: `outline|targets|check`, with ,format=json for JSON")
	fs.StringVar(&b.metadataFile, "metadata-file", "", "write the build's result (the image digest, …) as JSON to `FILE`, as buildx does")
	fs.Var(&b.cacheFrom, "cache-from", "a build cache to import, `type=registry,ref=REF`… (repeatable)")
	fs.Var(&b.cacheTo, "cache-to", "a build cache to export, `type=registry,ref=REF`… (repeatable)")
	fs.Var(&b.attests, "attest", "an attestation, `type=sbom[,generator=IMAGE]` or type=provenance[,mode=min|max], as buildx (repeatable)")
	fs.StringVar(&b.sbom, "sbom", "", "short for --attest type=sbom: `true`, false or generator=IMAGE")
	fs.StringVar(&b.provenance, "provenance", "", "short for --attest type=provenance: `true`, false or mode=min|max")
	fs.Var(&b.allow, "allow", "grant an entitlement, `network.host|security.insecure` (repeatable)")
}

// buildSpec builds the spec on a BuildKit daemon, as `docker buildx build
// -f stowage.yaml CONTEXT` does, with the frontend in this process (or in
// the --frontend image): no frontend image is needed to build.
func buildSpec(ctx context.Context, c *common, args []string, out io.Writer) error {
	b := c.build
	contextDir := "."
	if len(args) == 1 {
		contextDir = args[0]
	}
	file := c.file
	if !c.fileSet {
		file = filepath.Join(contextDir, spec.DefaultFile)
	}
	if _, err := os.Stat(file); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no spec at %s: write one there, or pass -f FILE", file)
		}
		return err
	}
	mode := progressui.DisplayMode(b.progress)
	switch mode {
	case progressui.AutoMode, progressui.PlainMode, progressui.TtyMode, progressui.QuietMode, progressui.RawJSONMode:
	default:
		return usageError{fmt.Sprintf("--progress %q: write auto, plain, tty, quiet or rawjson", b.progress)}
	}
	call, format, err := parseCall(b.call)
	if err != nil {
		return err
	}
	opt, err := b.solveOpt(c, contextDir, file)
	if err != nil {
		return err
	}
	if call != "build" {
		// As buildx: a subrequest answers with metadata, and exports nothing.
		opt.FrontendAttrs["requestid"] = "frontend." + call
		opt.Exports = nil
	}

	chosen, err := chooseBuilder(b.addr, b.builder)
	if err != nil {
		return err
	}
	if err := chosen.ensure(ctx); err != nil {
		return err
	}
	b.addr = chosen.addr
	if mode != progressui.QuietMode && chosen.why != "--addr" {
		fmt.Fprintf(c.stderr, "stowage: building on %s (%s)\n", chosen.addr, chosen.why)
	}
	cl, err := chosen.connect(ctx)
	if err != nil {
		return fmt.Errorf("connecting to buildkitd at %s: %w", b.addr, err)
	}
	defer cl.Close()
	// The client dials lazily; ask first, so a wrong address fails with
	// what to do rather than deep inside the solve.
	if _, err := cl.Info(ctx); err != nil {
		return fmt.Errorf("cannot reach buildkitd at %s (%s): pass --addr, --builder or set BUILDKIT_HOST (`stowage builder status` says what it finds): %w", b.addr, chosen.why, err)
	}

	ch := make(chan *client.SolveStatus)
	eg, ctx := errgroup.WithContext(ctx)
	var resp *client.SolveResponse
	var meta map[string][]byte
	eg.Go(func() error {
		var err error
		resp, err = cl.Build(ctx, *opt, "stowage", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
			var res *gateway.Result
			var err error
			if b.frontendImage != "" {
				// As # syntax= forwards: the image's frontend, given every
				// attr, reading the same session's local directories.
				attrs := maps.Clone(opt.FrontendAttrs)
				attrs["source"] = b.frontendImage
				res, err = gc.Solve(ctx, gateway.SolveRequest{Frontend: "gateway.v0", FrontendOpt: attrs})
			} else {
				res, err = frontend.Build(ctx, gc)
			}
			if res != nil {
				meta = res.Metadata
			}
			return res, err
		}, ch)
		return err
	})
	eg.Go(func() error {
		d, err := progressui.NewDisplay(c.stderr, mode)
		if err != nil {
			return err
		}
		// Drain the channel to its end even after a failure, so the build's
		// last messages (the failing step's output) are shown.
		_, err = d.UpdateFrom(context.WithoutCancel(ctx), ch)
		return err
	})
	err = eg.Wait()
	// As buildx does: the YAML lines an error comes from, before the error.
	for _, src := range errdefs.Sources(err) {
		_ = src.Print(c.stderr)
	}
	if err == nil && b.metadataFile != "" {
		err = writeMetadata(b.metadataFile, resp.ExporterResponse)
	}
	if err == nil && call != "build" {
		err = printCall(out, call, format, meta)
	}
	return err
}

// parseCall splits --call's value as buildx does: a name (check is the
// lint subrequest), then ,format=text|json.
func parseCall(v string) (name, format string, err error) {
	name, rest, _ := strings.Cut(v, ",")
	format = "text"
	if rest != "" {
		f, ok := strings.CutPrefix(rest, "format=")
		if !ok || (f != "text" && f != "json") {
			return "", "", usageError{fmt.Sprintf("--call %q: write NAME or NAME,format=json", v)}
		}
		format = f
	}
	switch name {
	case "build", "outline", "targets":
	case "check", "lint":
		name = "lint"
	default:
		return "", "", usageError{fmt.Sprintf("--call %q: write build, outline, targets or check", name)}
	}
	return name, format, nil
}

// printCall prints a subrequest's answer; a check with findings fails, as
// in buildx.
func printCall(out io.Writer, call, format string, meta map[string][]byte) error {
	key := "result.txt"
	if format == "json" {
		key = "result.json"
	}
	dt, ok := meta[key]
	if !ok {
		return fmt.Errorf("the frontend gave no answer to --call=%s", call)
	}
	if len(dt) == 0 && call == "lint" && format == "text" {
		dt = []byte("Check complete, no warnings found.\n") // buildx's words
	}
	if _, err := out.Write(dt); err != nil {
		return err
	}
	if code := strings.TrimSpace(string(meta["result.statuscode"])); code != "" && code != "0" {
		return fmt.Errorf("--call=check: the spec has lint findings")
	}
	return nil
}

// writeMetadata writes the exporter's response as buildx's --metadata-file
// does: values that are base64-encoded JSON objects (the image descriptor)
// decoded, the rest as strings.
func writeMetadata(file string, response map[string]string) error {
	out := map[string]any{}
	for k, v := range response {
		out[k] = v
		if dt, err := base64.StdEncoding.DecodeString(v); err == nil {
			var obj map[string]any
			if json.Unmarshal(dt, &obj) == nil && len(obj) > 0 {
				out[k] = json.RawMessage(dt)
			}
		}
	}
	dt, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(dt, '\n'), 0o644)
}

// solveOpt turns the flags into what BuildKit's client takes, mapping each
// as buildx maps its own.
func (b *buildFlags) solveOpt(c *common, contextDir, file string) (*client.SolveOpt, error) {
	ctxFS, err := fsutil.NewFS(contextDir)
	if err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	specFS, err := fsutil.NewFS(filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("spec directory: %w", err)
	}
	attrs := map[string]string{"filename": filepath.Base(file)}
	for _, k := range c.opts.keys {
		attrs[k] = c.opts.m[k]
	}
	for _, k := range c.buildArgs.keys {
		attrs["build-arg:"+k] = c.buildArgs.m[k]
	}
	if c.target != "" {
		attrs["target"] = c.target
	}
	if c.platform != "" {
		attrs["platform"] = c.platform
	}
	if b.noCache {
		attrs["no-cache"] = ""
	}
	attests, err := attestAttrs(b.attests, b.sbom, b.provenance)
	if err != nil {
		return nil, err
	}
	maps.Copy(attrs, attests)
	locals := map[string]fsutil.FS{dockerui.DefaultLocalNameContext: ctxFS, dockerui.DefaultLocalNameDockerfile: specFS}
	for _, nc := range b.contexts {
		name, value, ok := strings.Cut(nc, "=")
		if !ok || name == "" || value == "" {
			return nil, usageError{fmt.Sprintf("--build-context %q: write NAME=DIR or NAME=docker-image://REF", nc)}
		}
		if strings.HasPrefix(value, "oci-layout://") {
			return nil, usageError{fmt.Sprintf("--build-context %s: oci-layout:// needs the layout's content store, which only docker buildx build sends; push the image to a registry and use docker-image://", name)}
		}
		if isURLish(value) {
			attrs["context:"+name] = value
			continue
		}
		fs, err := fsutil.NewFS(value)
		if err != nil {
			return nil, fmt.Errorf("--build-context %s: %w", name, err)
		}
		locals[name] = fs
		attrs["context:"+name] = "local:" + name
	}
	exports, err := build.ParseOutput(b.outputs)
	if err != nil {
		return nil, usageError{"--output: " + err.Error()}
	}
	if exports, err = b.tagExports(exports); err != nil {
		return nil, err
	}
	cacheFrom, err := build.ParseImportCache(b.cacheFrom)
	if err != nil {
		return nil, usageError{"--cache-from: " + err.Error()}
	}
	cacheTo, err := build.ParseExportCache(b.cacheTo)
	if err != nil {
		return nil, usageError{"--cache-to: " + err.Error()}
	}
	var allowed []string
	for _, a := range b.allow {
		switch entitlements.Entitlement(a) {
		case entitlements.EntitlementNetworkHost, entitlements.EntitlementSecurityInsecure:
			allowed = append(allowed, a)
		default:
			return nil, usageError{fmt.Sprintf("--allow %q: write network.host or security.insecure", a)}
		}
	}
	attachable := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(config.LoadDefaultConfigFile(c.stderr)),
	})}
	if len(b.secrets) > 0 {
		store, err := build.ParseSecret(b.secrets)
		if err != nil {
			return nil, usageError{"--secret: " + err.Error()}
		}
		attachable = append(attachable, store)
	}
	if len(b.ssh) > 0 {
		configs, err := build.ParseSSH(b.ssh)
		if err != nil {
			return nil, usageError{"--ssh: " + err.Error()}
		}
		agent, err := sshprovider.NewSSHAgentProvider(configs)
		if err != nil {
			return nil, fmt.Errorf("--ssh: %w", err)
		}
		attachable = append(attachable, agent)
	}
	return &client.SolveOpt{
		Exports:             exports,
		CacheImports:        cacheFrom,
		CacheExports:        cacheTo,
		LocalMounts:         locals,
		FrontendAttrs:       attrs,
		Session:             attachable,
		AllowedEntitlements: allowed,
	}, nil
}

// tagExports applies --tag and --push as buildx does: they name (and push)
// an image output, added when --output gave none. As in buildx, an output
// of type=registry is an image output that pushes; buildkitd knows no
// registry exporter.
func (b *buildFlags) tagExports(exports []client.ExportEntry) ([]client.ExportEntry, error) {
	for i := range exports {
		if exports[i].Type == "registry" {
			exports[i].Type = client.ExporterImage
			if exports[i].Attrs == nil {
				exports[i].Attrs = map[string]string{}
			}
			exports[i].Attrs["push"] = "true"
		}
	}
	if len(b.tags) == 0 {
		if b.push {
			return nil, usageError{"--push: name the image with -t REF"}
		}
		return exports, nil
	}
	var image *client.ExportEntry
	for i := range exports {
		if exports[i].Type == client.ExporterImage {
			image = &exports[i]
		}
	}
	if image == nil {
		exports = append(exports, client.ExportEntry{Type: client.ExporterImage, Attrs: map[string]string{}})
		image = &exports[len(exports)-1]
	}
	if image.Attrs == nil {
		image.Attrs = map[string]string{}
	}
	if image.Attrs["name"] != "" {
		return nil, usageError{"--tag: the image --output already has name=" + image.Attrs["name"] + "; give the names in one place"}
	}
	image.Attrs["name"] = strings.Join(b.tags, ",")
	if b.push {
		image.Attrs["push"] = "true"
	}
	return exports, nil
}

// attestAttrs turns --attest, --sbom and --provenance into the frontend
// attrs buildx sends for them: attest:TYPE=the other fields.
func attestAttrs(attests []string, sbom, provenance string) (map[string]string, error) {
	all := slices.Clone(attests)
	for _, short := range []struct{ typ, flag, v string }{{"sbom", "--sbom", sbom}, {"provenance", "--provenance", provenance}} {
		switch v := short.v; {
		case v == "":
		case v == "true":
			all = append(all, "type="+short.typ)
		case v == "false":
			all = append(all, "type="+short.typ+",disabled=true")
		case strings.Contains(v, "="):
			all = append(all, "type="+short.typ+","+v)
		default:
			return nil, usageError{fmt.Sprintf("%s %q: write true, false or KEY=VALUE fields", short.flag, v)}
		}
	}
	attrs := map[string]string{}
	for _, a := range all {
		fields, err := csv.NewReader(strings.NewReader(a)).Read()
		if err != nil {
			return nil, usageError{fmt.Sprintf("--attest %q: %v", a, err)}
		}
		typ, rest := "", []string{}
		for _, f := range fields {
			if v, ok := strings.CutPrefix(f, "type="); ok {
				typ = v
			} else {
				rest = append(rest, f)
			}
		}
		if typ != "sbom" && typ != "provenance" {
			return nil, usageError{fmt.Sprintf("--attest %q: write type=sbom or type=provenance", a)}
		}
		attrs["attest:"+typ] = strings.Join(rest, ",")
	}
	return attrs, nil
}

// isURLish reports whether a --build-context value is a source BuildKit
// resolves (an image, a Git or HTTP URL) rather than a
// directory, as buildx tells them apart.
func isURLish(v string) bool {
	for _, p := range []string{"docker-image://", "git://", "https://", "http://", "git@"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// strs is a repeatable string flag.
type strs []string

func (s *strs) String() string { return strings.Join(*s, " ") }

func (s *strs) Set(v string) error {
	*s = append(*s, v)
	return nil
}
