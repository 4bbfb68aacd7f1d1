#!/usr/bin/env bash
# Runs ui_test.mjs against the real contextd binary ($1); the screenshot goes to $2.
set -euo pipefail
bin=$1
shot=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
out=$(mktemp)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir" "$out"' EXIT
"$bin" --port 0 --data-dir "$dir" --sync none --log-level warn >"$out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$out")
node "$here/ui_test.mjs" "$port" "$shot"
