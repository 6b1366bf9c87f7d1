// Package integration holds the tests that run Stowage on a real BuildKit:
// buildkitd with runc, a registry on loopback, the frontend image, buildctl
// and docker buildx. hack/stack starts all of it; hack/test runs these tests
// with its environment. Without that environment they fail, never skip
// (only `go test -short` outside CI leaves them out).
package integration
