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
//! response has set one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use cookie_store::{CookieStore, RawCookie};
use http::header::HeaderValue;
use url::Url;

use super::headers::Headers;

/// The cookies of one part of a user's life (an iteration, `before`,
/// `after`).
#[derive(Default)]
pub struct Cookies {
    /// What `before` received (`None`: nothing).
    kept: Option<Arc<CookieStore>>,
    own: RwLock<Own>,
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
    store: Option<Arc<CookieStore>>,
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
            store: Some(Arc::new(std::mem::take(&mut own.store))),
        }
    }

    /// The `Cookie` header for a request to `url`.
    pub fn get(&self, url: &Url) -> Option<HeaderValue> {
        let any_own = self.any.load(Ordering::Relaxed);
        if !any_own && self.kept.is_none() {
            return None;
        }
        let own = any_own.then(|| self.own.read().unwrap_or_else(|e| e.into_inner()));
        let mine: Vec<(&str, &str)> = match &own {
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
        if let Some(kept) = &self.kept {
            for (name, value) in kept.get_request_values(url) {
                let hidden = mine.iter().any(|(n, _)| *n == name)
                    || own
                        .as_ref()
                        .is_some_and(|o| o.deleted.iter().any(|d| d == name));
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
        let mut own = self.own.write().unwrap_or_else(|e| e.into_inner());
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

    fn header(jar: &Cookies, url: &Url) -> String {
        jar.get(url)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn an_iteration_adds_to_replaces_and_deletes_kept_cookies_without_changing_them() {
        let url = Url::parse("http://a.test/x").unwrap();
        let before = Cookies::default();
        before.set(&response(&["sid=s1; Path=/", "lang=en; Path=/"]), &url);
        let kept = before.keep();

        let first = Cookies::starting_with(&kept);
        assert_eq!(header(&first, &url), "sid=s1; lang=en");
        first.set(
            &response(&[
                "cart=c1; Path=/",
                "lang=fr; Path=/",
                "sid=; Path=/; Max-Age=0",
            ]),
            &url,
        );
        let sent = header(&first, &url);
        let mut parts: Vec<&str> = sent.split("; ").collect();
        parts.sort();
        assert_eq!(parts, ["cart=c1", "lang=fr"]);

        // The next iteration starts from what `before` received again.
        let next = Cookies::starting_with(&kept);
        assert_eq!(header(&next, &url), "sid=s1; lang=en");
        // A deleted cookie set again comes back.
        next.set(&response(&["sid=; Path=/; Max-Age=0"]), &url);
        next.set(&response(&["sid=s2; Path=/"]), &url);
        assert_eq!(header(&next, &url), "lang=en; sid=s2");
    }

    #[test]
    fn a_jar_with_no_cookie_sends_none() {
        let url = Url::parse("http://a.test/").unwrap();
        let jar = Cookies::starting_with(&Cookies::default().keep());
        assert!(jar.get(&url).is_none());
    }
}
