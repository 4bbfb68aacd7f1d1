#!/bin/sh
# Runs $CONTEXTD_UNDER_TEST with the arguments given under an fd limit of $FD_LIMIT (soft and
# hard): how a test starts the server with a low limit without lowering its own.
ulimit -n "$FD_LIMIT" && exec "$CONTEXTD_UNDER_TEST" "$@"
