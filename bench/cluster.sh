# shellcheck shell=bash
# The Redis Cluster side of bench/run.sh (sourced by it, after its helpers): a private cluster
# of 3 masters and 3 replicas (tests/support/redis_cluster.sh: AOF on, appendfsync everysec),
# the same data set imported into it (`contextd import --redis-cluster`), and 2 contextd nodes
# on it, each with the embedded server's flags but --redis-cluster (writes WAIT for 1 replica).
#
# The same honesty rules as bench/run.sh: the client load is split over both nodes (two wrk
# processes, one thread and half the connections each, the same scripts); only 2xx replies
# count, and their rates are summed; any error fails the run; each node's sampled reads are
# checked against PostgreSQL with uniform keys (bench/load/same_rows.py), each node must serve
# at least a quarter of the load. Client percentiles are those of the two processes' merged
# latency histograms (BENCH_HIST in bench/load/report.lua), so exact for the whole load. CPU per
# request is the utime+stime (children included) of all 8 processes: both contextd nodes and
# all 6 redis-servers, from /proc, over the run, per 2xx reply; split by contextd, Redis masters
# and Redis replicas. Server-side percentiles are each node's /contextd/v1/latency; the table
# shows the larger of the two nodes' figures. Memory is Redis's used_memory (INFO memory),
# taken once replication has caught up and no AOF rewrite runs.
#
# Uses from bench/run.sh: root build work load conns duration admin_key end_ms customers keys
# pgport pids, and say new_key wait_port check_run tree_ticks latency.

cluster_dir=$work/redis
cluster_script=$root/tests/support/redis_cluster.sh
cluster_pids=()   # contextd node 1, node 2, then the 6 redis-servers (ports base..base+5)
cluster_names=()  # "contextd:PORT" or "redis:PORT", as cluster_pids
cluster_urls=()

cluster_stop() {  # stops the nodes and the cluster (safe to call twice)
  local p
  for p in "${cluster_pids[@]:0:2}"; do kill "$p" 2>/dev/null || true; done
  for p in "${cluster_pids[@]:0:2}"; do wait "$p" 2>/dev/null || true; done
  [ -d "$cluster_dir" ] && "$cluster_script" stop "$cluster_dir" >/dev/null 2>&1 || true
}

cluster_ports() { seq "$(cat "$cluster_dir/base")" $(($(cat "$cluster_dir/base") + 5)); }

cluster_roles() {  # "PORT ROLE" per line for the 6 redis-servers (ROLE master or slave)
  local p
  for p in $(cluster_ports); do
    echo "$p $(redis-cli -p "$p" role 2>/dev/null | head -1 | tr -d '\r')"
  done
}

# cluster_settle: waits (60 s) until every replica's offset is its master's and no node
# rewrites its AOF or saves, so that used_memory holds the data and no transient buffers.
cluster_settle() {
  local p end=$((SECONDS + 60)) settled
  while :; do
    settled=1
    for p in $(cluster_ports); do
      redis-cli -p "$p" info persistence | tr -d '\r' |
        grep -qE '^(aof_rewrite|rdb_bgsave)_in_progress:1' && settled=0
      redis-cli -p "$p" info replication | tr -d '\r' | awk -F'[:,=]' '
        /^master_repl_offset:/ { off = $2 }
        /^slave[0-9]+:/ { for (i = 1; i < NF; i++) if ($i == "offset") o[++n] = $(i + 1) }
        END { for (i = 1; i <= n; i++) if (o[i] != off) exit 1 }' || settled=0
    done
    [ "$settled" = 1 ] && return 0
    [ $SECONDS -ge $end ] && { say "FAILED: the cluster's replicas did not catch up in 60 s"; exit 1; }
    sleep 0.2
  done
}

cluster_memory() {  # prints {"masters": bytes, "all": bytes}: used_memory summed
  cluster_settle
  local p role used masters=0 all=0
  while read -r p role; do
    used=$(redis-cli -p "$p" info memory | tr -d '\r' | sed -n 's/^used_memory://p')
    all=$((all + used))
    [ "$role" = master ] && masters=$((masters + used))
  done < <(cluster_roles)
  echo "{\"masters\": $masters, \"all\": $all}"
}

# cluster_setup DATA_FILE: starts the cluster, imports DATA_FILE, measures the memory it takes
# and starts the 2 nodes. Sets cluster_import_rate, cluster_services_memory, cluster_reader,
# cluster_writer, cluster_urls, cluster_pids, cluster_roles_at_start.
cluster_setup() {
  local i p line empty loaded
  # The watchdog stops the cluster even if this shell is killed before its trap runs.
  CONTEXTD_REDIS_OWNER_PID=$$ "$cluster_script" start "$cluster_dir" >&2
  cluster_seeds=$(cat "$cluster_dir/seeds")
  cluster_roles_at_start=$(cluster_roles)
  [ "$(grep -c ' master$' <<<"$cluster_roles_at_start")" = 3 ] &&
    [ "$(grep -c ' slave$' <<<"$cluster_roles_at_start")" = 3 ] ||
    { say "FAILED: the cluster is not 3 masters and 3 replicas: $cluster_roles_at_start"; exit 1; }
  empty=$(cluster_memory)
  line=$("$build/contextd" import --redis-cluster="$cluster_seeds" "$1" 2>/dev/null)
  echo "$line" >&2
  cluster_import_rate=$(sed -n 's/.*: \([0-9]*\) services\/s;.*/\1/p' <<<"$line")
  loaded=$(cluster_memory)
  cluster_services_memory="{\"before\": $empty, \"after\": $loaded}"
  for i in 1 2; do
    "$build/contextd" --port 0 --redis-cluster="$cluster_seeds" --redis-wait-replicas 1 \
      --threads 2 --log-level warn --no-auth --admin-key "$admin_key" >"$work/node$i.log" 2>&1 &
    cluster_pids+=($!)
    pids+=($!)
    p=$(wait_port "$work/node$i.log")
    cluster_names+=("contextd:$p")
    cluster_urls+=("http://127.0.0.1:$p")
  done
  for p in $(cluster_ports); do
    cluster_pids+=("$("$cluster_script" pid "$cluster_dir" "$p")")
    cluster_names+=("redis:$p")
  done
  # Keys live in the cluster: one made on node 1 is valid on node 2.
  cluster_reader=$(new_key "${cluster_urls[0]##*:}" reader)
  cluster_writer=$(new_key "${cluster_urls[0]##*:}" writer)
}

# cluster_run SCRIPT KEY [SCRIPT ARGS...]: one load run split over both nodes, measured over
# all 8 processes; prints its JSON (the keys of bench/load/report.lua's RESULT, merged, and the
# CPU figures). Each wrk process keeps its sample in $work/sample.N (reads.lua).
cluster_run() {
  local script=$1 key=$2 i before after wrk_pids=()
  shift 2
  before=$(tree_ticks "${cluster_pids[@]}")
  for i in 0 1; do
    BENCH_SAMPLE=$work/sample.$i BENCH_HIST=$work/hist.$i \
      wrk -t1 -c$(( i == 0 ? conns / 2 : conns - conns / 2 )) -d"${duration}s" --timeout 5s \
      -s "$script" -H "X-Api-Key: $key" "${cluster_urls[$i]}" -- "$@" >"$work/wrk.$i" &
    wrk_pids+=($!)
  done
  wait "${wrk_pids[0]}"
  wait "${wrk_pids[1]}"
  after=$(tree_ticks "${cluster_pids[@]}")
  python3 - "$work" "$before" "$after" "${cluster_names[*]}" "$(cluster_roles)" <<'PY'
import json, os, re, sys
work, before, after, names, roles = sys.argv[1:]
runs, hist = [], {}
for i in (0, 1):
    line = re.search(r"^RESULT (.*)$", open(f"{work}/wrk.{i}").read(), re.M)
    runs.append(json.loads(line.group(1)) if line else {"errors": 1, "ok": 0, "requests": 0})
    for row in open(f"{work}/hist.{i}") if line else []:
        us, count = map(int, row.split())
        hist[us] = hist.get(us, 0) + count
count = sum(hist.values())
def percentile(p):  # as wrk's stats_percentile, over the merged histogram
    rank, total = round(p / 100 * count + 0.5), 0
    for us in sorted(hist):
        total += hist[us]
        if total >= rank:
            return us
r = {k: sum(x.get(k, 0) for x in runs) for k in ("requests", "ok", "errors")}
r["seconds"] = max(x.get("seconds", 0) for x in runs)
r["rps"] = round(sum(x["ok"] / x["seconds"] for x in runs if x.get("seconds")), 1)
r["reply_bytes"] = round(sum(x.get("reply_bytes", 0) * x["requests"] for x in runs) / max(1, r["requests"]), 1)
r["mean_us"] = round(sum(us * c for us, c in hist.items()) / max(1, count))
r.update(p50_us=percentile(50), p99_us=percentile(99), p999_us=percentile(99.9))
role = dict(line.split() for line in roles.splitlines())
tick_s = 1 / os.sysconf("SC_CLK_TCK")
processes = {}
for name, b, a in zip(names.split(), before.split(), after.split()):
    kind, port = name.split(":")
    label = "contextd" if kind == "contextd" else f"redis_{role.get(port, 'gone')}"
    processes[f"{label}:{port}"] = round((int(a) - int(b)) * tick_s, 2)
r["cpu_s"] = round(sum(processes.values()), 2)
per = lambda s: round(s * 1e6 / r["ok"], 1) if r["ok"] else None
r["cpu_us_per_req"] = per(r["cpu_s"])
for label in ("contextd", "redis_master", "redis_slave"):
    r[f"cpu_us_per_req_{label}"] = per(sum(s for k, s in processes.items()
                                           if k.startswith(label + ":")))
r["node1_ok"], r["node2_ok"] = runs[0]["ok"], runs[1]["ok"]
r["node_runs"] = runs
r["cpu_s_by_process"] = processes
print(json.dumps(r))
PY
}

# cluster_check WHAT RUN-JSON MIN_RPS: fails the bench on an error, an implausible rate, a node
# that served less than a quarter of the replies, or fewer than 8 measured processes.
cluster_check() {
  check_run "$1" "$2" "$3"
  python3 - "$@" <<'PY' || { say "FAILED: $1: $2"; exit 1; }
import json, sys
what, r = sys.argv[1], json.loads(sys.argv[2])
problems = []
for n in ("node1_ok", "node2_ok"):
    if r[n] < r["ok"] / 4:
        problems.append(f"{n} served {r[n]} of {r['ok']} replies")
kinds = [k.split(":")[0] for k in r["cpu_s_by_process"]]
if (kinds.count("contextd"), kinds.count("redis_master"), kinds.count("redis_slave")) != (2, 3, 3):
    problems.append(f"measured processes: {kinds} (want 2 contextd, 3 masters, 3 replicas)")
if problems:
    sys.exit(f"{what}: " + "; ".join(problems))
PY
}

# cluster_reads: one checked read run (the read mix over both nodes); sets `run`.
cluster_reads() {
  local i sample_bytes
  run=$(cluster_run "$load/reads.lua" "$cluster_reader" "$customers" "$keys" "$end_ms" 0)
  cluster_check "reads, cluster" "$run" 1000
  for i in 0 1; do
    sample_bytes=$(python3 "$load/same_rows.py" "${cluster_urls[$i]}" "$cluster_reader" "$pgport" bench \
      "$customers" "$keys" "$end_ms" "$work/sample.$i") ||
      { say "FAILED: reads, cluster node $((i + 1)): the sampled requests (above)"; exit 1; }
    python3 -c "
import json, sys
got, checked = json.loads(sys.argv[1])['node_runs'][$i]['reply_bytes'], float(sys.argv[2])
sys.exit(abs(got - checked) > 0.15 * checked)" "$run" "$sample_bytes" ||
      { say "FAILED: reads, cluster node $((i + 1)): mean reply size differs from the checked sample's $sample_bytes"; exit 1; }
  done
}

cluster_writes() {  # one checked durable-write run; sets `run`
  run=$(cluster_run "$load/writes.lua" "$cluster_writer")
  cluster_check "writes, cluster" "$run" 100
}

cluster_reset_latency() { local u; for u in "${cluster_urls[@]}"; do reset_latency "${u##*:}"; done; }

# cluster_server_side ROUTE...: per route, each node's server-side figures since the last reset
# and their max (p50, p99, p99.9) and sum (count); keyed by the route.
cluster_server_side() {
  local args=() route u
  for route in "$@"; do
    for u in "${cluster_urls[@]}"; do args+=("$route" "$(latency "${u##*:}" "$route")"); done
  done
  python3 - "${args[@]}" <<'PY'
import json, sys
out = {}
pairs = sys.argv[1:]
for route, figures in zip(pairs[::2], pairs[1::2]):
    out.setdefault(route, {"nodes": []})["nodes"].append(json.loads(figures))
for route, r in out.items():
    nodes = r["nodes"]
    r["count"] = sum(n["count"] for n in nodes)
    for k in ("p50_us", "p99_us", "p999_us"):
        r[k] = None if any(n[k] is None for n in nodes) else max(n[k] for n in nodes)
print(json.dumps(out))
PY
}

# cluster_interactions N: loads N interaction records through both nodes and measures the
# memory they take; prints {"records", "before", "after", "load": {...}}.
cluster_interactions() {
  local before after result
  before=$(cluster_memory)
  result=$(python3 "$load/interactions.py" "$(IFS=,; echo "${cluster_urls[*]}")" "$cluster_writer" \
    "$1" "$customers" "$keys" "$end_ms") || { say "FAILED: the interaction load"; exit 1; }
  after=$(cluster_memory)
  echo "{\"records\": $1, \"before\": $before, \"after\": $after, \"load\": $result}"
}

cluster_check_roles() {  # fails the bench if a failover happened during the run
  [ "$(cluster_roles)" = "$cluster_roles_at_start" ] ||
    { say "FAILED: the cluster's roles changed during the run (a failover): $(cluster_roles)"; exit 1; }
}
