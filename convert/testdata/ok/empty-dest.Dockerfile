FROM busybox
ENV empty=""
WORKDIR /w
COPY a $empty
