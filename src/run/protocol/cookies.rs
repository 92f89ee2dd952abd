//! A virtual user's cookies (a cookie store as browsers keep one: domains,
//! paths, expiry, `Secure`), in two layers: what the user's `before`
//! received, shared by all its iterations and never changed by them, and
//! what the current iteration received, dropped at its end. Nothing of the
//! first layer is copied per iteration: a request's `Cookie` header is made
//! from both, the iteration's cookie winning over a kept one of the same
//! name, and a kept cookie the iteration deleted (an expired `Set-Cookie`)
//! left out.
//!
//! Most API journeys carry no cookie, so no store is searched until a
//! response has set one. What the kept store sends to a URL is worked out
//! once per user and URL (until its first cookie expires), since the store
//! never changes: a session cookie costs a request a lookup, not a search.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use cookie_store::{CookieExpiration, CookieStore, RawCookie};
use http::header::HeaderValue;
use url::Url;

use super::headers::Headers;

/// The cookies of one part of a user's life (an iteration, `before`,
/// `after`).
#[derive(Default)]
pub struct Cookies {
    /// What `before` received (`None`: nothing).
    kept: Option<Arc<Kept>>,
    /// Made when the first cookie comes (most iterations get none).
    own: RwLock<Option<Box<Own>>>,
    /// `own` holds a cookie or a deletion.
    any: AtomicBool,
}

#[derive(Default)]
struct Own {
    store: CookieStore,
    /// Names of cookies this part deleted, which hide kept ones.
    deleted: Vec<String>,
}

/// The cookies a user keeps for its whole life (what `before` received).
#[derive(Debug, Clone, Default)]
pub struct KeptCookies {
    store: Option<Arc<Kept>>,
}

/// A store that no longer changes, with what it sends to each URL it was
/// asked about.
#[derive(Debug)]
struct Kept {
    store: CookieStore,
    sent: Mutex<Vec<Arc<Sent>>>,
}

/// What a kept store sends to one URL (scheme, host, port and path).
#[derive(Debug)]
struct Sent {
    url: String,
    /// When the first of these cookies expires.
    until: Option<Instant>,
    pairs: Vec<(String, String)>,
    header: Option<HeaderValue>,
}

/// At most this many URLs' answers are kept per user; then they are
/// worked out afresh.
const SENT_URLS: usize = 64;

impl Kept {
    fn sent_to(&self, url: &Url) -> Arc<Sent> {
        let key = &url[..url::Position::AfterPath];
        let now = Instant::now();
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = sent
            .iter()
            .find(|s| s.url == key && s.until.is_none_or(|u| now < u))
        {
            return s.clone();
        }
        let matched = self.store.matches(url);
        let epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let until = matched
            .iter()
            .filter_map(|c| match &c.expires {
                CookieExpiration::AtUtc(at) => Some(at.unix_timestamp()),
                CookieExpiration::SessionEnd => None,
            })
            .min()
            .map(|at| now + Duration::from_secs(at.saturating_sub(epoch).max(0) as u64));
        let pairs: Vec<(String, String)> = matched
            .iter()
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect();
        let text = pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let fresh = Arc::new(Sent {
            url: key.to_string(),
            until,
            header: (!text.is_empty())
                .then(|| HeaderValue::from_str(&text).ok())
                .flatten(),
            pairs,
        });
        sent.retain(|s| s.url != key);
        if sent.len() >= SENT_URLS {
            sent.clear();
        }
        sent.push(fresh.clone());
        fresh
    }
}

impl Cookies {
    /// A jar over `kept`, shared, not copied.
    pub fn starting_with(kept: &KeptCookies) -> Self {
        Self {
            kept: kept.store.clone(),
            ..Self::default()
        }
    }

    /// What this jar received, to start later jars from (`before`'s, which
    /// starts empty).
    pub fn keep(&self) -> KeptCookies {
        if !self.any.load(Ordering::Relaxed) {
            return KeptCookies::default();
        }
        let mut own = self.own.write().unwrap_or_else(|e| e.into_inner());
        KeptCookies {
            store: own.take().map(|own| {
                Arc::new(Kept {
                    store: own.store,
                    sent: Mutex::default(),
                })
            }),
        }
    }

    /// The `Cookie` header for a request to `url`.
    pub fn get(&self, url: &Url) -> Option<HeaderValue> {
        let any_own = self.any.load(Ordering::Relaxed);
        let kept = self.kept.as_ref().map(|k| k.sent_to(url));
        if !any_own {
            return kept.and_then(|k| k.header.clone());
        }
        let guard = self.own.read().unwrap_or_else(|e| e.into_inner());
        let own = guard.as_deref();
        let mine: Vec<(&str, &str)> = match own {
            Some(own) => own.store.get_request_values(url).collect(),
            None => Vec::new(),
        };
        let mut text = String::new();
        let mut add = |name: &str, value: &str| {
            if !text.is_empty() {
                text.push_str("; ");
            }
            text.push_str(name);
            text.push('=');
            text.push_str(value);
        };
        if let Some(kept) = &kept {
            for (name, value) in &kept.pairs {
                let hidden = mine.iter().any(|(n, _)| n == name)
                    || own.is_some_and(|o| o.deleted.iter().any(|d| d == name));
                if !hidden {
                    add(name, value);
                }
            }
        }
        for (name, value) in &mine {
            add(name, value);
        }
        if text.is_empty() {
            return None;
        }
        HeaderValue::from_str(&text).ok()
    }

    /// Keeps the cookies of a response from `url`.
    pub fn set(&self, headers: &Headers, url: &Url) {
        let cookies: Vec<RawCookie<'static>> = headers
            .get_all("set-cookie")
            .filter_map(|v| std::str::from_utf8(v).ok())
            .filter_map(|v| RawCookie::parse(v).ok())
            .map(|c| c.into_owned())
            .collect();
        if cookies.is_empty() {
            return;
        }
        self.any.store(true, Ordering::Relaxed);
        let mut guard = self.own.write().unwrap_or_else(|e| e.into_inner());
        let own = guard.get_or_insert_with(Box::default);
        if self.kept.is_some() {
            for c in &cookies {
                let expired =
                    cookie_store::Cookie::try_from_raw_cookie(c, url).is_ok_and(|c| c.is_expired());
                let name = c.name();
                match (expired, own.deleted.iter().position(|d| d == name)) {
                    (true, None) => own.deleted.push(name.to_string()),
                    (false, Some(i)) => {
                        own.deleted.swap_remove(i);
                    }
                    _ => {}
                }
            }
        }
        own.store.store_response_cookies(cookies.into_iter(), url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(set_cookies: &[&str]) -> Headers {
        let mut map = http::HeaderMap::new();
        for c in set_cookies {
            map.append("set-cookie", HeaderValue::from_str(c).unwrap());
        }
        Headers::from_map(&map)
    }

    /// The cookies sent, in name order (a store's order is its own).
    fn header(jar: &Cookies, url: &Url) -> String {
        let text = jar
            .get(url)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let mut parts: Vec<&str> = text.split("; ").filter(|p| !p.is_empty()).collect();
        parts.sort();
        parts.join("; ")
    }

    #[test]
    fn an_iteration_adds_to_replaces_and_deletes_kept_cookies_without_changing_them() {
        let url = Url::parse("http://a.test/x").unwrap();
        let before = Cookies::default();
        before.set(&response(&["sid=s1; Path=/", "lang=en; Path=/"]), &url);
        let kept = before.keep();

        let first = Cookies::starting_with(&kept);
        assert_eq!(header(&first, &url), "lang=en; sid=s1");
        first.set(
            &response(&[
                "cart=c1; Path=/",
                "lang=fr; Path=/",
                "sid=; Path=/; Max-Age=0",
            ]),
            &url,
        );
        assert_eq!(header(&first, &url), "cart=c1; lang=fr");

        // The next iteration starts from what `before` received again.
        let next = Cookies::starting_with(&kept);
        assert_eq!(header(&next, &url), "lang=en; sid=s1");
        // A deleted cookie set again comes back.
        next.set(&response(&["sid=; Path=/; Max-Age=0"]), &url);
        next.set(&response(&["sid=s2; Path=/"]), &url);
        assert_eq!(header(&next, &url), "lang=en; sid=s2");
    }

    #[test]
    fn what_a_kept_store_sends_is_worked_out_once_per_url_and_follows_expiry() {
        let url = Url::parse("http://a.test/x?q=1").unwrap();
        let other = Url::parse("http://a.test/admin/y").unwrap();
        let before = Cookies::default();
        before.set(
            &response(&[
                "sid=s1; Path=/",
                "adm=1; Path=/admin",
                "short=1; Path=/; Max-Age=1",
            ]),
            &url,
        );
        let kept = before.keep();
        let jar = Cookies::starting_with(&kept);
        assert_eq!(header(&jar, &url), "short=1; sid=s1");
        let store = kept.store.as_ref().unwrap();
        let first = store.sent_to(&url);
        assert!(Arc::ptr_eq(
            &first,
            &store.sent_to(&Url::parse("http://a.test/x?q=2").unwrap())
        ));
        assert_eq!(header(&jar, &other), "adm=1; short=1; sid=s1");
        // `short` expires within a second or two: then it is not sent.
        assert!(first.until.is_some());
        let start = Instant::now();
        while header(&jar, &url).contains("short") {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "an expired cookie is still sent"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(header(&jar, &url), "sid=s1");
    }

    #[test]
    fn a_jar_with_no_cookie_sends_none() {
        let url = Url::parse("http://a.test/").unwrap();
        let jar = Cookies::starting_with(&Cookies::default().keep());
        assert!(jar.get(&url).is_none());
    }
}
