ARG V=abc
FROM alpine:${V/?/}
ARG V
ARG PREFIX=/usr
ENV X=$V
ENV Y=${X%?}
COPY ${V#?} /x
ENV P=/usr/local
ENV Q=${P#$PREFIX} R=${P/$PREFIX/opt}
