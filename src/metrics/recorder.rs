//! The per-worker recorder: every request, group and iteration a worker's
//! virtual users finish is recorded here, without any lock shared between
//! workers. The collector merges recorders once a second (timeline) and at
//! the end (totals).

use std::collections::{BTreeMap, HashMap};

use super::hist::Hist;

/// At most this many distinct failure reasons are kept per step; the rest are
/// counted under one "other reasons" entry. Reasons are keyed without the
/// value that was found (`$.total: expected 3`), so that they stay few; the
/// first occurrence is kept in full, with the response, as an example.
const MAX_REASONS: usize = 50;
pub const OTHER_REASONS: &str = "(other reasons)";

/// One finished request or group.
#[derive(Debug)]
pub struct Sample<'a> {
    pub step: usize,
    /// The scenario whose timeline counts it (`None`: setup, teardown).
    pub scenario: Option<usize>,
    /// From the scheduled start in the open model (else as `service_us`).
    pub latency_us: u64,
    /// From the actual send.
    pub service_us: u64,
    pub first_byte_us: Option<u64>,
    pub sent: u64,
    pub received: u64,
    pub failure: Option<&'a str>,
    /// The response body, for the example of a new failure reason (empty
    /// when there is none).
    pub response: &'a [u8],
    pub checks_passed: u64,
    pub checks_failed: u64,
    /// Streams: events received, and the gaps between them (µs).
    pub events: u64,
    pub gaps: &'a [u64],
    /// WebSocket: the handshake, and each `receive` from its `send` (µs).
    pub connect_us: Option<u64>,
    pub receives: &'a [u64],
    /// Whole seconds since the run started.
    pub second: u32,
    pub is_request: bool,
    /// `latency_us` and `service_us` are measurements (a response came, or
    /// the request waited out its timeout); a request refused at once has
    /// nothing to time.
    pub timed: bool,
}

#[derive(Debug, Clone)]
pub struct StepStats {
    pub count: u64,
    pub failures: u64,
    pub latency: Hist,
    pub service: Hist,
    pub first_byte: Hist,
    /// Streams: time between consecutive events.
    pub gap: Hist,
    pub events: u64,
    /// WebSocket: handshake time, and time from a `send` to its `receive`.
    pub connect: Hist,
    pub receive: Hist,
    pub sent: u64,
    pub received: u64,
    pub checks_passed: u64,
    pub checks_failed: u64,
    pub reasons: HashMap<String, Reason>,
}

/// How often a failure reason came, and its first occurrence.
#[derive(Debug, Clone, Default)]
pub struct Reason {
    pub count: u64,
    /// The first message in full (`$.total: expected 3, found 4`).
    pub example: String,
    /// The start of the response that gave it, secrets hidden.
    pub response: Option<String>,
}

/// The key a failure message is counted under: without the value found.
pub fn reason_key(message: &str) -> &str {
    match message.find(", found ") {
        Some(i) => &message[..i],
        None => message,
    }
}

impl StepStats {
    pub fn new() -> Self {
        Self {
            count: 0,
            failures: 0,
            latency: Hist::default(),
            service: Hist::default(),
            first_byte: Hist::default(),
            gap: Hist::default(),
            events: 0,
            connect: Hist::default(),
            receive: Hist::default(),
            sent: 0,
            received: 0,
            checks_passed: 0,
            checks_failed: 0,
            reasons: HashMap::new(),
        }
    }

    pub fn merge(&mut self, o: &StepStats) {
        self.count += o.count;
        self.failures += o.failures;
        self.latency.merge(&o.latency);
        self.service.merge(&o.service);
        self.first_byte.merge(&o.first_byte);
        self.gap.merge(&o.gap);
        self.connect.merge(&o.connect);
        self.receive.merge(&o.receive);
        self.events += o.events;
        self.sent += o.sent;
        self.received += o.received;
        self.checks_passed += o.checks_passed;
        self.checks_failed += o.checks_failed;
        for (key, r) in &o.reasons {
            merge_reason(&mut self.reasons, key, r);
        }
    }
}

impl Default for StepStats {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts one failure; the first of its kind keeps its message and an
/// excerpt of the response (made only then, so counting stays cheap).
fn add_reason(reasons: &mut HashMap<String, Reason>, message: &str, response: &[u8]) {
    let key = reason_key(message);
    if let Some(r) = reasons.get_mut(key) {
        r.count += 1;
        return;
    }
    let new = Reason {
        count: 1,
        example: message.to_string(),
        response: super::excerpt::excerpt(response),
    };
    merge_reason(reasons, key, &new);
}

/// Counts a step that could not run, by its message (these are few: a
/// template error repeats the same message).
fn count_error(errors: &mut HashMap<String, u64>, reason: &str, n: u64) {
    if let Some(c) = errors.get_mut(reason) {
        *c += n;
    } else if errors.len() < MAX_REASONS {
        errors.insert(reason.to_string(), n);
    } else {
        *errors.entry(OTHER_REASONS.to_string()).or_insert(0) += n;
    }
}

fn merge_reason(reasons: &mut HashMap<String, Reason>, key: &str, r: &Reason) {
    if let Some(mine) = reasons.get_mut(key) {
        mine.count += r.count;
    } else if reasons.len() < MAX_REASONS {
        reasons.insert(key.to_string(), r.clone());
    } else {
        let other = reasons.entry(OTHER_REASONS.to_string()).or_default();
        if other.example.is_empty() {
            other.example = r.example.clone();
            other.response = r.response.clone();
        }
        other.count += r.count;
    }
}

#[derive(Debug, Clone)]
pub struct ScenarioStats {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    pub interrupted: u64,
    /// Open model: due iterations no virtual user could take.
    pub dropped: u64,
    /// Durations of completed iterations (failed ones included).
    pub iteration: Hist,
    /// Steps that could not run (template errors in `set`, `when`…).
    pub errors: HashMap<String, u64>,
    /// When its first iteration started and its last one ended, in µs from
    /// the start of the run: the span over which its rates are computed.
    pub first_start_us: u64,
    pub last_end_us: u64,
    /// The `unique` feeder whose rows ran out, ending the scenario.
    pub exhausted: Option<String>,
    /// Virtual users whose `before` failed (each retired; replaced where
    /// the executor replaces users).
    pub retired: u64,
}

impl ScenarioStats {
    pub fn new() -> Self {
        Self {
            started: 0,
            completed: 0,
            failed: 0,
            interrupted: 0,
            dropped: 0,
            iteration: Hist::default(),
            errors: HashMap::new(),
            first_start_us: u64::MAX,
            last_end_us: 0,
            exhausted: None,
            retired: 0,
        }
    }

    /// Seconds from the first iteration's start to the last one's end (0
    /// when no iteration ran).
    pub fn span(&self) -> f64 {
        self.last_end_us.saturating_sub(self.first_start_us) as f64 / 1e6
    }

    pub fn merge(&mut self, o: &ScenarioStats) {
        self.started += o.started;
        self.completed += o.completed;
        self.failed += o.failed;
        self.interrupted += o.interrupted;
        self.dropped += o.dropped;
        self.retired += o.retired;
        self.iteration.merge(&o.iteration);
        self.first_start_us = self.first_start_us.min(o.first_start_us);
        self.last_end_us = self.last_end_us.max(o.last_end_us);
        if self.exhausted.is_none() {
            self.exhausted.clone_from(&o.exhausted);
        }
        for (reason, n) in &o.errors {
            count_error(&mut self.errors, reason, *n);
        }
    }
}

impl Default for ScenarioStats {
    fn default() -> Self {
        Self::new()
    }
}

/// One second of one scenario.
#[derive(Debug, Clone)]
pub struct SecondStats {
    pub requests: u64,
    pub failures: u64,
    pub iterations_started: u64,
    pub iterations_completed: u64,
    pub dropped: u64,
    pub latency: Hist,
}

impl SecondStats {
    pub fn new() -> Self {
        Self {
            requests: 0,
            failures: 0,
            iterations_started: 0,
            iterations_completed: 0,
            dropped: 0,
            latency: Hist::coarse(),
        }
    }

    pub fn merge(&mut self, o: &SecondStats) {
        self.requests += o.requests;
        self.failures += o.failures;
        self.iterations_started += o.iterations_started;
        self.iterations_completed += o.iterations_completed;
        self.dropped += o.dropped;
        self.latency.merge(&o.latency);
    }
}

impl Default for SecondStats {
    fn default() -> Self {
        Self::new()
    }
}

fn second_of(us: u64) -> u32 {
    (us / 1_000_000) as u32
}

/// How an iteration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IterationEnd {
    Completed,
    Failed,
    Interrupted,
}

#[derive(Debug)]
pub struct Recorder {
    pub steps: Vec<StepStats>,
    pub scenarios: Vec<ScenarioStats>,
    /// (second, scenario) → stats; drained by the collector.
    pub seconds: BTreeMap<(u32, usize), SecondStats>,
}

impl Recorder {
    pub fn new(steps: usize, scenarios: usize) -> Self {
        Self {
            steps: (0..steps).map(|_| StepStats::new()).collect(),
            scenarios: (0..scenarios).map(|_| ScenarioStats::new()).collect(),
            seconds: BTreeMap::new(),
        }
    }

    pub fn record(&mut self, s: &Sample) {
        let st = &mut self.steps[s.step];
        st.count += 1;
        let answered = s.timed;
        if answered {
            st.latency.record(s.latency_us);
            st.service.record(s.service_us);
        }
        if let Some(fb) = s.first_byte_us {
            st.first_byte.record(fb);
        }
        st.sent += s.sent;
        st.received += s.received;
        st.events += s.events;
        for gap in s.gaps {
            st.gap.record(*gap);
        }
        if let Some(c) = s.connect_us {
            st.connect.record(c);
        }
        for r in s.receives {
            st.receive.record(*r);
        }
        st.checks_passed += s.checks_passed;
        st.checks_failed += s.checks_failed;
        if let Some(reason) = s.failure {
            st.failures += 1;
            add_reason(&mut st.reasons, reason, s.response);
        }
        if let (true, Some(scenario)) = (s.is_request, s.scenario) {
            let sec = self.seconds.entry((s.second, scenario)).or_default();
            sec.requests += 1;
            sec.failures += u64::from(s.failure.is_some());
            if answered {
                sec.latency.record(s.latency_us);
            }
        }
    }

    /// An iteration started `at_us` µs after the start of the run.
    pub fn iteration_started(&mut self, scenario: usize, at_us: u64) {
        let sc = &mut self.scenarios[scenario];
        sc.started += 1;
        sc.first_start_us = sc.first_start_us.min(at_us);
        self.seconds
            .entry((second_of(at_us), scenario))
            .or_default()
            .iterations_started += 1;
    }

    /// An iteration that took `micros` ended `at_us` µs after the start.
    pub fn iteration_ended(&mut self, scenario: usize, at_us: u64, micros: u64, end: IterationEnd) {
        let sc = &mut self.scenarios[scenario];
        sc.last_end_us = sc.last_end_us.max(at_us);
        let second = second_of(at_us);
        match end {
            IterationEnd::Interrupted => sc.interrupted += 1,
            IterationEnd::Completed | IterationEnd::Failed => {
                sc.completed += 1;
                sc.failed += u64::from(end == IterationEnd::Failed);
                sc.iteration.record(micros);
                self.seconds
                    .entry((second, scenario))
                    .or_default()
                    .iterations_completed += 1;
            }
        }
    }

    pub fn dropped(&mut self, scenario: usize, second: u32, n: u64) {
        self.scenarios[scenario].dropped += n;
        self.seconds.entry((second, scenario)).or_default().dropped += n;
    }

    /// A `unique` feeder had no row left for the next iteration.
    pub fn exhausted(&mut self, scenario: usize, feeder: &str) {
        let slot = &mut self.scenarios[scenario].exhausted;
        if slot.is_none() {
            *slot = Some(feeder.to_string());
        }
    }

    /// A virtual user's `before` failed: the user is retired.
    pub fn retired(&mut self, scenario: usize) {
        self.scenarios[scenario].retired += 1;
    }

    pub fn scenario_error(&mut self, scenario: usize, reason: &str) {
        count_error(&mut self.scenarios[scenario].errors, reason, 1);
    }

    /// Removes and returns the seconds before `before`.
    pub fn drain_seconds(&mut self, before: u32) -> Vec<((u32, usize), SecondStats)> {
        let keep = self.seconds.split_off(&(before, 0));
        std::mem::replace(&mut self.seconds, keep)
            .into_iter()
            .collect()
    }
}
