//! Samples the target's own metrics during the load (`monitor:`): each
//! endpoint is read every `every` on a thread of its own (never on the
//! workers), its Prometheus text parsed for the kept series only, and
//! each series' value (the sum of the samples it selects; a counter's rate
//! per second between two reads) kept by second of the run. An endpoint
//! that does not answer leaves gaps and a warning, never stops the load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;

use super::protocol::side::SideClient;
use crate::metrics::monitor::MonitorSeries;
use crate::plan::MonitorPlan;
use crate::scenario::monitor::Selector;

/// The most of an endpoint's answer that is read (node_exporter's is
/// about 100 KB); the rest is left out.
pub const MAX_BODY: usize = 16 << 20;
/// How long one read may take at most (less when `every` is shorter).
const MAX_TIMEOUT: Duration = Duration::from_secs(5);

/// The monitors being sampled.
pub struct Monitoring {
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<Vec<Outcome>>>,
}

/// What one monitor came to.
struct Outcome {
    series: Vec<MonitorSeries>,
    reads: u64,
    failed: u64,
    last_error: Option<String>,
    /// Per series: reads that answered but held no sample it selects.
    unmatched: Vec<u64>,
    url: String,
}

/// A series' values as they come: per second, their sum and count.
#[derive(Default, Clone)]
struct Seconds {
    sum: Vec<f64>,
    count: Vec<u32>,
}

impl Seconds {
    fn add(&mut self, second: usize, v: f64) {
        if self.sum.len() <= second {
            self.sum.resize(second + 1, 0.0);
            self.count.resize(second + 1, 0);
        }
        self.sum[second] += v;
        self.count[second] += 1;
    }

    fn values(&self) -> Vec<Option<f64>> {
        self.sum
            .iter()
            .zip(&self.count)
            .map(|(s, n)| (*n > 0).then(|| s / f64::from(*n)))
            .collect()
    }
}

impl Monitoring {
    /// Starts sampling `monitors`, seconds counted from `start`; publishes
    /// each new value on `board` when there is one.
    pub fn start(
        monitors: &[MonitorPlan],
        start: Instant,
        board: Option<Arc<crate::live::Board>>,
    ) -> std::io::Result<Option<Self>> {
        if monitors.is_empty() {
            return Ok(None);
        }
        let monitors = monitors.to_vec();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("trek-monitor".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return Vec::new();
                };
                rt.block_on(async move {
                    let client = Arc::new(SideClient::new());
                    let mut first = 0;
                    let tasks: Vec<_> = monitors
                        .into_iter()
                        .map(|m| {
                            let offset = first;
                            first += m.series.len();
                            sample(
                                m,
                                client.clone(),
                                start,
                                stopped.clone(),
                                board.clone(),
                                offset,
                            )
                        })
                        .collect();
                    futures_util::future::join_all(tasks).await
                })
            })?;
        Ok(Some(Self {
            stop: Some(stop),
            thread: Some(thread),
        }))
    }

    /// Stops sampling: every series, and the warnings to give.
    pub fn finish(mut self) -> (Vec<MonitorSeries>, Vec<String>) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        let outcomes = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        let mut series = Vec::new();
        let mut warnings = Vec::new();
        for o in outcomes {
            let name = o
                .series
                .first()
                .map(|s| s.monitor.clone())
                .unwrap_or_default();
            if o.failed > 0 {
                warnings.push(format!(
                    "monitor {name} ({}): {} of {} reads failed (last: {}); its series have gaps there",
                    o.url,
                    o.failed,
                    o.reads,
                    o.last_error.as_deref().unwrap_or("unknown")
                ));
            }
            let answered = o.reads - o.failed;
            for (s, missing) in o.series.iter().zip(&o.unmatched) {
                if answered > 0 && *missing == answered {
                    warnings.push(format!(
                        "monitor {name}: no sample of {} matches `{}` ({}): check the metric name and labels",
                        o.url, s.name, s.selector
                    ));
                }
            }
            series.extend(o.series.into_iter().map(MonitorSeries::with_stats));
        }
        (series, warnings)
    }
}

impl Drop for Monitoring {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

/// Reads one monitor every `every` until stopped.
async fn sample(
    m: MonitorPlan,
    client: Arc<SideClient>,
    start: Instant,
    mut stopped: tokio::sync::watch::Receiver<bool>,
    board: Option<Arc<crate::live::Board>>,
    offset: usize,
) -> Outcome {
    let n = m.series.len();
    let mut seconds = vec![Seconds::default(); n];
    let mut counters: Option<Vec<bool>> = None;
    let mut last: Vec<Option<(f64, Instant)>> = vec![None; n];
    let mut outcome = Outcome {
        series: Vec::new(),
        reads: 0,
        failed: 0,
        last_error: None,
        unmatched: vec![0; n],
        url: crate::redact::hide_userinfo(m.url.to_string()),
    };
    let timeout = m.every.clamp(Duration::from_millis(100), MAX_TIMEOUT);
    let mut tick = tokio::time::interval(m.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => break,
        }
        outcome.reads += 1;
        let read = client
            .request(
                Method::GET,
                &m.url,
                &[("accept", "text/plain")],
                None,
                timeout,
                MAX_BODY,
            )
            .await;
        let at = Instant::now();
        let body = match read {
            Ok(r) if (200..300).contains(&r.status) => r.body,
            Ok(r) => {
                outcome.failed += 1;
                outcome.last_error = Some(format!("status {}", r.status));
                continue;
            }
            Err(e) => {
                outcome.failed += 1;
                outcome.last_error = Some(e);
                continue;
            }
        };
        let text = String::from_utf8_lossy(&body);
        let selectors: Vec<&Selector> = m.series.iter().map(|(_, s)| s).collect();
        let read = parse(&text, &selectors);
        let counters = counters.get_or_insert_with(|| read.counter.clone());
        let second = at.saturating_duration_since(start).as_secs() as usize;
        for i in 0..n {
            let Some(v) = read.values[i] else {
                outcome.unmatched[i] += 1;
                last[i] = None;
                continue;
            };
            let shown = if counters[i] {
                let rate = last[i].and_then(|(before, then)| {
                    let secs = at.saturating_duration_since(then).as_secs_f64();
                    // A counter that went down was reset: no rate.
                    (secs > 0.0 && v >= before).then(|| (v - before) / secs)
                });
                last[i] = Some((v, at));
                rate
            } else {
                Some(v)
            };
            if let Some(shown) = shown {
                seconds[i].add(second, shown);
                if let Some(board) = &board {
                    board.set_monitor(offset + i, shown);
                }
            }
        }
    }
    let counters = counters.unwrap_or_else(|| vec![false; n]);
    outcome.series = m
        .series
        .iter()
        .zip(&seconds)
        .zip(&counters)
        .map(|(((name, selector), s), counter)| MonitorSeries {
            name: name.clone(),
            monitor: m.name.clone(),
            selector: selector.to_string(),
            counter: *counter,
            values: s.values(),
            ..Default::default()
        })
        .collect();
    outcome
}

/// What one read of an endpoint gave for each selector.
#[derive(Debug, PartialEq)]
pub struct Read {
    /// The sum of the samples it selects (`None`: none).
    pub values: Vec<Option<f64>>,
    /// Whether it is a counter (its rate is shown).
    pub counter: Vec<bool>,
}

/// Parses Prometheus (or OpenMetrics) text for `selectors` only.
pub fn parse(text: &str, selectors: &[&Selector]) -> Read {
    let mut values: Vec<Option<f64>> = vec![None; selectors.len()];
    let mut counter: Vec<bool> = selectors
        .iter()
        .map(|s| s.metric.ends_with("_total"))
        .collect();
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut words = rest.split_whitespace();
            let (Some(family), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            for (i, s) in selectors.iter().enumerate() {
                if family_of(&s.metric, family)
                    && (kind == "counter"
                        || (matches!(kind, "histogram" | "summary") && s.metric != family))
                {
                    counter[i] = true;
                }
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line
            .find(|c: char| c == '{' || c.is_whitespace())
            .unwrap_or(line.len());
        let name = &line[..name_end];
        if !selectors.iter().any(|s| s.metric == name) {
            continue;
        }
        let Some((labels, rest)) = labels(&line[name_end..]) else {
            continue;
        };
        let Some(value) = rest.split_whitespace().next().and_then(parse_value) else {
            continue;
        };
        for (i, s) in selectors.iter().enumerate() {
            if s.metric == name
                && s.labels
                    .iter()
                    .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
            {
                *values[i].get_or_insert(0.0) += value;
            }
        }
    }
    Read { values, counter }
}

/// Whether `metric` is a sample of the family `family` (`x_total` of `x`).
fn family_of(metric: &str, family: &str) -> bool {
    metric == family
        || ["_total", "_count", "_sum", "_bucket"]
            .iter()
            .any(|suffix| metric.strip_suffix(suffix) == Some(family))
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => None,
        t => t.parse().ok(),
    }
}

/// The labels of a sample line after its name (`{a="x",b="y"} 1`), and
/// what follows them.
fn labels(s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let Some(mut rest) = s.strip_prefix('{') else {
        return Some((Vec::new(), s));
    };
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((out, after));
        }
        let eq = rest.find('=')?;
        let name = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (_, '\\') => match chars.next()? {
                    (_, 'n') => value.push('\n'),
                    (_, c) => value.push(c),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        out.push((name, value));
        rest = &after[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::monitor::parse_selector;

    #[test]
    fn samples_a_selector_matches_are_added_and_counters_known() {
        let text = r#"# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 100.5
node_cpu_seconds_total{cpu="1",mode="idle"} 200
node_cpu_seconds_total{cpu="0",mode="user"} 7
# TYPE db_pool_connections gauge
db_pool_connections{state="in_use",pool="a, \"b\""} 3
db_pool_connections{state="idle"} 17
# TYPE http_duration_seconds histogram
http_duration_seconds_count 42
process_start_time_seconds 1.7e9
up NaN
"#;
        let sel: Vec<Selector> = [
            r#"node_cpu_seconds_total{mode="idle"}"#,
            r#"db_pool_connections{state="in_use"}"#,
            "db_pool_connections",
            "http_duration_seconds_count",
            "process_start_time_seconds",
            r#"db_pool_connections{state="gone"}"#,
            "up",
        ]
        .iter()
        .map(|s| parse_selector(s).unwrap())
        .collect();
        let refs: Vec<&Selector> = sel.iter().collect();
        let read = parse(text, &refs);
        assert_eq!(
            read.values,
            [
                Some(300.5),
                Some(3.0),
                Some(20.0),
                Some(42.0),
                Some(1.7e9),
                None,
                None
            ]
        );
        assert_eq!(
            read.counter,
            [true, false, false, true, false, false, false]
        );
    }

    #[test]
    fn seconds_average_what_they_got() {
        let mut s = Seconds::default();
        s.add(0, 1.0);
        s.add(0, 3.0);
        s.add(2, 5.0);
        assert_eq!(s.values(), [Some(2.0), None, Some(5.0)]);
    }
}
