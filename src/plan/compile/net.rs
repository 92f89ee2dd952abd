//! Connection settings: a step's `tls`, `http_version`, `proxy`,
//! `max_body` and `discard_body` over `defaults`', each distinct
//! combination of the first three made a [`Link`] once; and the files a
//! request sends.

use super::*;
use crate::scenario::net::{self as n, HttpVersion, DEFAULT_MAX_BODY};

impl Compile<'_, '_, '_> {
    /// The link of a step whose own settings are `own`, and how much of a
    /// response it keeps: of a body (0 with `discard_body`), and of an SSE
    /// event or a WebSocket message (which `discard_body` does not change).
    pub(super) fn link(&mut self, own: &n::Net) -> (usize, usize, usize) {
        let net = own.over(&self.test.defaults.net);
        let link = Link {
            tls: net.tls,
            http_version: net.http_version.unwrap_or(HttpVersion::Auto),
            proxy: net.proxy,
        };
        let at = match self.links.iter().position(|l| *l == link) {
            Some(at) => at,
            None => {
                self.links.push(link);
                self.links.len() - 1
            }
        };
        let max = net
            .max_body
            .unwrap_or(DEFAULT_MAX_BODY)
            .min(usize::MAX as u64) as usize;
        let keep = match net.discard_body {
            Some(true) => 0,
            _ => max,
        };
        (at, keep, max)
    }

    /// The link `defaults` make: the first, so that a plan always has one.
    pub(super) fn default_link(&mut self) {
        self.link(&n::Net::default());
    }

    /// A step whose URL is written out asks for HTTP/2 the way its scheme
    /// allows: `http2` is over TLS, `h2c` over plain TCP.
    pub(super) fn check_version(&mut self, link: usize, url: &url::Url, span: Span) {
        let (version, scheme) = (self.links[link].http_version, url.scheme());
        let problem = match (version, scheme) {
            (HttpVersion::Http2, "http") => Some((
                "`http_version: http2` is HTTP/2 over TLS, but this URL is `http://`",
                "for cleartext HTTP/2 write `http_version: h2c`",
            )),
            (HttpVersion::H2c, "https") => Some((
                "`http_version: h2c` is cleartext HTTP/2, but this URL is `https://`",
                "over TLS write `http_version: http2` (or `auto`, which asks the server)",
            )),
            _ => None,
        };
        if let Some((message, help)) = problem {
            self.r.error_help(code::CONFLICT, span, message, help);
        }
    }

    pub(super) fn multipart(&mut self, parts: &[(String, n::Part)]) -> Option<Vec<(String, Part)>> {
        let mut out = Vec::new();
        for (name, part) in parts {
            out.push((
                name.clone(),
                match part {
                    n::Part::Text(t) => Part::Text(self.string(t)?),
                    n::Part::File {
                        file,
                        content_type,
                        filename,
                    } => Part::File {
                        path: file.path.as_path().into(),
                        content_type: content_type
                            .clone()
                            .unwrap_or_else(|| guess_type(&file.path).to_string()),
                        filename: filename.clone().unwrap_or_else(|| {
                            file.path
                                .file_name()
                                .map(|f| f.to_string_lossy().into_owned())
                                .unwrap_or_default()
                        }),
                    },
                },
            ));
        }
        Some(out)
    }
}

/// The content type of a file sent that names none, from its extension.
pub fn guess_type(path: &std::path::Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "json" => "application/json",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp4" => "video/mp4",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors, http};
    use super::*;

    #[test]
    fn a_step_overrides_the_defaults_key_by_key_and_same_settings_share_a_link() {
        let plan = compiled(
            "version: 1\nbase_url: https://a.test\ndefaults: { tls: { server_name: a.test, min_version: \"1.3\" }, max_body: 64KB }\nsteps:\n  - get: /one\n  - { get: /two, tls: { insecure: true } }\n  - { get: /three, tls: { insecure: true }, discard_body: true }\n  - { get: /four, http_version: http1 }\n",
        )
        .unwrap();
        let (one, two, three, four) = (
            http(&plan, 0),
            http(&plan, 1),
            http(&plan, 2),
            http(&plan, 3),
        );
        assert_eq!((one.link, one.max_body), (0, 64 << 10));
        assert_eq!(two.link, 1);
        let l = &plan.links[1];
        assert_eq!(l.tls.insecure, Some(true));
        assert_eq!(l.tls.server_name.as_deref(), Some("a.test"));
        assert_eq!(l.tls.min_version, Some(n::TlsVersion::Tls13));
        assert_eq!((three.link, three.max_body), (1, 0));
        assert_eq!(four.link, 2);
        assert_eq!(plan.links[2].http_version, HttpVersion::Http1);
        assert_eq!(plan.links.len(), 3);
    }

    #[test]
    fn http2_needs_tls_and_h2c_needs_none() {
        let e: Vec<_> = errors("version: 1\nsteps:\n  - { get: http://a.test/, http_version: http2 }\n  - { get: https://a.test/, http_version: h2c }\n")
            .into_iter()
            .filter(|e| e.0.starts_with('E'))
            .collect();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].2.contains("`http_version: http2` is HTTP/2 over TLS"),
            "{e:?}"
        );
        assert!(e[1].2.contains("cleartext"), "{e:?}");
    }

    #[test]
    fn content_types_from_extensions() {
        assert_eq!(
            guess_type(std::path::Path::new("a/photo.JPG")),
            "image/jpeg"
        );
        assert_eq!(
            guess_type(std::path::Path::new("blob")),
            "application/octet-stream"
        );
    }
}
