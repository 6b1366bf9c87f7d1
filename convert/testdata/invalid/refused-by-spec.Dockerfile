FROM Busybox
WORKDIR /w
RUN --mount=type=cache,target=cache true
COPY --from=Other a /b
FROM busybox AS self
COPY --from=self a /c
