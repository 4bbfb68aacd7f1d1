#!/usr/bin/env bash
# REST latency with and without 500 held CometD clients, side by side in one run: wrk drives
# the IVR's anonymous-active query against contextd alone, then while bench/cometd_clients.mjs
# holds N stock CometD clients on the same server. Prints one RESULT line of JSON.
#
# Environment: BUILD_DIR (default build), CLIENTS (default 500), DURATION (default 10), CONNS
# (default 16).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
clients=${CLIENTS:-500}
duration=${DURATION:-10}
conns=${CONNS:-16}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# --no-auth: the REST load sends no API key (what is compared is the CometD clients' effect).
CONTEXTD_ADMIN=root:secret "$build/contextd" --port 0 --data-dir "$work/data" --threads 2 --log-level warn --no-auth \
  >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/server.log" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$work/server.log")
base=http://127.0.0.1:$port
curl -s -X POST "$base/genesys/1/cs/services/start" -d '{"contact_key":"408-555-0100"}' >/dev/null
url="$base/genesys/1/cs/services/anonymous/408-555-0100/active"
rest() { wrk -t2 -c"$conns" -d"${duration}s" -s "$root/bench/load/fixed.lua" "$url" | sed -n 's/^RESULT //p'; }

alone=$(rest)
node "$root/bench/cometd_clients.mjs" "$port" "$clients" >"$work/clients.log" 2>&1 &
node_pid=$!
pids+=($node_pid)
for _ in $(seq 600); do grep -q '^held' "$work/clients.log" && break; sleep 0.1; done
grep -q '^held' "$work/clients.log" || { cat "$work/clients.log" >&2; exit 1; }
curl -s -X POST "$base/contextd/v1/latency/reset" >/dev/null
held=$(rest)
# CometD requests served while wrk ran: with connects held, only the ones whose hold ended.
polls=$(curl -s "$base/contextd/v1/latency" | python3 -c "
import json,sys
print(sum(r['count'] for r in json.load(sys.stdin)['routes'] if 'notifications' in r['route']))")
kill -TERM "$node_pid"
wait "$node_pid" || { cat "$work/clients.log" >&2; exit 1; }
delivered=$(sed -n 's/^delivered //p' "$work/clients.log")
echo "RESULT {\"clients\":$clients,\"rest_alone\":$alone,\"rest_with_clients\":$held,\"cometd_requests_during_run\":$polls,\"delivered_under_load\":$delivered}"
