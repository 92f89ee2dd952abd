//! How values are written for people: a share as a percentage, and a
//! measured or bound value in the unit of its metric. Shared by the
//! console, the reports and `trek plan`; it uses nothing above it.

use crate::scenario::units::format_secs;

/// `0.0123` → `1.23%`, `0.5` → `50%`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    let text = if p >= 10.0 {
        format!("{p:.1}")
    } else {
        format!("{p:.2}")
    };
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// A measured or bound value in the unit of the metric (and its `stat`).
pub fn value(metric: &str, stat: Option<&str>, v: f64) -> String {
    match (metric, stat) {
        ("error_rate" | "checks", _) | ("dropped", Some("share")) => percent(v),
        ("throughput", _) | ("dropped", Some("per_second")) => format!("{v:.1}/s"),
        ("dropped" | "successful_requests", _) => format!("{v:.0}"),
        _ => format_secs(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_metric_in_its_unit() {
        assert_eq!(percent(0.0123), "1.23%");
        assert_eq!(percent(0.5), "50%");
        assert_eq!(value("error_rate", None, 0.01), "1%");
        assert_eq!(value("throughput", None, 12.345), "12.3/s");
        assert_eq!(value("dropped", Some("count"), 3.0), "3");
        assert_eq!(value("latency", Some("p95"), 0.25), format_secs(0.25));
    }
}
