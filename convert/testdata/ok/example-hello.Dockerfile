# The Dockerfile equivalent of examples/hello.
FROM busybox:1.37 AS hello
ARG RUN=first
RUN --mount=type=cache,id=hello-notes,target=/var/cache/notes \
    echo "build ${RUN} was here" >> /var/cache/notes/log
RUN --mount=type=cache,id=hello-notes,target=/var/cache/notes <<EOF
echo "builds that used this cache:"
cat /var/cache/notes/log
EOF
