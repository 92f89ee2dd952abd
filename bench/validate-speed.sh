#!/usr/bin/env bash
# How fast `trek validate` is: a generated scenario of about 5,000 lines
# (10 scenarios × 50 requests, each with templates, JSONPath and regex
# checks, a capture and an SLO), and each bundled scenario.
#
#   bench/validate-speed.sh [LINES]       (default: 5000)
#
# Builds the release binary first; prints the median and worst of 20 runs
# of each (hyperfine when installed, else a timing loop).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-5000}
runs=20

cargo build --release --quiet
trek=$PWD/target/release/trek
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One request step is 12 lines, in 10 scenarios.
per_scenario=$(( (lines + 119) / 120 ))
gen="$work/generated.yaml"
{
  echo "version: 1"
  echo "name: Generated ${lines}-line test"
  echo "base_url: http://127.0.0.1:8080"
  echo "vars: { tenant: acme }"
  echo "scenarios:"
  for s in $(seq 1 10); do
    echo "  journey_$s:"
    echo "    load: { vus: 5, duration: 30s }"
    echo "    steps:"
    for i in $(seq 1 "$per_scenario"); do
      cat <<STEP
      - name: step_${s}_${i}
        post: "/api/v1/{{ vars.tenant }}/items/{{ item_id | default(0) }}"
        headers: { authorization: "Bearer {{ token | default('') }}" }
        json: { title: "{{ fake.sentence() }}", n: $i, who: "{{ vu }}" }
        expect:
          status: [200, 201]
          json: { "\$.id": { exists: true }, "\$.items[0].name": { matches: "^[a-z]+$" } }
          headers: { content-type: { contains: json } }
        capture:
          item_id: \$.id
          token: { header: x-token, default: none }
        slo: { latency: { p95: 500ms } }
STEP
    done
  done
} > "$gen"
echo "generated: $(wc -l < "$gen") lines, $(grep -c '^      - name:' "$gen") steps"
"$trek" validate "$gen" > /dev/null

time_it() {
  local label=$1; shift
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 3 --runs "$runs" --style none --export-json "$work/h.json" "$*" > /dev/null
    python3 - "$label" "$work/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["results"][0]["times"]
r.sort()
print(f"| {sys.argv[1]} | {1000*r[len(r)//2]:.1f} ms | {1000*r[-1]:.1f} ms |")
PY
  else
    local times=()
    for _ in $(seq "$runs"); do
      local t0 t1
      t0=$(date +%s%N); "$@" > /dev/null; t1=$(date +%s%N)
      times+=($(( (t1 - t0) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" '
      { v[NR] = $1 } END { printf "| %s | %.1f ms | %.1f ms |\n", label, v[int((NR+1)/2)]/1000, v[NR]/1000 }'
  fi
}

echo
echo "| file | median | worst |"
echo "|---|---|---|"
time_it "generated, $(wc -l < "$gen") lines" "$trek" validate "$gen"
for f in scenarios/*.yaml; do
  time_it "$f" "$trek" validate "$f"
done
