# Sourced by the shell tests. start_contextd BIN [FLAG...] starts the real binary on a free
# port with a fresh data directory and sets `pid`, `port` and `url`; the server is stopped and
# the directory removed when the script exits. Its stderr (the request log) is kept in
# "$contextd_dir/err". Without --admin-key among the flags (or CONTEXTD_ADMIN_KEY) it runs
# without API keys (--no-auth).
#
# With CONTEXTD_TEST_BACKEND=redis it starts two nodes over the Redis cluster whose seeds are in
# the file CONTEXTD_REDIS_SEEDS_FILE (ctest's redis_cluster fixture), under a key prefix of
# their own; `url` is the first node's, and contextd_curl sends each request to the next node in
# turn (a request naming $url goes to the other node every other time).
start_contextd() {
  if [ "${CONTEXTD_TEST_BACKEND:-}" = redis ]; then
    start_contextd_nodes "$@"
    return
  fi
  local bin=$1
  shift
  contextd_dir=$(mktemp -d)
  local open=--no-auth
  case " $* ${CONTEXTD_ADMIN_KEY:+--admin-key}" in *" --admin-key"*) open= ;; esac
  "$bin" --port 0 --data-dir "$contextd_dir/data" "$@" $open >"$contextd_dir/out" 2>"$contextd_dir/err" &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$contextd_dir"' EXIT
  for _ in $(seq 50); do grep -q listening "$contextd_dir/out" && break; sleep 0.1; done
  port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$contextd_dir/out")
  [ -n "$port" ] || { cat "$contextd_dir/out" "$contextd_dir/err" >&2; return 1; }
  url=http://127.0.0.1:$port
}

start_contextd_nodes() {
  local bin=$1
  shift
  contextd_dir=$(mktemp -d)
  local open=--no-auth seeds i
  case " $* ${CONTEXTD_ADMIN_KEY:+--admin-key}" in *" --admin-key"*) open= ;; esac
  seeds=$(cat "$CONTEXTD_REDIS_SEEDS_FILE")
  contextd_pids=()
  contextd_urls=()
  for i in 1 2; do
    "$bin" --port 0 --data-dir "$contextd_dir/data$i" --redis-cluster "$seeds" \
      --redis-key-prefix "$contextd_dir/" "$@" $open >"$contextd_dir/out$i" 2>"$contextd_dir/err$i" &
    contextd_pids+=($!)
  done
  trap 'kill "${contextd_pids[@]}" 2>/dev/null || true; wait "${contextd_pids[@]}" 2>/dev/null || true; rm -rf "$contextd_dir"' EXIT
  for i in 1 2; do
    for _ in $(seq 50); do grep -q listening "$contextd_dir/out$i" && break; sleep 0.1; done
    port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$contextd_dir/out$i")
    [ -n "$port" ] || { cat "$contextd_dir/out$i" "$contextd_dir/err$i" >&2; return 1; }
    contextd_urls+=("http://127.0.0.1:$port")
  done
  pid=${contextd_pids[0]}
  url=${contextd_urls[0]}
  port=${url##*:}
  echo 0 >"$contextd_dir/turn"
}

# curl, each call to the next node in turn when two run (a file keeps the turn: calls run in
# command substitutions, subshells).
contextd_curl() {
  if [ -z "${contextd_urls:-}" ] || [ "${#contextd_urls[@]}" -lt 2 ]; then
    command curl "$@"
    return
  fi
  local turn args=() a
  turn=$(cat "$contextd_dir/turn")
  echo $(( (turn + 1) % 2 )) >"$contextd_dir/turn"
  for a in "$@"; do
    [[ $a == "$url"* ]] && a=${contextd_urls[$turn]}${a#"$url"}
    args+=("$a")
  done
  command curl "${args[@]}"
}
