#!/usr/bin/env bash
# The README's IVR callback walk-through, run with curl against the real binary.
set -euo pipefail
bin=$1
# CONTEXTD_URL: run against that server (e.g. through the Prism validation proxy) instead.
if [ -n "${CONTEXTD_URL:-}" ]; then
  url=$CONTEXTD_URL
else
  . "$(dirname "$0")/../support/contextd.sh"
  start_contextd "$bin" --sync none
fi
cs=$url/genesys/1/cs

# Bodies are JSON, as a real client declares them.
# CONTEXTD_KEY: the API key to send (the server started here runs without keys).
# On two nodes (CONTEXTD_TEST_BACKEND=redis), each request goes to the other node.
curl() {
  local send=(command curl)
  declare -F contextd_curl >/dev/null && send=(contextd_curl)
  "${send[@]}" -H 'Content-Type: application/json' ${CONTEXTD_KEY:+-H "X-Api-Key: $CONTEXTD_KEY"} "$@"
}

expect() {  # expect NAME ACTUAL PATTERN: ACTUAL contains PATTERN
  if [[ "$2" != *"$3"* ]]; then echo "FAIL $1: got $2, want $3"; exit 1; fi
  echo "ok $1"
}
same() {  # same NAME ACTUAL WANT: ACTUAL is exactly WANT
  if [[ "$2" != "$3" ]]; then echo "FAIL $1: got $2, want exactly $3"; exit 1; fi
  echo "ok $1"
}

started=$(curl -sS -X POST "$cs/services/start" -H 'Content-Type: application/json' \
  -d '{"contact_key":"408-832-7799","service_type":"NewWireless","media_type":"voice"}')
id=$(sed -n 's/.*"service_id":\([0-9]*\).*/\1/p' <<<"$started")
expect start "$started" '"contact_key":"408-832-7799"'
state=$(curl -sS -X POST "$cs/services/$id/states/start" -d '{"state_type":"InQueue"}')
expect state "$state" '"state_id":0'

found=$(curl -sS "$cs/services/anonymous/408-832-7799/active?active_states=true")
expect callback "$found" "\"service_id\":$id,"
expect callback-state "$found" '"active_states":[{"state_id":0,"state_type":"InQueue"'

assoc=$(curl -sS -X POST "$cs/customers/ABC1234/services/$id")
expect associate "$assoc" '"customer_id":"ABC1234"'
same anonymous-empty "$(curl -sS "$cs/services/anonymous/408-832-7799/active")" '[]'
expect customer "$(curl -sS "$cs/customers/ABC1234/services/active?active_states=true")" \
  "\"service_id\":$id,"

code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$cs/services/$id/end" -d '{"disposition":"Sold"}')
expect complete "$code" 204
expect history "$(curl -sS "$cs/customers/ABC1234/services/completed")" '"disposition":"Sold"'
since=$(date -u -d '1 hour ago' +%FT%TZ)
expect started-since "$(curl -sS "$cs/customers/ABC1234/services/completed?started_from=$since")" \
  "\"service_id\":$id,"
same started-before "$(curl -sS "$cs/customers/ABC1234/services/completed?started_to=$since")" '[]'
if [ -z "${CONTEXTD_URL:-}" ]; then  # a request outside the contract: not sent via a validating proxy
  bad=$(curl -sS -w ' %{http_code}' "$cs/customers/ABC1234/services?active_states=maybe")
  expect bad-boolean "$bad" '400'
fi
echo "1 passed, 0 failed"
