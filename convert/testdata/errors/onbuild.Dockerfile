FROM busybox
ONBUILD RUN echo hi
