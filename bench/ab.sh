#!/usr/bin/env bash
# bench/ab.sh BUILD_A BUILD_B: an A/B of two builds on the same data, for a change that must not
# cost CPU: the read mix of bench/run.sh, or with WORKLOAD=writes its durable lifecycle writes
# (--sync=always). Both servers run at once on one data set (each imports it with its
# own binary); their read runs alternate A B B A ... so that the machine's drift hits both
# alike. Per run: requests served (replies below 400 only; any error fails) and the server's
# CPU per request from /proc. Prints the per-round figures, the medians, and B/A as the median
# of the per-pair ratios.
# Environment: WORKLOAD (reads or writes, default reads), SCALE (services, default 1000000),
# ROUNDS (pairs, default 4), DURATION (seconds per run, default 10), CONNS (default 32).
set -euo pipefail

a_build=$(cd "$1" && pwd)
b_build=$(cd "$2" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
scale=${SCALE:-1000000}
rounds=${ROUNDS:-4}
duration=${DURATION:-10}
conns=${CONNS:-32}
workload=${WORKLOAD:-reads}
customers=$((scale / 10))
keys=$((scale / 5))
end_ms=1767225600000  # as bench/run.sh: the data set's "now"
load=$root/bench/load
work=$(mktemp -d /tmp/contextd-ab-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

mkdir -p "$work/data"
"$a_build/bench/datagen" --services="$scale" --customers="$customers" --keys="$keys" \
  --end-ms="$end_ms" "$work/data" >/dev/null 2>&1
declare -A port pid
for side in A B; do
  build=$a_build
  [ "$side" = B ] && build=$b_build
  "$build/contextd" import --data-dir "$work/db$side" "$work/data/services.ndjson" >/dev/null 2>&1
  "$build/contextd" --port 0 --data-dir "$work/db$side" --threads 2 --log-level warn --no-auth \
    >"$work/$side.log" 2>&1 &
  pid[$side]=$!
  pids+=("${pid[$side]}")
  port[$side]=$(wait_port "$work/$side.log")
  wrk -t2 -c"$conns" -d"$duration"s -s "$load/warm.lua" "http://127.0.0.1:${port[$side]}" \
    -- "$customers" "$keys" "$end_ms" 2 >/dev/null
done

case $workload in
  reads) script=(-s "$load/reads.lua") script_args=(-- "$customers" "$keys" "$end_ms" 0) ;;
  writes) script=(-s "$load/writes.lua") script_args=() ;;
  *) echo "WORKLOAD must be reads or writes" >&2; exit 2 ;;
esac
run() {  # SIDE: one run of the workload; prints "rps cpu_us_per_request"
  local side=$1 before after result
  before=$(tree_ticks "${pid[$side]}")
  result=$(BENCH_SAMPLE=$work/sample wrk -t2 -c"$conns" -d"$duration"s --timeout 5s \
    "${script[@]}" "http://127.0.0.1:${port[$side]}" "${script_args[@]}" |
    sed -n 's/^RESULT //p')
  after=$(tree_ticks "${pid[$side]}")
  python3 -c "
import json, os, sys
r = json.loads(sys.argv[1])
if r['errors'] or r['ok'] == 0: sys.exit('side $side: a run with errors: ' + sys.argv[1])
tick_us = 1e6 / os.sysconf('SC_CLK_TCK')
print(r['rps'], round((int(sys.argv[3]) - int(sys.argv[2])) * tick_us / r['ok'], 2))" \
    "$result" "$before" "$after"
}

echo "$workload; round  A req/s  A CPU us/req  B req/s  B CPU us/req"
results=()
for ((i = 1; i <= rounds; i++)); do
  order="A B"
  [ $((i % 2)) = 0 ] && order="B A"
  declare -A got
  for side in $order; do got[$side]=$(run "$side"); done
  echo "$i      ${got[A]% *}  ${got[A]#* }  ${got[B]% *}  ${got[B]#* }"
  results+=("${got[A]} ${got[B]}")
done
python3 -c "
import statistics, sys
rows = [list(map(float, r.split())) for r in sys.argv[1:]]
med = lambda i: statistics.median(r[i] for r in rows)
print(f'median A {med(0):.0f} req/s {med(1):.2f} us/req; B {med(2):.0f} req/s {med(3):.2f} us/req')
print('B/A: req/s %.3fx, CPU per request %.3fx (medians of the per-round ratios)' % (
    statistics.median(r[2] / r[0] for r in rows), statistics.median(r[3] / r[1] for r in rows)))
" "${results[@]}"
