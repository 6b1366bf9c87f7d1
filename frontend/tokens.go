package frontend

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stowage-build/stowage/ctxhash"
	"github.com/stowage-build/stowage/llbgen"
)

// tokenCache keeps the content- and image-derived key tokens of one build,
// so volumes (and platforms) that share globs or images compute them once.
type tokenCache struct {
	mu      sync.Mutex
	hashes  map[string]string
	digests map[string]string
	// imports holds, by image, "yes" when cache-import found it.
	imports map[string]string
}

// tokens is the llbgen.TokenResolver of one build for one target platform.
type tokens struct {
	b        *builder
	platform *ocispecs.Platform
}

var _ llbgen.TokenResolver = tokens{}

// tokenResolver returns the resolver for platform; nil means the default.
func (b *builder) tokenResolver(platform *ocispecs.Platform) llbgen.TokenResolver {
	return tokens{b: b, platform: platform}
}

// HashFiles solves the main build context limited to the files matching
// globs (after .dockerignore, as for any copy from the context) and hashes
// them with ctxhash. fsutil's include patterns take "**"; they may include
// more than ctxhash matches (a directory pattern includes its contents),
// never less, and ctxhash filters again.
func (t tokens) HashFiles(ctx context.Context, globs []string) (string, error) {
	key := strings.Join(globs, "\x00")
	if v, ok := t.b.tokens.get(&t.b.tokens.hashes, key); ok {
		return v, nil
	}
	st, err := t.b.bc.MainContext(ctx,
		llb.IncludePatterns(ctxhash.TransferPatterns(globs)),
		llb.SharedKeyHint("stowage-hash"),
		llb.WithCustomName("[internal] load build context files for a cache key: "+strings.Join(globs, ", ")))
	if err != nil {
		return "", err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return "", err
	}
	res, err := t.b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return "", err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return "", err
	}
	sum, err := ctxhash.Sum(refFS{ctx: ctx, ref: ref}, globs)
	if err != nil {
		return "", err
	}
	t.b.tokens.put(&t.b.tokens.hashes, key, sum)
	return sum, nil
}

// ImageDigest resolves ref for the target platform with the build's image
// resolve mode and returns the digest BuildKit resolves it to. When a
// --build-context replaces ref, as it would for a from:, the token follows
// the replacement: a docker-image:// context's image, or the digest an
// oci-layout:// context pins. Any other replacement has no digest and is
// an error rather than a key that silently follows an image the build
// does not use.
func (t tokens) ImageDigest(ctx context.Context, ref string) (string, error) {
	p := platforms.DefaultSpec()
	if t.platform != nil {
		p = *t.platform
	}
	ref, pinned, err := t.replacement(ref, p)
	if err != nil || pinned != "" {
		return pinned, err
	}
	key := ref + " " + platforms.FormatAll(p)
	if v, ok := t.b.tokens.get(&t.b.tokens.digests, key); ok {
		return v, nil
	}
	_, dgst, _, err := t.b.c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		LogName: "[internal] resolve digest of " + ref + " for a cache key",
		ImageOpt: &sourceresolver.ResolveImageOpt{
			Platform:    &p,
			ResolveMode: t.b.bc.ImageResolveMode.String(),
		},
	})
	if err != nil {
		return "", err
	}
	t.b.tokens.put(&t.b.tokens.digests, key, dgst.String())
	return dgst.String(), nil
}

// replacement looks ref up among the named contexts as dockerui does for an
// image (by its familiar name, for the platform first): it returns the image
// ref to resolve instead, or a digest the context pins.
func (t tokens) replacement(ref string, p ocispecs.Platform) (string, string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref, "", nil // the resolver reports a bad ref
	}
	name := strings.TrimSuffix(reference.FamiliarString(named), ":latest")
	opts := t.b.bc.BuildOpts().Opts
	v, ok := opts["context:"+name+"::"+platforms.FormatAll(platforms.Normalize(p))]
	if !ok {
		if v, ok = opts["context:"+name]; !ok {
			return ref, "", nil
		}
	}
	switch kind, rest, _ := strings.Cut(v, "://"); kind {
	case "docker-image":
		return rest, "", nil
	case "oci-layout":
		if _, dgst, ok := strings.Cut(rest, "@"); ok && strings.HasPrefix(dgst, "sha256:") {
			return ref, dgst, nil
		}
	}
	return "", "", fmt.Errorf("{digest: %s}: --build-context replaces %s with %s, which names no image digest; replace it with docker-image://REF or oci-layout://PATH@sha256:…, or key the volume on something else, like {hash: [GLOB]}", ref, name, v)
}

func (c *tokenCache) get(m *map[string]string, key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := (*m)[key]
	return v, ok
}

func (c *tokenCache) put(m *map[string]string, key, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[key] = v
}

// refFS reads a solved reference as a ctxhash.FS.
type refFS struct {
	ctx context.Context
	ref client.Reference
}

func (r refFS) ReadDir(dir string) ([]ctxhash.Entry, error) {
	sts, err := r.ref.ReadDir(r.ctx, client.ReadDirRequest{Path: dir})
	if err != nil {
		return nil, err
	}
	out := make([]ctxhash.Entry, 0, len(sts))
	for _, st := range sts {
		out = append(out, ctxhash.Entry{Name: path.Base(st.Path), Type: fs.FileMode(st.Mode).Type(), Linkname: st.Linkname})
	}
	return out, nil
}

func (r refFS) ReadFile(name string) ([]byte, error) {
	return r.ref.ReadFile(r.ctx, client.ReadRequest{Filename: name})
}
