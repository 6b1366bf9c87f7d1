FROM busybox
MAINTAINER someone@example.com
