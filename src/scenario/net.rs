//! Reads how requests reach their target and what they carry from disk:
//! the connection settings of `defaults` and of a step (`tls`,
//! `http_version`, `proxy`, `max_body`, `discard_body`) and the files a
//! request sends (`body_file`, `multipart` parts). Every file is found and
//! checked here, at load time, relative to the file that names it:
//! certificates and keys are read and parsed, bodies only looked at (they
//! are streamed from disk when sent).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::diagnostic::Span;
use crate::scenario::model::Text;
use crate::scenario::reader::{code, list, MapView, Reader};
use crate::scenario::units;
use crate::scenario::yaml::{Node, Value};

/// The connection keys `defaults` and request steps may carry.
pub const NET_KEYS: [&str; 5] = ["tls", "http_version", "proxy", "max_body", "discard_body"];
pub const TLS_KEYS: [&str; 6] = [
    "insecure",
    "ca",
    "client_cert",
    "client_key",
    "server_name",
    "min_version",
];
pub const HTTP_VERSIONS: [(&str, HttpVersion); 4] = [
    ("auto", HttpVersion::Auto),
    ("http1", HttpVersion::Http1),
    ("http2", HttpVersion::Http2),
    ("h2c", HttpVersion::H2c),
];
pub const TLS_VERSIONS: [(&str, TlsVersion); 2] =
    [("1.2", TlsVersion::Tls12), ("1.3", TlsVersion::Tls13)];
/// The keys of a file part of `multipart`.
pub const PART_KEYS: [&str; 3] = ["file", "content_type", "filename"];

/// The most a certificate or key file may hold.
const MAX_PEM: u64 = 1 << 20;

/// How much of a response is kept when nothing says otherwise.
pub const DEFAULT_MAX_BODY: u64 = 1 << 20;

/// Connection settings; a step's keys override the defaults' one by one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Net {
    pub tls: Tls,
    pub http_version: Option<HttpVersion>,
    pub proxy: Option<Proxy>,
    pub max_body: Option<u64>,
    pub discard_body: Option<bool>,
}

impl Net {
    /// These settings, with `base`'s where these say nothing.
    pub fn over(&self, base: &Net) -> Net {
        Net {
            tls: self.tls.over(&base.tls),
            http_version: self.http_version.or(base.http_version),
            proxy: self.proxy.clone().or_else(|| base.proxy.clone()),
            max_body: self.max_body.or(base.max_body),
            discard_body: self.discard_body.or(base.discard_body),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Net::default()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tls {
    pub insecure: Option<bool>,
    pub ca: Option<Certs>,
    pub client_cert: Option<Certs>,
    pub client_key: Option<Key>,
    pub server_name: Option<String>,
    pub min_version: Option<TlsVersion>,
}

impl Tls {
    fn over(&self, base: &Tls) -> Tls {
        Tls {
            insecure: self.insecure.or(base.insecure),
            ca: self.ca.clone().or_else(|| base.ca.clone()),
            client_cert: self
                .client_cert
                .clone()
                .or_else(|| base.client_cert.clone()),
            client_key: self.client_key.clone().or_else(|| base.client_key.clone()),
            server_name: self
                .server_name
                .clone()
                .or_else(|| base.server_name.clone()),
            min_version: self.min_version.or(base.min_version),
        }
    }
}

/// Certificates read from a PEM file.
#[derive(Debug, Clone)]
pub struct Certs {
    pub path: PathBuf,
    pub der: Arc<Vec<CertificateDer<'static>>>,
}

impl PartialEq for Certs {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

/// A private key read from a PEM file.
#[derive(Debug, Clone)]
pub struct Key {
    pub path: PathBuf,
    pub der: Arc<PrivateKeyDer<'static>>,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    /// HTTP/2 when the TLS server offers it, HTTP/1.1 otherwise.
    Auto,
    Http1,
    /// HTTP/2 over TLS.
    Http2,
    /// Cleartext HTTP/2 with prior knowledge.
    H2c,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Proxy {
    /// `proxy: none`: no proxy, whatever the environment says.
    None,
    /// `http://[user:password@]host:port`.
    Url(url::Url),
}

/// A file a request sends, as the test names it.
#[derive(Debug, Clone)]
pub struct BodyFile {
    /// Where it is, relative to the scenario file's folder already.
    pub path: PathBuf,
    pub span: Span,
}

/// One part of a `multipart:` body.
#[derive(Debug, Clone)]
pub enum Part {
    Text(Text),
    File {
        file: BodyFile,
        content_type: Option<String>,
        filename: Option<String>,
    },
}

/// The folder a file named in `source_path` is relative to.
fn folder_of(source_path: &Path) -> &Path {
    source_path.parent().unwrap_or(Path::new("."))
}

/// Reads the connection keys of a map (`defaults` or a step).
pub fn read_net(r: &mut Reader, m: &MapView) -> Net {
    let get = |k: &str| m.get(k);
    let mut net = Net::default();
    if let Some(n) = get("tls") {
        net.tls = read_tls(r, n);
    }
    if let Some(n) = get("http_version") {
        net.http_version = one_of(r, n, "`http_version`", &HTTP_VERSIONS, "");
    }
    if let Some(n) = get("proxy") {
        net.proxy = read_proxy(r, n);
    }
    if let Some(n) = get("max_body") {
        net.max_body = r.unit(n, "`max_body`", units::parse_size);
    }
    if let Some(n) = get("discard_body") {
        net.discard_body = r.boolean(n, "`discard_body`");
    }
    net
}

fn one_of<T: Copy>(
    r: &mut Reader,
    node: &Node,
    what: &str,
    choices: &[(&str, T)],
    help: &str,
) -> Option<T> {
    let text = node.scalar_text();
    if let Some((_, v)) = choices.iter().find(|(k, _)| Some(*k) == text.as_deref()) {
        return Some(*v);
    }
    let names: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
    let message = format!("{what} must be {}", list(&names));
    if help.is_empty() {
        r.error(code::BAD_VALUE, node.span, message);
    } else {
        r.error_help(code::BAD_VALUE, node.span, message, help);
    }
    None
}

fn read_tls(r: &mut Reader, node: &Node) -> Tls {
    let mut tls = Tls::default();
    let Some(m) = r.map(node, "`tls`", &TLS_KEYS) else {
        return tls;
    };
    if let Some(n) = m.get("insecure") {
        tls.insecure = r.boolean(n, "`tls.insecure`");
    }
    if let Some(n) = m.get("ca") {
        tls.ca = read_certs(r, n, "`tls.ca`");
    }
    if let Some(n) = m.get("client_cert") {
        tls.client_cert = read_certs(r, n, "`tls.client_cert`");
    }
    if let Some(n) = m.get("client_key") {
        tls.client_key = read_key(r, n);
    }
    match (m.get("client_cert"), m.get("client_key")) {
        (Some(c), None) => r.error_help(
            code::MISSING_KEY,
            c.span,
            "`client_cert` needs `client_key` beside it",
            "add `client_key: PATH` (the certificate's private key, PEM)",
        ),
        (None, Some(k)) => r.error_help(
            code::MISSING_KEY,
            k.span,
            "`client_key` needs `client_cert` beside it",
            "add `client_cert: PATH` (the client certificate, PEM)",
        ),
        _ => {}
    }
    if let Some(n) = m.get("server_name") {
        let name = match &n.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                r.wrong_type(n, "`tls.server_name`", "a host name or an IP address");
                None
            }
        };
        tls.server_name = name.filter(|name| {
            let ok = rustls::pki_types::ServerName::try_from(name.as_str()).is_ok();
            if !ok {
                r.error(
                    code::BAD_VALUE,
                    n.span,
                    format!("`{name}` is not a host name or an IP address"),
                );
            }
            ok
        });
    }
    if let Some(n) = m.get("min_version") {
        tls.min_version = one_of(
            r,
            n,
            "`tls.min_version`",
            &TLS_VERSIONS,
            "write it in quotes: `min_version: \"1.3\"`",
        );
    }
    tls
}

/// The text of a file, refused when it is missing or larger than `limit`.
fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use crate::scenario::files::{read_bytes, FileError};
    read_bytes(path, limit).map_err(|e| match e {
        FileError::Io(e) => format!("cannot be read: {e}"),
        FileError::TooLarge(_) => format!("is larger than {} KB", limit >> 10),
        e => e.to_string(),
    })
}

/// The path a key names, noted as a file the test uses.
fn file_path(r: &mut Reader, node: &Node, what: &str) -> Option<PathBuf> {
    let rel = r.string(node, what)?;
    let path = folder_of(&r.source.path).join(rel);
    r.uses(&path, what == "`tls.client_key`");
    Some(path)
}

fn file_error(r: &mut Reader, node: &Node, path: &Path, what: &str, problem: String) {
    let written = node.scalar_text().unwrap_or_default();
    r.error_help(
        code::NET_FILE,
        node.span,
        format!("{what} `{written}` {problem}"),
        format!(
            "paths are relative to the folder of the scenario file; trek looked for `{}`",
            path.display()
        ),
    );
}

fn read_certs(r: &mut Reader, node: &Node, what: &str) -> Option<Certs> {
    let path = file_path(r, node, what)?;
    let parsed = read_small(&path, MAX_PEM).and_then(|bytes| {
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("is not a PEM certificate file: {e}"))?;
        if certs.is_empty() {
            return Err("holds no certificate (`-----BEGIN CERTIFICATE-----`)".into());
        }
        Ok(certs)
    });
    match parsed {
        Ok(der) => Some(Certs {
            path,
            der: Arc::new(der),
        }),
        Err(problem) => {
            file_error(r, node, &path, what, problem);
            None
        }
    }
}

fn read_key(r: &mut Reader, node: &Node) -> Option<Key> {
    let what = "`tls.client_key`";
    let path = file_path(r, node, what)?;
    let parsed = read_small(&path, MAX_PEM).and_then(|bytes| {
        PrivateKeyDer::from_pem_slice(&bytes)
            .map_err(|e| format!("holds no private key (PKCS#8, PKCS#1 or SEC1, in PEM): {e}"))
    });
    match parsed {
        Ok(der) => Some(Key {
            path,
            der: Arc::new(der),
        }),
        Err(problem) => {
            file_error(r, node, &path, what, problem);
            None
        }
    }
}

fn read_proxy(r: &mut Reader, node: &Node) -> Option<Proxy> {
    let text = r.string(node, "`proxy`")?;
    if text == "none" {
        return Some(Proxy::None);
    }
    let help = "write `proxy: http://host:port` (with `user:password@` when the proxy asks), or `proxy: none`";
    match url::Url::parse(&text) {
        Ok(u) if u.scheme() == "http" && u.host().is_some() && u.path() == "/" => {
            Some(Proxy::Url(u))
        }
        Ok(u) if u.scheme() != "http" => {
            r.error_help(
                code::BAD_VALUE,
                node.span,
                format!("a proxy is reached over `http://`, not `{}://`", u.scheme()),
                help,
            );
            None
        }
        _ => {
            let shown = crate::redact::hide_userinfo(text.clone());
            r.error_help(
                code::BAD_VALUE,
                node.span,
                format!("`{shown}` is not a proxy URL"),
                help,
            );
            None
        }
    }
}

/// Checks that a file to send is there and is a file.
pub fn read_body_file(r: &mut Reader, node: &Node, what: &str) -> Option<BodyFile> {
    let path = file_path(r, node, what)?;
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => Some(BodyFile {
            path,
            span: node.span,
        }),
        Ok(_) => {
            file_error(r, node, &path, what, "is not a file".into());
            None
        }
        Err(e) => {
            file_error(r, node, &path, what, format!("cannot be read: {e}"));
            None
        }
    }
}

/// `multipart:`: field name → a template (a text field) or a file part.
pub fn read_multipart(r: &mut Reader, node: &Node) -> Vec<(String, Part)> {
    let mut parts = Vec::new();
    for (name, v, _) in r.free_map(node, "`multipart`") {
        let part = match &v.value {
            Value::Map(_) => {
                let what = format!("part `{name}` of `multipart`");
                let Some(m) = r.map(v, &what, &PART_KEYS) else {
                    continue;
                };
                let Some(f) = m.get("file") else {
                    r.error_help(
                        code::MISSING_KEY,
                        v.span,
                        format!("{what} needs `file: PATH`"),
                        "a text field is a plain value: `name: \"{{ fake.name() }}\"`",
                    );
                    continue;
                };
                let file = read_body_file(r, f, "`file`");
                let content_type = m
                    .get("content_type")
                    .and_then(|n| r.string(n, "`content_type`"));
                let filename = m.get("filename").and_then(|n| r.string(n, "`filename`"));
                let Some(file) = file else {
                    continue;
                };
                Part::File {
                    file,
                    content_type,
                    filename,
                }
            }
            _ => match r.text(v, &format!("`{name}` in `multipart`")) {
                Some(t) => Part::Text(t),
                None => continue,
            },
        };
        parts.push((name, part));
    }
    parts
}
