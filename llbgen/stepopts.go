package llbgen

import (
	"slices"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stowage-build/stowage/spec"
)

// stepRunOptions are the options every command of a step runs with besides
// its mounts, as Dockerfile's RUN --network and --security and the ARGs of
// a stage: they do not apply to the ops Stowage adds (setting up or
// emptying volumes).
func stepRunOptions(st *spec.Step, ss *stepState) []llb.RunOption {
	var opts []llb.RunOption
	// A step's args are in its commands' environment, and not in its image
	// config. The step's own env of the same name wins, as a later ENV does
	// over ARG; an env it inherits does not, as ARG wins over the base
	// image's ENV (python's PYTHON_VERSION, say) in a Dockerfile's RUN.
	for _, a := range st.Args {
		if !slices.ContainsFunc(st.Env, func(kv spec.KeyValue) bool { return kv.Key == a.Name }) {
			opts = append(opts, llb.AddEnv(a.Name, a.Value))
		}
	}
	switch st.Network {
	case spec.NetworkNone:
		opts = append(opts, llb.Network(pb.NetMode_NONE))
	case spec.NetworkHost:
		opts = append(opts, llb.Network(pb.NetMode_HOST))
	}
	switch st.Security {
	case spec.SecurityInsecure:
		opts = append(opts, llb.Security(pb.SecurityMode_INSECURE))
	case spec.SecuritySandbox:
		opts = append(opts, llb.Security(pb.SecurityMode_SANDBOX))
	}
	return opts
}
