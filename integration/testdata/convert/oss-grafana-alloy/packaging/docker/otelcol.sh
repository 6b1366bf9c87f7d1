#!/bin/sh
exec /bin/alloy otelcol "$@"
