FROM busybox
ARG NAME
COPY a ${NAME:-default}/
