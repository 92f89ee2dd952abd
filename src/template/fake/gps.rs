//! GPS fake data: a running route of points a few metres apart, with
//! increasing timestamps and a plausible pace (4:30 to 6:30 per km).

use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{json, Value};

/// City centres a route may start from: latitude, longitude, elevation (m).
const STARTS: [(f64, f64, f64); 5] = [
    (52.5200, 13.4050, 34.0),
    (48.8566, 2.3522, 35.0),
    (51.5072, -0.1276, 11.0),
    (40.7128, -74.0060, 10.0),
    (47.3769, 8.5417, 408.0),
];

const EARTH_M: f64 = 6_371_000.0;

/// `points` route points, one every 1–2 s.
pub fn track(r: &mut SmallRng, points: usize) -> Value {
    let (mut lat, mut lon, mut elevation) = STARTS[r.random_range(0..STARTS.len())];
    let speed = 1000.0 / r.random_range(270.0..390.0); // m/s from a pace of 4:30–6:30 per km
    let mut heading: f64 = r.random_range(0.0..std::f64::consts::TAU);
    let mut at_ms: i64 = 1_735_718_400_000 + r.random_range(0..31_536_000_000i64); // in 2025
    let mut out = Vec::with_capacity(points);
    for _ in 0..points {
        out.push(json!({
            "lat": (lat * 1e6).round() / 1e6,
            "lon": (lon * 1e6).round() / 1e6,
            "elevation_m": (elevation * 10.0).round() / 10.0,
            "timestamp": chrono::DateTime::from_timestamp_millis(at_ms)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }));
        let dt = r.random_range(1.0..2.0);
        let step = speed * dt;
        heading += r.random_range(-0.25..0.25);
        lat += (step * heading.cos() / EARTH_M).to_degrees();
        lon += (step * heading.sin() / (EARTH_M * lat.to_radians().cos())).to_degrees();
        elevation += r.random_range(-0.5..0.5);
        at_ms += (dt * 1000.0) as i64;
    }
    Value::Array(out)
}

/// Distance in metres between two points (haversine).
#[cfg(test)]
pub fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * EARTH_M * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn points_are_metres_apart_in_time_order_at_a_running_pace() {
        let mut r = SmallRng::seed_from_u64(6);
        let t = track(&mut r, 200);
        let pts = t.as_array().unwrap();
        assert_eq!(pts.len(), 200);
        let mut total_m = 0.0;
        for w in pts.windows(2) {
            let a = (w[0]["lat"].as_f64().unwrap(), w[0]["lon"].as_f64().unwrap());
            let b = (w[1]["lat"].as_f64().unwrap(), w[1]["lon"].as_f64().unwrap());
            let d = distance(a, b);
            assert!((1.0..10.0).contains(&d), "{d} m between points");
            total_m += d;
            assert!(w[0]["timestamp"].as_str().unwrap() < w[1]["timestamp"].as_str().unwrap());
        }
        let start =
            chrono::DateTime::parse_from_rfc3339(pts[0]["timestamp"].as_str().unwrap()).unwrap();
        let end =
            chrono::DateTime::parse_from_rfc3339(pts[199]["timestamp"].as_str().unwrap()).unwrap();
        let secs = (end - start).num_milliseconds() as f64 / 1000.0;
        let pace_s_per_km = secs / (total_m / 1000.0);
        assert!(
            (240.0..420.0).contains(&pace_s_per_km),
            "pace {pace_s_per_km} s/km"
        );
    }
}
