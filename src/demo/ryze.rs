//! Ryze: nutrition (foods, diary, daily summary, barcodes), workouts and GPS
//! tracking, per user. Every data route needs a token.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::User;
use super::errors::{parse, require, ApiError, ApiResult};
use super::store::{push_capped, Entry, Exercise, Food, GpsSession, RyzeUser, Store, Workout};

#[derive(Deserialize)]
struct Register {
    email: String,
    password: String,
    name: String,
}

pub async fn register(
    State(store): State<Arc<Store>>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let req: Register = parse(&body)?;
    require(
        req.email.contains('@') && req.email.len() >= 3,
        "email",
        "must be an email address",
    )?;
    require(
        req.password.chars().count() >= 8,
        "password",
        "must have at least 8 characters",
    )?;
    require(!req.name.trim().is_empty(), "name", "must not be empty")?;
    let mut data = store.data();
    if data.users.contains_key(&req.email) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "email already registered",
        ));
    }
    let user = RyzeUser {
        id: format!("u{}", store.id()),
        email: req.email.clone(),
        password: req.password,
        name: req.name,
    };
    let out = json!({ "id": user.id, "email": user.email, "name": user.name });
    data.users.insert(req.email, user);
    store
        .counts
        .registrations
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok((StatusCode::CREATED, Json(out)))
}

/// The built-in food catalogue.
pub fn catalogue(mut id: impl FnMut() -> u64) -> Vec<Food> {
    let rows: [(&str, &str, f64, f64, f64, f64); 15] = [
        ("Rolled oats", "Harvest", 40.0, 13.5, 27.0, 2.8),
        ("Greek yogurt 2%", "Olympus", 170.0, 17.0, 6.0, 3.4),
        ("Banana", "Fresh", 118.0, 1.3, 27.0, 0.4),
        ("Chicken breast", "FarmCo", 100.0, 31.0, 0.0, 3.6),
        ("Brown rice, cooked", "Paddy", 150.0, 3.9, 34.5, 1.3),
        ("Broccoli", "Fresh", 90.0, 2.5, 6.0, 0.3),
        ("Salmon fillet", "Nordic", 100.0, 20.0, 0.0, 13.0),
        ("Whole egg", "Hillside", 50.0, 6.3, 0.4, 4.8),
        ("Almonds", "Valley", 28.0, 6.0, 6.1, 14.0),
        ("Whole wheat bread", "Baker's", 38.0, 4.0, 17.0, 1.2),
        ("Peanut butter", "Nutty", 32.0, 7.0, 7.0, 16.0),
        ("Apple", "Orchard", 182.0, 0.5, 25.0, 0.3),
        ("Cottage cheese", "Dairyland", 113.0, 12.5, 3.8, 2.5),
        ("Lentils, cooked", "Pulse", 198.0, 17.9, 39.9, 0.8),
        ("Avocado", "Fresh", 150.0, 3.0, 12.8, 22.0),
    ];
    rows.iter()
        .map(|(name, brand, serving, p, c, f)| Food {
            id: id(),
            name: name.to_string(),
            brand: Some(brand.to_string()),
            serving_g: *serving,
            calories: (4.0 * p + 4.0 * c + 9.0 * f).round(),
            protein_g: *p,
            carbs_g: *c,
            fat_g: *f,
            fiber_g: None,
            ean13: None,
        })
        .collect()
}

#[derive(Deserialize)]
pub struct Search {
    q: Option<String>,
}

pub async fn list_foods(
    State(store): State<Arc<Store>>,
    _user: User,
    Query(s): Query<Search>,
) -> Json<Value> {
    let q = s.q.unwrap_or_default().to_lowercase();
    let data = store.data();
    let foods: Vec<&Food> = data
        .foods
        .iter()
        .filter(|f| q.is_empty() || f.name.to_lowercase().contains(&q))
        .take(50)
        .collect();
    Json(json!({ "foods": foods }))
}

#[derive(Deserialize)]
struct NewFood {
    name: String,
    brand: Option<String>,
    serving_g: f64,
    calories: f64,
    protein_g: f64,
    carbs_g: f64,
    fat_g: f64,
    fiber_g: Option<f64>,
    ean13: Option<String>,
}

pub async fn create_food(
    State(store): State<Arc<Store>>,
    _user: User,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let req: NewFood = parse(&body)?;
    require(!req.name.trim().is_empty(), "name", "must not be empty")?;
    require(req.serving_g > 0.0, "serving_g", "must be above 0")?;
    for (field, v) in [
        ("calories", req.calories),
        ("protein_g", req.protein_g),
        ("carbs_g", req.carbs_g),
        ("fat_g", req.fat_g),
    ] {
        require(v >= 0.0, field, "cannot be negative")?;
    }
    require(
        req.fiber_g.is_none_or(|f| f >= 0.0),
        "fiber_g",
        "cannot be negative",
    )?;
    if let Some(code) = &req.ean13 {
        check_ean13(code)?;
    }
    let food = Food {
        id: store.id(),
        name: req.name,
        brand: req.brand,
        serving_g: req.serving_g,
        calories: req.calories,
        protein_g: req.protein_g,
        carbs_g: req.carbs_g,
        fat_g: req.fat_g,
        fiber_g: req.fiber_g,
        ean13: req.ean13,
    };
    let out = json!(food);
    push_capped(&mut store.data().foods, food);
    Ok((StatusCode::CREATED, Json(out)))
}

pub async fn get_food(
    State(store): State<Arc<Store>>,
    _user: User,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found("food"))?;
    let data = store.data();
    let food = data
        .foods
        .iter()
        .find(|f| f.id == id)
        .ok_or_else(|| ApiError::not_found("food"))?;
    Ok(Json(json!(food)))
}

fn check_date(date: &str) -> ApiResult<()> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| ApiError::invalid("`date` must be a date: YYYY-MM-DD"))
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

#[derive(Deserialize)]
struct NewEntry {
    food_id: u64,
    meal: String,
    servings: Option<f64>,
    grams: Option<f64>,
    date: Option<String>,
}

pub async fn add_entry(
    State(store): State<Arc<Store>>,
    user: User,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let req: NewEntry = parse(&body)?;
    require(
        matches!(
            req.meal.as_str(),
            "breakfast" | "lunch" | "dinner" | "snack"
        ),
        "meal",
        "must be breakfast, lunch, dinner or snack",
    )?;
    let date = req.date.unwrap_or_else(today);
    check_date(&date)?;
    let mut data = store.data();
    let food = data
        .foods
        .iter()
        .find(|f| f.id == req.food_id)
        .cloned()
        .ok_or_else(|| ApiError::invalid("unknown food_id"))?;
    let servings = match (req.servings, req.grams) {
        (Some(s), _) => s,
        (None, Some(g)) => g / food.serving_g,
        (None, None) => return Err(ApiError::invalid("`servings` or `grams` is required")),
    };
    require(servings > 0.0, "servings", "must be above 0")?;
    let entry = Entry {
        id: store.id(),
        food_id: food.id,
        meal: req.meal,
        servings,
        date,
        calories: food.calories * servings,
        protein_g: food.protein_g * servings,
        carbs_g: food.carbs_g * servings,
        fat_g: food.fat_g * servings,
    };
    let out = json!(entry);
    push_capped(
        &mut data.diaries.entry(user.0.sub).or_default().entries,
        entry,
    );
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Deserialize)]
pub struct Day {
    date: Option<String>,
}

pub async fn daily_summary(
    State(store): State<Arc<Store>>,
    user: User,
    Query(q): Query<Day>,
) -> ApiResult<Json<Value>> {
    let date = q.date.unwrap_or_else(today);
    check_date(&date)?;
    let data = store.data();
    let entries: Vec<&Entry> = data
        .diaries
        .get(&user.0.sub)
        .map(|d| d.entries.iter().filter(|e| e.date == date).collect())
        .unwrap_or_default();
    let sum =
        |f: fn(&Entry) -> f64| (entries.iter().map(|e| f(e)).sum::<f64>() * 10.0).round() / 10.0;
    Ok(Json(json!({
        "date": date,
        "calories": sum(|e| e.calories),
        "protein_g": sum(|e| e.protein_g),
        "carbs_g": sum(|e| e.carbs_g),
        "fat_g": sum(|e| e.fat_g),
        "entries": entries.len(),
    })))
}

pub async fn list_workouts(State(store): State<Arc<Store>>, user: User) -> Json<Value> {
    let data = store.data();
    let workouts: Vec<&Workout> = data
        .diaries
        .get(&user.0.sub)
        .map(|d| d.workouts.iter().rev().take(50).collect())
        .unwrap_or_default();
    Json(json!({ "workouts": workouts }))
}

fn check_exercise(e: &Exercise) -> ApiResult<()> {
    require(!e.name.trim().is_empty(), "name", "must not be empty")?;
    require(e.sets > 0, "sets", "must be above 0")?;
    require(e.reps > 0, "reps", "must be above 0")?;
    require(e.weight_kg >= 0.0, "weight_kg", "cannot be negative")
}

#[derive(Deserialize)]
struct NewWorkout {
    name: String,
    date: Option<String>,
    notes: Option<String>,
    #[serde(default)]
    exercises: Vec<Exercise>,
}

pub async fn create_workout(
    State(store): State<Arc<Store>>,
    user: User,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let req: NewWorkout = parse(&body)?;
    require(!req.name.trim().is_empty(), "name", "must not be empty")?;
    let date = req.date.unwrap_or_else(today);
    check_date(&date)?;
    req.exercises.iter().try_for_each(check_exercise)?;
    let workout = Workout {
        id: store.id(),
        name: req.name,
        date,
        notes: req.notes,
        exercises: req.exercises,
    };
    let out = json!(workout);
    push_capped(
        &mut store.data().diaries.entry(user.0.sub).or_default().workouts,
        workout,
    );
    Ok((StatusCode::CREATED, Json(out)))
}

pub async fn templates(_user: User) -> Json<Value> {
    let ex = |name: &str, sets: u32, reps: u32, kg: f64| json!({ "name": name, "sets": sets, "reps": reps, "weight_kg": kg, "rest_s": 90 });
    Json(json!({ "templates": [
        { "name": "Push", "exercises": [ex("Bench press", 4, 8, 60.0), ex("Overhead press", 3, 10, 35.0), ex("Triceps dip", 3, 12, 0.0)] },
        { "name": "Pull", "exercises": [ex("Deadlift", 3, 5, 100.0), ex("Pull-up", 4, 8, 0.0), ex("Barbell row", 3, 10, 50.0)] },
        { "name": "Legs", "exercises": [ex("Back squat", 4, 8, 80.0), ex("Romanian deadlift", 3, 10, 60.0), ex("Walking lunge", 3, 12, 20.0)] },
        { "name": "5x5", "exercises": [ex("Back squat", 5, 5, 90.0), ex("Bench press", 5, 5, 65.0), ex("Barbell row", 5, 5, 55.0)] },
    ]}))
}

pub async fn add_exercise(
    State(store): State<Arc<Store>>,
    user: User,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let req: Exercise = parse(&body)?;
    check_exercise(&req)?;
    let id: u64 = id.parse().map_err(|_| ApiError::not_found("workout"))?;
    let mut data = store.data();
    let workout = data
        .diaries
        .get_mut(&user.0.sub)
        .and_then(|d| d.workouts.iter_mut().find(|w| w.id == id))
        .ok_or_else(|| ApiError::not_found("workout"))?;
    let out = json!(req);
    push_capped(&mut workout.exercises, req);
    Ok((StatusCode::CREATED, Json(out)))
}

/// 13 digits whose last is the EAN-13 check digit of the first 12.
pub fn ean13_valid(code: &str) -> Result<(), &'static str> {
    if code.len() != 13 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be 13 digits");
    }
    let digits: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits[..12]
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    if (10 - sum % 10) % 10 == digits[12] {
        Ok(())
    } else {
        Err("invalid EAN-13 check digit")
    }
}

fn check_ean13(code: &str) -> ApiResult<()> {
    ean13_valid(code).map_err(|e| ApiError::invalid(format!("`ean13` {e}")))
}

pub async fn barcode(_user: User, Path(code): Path<String>) -> ApiResult<Json<Value>> {
    ean13_valid(&code).map_err(ApiError::invalid)?;
    // A product made up from the code itself, so the same code always
    // gives the same product.
    let n: u64 = code.parse().unwrap_or(0);
    let pick = |m: u64, salt: u64| ((n / 7 + salt).wrapping_mul(2_654_435_761) % m) as f64;
    let (p, c, f) = (2.0 + pick(25, 1), 5.0 + pick(60, 2), 1.0 + pick(20, 3));
    let names = [
        "Granola bar",
        "Protein shake",
        "Rice cakes",
        "Trail mix",
        "Oat cookie",
        "Fruit yogurt",
    ];
    Ok(Json(json!({
        "ean13": code,
        "name": names[(n % names.len() as u64) as usize],
        "brand": "Barcode Foods",
        "serving_g": 30.0 + pick(70, 4),
        "calories": 4.0 * p + 4.0 * c + 9.0 * f,
        "protein_g": p, "carbs_g": c, "fat_g": f,
    })))
}

#[derive(Deserialize)]
struct NewGps {
    activity: String,
}

pub async fn create_gps(
    State(store): State<Arc<Store>>,
    user: User,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let req: NewGps = parse(&body)?;
    require(
        matches!(req.activity.as_str(), "run" | "ride" | "walk"),
        "activity",
        "must be run, ride or walk",
    )?;
    let session = GpsSession {
        id: store.id(),
        activity: req.activity,
        points: 0,
        last_ms: None,
    };
    let out = json!(session);
    push_capped(
        &mut store.data().diaries.entry(user.0.sub).or_default().gps,
        session,
    );
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Deserialize)]
struct Point {
    lat: f64,
    lon: f64,
    #[serde(default)]
    elevation_m: Option<f64>,
    timestamp: Value,
}

#[derive(Deserialize)]
struct Points {
    points: Vec<Point>,
}

fn millis(ts: &Value) -> ApiResult<i64> {
    match ts {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| ApiError::invalid("`timestamp` must be whole milliseconds")),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.timestamp_millis())
            .map_err(|_| ApiError::invalid("`timestamp` must be RFC 3339 or epoch milliseconds")),
        _ => Err(ApiError::invalid(
            "`timestamp` must be RFC 3339 or epoch milliseconds",
        )),
    }
}

pub async fn add_points(
    State(store): State<Arc<Store>>,
    user: User,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let req: Points = parse(&body)?;
    require(!req.points.is_empty(), "points", "must not be empty")?;
    let mut times = Vec::with_capacity(req.points.len());
    for p in &req.points {
        require(
            (-90.0..=90.0).contains(&p.lat),
            "lat",
            "must be between -90 and 90",
        )?;
        require(
            (-180.0..=180.0).contains(&p.lon),
            "lon",
            "must be between -180 and 180",
        )?;
        require(
            p.elevation_m.is_none_or(|e| e.is_finite()),
            "elevation_m",
            "must be a number",
        )?;
        times.push(millis(&p.timestamp)?);
    }
    require(
        times.windows(2).all(|w| w[0] < w[1]),
        "timestamp",
        "must increase from point to point",
    )?;
    let id: u64 = id.parse().map_err(|_| ApiError::not_found("GPS session"))?;
    let mut data = store.data();
    let session = data
        .diaries
        .get_mut(&user.0.sub)
        .and_then(|d| d.gps.iter_mut().find(|g| g.id == id))
        .ok_or_else(|| ApiError::not_found("GPS session"))?;
    if let (Some(last), Some(first)) = (session.last_ms, times.first()) {
        require(
            *first > last,
            "timestamp",
            "must come after the session's last point",
        )?;
    }
    session.points += times.len();
    session.last_ms = times.last().copied();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "accepted": times.len(), "total": session.points })),
    ))
}

pub async fn dashboard(State(store): State<Arc<Store>>, user: User) -> Json<Value> {
    let today = today();
    let data = store.data();
    let diary = data.diaries.get(&user.0.sub);
    let todays: Vec<&Entry> = diary
        .map(|d| d.entries.iter().filter(|e| e.date == today).collect())
        .unwrap_or_default();
    Json(json!({
        "user": user.0.sub,
        "today": { "calories": todays.iter().map(|e| e.calories).sum::<f64>().round(), "entries": todays.len() },
        "workouts": diary.map_or(0, |d| d.workouts.len()),
        "gps_sessions": diary.map_or(0, |d| d.gps.len()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean13_check_digits() {
        assert_eq!(ean13_valid("4006381333931"), Ok(()));
        assert_eq!(ean13_valid("5901234123457"), Ok(()));
        assert_eq!(
            ean13_valid("5901234123458"),
            Err("invalid EAN-13 check digit")
        );
        assert_eq!(ean13_valid("590123412345"), Err("must be 13 digits"));
        assert_eq!(ean13_valid("59012341234a7"), Err("must be 13 digits"));
    }

    #[test]
    fn catalogue_macros_add_up() {
        let mut n = 0;
        for f in catalogue(|| {
            n += 1;
            n
        }) {
            let computed = 4.0 * f.protein_g + 4.0 * f.carbs_g + 9.0 * f.fat_g;
            assert!((f.calories - computed).abs() <= 1.0, "{}", f.name);
        }
    }
}
