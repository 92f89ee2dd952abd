"""Reads one tool's own count of successful requests (0 when any request or
check failed), or the wall-clock seconds from /usr/bin/time -v, for
bench/peers.sh:  count.py TOOL FILE"""
import csv
import json
import re
import sys


def trek(path):
    # The iterations' requests: W9's one `before` login per user is left out.
    r = json.load(open(path))
    ok = r["totals"]["failures"] == 0
    return sum(s["requests"] for s in r["scenarios"]) if ok else 0


def oha(path):
    r = json.load(open(path))
    codes = r.get("statusCodeDistribution", {})
    ok = codes.get("200", 0)
    return ok if ok == sum(codes.values()) and r["summary"]["successRate"] == 1.0 else 0


def drill(path):
    text = open(path).read()
    if "Assertion mismatched" in text:
        return 0
    total = re.search(r"Total requests\s+(\d+)", text)
    failed = re.search(r"Failed requests\s+(\d+)", text)
    if not total or (failed and int(failed.group(1)) > 0):
        return 0
    return int(total.group(1))


def k6(path):
    m = json.load(open(path))["metrics"]
    checks = m["checks"]
    if checks.get("fails", 0) > 0 or m["http_req_failed"].get("passes", 0) > 0:
        return 0
    return int(m["http_reqs"]["count"])


def artillery(path):
    c = json.load(open(path))["aggregate"]["counters"]
    if c.get("plugins.expect.failed", 0) or c.get("vusers.failed", 0):
        return 0
    return c.get("http.requests", 0)


def artillery_ws(path):
    """W4: its users, when every one connected, said hello and held on
    (register and login happen in the connect hook, outside its counts)."""
    c = json.load(open(path))["aggregate"]["counters"]
    if c.get("vusers.failed", 0) or any(k.startswith("errors.") for k in c):
        return 0
    return c.get("vusers.completed", 0)


def h2load(path):
    """Its own count of 2xx answers, when none failed or errored."""
    text = open(path).read()
    m = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", text)
    codes = re.search(r"status codes: (\d+) 2xx", text)
    if not m or int(m.group(3)) or int(m.group(4)) or not codes:
        return 0
    return int(codes.group(1))


def locust(path):
    for row in csv.DictReader(open(path)):
        if row["Name"] == "Aggregated":
            return int(row["Request Count"]) if int(row["Failure Count"]) == 0 else 0
    return 0


def wall(path):
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", open(path).read())
    h, mnt, s = m.groups()
    return int(h or 0) * 3600 + int(mnt) * 60 + float(s)


try:
    print(globals()[sys.argv[1]](sys.argv[2]))
except (OSError, KeyError, ValueError, TypeError, AttributeError) as e:
    print(f"bench: cannot read {sys.argv[2]}: {e!r}", file=sys.stderr)
    print(0)
