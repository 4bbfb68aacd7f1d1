#!/usr/bin/env bash
# Runs cometd_story.mjs against the real contextd binary ($1) on a fresh data directory; with
# CONTEXTD_TEST_BACKEND=redis on two nodes over the Redis cluster, the CometD clients on the
# first and every REST call on the second.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../support/contextd.sh"
CONTEXTD_ADMIN=root:secret start_contextd "$bin" --sync none
if [ -n "${contextd_urls:-}" ]; then
  node "$here/cometd_story.mjs" "${contextd_urls[0]##*:}" "${contextd_urls[1]##*:}"
else
  node "$here/cometd_story.mjs" "$port"
fi
