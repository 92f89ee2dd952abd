//! How values are written for people: seconds (`12.3ms`), a share as a
//! percentage, sizes (`1 MB`), and a measured or bound value in the unit
//! of its metric. Shared by the
//! console, the reports and `trek plan`; it uses nothing above it.

/// Formats seconds for people: `850µs`, `12.3ms`, `1.25s`, `2s`.
pub fn format_secs(secs: f64) -> String {
    fn trim(text: String, unit: &str) -> String {
        let t = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        format!("{t}{unit}")
    }
    if !secs.is_finite() {
        return "-".into();
    }
    if secs < 1e-3 {
        format!("{:.0}µs", secs * 1e6)
    } else if secs < 1.0 {
        let ms = secs * 1e3;
        if ms < 10.0 {
            trim(format!("{ms:.2}"), "ms")
        } else {
            trim(format!("{ms:.1}"), "ms")
        }
    } else if secs < 120.0 {
        trim(format!("{secs:.2}"), "s")
    } else {
        format!("{:.0}m{:02.0}s", (secs / 60.0).floor(), secs % 60.0)
    }
}

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

/// A size as a test file writes it (units of 1024): `512 B`, `64 KB`,
/// `1 MB`, `1.5 GB`.
pub fn bytes(n: u64) -> String {
    let units = [("GB", 1u64 << 30), ("MB", 1 << 20), ("KB", 1 << 10)];
    for (unit, size) in units {
        if n >= size {
            let v = n as f64 / size as f64;
            let text = format!("{v:.1}");
            return format!("{} {unit}", text.trim_end_matches(".0"));
        }
    }
    format!("{n} B")
}

/// A plain number, with at most three decimals and none that are zero.
pub fn number(v: f64) -> String {
    if v.abs() >= 1e6 {
        return format!("{:.4e}", v).replace("e", "e+").replace("e+-", "e-");
    }
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.to_string()
    }
}

/// A measured or bound value in the unit of the metric (and its `stat`).
pub fn value(metric: &str, stat: Option<&str>, v: f64) -> String {
    match (metric, stat) {
        ("error_rate" | "checks", _) | ("dropped", Some("share")) => percent(v),
        ("throughput", _) | ("dropped", Some("per_second")) => format!("{v:.1}/s"),
        ("dropped" | "successful_requests", _) => format!("{v:.0}"),
        ("monitor", _) => number(v),
        _ => format_secs(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(bytes(100), "100 B");
        assert_eq!(bytes(1 << 20), "1 MB");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(3 << 30), "3 GB");
    }

    #[test]
    fn each_metric_in_its_unit() {
        assert_eq!(percent(0.0123), "1.23%");
        assert_eq!(percent(0.5), "50%");
        assert_eq!(value("error_rate", None, 0.01), "1%");
        assert_eq!(value("throughput", None, 12.345), "12.3/s");
        assert_eq!(value("dropped", Some("count"), 3.0), "3");
        assert_eq!(value("latency", Some("p95"), 0.25), format_secs(0.25));
    }

    #[test]
    fn seconds_are_formatted_without_noise() {
        assert_eq!(format_secs(0.000_850), "850µs");
        assert_eq!(format_secs(0.00146), "1.46ms");
        assert_eq!(format_secs(0.150), "150ms");
        assert_eq!(format_secs(2.0), "2s");
        assert_eq!(format_secs(2.55), "2.55s");
        assert_eq!(format_secs(f64::NAN), "-");
    }
}
