FROM busybox
RUN <<EOF
	echo tab
  echo two
EOF
COPY <<EOF /x
	indented

EOF
