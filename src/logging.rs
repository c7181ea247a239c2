//! The log: `tracing` events to a file under the data directory, never to the terminal (the
//! TUI owns it, DESIGN.md §9). `<data>/logs/holdfast.log`, 0600 in a 0700 directory; when it
//! passes `MAX_BYTES` it becomes `holdfast.log.1` (older ones shift up, `KEEP` are kept).
//! `HOLDFAST_LOG` sets the level (error, warn, info — the default —, debug, trace).
//!
//! Nothing secret is logged (I10): callers log accounts, collections, counts and errors, whose
//! texts never carry passwords.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A log file is rotated past this size: 5 MB keeps weeks of normal use.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// Rotated files kept besides the current one.
pub const KEEP: usize = 3;

/// The log file of a data directory.
pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("logs").join("holdfast.log")
}

struct Inner {
    path: PathBuf,
    file: File,
    written: u64,
}

impl Inner {
    fn open(path: &Path) -> io::Result<Inner> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        let written = file.metadata()?.len();
        Ok(Inner {
            path: path.to_path_buf(),
            file,
            written,
        })
    }

    fn rotate(&mut self) -> io::Result<()> {
        for i in (1..KEEP).rev() {
            let from = rotated(&self.path, i);
            if from.exists() {
                fs::rename(&from, rotated(&self.path, i + 1))?;
            }
        }
        fs::rename(&self.path, rotated(&self.path, 1))?;
        *self = Inner::open(&self.path)?;
        Ok(())
    }
}

fn rotated(path: &Path, i: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{i}"));
    PathBuf::from(s)
}

/// The file writer `tracing-subscriber` formats into (shared, size-rotated).
#[derive(Clone)]
pub struct LogFile(Arc<Mutex<Inner>>);

impl LogFile {
    pub fn open(data_dir: &Path) -> io::Result<LogFile> {
        let path = log_path(data_dir);
        if let Some(dir) = path.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Ok(LogFile(Arc::new(Mutex::new(Inner::open(&path)?))))
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut inner = self.0.lock().map_err(|_| io::Error::other("log lock"))?;
        if inner.written + buf.len() as u64 > MAX_BYTES && inner.written > 0 {
            // A failed rotation keeps writing to the old file rather than losing the line.
            let _ = inner.rotate();
        }
        inner.file.write_all(buf)?;
        inner.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.lock() {
            Ok(mut i) => i.file.flush(),
            Err(_) => Ok(()),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFile {
    type Writer = LogFile;

    fn make_writer(&'a self) -> LogFile {
        self.clone()
    }
}

/// Sends this process's `tracing` events to the data directory's log file. Returns false when
/// the file cannot be opened or a subscriber is already set (logging is then off: never a
/// reason to stop).
pub fn init(data_dir: &Path) -> bool {
    let Ok(file) = LogFile::open(data_dir) else {
        return false;
    };
    let level = std::env::var("HOLDFAST_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(file)
        .with_max_level(level)
        .with_target(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_past_the_size_and_keeps_a_few() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut f = LogFile::open(dir.path()).expect("open");
        let line = vec![b'x'; 1024 * 1024];
        // Five 1 MB lines per file: 22 make four rotations, one more than is kept.
        for _ in 0..22 {
            f.write_all(&line).expect("write");
        }
        let path = log_path(dir.path());
        assert!(path.exists());
        assert!(rotated(&path, 1).exists());
        assert!(rotated(&path, KEEP).exists());
        assert!(!rotated(&path, KEEP + 1).exists());
        assert!(fs::metadata(&path).expect("meta").len() <= MAX_BYTES);
    }
}
