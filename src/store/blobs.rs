//! The blob store: each photo's bytes in `<data>/photos/<2-hex prefix>/<sha256>`, named by their
//! SHA-256, so the same bytes are kept once and a name always says what the file must hash to.
//!
//! Writes are atomic: bytes go to a temp file in `<data>/photos/.tmp/` (same filesystem), are
//! fsynced, renamed into place, and the directory is fsynced, so a crash leaves either no blob
//! or a whole one. A blob is never overwritten with other bytes and never removed here.
//! Directories are 0700 and files 0600 like the database (I10).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{io, private_dir, Result};
use crate::format::photo::is_sha256;

/// Copy buffer: large enough that a 300 KB photo is a handful of reads and writes.
const BUF: usize = 256 * 1024;

/// The folder under the data directory that holds the blobs.
pub const PHOTOS_DIR: &str = "photos";

/// A file written into the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub sha256: String,
    pub size: u64,
    /// The first bytes (up to the `head` asked for), for type, size and EXIF.
    pub head: Vec<u8>,
    /// False when a blob with these bytes was there already (nothing new written).
    pub new: bool,
}

/// Bytes hashed into a temp file, waiting for `install`.
#[derive(Debug)]
pub struct Staged {
    file: Option<File>,
    temp: PathBuf,
    pub sha256: String,
}

impl Staged {
    /// fsync, rename into place, fsync the directory (see `Blobs::install`). False when the
    /// blob was there already.
    pub fn install(mut self, blobs: &Blobs) -> Result<bool> {
        let Some(file) = self.file.take() else {
            return Ok(false);
        };
        let r = blobs.install(file, &self.temp, &self.sha256);
        if r.is_err() {
            let _ = fs::remove_file(&self.temp);
        }
        r
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// What `check` found for one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobHealth {
    Ok,
    Missing,
    /// The file's bytes hash to something else (bit rot, a truncated copy …).
    Corrupt {
        actual: String,
        size: u64,
    },
}

/// The blob store of one data directory.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    pub fn new(data_dir: &Path) -> Blobs {
        Blobs {
            root: data_dir.join(PHOTOS_DIR),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this hash lives (whether or not it exists).
    pub fn path(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("00");
        self.root.join(prefix).join(sha256)
    }

    pub fn has(&self, sha256: &str) -> bool {
        is_sha256(sha256) && self.path(sha256).is_file()
    }

    /// A new temp file for bytes on their way in (downloads): created 0600 in the store's
    /// temp folder, which is on the same filesystem, so `install` is a rename.
    pub fn temp_file(&self) -> Result<(File, PathBuf)> {
        let dir = self.root.join(".tmp");
        private_dir(&dir)?;
        let path = dir.join(uuid::Uuid::new_v4().to_string());
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io(&path))?;
        Ok((file, path))
    }

    /// Streams `reader` into the store, hashing while copying (one pass, one buffer), and
    /// keeps the first `head` bytes. Returns the blob's hash and size.
    pub fn ingest(&self, reader: &mut dyn Read, head: usize, source: &Path) -> Result<Ingested> {
        let (staged, mut got) = self.stage(reader, head, source)?;
        got.new = staged.install(self)?;
        Ok(got)
    }

    /// The first half of `ingest`: the bytes hashed into a temp file, not yet durable nor in
    /// place. `Staged::install` finishes (it may run on another thread, so the fsync of one
    /// file overlaps the copy of the next). Dropping a `Staged` removes its temp file.
    pub fn stage(
        &self,
        reader: &mut dyn Read,
        head: usize,
        source: &Path,
    ) -> Result<(Staged, Ingested)> {
        let (mut file, temp) = self.temp_file()?;
        let result = (|| {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; BUF];
            let mut first = Vec::with_capacity(head.min(BUF));
            let mut size = 0u64;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(io(source)(e)),
                };
                let chunk = &buf[..n];
                if first.len() < head {
                    let take = (head - first.len()).min(n);
                    first.extend_from_slice(&chunk[..take]);
                }
                hasher.update(chunk);
                file.write_all(chunk).map_err(io(&temp))?;
                size += n as u64;
            }
            Ok(Ingested {
                sha256: hex(&hasher.finalize()),
                size,
                head: first,
                new: false,
            })
        })();
        match result {
            Ok(got) => Ok((
                Staged {
                    file: Some(file),
                    temp: temp.clone(),
                    sha256: got.sha256.clone(),
                },
                got,
            )),
            Err(e) => {
                let _ = fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    /// `ingest` for bytes in memory: written, fsynced and in place on return.
    pub fn ingest_bytes(&self, bytes: &[u8]) -> Result<Ingested> {
        let (staged, mut got) = self.stage_bytes(bytes)?;
        if let Some(s) = staged {
            got.new = s.install(self)?;
        }
        Ok(got)
    }

    /// Bytes in memory (a contact's inline PHOTO) written to a temp file, not yet durable nor
    /// in place: `install_all` finishes a batch of them. None when the blob is there already.
    pub fn stage_bytes(&self, bytes: &[u8]) -> Result<(Option<Staged>, Ingested)> {
        let sha256 = hex(&Sha256::digest(bytes));
        if self.has(&sha256) {
            let got = Ingested {
                sha256,
                size: bytes.len() as u64,
                head: Vec::new(),
                new: false,
            };
            return Ok((None, got));
        }
        let mut reader = bytes;
        let (staged, got) = self.stage(&mut reader, 0, Path::new("<inline photo>"))?;
        Ok((Some(staged), got))
    }

    /// `stage_bytes` for bytes whose hash the caller has already taken: written to a temp file
    /// in one call (no copy buffer), not yet durable nor in place.
    pub fn stage_hashed(&self, bytes: &[u8], sha256: &str) -> Result<Staged> {
        let (mut file, temp) = self.temp_file()?;
        if let Err(e) = file.write_all(bytes) {
            let _ = fs::remove_file(&temp);
            return Err(io(&temp)(e));
        }
        Ok(Staged {
            file: Some(file),
            temp,
            sha256: sha256.to_string(),
        })
    }

    /// Installs a batch of staged blobs (an import of 100,000 cards meets thousands of
    /// photos): every temp file's bytes are made durable first, then the files are renamed into
    /// place, then the folders holding them. A crash at any point leaves only whole blobs under
    /// their names. The fsyncs run on several threads at once, so the filesystem commits them
    /// together instead of one journal commit after another.
    pub fn install_all(&self, staged: Vec<Staged>) -> Result<()> {
        let mut files = Vec::new();
        for mut s in staged {
            if let Some(file) = s.file.take() {
                files.push((file, s.temp.clone(), s.sha256.clone()));
            }
        }
        if files.is_empty() {
            return Ok(());
        }
        let synced = parallel(&files, |(file, temp, _)| file.sync_data().map_err(io(temp)));
        let failed = synced.into_iter().find_map(|r| r.err());
        let mut dirs: Vec<PathBuf> = Vec::new();
        for (file, temp, sha256) in files {
            drop(file);
            let target = self.path(&sha256);
            if failed.is_some() || target.is_file() {
                let _ = fs::remove_file(&temp);
                continue;
            }
            let dir = target.parent().unwrap_or(&self.root).to_path_buf();
            if !dir.is_dir() {
                private_dir(&dir)?;
                if !dirs.contains(&self.root) {
                    dirs.push(self.root.clone());
                }
            }
            fs::rename(&temp, &target).map_err(|e| {
                let _ = fs::remove_file(&temp);
                io(&target)(e)
            })?;
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        parallel(&dirs, |d| sync_dir(d))
            .into_iter()
            .collect::<Result<Vec<()>>>()?;
        Ok(())
    }

    /// Moves a complete temp file into place as blob `sha256` (the caller has checked the
    /// hash): fsync the file, rename, fsync the directory. If the blob exists already the temp
    /// file is dropped and false returned; an existing blob is never replaced here.
    pub fn install(&self, file: File, temp: &Path, sha256: &str) -> Result<bool> {
        let target = self.path(sha256);
        if target.is_file() {
            drop(file);
            let _ = fs::remove_file(temp);
            return Ok(false);
        }
        // Data and size; the name is made durable by the directory fsync below.
        file.sync_data().map_err(io(temp))?;
        drop(file);
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        if !dir.is_dir() {
            private_dir(&dir)?;
            sync_dir(&self.root)?;
        }
        fs::rename(temp, &target).map_err(io(&target))?;
        sync_dir(&dir)?;
        Ok(true)
    }

    /// Replaces a corrupt blob with verified bytes in `temp` (`doctor --repair`): the damaged
    /// file is kept beside it as `<sha256>.corrupt-<time>` for the user to inspect.
    pub fn replace_corrupt(&self, file: File, temp: &Path, sha256: &str) -> Result<PathBuf> {
        let target = self.path(sha256);
        let kept = target.with_file_name(format!(
            "{sha256}.corrupt-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ));
        if target.exists() {
            fs::rename(&target, &kept).map_err(io(&target))?;
        }
        self.install(file, temp, sha256)?;
        Ok(kept)
    }

    /// Hashes the blob and says whether it is whole.
    pub fn check(&self, sha256: &str) -> Result<BlobHealth> {
        let path = self.path(sha256);
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BlobHealth::Missing),
            Err(e) => return Err(io(&path)(e)),
        };
        let (actual, size) = hash_reader(&mut f).map_err(io(&path))?;
        Ok(if actual == sha256 {
            BlobHealth::Ok
        } else {
            BlobHealth::Corrupt { actual, size }
        })
    }

    /// Every blob name on disk (for the orphan check), sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let Ok(dirs) = fs::read_dir(&self.root) else {
            return Ok(out);
        };
        for d in dirs.flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            if name.len() != 2 || !d.path().is_dir() {
                continue;
            }
            for f in fs::read_dir(d.path()).map_err(io(&d.path()))?.flatten() {
                let n = f.file_name().to_string_lossy().into_owned();
                if is_sha256(&n) {
                    out.push(n);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// SHA-256 (hex) and length of everything `reader` gives.
pub fn hash_reader(reader: &mut dyn Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUF];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex(&hasher.finalize()), size))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// `f` over `items` on up to eight threads (for fsyncs: the disk sees them together). An
/// error for every item of a thread that panicked.
fn parallel<T: Sync>(items: &[T], f: impl Fn(&T) -> Result<()> + Sync) -> Vec<Result<()>> {
    let per = items.len().div_ceil(8).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| {
                (
                    chunk.len(),
                    scope.spawn(|| chunk.iter().map(&f).collect::<Vec<_>>()),
                )
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(n, h)| {
                h.join().unwrap_or_else(|_| {
                    (0..n)
                        .map(|_| Err(super::StoreError::Invalid("an fsync thread failed".into())))
                        .collect()
                })
            })
            .collect()
    })
}

/// fsync of a directory, so a rename in it survives a crash.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}
