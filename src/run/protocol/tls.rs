//! TLS client settings from a test's `tls:` keys, as rustls
//! configurations: the system's root certificates plus `ca`, or any
//! certificate with `insecure` (the handshake's signatures are still
//! checked); a client certificate for mutual TLS; the lowest version; the
//! ALPN protocols the connection offers. And TLS failures in words a
//! person knows ("certificate signed by unknown authority").
//!
//! A configuration is built once per worker and link and kept: it holds
//! the session cache that lets later connections resume instead of doing a
//! full handshake.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore,
    SignatureScheme,
};

use crate::scenario::net::{Tls, TlsVersion};

/// ALPN names.
pub const H2: &[u8] = b"h2";
pub const HTTP1: &[u8] = b"http/1.1";

/// The system's root certificates, read once per process.
fn system_roots() -> &'static (Arc<RootCertStore>, usize) {
    static ROOTS: OnceLock<(Arc<RootCertStore>, usize)> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = store.add_parsable_certificates(found.certs);
        (Arc::new(store), added)
    })
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// A client configuration for `tls`, offering `alpn` (none: no ALPN).
pub fn client_config(tls: &Tls, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, String> {
    let provider = provider();
    let versions: &[&rustls::SupportedProtocolVersion] = match tls.min_version {
        Some(TlsVersion::Tls13) => &[&rustls::version::TLS13],
        _ => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = if tls.insecure == Some(true) {
        Arc::new(AcceptAnyCertificate(provider.clone()))
    } else {
        let (system, _) = system_roots();
        let roots = match &tls.ca {
            None => system.clone(),
            Some(ca) => {
                // `ca` adds to the system's roots: a private CA for the
                // test's target, public ones for everything else.
                let mut store = (**system).clone();
                for cert in ca.der.iter() {
                    store.add(cert.clone()).map_err(|e| {
                        format!(
                            "`tls.ca` {}: cannot use a certificate: {e}",
                            ca.path.display()
                        )
                    })?;
                }
                Arc::new(store)
            }
        };
        WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(cert.der.to_vec(), key.der.clone_key())
            .map_err(|e| {
                format!(
                    "`tls.client_cert` {} and `tls.client_key` {} cannot be used: {e}",
                    cert.path.display(),
                    key.path.display()
                )
            })?,
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The name a connection to `host` presents and checks the certificate
/// against: `tls.server_name` when set.
pub fn server_name(tls: &Tls, host: &str) -> Result<ServerName<'static>, String> {
    let name = tls.server_name.as_deref().unwrap_or(host);
    let name = name.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(name.to_string()).map_err(|_| format!("`{name}` is not a TLS server name"))
}

/// Whether the server refused the handshake for want of a protocol in
/// common (ALPN).
pub fn no_protocol(e: &std::io::Error) -> bool {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<Error>())
        .is_some_and(|e| {
            matches!(
                e,
                Error::AlertReceived(AlertDescription::NoApplicationProtocol)
            )
        })
}

/// Why a TLS handshake or TLS read failed, in words, when `e` is one.
pub fn explain(e: &std::io::Error) -> Option<String> {
    let inner = e.get_ref()?.downcast_ref::<Error>()?;
    Some(describe(inner))
}

fn describe(e: &Error) -> String {
    match e {
        Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                let (_, system) = system_roots();
                let hint = if *system == 0 {
                    " (this machine has no system root certificates; give the CA with `tls.ca`)"
                } else {
                    " (give the CA with `tls.ca`, or `tls.insecure: true` to accept any)"
                };
                format!("certificate signed by unknown authority{hint}")
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "certificate name mismatch: the certificate is not for this host (`tls.server_name` sets the name checked)".into()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "certificate expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate not valid yet".into()
            }
            CertificateError::Revoked => "certificate revoked".into(),
            other => {
                // rustls wraps webpki's reasons (`Other(OtherError(…))`):
                // the reason's own name is what helps.
                let text = format!("{other:?}");
                let reason = text
                    .trim_start_matches("Other(OtherError(")
                    .trim_end_matches("))");
                match reason {
                    "CaUsedAsEndEntity" => "invalid certificate: the server presents a CA certificate as its own (it must present one its CA issued)".into(),
                    "UnsupportedSignatureAlgorithm" | "UnsupportedSignatureAlgorithmForPublicKey" => {
                        format!("invalid certificate: its signature algorithm is not supported ({reason})")
                    }
                    _ => format!("invalid certificate ({reason})"),
                }
            }
        },
        Error::AlertReceived(AlertDescription::ProtocolVersion) => {
            "the server does not speak the TLS versions allowed (`tls.min_version`)".into()
        }
        Error::AlertReceived(AlertDescription::CertificateRequired)
        | Error::AlertReceived(AlertDescription::BadCertificate)
        | Error::AlertReceived(AlertDescription::UnknownCA) => format!(
            "the server refused the client certificate ({:?}): it asks for one it trusts (`tls.client_cert`, `tls.client_key`)",
            alert_of(e)
        ),
        Error::AlertReceived(AlertDescription::HandshakeFailure) => {
            "handshake failure: no TLS version or cipher in common, or a client certificate is required".into()
        }
        Error::PeerIncompatible(p) => format!("the server's TLS is incompatible: {p:?}"),
        other => other.to_string(),
    }
}

fn alert_of(e: &Error) -> String {
    match e {
        Error::AlertReceived(a) => format!("{a:?}"),
        _ => String::new(),
    }
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
