//! What a virtual user's variables and fake data are at each point: a
//! fragment's `with:` values end with the fragment, each `parallel:` branch
//! draws its own fake data, a user restarted by `ramping-vus` goes on
//! counting its iterations, and a `unique` feeder ends an open-model
//! scenario at once.

mod common;

use common::*;

fn bodies(server: &Recorder) -> Vec<serde_json::Value> {
    server
        .bodies
        .lock()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str(b).unwrap_or_else(|_| panic!("not JSON: {b}")))
        .collect()
}

#[test]
fn a_fragments_with_values_end_with_the_fragment() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            r#"
version: 1
base_url: {}
fragments:
  greet:
    - name: inner
      post: /inner
      json: {{ who: "{{{{ who }}}}", extra: "{{{{ extra }}}}" }}
steps:
  - set: {{ who: outer }}
  - use: greet
    with: {{ who: inside, extra: only-inside }}
  - name: after
    post: /after
    json: {{ who: "{{{{ who }}}}", extra: "{{{{ extra | default('gone') }}}}" }}
"#,
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(
        bodies(&server),
        vec![
            serde_json::json!({"who": "inside", "extra": "only-inside"}),
            serde_json::json!({"who": "outer", "extra": "gone"}),
        ]
    );
}

/// Branch `b` draws the same values whatever branch `a` draws: its data
/// depends on the seed, the user, the iteration and its place in the list,
/// not on which branch rendered first.
#[test]
fn each_parallel_branch_draws_its_own_fake_data() {
    let server = recorder();
    let s = Scratch::new();
    let file = |name: &str, a: &str| {
        s.file(
            name,
            &format!(
                r#"
version: 1
base_url: {}
steps:
  - group: both
    parallel:
      - {{ name: a, post: /a, json: {a} }}
      - {{ name: b, post: /b, json: {{ b: "{{{{ fake.name() }}}}", n: "{{{{ random_int(1, 1000000000) }}}}" }} }}
"#,
                server.base
            ),
        )
    };
    let one = file("one.yaml", r#"{ a: "{{ fake.name() }}" }"#);
    let three = file(
        "three.yaml",
        r#"{ a: "{{ fake.name() }}", a2: "{{ fake.email() }}", a3: "{{ uuid() }}" }"#,
    );
    let mut seen = Vec::new();
    for f in [&one, &three, &one] {
        let out = run(&s, f, &["--seed", "11"]);
        assert_eq!(code(&out), 0, "{}", text(&out));
        let b = bodies(&server)
            .into_iter()
            .rfind(|x| x.get("b").is_some())
            .unwrap();
        seen.push(b);
    }
    assert_eq!(seen[0], seen[1], "branch b changed with what branch a drew");
    assert_eq!(seen[0], seen[2]);
}

#[test]
fn a_parallel_group_run_again_draws_new_values() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            r#"
version: 1
base_url: {}
steps:
  - repeat: 3
    steps:
      - group: both
        parallel:
          - {{ name: a, post: /a, json: {{ a: "{{{{ uuid() }}}}" }} }}
          - {{ name: b, post: /b, json: {{ b: "{{{{ uuid() }}}}" }} }}
"#,
            server.base
        ),
    );
    let out = run(&s, &file, &["--seed", "3"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let values: std::collections::HashSet<String> = bodies(&server)
        .iter()
        .map(|b| b.as_object().unwrap().values().next().unwrap().to_string())
        .collect();
    assert_eq!(
        values.len(),
        6,
        "a round or a branch repeated its values: {values:?}"
    );
}

#[test]
fn a_user_restarted_by_ramping_vus_goes_on_counting_its_iterations() {
    let server = recorder();
    let s = Scratch::new();
    // One user runs, stops while the target is 0, and starts again.
    let file = s.file(
        "t.yaml",
        &format!(
            r#"
version: 1
base_url: {}
load:
  executor: ramping-vus
  start_vus: 1
  stages:
    - {{ duration: 600ms, target: 1 }}
    - {{ duration: 1ms, target: 0 }}
    - {{ duration: 800ms, target: 0 }}
    - {{ duration: 1ms, target: 1 }}
    - {{ duration: 600ms, target: 1 }}
steps:
  - name: hit
    post: /hit
    json: {{ vu: "{{{{ vu }}}}", iteration: "{{{{ iteration }}}}", name: "{{{{ fake.name() }}}} {{{{ fake.email() }}}}", at: "{{{{ now_ms() }}}}" }}
  - think: 50ms
"#,
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let b = bodies(&server);
    // The user did stop: somewhere there is a pause far longer than an
    // iteration (the 800 ms at target 0).
    let at: Vec<i64> = b.iter().map(|x| x["at"].as_i64().unwrap()).collect();
    let longest = at.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    assert!(
        longest >= 400,
        "the user never stopped: gaps up to {longest} ms"
    );
    let iterations: Vec<i64> = b.iter().map(|x| x["iteration"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (0..iterations.len() as i64).collect();
    assert_eq!(iterations, expected, "iterations restarted");
    let names: std::collections::HashSet<_> = b.iter().map(|x| x["name"].to_string()).collect();
    assert_eq!(names.len(), b.len(), "fake data repeated");
}

/// Whatever the executor, a `unique` feeder that runs out ends the
/// scenario when its last row's iteration is done: not after the open
/// model's 20 s `graceful_stop` (waiting for a user that found no row), not
/// after the ramp's 30 s stage (restarting users that find none). A busy
/// machine adds milliseconds, not seconds, hence the 10 s bound.
#[test]
fn a_unique_feeder_that_runs_out_ends_the_scenario_at_once() {
    let cases = [
        (
            "{ executor: constant-arrival-rate, rate: 20/s, duration: 30s, max_vus: 10, graceful_stop: 20s }",
            "  - think: 200ms\n",
        ),
        (
            "{ executor: ramping-vus, start_vus: 2, stages: [ { duration: 30s, target: 2 } ] }",
            "",
        ),
    ];
    for (load, after) in cases {
        let server = recorder();
        let s = Scratch::new();
        let file = s.file(
            "t.yaml",
            &format!(
                "version: 1\nbase_url: {}\ndata:\n  users: {{ rows: [ {{ id: 1 }}, {{ id: 2 }}, {{ id: 3 }}, {{ id: 4 }}, {{ id: 5 }} ], order: unique }}\nload: {load}\nsteps:\n  - {{ name: hit, post: /hit, json: {{ id: \"{{{{ users.id }}}}\" }} }}\n{after}",
                server.base
            ),
        );
        let (out, took) = wait_with_timeout(
            spawn_run(&s, &file, &["--quiet"]),
            std::time::Duration::from_secs(60),
        );
        assert_eq!(code(&out), 0, "{load}: {}", text(&out));
        let r = s.results(&out);
        let sc = &r["scenarios"][0];
        assert_eq!(sc["iterations"], 5, "{load}: {sc:#}");
        assert_eq!(sc["dropped"], 0, "{load}: {sc:#}");
        assert_eq!(sc["exhausted"], "users", "{load}");
        assert!(took.as_secs_f64() < 10.0, "{load}: took {took:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("ran out"), "{load}: {stdout}");
    }
}
