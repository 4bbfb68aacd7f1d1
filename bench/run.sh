#!/usr/bin/env bash
# make bench: one command, one run, one table. Builds a data set, loads it into contextd and
# into a private PostgreSQL, checks that both answer the same rows, measures both side by side
# with the same clients and concurrency, measures a trivial Pistache handler (an upper bound, not
# a like-for-like rival), and writes the figures to bench/results/. The Redis Cluster backend
# runs side by side with the embedded one (bench/cluster.sh): the same data imported into a
# private cluster of 3 masters and 3 replicas, 2 contextd nodes on it sharing the load, in the
# same interleaved rounds for reads and durable writes, and the memory Redis takes for the
# services and for INTERACTIONS interaction records.
#
# Honesty rules, each enforced here (the run fails instead of saving a flattering figure):
# - every read draws a fresh key uniformly over the whole key space (bench/load/reads.lua, and
#   pgbench's random() per transaction): no hot set;
# - only 2xx replies count as throughput; any error (non-2xx, socket error, timeout, a failed
#   pgbench transaction) or an implausible figure fails the run;
# - both sides return the same rows and fields, and the keys are uniform: checked after each
#   contextd read run on 600 of its requests, sampled over the whole run;
# - pgbench writes no per-transaction log (it would cost the shared cores), so PostgreSQL's
#   latency is its mean; throughput and CPU per request are the compared figures;
# - the machine is shared and noisy: each comparison runs in ROUNDS interleaved rounds whose
#   order rotates (contextd, PostgreSQL, ceiling; then PostgreSQL, ceiling, contextd; ...), the
#   table shows each figure's median over the rounds and the median of the per-round ratios;
# - each server's CPU time per request, from /proc/PID/stat (server processes only, PostgreSQL's
#   backends included; for the cluster both contextd nodes and all 6 redis-servers), travels
#   between machines better than req/s.
#
# Environment: SCALE (services, default 1000000), DURATION (seconds per load run, default 5),
# ROUNDS (default 3), CONNS (client connections, default 32), BUILD_DIR (default build),
# INTERACTIONS (records loaded into the cluster to measure their memory, default SCALE).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
scale=${SCALE:-1000000}
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
conns=${CONNS:-32}
interactions=${INTERACTIONS:-$scale}
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
  cluster_stop
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '== %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
# shellcheck source=bench/cluster.sh
. "$root/bench/cluster.sh"
json_get() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(json.dumps(d$2))" "$1"; }
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
# A figure a side does not have (pgbench's percentiles) stays None.
# Lists and objects (the cluster's per-node and per-process figures) stay in the runs only.
m = {k: None if any(r.get(k) is None for r in runs) else statistics.median(r[k] for r in runs)
     for k in runs[0] if k != 'runs' and not isinstance(runs[0][k], (list, dict))}
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
pgbench_run() {  # CONNS FILES...: prints a RESULT-like json (no per-transaction log)
  local c=$1; shift
  local out=$work/pgbench.$RANDOM
  pgbench -h 127.0.0.1 -p "$pgport" -U bench -n -M prepared -c "$c" -j 2 -T "$duration" \
    -D customers="$customers" -D keys="$keys" -D end_ms="$end_ms" "$@" bench >"$out" 2>&1 ||
    { cat "$out" >&2; echo '{"errors":1}'; return; }
  python3 - "$out" <<'PY'
import json, re, sys
out = open(sys.argv[1]).read()
num = lambda pattern: float(re.search(pattern, out).group(1))
processed = int(num(r"number of transactions actually processed: (\d+)"))
failed = int(num(r"number of failed transactions: (\d+)"))
seconds = processed / num(r"tps = ([0-9.]+) \(without initial")
print(json.dumps({"requests": processed, "ok": processed - failed, "seconds": round(seconds, 3),
                  "rps": round((processed - failed) / seconds, 1), "errors": failed,
                  "mean_us": round(num(r"latency average = ([0-9.]+) ms") * 1000),
                  "p50_us": None, "p99_us": None, "p999_us": None}))
PY
}
children() { ps --no-headers --ppid "$1" | wc -l; }
measured() {  # PID CMD...: runs CMD (a load run printing one json), adds the server's CPU per request
  local pid=$1; shift
  local base_children before after result
  base_children=$(children "$pid")
  before=$(tree_ticks "$pid")
  result=$("$@")
  # PostgreSQL's backends exit with their clients: wait until the postmaster has reaped them
  # so their CPU time is in its cutime (contextd and the ceiling have no child processes).
  for _ in $(seq 100); do [ "$(children "$pid")" -le "$base_children" ] && break; sleep 0.05; done
  after=$(tree_ticks "$pid")
  python3 -c "
import json, os, sys
r = json.loads(sys.argv[1])
ticks = int(sys.argv[3]) - int(sys.argv[2])
r['cpu_s'] = round(ticks / os.sysconf('SC_CLK_TCK'), 2)
r['cpu_us_per_req'] = round(r['cpu_s'] * 1e6 / r['ok'], 1) if r.get('ok') else None
print(json.dumps(r))" "$result" "$before" "$after"
}
check_run() {  # WHAT RESULT-JSON [MIN_RPS]: exits the bench on an error or an implausible figure
  python3 - "$@" <<'PY' || { say "FAILED: $1: $2"; exit 1; }
import json, sys
what, r = sys.argv[1], json.loads(sys.argv[2])
min_rps = float(sys.argv[3]) if len(sys.argv) > 3 else 100
problems = []
if r.get("errors", 1) != 0:
    problems.append(f"{r.get('errors')} errors")
if not r.get("ok") or r.get("rps", 0) < min_rps:
    problems.append(f"implausibly low throughput ({r.get('rps')} req/s, minimum {min_rps})")
if r.get("ok", 0) > r.get("requests", 0):
    problems.append("more 2xx replies than replies")
if problems:
    sys.exit(f"{what}: " + "; ".join(problems))
PY
}
rotate() {  # ROUND WORDS...: the words rotated left by ROUND
  local r=$1; shift
  local n=$#
  local words=("$@")
  for i in $(seq 0 $((n - 1))); do printf '%s ' "${words[$(( (i + r) % n ))]}"; done
}

micro() {  # BENCH: runs build/bench/BENCH, prints {name: {us, rows}}; fails on any error
  "$build/bench/$1" --benchmark_format=json --benchmark_out="$work/$1.json" \
    --benchmark_out_format=json >/dev/null
  python3 - "$work/$1.json" <<'PY' || { say "FAILED: $1"; exit 1; }
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
bad = [b["name"] + ": " + b.get("error_message", "") for b in runs if b.get("error_occurred")]
if bad:
    sys.exit("micro-benchmark errors (a wrong row count measures something else): " + "; ".join(bad))
print(json.dumps({b["name"]: {"us": b["real_time"], "rows": b["rows"]} for b in runs}))
PY
}
# The "flat" ratio compares equal work: the benchmarks fail unless every size returns the same
# rows (the row counter), so the ratio is of like for like.
say "storage micro-benchmark (Google Benchmark)"
storage=$(micro storage_bench)
storage=$(python3 -c "
import json, sys
b = json.loads(sys.argv[1])
entry = lambda n, lo, hi: {lo: b[f'{n}/{lo}']['us'], hi: b[f'{n}/{hi}']['us'], 'rows': b[f'{n}/{hi}']['rows'],
                           'ratio': round(b[f'{n}/{hi}']['us'] / b[f'{n}/{lo}']['us'], 2)}
print(json.dumps({'window_1day_us': entry('BM_StorageQueryOneDayWindow', '10', '100000'),
                  'active_us': entry('BM_StorageQueryActive', '10', '100000')}))" "$storage")

say "history micro-benchmark (Google Benchmark)"
history=$(micro history_bench)
history=$(python3 -c "
import json, sys
b = json.loads(sys.argv[1])
n = 'BM_HistoryThreeMonthWindow/'
print(json.dumps({'window_3month_us': {'30': b[n + '30']['us'], '100000': b[n + '100000']['us'],
                  'rows': b[n + '100000']['rows'], 'ratio': round(b[n + '100000']['us'] / b[n + '30']['us'], 2)}}))" "$history")

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
# Database bench holds the data set, database small the 10^5 one (its reads are checked too).
for db in bench small; do
  data=$work/data
  [ "$db" = small ] && data=$work/small
  psql -d postgres -c "CREATE DATABASE $db" >/dev/null
  psql -d "$db" -f "$load/pg_schema.sql" >/dev/null
  psql -d "$db" -c "\\copy services FROM '$data/pg_services.csv' WITH (FORMAT csv)" >/dev/null
  psql -d "$db" -c "\\copy states FROM '$data/pg_states.csv' WITH (FORMAT csv)" >/dev/null
  psql -d "$db" -f "$load/pg_indexes.sql" >/dev/null
done

say "Redis Cluster: 3 masters + 3 replicas (AOF everysec), the same data imported, 2 contextd nodes"
cluster_setup "$work/data/services.ndjson"

say "trivial Pistache handler: the ceiling (an upper bound: no routing, no storage, a fixed body)"
"$build/bench/ceiling_server" 0 2 >"$work/ceiling.log" 2>&1 &
ceiling_pid=$!
pids+=("$ceiling_pid")
ceiling_port=$(wait_port "$work/ceiling.log")
pg_pid=$(head -1 "$pgdir/postmaster.pid")

start_contextd "$work/db" "$work/contextd.log"
port=$cport
url="http://127.0.0.1:$port"
api_key=$reader
warm_up "$url" "$customers" "$keys"
server_side() {  # PORT: the read routes' server-side figures since the last reset
  python3 -c "
import json, sys
print(json.dumps(dict(zip(['anonymous_active', 'customer_active', 'customer_history'],
                          (json.loads(a) for a in sys.argv[1:])))))" \
    "$(latency "$1" 'GET /genesys/1/cs/services/anonymous/:key/active')" \
    "$(latency "$1" 'GET /genesys/1/cs/customers/:cid/services/active')" \
    "$(latency "$1" 'GET /genesys/1/cs/customers/:cid/services')"
}
# Every reads.lua run keeps a sample of its requests (BENCH_SAMPLE), the ceiling's too, so
# that wrk does the same work per request on both sides.
export BENCH_SAMPLE=$work/sample
# contextd_reads WHAT PID URL CONNS PGDATABASE CUSTOMERS KEYS [DELAY_MS]: one contextd read run,
# measured (server CPU) and checked: no errors, a plausible rate, the sampled requests answered
# as PostgreSQL answers them with uniform keys (same_rows.py), and the run's mean reply size
# that of the checked sample (+-15%). Sends $api_key. Sets `run` (not printed: a check must
# exit this shell).
contextd_reads() {
  local what=$1 pid=$2 u=$3 c=$4 db=$5 cu=$6 k=$7 delay=${8:-0} sample_bytes
  run=$(measured "$pid" wrk_run "$load/reads.lua" "$u" "$c" -- "$cu" "$k" "$end_ms" "$delay")
  check_run "$what" "$run" "$([ "$delay" = 0 ] && echo 1000 || echo 100)"
  sample_bytes=$(python3 "$load/same_rows.py" "$u" "$api_key" "$pgport" "$db" "$cu" "$k" "$end_ms" "$BENCH_SAMPLE") ||
    { say "FAILED: $what: the sampled requests (above)"; exit 1; }
  python3 -c "
import json, sys
sys.exit(abs(json.loads(sys.argv[1])['reply_bytes'] - float(sys.argv[2])) > 0.15 * float(sys.argv[2]))" \
    "$run" "$sample_bytes" ||
    { say "FAILED: $what: mean reply $(json_get "$run" "['reply_bytes']") bytes, the checked sample's $sample_bytes"; exit 1; }
}
read_args=("$customers" "$keys" "$end_ms")
run_reads() {  # SIDE: one load run of SIDE, checked, appended to SIDE's array
  local -n runs=${1}_runs
  case $1 in
    contextd) contextd_reads "reads, contextd" "$cpid" "$url" "$conns" bench "$customers" "$keys" ;;
    postgresql) run=$(measured "$pg_pid" pgbench_run "$conns" -f "$load/pg_anonymous_active.sql@1" \
                        -f "$load/pg_customer_active.sql@1" -f "$load/pg_customer_history.sql@1") ;;
    # The ceiling gets the very requests contextd gets (same script, key and paths), so wrk's
    # per-request work is the same on both sides; it answers each with a fixed 15-byte body.
    ceiling) run=$(api_key=$reader measured "$ceiling_pid" wrk_run "$load/reads.lua" "http://127.0.0.1:$ceiling_port" "$conns" -- "${read_args[@]}") ;;
    # Shown too: the ceiling for one fixed request and no script work in wrk (no ratio target).
    fixed) run=$(api_key= measured "$ceiling_pid" wrk_run "$load/fixed.lua" "http://127.0.0.1:$ceiling_port/" "$conns") ;;
    # The Redis Cluster: 2 contextd nodes, half the connections each (bench/cluster.sh).
    cluster) cluster_reads ;;
  esac
  check_run "reads, $1" "$run" 1000
  runs+=("$run")
}

# The cluster needs no warming (Redis holds everything in memory): one unmeasured run opens
# the nodes' connections.
cluster_run "$load/reads.lua" "$cluster_reader" "${read_args[@]}" 0 >/dev/null

say "reads at full load, $rounds rounds in rotating order: contextd (wrk), PostgreSQL (pgbench -M prepared), ceiling (wrk), Redis Cluster (2 nodes, wrk x2)"
reset_latency "$port"
cluster_reset_latency
contextd_runs=() postgresql_runs=() ceiling_runs=() fixed_runs=() cluster_runs=()
for round in $(seq 0 $((rounds - 1))); do
  for side in $(rotate "$round" contextd postgresql ceiling fixed cluster); do run_reads "$side"; done
done
reads=$(median "${contextd_runs[@]}")
pg_reads=$(median "${postgresql_runs[@]}")
ceiling=$(median "${ceiling_runs[@]}")
ceiling_fixed=$(median "${fixed_runs[@]}")
reads_server=$(server_side "$port")
cluster_reads=$(median "${cluster_runs[@]}")
read_routes=('GET /genesys/1/cs/services/anonymous/:key/active'
             'GET /genesys/1/cs/customers/:cid/services/active'
             'GET /genesys/1/cs/customers/:cid/services')
cluster_reads_server=$(cluster_server_side "${read_routes[@]}")
ratio_cluster=$(ratio "$cluster_reads" "$reads" rps rps)
ratio_cpu_cluster=$(ratio "$cluster_reads" "$reads" cpu_us_per_req cpu_us_per_req)
ratio_pg=$(ratio "$reads" "$pg_reads" rps rps)
ratio_ceiling=$(ratio "$reads" "$ceiling" rps rps)
ratio_ceiling_fixed=$(ratio "$reads" "$ceiling_fixed" rps rps)
ratio_cpu_pg=$(ratio "$pg_reads" "$reads" cpu_us_per_req cpu_us_per_req)
# A server that does more than the trivial handler cannot do it with less CPU per request, nor
# serve far more (a single round on a busy machine may serve somewhat more): if it seems to,
# the measurement is broken.
ratio_cpu_ceiling=$(ratio "$reads" "$ceiling" cpu_us_per_req cpu_us_per_req)
python3 -c "import sys; sys.exit(float(sys.argv[1]) < 0.9 or float(sys.argv[2]) > 1.25)" \
  "$ratio_cpu_ceiling" "$ratio_ceiling" ||
  { say "FAILED: implausible: contextd uses ${ratio_cpu_ceiling}x the trivial handler's CPU per request and serves ${ratio_ceiling}x its rate"; exit 1; }
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$cpid/status")

say "contextd: reads at half of that load, $rounds rounds"
max_rps=$(json_get "$reads" "['rps']")
p50_ms=$(python3 -c "print($(json_get "$reads" "['p50_us']")/1000)")
half_conns=$(python3 -c "import math; print(max(1, round($max_rps / 2 * (2 + $p50_ms) / 1000)))")
reset_latency "$port"
h_runs=()
for _ in $(seq "$rounds"); do
  contextd_reads "reads at half load" "$cpid" "$url" "$half_conns" bench "$customers" "$keys" 2
  h_runs+=("$run")
done
half=$(median "${h_runs[@]}")
half_server=$(server_side "$port")

say "the cost of auth, $rounds rounds in alternating order: the same reads with a reader key and without one"
with_key_runs=() without_key_runs=()
run_auth() {  # with_key|without_key: one checked run, appended to its array
  local -n runs=${1}_runs
  local key=$reader
  [ "$1" = without_key ] && key=
  api_key=$key contextd_reads "reads $1" "$cpid" "$url" "$conns" bench "$customers" "$keys"
  runs+=("$run")
}
for round in $(seq 0 $((rounds - 1))); do
  for side in $(rotate "$round" with_key without_key); do run_auth "$side"; done
done
with_key=$(median "${with_key_runs[@]}")
without_key=$(median "${without_key_runs[@]}")
ratio_auth=$(ratio "$with_key" "$without_key" rps rps)

say "durable writes, $rounds rounds in rotating order: contextd (--sync=always), PostgreSQL (synchronous_commit=on), Redis Cluster (WAIT 1 replica)"
reset_latency "$port"
cluster_reset_latency
cw_runs=() pw_runs=() rw_runs=()
run_writes() {  # contextd|postgresql|cluster
  local r
  if [ "$1" = cluster ]; then
    cluster_writes
    rw_runs+=("$run")
  elif [ "$1" = contextd ]; then
    r=$(api_key=$writer measured "$cpid" wrk_run "$load/writes.lua" "$url" "$conns")
    check_run "writes, contextd" "$r" 100
    cw_runs+=("$r")
  else
    r=$(measured "$pg_pid" pgbench_run "$conns" -f "$load/pg_writes.sql")
    check_run "writes, PostgreSQL" "$r" 30
    pw_runs+=("$r")
  fi
}
for round in $(seq 0 $((rounds - 1))); do
  for side in $(rotate "$round" contextd postgresql cluster); do run_writes "$side"; done
done
writes=$(median "${cw_runs[@]}")
pg_writes=$(median "${pw_runs[@]}")
ratio_writes=$(ratio "$writes" "$pg_writes" rps rps 3)
writes_server=$(latency "$port" 'POST /genesys/1/cs/services/start')
cluster_writes_ops=$(median "${rw_runs[@]}")
cluster_writes_server=$(cluster_server_side 'POST /genesys/1/cs/services/start')
ratio_cluster_writes=$(ratio "$cluster_writes_ops" "$writes" rps rps)
ratio_cpu_cluster_writes=$(ratio "$cluster_writes_ops" "$writes" cpu_us_per_req cpu_us_per_req)
kill "$cpid"; wait "$cpid" 2>/dev/null || true

say "Redis Cluster: memory of $interactions interaction records (POST /contextd/v1/interactions, NDJSON batches over both nodes)"
cluster_interactions_memory=$(cluster_interactions "$interactions")
cluster_check_roles
cluster_stop

say "flat with data: the same reads on $small services"
start_contextd "$work/db_small" "$work/small.log"
sport=$cport
spid=$cpid
api_key=$reader
warm_up "http://127.0.0.1:$sport" "$((small / 10))" "$((small / 5))"
reset_latency "$sport"
contextd_reads "reads on $small services" "$spid" "http://127.0.0.1:$sport" "$half_conns" small \
  "$((small / 10))" "$((small / 5))" 2
small_reads=$run
small_server=$(latency "$sport" 'GET /genesys/1/cs/services/anonymous/:key/active')
kill "$spid"; wait "$spid" 2>/dev/null || true

say "REST latency with and without ${CLIENTS:-500} held CometD clients"
cometd=$(BUILD_DIR="$build" DURATION="$duration" "$root/bench/cometd_run.sh" | sed -n 's/^RESULT //p')

check_run "REST alone (CometD run)" "$(json_get "$cometd" "['rest_alone']")" 100
check_run "REST with held CometD clients" "$(json_get "$cometd" "['rest_with_clients']")" 100

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$results/$stamp-$scale.json"
# The measured figures go to Python as JSON text (argv); the source gets only numbers.
python3 - "$out" "$storage" "$history" "$cometd" "$reads" "$reads_server" "$pg_reads" "$ceiling" \
  "$ceiling_fixed" "$half" "$half_server" "$with_key" "$without_key" "$writes" "$writes_server" \
  "$pg_writes" "$small_reads" "$small_server" "$cluster_reads" "$cluster_reads_server" \
  "$cluster_writes_ops" "$cluster_writes_server" "$cluster_services_memory" \
  "$cluster_interactions_memory" <<PY
import json, sys
(storage, history, cometd, reads, reads_server, pg_reads, ceiling, ceiling_fixed, half,
 half_server, with_key, without_key, writes, writes_server, pg_writes, small_reads,
 small_server, cluster_reads, cluster_reads_server, cluster_writes, cluster_writes_server,
 services_memory, interactions_memory) = (json.loads(a) for a in sys.argv[2:])
def per_million(m, n):  # used_memory growth per 10^6 records, masters and masters+replicas
  return {side: round((m["after"][side] - m["before"][side]) * 1e6 / n) for side in ("masters", "all")}
r = {
  "scale": $scale, "customers": $customers, "contact_keys": $keys, "duration_s": $duration,
  "rounds": $rounds, "connections": $conns, "machine": "$(nproc) cores",
  "read_keys": "uniform over the whole key space, a fresh draw per request",
  "storage_micro": storage,
  "history_micro": history,
  "cometd": cometd,
  "import_services_per_s": int("${import_rate:-0}" or 0),
  "reads": {"contextd": reads, "contextd_server_side": reads_server,
            "postgresql": pg_reads, "ceiling_upper_bound": ceiling,
            "ceiling_upper_bound_fixed_request": ceiling_fixed,
            "contextd_half_load": dict(half, connections=$half_conns),
            "contextd_half_load_server_side": half_server},
  "auth": {"with_reader_key": with_key, "without_key": without_key,
           "with_over_without": $ratio_auth},
  "writes": {"contextd_ops": writes, "contextd_server_side_start": writes_server,
             "postgresql_scripts_of_3_tx": pg_writes},
  "flat": {"small_services": $small, "small_half_load": small_reads,
           "small_server_side_anonymous_active": small_server},
  "contextd_rss_kb": $rss_kb,
  "redis_cluster": {
    "setup": "3 masters + 3 replicas (appendonly yes, appendfsync everysec), 2 contextd nodes "
             "(--threads 2, --redis-wait-replicas 1), the client load split over both",
    "import_services_per_s": int("${cluster_import_rate:-0}" or 0),
    "reads": cluster_reads, "reads_server_side_max_of_nodes": cluster_reads_server,
    "writes_ops": cluster_writes, "writes_server_side_start_max_of_nodes": cluster_writes_server,
    "memory_services": dict(services_memory, records=$scale,
                            used_memory_bytes_per_million=per_million(services_memory, $scale)),
    "memory_interactions": dict(interactions_memory,
                                used_memory_bytes_per_million=per_million(interactions_memory, $interactions)),
  },
}
r["ratios"] = {  # medians of the per-round ratios
  "reads_contextd_over_postgresql": $ratio_pg,
  "reads_contextd_over_ceiling_upper_bound": $ratio_ceiling,
  "reads_contextd_over_ceiling_fixed_request": $ratio_ceiling_fixed,
  "reads_cpu_per_request_postgresql_over_contextd": $ratio_cpu_pg,
  "writes_contextd_over_postgresql": $ratio_writes,
  "reads_cluster_over_embedded": $ratio_cluster,
  "reads_cpu_per_request_cluster_over_embedded": $ratio_cpu_cluster,
  "writes_cluster_over_embedded": $ratio_cluster_writes,
  "writes_cpu_per_request_cluster_over_embedded": $ratio_cpu_cluster_writes,
}
json.dump(r, open(sys.argv[1], "w"), indent=2)
print()
print(f"contextd bench: {r['scale']} services, {r['connections']} connections, {r['rounds']} rounds of {r['duration_s']} s in rotating order, {r['machine']} (client and servers share them)")
print("reads draw a fresh key uniformly over the whole key space per request; errors fail the run")
print("medians over the rounds; ratios are medians of the per-round ratios; CPU = server processes only")
print(f"{'':40}{'req/s':>9}{'CPU us/req':>11}{'mean us':>9}{'p50 us':>8}{'p99 us':>8}{'p99.9 us':>9}")
fmt = lambda v: "-" if v is None else f"{v:.0f}"
def row(name, x, per=1):  # per: operations per request (PostgreSQL's write script has 3)
  cpu = x.get("cpu_us_per_req")
  print(f"{name:40}{x['rps'] * per:>9.0f}{'-' if cpu is None else f'{cpu / per:.1f}':>11}{fmt(x['mean_us'] / per):>9}"
        f"{fmt(x['p50_us']):>8}{fmt(x['p99_us']):>8}{fmt(x['p999_us']):>9}")
row("reads  contextd (wrk)", reads)
row("reads  PostgreSQL (pgbench, mean only)", pg_reads)
row("reads  ceiling: UPPER BOUND, trivial", ceiling)
row("reads  UPPER BOUND, one fixed request", ceiling_fixed)
row(f"reads  contextd at half load ({$half_conns}c)", half)
for label, side in (("full load", reads_server), ("half load", half_server)):
  for k, v in side.items():
    print(f"  server-side {label}, {k:18} p50 {v['p50_us']} us  p99 {v['p99_us']} us  p99.9 {v['p999_us']} us  ({v['count']} requests)")
row("writes contextd ops (wrk)", writes)
row("writes PostgreSQL ops (3 tx per script)", pg_writes, per=3)
print(f"  server-side start service       p50 {writes_server['p50_us']} us  p99 {writes_server['p99_us']} us")
row("reads  Redis Cluster, 2 nodes (wrk x2)", cluster_reads)
row("writes Redis Cluster ops (WAIT 1)", cluster_writes)
def split(x):
  return (f"contextd nodes {x['cpu_us_per_req_contextd']}, Redis masters {x['cpu_us_per_req_redis_master']}, "
          f"replicas {x['cpu_us_per_req_redis_slave']}")
print(f"  cluster CPU us/req, all 8 processes: reads {split(cluster_reads)}; writes {split(cluster_writes)}")
print(f"  cluster 2xx per node (median run): reads {cluster_reads['node1_ok']:.0f} / {cluster_reads['node2_ok']:.0f}, "
      f"writes {cluster_writes['node1_ok']:.0f} / {cluster_writes['node2_ok']:.0f}")
for route, v in list(cluster_reads_server.items()) + list(cluster_writes_server.items()):
  counts = " + ".join(str(n["count"]) for n in v["nodes"])
  print(f"  cluster server-side (max of 2 nodes) {route.split()[1]:45} p50 {v['p50_us']} us  p99 {v['p99_us']} us  p99.9 {v['p999_us']} us  ({counts} requests)")
per_round = lambda x: " ".join(f"{run['rps']:.0f}" for run in x["runs"])
print(f"per round req/s: contextd {per_round(reads)} | PostgreSQL {per_round(pg_reads)} | ceiling {per_round(ceiling)}")
q = r["ratios"]
print(f"ratios: reads contextd/PostgreSQL {q['reads_contextd_over_postgresql']}x "
      f"(PostgreSQL uses {q['reads_cpu_per_request_postgresql_over_contextd']}x contextd's CPU per request), "
      f"contextd/upper bound {q['reads_contextd_over_ceiling_upper_bound']}x "
      f"(one fixed request: {q['reads_contextd_over_ceiling_fixed_request']}x), "
      f"writes contextd/PostgreSQL {q['writes_contextd_over_postgresql']}x")
au = r["auth"]
print(f"auth: reads with a reader key {au['with_reader_key']['rps']:.0f} req/s, without a key {au['without_key']['rps']:.0f} req/s: {au['with_over_without']}x")
sm = small_server
print(f"flat: server-side anonymous-active p50 at {$small} services {sm['p50_us']} us, at {$scale} {half_server['anonymous_active']['p50_us']} us (half load, uniform keys)")
st = storage
print(f"storage micro: 1-day window ({st['window_1day_us']['rows']:.0f} rows) 10 -> 10^5 services {st['window_1day_us']['ratio']}x, active ({st['active_us']['rows']:.0f} row) {st['active_us']['ratio']}x")
print(f"REST (anonymous active, one fixed key) alone p50 {cometd['rest_alone']['p50_us']} us p99 {cometd['rest_alone']['p99_us']} us; with {cometd['clients']} held CometD clients p50 {cometd['rest_with_clients']['p50_us']} us p99 {cometd['rest_with_clients']['p99_us']} us")
hm = history["window_3month_us"]
print(f"history micro: 3-month window ({hm['rows']:.0f} rows) at 30 -> 10^5 records {hm['30']:.1f} -> {hm['100000']:.1f} us, {hm['ratio']}x")
print(f"import: {r['import_services_per_s']} services/s; contextd RSS serving: {r['contextd_rss_kb'] // 1024} MiB")
rc = r["redis_cluster"]
verdict = lambda ok: "met" if ok else "MISSED"
p99_max = max(v["p99_us"] for v in cluster_reads_server.values())
print(f"cluster/embedded (medians of per-round ratios): reads {q['reads_cluster_over_embedded']}x "
      f"(target >= 0.5x: {verdict(q['reads_cluster_over_embedded'] >= 0.5)}), CPU per read {q['reads_cpu_per_request_cluster_over_embedded']}x; "
      f"durable writes {q['writes_cluster_over_embedded']}x (target >= 0.5x: {verdict(q['writes_cluster_over_embedded'] >= 0.5)}), "
      f"CPU per write {q['writes_cpu_per_request_cluster_over_embedded']}x; "
      f"read server-side p99 {p99_max} us (target <= 1000 us: {verdict(p99_max <= 1000)})")
ms, mi = rc["memory_services"], rc["memory_interactions"]
mib = lambda b: f"{b / 2**20:.0f} MiB"
print(f"Redis used_memory per 10^6 services: masters {mib(ms['used_memory_bytes_per_million']['masters'])}, "
      f"masters+replicas {mib(ms['used_memory_bytes_per_million']['all'])}; per 10^6 interactions "
      f"({mi['records']} loaded): masters {mib(mi['used_memory_bytes_per_million']['masters'])}, "
      f"masters+replicas {mib(mi['used_memory_bytes_per_million']['all'])}")
print(f"cluster import: {rc['import_services_per_s']} services/s; interactions through 2 nodes: {mi['load']['per_s']} records/s")
print(f"figures: {sys.argv[1]}")
PY
