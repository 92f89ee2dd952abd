#!/usr/bin/env bash
# Latency accuracy under load: the demo target delays every API request by
# 50 ms (`--latency 50ms`) and reports the delays it actually slept
# (`GET /telemetry/delay`); trek sends 1,000 requests/s (open model) for
# 10 s. Prints trek's p50 and the target's, and trek's overhead: the
# difference. The goal: trek's p50 within 2 ms of 50 ms.
#
#   bench/latency-accuracy.sh [RATE]     (default 1000)
#
# Target on CPU 0, trek on CPU 1 when taskset is available.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1000}
cargo build --release --quiet
trek=$PWD/target/release/trek
pin0=(); pin1=()
if command -v taskset >/dev/null 2>&1; then pin0=(taskset -c 0); pin1=(taskset -c 1); fi

work=$(mktemp -d)
trap 'kill "$demo_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"${pin0[@]}" "$trek" demo-target --port 0 --latency 50ms > "$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 50); do grep -q listening "$work/demo.log" && break; sleep 0.1; done
base=$(awk '/listening/ {print $NF}' "$work/demo.log")

# /api/auth/verify without a token is the cheapest delayed route: 50 ms,
# then 401 at once.
cat > "$work/delay.yaml" <<YAML
version: 1
base_url: $base
load: { executor: constant-arrival-rate, rate: $rate/s, duration: 10s, max_vus: 200 }
steps:
  - { name: delayed, get: /api/auth/verify, expect: { status: 401 } }
YAML
"${pin1[@]}" "$trek" run "$work/delay.yaml" --quiet --format json --out "$work/out" > /dev/null 2>&1 || true
curl -fs "$base/telemetry/delay" > "$work/target.json"
python3 - "$work/out/results.json" "$work/target.json" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
step = next(s for s in r["steps"] if s["name"] == "delayed")
lat = {k: v * 1000 for k, v in step["latency"].items() if isinstance(v, (int, float))}  # s -> ms
p50 = lat["p50"]
print(f"| rate/s | requests | failures | trek p50 | trek p99 | target p50 (slept) | trek overhead at p50 | off 50 ms |")
print(f"|---|---|---|---|---|---|---|---|")
print(f"| {sys.argv[3]} | {step['count']} | {step['failures']} | {p50:.2f} ms | {lat['p99']:.2f} ms | "
      f"{t['p50_us'] / 1000:.2f} ms | {p50 - t['p50_us'] / 1000:.2f} ms | {p50 - 50:+.2f} ms |")
PY
