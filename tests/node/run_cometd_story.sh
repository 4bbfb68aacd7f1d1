#!/usr/bin/env bash
# Runs cometd_story.mjs against the real contextd binary ($1) on a fresh data directory.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../support/contextd.sh"
CONTEXTD_ADMIN=root:secret start_contextd "$bin" --sync none
node "$here/cometd_story.mjs" "$port"
