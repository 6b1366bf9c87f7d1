FROM busybox
RUN --mount=type=cache,target=/c,from=alpine,source=/etc true
