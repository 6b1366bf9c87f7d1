package frontend

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/stowage-build/stowage/spec"
)

// BuildKit reports some failures without a location, or at the command that
// met them, although the cause is one field of the spec: a missing
// entitlement (checked when the graph is loaded, after the frontend returns
// unless the frontend evaluates it) and a missing required secret or SSH
// agent (met when the command starts). A graph that can fail so is
// evaluated in the frontend, and such an error is reported at the field.

// A seed path that does not exist fails too, while BuildKit computes the
// setup op's cache key from the path's contents, with
// "failed to calculate checksum of ref …: "/PATH": not found" and no
// location.

// needsEvaluation reports whether a step of the lowered graph needs an
// entitlement (security: insecure, network: host) or a required secret or
// SSH socket from the client, or seeds a cache volume.
func needsEvaluation(s *spec.Spec, steps []string) bool {
	for _, name := range steps {
		st := s.Step(name)
		if st == nil {
			continue
		}
		if st.Security == spec.SecurityInsecure || st.Network == spec.NetworkHost {
			return true
		}
		for _, m := range st.Mounts {
			if m.Required && (m.Type == spec.MountSecret || m.Type == spec.MountSSH) || m.Seed != nil {
				return true
			}
		}
	}
	return false
}

// checksumNotFound is how BuildKit says a path it hashes for a cache key is
// not there; the integration test TestMissingSeedPath pins it.
const checksumNotFound = "failed to calculate checksum of ref "

// seedMissing reports whether msg is BuildKit's error for seed's path.
func seedMissing(msg string, seed *spec.Seed) bool {
	return strings.Contains(msg, checksumNotFound) &&
		strings.Contains(msg, strconv.Quote(path.Join("/", seed.Path))+": not found")
}

// sourceWhere names a filesystem as a user wrote it.
func sourceWhere(src spec.Source) string { return spec.VisitSource[string](src, whereNamed{}) }

type whereNamed struct{}

func (whereNamed) Step(src spec.Source) string  { return "in step " + src.Ref }
func (whereNamed) Image(src spec.Source) string { return "in image " + src.Ref }
func (whereNamed) Scratch(spec.Source) string   { return "in scratch, which is empty" }
func (whereNamed) Context(src spec.Source) string {
	if src.Ref == "" {
		return "in the build context"
	}
	return "in the build context " + src.Ref
}

// locateError turns the errors above into errors at the fields of the steps
// of the graph that cause them, saying what to pass. Other errors pass
// through.
func locateError(err error, s *spec.Spec, steps []string) error {
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
		if st.Security == spec.SecurityInsecure && notGranted(msg, "security.insecure") {
			list = append(list, &spec.Error{
				File: s.File, Range: st.FieldRange("security"), Path: "steps." + name + ".security",
				Msg:  "step " + name + " runs with security: insecure, which needs the security.insecure entitlement, and this build does not grant it",
				Hint: "build with `docker buildx build --allow security.insecure` (buildctl: `--allow security.insecure`) on a builder whose buildkitd runs with `--allow-insecure-entitlement security.insecure`, or remove security: insecure",
			})
		}
		if st.Network == spec.NetworkHost && notGranted(msg, "network.host") {
			list = append(list, &spec.Error{
				File: s.File, Range: st.FieldRange("network"), Path: "steps." + name + ".network",
				Msg:  "step " + name + " runs with network: host, which needs the network.host entitlement, and this build does not grant it",
				Hint: "build with `docker buildx build --allow network.host` (buildctl: `--allow network.host`) on a builder whose buildkitd runs with `--allow-insecure-entitlement network.host`, or use network: default",
			})
		}
		for i, m := range st.Mounts {
			path := fmt.Sprintf("steps.%s.mounts[%d]", name, i)
			if m.Seed != nil && seedMissing(msg, m.Seed) {
				list = append(list, &spec.Error{
					File: s.File, Range: m.Seed.Range, Path: path + ".source",
					Msg:  fmt.Sprintf("cache volume %s: its source path %s does not exist %s", m.Volume, m.Seed.ShownPath(), sourceWhere(m.Seed.From)),
					Hint: "name a directory that exists there, or create it before this step",
				})
			}
			if !m.Required {
				continue
			}
			switch {
			case m.Type == spec.MountSecret && strings.Contains(msg, "secret "+m.ID+": not found"):
				list = append(list, &spec.Error{
					File: s.File, Range: m.Range, Path: path,
					Msg:  fmt.Sprintf("step %s needs the secret %q (required: true), and this build does not pass it", name, m.ID),
					Hint: fmt.Sprintf("build with `--secret id=%s,src=FILE` (or `,env=VARIABLE`), or set required: false to run without it", m.ID),
				})
			case m.Type == spec.MountSSH && (strings.Contains(msg, "no SSH key "+strconv.Quote(m.ID)+" forwarded") ||
				strings.Contains(msg, "unset ssh forward key "+m.ID)):
				list = append(list, &spec.Error{
					File: s.File, Range: m.Range, Path: path,
					Msg:  fmt.Sprintf("step %s needs the SSH agent %q (required: true), and this build does not forward it", name, m.ID),
					Hint: fmt.Sprintf("build with `--ssh %s` (it forwards $SSH_AUTH_SOCK; or `--ssh %s=SOCKET_OR_KEY`), or set required: false to run without it", m.ID, m.ID),
				})
			}
		}
	}
	if len(list) == 0 {
		return err
	}
	return list
}

// notGranted reports BuildKit's error for a graph that needs an entitlement
// the build did not ask for. A daemon that refuses to grant it at all fails
// the request before any frontend runs, with "granting entitlement …", which
// is left alone.
func notGranted(msg, entitlement string) bool {
	return strings.Contains(msg, entitlement+" is not allowed") && !strings.Contains(msg, "granting entitlement")
}
