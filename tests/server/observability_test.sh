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
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
      rm -rf "$dir" "$dir".* "$out" "$err"' EXIT
# Read whole: `grep -q` would stop reading and fail the writer with SIGPIPE (pipefail).
help=$("$bin" --help)
grep -q 'CONTEXTD_PORT=9000' <<<"$help" || { echo "FAIL help names the variables"; exit 1; }
admin_key=obs-admin-key-secret-0123456789abcdef
# Starts the server on the data directory (again after a stop), appending its request log to
# $err; sets pid, port and b.
start() {
  : >"$out"
  CONTEXTD_PORT=0 CONTEXTD_DATA_DIR="$dir" CONTEXTD_SYNC=none CONTEXTD_ADMIN=root:secret \
    CONTEXTD_LOG_LEVEL=info CONTEXTD_ADMIN_KEY=$admin_key "$bin" >"$out" 2>>"$err" &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
  port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$out")
  [ -n "$port" ] || { echo "FAIL the server did not start"; cat "$out" "$err"; exit 1; }
  b=http://127.0.0.1:$port
}
start
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
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $reader" "$b/metrics")" = 403 ] ||
  { echo "FAIL metrics need an admin key"; exit 1; }
type=$(curl -s -o /dev/null -w '%{content_type}' -H "X-Api-Key: $admin_key" "$b/metrics")
[[ "$type" == text/plain* ]] || { echo "FAIL content type $type"; exit 1; }
scrape() { curl -s -H "X-Api-Key: $admin_key" "$b/metrics" >"$dir.$1"; }
# Scrapes before and after a known amount of traffic: each counter grows by exactly what was
# sent (the first scrape counts itself once it is answered), and by nothing else.
scrape m0
for _ in 1 2 3; do curl -s -H "X-Api-Key: $reader" "$b/genesys/1/cs/services/anonymous/k/active" >/dev/null; done
curl -s "$b/nope" >/dev/null
curl -s -H "Authorization: Bearer $writer" -X POST "$b/genesys/1/cs/services/start" -d '{"contact_key":"k"}' >/dev/null
curl -s -u root:secret -X POST "$b/api/v2/notifications/handshake" \
  -d '[{"id":"1","channel":"/meta/handshake"}]' >/dev/null
scrape m1
cat >"$dir.py" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
def families(path):
    return {f.name: f for f in text_string_to_metric_families(open(path).read())}
def sample(fams, family, suffix="", **labels):
    for s in fams[family].samples:
        if s.name == family + suffix and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise SystemExit(f"FAIL no sample {family}{suffix} {labels}")
def counts(fams, family, suffix):  # {(route, status or le): value}
    f = fams.get(family)
    return {} if f is None else {tuple(sorted(s.labels.items())): s.value
                                 for s in f.samples if s.name == family + suffix}
def grew(before, after, family, suffix=""):  # the samples that changed, by how much
    b, a = counts(before, family, suffix), counts(after, family, suffix)
    return {k: v - b.get(k, 0) for k, v in a.items() if v != b.get(k, 0)}
PY
/usr/bin/python3 - "$dir.py" "$dir.m0" "$dir.m1" <<'PY'
import sys
exec(open(sys.argv[1]).read())
m0, m1 = families(sys.argv[2]), families(sys.argv[3])
active = "GET /genesys/1/cs/services/anonymous/:key/active"
start = "POST /genesys/1/cs/services/start"
hs = "POST /api/v2/notifications/:type"
assert m1["contextd_http_requests"].type == "counter"
sent = {(active, "200"): 3, ("other", "404"): 1, (start, "201"): 1, (hs, "200"): 1,
        ("GET /metrics", "200"): 1}
expected = {(("route", r), ("status", s)): n for (r, s), n in sent.items()}
got = grew(m0, m1, "contextd_http_requests", "_total")
assert got == expected, f"FAIL request counters moved by {got}, not {expected}"
assert m1["contextd_http_request_duration_seconds"].type == "histogram"
counted = grew(m0, m1, "contextd_http_request_duration_seconds", "_count")
assert counted == {(("route", r),): n for (r, s), n in sent.items()}, f"FAIL {counted}"
buckets = grew(m0, m1, "contextd_http_request_duration_seconds", "_bucket")
assert buckets[(("le", "+Inf"), ("route", active))] == 3, buckets
assert buckets[(("le", "1"), ("route", active))] == 3, buckets
took = grew(m0, m1, "contextd_http_request_duration_seconds", "_sum")
assert 0 < took[(("route", active),)] < 3, took
assert sample(m0, "contextd_http_requests_in_flight") == 1  # the scrape itself
assert sample(m1, "contextd_http_requests_in_flight") == 1
assert sample(m0, "contextd_cometd_clients") == 0
assert sample(m1, "contextd_cometd_clients") == 1  # the handshake
assert sample(m1, "contextd_cometd_held_connects") == 0
assert sample(m1, "contextd_rocksdb_writes_stopped") == 0
assert sample(m1, "contextd_rocksdb_write_stall_seconds", "_total") == 0
assert sample(m1, "contextd_rocksdb_pending_compaction_bytes") >= 0
assert sample(m1, "process_resident_memory_bytes") > 1 << 20
assert sample(m1, "process_open_fds") > 3
print("ok metrics:", len(m1), "families; request counters grew by", sum(got.values()))
PY
# Request ids: echoed when given, generated otherwise.
id=$(curl -s -D - -o /dev/null -H 'X-Request-Id: trace-42' "$b/health" | tr -d '\r' | sed -n 's/^X-Request-Id: //ip')
[ "$id" = trace-42 ] || { echo "FAIL echoed request id: $id"; exit 1; }
gen=$(curl -s -D - -o /dev/null "$b/health" | tr -d '\r' | sed -n 's/^X-Request-Id: //ip')
[ -n "$gen" ] && [ "$gen" != trace-42 ] || { echo "FAIL generated request id"; exit 1; }
# The log is written every 100 ms: wait (5 s at most) for the last request's line.
for _ in $(seq 100); do grep -q "$gen" "$err" && break; sleep 0.05; done
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
# The RocksDB figures move: after a restart the recovered writes are in SST files, and reads
# of them look blocks up in the block cache (scans: point reads may be served by the row
# cache), hits among them once a block is cached.
for i in 1 2 3; do
  curl -s -H "X-Api-Key: $writer" -X POST "$b/genesys/1/cs/services/start" \
    -d '{"customer_id":"O1"}' >/dev/null
  curl -s -H "X-Api-Key: $writer" -X POST "$b/contextd/v1/interactions" >/dev/null \
    -d "{\"customer_id\":\"O1\",\"channel\":\"sms\",\"time\":\"2026-01-0${i}T10:00:00Z\"}"
done
kill "$pid"; wait "$pid" || { echo "FAIL the server did not stop cleanly"; exit 1; }
start
scrape m2
for _ in $(seq 10); do
  [[ $(curl -s -H "X-Api-Key: $reader" "$b/genesys/1/cs/customers/O1/services") == *O1* ]] &&
    [[ $(curl -s -H "X-Api-Key: $reader" "$b/contextd/v1/interactions?customer_id=O1") \
       == *sms* ]] ||
    { echo "FAIL reads after the restart"; exit 1; }
done
scrape m3
/usr/bin/python3 - "$dir.py" "$dir.m2" "$dir.m3" <<'PY'
import sys
exec(open(sys.argv[1]).read())
m2, m3 = families(sys.argv[2]), families(sys.argv[3])
assert sample(m2, "contextd_rocksdb_live_sst_bytes") > 0, "FAIL no live SST bytes after a restart"
hits = [sample(m, "contextd_rocksdb_block_cache_hits", "_total") for m in (m2, m3)]
misses = [sample(m, "contextd_rocksdb_block_cache_misses", "_total") for m in (m2, m3)]
ratio = [sample(m, "contextd_rocksdb_block_cache_hit_ratio") for m in (m2, m3)]
assert hits[1] - hits[0] >= 10, f"FAIL block cache hits {hits} after 20 scans"
assert hits[1] + misses[1] > hits[0] + misses[0]
for h, m, r in zip(hits, misses, ratio):
    assert abs(r - (h / (h + m) if h + m else 1.0)) < 1e-9, \
        f"FAIL ratio {r} for {h} hits, {m} misses"
assert ratio[1] != ratio[0], f"FAIL the hit ratio did not move: {ratio}"
print("ok rocksdb: live SST bytes", sample(m2, "contextd_rocksdb_live_sst_bytes"),
      "block cache hits", hits, "misses", misses, "ratio", ratio)
PY
echo "1 passed, 0 failed"
