//! Certificates made by the tests (a private CA, server certificates signed
//! by it, a client certificate), written as PEM files a scenario names, and
//! a TLS server on 127.0.0.1 that answers HTTP/1.1 requests, HTTP/2
//! requests or WebSocket handshakes with them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A private CA and what it signed; the PEM files are in the scratch
/// folder given to [`Pki::new`].
pub struct Pki {
    ca: Issuer<'static, KeyPair>,
    pub ca_der: CertificateDer<'static>,
    /// `ca.pem`, `client.pem`, `client.key`.
    pub ca_pem: PathBuf,
    pub client_pem: PathBuf,
    pub client_key: PathBuf,
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A server's certificate and key.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Identity {
    /// The certificate chain and the key as PEM text (for nginx).
    pub fn pem(&self) -> (String, String) {
        let chain: String = self.chain.iter().map(|c| pem("CERTIFICATE", c)).collect();
        (chain, pem("PRIVATE KEY", self.key.secret_der()))
    }
}

impl Pki {
    pub fn new(dir: &std::path::Path) -> Pki {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "trek test CA");
        let cert = params.self_signed(&key).unwrap();
        let ca = Issuer::new(params, key);
        let ca_pem = dir.join("ca.pem");
        std::fs::write(&ca_pem, pem("CERTIFICATE", cert.der())).unwrap();

        let client_key_pair = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "trek test client");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = params.signed_by(&client_key_pair, &ca).unwrap();
        let client_pem = dir.join("client.pem");
        let client_key = dir.join("client.key");
        std::fs::write(&client_pem, pem("CERTIFICATE", client.der())).unwrap();
        std::fs::write(
            &client_key,
            pem("PRIVATE KEY", &client_key_pair.serialize_der()),
        )
        .unwrap();
        Pki {
            ca,
            ca_der: cert.der().clone(),
            ca_pem,
            client_pem,
            client_key,
        }
    }

    /// A server certificate for `names`, signed by the CA; `expired`: its
    /// validity ended in 2021.
    pub fn server(&self, names: &[&str], expired: bool) -> Identity {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.ca).unwrap();
        Identity {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        }
    }
}

/// How a test server speaks TLS.
pub struct ServerTls {
    pub identity: Identity,
    /// Ask for a client certificate signed by this CA, and refuse without.
    pub client_ca: Option<CertificateDer<'static>>,
    /// TLS 1.2 only.
    pub tls12_only: bool,
    /// Answer WebSocket handshakes (and send `hello`) instead of requests.
    pub websocket: bool,
}

/// The TLS handshakes a test server completed.
#[derive(Default)]
pub struct Handshakes {
    pub full: AtomicUsize,
    /// Those that resumed an earlier session.
    pub resumed: AtomicUsize,
}

impl Handshakes {
    pub fn total(&self) -> usize {
        self.full.load(Ordering::SeqCst) + self.resumed.load(Ordering::SeqCst)
    }
}

/// A TLS server on 127.0.0.1 that answers every HTTP/1.1 request with 200
/// and `hello` (keep-alive), or with `websocket` takes a WebSocket
/// handshake and sends the message `hello`. Returns its port and the TLS
/// handshakes it completed. Runs until the test process ends.
pub fn https_server(tls: ServerTls) -> (u16, Arc<Handshakes>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if tls.tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap();
    let builder = match tls.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(tls.identity.chain, tls.identity.key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handshakes = Arc::new(Handshakes::default());
    let websocket = tls.websocket;
    let count = handshakes.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let count = count.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let counter = match tls.get_ref().1.handshake_kind() {
                        Some(rustls::HandshakeKind::Resumed) => &count.resumed,
                        _ => &count.full,
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                    if websocket {
                        use futures_util::{SinkExt, StreamExt};
                        use tokio_tungstenite::tungstenite::Message;
                        let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
                            return;
                        };
                        if ws.send(Message::text("hello")).await.is_ok() {
                            while let Some(Ok(_)) = ws.next().await {}
                        }
                        return;
                    }
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
                            if tls.write_all(reply).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
    });
    (port, handshakes)
}
