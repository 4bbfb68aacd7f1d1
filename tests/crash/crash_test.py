#!/usr/bin/env python3
"""Crash durability: SIGKILL the real server at random moments under a concurrent write load.

Usage: crash_test.py CONTEXTD_BINARY [CYCLES]

Each cycle starts contextd (default durability: a write is acknowledged once its WAL is
fsynced) on the same data directory, runs writer threads (start service, start state, complete
service, ingest an interaction), kills the server with SIGKILL at a random time after its first
acknowledged write, restarts it and checks that every acknowledged write is there, then stops it
cleanly and runs `contextd check` (every index agrees with its records). Fails when a cycle
acknowledges no write or when a write is refused while the server is up. Prints one summary
line.
"""

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BIN = sys.argv[1]
CYCLES = int(sys.argv[2]) if len(sys.argv) > 2 else 100
WRITERS = 4
CS = "/genesys/1/cs"


def start(data_dir):
    proc = subprocess.Popen([BIN, "--port", "0", "--data-dir", data_dir, "--no-auth",
                             "--log-level", "error"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        raise SystemExit(f"FAIL contextd did not start: {line!r}")
    return proc, int(line.rsplit(":", 1)[1])


def call(conn, method, path, body=None):
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"Content-Type": "application/json"})
    res = conn.getresponse()
    return res.status, res.read()


class Acked:
    """Every write the server acknowledged, across all cycles."""

    def __init__(self):
        self.lock = threading.Lock()
        self.services = {}      # service id -> {"key", "states": set, "completed": bool}
        self.fresh = []         # ids acknowledged since the last verification
        self.fresh_customers = set()
        self.interactions = {}  # customer id -> count acknowledged
        self.total = 0

    def add(self, fn):
        with self.lock:
            fn()
            self.total += 1


class WriteRefused(Exception):
    """The server was up and answered a write with anything but success."""


def writer(port, stop, killed, acked, seed, failures):
    """Writes until `stop` or until the server is killed (`killed` is set just before the
    SIGKILL). A refused write, or a connection that fails or times out before the kill (the
    server crashed or hung), is a failure: it goes to `failures`, which the main thread checks
    (an exception raised in a thread would only be printed)."""
    rnd = random.Random(seed)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while not stop.is_set():
            key = f"+1555{rnd.randrange(10**7):07d}"
            status, body = call(conn, "POST", f"{CS}/services/start",
                                {"contact_key": key, "service_type": "Crash"})
            if status != 201:
                raise WriteRefused(f"start: {status} {body!r}")
            sid = json.loads(body)["service_id"]
            acked.add(lambda: (acked.services.__setitem__(
                sid, {"key": key, "states": set(), "completed": False}), acked.fresh.append(sid)))
            status, body = call(conn, "POST", f"{CS}/services/{sid}/states/start",
                                {"state_type": 1})
            if status != 201:
                raise WriteRefused(f"state: {status} {body!r}")
            state = json.loads(body)["state_id"]
            acked.add(lambda: acked.services[sid]["states"].add(state))
            if rnd.random() < 0.5:
                status, body = call(conn, "POST", f"{CS}/services/{sid}/end", {"disposition": "x"})
                if status != 204:
                    raise WriteRefused(f"end: {status} {body!r}")
                acked.add(lambda: acked.services[sid].__setitem__("completed", True))
            customer = f"K{rnd.randrange(10**6)}"  # a few records each: reads stay whole
            status, body = call(conn, "POST", "/contextd/v1/interactions",
                                {"customer_id": customer, "channel": "voice", "outcome": "ok"})
            if status != 201:
                raise WriteRefused(f"ingest: {status} {body!r}")
            acked.add(lambda: (acked.interactions.__setitem__(
                customer, acked.interactions.get(customer, 0) + 1),
                acked.fresh_customers.add(customer)))
    except (OSError, http.client.HTTPException) as e:
        if not killed.is_set():
            failures.append(f"the connection failed before the kill: {type(e).__name__}: {e}")
        # Killed: whatever was not acknowledged may or may not be there.
    except Exception as e:  # WriteRefused, or a reply that is not what the contract says
        failures.append(f"{type(e).__name__}: {e}")


def verify(port, acked, everything=False):
    """Checks what was acknowledged since the last call (or everything)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    lost = 0
    ids = list(acked.services) if everything else acked.fresh
    acked.fresh = []
    for sid in ids:
        want = acked.services[sid]
        status, body = call(conn, "GET", f"{CS}/services/{sid}?active_states=true&completed_states=true")
        if status != 200:
            lost += 1
            print(f"LOST service {sid}: {status} {body!r}")
            continue
        got = json.loads(body)
        states = {s["state_id"] for s in got.get("active_states", []) + got.get("completed_states", [])}
        if got.get("contact_key") != want["key"] or not want["states"] <= states or \
                (want["completed"] and "completed" not in got):
            lost += 1
            print(f"LOST part of service {sid}: want {want}, got {got}")
    customers = list(acked.interactions) if everything else list(acked.fresh_customers)
    acked.fresh_customers = set()
    for customer in customers:
        count = acked.interactions[customer]
        status, body = call(conn, "GET", f"/contextd/v1/interactions?customer_id={customer}")
        got = len(json.loads(body)["interactions"]) if status == 200 else -1
        if got < count:
            lost += 1
            print(f"LOST interactions of {customer}: {got} < {count}")
    return lost


def main():
    work = tempfile.mkdtemp(prefix="contextd-crash-")
    data = os.path.join(work, "data")
    acked = Acked()
    lost = 0
    rnd = random.Random(os.getpid())
    try:
        for cycle in range(CYCLES):
            proc, port = start(data)
            stop, killed = threading.Event(), threading.Event()
            failures = []
            before = acked.total
            threads = [threading.Thread(target=writer,
                                        args=(port, stop, killed, acked, rnd.random(), failures))
                       for _ in range(WRITERS)]
            for t in threads:
                t.start()
            # Kill at a random moment, but only once the server has acknowledged writes in this
            # cycle: a cycle that acknowledges nothing proves nothing (a server refusing every
            # write would otherwise pass).
            deadline = time.monotonic() + 10
            while acked.total == before and not failures and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rnd.uniform(0.05, 0.6))
            if proc.poll() is not None:
                raise SystemExit(f"FAIL cycle {cycle + 1}: the server exited by itself "
                                 f"({proc.returncode})")
            killed.set()
            proc.send_signal(signal.SIGKILL)
            if proc.wait() != -signal.SIGKILL:
                raise SystemExit(f"FAIL cycle {cycle + 1}: the server exited by itself "
                                 f"({proc.returncode})")
            stop.set()
            for t in threads:
                t.join()
            if failures:
                raise SystemExit(f"FAIL cycle {cycle + 1}: a write failed while the server was up: "
                                 f"{failures[0]}")
            if acked.total == before:
                raise SystemExit(f"FAIL cycle {cycle + 1}: no write was acknowledged")
            proc, port = start(data)
            lost += verify(port, acked)
            proc.send_signal(signal.SIGTERM)
            if proc.wait(timeout=30) != 0:
                raise SystemExit("FAIL clean shutdown")
            check = subprocess.run([BIN, "check", "--data-dir", data], capture_output=True, text=True)
            if check.returncode != 0:
                print(check.stdout, check.stderr)
                raise SystemExit(f"FAIL contextd check after cycle {cycle + 1}")
        proc, port = start(data)
        lost += verify(port, acked, everything=True)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        print(f"crash test: {CYCLES} kill -9 cycles, {acked.total} acknowledged writes checked "
              f"({len(acked.services)} services), {lost} lost; last check: {check.stdout.strip()}")
        return 1 if lost else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
