FROM busybox AS base
ARG NAME=app
SHELL ["/bin/sh", "-e", "-c"]
RUN <<EOF
echo one > /one
echo "$HOME" > /home.txt
EOF
COPY <<EOF /etc/app.conf
name=${NAME}
cost=$$5
EOF
COPY --chmod=0755 <<'EOT' /usr/local/bin/hello
#!/bin/sh
echo "hello $1 ${NAME}"
EOT
RUN ["/bin/echo", "exec form", "it's"]
CMD echo $HOME
HEALTHCHECK --interval=30s --retries=3 CMD wget -q -O- http://localhost/ || exit 1
STOPSIGNAL SIGTERM
VOLUME /data
