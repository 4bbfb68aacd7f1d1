#!/usr/bin/env python3
"""Checks that contextd and PostgreSQL answer the bench's read mix with the same rows and fields.

Usage: same_rows.py CONTEXTD_URL API_KEY PGPORT CUSTOMERS KEYS END_MS [SAMPLES]

For SAMPLES random keys of each query (anonymous active, customer active with active states,
customer 30-day history) it sends contextd the request bench/load/reads.lua sends and
PostgreSQL the very SQL file pgbench runs (its `\\set` draw replaced by the key), and compares
the services in order, field by field: ids, owner, contact key, type, start and completion
times and data, active states. contextd must return no field that PostgreSQL does not (its
attached data stays out of the reply, as PostgreSQL's `attached` column stays out of its
SELECT). Exits 1 on any difference or when too few samples have rows to compare.
"""

import datetime
import http.client
import json
import os
import random
import re
import subprocess
import sys
import urllib.parse

LOAD = os.path.dirname(os.path.abspath(__file__))
SERVICE_FIELDS = {"service_id", "customer_id", "contact_key", "service_type", "started",
                  "completed", "active_states"}


def ms(iso):
    t = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    return round(t.timestamp() * 1000)


def from_contextd(s):
    extra = set(s) - SERVICE_FIELDS
    if extra:
        raise SystemExit(f"contextd returned fields PostgreSQL does not: {sorted(extra)} in {s}")
    started, completed = s["started"], s.get("completed") or {}
    states = s.get("active_states")
    return (s["service_id"], s.get("customer_id"), s["contact_key"], s.get("service_type"),
            ms(started["timestamp"]), started.get("media_type"), started.get("interaction_id"),
            ms(completed["timestamp"]) if completed else None, completed.get("disposition"),
            None if states is None else
            [(x["state_id"], x["state_type"], ms(x["started"]["timestamp"])) for x in states])


def from_postgresql(r, customer_id):
    doc = r["doc"]
    states = r.get("active_states", False)
    completed = doc.get("completed") or {}
    return (r["id"], r.get("customer_id", customer_id), r["contact_key"], r["service_type"],
            r["started_ms"], doc["started"].get("media_type"), doc["started"].get("interaction_id"),
            r.get("completed_ms"), completed.get("disposition"),
            None if states is False else
            [(x["state_id"], x["state_type"], x["started_ms"]) for x in states or []])


def iso(ms_value):
    t = datetime.datetime.fromtimestamp(ms_value / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms_value % 1000:03d}Z"


def main():
    url, api_key, pgport = sys.argv[1], sys.argv[2], sys.argv[3]
    customers, keys, end_ms = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    samples = int(sys.argv[7]) if len(sys.argv) > 7 else 200
    rnd = random.Random()
    window = f"started_from={iso(end_ms - 30 * 86400000)}&started_to={iso(end_ms)}"
    kinds = [  # (SQL file, its variable, range, contextd path of the drawn number)
        ("pg_anonymous_active.sql", "k", keys,
         lambda n: "/genesys/1/cs/services/anonymous/" + urllib.parse.quote(f"+1408{n:07d}") + "/active"),
        ("pg_customer_active.sql", "c", customers,
         lambda n: f"/genesys/1/cs/customers/C{n:07d}/services/active?active_states=true"),
        ("pg_customer_history.sql", "c", customers,
         lambda n: f"/genesys/1/cs/customers/C{n:07d}/services?{window}"),
    ]
    host = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    compared = rows = 0
    for sql_file, var, limit, path in kinds:
        sql = open(os.path.join(LOAD, sql_file)).read()
        sql = re.sub(r"^\\set .*$", "", sql, flags=re.M).strip().rstrip(";")
        drawn = [rnd.randrange(limit) for _ in range(samples)]
        statements = []
        for n in drawn:
            q = sql.replace(f":{var}::text", f"'{n}'").replace(":end_ms", str(end_ms))
            statements.append(f"SELECT coalesce(jsonb_agg(t), '[]') FROM ({q}) t;")
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", pgport, "-U", "bench", "-d", "bench",
                              "-At", "-v", "ON_ERROR_STOP=1"], input="\n".join(statements),
                             capture_output=True, text=True, check=True).stdout.splitlines()
        if len(out) != len(drawn):
            raise SystemExit(f"{sql_file}: {len(out)} answers for {len(drawn)} queries")
        non_empty = 0
        for n, pg_json in zip(drawn, out):
            customer = f"C{n:07d}" if var == "c" else None
            want = [from_postgresql(r, customer) for r in json.loads(pg_json)]
            conn.request("GET", path(n), headers={"X-Api-Key": api_key} if api_key else {})
            res = conn.getresponse()
            body = res.read()
            if res.status != 200:
                raise SystemExit(f"contextd {path(n)}: {res.status} {body[:200]!r}")
            got = [from_contextd(s) for s in json.loads(body)]
            if got != want:
                raise SystemExit(f"DIFFERENT ROWS for {path(n)} ({sql_file}):\n"
                                 f"  contextd:   {got}\n  PostgreSQL: {want}")
            compared += 1
            rows += len(got)
            non_empty += bool(got)
        if non_empty < samples // 10:
            raise SystemExit(f"{sql_file}: only {non_empty} of {samples} samples have rows: "
                             "the comparison says too little")
    print(f"same rows: {compared} queries, {rows} services compared field by field")


if __name__ == "__main__":
    main()
