//! The units a scenario file writes: durations (`150ms`, `1m30s`), rates
//! (`50/s`, `300/m`), shares (`1%`, `0.01`), think ranges (`1s..3s`) and
//! sizes (`512KB`, `1MB`).
//!
//! Each parser returns a [`UnitError`] whose message says what was
//! expected, so callers can turn it into a diagnostic at the value's
//! position or an error about a command-line flag.

use std::time::Duration;

/// A value that is not in the unit asked for; the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("`{0}` is not a duration; write a number with a unit: `500ms`, `2s`, `1m30s`, `1h` (units: us, ms, s, m, h)")]
    Duration(String),
    #[error("`{0}` is not a rate; write a count per unit of time: `50/s`, `300/m`, `10/h`")]
    Rate(String),
    #[error("`{0}` is not a share: a fraction is between 0 and 1; for a percentage write `{0}%`")]
    FractionAboveOne(String),
    #[error("`{0}` is not a share; write a percentage like `1%` or a fraction like `0.01`")]
    Share(String),
    #[error("`{0}`: the upper bound is below the lower bound")]
    RangeReversed(String),
    #[error(
        "`{0}` is not a number of iterations; write `0`, `10`, a share (`1%`) or a rate (`2/s`)"
    )]
    Count(String),
    #[error("`{0}` is not a number of virtual users")]
    Users(String),
    #[error("`{0}` is not a size; write a number of bytes or one with a unit: `64KB`, `1MB`, `2GB` (units: B, KB, MB, GB; KiB, MiB, GiB alike)")]
    Size(String),
    #[error("`{0}` is not a number; write a plain number, e.g. `80` or `0.5`, in the unit of the monitored series")]
    Number(String),
}

/// Parses `1MB`, `512KB`, `2GB`, `100B` or a bare number of bytes. The
/// units count in 1024s, as nginx's and most HTTP tools' sizes do; `MiB`
/// and `MB` are the same. Sizes above 1 TB are refused.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let expected = || UnitError::Size(text.to_string());
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let number: f64 = t[..split].parse().map_err(|_| expected())?;
    let scale = match t[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(expected()),
    };
    let bytes = number * scale as f64;
    if !bytes.is_finite() || bytes > (1u64 << 40) as f64 {
        return Err(expected());
    }
    Ok(bytes.round() as u64)
}

/// Parses `250ms`, `1.5s`, `2m`, `1h30m`, `500us`. A bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let expected = || UnitError::Duration(text.to_string());
    let t = text.trim();
    if t.is_empty() {
        return Err(expected());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs).ok_or_else(expected);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(expected)?;
        if num_len == 0 {
            return Err(expected());
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| expected())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(expected()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    secs_to_duration(total).ok_or_else(expected)
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    (secs.is_finite() && (0.0..1e10).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

/// Parses `50/s`, `300/m`, `10/h`; a bare number is per second.
pub fn parse_rate(text: &str) -> Result<f64, UnitError> {
    let expected = || UnitError::Rate(text.to_string());
    let t = text.trim();
    let (num, per) = match t.split_once('/') {
        Some((n, unit)) => {
            let per = match unit.trim() {
                "s" | "1s" => 1.0,
                "m" | "1m" => 60.0,
                "h" | "1h" => 3600.0,
                other => parse_duration(other).map_err(|_| expected())?.as_secs_f64(),
            };
            (n.trim(), per)
        }
        None => (t, 1.0),
    };
    let n: f64 = num.parse().map_err(|_| expected())?;
    if !n.is_finite() || n < 0.0 || per <= 0.0 {
        return Err(expected());
    }
    Ok(n / per)
}

/// Parses a share: `1%`, `99.9%`, or a fraction `0.01` (between 0 and 1).
pub fn parse_share(text: &str) -> Result<f64, UnitError> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok().map(|v| v / 100.0),
        None => t.parse::<f64>().ok(),
    };
    match value {
        Some(v) if (0.0..=1.0).contains(&v) => Ok(v),
        Some(_) if !t.ends_with('%') => Err(UnitError::FractionAboveOne(t.to_string())),
        _ => Err(UnitError::Share(t.to_string())),
    }
}

/// A pause: fixed, or uniform random between two bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Think {
    pub min: Duration,
    pub max: Duration,
}

/// Parses `2s` or `1s..3s`.
pub fn parse_think(text: &str) -> Result<Think, UnitError> {
    match text.split_once("..") {
        Some((a, b)) => {
            let min = parse_duration(a)?;
            let max = parse_duration(b)?;
            if max < min {
                return Err(UnitError::RangeReversed(text.to_string()));
            }
            Ok(Think { min, max })
        }
        None => parse_duration(text).map(|d| Think { min: d, max: d }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MB").unwrap(), 1 << 20);
        assert_eq!(parse_size("512 KiB").unwrap(), 512 << 10);
        assert_eq!(parse_size("1.5kb").unwrap(), 1536);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert_eq!(parse_size("2GB").unwrap(), 2 << 30);
        for bad in ["", "MB", "1TB", "-1MB", "2000GB", "1 M B"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("150ms").unwrap(), Duration::from_millis(150));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("500us").unwrap(), Duration::from_micros(500));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        for bad in ["", "10 parsecs", "ms", "1x", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("50/s").unwrap(), 50.0);
        assert_eq!(parse_rate("300/m").unwrap(), 5.0);
        assert_eq!(parse_rate("3600/h").unwrap(), 1.0);
        assert_eq!(parse_rate("10/2s").unwrap(), 5.0);
        assert_eq!(parse_rate("7").unwrap(), 7.0);
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("5/day").is_err());
    }

    #[test]
    fn shares() {
        assert_eq!(parse_share("1%").unwrap(), 0.01);
        assert!((parse_share("99.9%").unwrap() - 0.999).abs() < 1e-12);
        assert_eq!(parse_share("0.25").unwrap(), 0.25);
        let err = parse_share("5").unwrap_err();
        assert_eq!(err, UnitError::FractionAboveOne("5".into()));
        assert!(err.to_string().contains("5%"), "{err}");
        assert!(parse_share("150%").is_err());
    }

    #[test]
    fn think_ranges() {
        let t = parse_think("1s..3s").unwrap();
        assert_eq!(
            (t.min, t.max),
            (Duration::from_secs(1), Duration::from_secs(3))
        );
        assert!(parse_think("3s..1s").is_err());
        assert_eq!(parse_think("2s").unwrap().max, Duration::from_secs(2));
    }
}
