ARG foo-bar=1
FROM busybox
ARG 9lives
RUN echo
