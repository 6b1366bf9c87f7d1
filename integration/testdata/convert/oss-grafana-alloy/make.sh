#!/bin/sh
# Stands in for `make alloy` (no make in the image): what the Makefile's
# alloy target does in essence, with the same environment.
set -e
[ "$1" = alloy ]
mkdir -p build
go build -tags "$GO_TAGS" -ldflags "-X main.version=${VERSION:-dev}" -o build/alloy ./cmd/alloy
