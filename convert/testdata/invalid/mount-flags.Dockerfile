FROM busybox
RUN --mount=type=cache,target=/x,sharing=bogus true
RUN --mount=type=volume,target=/y true
