//! Line charts drawn as inline SVG, so the HTML report needs no script
//! library and makes no request: time series (one point a second) and
//! latency percentile curves on a log scale of the tail.

use std::fmt::Write;

use crate::format::format_secs;

pub const PALETTE: [&str; 8] = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
];

pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(f64, f64)>,
}

#[derive(Clone, Copy)]
pub enum XAxis {
    /// Seconds since the start, shown as mm:ss.
    Seconds,
    /// Percentiles 0–100, on a log scale of `1 / (1 - p)`.
    Percentile,
}

#[derive(Clone, Copy)]
pub enum Unit {
    Seconds,
    PerSecond,
    Count,
    Percent,
    Megabytes,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::Seconds => format_secs(v),
            Unit::PerSecond => format!("{}/s", short(v)),
            Unit::Count => short(v),
            Unit::Percent => format!("{}%", short(v)),
            Unit::Megabytes => format!("{} MB", short(v)),
        }
    }
}

fn short(v: f64) -> String {
    if v.abs() >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if v.abs() >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

const W: f64 = 720.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

/// Where a percentile sits on the log axis: 90% → 1, 99% → 2, 99.9% → 3.
fn tail(p: f64) -> f64 {
    let p = p.clamp(0.0, 99.999) / 100.0;
    -(1.0 - p).log10()
}

/// A round step for about `n` ticks over `range`.
fn nice_step(range: f64, n: f64) -> f64 {
    if range <= 0.0 || !range.is_finite() {
        return 1.0;
    }
    let raw = range / n;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Text safe in HTML and SVG text and attributes.
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG line chart. Series with no points are left out; with none at
/// all, the chart says there is no data.
pub fn line_chart(title: &str, series: &[Series], x: XAxis, unit: Unit) -> String {
    let drawn: Vec<&Series> = series
        .iter()
        .filter(|s| s.points.iter().any(|(_, y)| !y.is_nan()))
        .collect();
    // The legend goes under the plot, wrapped into rows.
    let mut legend = Vec::new();
    let (mut lx, mut row) = (LEFT, 0usize);
    for s in &drawn {
        let width = 18.0 + 6.5 * s.name.chars().count() as f64;
        if lx + width > W - RIGHT && lx > LEFT {
            lx = LEFT;
            row += 1;
        }
        legend.push((lx, row, *s));
        lx += width + 12.0;
    }
    let rows = if drawn.is_empty() { 0 } else { row + 1 };
    let total_h = H + 16.0 * rows as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {total_h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text class="chart-title" x="{LEFT}" y="18">{t}</text>"#,
        t = esc(title)
    );
    if drawn.is_empty() {
        let _ = write!(
            out,
            r#"<text class="no-data" x="{}" y="{}" text-anchor="middle">no data</text></svg>"#,
            W / 2.0,
            H / 2.0
        );
        return out;
    }
    let xs = |v: f64| match x {
        XAxis::Seconds => v,
        XAxis::Percentile => tail(v),
    };
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y1: f64 = 0.0;
    for s in &drawn {
        for (px, py) in &s.points {
            x0 = x0.min(xs(*px));
            x1 = x1.max(xs(*px));
            y1 = y1.max(*py);
        }
    }
    if let XAxis::Percentile = x {
        x0 = 0.0;
        x1 = x1.max(2.0).ceil();
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    // Percentile curves span decades (a 1 ms step beside a 1 s stream):
    // their y axis is logarithmic.
    let log_y = matches!(x, XAxis::Percentile);
    let ymin_pos = drawn
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let (ylo, yhi, ystep) = if log_y && ymin_pos.is_finite() {
        let lo = ymin_pos.log10().floor();
        let hi = y1.log10().ceil().max(lo + 1.0);
        (lo, hi, 1.0)
    } else {
        let step = nice_step(if y1 > 0.0 { y1 } else { 1.0 }, 4.0);
        (0.0, ((y1 / step).ceil() * step).max(step), step)
    };
    let log_y = log_y && ymin_pos.is_finite();
    let px = |v: f64| LEFT + (xs(v) - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |v: f64| {
        let v = if log_y {
            v.max(10f64.powf(ylo)).log10()
        } else {
            v
        };
        H - BOTTOM - (v - ylo) / (yhi - ylo) * (H - TOP - BOTTOM)
    };
    // Grid and y labels.
    let mut yv = ylo;
    while yv <= yhi + ystep / 2.0 {
        let shown = if log_y { 10f64.powf(yv) } else { yv };
        let y = py(shown);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&unit.show(shown))
        );
        yv += ystep;
    }
    // X labels.
    match x {
        XAxis::Seconds => {
            let step = nice_step(x1 - x0, 6.0).max(1.0);
            let mut v = (x0 / step).ceil() * step;
            while v <= x1 + 1e-9 {
                let s = v.round() as u64;
                let _ = write!(
                    out,
                    r#"<text class="tick" x="{:.1}" y="{}" text-anchor="middle">{:02}:{:02}</text>"#,
                    px(v),
                    H - BOTTOM + 16.0,
                    s / 60,
                    s % 60
                );
                v += step;
            }
        }
        XAxis::Percentile => {
            let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"];
            for (i, label) in labels.iter().enumerate().take(x1 as usize + 1) {
                let xpos = LEFT + (i as f64 - x0) / (x1 - x0) * (W - LEFT - RIGHT);
                let _ = write!(
                    out,
                    r#"<line class="grid" x1="{xpos:.1}" x2="{xpos:.1}" y1="{TOP}" y2="{}"/><text class="tick" x="{xpos:.1}" y="{}" text-anchor="middle">{label}</text>"#,
                    H - BOTTOM,
                    H - BOTTOM + 16.0
                );
            }
        }
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" x2="{}" y1="{}" y2="{}"/>"#,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM
    );
    for (lx, row, s) in &legend {
        let y = H - 4.0 + 16.0 * *row as f64;
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text class="legend" x="{:.1}" y="{y:.1}">{}</text>"#,
            y - 9.0,
            s.color,
            lx + 14.0,
            esc(&s.name)
        );
    }
    for s in &drawn {
        // A point whose value is NaN is a gap: the line stops and starts
        // again after it.
        for run in s
            .points
            .split(|(_, y)| y.is_nan())
            .filter(|r| !r.is_empty())
        {
            let points: Vec<String> = run
                .iter()
                .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
                .collect();
            let _ = write!(
                out,
                r#"<polyline class="series" data-series="{}" fill="none" stroke="{}" stroke-width="1.8" points="{}"><title>{}</title></polyline>"#,
                esc(&s.name),
                s.color,
                points.join(" "),
                esc(&s.name)
            );
        }
        if s.points.len() <= 120 {
            for (px_, py_) in s.points.iter().filter(|(_, y)| !y.is_nan()) {
                let label = match x {
                    XAxis::Percentile => {
                        let p = format!("{px_:.3}");
                        let p = p.trim_end_matches('0').trim_end_matches('.');
                        format!("p{p}: {}", unit.show(*py_))
                    }
                    XAxis::Seconds => format!("{}: {}", clock(*px_), unit.show(*py_)),
                };
                let _ = write!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.2" fill="{}"><title>{} {}</title></circle>"#,
                    px(*px_),
                    py(*py_),
                    s.color,
                    esc(&s.name),
                    esc(&label)
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_draws_each_series_and_says_when_there_is_nothing() {
        let series = [
            Series {
                name: "p95".into(),
                color: PALETTE[0],
                points: vec![(0.0, 0.1), (1.0, 0.2), (2.0, 0.15)],
            },
            Series {
                name: "empty".into(),
                color: PALETTE[1],
                points: vec![],
            },
        ];
        let svg = line_chart("Latency", &series, XAxis::Seconds, Unit::Seconds);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("00:02"));
        let none = line_chart("Nothing", &[], XAxis::Seconds, Unit::Count);
        assert!(none.contains("no data") && !none.contains("<polyline"));
    }

    #[test]
    fn the_percentile_axis_spreads_the_tail() {
        assert!((tail(90.0) - 1.0).abs() < 1e-9);
        assert!((tail(99.0) - 2.0).abs() < 1e-9);
        assert!((tail(99.9) - 3.0).abs() < 1e-6);
        assert_eq!(nice_step(7.3, 4.0), 2.0);
        assert_eq!(nice_step(0.0173, 4.0), 0.005);
    }
}
