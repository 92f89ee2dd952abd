//! The console while a run goes: what the runtime sends over its channel
//! (`run/events.rs`), printed on stderr. One status line per scenario
//! (elapsed of planned time, users, requests and errors per second, p95 of
//! the last 5 s, dropped iterations) is rewritten in place on a terminal,
//! printed every few seconds otherwise, nothing with `--quiet`; notes and
//! `--smoke` step lines are printed as they come.

use std::io::Write;
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::events::{Event, Events, ScenarioProgress, StepLine};
use crate::format::format_secs;

/// Starts the console on a thread of its own: give the [`Events`] to the
/// run, and join the thread once the run has returned (it ends when every
/// sender is gone).
pub fn console(mode: Mode) -> (Events, Option<JoinHandle<()>>) {
    let (tx, rx) = channel();
    match std::thread::Builder::new()
        .name("trek-console".into())
        .spawn(move || show(&rx, mode))
    {
        Ok(handle) => (Events::new(tx), Some(handle)),
        // No thread for the console: the run goes on, silently.
        Err(_) => (Events::none(), None),
    }
}

fn show(rx: &Receiver<Event>, mode: Mode) {
    let mut status = Status::new(mode, 0);
    for e in rx.iter() {
        match e {
            Event::Progress { elapsed, scenarios } => status.update(elapsed, &scenarios),
            Event::Note(n) => status.note(&n),
            Event::Problem(p) => {
                status.clear();
                eprintln!("trek: {p}");
            }
            Event::Step(line) => {
                status.clear();
                eprintln!("{}", step_line(&line));
            }
        }
    }
    status.finish();
}

/// `  ✓ login                            200    12.3ms`
pub fn step_line(l: &StepLine) -> String {
    let mark = if l.failed { "✗" } else { "✓" };
    let Some(label) = &l.label else {
        return format!("  {mark} {}", l.detail);
    };
    let mut out = format!("  {mark} {label:<32}");
    if !l.answer.is_empty() {
        out.push(' ');
        out.push_str(&l.answer);
    }
    if let Some(s) = l.seconds {
        out.push_str(&format!(" {:>9}", format_secs(s)));
    }
    if !l.detail.is_empty() {
        out.push_str("  ");
        out.push_str(&l.detail);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tty,
    Plain,
    Quiet,
}

/// How often a plain (non-terminal) status line is printed.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Status {
    mode: Mode,
    last_plain: Option<Duration>,
    /// Lines drawn in place (a terminal), to rewrite or clear.
    drawn: usize,
}

/// `mm:ss`.
fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    format!("{:02}:{:02}", secs / 60, secs % 60)
}

/// `checkout  00:12/01:00  20 users  431 req/s  0 errors/s  p95 12.4ms  3 dropped`
pub fn progress_line(elapsed: Duration, s: &ScenarioProgress) -> String {
    let mut line = format!("{}  {}", s.name, clock(elapsed));
    if let Some(p) = s.planned {
        line.push('/');
        line.push_str(&clock(p));
    }
    line.push_str(&format!(
        "  {} user{}  {} req/s  {} errors/s",
        s.vus,
        if s.vus == 1 { "" } else { "s" },
        s.requests,
        s.failures
    ));
    if let Some(p95) = s.p95 {
        line.push_str(&format!("  p95 {}", format_secs(p95)));
    }
    if s.dropped > 0 {
        line.push_str(&format!("  {} dropped", s.dropped));
    }
    line
}

impl Status {
    pub fn new(mode: Mode, _scenarios: usize) -> Self {
        Self {
            mode,
            last_plain: None,
            drawn: 0,
        }
    }

    pub fn update(&mut self, elapsed: Duration, scenarios: &[ScenarioProgress]) {
        let lines: Vec<String> = scenarios
            .iter()
            .map(|s| progress_line(elapsed, s))
            .collect();
        match self.mode {
            Mode::Quiet => {}
            Mode::Tty => {
                let mut text = self.erase();
                text.push_str(&lines.join("\n"));
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "{text}");
                let _ = err.flush();
                self.drawn = lines.len();
            }
            Mode::Plain => {
                if self.last_plain.is_none_or(|l| elapsed >= l + PLAIN_EVERY) {
                    self.last_plain = Some(elapsed);
                    let mut err = std::io::stderr().lock();
                    for line in &lines {
                        let _ = writeln!(err, "{line}");
                    }
                }
            }
        }
    }

    /// What takes the cursor back to the first drawn line and clears from
    /// there to the end of the screen.
    fn erase(&mut self) -> String {
        let mut out = String::new();
        if self.drawn > 0 {
            out.push('\r');
            if self.drawn > 1 {
                out.push_str(&format!("\x1b[{}A", self.drawn - 1));
            }
            out.push_str("\x1b[J");
        }
        self.drawn = 0;
        out
    }

    pub fn note(&mut self, msg: &str) {
        if self.mode == Mode::Quiet {
            return;
        }
        self.clear();
        eprintln!("trek: {msg}");
    }

    pub fn finish(&mut self) {
        self.clear();
    }

    pub fn clear(&mut self) {
        if self.drawn > 0 {
            let text = self.erase();
            eprint!("{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_line_shows_mark_label_answer_time_and_detail() {
        let line = StepLine {
            failed: true,
            label: Some("login".into()),
            answer: "500".into(),
            seconds: Some(0.012),
            detail: "status 500, expected 200".into(),
        };
        let text = step_line(&line);
        assert!(text.starts_with("  ✗ login "), "{text}");
        assert!(
            text.contains(" 500 ") && text.ends_with("  status 500, expected 200"),
            "{text}"
        );
        let refused = StepLine {
            failed: true,
            label: None,
            answer: String::new(),
            seconds: None,
            detail: "step `x`: `when`: boom".into(),
        };
        assert_eq!(step_line(&refused), "  ✗ step `x`: `when`: boom");
    }

    #[test]
    fn a_progress_line_says_where_a_scenario_is() {
        let s = ScenarioProgress {
            name: "checkout".into(),
            planned: Some(Duration::from_secs(60)),
            vus: 20,
            requests: 431,
            failures: 2,
            p95: Some(0.0124),
            dropped: 3,
        };
        assert_eq!(
            progress_line(Duration::from_secs(12), &s),
            "checkout  00:12/01:00  20 users  431 req/s  2 errors/s  p95 12.4ms  3 dropped"
        );
        let quiet = ScenarioProgress {
            planned: None,
            vus: 1,
            p95: None,
            dropped: 0,
            ..s
        };
        assert_eq!(
            progress_line(Duration::from_secs(75), &quiet),
            "checkout  01:15  1 user  431 req/s  2 errors/s"
        );
    }

    #[test]
    fn the_console_ends_when_the_run_drops_its_events() {
        let (events, handle) = console(Mode::Quiet);
        events.note("hello");
        drop(events);
        handle.unwrap().join().unwrap();
    }
}
