FROM busybox
RUN <<EOF
#!/bin/sh
echo hi
EOF
