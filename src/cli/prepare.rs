//! Preparing a run for the commands: reading and compiling a scenario
//! file, printing every diagnostic, and applying the command line's load
//! overrides (`--vus`, `--duration`, `--iterations`, `--rate`, `--smoke`).

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::plan::{self, Plan};
use crate::scenario::load::DEFAULT_MAX_DURATION;
use crate::scenario::model::{Executor, Load, Test};

/// Prints diagnostics on stderr, errors and warnings alike.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    let color = super::color_stderr();
    for d in diags {
        eprint!("{}", d.render(color));
        eprintln!();
    }
}

/// Reads and compiles `path`; prints every problem. `None` on any error.
pub fn load_plan(path: &Path, options: &plan::Options) -> Option<(Test, Plan, Vec<Diagnostic>)> {
    let checked = plan::validate(crate::scenario::load_file(path), options);
    if checked.has_errors() {
        print_diagnostics(&checked.diagnostics);
        return None;
    }
    Some((checked.test?, checked.plan?, checked.diagnostics))
}

/// What the command line asks to change in every scenario's load.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub vus: Option<u64>,
    pub duration: Option<std::time::Duration>,
    pub iterations: Option<u64>,
    /// `--rate`: every scenario becomes `constant-arrival-rate`.
    pub rate: Option<f64>,
    pub smoke: bool,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.vus.is_none()
            && self.duration.is_none()
            && self.iterations.is_none()
            && self.rate.is_none()
            && !self.smoke
    }

    /// The load of a scenario once the overrides apply. `vus` is this
    /// scenario's share of `--vus`.
    pub fn apply(&self, load: &Load, vus: Option<u64>) -> Load {
        let mut out = load.clone();
        if self.smoke {
            out.executor = Executor::PerVuIterations {
                vus: 1,
                iterations: 1,
                max_duration: DEFAULT_MAX_DURATION,
            };
            return out;
        }
        let current_vus = crate::run::max_vus(&load.executor).max(1);
        let open = matches!(
            load.executor,
            Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. }
        );
        let (schedule, _) = crate::run::open::open_plan(&load.executor);
        if self.rate.is_some() || open {
            // Open model: `--vus` is the user limit, `--duration` the length.
            let rate = self.rate.unwrap_or_else(|| schedule.peak());
            let duration = self.duration.unwrap_or_else(|| match &load.executor {
                Executor::ConstantVus { duration, .. } => *duration,
                _ if open => schedule.total(),
                _ => DEFAULT_RATE_DURATION,
            });
            let max_vus = vus.or(open.then_some(current_vus));
            if self.rate.is_none() && self.duration.is_none() {
                // Only `--vus`: keep the schedule, change the limit.
                out.executor = match &load.executor {
                    Executor::ConstantArrivalRate { rate, duration, .. } => {
                        Executor::ConstantArrivalRate {
                            rate: *rate,
                            duration: *duration,
                            max_vus,
                        }
                    }
                    Executor::RampingArrivalRate {
                        start_rate, stages, ..
                    } => Executor::RampingArrivalRate {
                        start_rate: *start_rate,
                        stages: stages.clone(),
                        max_vus,
                    },
                    other => other.clone(),
                };
            } else {
                out.executor = Executor::ConstantArrivalRate {
                    rate,
                    duration,
                    max_vus,
                };
            }
            return out;
        }
        let vus = vus.unwrap_or(current_vus);
        out.executor = match (self.duration, self.iterations) {
            (Some(duration), _) => Executor::ConstantVus { vus, duration },
            (None, Some(iterations)) => Executor::PerVuIterations {
                vus,
                iterations,
                max_duration: DEFAULT_MAX_DURATION,
            },
            (None, None) => match &load.executor {
                Executor::ConstantVus { duration, .. } => Executor::ConstantVus {
                    vus,
                    duration: *duration,
                },
                Executor::PerVuIterations {
                    iterations,
                    max_duration,
                    ..
                } => Executor::PerVuIterations {
                    vus,
                    iterations: *iterations,
                    max_duration: *max_duration,
                },
                Executor::SharedIterations {
                    iterations,
                    max_duration,
                    ..
                } => Executor::SharedIterations {
                    vus,
                    iterations: *iterations,
                    max_duration: *max_duration,
                },
                Executor::RampingVus { stages, .. } => Executor::ConstantVus {
                    vus,
                    duration: stages.iter().map(|s| s.duration).sum(),
                },
                open => open.clone(),
            },
        };
        out
    }
}

/// The length of a `--rate` run when neither the file nor `--duration` says.
const DEFAULT_RATE_DURATION: std::time::Duration = std::time::Duration::from_secs(30);

/// Splits `total` virtual users over scenarios by weight (each gets ≥ 1).
pub fn split_vus(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    weights
        .iter()
        .map(|w| {
            if sum <= 0.0 {
                total.max(1)
            } else {
                ((total as f64 * w.max(0.0) / sum).round() as u64).max(1)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn vus_are_split_by_weight() {
        assert_eq!(split_vus(10, &[1.0, 1.0]), vec![5, 5]);
        assert_eq!(split_vus(10, &[3.0, 1.0]), vec![8, 3]);
        assert_eq!(split_vus(1, &[1.0, 1.0]), vec![1, 1]);
    }

    #[test]
    fn overrides_pick_the_executor_like_k6() {
        let load = crate::scenario::load::default_load();
        let o = Overrides {
            vus: Some(5),
            duration: Some(Duration::from_secs(3)),
            ..Default::default()
        };
        assert_eq!(
            o.apply(&load, Some(5)).executor,
            Executor::ConstantVus {
                vus: 5,
                duration: Duration::from_secs(3)
            }
        );
        let o = Overrides {
            iterations: Some(4),
            ..Default::default()
        };
        assert!(matches!(
            o.apply(&load, None).executor,
            Executor::PerVuIterations {
                vus: 1,
                iterations: 4,
                ..
            }
        ));
        let o = Overrides {
            smoke: true,
            vus: Some(9),
            ..Default::default()
        };
        assert!(matches!(
            o.apply(&load, Some(9)).executor,
            Executor::PerVuIterations {
                vus: 1,
                iterations: 1,
                ..
            }
        ));
    }
}
