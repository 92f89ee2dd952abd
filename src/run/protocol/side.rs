//! Requests trek makes beside the load: remote write pushes and the scrapes
//! of `monitor:` endpoints. They go through trek's own client on
//! connections of their own (never a virtual user's), with the
//! environment's proxies and the system's certificates; a URL's user
//! information becomes basic authentication and is never shown.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use http::Method;
use url::Url;

use super::http::{send, Conns, Cookies, Request, Response, Transport};
use super::stream::Links;
use crate::plan::Link;
use crate::scenario::net::HttpVersion;

/// A client of its own.
pub struct SideClient {
    links: Links,
    conns: Arc<Conns>,
    jar: Cookies,
}

impl Default for SideClient {
    fn default() -> Self {
        Self::new()
    }
}

impl SideClient {
    pub fn new() -> Self {
        let link = Link {
            tls: Default::default(),
            http_version: HttpVersion::Http1,
            proxy: None,
        };
        Self {
            links: Links::new(&[link]),
            conns: Arc::new(Conns::default()),
            jar: Cookies::default(),
        }
    }

    /// Sends one request and reads at most `max_body` of the answer; the
    /// error is shown without the URL's user information.
    pub async fn request(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Response, String> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(*k), HeaderValue::try_from(*v)) {
                map.insert(k, v);
            }
        }
        let mut url = url.clone();
        if !url.username().is_empty() {
            let user = percent_encoding::percent_decode_str(url.username()).decode_utf8_lossy();
            let pass = url
                .password()
                .map(|p| {
                    percent_encoding::percent_decode_str(p)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .unwrap_or_default();
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            if let Ok(mut v) = HeaderValue::try_from(format!("Basic {token}")) {
                v.set_sensitive(true);
                map.insert(AUTHORIZATION, v);
            }
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        let req = Request {
            link: 0,
            method,
            url,
            headers: map,
            body: body.map(Into::into),
            timeout,
            follow_redirects: true,
            compressed: false,
            max_body,
        };
        let via = Transport {
            links: &self.links,
            conns: &self.conns,
            jar: &self.jar,
        };
        send(via, req).await.map_err(|f| f.reason())
    }
}
