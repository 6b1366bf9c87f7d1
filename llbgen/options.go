package llbgen

import "strings"

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
