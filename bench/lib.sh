# Helpers shared by bench/run.sh and bench/ab.sh (sourced).

wait_port() {  # FILE: waits for a "listening on ...:PORT" line, prints PORT
  for _ in $(seq 200); do
    if grep -q "listening on" "$1" 2>/dev/null; then sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$1"; return; fi
    sleep 0.05
  done
  echo "server did not start: $(cat "$1")" >&2; exit 1
}
tree_ticks() {  # PID...: CPU ticks of each PID and its descendants, reaped children included
  python3 - "$@" <<'PY'
import os, sys
stats = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(p)] = (int(f[1]), sum(int(x) for x in f[11:15]))  # ppid; utime stime cutime cstime
def total(pid):
    return stats.get(pid, (0, 0))[1] + sum(total(c) for c, (pp, _) in stats.items() if pp == pid)
print(" ".join(str(total(int(p))) for p in sys.argv[1:]))
PY
}
