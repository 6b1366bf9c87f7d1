FROM busybox
RUN --mount=type=cache,id=c,target=/c,sharing=locked true
RUN --mount=type=cache,id=c,target=/c true
