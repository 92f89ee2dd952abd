//! The console while a run goes: what the runtime sends over its channel
//! (`run/events.rs`), printed on stderr. The status line (elapsed time,
//! active virtual users, requests and errors per second) is rewritten in
//! place on a terminal, a plain line every few seconds otherwise, nothing
//! with `--quiet`; notes and `--smoke` step lines are printed as they come.

use std::io::Write;
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::events::{Event, Events, StepLine};
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
            Event::Progress {
                elapsed,
                vus,
                requests,
                failures,
            } => status.update(elapsed, vus, requests, failures),
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
    drawn: bool,
}

impl Status {
    pub fn new(mode: Mode, _scenarios: usize) -> Self {
        Self {
            mode,
            last_plain: None,
            drawn: false,
        }
    }

    pub fn update(&mut self, elapsed: Duration, vus: u64, reqs: u64, fails: u64) {
        let secs = elapsed.as_secs();
        let line = format!(
            "{:02}:{:02}  {vus} virtual users  {reqs} req/s  {fails} errors/s",
            secs / 60,
            secs % 60
        );
        let mut err = std::io::stderr().lock();
        match self.mode {
            Mode::Quiet => {}
            Mode::Tty => {
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
                self.drawn = true;
            }
            Mode::Plain => {
                if self.last_plain.is_none_or(|l| elapsed >= l + PLAIN_EVERY) {
                    self.last_plain = Some(elapsed);
                    let _ = writeln!(err, "{line}");
                }
            }
        }
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
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
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
    fn the_console_ends_when_the_run_drops_its_events() {
        let (events, handle) = console(Mode::Quiet);
        events.note("hello");
        drop(events);
        handle.unwrap().join().unwrap();
    }
}
