FROM Busybox
WORKDIR /w
RUN --mount=type=cache,target=cache true
COPY --from=Other a /b
