//! Snapshots (I6): copies by SQLite's online backup under `<data>/backups/`, rotated, and restore, which
//! always snapshots the current database first: nothing is overwritten without a copy.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, MAIN_DB};

use super::{private_dir, private_file, Result, Store, StoreError};

/// A snapshot file.
#[derive(Debug, Clone)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
}

impl Store {
    pub fn backups_dir(&self) -> PathBuf {
        self.data_dir.join("backups")
    }

    /// Copies the database to a new snapshot and keeps the newest `keep` snapshots.
    pub fn backup(&self, keep: usize) -> Result<Backup> {
        let dir = self.backups_dir();
        private_dir(&dir)?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let mut path = dir.join(format!("holdfast-{stamp}.db"));
        let mut n = 1;
        while path.exists() {
            n += 1;
            path = dir.join(format!("holdfast-{stamp}-{n}.db"));
        }
        // SQLite's online backup copies the pages as they are (VACUUM INTO rebuilds every
        // table and index: several times slower), into a temporary file that is synced and
        // then renamed, so a snapshot under its final name is always complete.
        let io = |source: std::io::Error| StoreError::Io {
            path: dir.clone(),
            source,
        };
        let tmp = tempfile::Builder::new()
            .prefix(".snapshot-")
            .suffix(".db")
            .tempfile_in(&dir)
            .map_err(io)?;
        {
            let mut dst = Connection::open(tmp.path())?;
            dst.pragma_update(None, "journal_mode", "OFF")?;
            dst.pragma_update(None, "synchronous", "OFF")?;
            let copy = rusqlite::backup::Backup::new(&self.conn, &mut dst)?;
            copy.run_to_completion(i32::MAX, std::time::Duration::ZERO, None)?;
            drop(copy);
            // A snapshot is one self-contained file (the copied header says WAL).
            dst.pragma_update(None, "journal_mode", "DELETE")?;
        }
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        private_file(&path)?;
        self.rotate(keep.max(1))?;
        let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Ok(Backup { path, bytes })
    }

    /// Snapshots, newest first.
    pub fn list_backups(&self) -> Result<Vec<PathBuf>> {
        let dir = self.backups_dir();
        let mut out: Vec<PathBuf> = match fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("holdfast-") && n.ends_with(".db"))
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        out.sort();
        out.reverse();
        Ok(out)
    }

    fn rotate(&self, keep: usize) -> Result<()> {
        for old in self.list_backups()?.into_iter().skip(keep) {
            fs::remove_file(&old).map_err(|source| StoreError::Io { path: old, source })?;
        }
        Ok(())
    }

    /// Restores a snapshot: checks it is a sound Holdfast database this binary can read,
    /// snapshots the current database, then copies the file in. Returns the safety snapshot.
    pub fn restore(&mut self, file: &Path, keep: usize) -> Result<Backup> {
        if !file.is_file() {
            return Err(StoreError::Invalid(format!(
                "{}: no such file; nothing was changed",
                file.display()
            )));
        }
        // Work on a private copy: the safety snapshot below rotates old snapshots, and the file
        // being restored may be one of them.
        let dir = self.backups_dir();
        private_dir(&dir)?;
        let copy = tempfile::Builder::new()
            .prefix(".restoring-")
            .suffix(".db")
            .tempfile_in(&dir)
            .map_err(|source| StoreError::Io {
                path: dir.clone(),
                source,
            })?;
        fs::copy(file, copy.path()).map_err(|source| StoreError::Io {
            path: file.to_path_buf(),
            source,
        })?;
        let src = Connection::open_with_flags(copy.path(), OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| StoreError::Invalid(format!("{}: cannot open: {e}", file.display())))?;
        let check: String = src
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| StoreError::Invalid(format!("{}: not a database: {e}", file.display())))?;
        if check != "ok" {
            return Err(StoreError::Invalid(format!(
                "{}: the file is damaged ({check}); nothing was changed",
                file.display()
            )));
        }
        let version: i64 = src.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let has_items: bool = src
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'items'",
                [],
                |r| r.get(0),
            )
            .unwrap_or(false);
        if !has_items || version == 0 {
            return Err(StoreError::Invalid(format!(
                "{}: not a Holdfast database; nothing was changed",
                file.display()
            )));
        }
        if version > Store::latest_schema() {
            return Err(StoreError::NewerSchema {
                path: file.to_path_buf(),
                found: version,
                known: Store::latest_schema(),
            });
        }
        drop(src);
        let safety = self.backup(keep)?;
        self.conn
            .restore(MAIN_DB, copy.path(), None::<fn(rusqlite::backup::Progress)>)?;
        self.migrate()?;
        Ok(safety)
    }
}
