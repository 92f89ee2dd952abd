#!/usr/bin/env bash
# Writes every tool's version of the workloads into DIR, for bench/peers.sh.
#   bench/target/scripts.sh DIR BASE_URL DURATION_SECONDS [DEMO_URL]
set -euo pipefail
work=$1 base=$2 duration=$3 demo=${4:-}

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

# Each user: one request, then 10 s of thinking; the run stops at 15 s and
# cuts the thinking short, so each user keeps its idle connection to the end.
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
