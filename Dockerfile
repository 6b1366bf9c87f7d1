# The Stowage frontend image, referenced by `# syntax=` lines or `--frontend gateway.v0`.
# syntax is not set: it must build with BuildKit's built-in Dockerfile frontend, offline.
# hack/stack builds it either from a host-built binary (the `build` stage is replaced by
# the named context `build`) or, with STOWAGE_FRONTEND_BUILD=docker, in full with
# GO_IMAGE pointing at the stack's local golang image.
ARG GO_IMAGE=golang:1.26

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
ARG GOPROXY
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/stowage-frontend ./cmd/stowage-frontend

FROM scratch
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
COPY --from=build /out/stowage-frontend /bin/stowage-frontend
ENTRYPOINT ["/bin/stowage-frontend"]
