//! Proxies: which one a connection goes through (the link's `proxy:`,
//! else `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` from the environment,
//! read once), and the `CONNECT` tunnel through it. A proxy's user and
//! password become `Proxy-Authorization` and appear in no message.

use std::net::IpAddr;
use std::sync::OnceLock;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http::Failure;
use super::wire;
use crate::scenario::net::Proxy;

/// A proxy to connect through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub host: String,
    pub port: u16,
    /// `Basic …` from the URL's user info.
    pub auth: Option<String>,
}

impl ProxyUrl {
    pub fn parse(text: &str) -> Result<ProxyUrl, String> {
        // `HTTP_PROXY=proxy:3128` is common; it means http://.
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let shown = crate::redact::hide_userinfo(with_scheme.clone());
        let url =
            url::Url::parse(&with_scheme).map_err(|_| format!("`{shown}` is not a proxy URL"))?;
        if url.scheme() != "http" {
            return Err(format!(
                "proxy `{shown}`: a proxy is reached over `http://`, not `{}://`",
                url.scheme()
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("proxy `{shown}` has no host"))?;
        let auth = (!url.username().is_empty()).then(|| super::h1::basic_auth(&url));
        Ok(ProxyUrl {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: url.port().unwrap_or(80),
            auth,
        })
    }

    /// `host:port`, for messages (never the user or password).
    pub fn shown(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The proxies the environment names, read once per process.
#[derive(Debug, Default)]
pub struct EnvProxies {
    http: Option<Result<ProxyUrl, String>>,
    https: Option<Result<ProxyUrl, String>>,
    no_proxy: Vec<String>,
}

impl EnvProxies {
    pub fn get() -> &'static EnvProxies {
        static ENV: OnceLock<EnvProxies> = OnceLock::new();
        ENV.get_or_init(|| EnvProxies::from(|name| std::env::var(name).ok()))
    }

    /// From variables as `var` gives them; the upper-case name first.
    pub fn from(var: impl Fn(&str) -> Option<String>) -> EnvProxies {
        let read = |name: &str| {
            var(name)
                .or_else(|| var(&name.to_ascii_lowercase()))
                .filter(|v| !v.trim().is_empty())
        };
        EnvProxies {
            http: read("HTTP_PROXY").map(|v| ProxyUrl::parse(v.trim())),
            https: read("HTTPS_PROXY").map(|v| ProxyUrl::parse(v.trim())),
            no_proxy: read("NO_PROXY")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Whether `NO_PROXY` exempts `host`: `*`, the host itself, a domain
    /// it is in (`example.com` and `.example.com` both cover
    /// `api.example.com`), an IP address or an IPv4/IPv6 range
    /// (`10.0.0.0/8`). A port on an entry is ignored.
    fn exempt(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        self.no_proxy.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
                return in_range(ip, net, bits);
            }
            let entry = strip_port(entry);
            let domain = entry.trim_start_matches('.');
            host == domain || host.ends_with(&format!(".{domain}"))
        })
    }
}

fn strip_port(entry: &str) -> &str {
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => entry,
    }
}

fn in_range(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The proxy for a connection to `host` over TLS (`https`, `wss`) or not:
/// the link's own (`proxy: none` is none), else the environment's.
pub fn choose(
    own: &Option<Proxy>,
    env: &EnvProxies,
    tls: bool,
    host: &str,
) -> Result<Option<ProxyUrl>, String> {
    match own {
        Some(Proxy::None) => Ok(None),
        Some(Proxy::Url(url)) => ProxyUrl::parse(url.as_str()).map(Some),
        None => {
            let from = if tls { &env.https } else { &env.http };
            match from {
                Some(_) if env.exempt(host) => Ok(None),
                Some(Ok(p)) => Ok(Some(p.clone())),
                Some(Err(e)) => Err(format!(
                    "{}: {e}",
                    if tls { "HTTPS_PROXY" } else { "HTTP_PROXY" }
                )),
                None => Ok(None),
            }
        }
    }
}

/// Asks `proxy` (on `stream`) for a tunnel to `host:port`.
pub async fn tunnel(
    stream: &mut TcpStream,
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
) -> Result<(), Failure> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut out = format!("CONNECT {authority} HTTP/1.1\r\nhost: {authority}\r\n");
    if let Some(auth) = &proxy.auth {
        out.push_str(&format!("proxy-authorization: {auth}\r\n"));
    }
    out.push_str("\r\n");
    let failed = |what: String| Failure::Connect(format!("proxy {}: {what}", proxy.shown()));
    stream
        .write_all(out.as_bytes())
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut buf = BytesMut::with_capacity(1024);
    let head = loop {
        match wire::parse_head(&mut buf, true) {
            Ok(Some(head)) => break head,
            Ok(None) => {}
            Err(e) => return Err(failed(e)),
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) => {
                return Err(failed(
                    "closed the connection without answering CONNECT".into(),
                ))
            }
            Ok(_) => {}
            Err(e) => return Err(failed(e.to_string())),
        }
    };
    match head.status {
        200..=299 => Ok(()),
        // 407 is the standard answer; some proxies (tinyproxy) say 401.
        status @ (401 | 407) => Err(failed(format!(
            "{} ({status}): give the right user and password in the proxy URL (`http://user:password@host:port`)",
            if proxy.auth.is_some() {
                "the proxy refused the user and password"
            } else {
                "the proxy asks for a user and password"
            }
        ))),
        status => Err(failed(format!("refused the tunnel to {authority} ({status})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvProxies {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvProxies::from(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn the_environment_by_scheme_with_no_proxy_exemptions() {
        let e = env(&[
            ("https_proxy", "http://user:pw@proxy.test:3128"),
            ("HTTP_PROXY", "plain.test:8080"),
            ("NO_PROXY", "internal.test, .corp.test:443,10.0.0.0/8,::1"),
        ]);
        let https = choose(&None, &e, true, "api.example.com").unwrap().unwrap();
        assert_eq!((https.host.as_str(), https.port), ("proxy.test", 3128));
        assert_eq!(https.auth.as_deref(), Some("Basic dXNlcjpwdw=="));
        assert_eq!(https.shown(), "proxy.test:3128");
        let http = choose(&None, &e, false, "api.example.com")
            .unwrap()
            .unwrap();
        assert_eq!(
            (http.host.as_str(), http.port, http.auth),
            ("plain.test", 8080, None)
        );
        for host in [
            "internal.test",
            "a.internal.test",
            "x.corp.test",
            "10.1.2.3",
            "[::1]",
        ] {
            assert_eq!(choose(&None, &e, true, host).unwrap(), None, "{host}");
        }
        for host in ["notinternal.test", "11.0.0.1", "corp.test.evil"] {
            assert!(choose(&None, &e, true, host).unwrap().is_some(), "{host}");
        }
        // `proxy: none` ignores the environment; an own proxy wins over it.
        assert_eq!(choose(&Some(Proxy::None), &e, true, "a.b").unwrap(), None);
        let own = Proxy::Url(url::Url::parse("http://own.test:1").unwrap());
        assert_eq!(
            choose(&Some(own), &e, true, "internal.test")
                .unwrap()
                .unwrap()
                .host,
            "own.test"
        );
    }

    #[test]
    fn a_bad_environment_proxy_is_named_without_its_password() {
        let e = env(&[("HTTPS_PROXY", "socks5://u:secret@p.test:1")]);
        let err = choose(&None, &e, true, "a.test").unwrap_err();
        assert!(err.starts_with("HTTPS_PROXY: proxy `socks5://"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert_eq!(
            choose(
                &None,
                &env(&[("NO_PROXY", "*"), ("HTTPS_PROXY", "p:1")]),
                true,
                "a"
            )
            .unwrap(),
            None
        );
    }
}
