package main

// BuildKit's connection helpers, as buildctl registers them: --addr and
// BUILDKIT_HOST may name a builder container or pod
// (docker-container://buildx_buildkit_NAME0, kube-pod://POD,
// podman-container://…, ssh://…), as buildx's docker-container and
// kubernetes drivers run them.
import (
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/nerdctlcontainer"
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)
