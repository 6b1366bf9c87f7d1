# Stage names Stowage reads otherwise, or that repeat.
FROM busybox AS base
RUN echo one > /one

# A second stage named base: the later one is the target --target base builds.
FROM busybox AS base
RUN echo two > /two

FROM busybox AS later
WORKDIR /work
RUN --mount=type=cache,target=cache,id=rel echo four > /four

FROM busybox AS context
COPY --from=base /two /two
RUN echo three > /three
COPY --from=later /four /four
