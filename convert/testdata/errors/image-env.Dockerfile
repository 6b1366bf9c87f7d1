FROM golang:1.26
ENV PATH=/opt/bin:$PATH
