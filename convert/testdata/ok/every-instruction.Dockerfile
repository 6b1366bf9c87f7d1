# syntax=docker/dockerfile:1
# Each instruction of docs/spec.md's "Coming from a Dockerfile" table.
ARG GO_VERSION=1.26
ARG BUILDPLATFORM

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS tools
ARG TARGETOS
ENV GOFLAGS=-mod=mod
WORKDIR /src
USER root
SHELL ["/bin/bash", "-eo", "pipefail", "-c"]
RUN --network=none echo offline
RUN --security=insecure echo privileged
RUN --mount=type=cache,id=gomod,target=/go/pkg/mod,sharing=locked \
    --mount=type=bind,from=golang:1.26,source=/usr/local/go,target=/goroot \
    --mount=type=tmpfs,target=/scratch,size=64m \
    --mount=type=secret,id=token,target=/run/secrets/token,required,mode=0400 \
    --mount=type=ssh,id=default,required \
    go env GOOS > /goos

FROM scratch AS app
COPY --from=tools --chown=1000:1000 --chmod=0755 --link /goos /etc/goos
COPY --exclude=*.md --parents ./cmd/./app/ /src/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tar.gz /opt/
ADD --keep-git-dir https://github.com/moby/buildkit.git#v0.34.2:docs /docs
ADD vendor.tar.gz /vendor/
COPY <<EOF /etc/app.conf
listen = 8080
EOF
ENTRYPOINT ["/app"]
CMD ["serve"]
EXPOSE 8080/tcp 53/udp
LABEL org.opencontainers.image.title=app
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD ["/app", "health"]
