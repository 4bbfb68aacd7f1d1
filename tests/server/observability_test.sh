#!/usr/bin/env bash
# Operability of the real binary: configured by environment variables; GET /metrics scraped
# with the Prometheus client library's own text parser (Debian's python3-prometheus-client);
# GET /health and /ready; one JSON log line per request with its X-Request-Id, never a
# credential.
set -euo pipefail
bin=$1
dir=$(mktemp -d)
out=$(mktemp)
err=$(mktemp)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir" "$out" "$err"' EXIT
"$bin" --help | grep -q 'CONTEXTD_PORT=9000' || { echo "FAIL help names the variables"; exit 1; }
admin_key=obs-admin-key-secret-0123456789abcdef
CONTEXTD_PORT=0 CONTEXTD_DATA_DIR="$dir" CONTEXTD_SYNC=none CONTEXTD_ADMIN=root:secret \
  CONTEXTD_LOG_LEVEL=info CONTEXTD_ADMIN_KEY=$admin_key "$bin" >"$out" 2>"$err" &
pid=$!
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$out")
b=http://127.0.0.1:$port
[ "$(curl -s $b/health)" = '{"status":"ok"}' ] || { echo "FAIL health"; exit 1; }
[ "$(curl -s $b/ready)" = '{"status":"ready"}' ] || { echo "FAIL ready"; exit 1; }
# API keys: the admin key from the environment creates a reader and a writer key.
key() {  # ROLE: a new key of that role for the default tenant
  curl -s -H "X-Api-Key: $admin_key" -X POST "$b/contextd/v1/keys" \
    -d "{\"role\":\"$1\",\"tenant\":\"\"}" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p'
}
reader=$(key reader)
writer=$(key writer)
[[ "$reader" == cxd_* && "$writer" == cxd_* ]] || { echo "FAIL keys: $reader $writer"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "$b/genesys/1/cs/customers/c/services/active")" = 401 ] ||
  { echo "FAIL no key"; exit 1; }
for _ in 1 2 3; do curl -s -H "X-Api-Key: $reader" "$b/genesys/1/cs/services/anonymous/k/active" >/dev/null; done
curl -s "$b/nope" >/dev/null
curl -s -H "Authorization: Bearer $writer" -X POST "$b/genesys/1/cs/services/start" -d '{"contact_key":"k"}' >/dev/null
curl -s -u root:secret -X POST "$b/api/v2/notifications/handshake" \
  -d '[{"id":"1","channel":"/meta/handshake"}]' >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $reader" "$b/metrics")" = 403 ] ||
  { echo "FAIL metrics need an admin key"; exit 1; }
type=$(curl -s -o /dev/null -w '%{content_type}' -H "X-Api-Key: $admin_key" "$b/metrics")
[[ "$type" == text/plain* ]] || { echo "FAIL content type $type"; exit 1; }
curl -s -H "X-Api-Key: $admin_key" "$b/metrics" | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
def sample(family, suffix="", **labels):
    for s in families[family].samples:
        if s.name == family + suffix and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise SystemExit(f"FAIL no sample {family}{suffix} {labels}")
active = "GET /genesys/1/cs/services/anonymous/:key/active"
assert families["contextd_http_requests"].type == "counter"
assert sample("contextd_http_requests", "_total", route=active, status="200") == 3
assert sample("contextd_http_requests", "_total", route="other", status="404") == 1
assert sample("contextd_http_requests", "_total", route="POST /genesys/1/cs/services/start", status="201") == 1
h = families["contextd_http_request_duration_seconds"]
assert h.type == "histogram"
assert sample("contextd_http_request_duration_seconds", "_count", route=active) == 3
assert sample("contextd_http_request_duration_seconds", "_bucket", route=active, le="+Inf") == 3
assert sample("contextd_http_request_duration_seconds", "_bucket", route=active, le="1") == 3
assert sample("contextd_http_requests_in_flight") == 1  # this scrape
assert sample("contextd_cometd_clients") == 1
assert 0 <= sample("contextd_rocksdb_block_cache_hit_ratio") <= 1
for name in ["contextd_rocksdb_pending_compaction_bytes", "contextd_rocksdb_writes_stopped",
             "contextd_rocksdb_live_sst_bytes"]:
    assert sample(name) >= 0, name
assert sample("contextd_rocksdb_write_stall_seconds", "_total") >= 0
assert sample("process_resident_memory_bytes") > 1 << 20
assert sample("process_open_fds") > 3
print("ok metrics:", len(families), "families")
'
# Request ids: echoed when given, generated otherwise.
id=$(curl -s -D - -o /dev/null -H 'X-Request-Id: trace-42' "$b/health" | tr -d '\r' | sed -n 's/^X-Request-Id: //ip')
[ "$id" = trace-42 ] || { echo "FAIL echoed request id: $id"; exit 1; }
gen=$(curl -s -D - -o /dev/null "$b/health" | tr -d '\r' | sed -n 's/^X-Request-Id: //ip')
[ -n "$gen" ] && [ "$gen" != trace-42 ] || { echo "FAIL generated request id"; exit 1; }
sleep 0.4  # the log is written every 100 ms
/usr/bin/python3 - "$err" "$gen" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
assert "secret" not in text and "JSESSIONID" not in text and "Basic" not in text, "credential logged"
assert "cxd_" not in text and "Bearer" not in text, "API key logged"
lines = [json.loads(l) for l in text.splitlines() if l.strip()]
requests = [l for l in lines if "request_id" in l]
assert len(requests) >= 9, len(requests)
for l in requests:
    assert set(l) == {"time", "level", "request_id", "method", "route", "status", "us", "tenant"}, l
    assert isinstance(l["us"], int) and isinstance(l["status"], int)
assert any(l["request_id"] == "trace-42" and l["route"] == "GET /health" for l in requests)
assert any(l["request_id"] == sys.argv[2] for l in requests)
assert any(l["status"] == 404 and l["route"] == "" for l in requests)
print("ok log:", len(requests), "request lines")
PY
echo "1 passed, 0 failed"
