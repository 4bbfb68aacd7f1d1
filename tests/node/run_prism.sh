#!/usr/bin/env bash
# Runs the end-to-end walk-throughs (curl IVR and history stories, the npm CometD agent story,
# the browser timeline test) through Prism's validation proxy (`prism proxy --errors`) in front
# of the real contextd binary ($1): a request or response that differs from
# openapi/openapi.yaml fails the run.
set -euo pipefail
bin=$1
shot=${2:-/dev/null}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(mktemp -d)
trap 'kill ${pid:-} ${prism_pid:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
# Every suite sends this admin key (the contract requires one on the key-checked routes).
export CONTEXTD_KEY=prism-admin-key-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
port=$(free_port)
pid=
# A fresh server (empty store) on the same port for each suite, so suites do not see each
# other's data.
fresh_server() {
  if [ -n "$pid" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir/data" "$dir/server.log"
  "$bin" --port "$port" --data-dir "$dir/data" --sync none --log-level warn --admin root:secret \
    --admin-key "$CONTEXTD_KEY" \
    >"$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$dir/server.log" && return; sleep 0.1; done
  cat "$dir/server.log"; exit 1
}
proxy_port=$(free_port)
"$here/node_modules/.bin/prism" proxy "$root/openapi/openapi.yaml" "http://127.0.0.1:$port" \
  --errors --host 127.0.0.1 --port "$proxy_port" >"$dir/prism.log" 2>&1 &
prism_pid=$!
for _ in $(seq 300); do grep -q 'Prism is listening' "$dir/prism.log" && break; sleep 0.1; done
grep -q 'Prism is listening' "$dir/prism.log" || { cat "$dir/prism.log"; exit 1; }
proxy=http://127.0.0.1:$proxy_port

status=0
fresh_server; CONTEXTD_URL=$proxy "$root/tests/server/ivr_story_test.sh" - >/dev/null || status=1
fresh_server; CONTEXTD_URL=$proxy "$root/tests/server/history/history_story_test.sh" - >/dev/null || status=1
fresh_server; node "$here/cometd_story.mjs" "$proxy_port" >/dev/null || status=1
fresh_server; node "$here/ui_test.mjs" "$proxy_port" "$shot" >/dev/null || status=1
fresh_server; node "$here/route_tour.mjs" "$proxy_port" || status=1
# Prism reports each mismatch (request or response) as a violation or a failed request.
if grep -E 'violation|✖' "$dir/prism.log"; then status=1; fi
requests=$(grep -c 'Request received' "$dir/prism.log" || true)
echo "prism: $requests requests validated, status $status"
exit $status
