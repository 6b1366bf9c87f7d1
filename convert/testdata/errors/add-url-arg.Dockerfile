FROM busybox
ARG TINI_VERSION=v0.19.0
ADD https://github.com/krallin/tini/releases/download/${TINI_VERSION}/tini /tini
ARG REPO=https://github.com/moby/buildkit.git
ADD ${REPO}#v0.10.1 /bk
