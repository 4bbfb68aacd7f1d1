#!/usr/bin/env python3
"""Loads N interaction records through POST /contextd/v1/interactions (NDJSON batches).

Usage: interactions.py URLS API_KEY N CUSTOMERS KEYS END_MS

URLS is a comma-separated list of contextd base URLs; the batches are spread over them, two
connections each. Record i belongs to customer C<i mod CUSTOMERS> (the data set's customer ids),
account A<i mod CUSTOMERS>, contact number +1408<i mod KEYS> (the data set's contact keys), at a
distinct time within the year before END_MS, with the fields of a Pega outcome (as
bench/history_bench.cc's records): about 330 bytes of JSON each. A batch holds 100 consecutive
records (100 customers). Any reply but 201, or a stored count that is not the batch's, fails the
load (exit 1). Prints one line of JSON: {"stored": N, "seconds": S, "per_s": R}.
"""

import http.client
import json
import queue
import sys
import threading
import time
import urllib.parse

BATCH = 100


def record(i, customers, keys, end_ms):
    t = end_ms - 1 - (i * 31_536_000_000 // max(1, N))  # distinct times over the last year
    c = i % customers
    return json.dumps({
        "customer_id": f"C{c:07d}", "account_number": f"A{c:07d}",
        "contact_number": f"+1408{i % keys:07d}",
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 1000)) + f".{t % 1000:03d}Z",
        "channel": "sms" if i % 3 == 0 else "voice", "direction": "Outbound",
        "campaign": "Renewals-Q4", "action_name": "TravelCard", "action_issue": "Sales",
        "action_group": "Cards", "outcome": "Accepted", "behaviour": "Positive",
        "agent": "agent7", "pega_interaction_id": str(-5120394857720391122 + i),
        "attributes": {"Rank": 1}}, separators=(",", ":"))


def worker(url, api_key, batches, errors, stored):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    headers = {"X-Api-Key": api_key, "Content-Type": "application/x-ndjson"}
    while not errors:
        try:
            first = batches.get_nowait()
        except queue.Empty:
            return
        body = "\n".join(record(i, CUSTOMERS, KEYS, END_MS)
                         for i in range(first, min(first + BATCH, N))) + "\n"
        conn.request("POST", "/contextd/v1/interactions", body=body, headers=headers)
        reply = conn.getresponse()
        data = reply.read()
        expected = min(first + BATCH, N) - first
        if reply.status != 201 or json.loads(data).get("stored") != expected:
            errors.append(f"{url}: batch at {first}: {reply.status} {data[:300]!r}")
            return
        stored.append(expected)


if __name__ == "__main__":
    urls, api_key = sys.argv[1].split(","), sys.argv[2]
    N, CUSTOMERS, KEYS, END_MS = (int(a) for a in sys.argv[3:7])
    batches = queue.Queue()
    for first in range(0, N, BATCH):
        batches.put(first)
    errors, stored = [], []
    threads = [threading.Thread(target=worker, args=(url, api_key, batches, errors, stored))
               for url in urls for _ in range(2)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - start
    if errors or sum(stored) != N:
        sys.exit("interaction load failed: " + "; ".join(errors[:3]) +
                 f" (stored {sum(stored)} of {N})")
    print(json.dumps({"stored": N, "seconds": round(seconds, 2), "per_s": round(N / seconds)}))
