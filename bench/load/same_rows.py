#!/usr/bin/env python3
"""Checks that contextd and PostgreSQL answer the bench's read mix with the same rows and fields.

Usage: same_rows.py CONTEXTD_URL API_KEY PGPORT PGDATABASE CUSTOMERS KEYS END_MS PATHS_FILE

PATHS_FILE holds request targets sampled by bench/load/reads.lua over a whole load run (the very
requests the load sent). Each must match one of the three reads exactly (anonymous active, customer active with
active states, customer 30-day history: the templates below); it is sent to contextd, and the SQL
file pgbench runs for that read (its `\set` draw replaced by the request's key) to PostgreSQL.
The services are compared in order, field by field: ids, owner, contact key, type, start and
completion times and data, active states. contextd must return no field that PostgreSQL does not
(its attached data stays out of the reply, as PostgreSQL's `attached` column stays out of its
SELECT). The sampled keys must look drawn uniformly over the whole key space (their mean near the
middle, no more repeats than chance gives): a hot set fails. Exits 1 on any difference, on a request it does not
know, on draws that are not uniform, or when too few requests of a read have rows to compare. Prints the mean size of contextd's replies (status line, headers,
body) for the load runs to be compared with.
"""

import datetime
import http.client
import json
import os
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
    url, api_key, pgport, pgdatabase = sys.argv[1:5]
    customers, keys, end_ms = (int(a) for a in sys.argv[5:8])
    paths_file = sys.argv[8]
    window = re.escape(f"started_from={iso(end_ms - 30 * 86400000)}&started_to={iso(end_ms)}")
    reads = [  # (SQL file, its variable, the request target with the drawn number)
        ("pg_anonymous_active.sql", "k", r"/genesys/1/cs/services/anonymous/%2B1408(\d{7})/active"),
        ("pg_customer_active.sql", "c", r"/genesys/1/cs/customers/C(\d{7})/services/active\?active_states=true"),
        ("pg_customer_history.sql", "c", r"/genesys/1/cs/customers/C(\d{7})/services\?" + window),
    ]
    space = {"k": keys, "c": customers}
    drawn = {sql_file: [] for sql_file, _, _ in reads}
    for path in open(paths_file).read().split():
        for sql_file, _, template in reads:
            m = re.fullmatch(template, path)
            if m:
                drawn[sql_file].append((path, int(m.group(1))))
                break
        else:
            raise SystemExit(f"the load sends a request this check does not know: {path}")
    host = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    compared = rows = reply_bytes = 0
    for sql_file, var, _ in reads:
        sample = drawn[sql_file]
        if len(sample) < 50:
            raise SystemExit(f"{sql_file}: only {len(sample)} recorded requests")
        # n draws uniform over [0, S): the mean is S/2 give or take 0.29*S/sqrt(n) (five standard
        # errors of slack), and the draws repeat n - S*(1 - (1 - 1/S)^n) times on average (about
        # Poisson: four standard deviations and 2 of slack). A hot set of a few thousand keys
        # repeats far more often than chance over millions.
        numbers = [n for _, n in sample]
        size = space[var]
        mean = sum(numbers) / len(numbers) / size
        repeats = len(numbers) - len(set(numbers))
        expected = len(numbers) - size * (1 - (1 - 1 / size) ** len(numbers))
        if (abs(mean - 0.5) > 5 * 0.29 / len(numbers) ** 0.5 or max(numbers) >= size or
                repeats > expected + 4 * expected ** 0.5 + 2):
            raise SystemExit(f"{sql_file}: the load's keys are not drawn uniformly over 0..{size - 1}: "
                             f"mean {mean:.3f} of the range, {repeats} repeats in {len(numbers)} draws "
                             f"(chance gives {expected:.1f})")
        sql = open(os.path.join(LOAD, sql_file)).read()
        sql = re.sub(r"^\\set .*$", "", sql, flags=re.M).strip().rstrip(";")
        statements = []
        for _, n in sample:
            q = sql.replace(f":{var}::text", f"'{n}'").replace(":end_ms", str(end_ms))
            statements.append(f"SELECT coalesce(jsonb_agg(t), '[]') FROM ({q}) t;")
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", pgport, "-U", "bench", "-d", pgdatabase,
                              "-At", "-v", "ON_ERROR_STOP=1"], input="\n".join(statements),
                             capture_output=True, text=True, check=True).stdout.splitlines()
        if len(out) != len(sample):
            raise SystemExit(f"{sql_file}: {len(out)} answers for {len(sample)} queries")
        non_empty = 0
        for (path, n), pg_json in zip(sample, out):
            customer = f"C{n:07d}" if var == "c" else None
            want = [from_postgresql(r, customer) for r in json.loads(pg_json)]
            conn.request("GET", path, headers={"X-Api-Key": api_key} if api_key else {})
            res = conn.getresponse()
            body = res.read()
            head = f"HTTP/1.1 {res.status} {res.reason}\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in res.getheaders()) + "\r\n"
            reply_bytes += len(head) + len(body)
            if res.status != 200:
                raise SystemExit(f"contextd {path}: {res.status} {body[:200]!r}")
            got = [from_contextd(s) for s in json.loads(body)]
            if got != want:
                raise SystemExit(f"DIFFERENT ROWS for {path} ({sql_file}):\n"
                                 f"  contextd:   {got}\n  PostgreSQL: {want}")
            compared += 1
            rows += len(got)
            non_empty += bool(got)
        if non_empty < len(sample) // 10:
            raise SystemExit(f"{sql_file}: only {non_empty} of {len(sample)} requests have rows: "
                             "the comparison says too little")
    print(f"same rows: {compared} requests sampled from the load run, {rows} services compared "
          "field by field", file=sys.stderr)
    print(round(reply_bytes / compared, 1))


if __name__ == "__main__":
    main()
