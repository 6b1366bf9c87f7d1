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
	buildArgPrefix    = "build-arg:"
)

// ParseVolumeOptions reads the tenant and namespace from frontend options
// (as BuildKit passes them: "cache-tenant", "build-arg:STOWAGE_CACHE_TENANT").
// An --opt wins over a build arg.
func ParseVolumeOptions(opts map[string]string) VolumeOptions {
	pick := func(opt, arg string) string {
		if v, ok := opts[opt]; ok {
			return strings.TrimSpace(v)
		}
		return strings.TrimSpace(opts[buildArgPrefix+arg])
	}
	return VolumeOptions{
		Tenant:    pick(OptCacheTenant, ArgCacheTenant),
		Namespace: pick(OptCacheNamespace, ArgCacheNamespace),
	}
}

// The frontend option and build arg that seed fresh volumes from a
// registry (cache-import=type=registry,ref=REPO), where `stowage cache
// export --to type=registry` pushed them as REPO:<cache ID>.
const (
	OptCacheImport = "cache-import"
	ArgCacheImport = "STOWAGE_CACHE_IMPORT"
)

// ParseCacheImport returns the repository of the cache-import option or
// build arg, "" when none is given; an --opt wins.
func ParseCacheImport(opts map[string]string) (string, error) {
	v, ok := opts[OptCacheImport]
	if !ok {
		v = opts[buildArgPrefix+ArgCacheImport]
	}
	if v = strings.TrimSpace(v); v == "" {
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

// ParseCacheMode reports whether the cache-mode option or build arg asks
// for readonly; an --opt wins. readwrite, the default, may be written too.
func ParseCacheMode(opts map[string]string) (readonly bool, err error) {
	v, ok := opts[OptCacheMode]
	if !ok {
		v = opts[buildArgPrefix+ArgCacheMode]
	}
	switch strings.TrimSpace(v) {
	case "", "readwrite":
		return false, nil
	case "readonly":
		return true, nil
	}
	return false, fmt.Errorf("%s %q: write readonly (volumes are read, never written: each step gets a throwaway copy) or readwrite (the default)", OptCacheMode, v)
}
