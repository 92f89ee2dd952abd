//! Writes the results of N synthetic parts of a split test, for measuring
//! `trek merge` (bench/merge-speed.sh): each part ran one scenario of 20
//! request steps for SECONDS seconds, with long-tailed latencies, a few
//! failures, and every second's histogram kept, as `trek run --segment`
//! writes them.
//!
//!   cargo run --release --example synthetic_parts -- DIR PARTS SECONDS [PER_SECOND]

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use trek::metrics::exact::Exact;
use trek::metrics::recorder::{IterationEnd, Recorder, Sample};
use trek::metrics::Collector;
use trek::report::part::PartInfo;
use trek::report::results::{Meta, Results, Shape, StepShape};
use trek::verdict::{SloDef, Verdict};

const STEPS: usize = 20;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: synthetic_parts DIR PARTS SECONDS [REQUESTS_PER_SECOND]";
    let dir = PathBuf::from(args.first().expect(usage));
    let parts: u64 = args.get(1).and_then(|a| a.parse().ok()).expect(usage);
    let seconds: u32 = args.get(2).and_then(|a| a.parse().ok()).expect(usage);
    let per_second: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(200);
    std::fs::create_dir_all(&dir).expect("the folder");
    let shape = Shape {
        name: "synthetic".into(),
        description: None,
        file: "synthetic.yaml".into(),
        seed: 1,
        scenarios: vec![("journey".into(), "constant-vus".into())],
        steps: (0..STEPS)
            .map(|i| StepShape {
                owner: "journey".into(),
                phase: "iteration".into(),
                name: format!("step_{i:02}"),
                kind: "http".into(),
                scenario: Some(0),
            })
            .collect(),
    };
    let request_steps = vec![(Some(0), true); STEPS];
    let slos = vec![SloDef {
        scope: "test".into(),
        step: None,
        scenario: None,
        metric: "latency".into(),
        series: None,
        abort: false,
        after: None,
        stat: Some("p95".into()),
        target: Some(0.5),
        critical: Some(1.0),
    }];
    let start_us = 1_796_000_000_000_000u64;
    for index in 0..parts {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(index);
        let mut r = Recorder::new(STEPS, 1);
        for second in 0..seconds {
            for n in 0..per_second {
                // Log-normal-ish: most answers 2–20 ms, a tail to seconds.
                let x: f64 = rng.random::<f64>().max(1e-9);
                let us = (2_000.0 * (1.0 / x).powf(0.8)) as u64;
                let failure =
                    (rng.random::<u32>() % 1000 == 0).then_some("status 503, expected 200");
                let at = u64::from(second) * 1_000_000 + n * 1_000_000 / per_second;
                let step = (n as usize) % STEPS;
                if step == 0 {
                    r.iteration_started(0, at);
                }
                r.record(&Sample {
                    step,
                    scenario: Some(0),
                    latency_us: us,
                    service_us: us,
                    first_byte_us: Some(us * 9 / 10),
                    sent: 300,
                    received: 2_000,
                    failure,
                    response: b"{\"error\":\"busy\"}",
                    checks_passed: 1,
                    checks_failed: u64::from(failure.is_some()),
                    events: 0,
                    gaps: &[],
                    connect_us: None,
                    receives: &[],
                    second,
                    is_request: true,
                    timed: true,
                });
                if step == STEPS - 1 {
                    r.iteration_ended(0, at, us * STEPS as u64, IterationEnd::Completed);
                }
            }
        }
        let mut c = Collector::keeping_histograms();
        for second in 0..seconds {
            c.active_vus(second, 0, 50);
        }
        let summary = c.finish(
            &mut [r],
            &["journey".into()],
            &request_steps,
            f64::from(seconds),
        );
        let started = chrono::DateTime::from_timestamp_micros(start_us as i64).expect("a time");
        let mut results = Results::new(
            &shape,
            &summary,
            Vec::new(),
            Verdict::Part,
            None,
            started,
            Meta::default(),
        );
        results.part = Some(Box::new(PartInfo {
            index,
            count: parts,
            test: "synthetic".into(),
            start_at: None,
            start_lag_s: Some(0.001),
            load_started_us: start_us + index * 700,
            slos: slos.clone(),
            exact: Exact::of(&summary),
        }));
        let path = dir.join(format!("part-{index}.json"));
        let json = serde_json::to_vec(&results).expect("JSON");
        std::fs::write(&path, &json).expect("write");
        eprintln!("{}: {:.2} MB", path.display(), json.len() as f64 / 1e6);
    }
}
