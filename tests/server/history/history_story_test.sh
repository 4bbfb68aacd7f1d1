#!/usr/bin/env bash
# The README's interaction-history walk-through, run with curl against the real binary.
set -euo pipefail
bin=$1
# CONTEXTD_URL: run against that server (e.g. through the Prism validation proxy) instead.
if [ -n "${CONTEXTD_URL:-}" ]; then
  url=$CONTEXTD_URL
else
  . "$(dirname "$0")/../../support/contextd.sh"
  start_contextd "$bin" --sync none
fi
b=$url

# Bodies are JSON, as a real client declares them.
# CONTEXTD_KEY: the API key to send (the server started here runs without keys).
# On two nodes (CONTEXTD_TEST_BACKEND=redis), each request goes to the other node.
curl() {
  local send=(command curl)
  declare -F contextd_curl >/dev/null && send=(contextd_curl)
  "${send[@]}" -H 'Content-Type: application/json' ${CONTEXTD_KEY:+-H "X-Api-Key: $CONTEXTD_KEY"} "$@"
}

expect() {  # expect NAME ACTUAL PATTERN
  if [[ "$2" != *"$3"* ]]; then echo "FAIL $1: got $2, want $3"; exit 1; fi
  echo "ok $1"
}

expect keys "$(curl -sS -X PUT $b/contextd/v1/customers/C-4471 -d '{"account_number":"4|3|12|0|0|51|1"}')" \
  '"account_number":"4|3|12|0|0|51|1"'
expect capture "$(curl -sS -X POST $b/prweb/PRRestService/PegaMKTContainer/V2/CaptureResponse -d '{"CustomerID":"C-4471",
  "RankedResults":[{"Name":"TravelCard","Issue":"Sales","Group":"Cards","InteractionID":"-5120394857720391122",
  "Outcome":"Accepted","Behaviour":"Positive","Channel":"CallCenter","Direction":"Inbound","CampaignID":"NBA"}]}')" \
  '{"Status":"OK","Message":"Response captured successfully"}'
history=$(curl -sS "$b/prweb/api/PegaMKTContainer/V2/CustomerOfferHistory?CustomerID=C-4471")
expect offer-history "$history" '"Identifier":"/Sales/Cards/TravelCard"'
expect offer-time "$history" ' GMT"'
journey=$(curl -sS -X POST $b/lcm/messages -d '{"channel":"LCM","topic":"WebService","subtopic":"GetCustomerJourney",
  "data":{"callid":"77001","AccountNumber":"4|3|12|0|0|51|1","ChannelID":"2","MonthType":"6"}}')
expect journey "$journey" '"callid":"77001","response":[{"ContactID":"","CampaignName":"NBA"'
expect journey-type "$journey" '"ChannelType":2'
bad=$(curl -sS -w ' %{http_code}' -X POST $b/lcm/messages -d '{"channel":"LCM","topic":"WebService","subtopic":"GetCustomerJourney","data":{"ChannelID":2,"MonthType":3}}')
expect journey-error "$bad" '"errorMessage":"Callid is empty","msg":"Invalid Call ID."}}} 400'
echo "1 passed, 0 failed"
