FROM busybox
ARG MNT_TYPE=cache
RUN --mount=type=$MNT_TYPE,target=/bkma-cache touch /bkma-cache/foo
RUN --mount=type=cache,target=/bkma-cache [ -f /bkma-cache/foo ] && echo ok > /mount-arg-ok
