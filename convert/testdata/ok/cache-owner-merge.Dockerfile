FROM busybox AS a
RUN --mount=type=cache,target=/root/.cache/ true
FROM busybox
USER nobody
RUN --mount=type=cache,target=/root/.cache,sharing=shared true
