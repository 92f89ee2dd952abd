//! Request bodies: bytes made for this request, or pieces of which some
//! are files, read from disk as they are sent (`body_file`, the file parts
//! of `multipart`), so that a 200 MB upload holds one buffer, not the file.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::AsyncReadExt;

/// A request body.
#[derive(Clone, Debug)]
pub enum Payload {
    Bytes(Bytes),
    Pieces(Arc<Vec<Piece>>),
}

impl From<Bytes> for Payload {
    fn from(b: Bytes) -> Self {
        Payload::Bytes(b)
    }
}

impl From<String> for Payload {
    fn from(s: String) -> Self {
        Payload::Bytes(s.into())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(v: Vec<u8>) -> Self {
        Payload::Bytes(v.into())
    }
}

#[derive(Clone, Debug)]
pub enum Piece {
    Bytes(Bytes),
    File(Arc<Path>),
}

/// How much of a file is read at once.
const CHUNK: usize = 256 * 1024;

impl Payload {
    /// Its length in bytes; the files' as they are now.
    pub fn size(&self) -> Result<u64, String> {
        match self {
            Payload::Bytes(b) => Ok(b.len() as u64),
            Payload::Pieces(pieces) => pieces.iter().map(Piece::len).sum(),
        }
    }

    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Payload::Bytes(b) => Some(b),
            Payload::Pieces(_) => None,
        }
    }
}

impl Piece {
    fn len(&self) -> Result<u64, String> {
        match self {
            Piece::Bytes(b) => Ok(b.len() as u64),
            Piece::File(path) => std::fs::metadata(path)
                .map(|m| m.len())
                .map_err(|e| format!("cannot read `{}`: {e}", path.display())),
        }
    }
}

/// Hands out a body's bytes in order, a file's a chunk at a time.
pub struct Chunks<'a> {
    pieces: std::slice::Iter<'a, Piece>,
    file: Option<(tokio::fs::File, &'a Path)>,
    buf: Vec<u8>,
}

impl<'a> Chunks<'a> {
    pub fn new(pieces: &'a [Piece]) -> Self {
        Chunks {
            pieces: pieces.iter(),
            file: None,
            buf: Vec::new(),
        }
    }

    /// The next bytes to send; `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Bytes>, String> {
        loop {
            if let Some((file, path)) = &mut self.file {
                self.buf.resize(CHUNK, 0);
                let n = file
                    .read(&mut self.buf)
                    .await
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                if n > 0 {
                    return Ok(Some(Bytes::copy_from_slice(&self.buf[..n])));
                }
                self.file = None;
            }
            match self.pieces.next() {
                None => return Ok(None),
                Some(Piece::Bytes(b)) => return Ok(Some(b.clone())),
                Some(Piece::File(path)) => {
                    let file = tokio::fs::File::open(path)
                        .await
                        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                    self.file = Some((file, path));
                }
            }
        }
    }
}

/// A `multipart/form-data` body: its boundary and pieces.
pub struct Multipart {
    pub boundary: String,
    pieces: Vec<Piece>,
}

impl Multipart {
    pub fn new(boundary: String) -> Self {
        Multipart {
            boundary,
            pieces: Vec::new(),
        }
    }

    pub fn text(&mut self, name: &str, value: &str) {
        let head = format!(
            "--{}\r\ncontent-disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
            self.boundary,
            quoted(name)
        );
        self.pieces.push(Piece::Bytes(head.into()));
    }

    pub fn file(&mut self, name: &str, path: Arc<Path>, filename: &str, content_type: &str) {
        let head = format!(
            "--{}\r\ncontent-disposition: form-data; name=\"{}\"; filename=\"{}\"\r\ncontent-type: {content_type}\r\n\r\n",
            self.boundary,
            quoted(name),
            quoted(filename)
        );
        self.pieces.push(Piece::Bytes(head.into()));
        self.pieces.push(Piece::File(path));
        self.pieces.push(Piece::Bytes(Bytes::from_static(b"\r\n")));
    }

    pub fn finish(mut self) -> Payload {
        self.pieces
            .push(Piece::Bytes(format!("--{}--\r\n", self.boundary).into()));
        Payload::Pieces(Arc::new(self.pieces))
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }
}

/// A name inside quotes, escaped as browsers do (RFC 7578 §4.2).
fn quoted(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_multipart_body_reads_files_in_place_and_says_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let path: Arc<Path> = dir.path().join("a.txt").into();
        std::fs::write(&path, b"file bytes").unwrap();
        let mut m = Multipart::new("XyZ".into());
        m.text("title", "lunch \"big\"");
        m.file("photo", path.clone(), "a.txt", "text/plain");
        assert_eq!(m.content_type(), "multipart/form-data; boundary=XyZ");
        let payload = m.finish();
        let Payload::Pieces(pieces) = &payload else {
            panic!()
        };
        let mut chunks = Chunks::new(pieces);
        let mut all = Vec::new();
        while let Some(c) = chunks.next().await.unwrap() {
            all.extend_from_slice(&c);
        }
        let text = String::from_utf8(all).unwrap();
        assert_eq!(
            text,
            "--XyZ\r\ncontent-disposition: form-data; name=\"title\"\r\n\r\nlunch \"big\"\r\n--XyZ\r\ncontent-disposition: form-data; name=\"photo\"; filename=\"a.txt\"\r\ncontent-type: text/plain\r\n\r\nfile bytes\r\n--XyZ--\r\n"
        );
        assert_eq!(payload.size().unwrap(), text.len() as u64);
        std::fs::remove_file(&path).unwrap();
        assert!(payload.size().unwrap_err().contains("a.txt"));
    }
}
