//! A connection to a target, as the HTTP/1.1, HTTP/2 and WebSocket clients
//! read and write it: plain TCP or TLS over it, made directly or through a
//! proxy (a `CONNECT` tunnel for TLS, WebSocket and cleartext HTTP/2;
//! plain HTTP/1.1 requests go to the proxy itself, in absolute form).
//!
//! Each worker keeps, per link, the TLS configuration (built on the first
//! TLS connection, then reused, with its session cache) and the proxy.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_util::FutureExt;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use url::Host;

use super::http::Failure;
use super::proxy::{self, EnvProxies, ProxyUrl};
use super::tls;
use crate::plan::Link;
use crate::scenario::net::HttpVersion;

pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// Whether the TLS server chose HTTP/2.
    pub fn h2(&self) -> bool {
        match self {
            Stream::Tls(s) => s.get_ref().1.alpn_protocol() == Some(tls::H2),
            Stream::Plain(_) => false,
        }
    }

    /// Whether the server has closed (or written to) this idle connection.
    /// Costs no system call unless the socket has had an event since the
    /// last read (tokio clears its readiness when a read comes back short,
    /// as the end of a response does). Over TLS, records that are not data
    /// (a session ticket) are taken in and do not count.
    pub fn closed_while_idle(&mut self) -> bool {
        let mut probe = [0u8; 1];
        match self {
            Stream::Plain(s) => {
                !matches!(s.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
            Stream::Tls(s) => s.read(&mut probe).now_or_never().is_some(),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// What one worker keeps for each link of the plan.
pub struct Links {
    links: Vec<LinkState>,
    env: &'static EnvProxies,
}

struct LinkState {
    link: Link,
    /// Offering the protocols the link's HTTP version allows.
    http: OnceLock<Result<Arc<ClientConfig>, String>>,
    /// Offering HTTP/1.1 only (WebSocket handshakes).
    http1: OnceLock<Result<Arc<ClientConfig>, String>>,
}

/// Which protocols a connection is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Purpose {
    /// HTTP requests, as the link's `http_version` says.
    Http,
    /// A WebSocket handshake: HTTP/1.1 only.
    WebSocket,
}

/// A connection made, and how requests go on it.
pub struct Connected {
    pub stream: Stream,
    /// Plain HTTP/1.1 through a proxy: requests in absolute form, with
    /// this `Proxy-Authorization` (if any).
    pub via_proxy: Option<Option<String>>,
}

impl Links {
    pub fn new(links: &[Link]) -> Links {
        Links {
            links: links
                .iter()
                .map(|l| LinkState {
                    link: l.clone(),
                    http: OnceLock::new(),
                    http1: OnceLock::new(),
                })
                .collect(),
            env: EnvProxies::get(),
        }
    }

    pub fn version(&self, link: usize) -> HttpVersion {
        self.links[link].link.http_version
    }

    fn config(&self, link: usize, purpose: Purpose) -> Result<Arc<ClientConfig>, Failure> {
        let state = &self.links[link];
        let (cell, alpn): (_, &[&[u8]]) = match (purpose, state.link.http_version) {
            (Purpose::WebSocket, _) | (_, HttpVersion::Http1) | (_, HttpVersion::H2c) => {
                (&state.http1, &[tls::HTTP1])
            }
            (Purpose::Http, HttpVersion::Auto) => (&state.http, &[tls::H2, tls::HTTP1]),
            (Purpose::Http, HttpVersion::Http2) => (&state.http, &[tls::H2]),
        };
        cell.get_or_init(|| tls::client_config(&state.link.tls, alpn))
            .clone()
            .map_err(Failure::Connect)
    }

    /// Connects to `host:port`, over TLS when `secure`.
    pub async fn connect(
        &self,
        link: usize,
        host: &Host<&str>,
        port: u16,
        secure: bool,
        purpose: Purpose,
    ) -> Result<Connected, Failure> {
        let state = &self.links[link];
        let name = match host {
            Host::Domain(d) => d.to_string(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        let proxy =
            proxy::choose(&state.link.proxy, self.env, secure, &name).map_err(Failure::Connect)?;
        let tunnel =
            secure || purpose == Purpose::WebSocket || state.link.http_version == HttpVersion::H2c;
        let mut tcp = match &proxy {
            Some(p) => tcp(&Host::Domain(p.host.as_str()), p.port)
                .await
                .map_err(|e| Failure::Connect(format!("proxy {}: {e}", p.shown())))?,
            None => tcp(host, port)
                .await
                .map_err(|e| Failure::Connect(e.to_string()))?,
        };
        let via_proxy = match &proxy {
            Some(p) if tunnel => {
                proxy::tunnel(&mut tcp, p, &name, port).await?;
                None
            }
            Some(ProxyUrl { auth, .. }) => Some(auth.clone()),
            None => None,
        };
        if !secure {
            return Ok(Connected {
                stream: Stream::Plain(tcp),
                via_proxy,
            });
        }
        let config = self.config(link, purpose)?;
        let h2_only = config.alpn_protocols == [tls::H2.to_vec()];
        let server = tls::server_name(&state.link.tls, &name).map_err(Failure::Connect)?;
        let shown = server.to_str().into_owned();
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(server, tcp)
            .await
            .map_err(|e| {
                let why = match tls::explain(&e) {
                    Some(_) if h2_only && tls::no_protocol(&e) => {
                        "the server does not offer HTTP/2 (`http_version: http2`); `auto` would use HTTP/1.1".to_string()
                    }
                    Some(why) => why,
                    None => e.to_string(),
                };
                Failure::Connect(format!("TLS with {shown}: {why}"))
            })?;
        Ok(Connected {
            stream: Stream::Tls(Box::new(stream)),
            via_proxy: None,
        })
    }
}

async fn tcp(host: &Host<&str>, port: u16) -> io::Result<TcpStream> {
    let stream = match host {
        Host::Ipv4(ip) => TcpStream::connect((*ip, port)).await,
        Host::Ipv6(ip) => TcpStream::connect((*ip, port)).await,
        Host::Domain(name) => TcpStream::connect((*name, port)).await,
    }?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}
