// Command stowage-frontend is the BuildKit gateway frontend that builds
// stowage.yaml pipelines; BuildKit runs it from the image named on the
// spec's `# syntax=` line or in `--opt source=`.
package main

import (
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	"github.com/moby/buildkit/util/bklog"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto"
	"github.com/stowage-build/stowage/frontend"
)

// version is stamped by the image build (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	// BuildKit runs the frontend without arguments; --version is for people
	// looking at an image they pulled.
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("stowage-frontend", version)
		return
	}
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		bklog.L.Errorf("fatal error: %+v", err)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
