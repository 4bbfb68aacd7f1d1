#!/usr/bin/env bash
# Runs cometd_story.mjs against the real contextd binary ($1) on a fresh data directory.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
out=$(mktemp)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir" "$out"' EXIT
CONTEXTD_ADMIN=root:secret "$bin" --port 0 --data-dir "$dir" --sync none >"$out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$out")
node "$here/cometd_story.mjs" "$port"
