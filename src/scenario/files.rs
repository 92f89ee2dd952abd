//! Reading the files a test names (the scenario file, its includes, data
//! files, certificates): only regular files (not a device, a pipe or a
//! folder, a symlink to one included), at most a documented size, and text
//! for the ones read as text. What such a file holds is never shown when it
//! is refused.

use std::io::Read;
use std::path::Path;

/// The largest scenario file or included file: 16 MB.
pub const MAX_SCENARIO_FILE: u64 = 16 << 20;
/// The largest data file of a feeder: 4 GB.
pub const MAX_DATA_FILE: u64 = 4 << 30;

/// Why a file was refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("is not a regular file (a device, a pipe or a folder): trek reads files only")]
    NotAFile,
    #[error("is larger than {}: the limit for this kind of file", crate::format::bytes(*.0))]
    TooLarge(u64),
    #[error("is not a text file (it holds a NUL byte)")]
    Binary,
    #[error("is not UTF-8 text (at byte {0})")]
    NotUtf8(usize),
}

/// The bytes of `path`, a regular file of at most `limit` bytes.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let file = std::fs::File::open(path)?;
    // The metadata of what was opened (a symlink followed).
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(FileError::NotAFile);
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge(limit));
    }
    // A file may grow, or say 0 (as /proc's do): read at most one byte
    // past the limit.
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge(limit));
    }
    Ok(bytes)
}

/// The text of `path`, a regular file of at most `limit` bytes holding
/// UTF-8 text without NUL bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String, FileError> {
    let bytes = read_bytes(path, limit)?;
    if bytes.contains(&0) {
        return Err(FileError::Binary);
    }
    String::from_utf8(bytes).map_err(|e| FileError::NotUtf8(e.utf8_error().valid_up_to()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_large_files_and_binary_are_refused_without_reading_them() {
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 1 << 20),
            Err(FileError::NotAFile)
        ));
        assert!(matches!(
            read_text(Path::new("/"), 1 << 20),
            Err(FileError::NotAFile)
        ));
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'a'; 2048]).unwrap();
        assert!(matches!(
            read_text(&big, 1024),
            Err(FileError::TooLarge(1024))
        ));
        let bin = dir.path().join("bin.yaml");
        std::fs::write(&bin, b"a: 1\0b").unwrap();
        assert!(matches!(read_text(&bin, 1024), Err(FileError::Binary)));
        let link = dir.path().join("zero.csv");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(matches!(
            read_text(&link, 1 << 20),
            Err(FileError::NotAFile)
        ));
        // /proc's files say 0 bytes and are read up to the limit only.
        if Path::new("/proc/self/environ").exists() {
            match read_text(Path::new("/proc/self/environ"), 1 << 20) {
                Err(FileError::Binary) | Err(FileError::TooLarge(_)) => {}
                other => panic!("{other:?}"),
            }
        }
    }
}
