ARG V=1
FROM busybox
LABEL v=$V
