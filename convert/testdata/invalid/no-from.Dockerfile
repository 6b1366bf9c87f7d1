# A Dockerfile without a stage.
ARG VERSION=1
