# The Dockerfile equivalent of examples/go.
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
ARG GO_VERSION
ARG TARGETARCH
WORKDIR /src
ENV CGO_ENABLED=0 GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build
RUN --mount=type=bind,target=/src \
    --mount=type=cache,id=go-mod,target=/go/pkg/mod \
    --mount=type=cache,id=go-build-${GO_VERSION}-${TARGETARCH},target=/root/.cache/go-build \
    go mod download
RUN --mount=type=bind,target=/src \
    --mount=type=cache,id=go-mod,target=/go/pkg/mod \
    --mount=type=cache,id=go-build-${GO_VERSION}-${TARGETARCH},target=/root/.cache/go-build \
    go build -trimpath -o /out/hello .

FROM scratch AS image
COPY --from=build /out/hello /hello
ENTRYPOINT ["/hello"]
