//! SLOs judged while the run goes: once a second the controller adds up
//! the workers' recorders (each read under its own lock, one after the
//! other) and judges every SLO that has `abort: true` on what was measured
//! so far (or since its `after`); the first whose critical bound is crossed
//! stops the test gracefully. It also keeps, for each `after`, the run's
//! measurements at that moment, which the final verdict takes away.

use std::ops::Deref;

use crate::metrics::recorder::Recorder;
use crate::metrics::Summary;
use crate::plan::{Plan, StepKindTag};
use crate::verdict::{self, Baselines, Judging, SloDef, Verdict};

/// Why an SLO stopped the test.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    /// Its index in `verdict::slo_defs(plan)`.
    pub slo: usize,
    /// Seconds into the load.
    pub second: f64,
    pub value: f64,
    /// Said to the person: which SLO, its bound, what was measured, when.
    pub reason: String,
}

pub struct LiveJudge {
    /// Every SLO, as `verdict::slo_defs` lists them.
    defs: Vec<SloDef>,
    /// The ones judged while the run goes.
    aborting: Vec<usize>,
    /// The distinct `after`s, in seconds.
    afters: Vec<f64>,
    pub baselines: Baselines,
    request_steps: Vec<(Option<usize>, bool)>,
    scenarios: usize,
    pub stopped: Option<Stopped>,
}

impl LiveJudge {
    /// `None` when no SLO of the plan has `abort` or `after`.
    pub fn new(plan: &Plan) -> Option<Self> {
        let defs = verdict::slo_defs(plan);
        let aborting: Vec<usize> = (0..defs.len()).filter(|i| defs[*i].abort).collect();
        let mut afters: Vec<f64> = defs.iter().filter_map(|d| d.after).collect();
        afters.sort_by(f64::total_cmp);
        afters.dedup();
        if aborting.is_empty() && afters.is_empty() {
            return None;
        }
        let request_steps = plan
            .steps
            .iter()
            .map(|s| {
                (
                    s.scenario.filter(|_| s.in_iterations()),
                    s.kind != StepKindTag::Group,
                )
            })
            .collect();
        Some(Self {
            defs,
            aborting,
            afters,
            baselines: Vec::new(),
            request_steps,
            scenarios: plan.scenarios.len(),
            stopped: None,
        })
    }

    /// Judges the run `elapsed` seconds into the load from `recorders`:
    /// the reason to stop, the first time an `abort` SLO crosses its
    /// critical bound.
    pub fn tick<R: Deref<Target = Recorder>>(
        &mut self,
        elapsed: f64,
        recorders: impl IntoIterator<Item = R>,
    ) -> Option<String> {
        let due_baseline = self
            .afters
            .iter()
            .any(|a| *a <= elapsed && !self.baselines.iter().any(|(b, _)| b == a));
        if self.stopped.is_some() || (self.aborting.is_empty() && !due_baseline) {
            return None;
        }
        let now = Summary::of_recorders(recorders, self.scenarios, &self.request_steps, elapsed);
        for a in &self.afters {
            if *a <= elapsed && !self.baselines.iter().any(|(b, _)| b == a) {
                self.baselines.push((*a, now.clone()));
            }
        }
        let judged: Vec<SloDef> = self
            .aborting
            .iter()
            .map(|i| self.defs[*i].clone())
            .collect();
        let results = verdict::evaluate_since(&judged, &now, &self.baselines, Judging::default());
        for (i, r) in self.aborting.iter().zip(&results) {
            let (Verdict::Fail, Some(value)) = (r.verdict, r.value) else {
                continue;
            };
            let show = |v: f64| crate::format::value(&r.metric, r.stat.as_deref(), v);
            let bound = r.critical.map(show).unwrap_or_default();
            let op = if verdict::higher_is_better(&r.metric) {
                "≥"
            } else {
                "≤"
            };
            let reason = format!(
                "{} {} crossed its critical bound ({op}{bound}) at {}: measured {}",
                r.scope,
                r.name(),
                clock(elapsed),
                show(value)
            );
            self.stopped = Some(Stopped {
                slo: *i,
                second: elapsed,
                value,
                reason: reason.clone(),
            });
            return Some(reason);
        }
        None
    }
}

/// `mm:ss` into the load.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}
