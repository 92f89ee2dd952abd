//! Nutrition fake data: foods whose macros add up (calories ≈ 4·protein +
//! 4·carbs + 9·fat), EAN-13 barcodes with a valid check digit, and meals.

use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{json, Value};

/// Name, brand, and macros per 100 g: protein, carbs, fat, fiber.
const FOODS: [(&str, &str, f64, f64, f64, f64); 16] = [
    ("Rolled oats", "Harvest", 13.5, 68.0, 7.0, 10.0),
    ("Greek yogurt", "Olympus", 10.0, 3.6, 2.0, 0.0),
    ("Banana", "Fresh", 1.1, 23.0, 0.3, 2.6),
    ("Chicken breast", "FarmCo", 31.0, 0.0, 3.6, 0.0),
    ("Brown rice", "Paddy", 2.6, 23.0, 0.9, 1.8),
    ("Broccoli", "Fresh", 2.8, 7.0, 0.4, 2.6),
    ("Salmon fillet", "Nordic", 20.0, 0.0, 13.0, 0.0),
    ("Almonds", "Valley", 21.0, 22.0, 50.0, 12.5),
    ("Whole wheat bread", "Baker's", 13.0, 41.0, 3.4, 7.0),
    ("Peanut butter", "Nutty", 25.0, 20.0, 50.0, 6.0),
    ("Apple", "Orchard", 0.3, 14.0, 0.2, 2.4),
    ("Cottage cheese", "Dairyland", 11.0, 3.4, 4.3, 0.0),
    ("Lentils", "Pulse", 9.0, 20.0, 0.4, 8.0),
    ("Avocado", "Fresh", 2.0, 8.5, 15.0, 6.7),
    ("Whole egg", "Hillside", 12.6, 0.7, 9.5, 0.0),
    ("Protein bar", "Forge", 33.0, 40.0, 12.0, 5.0),
];

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A food and one serving of it.
pub fn food(r: &mut SmallRng) -> Value {
    let (name, brand, p, c, f, fiber) = FOODS[r.random_range(0..FOODS.len())];
    let serving_g = f64::from(r.random_range(3..=30u32) * 10);
    let k = serving_g / 100.0;
    let (protein, carbs, fat) = (round1(p * k), round1(c * k), round1(f * k));
    // Labels round and vary a little: within ±3% of the Atwater sum.
    let calories =
        ((4.0 * protein + 4.0 * carbs + 9.0 * fat) * r.random_range(0.97..=1.03)).round();
    json!({
        "name": name,
        "brand": brand,
        "serving_g": serving_g,
        "calories": calories,
        "protein_g": protein,
        "carbs_g": carbs,
        "fat_g": fat,
        "fiber_g": round1(fiber * k),
    })
}

/// The EAN-13 check digit of 12 digits.
pub fn ean13_check(digits: &[u32; 12]) -> u32 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10
}

/// A 13-digit barcode with a valid check digit.
pub fn ean13(r: &mut SmallRng) -> String {
    let mut digits = [0u32; 12];
    for d in digits.iter_mut() {
        *d = r.random_range(0..10);
    }
    // Real product codes do not start with 0 prefixes reserved for stores.
    digits[0] = r.random_range(3..10);
    let check = ean13_check(&digits);
    digits
        .iter()
        .chain(std::iter::once(&check))
        .map(|d| char::from(b'0' + *d as u8))
        .collect()
}

pub fn meal(r: &mut SmallRng) -> &'static str {
    ["breakfast", "lunch", "dinner", "snack"][r.random_range(0..4)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn food_macros_add_up_within_ten_percent() {
        let mut r = SmallRng::seed_from_u64(3);
        for _ in 0..500 {
            let f = food(&mut r);
            let atwater = 4.0 * f["protein_g"].as_f64().unwrap()
                + 4.0 * f["carbs_g"].as_f64().unwrap()
                + 9.0 * f["fat_g"].as_f64().unwrap();
            let calories = f["calories"].as_f64().unwrap();
            assert!((calories - atwater).abs() <= 0.1 * atwater.max(10.0), "{f}");
            assert!(f["serving_g"].as_f64().unwrap() >= 30.0);
        }
    }

    #[test]
    fn barcodes_have_valid_check_digits() {
        let mut r = SmallRng::seed_from_u64(4);
        for _ in 0..500 {
            let code = ean13(&mut r);
            assert_eq!(code.len(), 13);
            let d: Vec<u32> = code.chars().map(|c| c.to_digit(10).unwrap()).collect();
            let first: [u32; 12] = d[..12].try_into().unwrap();
            assert_eq!(ean13_check(&first), d[12], "{code}");
        }
        // Known codes.
        assert_eq!(ean13_check(&[4, 0, 0, 6, 3, 8, 1, 3, 3, 3, 9, 3]), 1);
        assert_eq!(ean13_check(&[5, 9, 0, 1, 2, 3, 4, 1, 2, 3, 4, 5]), 7);
    }
}
