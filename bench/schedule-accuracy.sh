#!/usr/bin/env bash
# Schedule accuracy of the open model: runs constant-arrival-rate at several
# rates against the embedded demo target (GET /health, no injected latency)
# and prints, per rate, the expected and started iterations in total and for
# each full second.
#
#   bench/schedule-accuracy.sh [RATE...]      (default: 100 1000 5000)
#
# Builds the release binary first. The demo target runs on CPU 0 and trek on
# CPU 1 when `taskset` is available.
set -euo pipefail
cd "$(dirname "$0")/.."
rates=("${@:-100 1000 5000}")
[ $# -eq 0 ] && rates=(100 1000 5000)
duration=10

cargo build --release --quiet
trek=target/release/trek
pin0=(); pin1=()
if command -v taskset >/dev/null 2>&1; then pin0=(taskset -c 0); pin1=(taskset -c 1); fi

work=$(mktemp -d)
trap 'kill "$demo_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"${pin0[@]}" "$trek" demo-target --port 0 > "$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 50); do grep -q listening "$work/demo.log" && break; sleep 0.1; done
base=$(awk '/listening/ {print $NF}' "$work/demo.log")

printf '| rate/s | expected | started | dropped | worst second (started vs expected) | p50 lag (latency - service) |\n'
printf '|---|---|---|---|---|---|\n'
for rate in "${rates[@]}"; do
  max_vus=$(( rate / 10 > 50 ? rate / 10 : 50 ))
  cat > "$work/rate.yaml" <<YAML
version: 1
base_url: $base
load: { executor: constant-arrival-rate, rate: $rate/s, duration: ${duration}s, max_vus: $max_vus }
steps:
  - { name: health, get: /health }
YAML
  "${pin1[@]}" "$trek" run "$work/rate.yaml" --quiet --workers 1 --out "$work/out-$rate" > /dev/null 2>&1 || true
  python3 - "$work/out-$rate/results.json" "$rate" "$duration" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rate = int(sys.argv[2]); duration = int(sys.argv[3])
sc = r["scenarios"][0]
started = sc["iterations"] + sc["interrupted"]
full = [p for p in r["timeline"] if p["second"] < duration]
worst = max(full, key=lambda p: abs(p["iterations_started"] - rate))
dev = (worst["iterations_started"] - rate) / rate * 100
st = r["steps"][0]
lag_us = (st["latency"]["p50"] - st["service_time"]["p50"]) * 1e6
print(f"| {rate} | {rate * duration} | {started} ({(started - rate * duration) / (rate * duration) * 100:+.2f}%) | {sc['dropped']} "
      f"| second {worst['second']}: {worst['iterations_started']} ({dev:+.2f}%) | {lag_us:.0f} µs |")
PY
done
