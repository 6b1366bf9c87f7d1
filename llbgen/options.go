package llbgen

import (
	"fmt"
	"strings"
)

// The frontend options that feed cache IDs, and the build args that set them
// where --opt is not at hand (docker buildx build --build-arg).
const (
	OptCacheTenant    = "cache-tenant"
	OptCacheNamespace = "cache-namespace"
	ArgCacheTenant    = "STOWAGE_CACHE_TENANT"
	ArgCacheNamespace = "STOWAGE_CACHE_NAMESPACE"
)

// Settings are Stowage's own options of a build, each given as a frontend
// option (--opt cache-tenant=…) or, where --opt is not at hand (docker
// buildx build), as the build arg that stands for it; an --opt wins.
type Settings struct {
	// Tenant and Namespace feed cache IDs.
	Tenant, Namespace string
	// CacheImport is the repository fresh volumes are seeded from, or "".
	CacheImport string
	// ReadOnly: no volume is written (cache-mode=readonly).
	ReadOnly bool
	// Reset names the volumes to empty first (cache-reset).
	Reset []string
}

// ParseSettings reads Settings from the frontend options opts and the build
// args args (by name, as dockerui gives them: BuildArgs).
func ParseSettings(opts, args map[string]string) (Settings, error) {
	pick := func(opt, arg string) string {
		if v, ok := opts[opt]; ok {
			return strings.TrimSpace(v)
		}
		return strings.TrimSpace(args[arg])
	}
	s := Settings{
		Tenant:    pick(OptCacheTenant, ArgCacheTenant),
		Namespace: pick(OptCacheNamespace, ArgCacheNamespace),
		Reset:     parseCacheReset(pick(OptCacheReset, ArgCacheReset)),
	}
	var err error
	if s.CacheImport, err = parseCacheImport(pick(OptCacheImport, ArgCacheImport)); err != nil {
		return s, err
	}
	s.ReadOnly, err = parseCacheMode(pick(OptCacheMode, ArgCacheMode))
	return s, err
}

// VolumeOptions are the settings that feed cache IDs.
func (s Settings) VolumeOptions() VolumeOptions {
	return VolumeOptions{Tenant: s.Tenant, Namespace: s.Namespace}
}

// The frontend option and build arg that seed fresh volumes from a
// registry (cache-import=type=registry,ref=REPO), where `stowage cache
// export --to type=registry` pushed them as REPO:<cache ID>.
const (
	OptCacheImport = "cache-import"
	ArgCacheImport = "STOWAGE_CACHE_IMPORT"
)

// parseCacheImport returns the repository of a cache-import value, "" for
// none.
func parseCacheImport(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	var typ, ref string
	for kv := range strings.SplitSeq(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "type":
			typ = val
		case "ref":
			ref = val
		default:
			return "", fmt.Errorf("%s %q: unknown key %q; write type=registry,ref=REPOSITORY", OptCacheImport, v, k)
		}
	}
	if typ != "registry" || ref == "" {
		return "", fmt.Errorf("%s %q: write type=registry,ref=REPOSITORY (the repository `stowage cache export --to type=registry` pushed to)", OptCacheImport, v)
	}
	return ref, nil
}

// VolumeImage is where an exported volume lives in repo: one image per
// volume, tagged with its cache ID.
func VolumeImage(repo, id string) string { return repo + ":" + id }

// The frontend option and build arg that keep a build from writing any
// volume (cache-mode=readonly), for builds of code that is not trusted: a
// pull request from a fork.
const (
	OptCacheMode = "cache-mode"
	ArgCacheMode = "STOWAGE_CACHE_MODE"
)

// parseCacheMode reports whether a cache-mode value asks for readonly;
// readwrite, the default, may be written too.
func parseCacheMode(v string) (readonly bool, err error) {
	switch v {
	case "", "readwrite":
		return false, nil
	case "readonly":
		return true, nil
	}
	return false, fmt.Errorf("%s %q: write readonly (volumes are read, never written: each step gets a throwaway copy) or readwrite (the default)", OptCacheMode, v)
}
