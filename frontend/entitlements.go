package frontend

import (
	"strings"

	"github.com/stowage-build/stowage/spec"
)

// needsEntitlement reports whether a step of the lowered graph runs with
// security: insecure or network: host, which BuildKit allows only when the
// build grants the security.insecure or network.host entitlement.
func needsEntitlement(s *spec.Spec, steps []string) bool {
	for _, name := range steps {
		if st := s.Step(name); st != nil && (st.Security == spec.SecurityInsecure || st.Network == spec.NetworkHost) {
			return true
		}
	}
	return false
}

// entitlementError turns BuildKit's "security.insecure is not allowed" (or
// network.host), which names no step, into an error at the security: or
// network: field of each step of the graph that needs it, saying how to
// grant it. Other errors pass through.
func entitlementError(err error, s *spec.Spec, steps []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var list spec.ErrorList
	for _, name := range steps {
		st := s.Step(name)
		if st == nil {
			continue
		}
		if st.Security == spec.SecurityInsecure && strings.Contains(msg, "security.insecure is not allowed") {
			list = append(list, &spec.Error{
				File: s.File, Range: st.FieldRange("security"), Path: "steps." + name + ".security",
				Msg:  "step " + name + " runs with security: insecure, which needs the security.insecure entitlement, and this build does not grant it",
				Hint: "build with `docker buildx build --allow security.insecure` (buildctl: `--allow security.insecure`) on a builder whose buildkitd runs with `--allow-insecure-entitlement security.insecure`, or remove security: insecure",
			})
		}
		if st.Network == spec.NetworkHost && strings.Contains(msg, "network.host is not allowed") {
			list = append(list, &spec.Error{
				File: s.File, Range: st.FieldRange("network"), Path: "steps." + name + ".network",
				Msg:  "step " + name + " runs with network: host, which needs the network.host entitlement, and this build does not grant it",
				Hint: "build with `docker buildx build --allow network.host` (buildctl: `--allow network.host`) on a builder whose buildkitd runs with `--allow-insecure-entitlement network.host`, or use network: default",
			})
		}
	}
	if len(list) == 0 {
		return err
	}
	return list
}
