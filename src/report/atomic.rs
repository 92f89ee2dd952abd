//! Writing a report file so that it is whole or absent: the text goes to a
//! hidden temporary file beside it, flushed to the disk, then renamed over
//! the name; when anything fails (a full disk, a folder that turned
//! read-only), the temporary file is removed and the error returned. And
//! checking, before a run starts, that its output folder takes files.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` atomically.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents.as_ref())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or("report".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Creates `dir` if needed and checks that a file can be written in it
/// (then removes the file): a run whose results could not be kept is
/// refused before it sends a request.
pub fn check_writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the output folder {}: {e}", dir.display()))?;
    let probe = dir.join(format!(".trek-write-check.{}", std::process::id()));
    let written = write(&probe, b"trek\n");
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| format!("cannot write into the output folder {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_whole_or_absent_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        write(&path, "<html>").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "<html>");
        // Into a folder that does not exist: an error, nothing left.
        let missing = dir.path().join("gone").join("x.csv");
        assert!(write(&missing, "a").is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(check_writable(&dir.path().join("new")).is_ok());
        assert!(check_writable(Path::new("/proc/x")).is_err());
        // /dev/full fails every write as a full disk does.
        if Path::new("/dev/full").exists() {
            let e = std::fs::File::create("/dev/full")
                .and_then(|mut f| f.write_all(&[0; 65536]).and_then(|_| f.sync_all()));
            assert!(e.is_err());
        }
    }
}
