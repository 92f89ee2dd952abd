//! Schemas of the connection keys (`tls`, `http_version`, `proxy`,
//! `max_body`, `discard_body`) and of the bodies read from files
//! (`multipart` parts). The reader is `crate::scenario::net`.

#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::values::*;

/// A number of bytes, or one with a unit counted in 1024s.
const SIZE_PATTERN: &str = r"^\s*(\d+(\.\d*)?|\.\d+)\s*([bB]|[kKmMgG]([iI]?[bB])?)?\s*$";

/// A host name (its last label not all digits) or an IP address.
const SERVER_NAME_PATTERN: &str = r"^(([A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?\.)*([A-Za-z]|[A-Za-z0-9][A-Za-z0-9_-]*[A-Za-z]|[A-Za-z][A-Za-z0-9_-]*[A-Za-z0-9]|[A-Za-z0-9][0-9_-]*[A-Za-z][A-Za-z0-9_-]*[A-Za-z0-9])\.?|\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)$";

/// A name for TLS: a host name or an IP address.
pub struct ServerName;

impl JsonSchema for ServerName {
    fn schema_name() -> Cow<'static, str> {
        "ServerName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A host name (`api.staging.test`) or an IP address.",
            "type": "string",
            "pattern": SERVER_NAME_PATTERN,
            "examples": ["api.staging.test"]
        })
    }
}

/// `1MB`, `512KB`, `100`.
pub struct Size;

impl JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: a number of bytes, or a number with a unit counted in 1024s: `B`, `KB`, `MB`, `GB` (`KiB`, `MiB`, `GiB` alike), e.g. `64KB`, `1MB`. At most 1 TB.",
            "type": ["string", "number"],
            "pattern": SIZE_PATTERN,
            "minimum": 0,
            "examples": ["1MB"]
        })
    }
}

/// `http://[user:password@]host:port`, or `none`.
pub struct ProxySetting;

impl JsonSchema for ProxySetting {
    fn schema_name() -> Cow<'static, str> {
        "Proxy".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The proxy requests go through: `http://host:port` (with `user:password@` when it asks), or `none` to ignore HTTPS_PROXY, HTTP_PROXY and NO_PROXY.",
            "type": "string",
            "pattern": "^(none|http://[^/?#]+/?)$",
            "examples": ["http://proxy.corp.test:3128"]
        })
    }
}

/// The lowest TLS version allowed.
pub struct TlsVersion;

impl JsonSchema for TlsVersion {
    fn schema_name() -> Cow<'static, str> {
        "TlsVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The lowest TLS version allowed: \"1.2\" or \"1.3\".",
            "enum": ["1.2", "1.3", 1.2, 1.3],
            "examples": ["1.3"]
        })
    }
}

/// Which HTTP a request speaks.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[schemars(example = &"auto")]
pub enum HttpVersion {
    /// HTTP/2 when a TLS server offers it (ALPN), HTTP/1.1 otherwise.
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 over TLS.
    Http2,
    /// Cleartext HTTP/2 with prior knowledge.
    H2c,
}

/// TLS settings, for https:// and wss://.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = tls_example())]
#[schemars(extend("dependentRequired" = { "client_cert": ["client_key"], "client_key": ["client_cert"] }))]
pub struct Tls {
    /// Accept any server certificate (the handshake is still checked).
    #[schemars(extend("default" = false), example = true)]
    insecure: Option<bool>,
    /// A PEM file of CA certificates trusted besides the system's.
    #[schemars(example = &"certs/staging-ca.pem")]
    ca: Option<Text>,
    /// The client certificate (PEM) for servers that ask for one; needs
    /// `client_key`.
    #[schemars(example = &"certs/client.pem")]
    client_cert: Option<Text>,
    /// The client certificate's private key (PEM).
    #[schemars(example = &"certs/client.key")]
    client_key: Option<Text>,
    /// The name sent (SNI) and checked against the certificate, instead of
    /// the URL's host.
    server_name: Option<ServerName>,
    /// The lowest TLS version allowed.
    #[schemars(extend("default" = "1.2"))]
    min_version: Option<TlsVersion>,
}

fn tls_example() -> serde_json::Value {
    serde_json::json!({ "ca": "certs/staging-ca.pem" })
}

/// A file sent as a part of a `multipart` body.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = file_part_example())]
pub struct FilePart {
    /// The file, relative to the scenario file.
    file: Text,
    /// Default: from the file's extension, else `application/octet-stream`.
    #[schemars(example = &"image/jpeg")]
    content_type: Option<Text>,
    /// The file name sent. Default: the file's own.
    #[schemars(example = &"meal.jpg")]
    filename: Option<Text>,
}

fn file_part_example() -> serde_json::Value {
    serde_json::json!({ "file": "fixtures/meal.jpg", "content_type": "image/jpeg" })
}

/// A text field (template) or a file.
#[derive(JsonSchema)]
#[schemars(untagged)]
pub enum PartValue {
    Field(Template),
    File(FilePart),
}

/// `multipart/form-data` fields and files, by field name.
pub type Multipart = BTreeMap<String, PartValue>;
