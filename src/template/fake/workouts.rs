//! Workout fake data: exercises (name, muscle group, equipment) and whole
//! workouts with plausible sets, reps, weights and rests.

use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{json, Value};

/// Name, muscle group, equipment, typical working weight range (kg).
const EXERCISES: [(&str, &str, &str, f64, f64); 14] = [
    ("Back squat", "legs", "barbell", 40.0, 140.0),
    ("Deadlift", "back", "barbell", 60.0, 180.0),
    ("Bench press", "chest", "barbell", 30.0, 110.0),
    ("Overhead press", "shoulders", "barbell", 20.0, 70.0),
    ("Barbell row", "back", "barbell", 30.0, 100.0),
    ("Pull-up", "back", "bodyweight", 0.0, 20.0),
    ("Push-up", "chest", "bodyweight", 0.0, 0.0),
    ("Dumbbell curl", "arms", "dumbbell", 6.0, 24.0),
    ("Triceps extension", "arms", "cable", 10.0, 40.0),
    ("Lat pulldown", "back", "machine", 30.0, 90.0),
    ("Leg press", "legs", "machine", 60.0, 250.0),
    ("Walking lunge", "legs", "dumbbell", 8.0, 32.0),
    ("Plank", "core", "bodyweight", 0.0, 0.0),
    ("Romanian deadlift", "legs", "barbell", 40.0, 130.0),
];

fn pick(r: &mut SmallRng) -> (&'static str, &'static str, &'static str, f64, f64) {
    EXERCISES[r.random_range(0..EXERCISES.len())]
}

pub fn exercise(r: &mut SmallRng) -> Value {
    let (name, muscle, equipment, _, _) = pick(r);
    json!({ "name": name, "muscle_group": muscle, "equipment": equipment })
}

/// A workout of 3 to 6 different exercises.
pub fn workout(r: &mut SmallRng) -> Value {
    let n = r.random_range(3..=6);
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    while chosen.len() < n {
        let i = r.random_range(0..EXERCISES.len());
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    let exercises: Vec<Value> = chosen
        .into_iter()
        .map(|i| {
            let (name, muscle, equipment, lo, hi) = EXERCISES[i];
            // Plates come in 2.5 kg steps.
            let reps = [5, 6, 8, 10, 12, 15][r.random_range(0..6)];
            let rest_s = [60, 90, 120, 180][r.random_range(0..4)];
            let weight = if hi > lo {
                (r.random_range(lo..=hi) / 2.5).round() * 2.5
            } else {
                lo
            };
            json!({
                "name": name,
                "muscle_group": muscle,
                "equipment": equipment,
                "sets": r.random_range(3..=5),
                "reps": reps,
                "weight_kg": weight,
                "rest_s": rest_s,
            })
        })
        .collect();
    let names = [
        "Push day",
        "Pull day",
        "Leg day",
        "Full body",
        "Upper body",
        "Strength 5x5",
    ];
    json!({ "name": names[r.random_range(0..names.len())], "exercises": exercises })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn workouts_are_plausible() {
        let mut r = SmallRng::seed_from_u64(5);
        for _ in 0..200 {
            let w = workout(&mut r);
            let ex = w["exercises"].as_array().unwrap();
            assert!((3..=6).contains(&ex.len()));
            for e in ex {
                assert!((3..=5).contains(&e["sets"].as_u64().unwrap()));
                assert!((5..=15).contains(&e["reps"].as_u64().unwrap()));
                let kg = e["weight_kg"].as_f64().unwrap();
                assert!(
                    (0.0..=250.0).contains(&kg) && (kg / 2.5).fract() == 0.0,
                    "{e}"
                );
                assert!(e["rest_s"].as_u64().unwrap() >= 60);
            }
        }
    }
}
