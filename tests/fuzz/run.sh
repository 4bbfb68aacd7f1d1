#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS from its seed corpus (tests/fuzz/corpus/<name>), keeping
# what it finds in BUILD/corpus/<name>, and prints executions and crashes per target. A crash
# (a sanitizer report, an abort, a timeout or running out of memory) fails the run; its input is
# saved as BUILD/crash-<name>-*.
# Usage: run.sh BUILD SECONDS NAME...
set -uo pipefail
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
status=0
for name in "$@"; do
  work=$build/corpus/$name
  mkdir -p "$work"
  log=$build/fuzz-$name.log
  # The API's seeds must get a 2xx from every route but those refusing by design (fuzz_api
  # lists the ones they miss).
  if [ "$name" = api ] && ! FUZZ_API_ROUTES=1 "$build/tests/fuzz/fuzz_api" -runs=0 \
      -artifact_prefix="$build/crash-$name-" "$here/corpus/api" >"$log" 2>&1; then
    status=1
    echo "fuzz api: the seed corpus fails or gets no 2xx from some routes"
    grep -aE '^fuzz_api|ERROR|SUMMARY' "$log" | head -20
    continue
  fi
  "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$build/crash-$name-" "$work" "$here/corpus/$name" \
    >"$log" 2>&1
  code=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  if [ $code -ne 0 ]; then
    status=1
    echo "fuzz $name: CRASH after ${runs:-?} executions (exit $code)"
    grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -20
  else
    echo "fuzz $name: ${runs:-?} executions in ${seconds} s (${rate:-?}/s), 0 crashes, corpus $(ls "$work" | wc -l)"
  fi
done
exit $status
