FROM busybox
ARG NODE_ENV=production
RUN --mount=type=cache,id=npm-${NODE_ENV},target=/root/.npm true
