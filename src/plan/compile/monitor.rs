//! `monitor:` compiled: each endpoint's URL resolved (a path is under the
//! base URL), and every `slo: { monitor: { NAME: … } }` naming a series
//! some monitor keeps.

use super::*;

impl Compile<'_, '_, '_> {
    pub(super) fn monitors(&mut self) -> Vec<MonitorPlan> {
        let test = self.test;
        let mut out = Vec::new();
        for m in &test.monitors {
            let url = if m.url.starts_with('/') {
                match &self.base {
                    Some(base) => url::Url::parse(&format!("{base}{}", m.url)),
                    None => {
                        self.r.error_help(
                            code::MISSING_KEY,
                            m.url_span,
                            format!("monitor `{}`: `{}` is a path, and the test has no base URL", m.name, m.url),
                            "write the whole URL (`http://host:9100/metrics`), or give the test a `base_url`",
                        );
                        continue;
                    }
                }
            } else {
                url::Url::parse(&m.url)
            };
            let url = match url {
                Ok(u) if matches!(u.scheme(), "http" | "https") => u,
                Ok(_) | Err(_) => {
                    self.r.error_help(
                        code::BAD_VALUE,
                        m.url_span,
                        format!(
                            "monitor `{}`: `{}` is not an http:// or https:// URL",
                            m.name,
                            crate::redact::hide_userinfo(m.url.clone())
                        ),
                        "write e.g. `http://127.0.0.1:9100/metrics`, or a path under base_url: `/metrics`",
                    );
                    continue;
                }
            };
            out.push(MonitorPlan {
                name: m.name.clone(),
                url,
                every: m.every,
                series: m
                    .series
                    .iter()
                    .map(|s| (s.name.clone(), s.selector.clone()))
                    .collect(),
            });
        }
        out
    }

    /// Every monitor SLO (of the test or a scenario) names a kept series.
    pub(super) fn check_monitor_slos(&mut self) {
        let test = self.test;
        let known: Vec<&str> = test
            .monitors
            .iter()
            .flat_map(|m| m.series.iter().map(|s| s.name.as_str()))
            .collect();
        let slos = test
            .slo
            .iter()
            .chain(test.scenarios.iter().flat_map(|s| s.slo.iter()));
        for slo in slos.filter(|s| s.metric == SloMetric::Monitor) {
            let Some(name) = &slo.series else { continue };
            if known.contains(&name.as_str()) {
                continue;
            }
            let help = match suggest(name, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if known.is_empty() => "add a `monitor:` list whose `series:` names it".into(),
                None => format!("the series kept by `monitor:` are: {}", known.join(", ")),
            };
            self.r.error_help(
                code::UNKNOWN_NAME,
                slo.span,
                format!("`slo.monitor.{name}`: no monitor keeps a series named `{name}`"),
                help,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::compiled;
    use super::*;

    /// The errors of `yaml` (warnings left out).
    fn errors(yaml: &str) -> Vec<(&'static str, u32, String)> {
        let mut e = super::super::testing::errors(yaml);
        e.retain(|d| d.0.starts_with('E'));
        e
    }

    const MONITOR: &str = "monitor:\n  - name: api\n    prometheus: /metrics\n    every: 2s\n    series:\n      db_in_use: 'db_pool_connections{state=\"in_use\"}'\n      cpu: process_cpu_seconds_total\n";

    #[test]
    fn a_path_is_under_the_base_url_and_series_keep_their_selectors() {
        let plan = compiled(&format!(
            "version: 1\nbase_url: http://a.test:8080/\n{MONITOR}steps:\n  - get: /a\nslo:\n  monitor: {{ db_in_use: {{ max: {{ target: 15, critical: 20 }} }} }}\n"
        ))
        .unwrap();
        let m = &plan.monitors[0];
        assert_eq!(m.url.as_str(), "http://a.test:8080/metrics");
        assert_eq!(m.every, std::time::Duration::from_secs(2));
        assert_eq!(m.series[0].0, "db_in_use");
        assert_eq!(
            m.series[0].1.to_string(),
            "db_pool_connections{state=\"in_use\"}"
        );
        // In a single-journey file, the monitor SLO stays the test's.
        assert_eq!(plan.slo.len(), 1);
        assert_eq!(plan.slo[0].series.as_deref(), Some("db_in_use"));
        assert!(plan.scenarios[0].slo.is_empty());
    }

    #[test]
    fn an_slo_on_a_series_no_monitor_keeps_is_an_error_with_a_suggestion() {
        let yaml = format!(
            "version: 1\nbase_url: http://a.test\n{MONITOR}steps:\n  - get: /a\nslo:\n  monitor: {{ db_in_us: {{ max: 20 }} }}\n"
        );
        let e = errors(&yaml);
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 13), "{e:?}");
        let diags = compiled(&yaml).unwrap_err();
        let help = diags
            .iter()
            .find(|d| d.code == code::UNKNOWN_NAME)
            .and_then(|d| d.help.clone())
            .unwrap_or_default();
        assert!(help.contains("did you mean `db_in_use`"), "{help}");
    }

    #[test]
    fn bad_monitors_are_errors_at_their_place() {
        let e = errors(&format!(
            "version: 1\n{MONITOR}steps:\n  - get: http://a.test/a\n"
        ));
        assert_eq!((e[0].0, e[0].1), (code::MISSING_KEY, 4), "{e:?}");
        let e = errors("version: 1\nbase_url: http://a.test\nmonitor:\n  - prometheus: /m\n    series: { a: 'x{y=~\"z\"}' }\nsteps:\n  - get: /a\n");
        assert_eq!((e[0].0, e[0].1), (code::BAD_VALUE, 5), "{e:?}");
        let e = errors("version: 1\nbase_url: http://a.test\nmonitor:\n  - { prometheus: /m, series: { a: up } }\n  - { prometheus: /n, series: { a: up } }\nsteps:\n  - get: /a\n");
        assert_eq!((e[0].0, e[0].1), (code::DUPLICATE_NAME, 5), "{e:?}");
        let e = errors("version: 1\nbase_url: http://a.test\nmonitor:\n  - { prometheus: 'ftp://x/m', series: { a: up } }\nsteps:\n  - get: /a\n");
        assert_eq!((e[0].0, e[0].1), (code::BAD_VALUE, 4), "{e:?}");
    }
}
