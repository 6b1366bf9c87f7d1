FROM busybox AS base
ARG GOFLAGS=-mod=vendor
ENV NODE_ENV=production
WORKDIR /w
RUN echo hi > out

# ARG without a value: the stage keeps what it inherits (NODE_ENV from
# ENV, GOFLAGS from the parent stage); FLAVOR is unset unless given.
FROM base AS child
ARG NODE_ENV
ARG GOFLAGS
ARG FLAVOR
RUN echo "$NODE_ENV $GOFLAGS $FLAVOR" > /child

# An ENV and then an ARG of the same name: the ARG wins in what follows.
FROM busybox AS order
ENV FOO=a
ARG FOO=b
RUN echo $FOO > /foo

FROM scratch
# COPY --from reads from the stage's root, whatever its WORKDIR.
COPY --from=base w/out /out
COPY --from=child /child /child
COPY --from=order /foo /foo
