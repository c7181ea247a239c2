//! `holdfast photos add|link|unlink|caption|export` and the `list photos` table.
//!
//! `add` copies each file into the blob store in one pass (hashing while it copies), so a
//! reference survives the original being moved or deleted; files that are not photos are
//! skipped with a message, unreadable ones reported with the reason, and the rest added.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::args::PhotosCommand;
use super::{exit, table, usage, Context, Failure, Outcome};
use crate::format::photo::{self, HEAD_BYTES, PHOTO_EXTENSIONS};
use crate::model::{Kind, PhotoRef};
use crate::store::{hex, now_text, Blobs, Staged, StoreError, StoredPhoto};

pub fn run(ctx: &mut Context, cmd: PhotosCommand) -> Outcome {
    match cmd {
        PhotosCommand::Add {
            paths,
            caption,
            link,
        } => add(ctx, &paths, caption, &link),
        PhotosCommand::Link { id, uid } => relink(ctx, &id, &uid, true),
        PhotosCommand::Unlink { id, uid } => relink(ctx, &id, &uid, false),
        PhotosCommand::Caption { id, caption } => set_caption(ctx, &id, &caption),
        PhotosCommand::Export { dir } => export(ctx, &dir),
    }
}

/// Checks that `uid` names a live contact, event or to-do.
fn check_target(ctx: &Context, uid: &str) -> Result<(), Failure> {
    match ctx.store.find(uid, None) {
        Ok(item) if item.kind == Kind::Photo => Err(usage(format!(
            "{uid} is a photo; link photos to contacts, events or to-dos"
        ))),
        Ok(item) if item.deleted => Err(usage(format!(
            "{uid} is in the trash (`holdfast undelete {uid}` first)"
        ))),
        Ok(_) | Err(StoreError::Ambiguous { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// One file `add` looked at.
struct Seen {
    path: PathBuf,
    outcome: Result<Added, String>,
}

enum Added {
    New(String),
    Already(String),
}

fn add(ctx: &mut Context, paths: &[PathBuf], caption: Option<String>, links: &[String]) -> Outcome {
    for uid in links {
        check_target(ctx, uid)?;
    }
    let mut files = Vec::new();
    let mut skipped: Vec<(PathBuf, String)> = Vec::new();
    let mut errors: Vec<(PathBuf, String)> = Vec::new();
    for p in paths {
        collect(p, true, &mut files, &mut skipped, &mut errors);
    }
    for (path, why) in &skipped {
        eprintln!("holdfast: skipped {}: {why}", path.display());
    }
    let blobs = Blobs::new(ctx.store.data_dir());
    let mut batch: Vec<PhotoRef> = Vec::new();
    let mut seen: Vec<Seen> = Vec::new();
    let mut relink: Vec<String> = Vec::new();
    // Copy and hash here, make durable (fsync, rename, fsync the folder) on a second thread:
    // one file's fsync overlaps the next file's copy.
    let failed: Vec<(usize, String)> = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Staged)>(64);
        let installer = scope.spawn(|| {
            rx.into_iter()
                .filter_map(|(i, staged)| staged.install(&blobs).err().map(|e| (i, e.to_string())))
                .collect::<Vec<_>>()
        });
        for path in files {
            let outcome = match add_one(ctx, &blobs, &path, &caption, links, &batch) {
                Ok((Ok(p), staged)) => {
                    let id = p.id.clone();
                    batch.push(p);
                    let _ = tx.send((seen.len(), staged));
                    Ok(Added::New(id))
                }
                Ok((Err(existing), _duplicate)) => {
                    if !links.is_empty() && !relink.contains(&existing) {
                        relink.push(existing.clone());
                    }
                    Ok(Added::Already(existing))
                }
                Err(e) => Err(e),
            };
            seen.push(Seen { path, outcome });
        }
        drop(tx);
        installer.join().unwrap_or_else(|_| {
            (0..seen.len())
                .map(|i| (i, "the blob store's writer failed".to_string()))
                .collect()
        })
    });
    for (i, reason) in failed {
        if let Ok(Added::New(id)) = &seen[i].outcome {
            let id = id.clone();
            batch.retain(|p| p.id != id);
            seen[i].outcome = Err(format!("not stored: {reason}"));
        }
    }
    ctx.store.create_photos(&batch, "photos-add")?;
    // Bytes already referenced: the new links go onto the existing reference.
    for id in relink {
        let Ok(sp) = ctx.store.photo(&id) else {
            continue; // added in this run: it has the links already
        };
        let mut p = sp.photo.clone();
        let mut changed = false;
        for l in links {
            changed |= p.link(l);
        }
        if changed {
            ctx.store.save_photo(&sp.item, &p, "photos-add")?;
        }
    }
    let (mut added, mut already) = (0, 0);
    for s in &seen {
        match &s.outcome {
            Ok(Added::New(_)) => added += 1,
            Ok(Added::Already(_)) => already += 1,
            Err(e) => errors.push((s.path.clone(), e.clone())),
        }
    }
    let code = if errors.is_empty() {
        exit::OK
    } else {
        exit::ITEM_ERRORS
    };
    if ctx.json {
        let list = |want_new: bool| -> Vec<serde_json::Value> {
            seen.iter()
                .filter_map(|s| match &s.outcome {
                    Ok(Added::New(id)) if want_new => {
                        Some(json!({"id": id, "path": s.path.display().to_string()}))
                    }
                    Ok(Added::Already(id)) if !want_new => {
                        Some(json!({"id": id, "path": s.path.display().to_string()}))
                    }
                    _ => None,
                })
                .collect()
        };
        let pairs = |v: &[(PathBuf, String)]| -> Vec<serde_json::Value> {
            v.iter()
                .map(|(p, r)| json!({"path": p.display().to_string(), "reason": r}))
                .collect()
        };
        super::emit(&format!(
            "{}\n",
            json!({
                "added": list(true),
                "already": list(false),
                "skipped": pairs(&skipped),
                "errors": pairs(&errors),
                "exit": code,
            })
        ));
    } else {
        let mut out = String::new();
        for s in &seen {
            match &s.outcome {
                Ok(Added::New(id)) => out.push_str(&format!("{id}\t{}\n", s.path.display())),
                Ok(Added::Already(id)) => {
                    out.push_str(&format!("{id}\t{} (already there)\n", s.path.display()))
                }
                Err(_) => {}
            }
        }
        super::emit(&out);
    }
    for (path, why) in &errors {
        eprintln!("holdfast: {}: {why}", path.display());
    }
    eprintln!(
        "photos add: {added} added, {already} already there, {} skipped, {} error(s)",
        skipped.len(),
        errors.len()
    );
    Ok(code)
}

/// Files under `path` with a photo extension (folders recursively, in name order).
fn collect(
    path: &Path,
    named: bool,
    files: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, String)>,
    errors: &mut Vec<(PathBuf, String)>,
) {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push((path.to_path_buf(), e.to_string()));
            return;
        }
    };
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                errors.push((path.to_path_buf(), format!("cannot read the folder: {e}")));
                return;
            }
        };
        entries.sort();
        for e in entries {
            collect(&e, false, files, skipped, errors);
        }
        return;
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !meta.is_file() {
        skipped.push((path.to_path_buf(), "not a regular file".into()));
    } else if PHOTO_EXTENSIONS.contains(&ext.as_str()) {
        files.push(path.to_path_buf());
    } else {
        let what = if ext.is_empty() {
            "no extension".to_string()
        } else {
            format!(".{ext}")
        };
        let hint = if named {
            format!(" (photos add takes {})", PHOTO_EXTENSIONS.join(", "))
        } else {
            String::new()
        };
        skipped.push((path.to_path_buf(), format!("not a photo ({what}){hint}")));
    }
}

/// What `add_one` made of a file: a new reference, or `Err(id)` when these bytes are already
/// the photo `id`; with the staged bytes (to install, or to drop for a duplicate).
type OneFile = (Result<PhotoRef, String>, Staged);

/// Copies one file into a staged blob and makes its reference.
fn add_one(
    ctx: &Context,
    blobs: &Blobs,
    path: &Path,
    caption: &Option<String>,
    links: &[String],
    batch: &[PhotoRef],
) -> Result<OneFile, String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    // The head first: a file that is no image is refused before anything is written.
    let mut head = Vec::with_capacity(HEAD_BYTES);
    (&mut file)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot read: {e}"))?;
    let info = photo::probe(&head);
    let Some(mime) = info.mime else {
        return Err(if head.is_empty() {
            "empty file".into()
        } else {
            "not a JPEG, PNG, GIF, WebP, TIFF or HEIF image (its first bytes say otherwise)".into()
        });
    };
    let mut reader = std::io::Cursor::new(&head).chain(&mut file);
    let (staged, got) = blobs
        .stage(&mut reader, 0, path)
        .map_err(|e| e.to_string())?;
    if let Some(p) = batch.iter().find(|p| p.sha256 == got.sha256) {
        return Ok((Err(p.id.clone()), staged));
    }
    if let Some(id) = ctx
        .store
        .photo_by_sha(&got.sha256)
        .map_err(|e| e.to_string())?
    {
        return Ok((Err(id), staged));
    }
    let now = now_text();
    let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut p = PhotoRef {
        format: PhotoRef::FORMAT.into(),
        id: uuid::Uuid::new_v4().to_string(),
        sha256: got.sha256,
        mime: mime.into(),
        size: got.size,
        width: info.width,
        height: info.height,
        taken_at: info.taken_at,
        caption: caption.clone().filter(|c| !c.is_empty()),
        original_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        original_path: Some(absolute.display().to_string()),
        links: Vec::new(),
        created_at: now.clone(),
        updated_at: now,
    };
    for l in links {
        p.link(l);
    }
    Ok((Ok(p), staged))
}

fn relink(ctx: &mut Context, id: &str, uid: &str, link: bool) -> Outcome {
    let sp = ctx.store.photo(id)?;
    if sp.item.deleted {
        return Err(usage(format!(
            "photo {} is in the trash (`holdfast undelete {}` first)",
            sp.item.uid, sp.item.uid
        )));
    }
    let mut p = sp.photo.clone();
    if link {
        check_target(ctx, uid)?;
        if !p.link(uid) {
            println!("photo {} is already linked to {uid}", p.id);
            return Ok(exit::OK);
        }
    } else if !p.unlink(uid) {
        return Err(usage(format!("photo {} is not linked to {uid}", p.id)));
    }
    ctx.store
        .save_photo(&sp.item, &p, if link { "link" } else { "unlink" })?;
    println!(
        "photo {} {} {uid}",
        p.id,
        if link { "linked to" } else { "unlinked from" }
    );
    Ok(exit::OK)
}

fn set_caption(ctx: &mut Context, id: &str, caption: &str) -> Outcome {
    let sp = ctx.store.photo(id)?;
    let mut p = sp.photo.clone();
    p.caption = Some(caption.to_string()).filter(|c| !c.is_empty());
    if p.caption != sp.photo.caption {
        ctx.store.save_photo(&sp.item, &p, "caption")?;
    }
    println!(
        "photo {}: caption {:?}",
        p.id,
        p.caption.unwrap_or_default()
    );
    Ok(exit::OK)
}

/// A file name that is safe to create in the export folder: the last path component only.
fn safe_name(p: &PhotoRef) -> String {
    let fallback = format!("{}.{}", p.id, p.extension());
    let Some(name) = p.original_name.as_deref() else {
        return fallback;
    };
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() || name == "." || name == ".." || name.contains('\0') {
        fallback
    } else {
        name.to_string()
    }
}

/// `name`, or `stem-2.ext`, `stem-3.ext` … until one is free in `used`.
fn unique_name(name: &str, used: &mut HashSet<String>) -> String {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    let mut candidate = name.to_string();
    let mut n = 2;
    while used.contains(&candidate.to_lowercase()) {
        candidate = format!("{stem}-{n}{ext}");
        n += 1;
    }
    used.insert(candidate.to_lowercase());
    candidate
}

fn export(ctx: &mut Context, dir: &Path) -> Outcome {
    fs::create_dir_all(dir).map_err(|e| usage(format!("{}: {e}", dir.display())))?;
    let mut used: HashSet<String> = fs::read_dir(dir)
        .map_err(|e| usage(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_lowercase())
        .collect();
    let blobs = Blobs::new(ctx.store.data_dir());
    let photos = ctx.store.photos(false)?;
    let mut errors = Vec::new();
    let mut written = 0;
    for sp in &photos {
        let name = unique_name(&safe_name(&sp.photo), &mut used);
        let target = dir.join(&name);
        match copy_verified(&blobs, &sp.photo, &target) {
            Ok(()) => {
                written += 1;
                if !ctx.json {
                    println!("{}\t{}", sp.photo.id, target.display());
                }
            }
            Err(e) => {
                let _ = fs::remove_file(&target);
                errors.push(format!("photo {}: {e}", sp.photo.id));
            }
        }
    }
    for e in &errors {
        eprintln!("holdfast: {e}");
    }
    let code = if errors.is_empty() {
        exit::OK
    } else {
        exit::ITEM_ERRORS
    };
    if ctx.json {
        super::emit(&format!(
            "{}\n",
            json!({"exported": written, "errors": errors, "exit": code})
        ));
    }
    eprintln!(
        "photos export: {written} written to {}, {} error(s)",
        dir.display(),
        errors.len()
    );
    Ok(code)
}

/// Copies the blob to `target` (never over an existing file), checking its hash on the way.
fn copy_verified(blobs: &Blobs, p: &PhotoRef, target: &Path) -> Result<(), String> {
    use sha2::Digest;
    let src = blobs.path(&p.sha256);
    let mut from = File::open(&src).map_err(|e| {
        format!(
            "blob {} missing from the store ({e}); `holdfast doctor --repair` fetches it from the server",
            p.sha256
        )
    })?;
    let mut to = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
        .map_err(|e| format!("{}: {e}", target.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = from.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])
            .map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let actual = hex(&hasher.finalize());
    if actual != p.sha256 {
        return Err(format!(
            "blob {} is corrupt (its bytes hash to {actual}); not exported. \
             `holdfast doctor --repair` fetches a good copy from the server",
            p.sha256
        ));
    }
    Ok(())
}

/// Rows of the `list photos` table.
pub fn table_rows(photos: &[StoredPhoto]) -> Vec<Vec<String>> {
    photos
        .iter()
        .map(|sp| {
            let p = &sp.photo;
            vec![
                p.taken_at
                    .clone()
                    .unwrap_or_else(|| p.created_at.clone())
                    .replace('T', " "),
                human_size(p.size),
                match (p.width, p.height) {
                    (Some(w), Some(h)) => format!("{w}×{h}"),
                    _ => String::new(),
                },
                p.caption
                    .clone()
                    .or_else(|| p.original_name.clone())
                    .unwrap_or_default(),
                p.links.join(" "),
                sp.item.flags.names().join(","),
                p.id.clone(),
            ]
        })
        .collect()
}

pub fn print_table(photos: &[StoredPhoto]) {
    if photos.is_empty() {
        println!("No photos. Add some with `holdfast photos add PATH...`.");
        return;
    }
    table::print(
        &[
            "TAKEN/ADDED",
            "SIZE",
            "PIXELS",
            "CAPTION",
            "LINKS",
            "FLAGS",
            "ID",
        ],
        &table_rows(photos),
    );
}

/// 1.2 MB, 340 KB, 12 B.
pub fn human_size(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1} MB", n as f64 / 1e6)
    } else if n >= 1000 {
        format!("{} KB", n / 1000)
    } else {
        format!("{n} B")
    }
}

/// What `doctor` found about photos.
#[derive(Debug, Default, serde::Serialize)]
pub struct PhotoHealth {
    pub blobs_checked: usize,
    /// Blobs a reference needs that are not in the store (sha256).
    pub missing: Vec<String>,
    /// Blobs whose bytes no longer hash to their name.
    pub corrupt: Vec<String>,
    /// Blobs in the store no reference (live or trashed) uses.
    pub orphans: Vec<String>,
    /// Blobs fetched again from the server (`--repair`).
    pub repaired: Vec<String>,
    /// Remote blobs re-hashed (`--deep`).
    pub remote_rehashed: usize,
    /// Everything else: the server's problems, failed downloads, an unreachable server.
    pub problems: Vec<String>,
}

impl PhotoHealth {
    /// True when something needs the user (missing or corrupt blobs not repaired, problems).
    pub fn unhealthy(&self) -> bool {
        self.missing.iter().any(|s| !self.repaired.contains(s))
            || self.corrupt.iter().any(|s| !self.repaired.contains(s))
            || !self.problems.is_empty()
    }
}

/// `doctor`'s photo part: every blob present and whole, orphans listed; `--repair` fetches
/// missing or corrupt blobs from the account's photos folder, `--deep` re-hashes the blobs
/// there.
pub fn doctor(ctx: &Context, deep: bool, repair: bool) -> Result<PhotoHealth, Failure> {
    use crate::store::BlobHealth;
    let blobs = Blobs::new(ctx.store.data_dir());
    let refs = ctx.store.blob_refs()?;
    let mut h = PhotoHealth::default();
    let mut wanted = HashSet::new();
    for b in &refs {
        wanted.insert(b.sha256.clone());
        h.blobs_checked += 1;
        match blobs.check(&b.sha256)? {
            BlobHealth::Ok => {}
            BlobHealth::Missing => h.missing.push(b.sha256.clone()),
            BlobHealth::Corrupt { .. } => h.corrupt.push(b.sha256.clone()),
        }
    }
    h.orphans = blobs
        .list()?
        .into_iter()
        .filter(|s| !wanted.contains(s))
        .collect();
    let needs_server = deep || (repair && (!h.missing.is_empty() || !h.corrupt.is_empty()));
    if needs_server && !refs.is_empty() {
        let options = crate::sync::dav::Options {
            timeout: std::time::Duration::from_secs(ctx.config.sync.timeout_secs),
            ..Default::default()
        };
        for a in ctx
            .config
            .accounts
            .iter()
            .filter(|a| a.photos_url.is_some())
        {
            let url = a.photos_url.clone().unwrap_or_default();
            let client = crate::sync::dav::Client::new(
                &url,
                a.username.as_deref(),
                a.password_value()?,
                options.clone(),
            );
            let result = client
                .map_err(crate::sync::engine::SyncError::from)
                .and_then(|c| {
                    crate::sync::photos::check_remote(&ctx.store, &c, &url, repair, deep)
                });
            match result {
                Ok(r) => {
                    h.repaired.extend(r.repaired);
                    h.remote_rehashed += r.rehashed;
                    h.problems
                        .extend(r.problems.into_iter().map(|p| format!("{}: {p}", a.name)));
                }
                Err(e) => h.problems.push(format!("{}: {e}", a.name)),
            }
        }
        if !ctx.config.accounts.iter().any(|a| a.photos_url.is_some()) {
            h.problems.push(
                "no account has photos_url: there is no server copy to repair from or re-hash"
                    .into(),
            );
        }
    }
    Ok(h)
}

/// The human lines of `doctor`'s photo part.
pub fn print_health(h: &PhotoHealth, repair: bool) {
    if h.blobs_checked == 0 && h.orphans.is_empty() {
        println!("photos: none");
        return;
    }
    let fixed = |s: &String| h.repaired.contains(s);
    println!(
        "photos: {} blob(s) checked, {} missing, {} corrupt, {} orphan(s){}",
        h.blobs_checked,
        h.missing.len(),
        h.corrupt.len(),
        h.orphans.len(),
        if h.remote_rehashed > 0 {
            format!(", {} re-hashed on the server", h.remote_rehashed)
        } else {
            String::new()
        }
    );
    for s in &h.missing {
        println!(
            "  missing {s}{}",
            if fixed(s) {
                " (fetched from the server)"
            } else if repair {
                ""
            } else {
                " (`holdfast doctor --repair` fetches it from the server)"
            }
        );
    }
    for s in &h.corrupt {
        println!(
            "  corrupt {s}{}",
            if fixed(s) {
                " (replaced by the server's copy; the damaged file is kept beside it)"
            } else if repair {
                ""
            } else {
                " (`holdfast doctor --repair` fetches a good copy from the server)"
            }
        );
    }
    for s in &h.orphans {
        println!("  orphan  {s} (no photo reference uses it; kept)");
    }
    for p in &h.problems {
        println!("  problem: {p}");
    }
}
