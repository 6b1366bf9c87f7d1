# syntax=docker/dockerfile:1
ARG GO_VERSION=1.26
ARG BASE=busybox

# The build stage.
FROM golang:${GO_VERSION} AS build
ARG VERSION=dev
ARG TARGETARCH
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
# Modules first, so they stay cached.
RUN --mount=type=cache,id=gomod,target=/go/pkg/mod,sharing=locked \
    go mod download
COPY . .
RUN --mount=type=cache,id=gomod,target=/go/pkg/mod,sharing=locked \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags "-X main.version=${VERSION}" -o /out/app .

FROM ${BASE}
ARG BASE
COPY --from=build /out/app /usr/local/bin/app
USER 65532:65532
EXPOSE 8080/tcp
LABEL org.opencontainers.image.title="app" version=$BASE
ENTRYPOINT ["/usr/local/bin/app"]
CMD ["serve"]
