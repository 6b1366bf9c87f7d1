# The Dockerfile equivalent of examples/apt.
FROM debian:bookworm AS image
ARG DEBIAN_FRONTEND=noninteractive
# Debian's image deletes every .deb after an install (docker-clean).
RUN rm -f /etc/apt/apt.conf.d/docker-clean
RUN --mount=type=cache,id=apt-cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=apt-lists,target=/var/lib/apt/lists,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends jq
CMD ["jq", "--version"]
