"""Prints bench/peers.sh's results as one Markdown table, with each figure's
ratio to trek's on the same workload:  table.py RESULTS.tsv"""
import sys

NAMES = {
    "w1": "W1 raw",
    "w2": "W2 journey",
    "w3": "W3 idle 10,000",
    "w4": "W4 WebSocket 1,000",
    "w5": "W5 https raw",
    "w6": "W6 https journey",
    "w7": "W7 HTTP/2 50x10",
    "w8": "W8 idle https 10,000",
    "w9": "W9 journey, session per user",
}
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
print("| workload | tool | requests/s | × trek | CPU-µs/request | × trek | peak RSS | KB per user |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for w in sorted({r[0] for r in rows}):
    trek = next((r for r in rows if r[0] == w and r[1] == "trek"), None)
    for r in (x for x in rows if x[0] == w):
        rps, cpu, rss, per_vu = (float(v) for v in r[2:6])
        ratio = (lambda a, i: f"{a / float(trek[i]):.2f}") if trek else (lambda a, i: "–")
        print(f"| {NAMES.get(w, w)} | {r[1]} | {rps:,.0f} | {ratio(rps, 2)} | {cpu:.1f} | "
              f"{ratio(cpu, 3)} | {rss / 1024:.1f} MiB | {per_vu:.1f} |")
