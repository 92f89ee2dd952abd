#!/usr/bin/env bash
# How long `trek merge` takes, and how large a part's result is: writes
# PARTS synthetic parts of SECONDS seconds each (one scenario of 20 request
# steps, 200 requests a second per part, every second's histogram kept, as
# `trek run --segment` writes them; examples/synthetic_parts.rs), then
# merges them RUNS times under /usr/bin/time.
#
#   bench/merge-speed.sh                   # 100 parts of one hour
#   PARTS=8 PART_SECONDS=600 bench/merge-speed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
parts=${PARTS:-100} seconds=${PART_SECONDS:-3600} runs=${RUNS:-3}
cargo build --release --quiet --bin trek --example synthetic_parts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/examples/synthetic_parts "$work/parts" "$parts" "$seconds" 2>/dev/null
size=$(stat -c %s "$work/parts/part-0.json")
packed=$(gzip -c "$work/parts/part-0.json" | wc -c)
echo "one part: $(awk "BEGIN {printf \"%.2f\", $size / 1e6}") MB of results.json ($(awk "BEGIN {printf \"%.2f\", $packed / 1e6}") MB gzipped, as --log-result prints it before base64)"
echo "all $parts parts: $(du -sh "$work/parts" | cut -f1)"
for r in $(seq "$runs"); do
  /usr/bin/time -o "$work/time" -f "merge $r: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
    target/release/trek merge "$work"/parts/*.json --out "$work/merged" >/dev/null 2>&1
  cat "$work/time"
done
