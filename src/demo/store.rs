//! The demo target's in-memory state: revoked tokens, WikiPro sessions and
//! shared documents per tenant, Ryze users, foods, diary entries, workouts
//! and GPS sessions, and counts of logins, logouts and sign-ups.
//! Collections are capped so a long load test cannot exhaust memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Most items kept per collection and owner; the oldest go first.
pub const CAP: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: u64,
    pub role: String,
    pub content: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: u64,
    pub title: String,
    pub created_at: String,
    pub messages: Vec<Message>,
}

/// A document of a tenant's shared library (added by its admin).
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: u64,
    pub title: String,
    pub body: String,
    pub created_at: String,
}

/// What the target has seen, for its admin.
#[derive(Debug, Default)]
pub struct Counts {
    pub logins: AtomicU64,
    pub logouts: AtomicU64,
    pub registrations: AtomicU64,
}

#[derive(Debug, Clone)]
pub struct RyzeUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Food {
    pub id: u64,
    pub name: String,
    pub brand: Option<String>,
    pub serving_g: f64,
    pub calories: f64,
    pub protein_g: f64,
    pub carbs_g: f64,
    pub fat_g: f64,
    pub fiber_g: Option<f64>,
    pub ean13: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: u64,
    pub food_id: u64,
    pub meal: String,
    pub servings: f64,
    pub date: String,
    pub calories: f64,
    pub protein_g: f64,
    pub carbs_g: f64,
    pub fat_g: f64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Exercise {
    pub name: String,
    pub sets: u32,
    pub reps: u32,
    pub weight_kg: f64,
    #[serde(default)]
    pub rest_s: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workout {
    pub id: u64,
    pub name: String,
    pub date: String,
    pub notes: Option<String>,
    pub exercises: Vec<Exercise>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GpsSession {
    pub id: u64,
    pub activity: String,
    pub points: usize,
    #[serde(skip)]
    pub last_ms: Option<i64>,
}

/// One Ryze user's data.
#[derive(Debug, Default)]
pub struct Diary {
    pub entries: Vec<Entry>,
    pub workouts: Vec<Workout>,
    pub gps: Vec<GpsSession>,
}

#[derive(Debug, Default)]
pub struct Data {
    pub sessions: HashMap<String, Vec<Session>>,
    pub library: HashMap<String, Vec<Document>>,
    pub users: HashMap<String, RyzeUser>,
    pub foods: Vec<Food>,
    pub diaries: HashMap<String, Diary>,
}

pub struct Store {
    pub secret: Vec<u8>,
    /// Streamed chat: delay before the first token, and between tokens.
    pub first_token: Duration,
    pub token_delay: Duration,
    pub started: Instant,
    /// The password of `admin@TENANT.test`.
    pub admin_password: String,
    pub counts: Counts,
    next_id: AtomicU64,
    revoked: Mutex<HashMap<String, i64>>,
    data: Mutex<Data>,
}

impl Store {
    pub fn new(first_token: Duration, token_delay: Duration, admin_password: String) -> Self {
        let secret: [u8; 32] = rand::random();
        let store = Self {
            secret: secret.to_vec(),
            first_token,
            token_delay,
            started: Instant::now(),
            admin_password,
            counts: Counts::default(),
            next_id: AtomicU64::new(1),
            revoked: Mutex::new(HashMap::new()),
            data: Mutex::new(Data::default()),
        };
        let catalogue = super::ryze::catalogue(|| store.id());
        store.data().foods = catalogue;
        store
    }

    pub fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn revoke(&self, jti: &str, exp: i64) {
        let mut r = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
        let now = super::auth::now();
        if r.len() > CAP {
            r.retain(|_, e| *e > now);
        }
        r.insert(jti.to_string(), exp);
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        let r = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
        !r.is_empty() && r.contains_key(jti)
    }

    pub fn ryze_user(&self, email: &str) -> Option<RyzeUser> {
        self.data().users.get(email).cloned()
    }
}

/// Pushes `item`, dropping the oldest beyond [`CAP`].
pub fn push_capped<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= CAP {
        list.remove(0);
    }
    list.push(item);
}

pub fn timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
