FROM busybox AS self
COPY --from=self a /c
COPY --from=later a /d
RUN --mount=type=bind,from=1,target=/x true
FROM busybox AS later
