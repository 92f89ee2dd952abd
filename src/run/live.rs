//! The live status line on stderr: elapsed time, active virtual users,
//! requests and errors per second. Rewritten in place on a terminal, a plain
//! line every few seconds otherwise, nothing with `--quiet`.

use std::io::Write;
use std::time::Duration;

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

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}
