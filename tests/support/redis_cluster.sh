#!/usr/bin/env bash
# A throw-away Redis Cluster for tests: 3 masters + 3 replicas of Debian's redis-server on
# 127.0.0.1, one directory per node under DIR, AOF on (appendfsync everysec), node timeout
# 1000 ms so that a failover takes about 2 s. Never touches the system redis on 6379.
#
# Command line (each exits non-zero with a message on stderr when it fails):
#   redis_cluster.sh start DIR [BASEPORT]  start, create, wait until healthy; writes DIR/seeds
#                                          ("127.0.0.1:P0,...,127.0.0.1:P5") and DIR/base.
#                                          Without BASEPORT: the first base in 20000..22690
#                                          (step 10) whose 6 ports and 6 bus ports (+10000)
#                                          are free. On failure stops what it started.
#   redis_cluster.sh stop DIR              SIGTERM every node of DIR, SIGKILL after 10 s.
#                                          Exit 0 even when nothing runs; logs stay.
#   redis_cluster.sh wait DIR [SKIP_PORT]  wait (60 s) until healthy; SKIP_PORT: a node that
#                                          is down on purpose (killed, failed over).
#   redis_cluster.sh restart DIR PORT      restart one node with its saved command line (it
#                                          keeps nodes.conf and its AOF); waits for PING only.
#   redis_cluster.sh master-of-slot DIR SLOT   the port of the master serving SLOT.
#   redis_cluster.sh pid DIR PORT          the pid of the node on PORT (fails if not running).
# Environment: REDIS_CLUSTER_WAIT_S (default 60) bounds every wait for health.
# CONTEXTD_REDIS_OWNER_PID=PID makes `start` leave a watchdog that stops the
# cluster once PID exits (a test process killed on a timeout leaks no redis-server).
#
# Sourced, it defines the same as functions (they work under `set -euo pipefail`):
#   start_cluster DIR [BASEPORT]; stop_cluster DIR; wait_cluster_ok DIR [SKIP_PORT];
#   restart_node DIR PORT; master_of_slot DIR SLOT; node_pid DIR PORT.
# Replica placement is chosen by redis-cli: never assume which node is a replica; ask.

_RC_PORT_MIN=20000
_RC_PORT_MAX=22700
_RC_WAIT_S=${REDIS_CLUSTER_WAIT_S:-60}  # how long `start` and `wait` wait for health
# One lock for all port picking on this machine: concurrent starts (ctest -j) must not pick
# the same free ports. Held from the pick until every node listens.
_RC_LOCK=/tmp/contextd-redis-cluster-ports.lock

_rc_lock_fd=""  # the open lock file while a start holds the lock

# PORT ARGS...: a command's reply, empty when the node does not answer (never fails).
_rc_cli() { { redis-cli -h 127.0.0.1 -p "$@" 2>/dev/null || true; } | tr -d '\r'; }

_rc_alive() {  # PID: running and not a zombie (an exited child can linger as Z until reaped)
  local st
  st=$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

_rc_node_pid() {  # DIR PORT: the node's pid if its pid file names a live redis-server of PORT
  local f=$1/$2/pid pid cmd
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && _rc_alive "$pid" || return 1
  # Not a recycled pid: our command line ("redis-server --port PORT ...") or the title redis
  # rewrites it to ("redis-server 127.0.0.1:PORT [cluster]").
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == redis-server* && ($cmd == *" $2 "* || $cmd == *":$2 "*) ]] || return 1
  echo "$pid"
}

_rc_port_free() {  # PORT: nothing listens on it
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_rc_base_free() {  # BASE: the 6 ports and their 6 bus ports are free
  local p
  for ((p = $1; p < $1 + 6; p++)); do
    _rc_port_free "$p" && _rc_port_free $((p + 10000)) || return 1
  done
}

_rc_launch() {  # DIR PORT: run the node's saved command line in the background
  local d=$1/$2 cmd
  mapfile -t cmd <"$d/cmdline"
  # Every inherited fd but 0-2 closed, and those redirected: the node must not hold a
  # caller's pipe open (ctest and popen read until EOF) nor the port lock.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -le 2 ] || eval "exec $fd>&-" 2>/dev/null || true
    done
    exec "${cmd[@]}"
  ) </dev/null >>"$d/stdout.log" 2>&1 &
  echo $! >"$d/pid"
  disown $!  # not a job of a sourcing shell: no "Killed" notice when a test kills it
}

_rc_wait_up() {  # DIR PORT: wait (10 s) until OUR process answers on PORT
  local dir=$1 port=$2 pid end=$((SECONDS + 10))
  pid=$(cat "$dir/$port/pid")
  # The pid check: a PONG from some other server holding the port must not count.
  until [ "$(_rc_cli "$port" info server | awk -F: '/^process_id:/{print $2}')" = "$pid" ]; do
    if ! _rc_alive "$pid" || [ $SECONDS -ge $end ]; then
      echo "redis_cluster: node $port did not come up; the end of its output and log:" >&2
      tail -n 20 "$dir/$port/stdout.log" "$dir/$port/redis.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.05
  done
}

_rc_dump() {  # DIR: every node's view and log tail, for a failure message
  local d p
  for d in "$1"/*/; do
    p=$(basename "$d")
    [ -f "$d/cmdline" ] || continue
    echo "== node $p: CLUSTER NODES =="
    _rc_cli "$p" cluster nodes || true
    echo "== node $p: last lines of $d""redis.log =="
    tail -n 30 "$d/redis.log" 2>/dev/null || true
  done >&2
}

_rc_topology() {  # PORT SKIP: the node's view of the others, one sorted line per node but SKIP:
  # "port role master-id link bad slots" (role master|slave; bad = fail/handshake/noaddr flags)
  _rc_cli "$1" cluster nodes | awk -v skip="$2" '
    { split($2, a, "[:@]"); if (a[2] == skip) next
      role = ($3 ~ /master/) ? "master" : ($3 ~ /slave/) ? "slave" : "none"
      bad = ($3 ~ /fail|handshake|noaddr/) ? "bad" : "-"
      slots = ""; for (i = 9; i <= NF; i++) slots = slots " " $i
      print a[2], role, $4, $8, bad slots }' | sort
}

_rc_healthy() {  # DIR SKIP: true if the cluster is healthy now (see wait_cluster_ok)
  local base n=6 p info topo first=""
  base=$(cat "$1/base") || return 1
  [ -n "$2" ] && n=5
  for ((p = base; p < base + 6; p++)); do
    [ "$p" = "$2" ] && continue
    info=$(_rc_cli "$p" cluster info)
    grep -q '^cluster_state:ok$' <<<"$info" && grep -q '^cluster_slots_ok:16384$' <<<"$info" &&
      grep -q '^cluster_known_nodes:6$' <<<"$info" || return 1
    topo=$(_rc_topology "$p" "$2")
    if [ -z "$first" ]; then
      first=$topo
      # n nodes, all connected, none flagged; 3 masters serving slots, every other a replica.
      [ "$(wc -l <<<"$topo")" = $n ] || return 1
      awk '$4 != "connected" || $5 != "-"' <<<"$topo" | grep -q . && return 1
      [ "$(awk '$2 == "master" && NF > 5' <<<"$topo" | wc -l)" = 3 ] || return 1
      [ "$(awk '$2 == "slave"' <<<"$topo" | wc -l)" = $((n - 3)) ] || return 1
    fi
    [ "$topo" = "$first" ] || return 1  # every node sees the same cluster
    info=$(_rc_cli "$p" info replication)
    if grep -q '^role:slave$' <<<"$info"; then
      grep -q '^master_link_status:up$' <<<"$info" || return 1
    fi
  done
}

# wait_cluster_ok DIR [SKIP_PORT]: waits until every node (but SKIP_PORT) says cluster_state
# ok with all 16384 slots and 6 known nodes, all agree on CLUSTER NODES (3 masters with slots,
# every other node a replica, none flagged fail/handshake/noaddr, all connected), and every
# replica's link to its master is up. Dumps the nodes' views and logs after 60 s.
wait_cluster_ok() {
  local dir=$1 skip=${2:-} end=$((SECONDS + _RC_WAIT_S))
  until _rc_healthy "$dir" "$skip"; do
    if [ $SECONDS -ge $end ]; then
      echo "redis_cluster: cluster in $dir not healthy after ${_RC_WAIT_S}s" >&2
      _rc_dump "$dir"
      return 1
    fi
    sleep 0.1
  done
}

_rc_lock() {  # take the port lock (60 s at most)
  exec {_rc_lock_fd}>>"$_RC_LOCK" && flock -w 60 "$_rc_lock_fd" && return 0
  echo "redis_cluster: could not lock $_RC_LOCK" >&2
  _rc_unlock
  return 1
}
_rc_unlock() { [ -z "$_rc_lock_fd" ] || exec {_rc_lock_fd}>&-; _rc_lock_fd=""; }

_rc_pick_base() {  # BASE or "": prints BASE if free, else the first free base of our range
  local p
  if [ -n "$1" ]; then
    _rc_base_free "$1" && { echo "$1"; return 0; }
    echo "redis_cluster: a port in $1..$(($1 + 5)) or its bus port (+10000) is in use" >&2
    return 1
  fi
  for ((p = _RC_PORT_MIN; p + 5 <= _RC_PORT_MAX; p += 10)); do
    _rc_base_free "$p" && { echo "$p"; return 0; }
  done
  echo "redis_cluster: no 6 free ports (and bus ports) in $_RC_PORT_MIN..$_RC_PORT_MAX" >&2
  return 1
}

_rc_launch_all() {  # DIR BASE: write each node's command line, launch, wait until all listen
  local dir=$1 base=$2 p d
  for ((p = base; p < base + 6; p++)); do
    d=$dir/$p
    mkdir -p "$d" && rm -rf "$d/nodes.conf" "$d/dump.rdb" "$d/appendonlydir" "$d/pid" ||
      return 1
    # One argument per line, so restart_node runs exactly the same command.
    printf '%s\n' redis-server --port "$p" --bind 127.0.0.1 --protected-mode yes \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
      --dir "$d" --logfile "$d/redis.log" --daemonize no \
      --appendonly yes --appendfsync everysec --save '' \
      --repl-diskless-sync-delay 0 >"$d/cmdline" || return 1
    _rc_launch "$dir" "$p"
  done
  for ((p = base; p < base + 6; p++)); do
    _rc_wait_up "$dir" "$p" || return 1
  done
}

# start_cluster DIR [BASEPORT]: see the command line above. On failure it stops the nodes it
# launched; a cluster already running in DIR is refused and left alone.
start_cluster() {
  local dir=$1 base p d addrs=()
  [ -n "$dir" ] || { echo "usage: start_cluster DIR [BASEPORT]" >&2; return 2; }
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
  for d in "$dir"/*/; do
    if [ -f "$d/cmdline" ] && _rc_node_pid "$dir" "$(basename "$d")" >/dev/null; then
      echo "redis_cluster: a cluster already runs in $dir; stop it first" >&2
      return 1
    fi
  done
  rm -f "$dir/seeds" "$dir/base"
  # Under the lock from the port pick until every node listens: then the ports are taken.
  _rc_lock || return 1
  if ! base=$(_rc_pick_base "${2:-}") || ! echo "$base" >"$dir/base"; then
    _rc_unlock
    return 1
  fi
  if ! _rc_launch_all "$dir" "$base"; then
    _rc_unlock
    _rc_stop_nodes "$dir"
    return 1
  fi
  _rc_unlock
  for ((p = base; p < base + 6; p++)); do addrs+=("127.0.0.1:$p"); done
  if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
       </dev/null >"$dir/create.log" 2>&1; then
    echo "redis_cluster: redis-cli --cluster create failed:" >&2
    cat "$dir/create.log" >&2
    _rc_stop_nodes "$dir"
    return 1
  fi
  wait_cluster_ok "$dir" || { _rc_stop_nodes "$dir"; return 1; }
  (IFS=,; echo "${addrs[*]}") >"$dir/seeds"
  if [ -n "${CONTEXTD_REDIS_OWNER_PID:-}" ]; then
    _rc_watchdog "$dir" "$CONTEXTD_REDIS_OWNER_PID"
  fi
}

_rc_watchdog() {  # DIR OWNER_PID: stop the cluster once OWNER_PID has exited
  (
    exec </dev/null >>"$1/watchdog.log" 2>&1
    while kill -0 "$2" 2>/dev/null; do sleep 1; done
    echo "owner $2 exited: stopping the cluster"
    rm -f "$1/watchdog.pid"
    _rc_stop_nodes "$1"
  ) &
  echo $! >"$1/watchdog.pid"
}

_rc_stop_nodes() {  # DIR: SIGTERM every live node, one 10 s deadline, then SIGKILL
  local dir=$1 d f pid pids=() end=$((SECONDS + 10))
  for d in "$dir"/*/; do
    [ -f "$d/pid" ] || continue
    if pid=$(_rc_node_pid "$dir" "$(basename "$d")"); then
      kill "$pid" 2>/dev/null && pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    while _rc_alive "$pid" && [ $SECONDS -lt $end ]; do sleep 0.05; done
    _rc_alive "$pid" && kill -9 "$pid" 2>/dev/null
  done
  for f in "$dir"/*/pid; do rm -f "$f"; done
  return 0
}

# stop_cluster DIR: see the command line above. Also ends the watchdog, if any.
stop_cluster() {
  local dir=$1 pid
  [ -d "$dir" ] || return 0
  if [ -f "$dir/watchdog.pid" ]; then
    pid=$(cat "$dir/watchdog.pid")
    # Only if that pid still is this script (a bash running redis_cluster.sh).
    if _rc_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q redis_cluster; then
      kill "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/watchdog.pid"
  fi
  _rc_stop_nodes "$dir"
}

# restart_node DIR PORT: see the command line above. A running node is stopped first.
restart_node() {
  local dir=$1 port=$2 pid
  [ -f "$dir/$port/cmdline" ] || { echo "redis_cluster: no node $port in $dir" >&2; return 1; }
  if pid=$(_rc_node_pid "$dir" "$port"); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 200); do _rc_alive "$pid" || break; sleep 0.05; done
    ! _rc_alive "$pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  _rc_launch "$dir" "$port" && _rc_wait_up "$dir" "$port"
}

# master_of_slot DIR SLOT: the port of the master serving SLOT, as the first node that
# answers sees it. After a failover, call wait_cluster_ok first for a settled answer.
master_of_slot() {
  local dir=$1 slot=$2 base p port
  base=$(cat "$dir/base") || return 1
  for ((p = base; p < base + 6; p++)); do
    port=$(_rc_cli "$p" cluster nodes | awk -v s="$slot" '
      $3 ~ /master/ && $3 !~ /fail/ {
        for (i = 9; i <= NF; i++) {
          n = split($i, r, "-"); if (n == 1) r[2] = r[1]
          if ($i ~ /^[0-9]+(-[0-9]+)?$/ && s + 0 >= r[1] + 0 && s + 0 <= r[2] + 0) {
            split($2, a, "[:@]"); print a[2]; exit
          }
        }
      }')
    [ -n "$port" ] && { echo "$port"; return 0; }
  done
  echo "redis_cluster: no node in $dir names a master for slot $slot" >&2
  return 1
}

# node_pid DIR PORT: see the command line above.
node_pid() {
  _rc_node_pid "$1" "$2" || { echo "redis_cluster: node $2 in $1 is not running" >&2; return 1; }
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  usage() {
    sed -n '/^# Command line/,/^# Environment/p' "$0" | sed '$d' >&2
    exit 2
  }
  [ $# -ge 2 ] || usage
  cmd=$1 dir=$2
  shift 2
  case $cmd in
    start)
      [ $# -le 1 ] || usage
      start_cluster "$dir" "$@"
      ;;
    stop) stop_cluster "$dir" ;;
    wait) wait_cluster_ok "$dir" "$@" ;;
    restart) [ $# -eq 1 ] || usage; restart_node "$dir" "$1" ;;
    master-of-slot) [ $# -eq 1 ] || usage; master_of_slot "$dir" "$1" ;;
    pid) [ $# -eq 1 ] || usage; node_pid "$dir" "$1" ;;
    *) usage ;;
  esac
fi
