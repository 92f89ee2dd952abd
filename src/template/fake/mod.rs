//! `fake.*`: deterministic fake data for templates, generic (names,
//! emails, dates…) and from the tested applications' domains (nutrition,
//! workouts, GPS routes).
//!
//! Each virtual user owns one [`Fake`] whose seed is set from the run's seed,
//! the scenario, the user's number and the iteration, so the same `--seed`
//! gives the same values. Every call draws from its own small RNG derived from
//! that seed and a call counter: no lock, no shared state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fake::faker::address::en::{CityName, CountryName};
use fake::faker::internet::en::{Password, SafeEmail, Username};
use fake::faker::lorem::en::{Paragraph, Sentence, Word};
use fake::faker::name::en::{FirstName, LastName, Name};
use fake::faker::phone_number::en::PhoneNumber;
use fake::Fake as _;
use minijinja::value::{from_args, Object, Value};
use minijinja::{Error, ErrorKind, State};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

mod gps;
mod nutrition;
mod workouts;

/// Every generator.
pub const GENERATORS: [&str; 24] = [
    "name",
    "first_name",
    "last_name",
    "email",
    "username",
    "password",
    "phone",
    "city",
    "country",
    "sentence",
    "paragraph",
    "word",
    "uuid",
    "int",
    "float",
    "bool",
    "date",
    "datetime",
    "food",
    "ean13",
    "meal",
    "exercise",
    "workout",
    "gps_track",
];

#[derive(Debug, Default)]
pub struct Fake {
    seed: AtomicU64,
    calls: AtomicU64,
}

/// SplitMix64 finaliser: spreads nearby inputs over the whole range.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The seed of one iteration's fake data: the same run seed, scenario,
/// virtual user and iteration give the same values; any change gives others.
pub fn iteration_seed(run_seed: u64, scenario: usize, vu: u64, iteration: u64) -> u64 {
    mix(mix(mix(run_seed ^ scenario as u64) ^ vu) ^ iteration)
}

impl Fake {
    pub fn new(seed: u64) -> Self {
        Self {
            seed: AtomicU64::new(seed),
            calls: AtomicU64::new(0),
        }
    }

    /// Starts a `parallel:` group: a number that sets it apart from every
    /// other group of this iteration. It counts as a draw, so a second
    /// group in a row (or the next round of a loop) gets other values.
    pub fn group(&self) -> u64 {
        let calls = self.calls.fetch_add(1, Ordering::Relaxed);
        mix(self.seed.load(Ordering::Relaxed) ^ mix(calls))
    }

    /// The fake data of branch `branch` of the group `group`: a function of
    /// this one's seed, of the draws made before the group and of the
    /// branch's place in the list, never of which branch draws first.
    pub fn branch(group: u64, branch: usize) -> Fake {
        Fake::new(mix(group ^ (branch as u64 + 1)))
    }

    pub fn rng(&self) -> SmallRng {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        SmallRng::seed_from_u64(mix(self.seed.load(Ordering::Relaxed) ^ mix(n)))
    }

    fn generate(&self, method: &str, args: &[Value]) -> Result<Value, Error> {
        let mut rng = self.rng();
        let r = &mut rng;
        let s = |v: String| Ok(Value::from(v));
        match method {
            "name" => s(Name().fake_with_rng(r)),
            "first_name" => s(FirstName().fake_with_rng(r)),
            "last_name" => s(LastName().fake_with_rng(r)),
            // A four-digit tag keeps a crowd of virtual users apart: the
            // name lists alone repeat within a few hundred users.
            "email" => {
                let email: String = SafeEmail().fake_with_rng(r);
                let tag = r.random_range(1000..10000);
                s(match email.split_once('@') {
                    Some((user, domain)) => format!("{user}{tag}@{domain}"),
                    None => email,
                })
            }
            "username" => {
                let name: String = Username().fake_with_rng(r);
                s(format!("{name}{}", r.random_range(1000..10000)))
            }
            "password" => {
                let (min, max): (Option<usize>, Option<usize>) = from_args(args)?;
                let min = min.unwrap_or(8);
                let max = max.unwrap_or(min.max(16));
                if max < min {
                    return Err(bad("fake.password(min, max): max is below min"));
                }
                s(Password(min..max + 1).fake_with_rng(r))
            }
            "phone" => s(PhoneNumber().fake_with_rng(r)),
            "city" => s(CityName().fake_with_rng(r)),
            "country" => s(CountryName().fake_with_rng(r)),
            "sentence" => s(Sentence(4..12).fake_with_rng(r)),
            "paragraph" => s(Paragraph(3..6).fake_with_rng(r)),
            "word" => s(Word().fake_with_rng(r)),
            "uuid" => s(uuid::Builder::from_random_bytes(r.random())
                .into_uuid()
                .to_string()),
            "int" => {
                let (a, b): (Option<i64>, Option<i64>) = from_args(args)?;
                let (a, b) = (a.unwrap_or(0), b.unwrap_or(a.unwrap_or(0).max(0) + 100));
                if b < a {
                    return Err(bad("fake.int(a, b): b is below a"));
                }
                Ok(Value::from(r.random_range(a..=b)))
            }
            "float" => {
                let (a, b): (Option<f64>, Option<f64>) = from_args(args)?;
                let (a, b) = (a.unwrap_or(0.0), b.unwrap_or(1.0));
                if b < a || a.is_nan() || b.is_nan() {
                    return Err(bad("fake.float(a, b): b is below a"));
                }
                let x = a + (b - a) * r.random::<f64>();
                Ok(Value::from((x * 100.0).round() / 100.0))
            }
            "bool" => Ok(Value::from(r.random::<bool>())),
            "date" => s(random_datetime(r).format("%Y-%m-%d").to_string()),
            "datetime" => s(random_datetime(r).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "food" => Ok(Value::from_serialize(nutrition::food(r))),
            "ean13" => s(nutrition::ean13(r)),
            "meal" => Ok(Value::from(nutrition::meal(r))),
            "exercise" => Ok(Value::from_serialize(workouts::exercise(r))),
            "workout" => Ok(Value::from_serialize(workouts::workout(r))),
            "gps_track" => {
                let (points,): (Option<usize>,) = from_args(args)?;
                let points = points.unwrap_or(10);
                if !(2..=10_000).contains(&points) {
                    return Err(bad("fake.gps_track(points): points is between 2 and 10000"));
                }
                Ok(Value::from_serialize(gps::track(r, points)))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!(
                    "there is no fake.{method}(); generators: {}",
                    GENERATORS.join(", ")
                ),
            )),
        }
    }
}

fn bad(msg: &str) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.to_string())
}

/// A moment in 2024–2025, so that the same seed gives the same date on any day.
fn random_datetime(r: &mut SmallRng) -> chrono::DateTime<chrono::Utc> {
    let start = 1_704_067_200i64; // 2024-01-01T00:00:00Z
    let secs = r.random_range(0..2 * 365 * 86_400i64);
    chrono::DateTime::from_timestamp(start + secs, 0).unwrap_or_default()
}

impl Object for Fake {
    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        self.generate(method, args)
    }
}

/// Runs `f` with the RNG of the current virtual user's `fake` (or a random
/// one outside a run).
pub fn with_rng<T>(state: &State, f: impl FnOnce(&mut SmallRng) -> T) -> T {
    if let Some(fake) = state.lookup("fake") {
        if let Some(fake) = fake.downcast_object_ref::<Fake>() {
            return f(&mut fake.rng());
        }
    }
    f(&mut SmallRng::from_rng(&mut rand::rng()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(seed: u64) -> Vec<String> {
        let f = Fake::new(seed);
        [
            "name",
            "email",
            "int",
            "date",
            "sentence",
            "uuid",
            "food",
            "ean13",
            "meal",
            "workout",
            "gps_track",
        ]
        .iter()
        .map(|m| f.generate(m, &[]).unwrap().to_string())
        .collect()
    }

    /// Property, over many runs, users and iterations: the same inputs give
    /// the same values from every generator, and another user or another
    /// iteration of the same run gives other values.
    #[test]
    fn fake_data_is_a_function_of_seed_user_and_iteration() {
        let mut inputs = SmallRng::seed_from_u64(2026);
        for _ in 0..300 {
            let seed: u64 = inputs.random();
            let scenario = inputs.random_range(0..4usize);
            let vu = inputs.random_range(0..10_000u64);
            let iteration = inputs.random_range(0..1_000u64);
            let at = |vu, iteration| draw(iteration_seed(seed, scenario, vu, iteration));
            let values = at(vu, iteration);
            assert_eq!(
                values,
                at(vu, iteration),
                "seed {seed} vu {vu} it {iteration}"
            );
            assert_ne!(values, at(vu + 1, iteration), "seed {seed} vu {vu}");
            assert_ne!(values, at(vu, iteration + 1), "seed {seed} it {iteration}");
            assert_ne!(
                values,
                draw(iteration_seed(seed ^ 1, scenario, vu, iteration)),
                "seed {seed}"
            );
        }
    }

    /// Property: a thousand users of one run get a thousand different
    /// identities (emails and UUIDs), and barcodes that all check out.
    #[test]
    fn users_of_one_run_get_distinct_data() {
        let mut emails = std::collections::HashSet::new();
        let mut uuids = std::collections::HashSet::new();
        for vu in 0..1000 {
            let f = Fake::new(iteration_seed(99, 0, vu, 0));
            emails.insert(f.generate("email", &[]).unwrap().to_string());
            uuids.insert(f.generate("uuid", &[]).unwrap().to_string());
        }
        assert!(
            emails.len() >= 990,
            "{} distinct emails of 1000",
            emails.len()
        );
        assert_eq!(uuids.len(), 1000);
    }

    #[test]
    fn same_seed_same_values_other_seed_other_values() {
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn ranges_are_respected() {
        let f = Fake::new(1);
        for _ in 0..200 {
            let v = f
                .generate("int", &[Value::from(50), Value::from(800)])
                .unwrap();
            let n = i64::try_from(v).unwrap();
            assert!((50..=800).contains(&n));
            let p = f
                .generate("password", &[Value::from(10), Value::from(12)])
                .unwrap()
                .to_string();
            assert!((10..=12).contains(&p.chars().count()), "{p}");
        }
        assert!(f
            .generate("int", &[Value::from(5), Value::from(1)])
            .is_err());
        assert!(f
            .generate("fod", &[])
            .unwrap_err()
            .to_string()
            .contains("there is no fake.fod()"));
    }
}
