#!/usr/bin/env bash
# make bench: one command, one run, one table. Builds a data set, loads it into contextd and
# into a private PostgreSQL, measures both side by side with the same clients and concurrency,
# measures a trivial Pistache handler's ceiling, and writes the figures to bench/results/.
#
# The machine is shared and noisy: each comparison runs in ROUNDS interleaved rounds (contextd,
# PostgreSQL, ceiling, contextd, ...), so a slow spell hits all of them alike; the table shows
# each figure's median over the rounds and the median of the per-round ratios.
#
# Environment: SCALE (services, default 1000000), DURATION (seconds per load run, default 5),
# ROUNDS (default 3), CONNS (client connections, default 32), BUILD_DIR (default build).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
scale=${SCALE:-1000000}
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
conns=${CONNS:-32}
small=100000
customers=$((scale / 10))
keys=$((scale / 5))
end_ms=1767225600000  # the data set's "now": 2026-01-01T00:00:00Z
load=$root/bench/load
work=$(mktemp -d /tmp/contextd-bench-XXXXXX)
chmod 755 "$work"
results=$root/bench/results
mkdir -p "$results"
pids=()
pgdir=$work/pg

cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  if [ -f "$pgdir/postmaster.pid" ]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pgdir" -m immediate stop >/dev/null 2>&1 || true
  fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '== %s\n' "$*" >&2; }
json_get() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d$2)" "$1"; }
wait_port() {  # FILE: waits for a "listening on ...:PORT" line, prints PORT
  for _ in $(seq 200); do
    if grep -q "listening on" "$1" 2>/dev/null; then sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$1"; return; fi
    sleep 0.05
  done
  echo "server did not start: $(cat "$1")" >&2; exit 1
}
# API keys: the loads send a reader key (reads) or a writer key (writes), as an IVR and a
# routing strategy would; the admin key reads the latency figures. The server also runs
# --no-auth so that the same process can be measured without a key (the cost of auth).
admin_key=bench-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
api_key=
start_contextd() {  # DATA_DIR LOG: starts contextd; sets cport, cpid, reader and writer
  "$build/contextd" --port 0 --data-dir "$1" --threads 2 --log-level warn --no-auth \
    --admin-key "$admin_key" >"$2" 2>&1 &
  cpid=$!
  pids+=("$cpid")
  cport=$(wait_port "$2")
  reader=$(new_key "$cport" reader)
  writer=$(new_key "$cport" writer)
}
new_key() {  # PORT ROLE: a new API key of ROLE for the default tenant
  curl -s -H "X-Api-Key: $admin_key" -X POST "http://127.0.0.1:$1/contextd/v1/keys" \
    -d "{\"role\":\"$2\",\"tenant\":\"\"}" | python3 -c "import json,sys; print(json.load(sys.stdin)['key'])"
}
wrk_run() {  # SCRIPT URL CONNS [wrk args...] -- [script args...]: prints the RESULT json
  local script=$1 url=$2 c=$3; shift 3
  wrk -t2 -c"$c" -d"${duration}s" --timeout 5s -s "$script" ${api_key:+-H "X-Api-Key: $api_key"} \
    "$url" "$@" | sed -n 's/^RESULT //p'
}
warm_up() {  # URL CUSTOMERS KEYS: one pass of the read mix over every key (load/warm.lua)
  local pass_s=$(( ($3 + 2 * $2) / 25000 + 1 ))  # at 25k req/s (cold), at least one pass
  duration=$(( pass_s > duration ? pass_s : duration )) \
    wrk_run "$load/warm.lua" "$1" "$conns" -- "$2" "$3" "$end_ms" 2 >/dev/null
}
latency() {  # PORT ROUTE: server-side {p50,p99} of a route since the last reset
  curl -s -H "X-Api-Key: $admin_key" "http://127.0.0.1:$1/contextd/v1/latency" | python3 -c "
import json,sys
routes={r['route']:r for r in json.load(sys.stdin)['routes']}
r=routes.get(sys.argv[1],{})
print(json.dumps({'count':r.get('count',0),'p50_us':r.get('p50_us'),'p99_us':r.get('p99_us'),'p999_us':r.get('p999_us')}))" "$2"
}
reset_latency() {
  curl -s -H "X-Api-Key: $admin_key" -X POST "http://127.0.0.1:$1/contextd/v1/latency/reset" >/dev/null
}
median() {  # RESULT-JSON...: each field's median over the runs, plus the runs themselves
  python3 -c "
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
m = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != 'runs'}
m['runs'] = runs
print(json.dumps(m))" "$@"
}
ratio() {  # A-RUNS B-RUNS A_KEY B_KEY [B_FACTOR]: median of the per-round ratios a/(b*factor)
  python3 -c "
import json, statistics, sys
a, b = json.loads(sys.argv[1])['runs'], json.loads(sys.argv[2])['runs']
f = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
print(round(statistics.median(x[sys.argv[3]] / (y[sys.argv[4]] * f) for x, y in zip(a, b)), 2))" "$@"
}
pgbench_run() {  # CONNS FILES...: prints {"tps","p50_us","p99_us","p999_us"}
  local c=$1; shift
  local logdir=$work/pglog.$RANDOM
  mkdir -p "$logdir" && chmod 777 "$logdir"
  (cd "$logdir" && pgbench -h 127.0.0.1 -p "$pgport" -U bench -n -M prepared -c "$c" -j 2 \
     -T "$duration" -D customers="$customers" -D keys="$keys" -D end_ms="$end_ms" \
     -l --log-prefix=tx "$@" bench) >"$logdir/out" 2>&1 || { cat "$logdir/out" >&2; exit 1; }
  python3 - "$logdir" <<'PY'
import glob, json, re, sys
d = sys.argv[1]
out = open(d + "/out").read()
tps = float(re.search(r"tps = ([0-9.]+) \(without initial", out).group(1))
lat = sorted(int(l.split()[2]) for f in glob.glob(d + "/tx*") for l in open(f))
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else None
print(json.dumps({"tps": tps, "p50_us": q(0.5), "p99_us": q(0.99), "p999_us": q(0.999)}))
PY
}

say "storage micro-benchmark (Google Benchmark)"
"$build/bench/storage_bench" --benchmark_format=json --benchmark_out="$work/storage.json" \
  --benchmark_out_format=json >/dev/null
storage=$(python3 -c "
import json
b={x['name']:x['real_time'] for x in json.load(open('$work/storage.json'))['benchmarks']}
w=b['BM_StorageQueryOneDayWindow/100000']/b['BM_StorageQueryOneDayWindow/10']
a=b['BM_StorageQueryActive/100000']/b['BM_StorageQueryActive/10']
print(json.dumps({'window_1day_us':{'10':b['BM_StorageQueryOneDayWindow/10'],'100000':b['BM_StorageQueryOneDayWindow/100000'],'ratio':round(w,2)},'active_us':{'10':b['BM_StorageQueryActive/10'],'100000':b['BM_StorageQueryActive/100000'],'ratio':round(a,2)}}))")

say "history micro-benchmark (Google Benchmark)"
"$build/bench/history_bench" --benchmark_format=json --benchmark_out="$work/history.json" \
  --benchmark_out_format=json >/dev/null
history=$(python3 -c "
import json
b={x['name']:x['real_time'] for x in json.load(open('$work/history.json'))['benchmarks']}
n='BM_HistoryThreeMonthWindow/'
print(json.dumps({'window_3month_us':{'30':b[n+'30'],'100000':b[n+'100000'],'ratio':round(b[n+'100000']/b[n+'30'],2)}}))")

say "data sets: $scale services ($customers customers, $keys contact keys) and $small"
mkdir -p "$work/data" "$work/small"
"$build/bench/datagen" --services="$scale" --customers="$customers" --keys="$keys" --end-ms="$end_ms" "$work/data" >&2
"$build/bench/datagen" --services="$small" --customers="$((small / 10))" --keys="$((small / 5))" --end-ms="$end_ms" "$work/small" >&2

say "contextd import"
import_line=$("$build/contextd" import --data-dir "$work/db" "$work/data/services.ndjson" 2>/dev/null)
echo "$import_line" >&2
import_rate=$(sed -n 's/.*: \([0-9]*\) services\/s;.*/\1/p' <<<"$import_line")
"$build/contextd" import --data-dir "$work/db_small" "$work/small/services.ndjson" >/dev/null 2>&1

say "PostgreSQL 15: private cluster, same data"
mkdir -p "$pgdir" && chown postgres "$pgdir"
pgport=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$pgdir" -A trust -U bench >/dev/null
cat >>"$pgdir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$pgdir'
shared_buffers = 2GB
max_connections = 200
fsync = on
synchronous_commit = on
jit = off
max_wal_size = 4GB
CONF
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pgdir" -l "$pgdir/log" -w start >/dev/null
psql() { command psql -q -h 127.0.0.1 -p "$pgport" -U bench -v ON_ERROR_STOP=1 "$@"; }
psql -d postgres -c "CREATE DATABASE bench" >/dev/null
psql -d bench -f "$load/pg_schema.sql" >/dev/null
psql -d bench -c "\\copy services FROM '$work/data/pg_services.csv' WITH (FORMAT csv)" >/dev/null
psql -d bench -c "\\copy states FROM '$work/data/pg_states.csv' WITH (FORMAT csv)" >/dev/null
psql -d bench -f "$load/pg_indexes.sql" >/dev/null

say "trivial Pistache handler: the ceiling"
"$build/bench/ceiling_server" 0 2 >"$work/ceiling.log" 2>&1 &
pids+=($!)
ceiling_port=$(wait_port "$work/ceiling.log")

start_contextd "$work/db" "$work/contextd.log"
port=$cport
url="http://127.0.0.1:$port"
api_key=$reader
warm_up "$url" "$customers" "$keys"
server_side() {  # PORT: the read routes' server-side figures since the last reset
  python3 -c "import json; print(json.dumps({r: json.loads(x) for r, x in zip(['anonymous_active','customer_active','customer_history'], ['$(latency "$1" 'GET /genesys/1/cs/services/anonymous/:key/active')', '$(latency "$1" 'GET /genesys/1/cs/customers/:cid/services/active')', '$(latency "$1" 'GET /genesys/1/cs/customers/:cid/services')'])}))"
}

say "reads at full load, $rounds rounds: contextd (wrk), PostgreSQL (pgbench -M prepared), ceiling (wrk)"
reset_latency "$port"
c_runs=() p_runs=() e_runs=() f_runs=()
for _ in $(seq "$rounds"); do
  c_runs+=("$(api_key=$reader wrk_run "$load/reads.lua" "$url" "$conns" -- "$customers" "$keys" "$end_ms")")
  p_runs+=("$(pgbench_run "$conns" -f "$load/pg_anonymous_active.sql@1" -f "$load/pg_customer_active.sql@1" -f "$load/pg_customer_history.sql@1")")
  # The ceiling gets the very requests contextd gets (same script, key and paths): only the
  # handler differs, and wrk's per-request work is the same on both sides.
  e_runs+=("$(api_key=$reader wrk_run "$load/reads.lua" "http://127.0.0.1:$ceiling_port" "$conns" -- "$customers" "$keys" "$end_ms")")
  # Shown too: the ceiling for one fixed request and no script work in wrk (no ratio target).
  f_runs+=("$(api_key= wrk_run "$load/fixed.lua" "http://127.0.0.1:$ceiling_port/" "$conns")")
done
reads=$(median "${c_runs[@]}")
pg_reads=$(median "${p_runs[@]}")
ceiling=$(median "${e_runs[@]}")
ceiling_fixed=$(median "${f_runs[@]}")
reads_server=$(server_side "$port")
ratio_pg=$(ratio "$reads" "$pg_reads" rps tps)
ratio_ceiling=$(ratio "$reads" "$ceiling" rps rps)
ratio_ceiling_fixed=$(ratio "$reads" "$ceiling_fixed" rps rps)
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$cpid/status")

say "contextd: reads at half of that load, $rounds rounds"
max_rps=$(json_get "$reads" "['rps']")
p50_ms=$(python3 -c "print($(json_get "$reads" "['p50_us']")/1000)")
half_conns=$(python3 -c "import math; print(max(1, round($max_rps / 2 * (2 + $p50_ms) / 1000)))")
reset_latency "$port"
h_runs=()
for _ in $(seq "$rounds"); do
  h_runs+=("$(wrk_run "$load/reads.lua" "$url" "$half_conns" -- "$customers" "$keys" "$end_ms" 2)")
done
half=$(median "${h_runs[@]}")
half_server=$(server_side "$port")

say "the cost of auth, $rounds rounds: the same reads with a reader key and without one"
k_runs=() n_runs=()
for _ in $(seq "$rounds"); do
  k_runs+=("$(api_key=$reader wrk_run "$load/reads.lua" "$url" "$conns" -- "$customers" "$keys" "$end_ms")")
  n_runs+=("$(api_key= wrk_run "$load/reads.lua" "$url" "$conns" -- "$customers" "$keys" "$end_ms")")
done
with_key=$(median "${k_runs[@]}")
without_key=$(median "${n_runs[@]}")
ratio_auth=$(ratio "$with_key" "$without_key" rps rps)

say "durable writes, $rounds rounds: contextd (--sync=always) and PostgreSQL (synchronous_commit=on)"
reset_latency "$port"
w_runs=() pw_runs=()
for _ in $(seq "$rounds"); do
  w_runs+=("$(api_key=$writer wrk_run "$load/writes.lua" "$url" "$conns")")
  pw_runs+=("$(pgbench_run "$conns" -f "$load/pg_writes.sql")")
done
writes=$(median "${w_runs[@]}")
pg_writes=$(median "${pw_runs[@]}")
ratio_writes=$(ratio "$writes" "$pg_writes" rps tps 3)
writes_server=$(latency "$port" 'POST /genesys/1/cs/services/start')
kill "$cpid"; wait "$cpid" 2>/dev/null || true

say "flat with data: the same reads on $small services"
start_contextd "$work/db_small" "$work/small.log"
sport=$cport
spid=$cpid
api_key=$reader
warm_up "http://127.0.0.1:$sport" "$((small / 10))" "$((small / 5))"
reset_latency "$sport"
small_reads=$(wrk_run "$load/reads.lua" "http://127.0.0.1:$sport" "$half_conns" -- "$((small / 10))" "$((small / 5))" "$end_ms" 2)
small_server=$(latency "$sport" 'GET /genesys/1/cs/services/anonymous/:key/active')
kill "$spid"; wait "$spid" 2>/dev/null || true
large_server=$(latency "$port" 'GET /genesys/1/cs/services/anonymous/:key/active' 2>/dev/null || echo '{}')

say "REST latency with and without ${CLIENTS:-500} held CometD clients"
cometd=$(BUILD_DIR="$build" DURATION="$duration" "$root/bench/cometd_run.sh" | sed -n 's/^RESULT //p')

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$results/$stamp-$scale.json"
python3 - "$out" <<PY
import json, sys
r = {
  "scale": $scale, "customers": $customers, "contact_keys": $keys, "duration_s": $duration,
  "rounds": $rounds,
  "connections": $conns, "machine": "$(nproc) cores",
  "storage_micro": $storage,
  "history_micro": $history,
  "cometd": $cometd,
  "import_services_per_s": int("${import_rate:-0}" or 0),
  "reads": {"contextd": $reads, "contextd_server_side": $reads_server,
            "postgresql": $pg_reads, "ceiling": $ceiling,
            "ceiling_fixed_request": $ceiling_fixed,
            "contextd_half_load": dict($half, connections=$half_conns),
            "contextd_half_load_server_side": $half_server},
  "auth": {"with_reader_key": $with_key, "without_key": $without_key,
           "with_over_without": $ratio_auth},
  "writes": {"contextd_ops": $writes, "contextd_server_side_start": $writes_server,
             "postgresql_tx": $pg_writes},
  "flat": {"small_services": $small, "small_half_load": $small_reads,
           "small_server_side_anonymous_active": $small_server},
  "contextd_rss_kb": $rss_kb,
}
rd, pg, ce = r["reads"]["contextd"], r["reads"]["postgresql"], r["reads"]["ceiling"]
w, pw = r["writes"]["contextd_ops"], r["writes"]["postgresql_tx"]
r["ratios"] = {  # medians of the per-round ratios
  "reads_contextd_over_postgresql": $ratio_pg,
  "reads_contextd_over_ceiling": $ratio_ceiling,
  "reads_contextd_over_ceiling_fixed_request": $ratio_ceiling_fixed,
  "writes_contextd_over_postgresql": $ratio_writes,
}
json.dump(r, open(sys.argv[1], "w"), indent=2)
s = r["reads"]["contextd_server_side"]
print()
print(f"contextd bench: {r['scale']} services, {r['connections']} connections, {r['rounds']} interleaved rounds of {r['duration_s']} s, {r['machine']} (client and servers share them)")
print("medians over the rounds; ratios are medians of the per-round ratios")
print(f"{'':34}{'req/s':>10}{'p50 us':>9}{'p99 us':>9}{'p99.9 us':>10}")
row = lambda name, rps, x: print(f"{name:34}{rps:>10.0f}{x['p50_us']:>9}{x['p99_us']:>9}{x['p999_us']:>10}")
row("reads  contextd (wrk)", rd["rps"], rd)
row("reads  PostgreSQL (pgbench)", pg["tps"], pg)
row("reads  trivial handler ceiling", ce["rps"], ce)
row("reads  ceiling, one fixed request", r["reads"]["ceiling_fixed_request"]["rps"], r["reads"]["ceiling_fixed_request"])
h = r["reads"]["contextd_half_load"]
row(f"reads  contextd at half load ({h['connections']}c)", h["rps"], h)
for label, side in (("full load", s), ("half load", r["reads"]["contextd_half_load_server_side"])):
  for k, v in side.items():
    print(f"  server-side {label}, {k:18} p50 {v['p50_us']} us  p99 {v['p99_us']} us  p99.9 {v['p999_us']} us  ({v['count']} requests)")
row("writes contextd ops (wrk)", w["rps"], w)
print(f"{'writes PostgreSQL ops (3 tx/script)':34}{3 * pw['tps']:>10.0f}{pw['p50_us']:>9}{pw['p99_us']:>9}{pw['p999_us']:>10}   (per script of 3 tx)")
ss = r["writes"]["contextd_server_side_start"]
print(f"  server-side start service       p50 {ss['p50_us']} us  p99 {ss['p99_us']} us")
rounds_rps = lambda x, k: " ".join(f"{run[k]:.0f}" for run in x["runs"])
print(f"per round req/s: contextd {rounds_rps(rd, 'rps')} | PostgreSQL {rounds_rps(pg, 'tps')} | ceiling {rounds_rps(ce, 'rps')}")
print(f"ratios: reads contextd/PostgreSQL {r['ratios']['reads_contextd_over_postgresql']}x, contextd/ceiling {r['ratios']['reads_contextd_over_ceiling']}x (one fixed request: {r['ratios']['reads_contextd_over_ceiling_fixed_request']}x), writes contextd/PostgreSQL {r['ratios']['writes_contextd_over_postgresql']}x")
au = r["auth"]
print(f"auth: reads with a reader key {au['with_reader_key']['rps']:.0f} req/s, without a key {au['without_key']['rps']:.0f} req/s: {au['with_over_without']}x")
sm = r["flat"]["small_server_side_anonymous_active"]
print(f"flat: server-side anonymous-active p50 at {r['flat']['small_services']} services {sm['p50_us']} us (half load)")
st = r["storage_micro"]
print(f"storage micro: 1-day window 10 -> 10^5 services {st['window_1day_us']['ratio']}x, active {st['active_us']['ratio']}x")
cd = r["cometd"]
print(f"REST (anonymous active) alone p50 {cd['rest_alone']['p50_us']} us p99 {cd['rest_alone']['p99_us']} us; with {cd['clients']} held CometD clients p50 {cd['rest_with_clients']['p50_us']} us p99 {cd['rest_with_clients']['p99_us']} us")
hm = r["history_micro"]["window_3month_us"]
print(f"history micro: 3-month window (30 rows) at 30 -> 10^5 records {hm['30']:.1f} -> {hm['100000']:.1f} us, {hm['ratio']}x")
print(f"import: {r['import_services_per_s']} services/s; contextd RSS serving: {r['contextd_rss_kb'] // 1024} MiB")
print(f"figures: {sys.argv[1]}")
PY
