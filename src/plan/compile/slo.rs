//! Where an SLO may sit: each metric on the scopes that can measure it.

use super::*;

impl Compile<'_, '_, '_> {
    pub(super) fn check_slos(&mut self, slos: &[m::Slo], scope: SloScope) {
        for slo in slos {
            let allowed: &[SloMetric] = match scope {
                SloScope::Request => &[
                    SloMetric::Latency,
                    SloMetric::FirstByte,
                    SloMetric::ErrorRate,
                    SloMetric::Throughput,
                    SloMetric::Checks,
                ],
                SloScope::Stream => &[
                    SloMetric::Latency,
                    SloMetric::FirstByte,
                    SloMetric::Gap,
                    SloMetric::ErrorRate,
                    SloMetric::Throughput,
                    SloMetric::Checks,
                ],
                SloScope::Group => &[
                    SloMetric::Latency,
                    SloMetric::ErrorRate,
                    SloMetric::Throughput,
                ],
                SloScope::Scenario | SloScope::Test => &[
                    SloMetric::Latency,
                    SloMetric::FirstByte,
                    SloMetric::Iteration,
                    SloMetric::ErrorRate,
                    SloMetric::Throughput,
                    SloMetric::Checks,
                    SloMetric::Gap,
                    SloMetric::Dropped(DropUnit::Count),
                    SloMetric::Dropped(DropUnit::Share),
                    SloMetric::Dropped(DropUnit::PerSecond),
                    SloMetric::Monitor,
                ],
            };
            if slo.metric == SloMetric::Gap && !allowed.contains(&slo.metric) {
                self.r.error_help(
                    code::SLO_SCOPE,
                    slo.span,
                    format!(
                        "a {} has no `gap`: it measures the time between streamed events",
                        scope.name()
                    ),
                    "put it on an `sse` step, its scenario or the test",
                );
            } else if !allowed.contains(&slo.metric) {
                let mut names: Vec<&str> = allowed.iter().map(|m| m.key()).collect();
                names.dedup();
                self.r.error_help(
                    code::SLO_SCOPE,
                    slo.span,
                    format!(
                        "a {} cannot have an SLO on `{}`",
                        scope.name(),
                        slo.metric.key()
                    ),
                    format!("a {} takes: {}", scope.name(), names.join(", ")),
                );
            }
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum SloScope {
    Request,
    Stream,
    Group,
    Scenario,
    Test,
}

impl SloScope {
    pub(super) fn name(self) -> &'static str {
        match self {
            SloScope::Request => "request step",
            SloScope::Stream => "streaming step",
            SloScope::Group => "group",
            SloScope::Scenario => "scenario",
            SloScope::Test => "test",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors};
    use super::*;

    #[test]
    fn abort_needs_a_critical_bound_and_after_a_duration() {
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { status: 200 } }\nslo:\n  error_rate: { target: 1%, abort: true }\n");
        assert_eq!((e[0].0, e[0].1), (code::MISSING_KEY, 6), "{e:?}");
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { status: 200 } }\nslo:\n  latency: { p95: { critical: 1s, after: soon } }\n");
        assert_eq!(e[0].1, 6, "{e:?}");
        let plan = compiled("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { status: 200 } }\nslo:\n  latency: { p95: { critical: 1s, abort: true, after: 30s } }\n").unwrap();
        let slo = &plan.scenarios[0].slo[0];
        assert!(slo.abort);
        assert_eq!(slo.after, Some(std::time::Duration::from_secs(30)));
    }

    #[test]
    fn a_metric_sits_only_where_it_can_be_measured() {
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { status: 200 }, slo: { iteration: { p95: 1s } } }\n");
        assert_eq!((e[0].0, e[0].1), (code::SLO_SCOPE, 4), "{e:?}");
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { status: 200 }, slo: { gap: { p95: 1s } } }\n");
        assert_eq!(e[0].0, code::SLO_SCOPE, "{e:?}");
        assert!(compiled("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { status: 200 }, slo: { latency: { p95: 1s } } }\nslo: { iteration: { p95: 2s } }\n").is_ok());
    }
}
