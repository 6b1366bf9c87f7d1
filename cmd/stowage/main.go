// Command stowage works with stowage.yaml pipelines: it builds them on a
// BuildKit daemon, and without one lints them, prints their cache volume
// IDs, and writes their LLB.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/pflag"
	"github.com/stowage-build/stowage/lint"
	"github.com/stowage-build/stowage/llbgen"
	"github.com/stowage-build/stowage/spec"
	"google.golang.org/protobuf/proto"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// common holds the flags every command shares, named as in buildctl and
// buildx so they carry over.
type common struct {
	fs        *pflag.FlagSet
	file      string
	buildArgs keyValues
	opts      keyValues
	target    string
	platform  string
	jsonOut   bool
	// contextPath is --context, the directory {hash: …} key tokens read.
	contextPath string
	// fileSet says -f was given; build then reads it, not CONTEXT's.
	fileSet bool
	// build holds build's own flags.
	build  *buildFlags
	stderr io.Writer
}

func (c *common) register(cmd string) {
	c.fs.StringVarP(&c.file, "file", "f", spec.DefaultFile, "the spec `FILE`")
	c.fs.Var(&c.buildArgs, "build-arg", "set a build arg, `KEY=VALUE` (repeatable)")
	c.fs.Var(&c.opts, "opt", "set a frontend option like cache-tenant=acme, `KEY=VALUE` (repeatable)")
	c.fs.StringVar(&c.platform, "platform", "", "the target `PLATFORM`, like linux/arm64 (default: this machine's)")
	if cmd == "llb" || cmd == "ids" || cmd == "cache" {
		c.fs.StringVar(&c.contextPath, "context", "", "the build context `DIR` that {hash: …} key tokens read (default: the spec file's directory)")
	}
	if cmd == "llb" || cmd == "build" {
		c.fs.StringVar(&c.target, "target", "", "the `STEP` to build (default: the spec's default)")
	}
	if cmd == "build" {
		c.build = &buildFlags{}
		c.build.register(c.fs)
	}
	if cmd == "ids" {
		c.fs.BoolVar(&c.jsonOut, "json", false, "print JSON with each volume's key, scope, namespace, ID and the steps that mount it")
	}
}

// load reads and validates the spec with the flags' args and platform.
func (c *common) load() (*spec.Spec, *ocispecs.Platform, error) {
	data, err := os.ReadFile(c.file)
	if err != nil {
		return nil, nil, err
	}
	var target *ocispecs.Platform
	if c.platform != "" {
		p, err := platforms.Parse(c.platform)
		if err != nil {
			return nil, nil, fmt.Errorf("--platform: %w", err)
		}
		p = platforms.Normalize(p)
		target = &p
	}
	s, err := spec.Load(data, spec.Options{File: c.file, BuildArgs: c.args(), PlatformArgs: spec.PlatformArgs(nil, target)})
	return s, target, err
}

// args are the build args as BuildKit would pass them: --build-arg wins
// over --opt build-arg:NAME.
func (c *common) args() map[string]string {
	args := map[string]string{}
	for k, v := range c.opts.m {
		if name, ok := strings.CutPrefix(k, "build-arg:"); ok {
			args[name] = v
		}
	}
	for k, v := range c.buildArgs.m {
		args[k] = v
	}
	return args
}

// volumeOptions are the ID inputs the flags set, read as the frontend
// reads them, so a bad cache option fails here as it would in a build.
func (c *common) volumeOptions() (llbgen.VolumeOptions, error) {
	st, err := llbgen.ParseSettings(c.opts.m, c.args())
	if err != nil {
		return llbgen.VolumeOptions{}, err
	}
	vo := st.VolumeOptions()
	vo.Tokens = newLocalTokens(c.contextDir(), c.file)
	return vo, nil
}

// lintSpec validates the spec and runs the lint rules; warnings print to
// out and fail the command, as `docker buildx build --call=check` does.
func lintSpec(_ context.Context, c *common, _ []string, out io.Writer) error {
	s, _, err := c.load()
	if err != nil {
		return err
	}
	warnings := lint.Check(s)
	for _, w := range warnings {
		fmt.Fprintln(out, w.String(s.File))
	}
	if len(warnings) > 0 {
		return fmt.Errorf("%s: %d lint warning(s)", s.File, len(warnings))
	}
	return nil
}

func ids(ctx context.Context, c *common, _ []string, out io.Writer) error {
	s, _, err := c.load()
	if err != nil {
		return err
	}
	vo, err := c.volumeOptions()
	if err != nil {
		return err
	}
	vols, err := llbgen.Volumes(ctx, s, vo)
	if err != nil {
		return err
	}
	slices.SortFunc(vols, func(a, b *llbgen.Volume) int { return strings.Compare(a.Name, b.Name) })
	if c.jsonOut {
		return writeVolumesJSON(s, vols, out)
	}
	for _, v := range vols {
		id := v.ID
		if v.Scope == spec.ScopeSession {
			id = "session"
		}
		fmt.Fprintf(out, "%s\t%s\n", v.Name, id)
	}
	return nil
}

// volumeJSON is one element of `stowage ids --json`.
type volumeJSON struct {
	Name      string   `json:"name"`
	ID        string   `json:"id,omitempty"`
	Key       []string `json:"key"`
	Tenant    string   `json:"tenant,omitempty"`
	Scope     string   `json:"scope"`
	Namespace string   `json:"namespace,omitempty"`
	Sharing   string   `json:"sharing"`
	// Restore are the IDs of the volume's restore keys, nearest first: the
	// IDs whose restore points (ID.restore) it starts from when its key is new.
	Restore   []string `json:"restore,omitempty"`
	MountedBy []string `json:"mountedBy"`
	Location  spec.Pos `json:"location"`
}

func writeVolumesJSON(s *spec.Spec, vols []*llbgen.Volume, out io.Writer) error {
	list := make([]volumeJSON, 0, len(vols))
	for _, v := range vols {
		j := volumeJSON{Name: v.Name, ID: v.ID, Key: v.Tokens, Tenant: v.Tenant, Scope: string(v.Scope),
			Namespace: v.Namespace, Sharing: string(v.Sharing), Restore: v.Restore, MountedBy: []string{}, Location: v.Spec.Range.Start}
		for _, st := range s.Steps {
			if slices.ContainsFunc(st.Mounts, func(m *spec.Mount) bool { return m.Volume == v.Name }) {
				j.MountedBy = append(j.MountedBy, st.Name)
			}
		}
		list = append(list, j)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(list)
}

func writeLLB(ctx context.Context, c *common, _ []string, out io.Writer) error {
	s, target, err := c.load()
	if err != nil {
		return err
	}
	vo, err := c.volumeOptions()
	if err != nil {
		return err
	}
	// Outside a build there is no BuildKit session; a session-scoped volume
	// gets a fresh namespace per run, which is what "one build" means here.
	vo.SessionID = randomID()
	res, err := llbgen.Lower(ctx, s, llbgen.Options{VolumeOptions: vo, Target: c.target, TargetPlatform: target})
	if err != nil {
		return err
	}
	// BuildKit gives each local source a random unique ID unless told one;
	// the spec's directory names the same local context on every run.
	dir, err := filepath.Abs(filepath.Dir(c.file))
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(dir))
	def, err := res.State.Marshal(ctx, llb.LocalUniqueID("stowage-"+hex.EncodeToString(sum[:16])))
	if err != nil {
		return err
	}
	// llb.WriteTo marshals the op metadata's capability maps in Go's map
	// order, so the bytes would differ from one run to the next; users diff
	// this output, so it is marshalled deterministically.
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(def.ToPB())
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// keyValues is a repeatable KEY=VALUE flag.
type keyValues struct {
	m    map[string]string
	keys []string
}

func (kv *keyValues) String() string { return strings.Join(kv.keys, ",") }

func (kv *keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	if kv.m == nil {
		kv.m = map[string]string{}
	}
	kv.m[k] = v
	kv.keys = append(kv.keys, k)
	return nil
}
