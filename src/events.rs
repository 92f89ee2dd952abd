//! What the runtime has to say while it runs, sent over one channel to the
//! console (`report/live.rs`), which alone prints: the once-a-second
//! progress, notes for the person at the terminal, and with `--smoke` one
//! line per step. Nothing in `run/` writes to the terminal itself.

use std::sync::mpsc::Sender;
use std::time::Duration;

/// One thing to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Once a second: time since the start, and where each scenario is.
    Progress {
        elapsed: Duration,
        scenarios: Vec<ScenarioProgress>,
    },
    /// A message (interrupted, the generator is saturated…); not shown
    /// with `--quiet`.
    Note(String),
    /// Something went wrong that the user must hear of, even with
    /// `--quiet` (a scenario could not start).
    Problem(String),
    /// `--smoke`: a step has finished.
    Step(StepLine),
}

/// One scenario's progress line.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioProgress {
    pub name: String,
    /// How long its load is planned to last (`None`: until its iterations
    /// are done).
    pub planned: Option<Duration>,
    /// Users running.
    pub vus: u64,
    /// Requests and failed ones in the last full second.
    pub requests: u64,
    pub failures: u64,
    /// p95 latency of the last 5 seconds (`None`: no request).
    pub p95: Option<f64>,
    /// Iterations dropped so far (open model).
    pub dropped: u64,
}

/// A finished step, as `--smoke` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLine {
    pub failed: bool,
    /// The step's label; `None` for a step that could not run (the reason
    /// names it).
    pub label: Option<String>,
    /// What came back: a status (`200`), `ws`, nothing when no answer came.
    pub answer: String,
    /// How long it took, when an answer came.
    pub seconds: Option<f64>,
    /// Events or messages received, failure reason.
    pub detail: String,
}

/// The runtime's end of the channel; `Events::none()` drops everything.
#[derive(Debug, Clone, Default)]
pub struct Events(Option<Sender<Event>>);

impl Events {
    pub fn new(to: Sender<Event>) -> Self {
        Self(Some(to))
    }

    pub fn none() -> Self {
        Self(None)
    }

    pub fn send(&self, e: Event) {
        if let Some(to) = &self.0 {
            // The console may be gone (its thread ended): nothing to show.
            let _ = to.send(e);
        }
    }

    pub fn note(&self, message: impl Into<String>) {
        self.send(Event::Note(message.into()));
    }

    pub fn problem(&self, message: impl Into<String>) {
        self.send(Event::Problem(message.into()));
    }
}
