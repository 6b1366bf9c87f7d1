package main

import (
	"testing"

	"github.com/moby/buildkit/client/connhelper"
)

// TestConnectionHelpers: the addresses buildx's drivers give a builder
// reach a connection helper, as they do in buildctl.
func TestConnectionHelpers(t *testing.T) {
	for _, addr := range []string{"docker-container://buildx_buildkit_ci0", "kube-pod://buildkitd-0", "podman-container://b", "nerdctl-container://b", "ssh://user@host"} {
		h, err := connhelper.GetConnectionHelper(addr)
		if err != nil || h == nil {
			t.Errorf("%s: no connection helper (%v)", addr, err)
		}
	}
}
