#!/usr/bin/env bash
# Writes every tool's version of the workloads into DIR, for bench/peers.sh.
#   bench/target/scripts.sh DIR BASE_URL DURATION_SECONDS [DEMO_URL [TLS_URL H2_URL]]
# TLS_URL: the target over TLS with HTTP/1.1 only; H2_URL: over TLS with
# HTTP/2 (both with a self-signed certificate: verification is off).
set -euo pipefail
work=$1 base=$2 duration=$3 demo=${4:-} tls=${5:-https://127.0.0.1:9} h2=${6:-https://127.0.0.1:9}

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

# W9: W2 with a session per user: a `before` login whose token and cookie the
# user keeps for all its iterations, which still send W2's two requests.
{
  sed -n '1,3p' "$work/w2.yaml"
  cat <<YAML
before:
  - name: session
    post: /api/auth/session
    json: { email: "{{ fake.email() }}", password: secret }
    expect: { status: 200 }
    capture: { session_token: \$.access_token }
YAML
  sed -n '4,$p' "$work/w2.yaml"
} > "$work/w9.yaml"

# Each user: one request, then 10 s of thinking; the run stops at 15 s and
# cuts the thinking short, so each user keeps its idle connection to the end.
# W5 and W6: W1 and W2 over TLS (HTTP/1.1; the certificate is self-signed).
sed -e "s|base_url: $base|base_url: $tls\ndefaults: { tls: { insecure: true }, http_version: http1 }|" "$work/w1.yaml" > "$work/w5.yaml"
sed -e "s|base_url: $base|base_url: $tls\ndefaults: { tls: { insecure: true }, http_version: http1 }|" "$work/w2.yaml" > "$work/w6.yaml"

# W7: HTTP/2 over TLS, 50 users each with 10 GETs in flight on its one
# connection (h2load -c 50 -m 10).
{
  cat <<YAML
version: 1
base_url: $h2
defaults: { tls: { insecure: true }, http_version: http2 }
load: { vus: 50, duration: ${duration}s }
steps:
  - group: page
    parallel:
YAML
  for i in 0 1 2 3 4 5 6 7 8 9; do
    echo "      - { name: health$i, get: /health, expect: { status: 200 } }"
  done
} > "$work/w7.yaml"

# W8: W3 over TLS: 10,000 idle users, each holding a TLS connection.
cat > "$work/w8.yaml" <<YAML
version: 1
base_url: $tls
defaults: { tls: { insecure: true }, http_version: http1 }
load: { vus: 10000, duration: 15s, graceful_stop: 0s }
steps:
  - { name: health, get: /health, expect: { status: 200 } }
  - think: 10s
YAML

cat > "$work/w3.yaml" <<YAML
version: 1
base_url: $base
load: { vus: 10000, duration: 15s, graceful_stop: 0s }
steps:
  - { name: health, get: /health, expect: { status: 200 } }
  - think: 10s
YAML

cat > "$work/w4.yaml" <<YAML
version: 1
base_url: ${demo:-http://127.0.0.1:9}
load: { vus: 1000, iterations: 1, max_duration: 60s }
steps:
  - set:
      email: "{{ fake.username() }}.{{ vu }}@bench.example"
  - name: register
    post: /api/auth/register
    json: { email: "{{ email }}", password: secret-123, name: Bench }
    expect: { status: 201 }
  - name: login
    post: /api/auth/login
    json: { email: "{{ email }}", password: secret-123 }
    expect: { status: 200 }
    capture: { token: \$.access_token }
  - name: hold
    websocket: /ws/sync
    headers: { authorization: "Bearer {{ token }}" }
    timeout: 30s
    actions:
      - send: { op: hello, id: 0 }
      - receive: { match: { \$.ack: 0 } }
      - sleep: 10s
YAML

# drill has no duration: enough iterations for about ten seconds; its
# requests/s is taken over the wall clock. No fake data: the iteration
# number makes each email unique.
cat > "$work/drill.yaml" <<YAML
concurrency: 50
base: '$base'
iterations: 40000
rampup: 0
plan:
  - name: login
    request:
      url: /api/auth/login
      method: POST
      body: '{"email": "user{{ iteration }}@bench.example", "password": "secret"}'
      headers:
        Content-Type: 'application/json'
    assign: login
  - name: login is 200
    assert:
      key: login.status
      value: 200
  - name: dashboard
    request:
      url: /api/dashboard
      headers:
        Authorization: 'Bearer {{ login.body.access_token }}'
    assign: dashboard
  - name: dashboard is 200
    assert:
      key: dashboard.status
      value: 200
YAML

cat > "$work/k6.js" <<JS
import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: 50, duration: '${duration}s' };
export default function () {
  const email = \`user\${__VU}-\${__ITER}@bench.example\`;
  const login = http.post(\`\${__ENV.BASE}/api/auth/login\`,
    JSON.stringify({ email, password: 'secret' }),
    { headers: { 'Content-Type': 'application/json' } });
  check(login, { 'login 200': (r) => r.status === 200 });
  const token = login.json('access_token');
  const dash = http.get(\`\${__ENV.BASE}/api/dashboard\`,
    { headers: { Authorization: \`Bearer \${token}\` } });
  check(dash, { 'dashboard 200': (r) => r.status === 200 });
}
JS

# W5 and W6 for k6: the same over TLS, verification off.
cat > "$work/k6-w5.js" <<JS
import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: 50, duration: '${duration}s', insecureSkipTLSVerify: true };
export default function () {
  check(http.get(\`\${__ENV.BASE}/health\`), { 'health 200': (r) => r.status === 200 });
}
JS
sed -e "s|export const options = { vus: 50, duration: '${duration}s' };|export const options = { vus: 50, duration: '${duration}s', insecureSkipTLSVerify: true };|" \
  "$work/k6.js" > "$work/k6-w6.js"
sed -e "s|^base: '$base'|base: '$tls'|" "$work/drill.yaml" > "$work/drill-w6.yaml"

# W4 for k6: the same register, login and WebSocket hold as trek's w4.yaml
# (emails unique across runs: the demo target keeps its users).
cat > "$work/k6-w4.js" <<JS
import http from 'k6/http';
import ws from 'k6/ws';
import { check } from 'k6';
export const options = {
  scenarios: { w4: { executor: 'per-vu-iterations', vus: 1000, iterations: 1, maxDuration: '60s' } },
};
export default function () {
  const email = \`ws\${__VU}-\${Date.now()}-\${Math.floor(Math.random() * 1e9)}@bench.example\`;
  const json = { headers: { 'Content-Type': 'application/json' } };
  const reg = http.post(\`\${__ENV.DEMO}/api/auth/register\`,
    JSON.stringify({ email, password: 'secret-123', name: 'Bench' }), json);
  check(reg, { 'register 201': (r) => r.status === 201 });
  const login = http.post(\`\${__ENV.DEMO}/api/auth/login\`,
    JSON.stringify({ email, password: 'secret-123' }), json);
  check(login, { 'login 200': (r) => r.status === 200 });
  const url = __ENV.DEMO.replace('http://', 'ws://') + '/ws/sync';
  const params = { headers: { Authorization: \`Bearer \${login.json('access_token')}\` } };
  let acked = false;
  const res = ws.connect(url, params, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ op: 'hello', id: 0 })));
    socket.on('message', (m) => { acked = acked || JSON.parse(m).ack === 0; });
    socket.setTimeout(() => socket.close(), 10000);
  });
  check(res, { 'upgraded': (r) => r && r.status === 101 });
  check(acked, { 'ack 0': (a) => a });
}
JS

# W4 for Artillery: a scenario speaks one protocol, so each user registers
# and logs in from the WebSocket engine's connect hook (Node's fetch; these
# two requests are not in Artillery's counts), then says hello and holds.
cat > "$work/artillery-w4.yaml" <<YAML
config:
  target: '${demo:-http://127.0.0.1:9}'
  phases:
    - { duration: 1, arrivalCount: 1000 }
  processor: ./artillery-w4.js
scenarios:
  - engine: ws
    flow:
      - connect: { function: login }
      - send:
          payload: '{"op":"hello","id":0}'
          match: { json: "\$.ack", value: 0 }
      - think: 10
YAML
cat > "$work/artillery-w4.js" <<JS
module.exports = {
  async login(wsArgs, context, done) {
    try {
      const base = '${demo:-http://127.0.0.1:9}';
      const email = \`ws-\${Date.now()}-\${Math.floor(Math.random() * 1e9)}@bench.example\`;
      const post = (path, body) => fetch(base + path, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const reg = await post('/api/auth/register', { email, password: 'secret-123', name: 'Bench' });
      if (reg.status !== 201) throw new Error('register ' + reg.status);
      const login = await post('/api/auth/login', { email, password: 'secret-123' });
      if (login.status !== 200) throw new Error('login ' + login.status);
      const token = (await login.json()).access_token;
      wsArgs.target = base.replace('http://', 'ws://') + '/ws/sync';
      wsArgs.options = { ...(wsArgs.options || {}), headers: { authorization: 'Bearer ' + token } };
      done();
    } catch (e) {
      done(e);
    }
  },
};
JS

# Artillery starts users by arrival rate: all 50 arrive in the first
# second, then each loops until the end of the test.
cat > "$work/artillery.yaml" <<YAML
config:
  target: '$base'
  phases:
    - { duration: 1, arrivalCount: 50 }
  processor: ./artillery-processor.js
  plugins:
    expect: { outputFormat: silent }
scenarios:
  - flow:
      - loop:
          - post:
              url: /api/auth/login
              json: { email: "{{ \$randomString() }}@bench.example", password: secret }
              capture: { json: "\$.access_token", as: token }
              expect: [{ statusCode: 200 }]
          - get:
              url: /api/dashboard
              headers: { Authorization: "Bearer {{ token }}" }
              expect: [{ statusCode: 200 }]
        whileTrue: running
YAML
cat > "$work/artillery-processor.js" <<JS
const end = Date.now() + ${duration}000;
module.exports = { running: (context, next) => next(Date.now() < end) };
JS

cat > "$work/locustfile.py" <<PY
import uuid
from locust import FastHttpUser, constant, task

class Journey(FastHttpUser):
    wait_time = constant(0)

    @task
    def journey(self):
        email = f"{uuid.uuid4().hex}@bench.example"
        with self.client.post("/api/auth/login", json={"email": email, "password": "secret"},
                              name="login", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
                return
            token = r.json()["access_token"]
        with self.client.get("/api/dashboard", headers={"Authorization": f"Bearer {token}"},
                             name="dashboard", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
PY
