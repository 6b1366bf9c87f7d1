FROM golang:1.26
WORKDIR src
