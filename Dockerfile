# The Stowage frontend image, referenced by `# syntax=` lines or `--frontend gateway.v0`,
# for those without Stowage: the project's own stowage.yaml builds the same image
# (docs/release.md), and TestReleaseImage checks the two agree.
# syntax is not set: it must build with BuildKit's built-in Dockerfile frontend, offline.
# hack/stack builds it either from a host-built binary (the `build` stage is replaced by
# the named context `build`) or, with STOWAGE_FRONTEND_BUILD=docker, in full with
# GO_IMAGE pointing at the stack's local golang image. Every platform is cross-compiled
# on the build machine:
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 --build-arg VERSION=v1.2.3 .
ARG GO_IMAGE=golang:1.26

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
ARG GOPROXY
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG TARGETOS TARGETARCH TARGETVARIANT VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=$VERSION" \
    -o /out/stowage-frontend ./cmd/stowage-frontend

FROM scratch
ARG VERSION=dev REVISION=""
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
LABEL org.opencontainers.image.title="stowage" \
      org.opencontainers.image.description="BuildKit frontend for stowage.yaml pipelines with cache volumes named by key" \
      org.opencontainers.image.source="https://github.com/stowage-build/stowage" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION"
COPY --from=build /out/stowage-frontend /bin/stowage-frontend
ENTRYPOINT ["/bin/stowage-frontend"]
