# Sourced by the shell tests. start_contextd BIN [FLAG...] starts the real binary on a free
# port with a fresh data directory and sets `pid`, `port` and `url`; the server is stopped and
# the directory removed when the script exits. Its stderr (the request log) is kept in
# "$contextd_dir/err". Without --admin-key among the flags (or CONTEXTD_ADMIN_KEY) it runs
# without API keys (--no-auth).
start_contextd() {
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
