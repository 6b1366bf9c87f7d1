# The Dockerfile equivalent of examples/multistage.
ARG GREETING=hello
FROM busybox:1.37 AS base
# busybox-static has no adduser; these lines are what it would write.
RUN echo 'app:x:10001:10001::/home/app:/bin/sh' >> /etc/passwd
RUN echo 'app:x:10001:' >> /etc/group
RUN mkdir -p /home/app && chown app:app /home/app

FROM base AS build
ARG GREETING
ARG TARGETPLATFORM
USER app
WORKDIR /home/app/src
COPY greet.sh.in /home/app/src/
RUN --mount=type=cache,id=objects-${TARGETPLATFORM},target=/home/app/.cache/objects,uid=10001,gid=10001 \
    sed "s/@GREETING@/${GREETING}/" greet.sh.in > /home/app/.cache/objects/greet.sh && \
    chmod 0755 /home/app/.cache/objects/greet.sh && \
    mkdir -p /home/app/dist && cp /home/app/.cache/objects/greet.sh /home/app/dist/greet

FROM base AS image
USER app
WORKDIR /home/app
COPY --from=build /home/app/dist/greet /usr/local/bin/greet
ENTRYPOINT ["/usr/local/bin/greet"]
LABEL org.opencontainers.image.title=greet
