//! What is kept of a response body: at most `max_body` bytes, decompressed
//! as they arrive when trek asked for compression. Past the bound, the
//! rest is read and counted but neither kept nor decompressed, so a 2 GB
//! download or a compressed bomb costs the bound in memory and a bounded
//! amount of inflating, not its size.

use std::io::Write;

use bytes::{Bytes, BytesMut};

use super::headers::Headers;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gzip,
    Deflate,
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` of a response, if trek can undo it.
    pub fn of(headers: &Headers) -> Option<Encoding> {
        let value = headers.get("content-encoding")?.trim_ascii();
        let is = |name: &str| value.eq_ignore_ascii_case(name.as_bytes());
        if is("gzip") || is("x-gzip") {
            Some(Encoding::Gzip)
        } else if is("deflate") {
            Some(Encoding::Deflate)
        } else if is("br") {
            Some(Encoding::Brotli)
        } else {
            None
        }
    }
}

/// Compressed bytes are fed to the decoder this many at a time, so that
/// once the bound is reached no more than this (inflated ~1000 times at
/// worst) is decompressed.
const FEED: usize = 4096;

/// The body as kept.
#[derive(Debug, Default)]
pub struct Kept {
    pub bytes: Bytes,
    /// Bytes of the body as they came over the wire.
    pub raw: u64,
    /// More came than was kept.
    pub cut: bool,
}

/// Collects a body's pieces up to a bound.
pub struct Keeper {
    max: usize,
    raw: u64,
    decoder: Option<Decoder>,
    /// Pieces of an uncompressed body: the first is kept without a copy
    /// when it is the only one.
    first: Option<Bytes>,
    rest: BytesMut,
    cut: bool,
    failed: Option<String>,
}

enum Decoder {
    Gzip(Box<flate2::write::MultiGzDecoder<Sink>>),
    Deflate(Box<flate2::write::ZlibDecoder<Sink>>),
    Brotli(Box<brotli_decompressor::DecompressorWriter<Sink>>),
}

/// Where decompressed bytes go: kept up to `max`, then only noted.
struct Sink {
    kept: Vec<u8>,
    max: usize,
    full: bool,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.max - self.kept.len();
        if buf.len() > room {
            self.full = true;
        }
        self.kept.extend_from_slice(&buf[..buf.len().min(room)]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Keeper {
    pub fn new(max: usize, encoding: Option<Encoding>) -> Keeper {
        let sink = || Sink {
            kept: Vec::new(),
            max,
            full: false,
        };
        // Nothing kept: nothing to decompress.
        let decoder = encoding.filter(|_| max > 0).map(|e| match e {
            Encoding::Gzip => Decoder::Gzip(Box::new(flate2::write::MultiGzDecoder::new(sink()))),
            Encoding::Deflate => {
                Decoder::Deflate(Box::new(flate2::write::ZlibDecoder::new(sink())))
            }
            Encoding::Brotli => Decoder::Brotli(Box::new(
                brotli_decompressor::DecompressorWriter::new(sink(), 4096),
            )),
        });
        Keeper {
            max,
            raw: 0,
            decoder,
            first: None,
            rest: BytesMut::new(),
            cut: false,
            failed: None,
        }
    }

    /// Takes the next piece of the body as it came over the wire.
    pub fn push(&mut self, data: Bytes) {
        self.raw += data.len() as u64;
        if self.cut || self.failed.is_some() {
            return;
        }
        if self.decoder.is_some() {
            for piece in data.chunks(FEED) {
                if let Err(e) = self.inflate(piece) {
                    self.failed = Some(e.to_string());
                    return;
                }
                if self.sink().full {
                    self.cut = true;
                    return;
                }
            }
            return;
        }
        let held = self.first.as_ref().map_or(0, Bytes::len) + self.rest.len();
        let room = self.max - held.min(self.max);
        let take = data.len().min(room);
        if take < data.len() {
            self.cut = true;
        }
        if take == 0 {
            return;
        }
        match &self.first {
            None => self.first = Some(data.slice(..take)),
            Some(f) => {
                if self.rest.is_empty() {
                    self.rest.extend_from_slice(f);
                }
                self.rest.extend_from_slice(&data[..take]);
            }
        }
    }

    fn inflate(&mut self, piece: &[u8]) -> std::io::Result<()> {
        match self.decoder.as_mut() {
            Some(Decoder::Gzip(d)) => d.write_all(piece),
            Some(Decoder::Deflate(d)) => d.write_all(piece),
            Some(Decoder::Brotli(d)) => d.write_all(piece),
            None => Ok(()),
        }
    }

    fn sink(&mut self) -> &mut Sink {
        match self.decoder.as_mut() {
            Some(Decoder::Gzip(d)) => d.get_mut(),
            Some(Decoder::Deflate(d)) => d.get_mut(),
            Some(Decoder::Brotli(d)) => d.get_mut(),
            None => unreachable!("only a decoder has a sink"),
        }
    }

    /// The body as kept; an error when a compressed body that was not cut
    /// could not be decompressed.
    pub fn finish(mut self) -> Result<Kept, String> {
        if let Some(e) = self.failed.take() {
            return Err(format!("cannot decompress the body: {e}"));
        }
        let bytes = if self.decoder.is_none() {
            match self.first.take() {
                Some(first) if self.rest.is_empty() => first,
                _ => self.rest.split().freeze(),
            }
        } else if self.raw == 0 {
            // An empty body may name an encoding too (HEAD, 204, 304).
            Bytes::new()
        } else if self.cut {
            // Cut on purpose: the stream ends mid-way; what it gave is kept.
            Bytes::from(std::mem::take(&mut self.sink().kept))
        } else {
            let finished = match self.decoder.take() {
                Some(Decoder::Gzip(d)) => d.finish(),
                Some(Decoder::Deflate(d)) => d.finish(),
                Some(Decoder::Brotli(d)) => d
                    .into_inner()
                    .map_err(|_| std::io::Error::other("the brotli stream is incomplete")),
                None => unreachable!("checked above"),
            };
            match finished {
                Ok(sink) => {
                    self.cut |= sink.full;
                    Bytes::from(sink.kept)
                }
                Err(e) => return Err(format!("cannot decompress the body: {e}")),
            }
        };
        Ok(Kept {
            bytes,
            raw: self.raw,
            cut: self.cut,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn a_body_under_the_bound_is_kept_whole_and_one_piece_is_not_copied() {
        let mut k = Keeper::new(100, None);
        let piece = Bytes::from_static(b"hello");
        k.push(piece.clone());
        let kept = k.finish().unwrap();
        assert_eq!(
            (&kept.bytes[..], kept.raw, kept.cut),
            (&b"hello"[..], 5, false)
        );
        assert_eq!(kept.bytes.as_ptr(), piece.as_ptr());
    }

    #[test]
    fn past_the_bound_bytes_are_counted_not_kept() {
        let mut k = Keeper::new(8, None);
        for _ in 0..1000 {
            k.push(Bytes::from_static(b"0123456"));
        }
        let kept = k.finish().unwrap();
        assert_eq!(
            (&kept.bytes[..], kept.raw, kept.cut),
            (&b"01234560"[..], 7000, true)
        );
        let kept = {
            let mut k = Keeper::new(0, Some(Encoding::Gzip));
            k.push(Bytes::from(gzip(b"anything")));
            k.finish().unwrap()
        };
        assert_eq!((kept.bytes.len(), kept.cut), (0, true));
    }

    #[test]
    fn a_compression_bomb_inflates_only_to_the_bound() {
        // 200 MB of zeros compress to about 200 KB.
        let zeros = vec![0u8; 200 << 20];
        let packed = gzip(&zeros);
        drop(zeros);
        let mut k = Keeper::new(1 << 20, Some(Encoding::Gzip));
        let started = std::time::Instant::now();
        for piece in packed.chunks(64 * 1024) {
            k.push(Bytes::copy_from_slice(piece));
        }
        let kept = k.finish().unwrap();
        assert_eq!(kept.bytes.len(), 1 << 20);
        assert!(kept.cut);
        assert_eq!(kept.raw, packed.len() as u64);
        // Inflating all 200 MB takes far longer than the first megabyte.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn compressed_bodies_are_decompressed_and_a_broken_one_is_an_error() {
        let mut k = Keeper::new(1 << 20, Some(Encoding::Gzip));
        k.push(Bytes::from(gzip(b"{\"a\": 1}")));
        assert_eq!(&k.finish().unwrap().bytes[..], b"{\"a\": 1}");
        let mut k = Keeper::new(1 << 20, Some(Encoding::Gzip));
        k.push(Bytes::from_static(b"not gzip at all"));
        assert!(k.finish().unwrap_err().contains("cannot decompress"));
        // An empty body that names an encoding (HEAD, 204) is empty.
        let k = Keeper::new(1 << 20, Some(Encoding::Brotli));
        assert_eq!(k.finish().unwrap().bytes.len(), 0);
    }
}
