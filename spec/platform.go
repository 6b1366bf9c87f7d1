package spec

import (
	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// PlatformArgs returns BuildKit's automatic platform args for a build on
// build for target, as the Dockerfile frontend defines them. A nil platform
// means the host's.
func PlatformArgs(build, target *ocispecs.Platform) map[string]string {
	b, t := platforms.DefaultSpec(), platforms.DefaultSpec()
	if build != nil {
		b = *build
	}
	if target != nil {
		t = *target
	}
	b, t = platforms.Normalize(b), platforms.Normalize(t)
	return map[string]string{
		"BUILDPLATFORM":  platforms.Format(b),
		"BUILDOS":        b.OS,
		"BUILDARCH":      b.Architecture,
		"BUILDVARIANT":   b.Variant,
		"TARGETPLATFORM": platforms.Format(t),
		"TARGETOS":       t.OS,
		"TARGETARCH":     t.Architecture,
		"TARGETVARIANT":  t.Variant,
	}
}
