//! Photo sync with an account's `photos_url` WebDAV folder (DESIGN.md §4 applied to photos).
//!
//! The folder holds one blob per photo, `<sha256>.<ext>`, and one JSON sidecar per reference,
//! `<id>.json`. Blobs are content-addressed: uploaded once with `If-None-Match: *`, checked by
//! size against the listing, downloaded with the hash checked as they stream (a blob that does
//! not hash to its name is rejected, never stored). Sidecars are items: the same planner as
//! CalDAV (`plan::plan`), etags and `If-Match`, a three-way merge of their fields, conflicts
//! kept as revisions, and the deletion guard on sidecars that vanish.
//!
//! Never deletes a local blob, never deletes a blob on the server, and a sidecar or blob missing
//! there never removes anything here: at most a reference moves to the trash, guarded (I1, I3).
//! A no-op sync is one PROPFIND of the folder.

use std::collections::HashMap;

use super::dav::{Client, DavError, FileMember, Folder, Precondition};
use super::engine::{Guard, Settings, SyncError};
use super::plan::{plan, Action, RemoteView};
use crate::format::lines::RawItem;
use crate::format::photo::{self, from_sidecar, is_sha256, to_sidecar};
use crate::model::{Kind, PhotoRef, Problem};
use crate::store::{BlobHealth, Blobs, Store, SyncItem, SyncWrite};

/// What happened in one account's photos folder.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PhotoReport {
    pub url: String,
    /// Sidecars taken from the server (new or changed there).
    pub pulled: usize,
    /// Sidecars uploaded (new or changed here).
    pub pushed: usize,
    pub blobs_uploaded: usize,
    pub blobs_fetched: usize,
    pub deleted_remote: usize,
    pub moved_to_trash: usize,
    pub merged: usize,
    pub conflicts: usize,
    /// Problems with single photos (a blob that fails its hash, a sidecar that is not one …).
    pub errors: Vec<String>,
    pub guard: Option<Guard>,
    /// The photo sync could not run at all.
    pub error: Option<String>,
    pub unreachable: bool,
    pub requests: u64,
}

impl PhotoReport {
    pub fn guard_tripped(&self) -> bool {
        self.guard.is_some()
    }
}

/// Media type of a blob on upload.
fn content_type(p: &PhotoRef) -> String {
    if p.mime.starts_with("image/") {
        p.mime.clone()
    } else {
        "application/octet-stream".into()
    }
}

/// The server's files, sorted into blobs and sidecars.
struct Remote {
    sidecars: Vec<FileMember>,
    blobs: HashMap<String, FileMember>,
}

fn sort_remote(folder: Folder) -> Remote {
    let mut sidecars = Vec::new();
    let mut blobs = HashMap::new();
    for f in folder.files {
        if f.name.ends_with(".json") {
            sidecars.push(f);
        } else if let Some((stem, _)) = f.name.split_once('.') {
            if is_sha256(stem) {
                blobs.insert(stem.to_string(), f);
            }
        }
    }
    Remote { sidecars, blobs }
}

/// Syncs the photos of `account` with `folder` (the `photos_url`; `client` is made for it).
pub fn sync_photos(
    store: &mut Store,
    client: &Client,
    account: &str,
    folder: &str,
    settings: &Settings,
) -> PhotoReport {
    let mut report = PhotoReport {
        url: folder.to_string(),
        ..Default::default()
    };
    if let Err(e) = run(store, client, account, folder, settings, &mut report) {
        fail(&mut report, e);
    }
    report.requests = client.requests();
    report
}

fn fail(report: &mut PhotoReport, e: SyncError) {
    report.unreachable = matches!(&e, SyncError::Dav(d) if d.is_unreachable());
    report.error = Some(e.to_string());
}

/// One sync's working set.
struct Run<'a> {
    client: &'a Client,
    blobs: Blobs,
    folder: String,
    collection: i64,
}

fn run(
    store: &mut Store,
    client: &Client,
    account: &str,
    folder_url: &str,
    settings: &Settings,
    report: &mut PhotoReport,
) -> Result<(), SyncError> {
    let folder = client.folder_path(folder_url)?;
    let collection = store.bind_photos(account, &folder)?;
    let local = store.sync_items(collection)?;
    let synced = local.iter().filter(|i| i.href.is_some()).count();
    let listing = match client.propfind_folder(&folder) {
        Ok(l) => Some(l),
        Err(DavError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let r = Run {
        client,
        blobs: Blobs::new(store.data_dir()),
        folder: folder.clone(),
        collection,
    };
    let remote = match listing {
        Some(l) => sort_remote(l),
        None if synced > 0 && !settings.accept_remote_deletions => {
            report.guard = Some(Guard {
                held_back: synced,
                synced,
                reason: format!(
                    "the photos folder {folder} is missing on the server, and {synced} photo \
                     reference(s) were synced there"
                ),
            });
            return Ok(());
        }
        None => {
            client.mkcol(&folder)?;
            sort_remote(Folder::default())
        }
    };
    let view = RemoteView::Full(
        remote
            .sidecars
            .iter()
            .map(|m| (m.href.clone(), m.etag.clone()))
            .collect(),
    );
    let p = plan(&local, &view);
    let guarded = p.guard_trips(settings.guard_fraction, settings.guard_min)
        && !settings.accept_remote_deletions;
    if guarded {
        report.guard = Some(Guard {
            held_back: p.trashes(),
            synced: p.synced,
            reason: if p.emptied {
                format!("the photos folder {folder} has no sidecars left on the server")
            } else {
                format!(
                    "the server removed {} of {} synced photo sidecars (more than {:.0}%)",
                    p.trashes(),
                    p.synced,
                    settings.guard_fraction * 100.0
                )
            },
        });
    }
    let by_id: HashMap<i64, &SyncItem> = local.iter().map(|i| (i.id, i)).collect();
    // The listing's sizes are free to check: a blob there with another size is damaged.
    for sp in store.photos(false)? {
        let p = &sp.photo;
        if let Some(m) = remote.blobs.get(&p.sha256) {
            if m.size.is_some_and(|s| s != p.size) {
                report.errors.push(format!(
                    "photo {}: the server holds {} bytes for blob {}, not {}: it is damaged \
                     there (your copy is fine); `holdfast restore-remote` uploads it again",
                    p.id,
                    m.size.unwrap_or(0),
                    m.href,
                    p.size
                ));
            }
        }
    }
    // Blobs first: a sidecar is never on the server before its bytes are.
    let mut uploaded = upload_blobs(store, &r, &remote, report)?;
    let mut writes = Vec::new();
    for action in p.actions {
        match action {
            Action::Fetch { href, etag, item } => {
                let sync_item = item.and_then(|id| by_id.get(&id).copied());
                if let Err(e) = fetch(store, &r, &remote, &href, &etag, sync_item, report) {
                    if matches!(&e, SyncError::Dav(d) if d.is_unreachable()) {
                        return Err(e);
                    }
                    report.errors.push(format!("{href}: {e}"));
                }
            }
            Action::Push { item, href, etag } => {
                let pre = match etag {
                    Some(e) => Precondition::Match(e),
                    None => Precondition::Create,
                };
                push(store, &r, item, &href, pre, &mut writes, report)?;
            }
            Action::Create { item } => {
                let Some(si) = by_id.get(&item) else { continue };
                let href = client.child_href(&folder, &format!("{}.json", si.uid))?;
                push(
                    store,
                    &r,
                    item,
                    &href,
                    Precondition::Create,
                    &mut writes,
                    report,
                )?;
            }
            Action::Recreate { item, href } => {
                push(
                    store,
                    &r,
                    item,
                    &href,
                    Precondition::Create,
                    &mut writes,
                    report,
                )?;
            }
            Action::Delete { item, href, etag } => {
                match client.delete_file(&href, etag.as_deref().unwrap_or("*")) {
                    Ok(()) => {
                        report.deleted_remote += 1;
                        writes.push(SyncWrite::Forget { item_id: item });
                    }
                    // Changed there meanwhile: the next sync fetches it (and restores it here,
                    // flagged: local deleted / remote edited).
                    Err(DavError::PreconditionFailed { .. }) => {}
                    Err(e) if e.is_unreachable() => return Err(e.into()),
                    Err(e) => report.errors.push(format!("{href}: {e}")),
                }
            }
            Action::Trash { item } => {
                if !guarded {
                    report.moved_to_trash += 1;
                    writes.push(SyncWrite::Trash { item_id: item });
                }
            }
            Action::Forget { item } => writes.push(SyncWrite::Forget { item_id: item }),
        }
        if writes.len() >= 200 {
            store.apply_sync(collection, std::mem::take(&mut writes), None)?;
        }
    }
    if !writes.is_empty() {
        store.apply_sync(collection, writes, None)?;
    }
    // Pushes may have needed blobs the first pass did not (a sidecar created meanwhile).
    uploaded += upload_blobs(store, &r, &remote, report)?;
    if uploaded > 0 {
        verify_uploads(store, &r, report)?;
    }
    fetch_missing_blobs(store, &r, &remote, report)?;
    Ok(())
}

/// Uploads the blob of every live reference the server lacks. Returns how many went up.
fn upload_blobs(
    store: &Store,
    r: &Run<'_>,
    remote: &Remote,
    report: &mut PhotoReport,
) -> Result<usize, SyncError> {
    let mut n = 0;
    let mut done = std::collections::HashSet::new();
    for sp in store.photos(false)? {
        let p = &sp.photo;
        if remote.blobs.contains_key(&p.sha256) || !done.insert(p.sha256.clone()) {
            continue;
        }
        let path = r.blobs.path(&p.sha256);
        // Read once more before it goes up: damaged bytes must not become the backup.
        match r.blobs.check(&p.sha256)? {
            BlobHealth::Ok => {}
            BlobHealth::Missing => {
                report.errors.push(format!(
                    "photo {}: blob {} is missing here, so it cannot be uploaded \
                     (`holdfast doctor` checks the store)",
                    p.id, p.sha256
                ));
                continue;
            }
            BlobHealth::Corrupt { actual, .. } => {
                report.errors.push(format!(
                    "photo {}: the local blob {} is damaged (its bytes hash to {actual}); not \
                     uploaded. `holdfast doctor --repair` fetches a good copy if a server has one",
                    p.id, p.sha256
                ));
                continue;
            }
        }
        let href = r
            .client
            .child_href(&r.folder, &format!("{}.{}", p.sha256, p.extension()))?;
        match r
            .client
            .put_file(&href, &path, &content_type(p), &Precondition::Create)
        {
            Ok(_) => {
                n += 1;
                report.blobs_uploaded += 1;
            }
            // Someone uploaded the same bytes meanwhile: the same name is the same content.
            Err(DavError::PreconditionFailed { .. }) => {}
            Err(e) if e.is_unreachable() => return Err(e.into()),
            Err(e) => report.errors.push(format!("{href}: upload failed: {e}")),
        }
    }
    Ok(n)
}

/// After uploads: one listing, and every live reference's blob must be there with its size.
fn verify_uploads(store: &Store, r: &Run<'_>, report: &mut PhotoReport) -> Result<(), SyncError> {
    let remote = sort_remote(r.client.propfind_folder(&r.folder)?);
    for sp in store.photos(false)? {
        let p = &sp.photo;
        match remote.blobs.get(&p.sha256) {
            None => report.errors.push(format!(
                "photo {}: blob {} is not on the server after its upload",
                p.id, p.sha256
            )),
            Some(m) if m.size.is_some_and(|s| s != p.size) => report.errors.push(format!(
                "photo {}: the server holds {} bytes for blob {}, not {}: the upload was \
                 damaged; `holdfast restore-remote` uploads it again",
                p.id,
                m.size.unwrap_or(0),
                p.sha256,
                p.size
            )),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Downloads blob `sha256` into the store with its hash checked on the way. A blob that hashes
/// to anything else is thrown away and reported. `replace` swaps out a corrupt local copy.
pub fn fetch_blob(
    client: &Client,
    blobs: &Blobs,
    member: &FileMember,
    sha256: &str,
    size: u64,
    replace: bool,
) -> Result<(), String> {
    let (mut file, temp) = blobs.temp_file().map_err(|e| e.to_string())?;
    let got = match client.get_to_file(&member.href, &mut file, size, size) {
        Ok(g) => g,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(format!("download failed: {e}"));
        }
    };
    if got.sha256 != sha256 || got.size != size {
        let _ = std::fs::remove_file(&temp);
        return Err(format!(
            "the server's blob {} is corrupt ({} bytes hashing to {}; expected {size} bytes \
             hashing to {sha256}): rejected, nothing stored",
            member.href, got.size, got.sha256
        ));
    }
    let r = if replace {
        blobs.replace_corrupt(file, &temp, sha256).map(|_| ())
    } else {
        blobs.install(file, &temp, sha256).map(|_| ())
    };
    r.map_err(|e| e.to_string())
}

/// Every live reference whose blob is missing here, fetched from the server if it has it.
fn fetch_missing_blobs(
    store: &Store,
    r: &Run<'_>,
    remote: &Remote,
    report: &mut PhotoReport,
) -> Result<(), SyncError> {
    for sp in store.photos(false)? {
        let p = &sp.photo;
        if r.blobs.has(&p.sha256) {
            continue;
        }
        match remote.blobs.get(&p.sha256) {
            Some(m) => match fetch_blob(r.client, &r.blobs, m, &p.sha256, p.size, false) {
                Ok(()) => report.blobs_fetched += 1,
                Err(e) => report.errors.push(format!("photo {}: {e}", p.id)),
            },
            None => report.errors.push(format!(
                "photo {}: blob {} is neither here nor on the server",
                p.id, p.sha256
            )),
        }
    }
    Ok(())
}

/// Makes sure the blob a pulled sidecar needs is here (downloading it if not).
fn ensure_blob(r: &Run<'_>, remote: &Remote, p: &PhotoRef) -> Result<bool, String> {
    if r.blobs.has(&p.sha256) {
        return Ok(false);
    }
    let m = remote.blobs.get(&p.sha256).ok_or_else(|| {
        format!(
            "its blob {} is not on the server (nor here); the reference is not taken until it is",
            p.sha256
        )
    })?;
    fetch_blob(r.client, &r.blobs, m, &p.sha256, p.size, false)?;
    Ok(true)
}

fn raw_item(p: &PhotoRef, raw: Vec<u8>) -> RawItem {
    RawItem {
        kind: Kind::Photo,
        uid: p.id.clone(),
        raw,
        line: 1,
        problems: Vec::<Problem>::new(),
        line_map: vec![(1, 1)],
    }
}

/// A sidecar changed or new on the server: fetched, checked, its blob made present, and
/// applied (pulled, merged with local changes, or kept as a conflict).
fn fetch(
    store: &mut Store,
    r: &Run<'_>,
    remote: &Remote,
    href: &str,
    etag: &str,
    item: Option<&SyncItem>,
    report: &mut PhotoReport,
) -> Result<(), SyncError> {
    let got = r.client.get(href)?;
    let theirs = match from_sidecar(&got.body) {
        Ok(p) => p,
        Err(reason) => {
            report.errors.push(format!(
                "{href}: {reason}; the server's file is left alone and nothing local changes"
            ));
            return Ok(());
        }
    };
    let expected = format!("{}.json", theirs.id);
    if !href.ends_with(&expected) {
        report.errors.push(format!(
            "{href}: the sidecar says it is photo {}, which is not its file name; ignored",
            theirs.id
        ));
        return Ok(());
    }
    let etag = Some(etag.to_string()).filter(|e| !e.is_empty());
    let collection = r.collection;
    match item {
        None => {
            match ensure_blob(r, remote, &theirs) {
                Ok(fetched) => report.blobs_fetched += usize::from(fetched),
                Err(e) => {
                    report.errors.push(format!("{href}: {e}"));
                    return Ok(());
                }
            }
            store.apply_sync(
                collection,
                vec![SyncWrite::Pull {
                    item_id: None,
                    href: href.to_string(),
                    etag,
                    item: raw_item(&theirs, got.body),
                    undelete: false,
                    conflict: false,
                }],
                None,
            )?;
            report.pulled += 1;
        }
        Some(si) => {
            let mine_raw = store.item_raw(si.id)?;
            if mine_raw == got.body {
                store.apply_sync(
                    collection,
                    vec![SyncWrite::Confirm {
                        item_id: si.id,
                        href: href.to_string(),
                        etag,
                        rev: si.rev,
                        base: got.body,
                    }],
                    None,
                )?;
                return Ok(());
            }
            if let Err(e) = ensure_blob(r, remote, &theirs) {
                report.errors.push(format!("{href}: {e}"));
                return Ok(());
            }
            if si.deleted || !si.locally_changed() {
                // Unchanged here: theirs is taken. Deleted here, edited there: it comes back,
                // flagged for the user (§4).
                store.apply_sync(
                    collection,
                    vec![SyncWrite::Pull {
                        item_id: Some(si.id),
                        href: href.to_string(),
                        etag,
                        item: raw_item(&theirs, got.body),
                        undelete: si.deleted,
                        conflict: si.deleted,
                    }],
                    None,
                )?;
                report.pulled += 1;
                report.conflicts += usize::from(si.deleted);
                return Ok(());
            }
            // Both changed: three-way merge of the fields against the agreed base.
            let base = store.sync_base(si.id)?.and_then(|b| from_sidecar(&b).ok());
            let Ok(mine) = from_sidecar(&mine_raw) else {
                report.errors.push(format!(
                    "{href}: the local sidecar of {} is unreadable; not merged",
                    si.uid
                ));
                return Ok(());
            };
            let merged = photo::merge(base.as_ref(), &mine, &theirs);
            let merged_raw = to_sidecar(&merged.photo);
            let mut writes = Vec::new();
            if merged.conflict {
                writes.push(SyncWrite::Conflict {
                    item_id: si.id,
                    remote: got.body.clone(),
                });
                report.conflicts += 1;
            } else {
                report.merged += 1;
            }
            if merged_raw != mine_raw {
                writes.push(SyncWrite::Merge {
                    item_id: si.id,
                    raw: merged_raw.clone(),
                });
            }
            store.apply_sync(collection, writes, None)?;
            // The merged text goes up over the version just read.
            let mut after = Vec::new();
            let pre = match &etag {
                Some(e) => Precondition::Match(e.clone()),
                None => Precondition::Create,
            };
            push(store, r, si.id, href, pre, &mut after, report)?;
            store.apply_sync(collection, after, None)?;
        }
    }
    Ok(())
}

/// PUTs an item's current sidecar; on success records what the server holds.
fn push(
    store: &mut Store,
    r: &Run<'_>,
    item_id: i64,
    href: &str,
    pre: Precondition,
    writes: &mut Vec<SyncWrite>,
    report: &mut PhotoReport,
) -> Result<(), SyncError> {
    let item = store.get(item_id)?;
    let p = match from_sidecar(&item.raw) {
        Ok(p) => p,
        Err(reason) => {
            report.errors.push(format!(
                "photo {}: its sidecar is unreadable ({reason}); not uploaded",
                item.uid
            ));
            return Ok(());
        }
    };
    if !r.blobs.has(&p.sha256) {
        report.errors.push(format!(
            "photo {}: blob {} is missing here; the sidecar is not uploaded without it",
            p.id, p.sha256
        ));
        return Ok(());
    }
    match r
        .client
        .put_small(href, &item.raw, "application/json", &pre)
    {
        Ok(etag) => {
            report.pushed += 1;
            writes.push(SyncWrite::Confirm {
                item_id,
                href: href.to_string(),
                etag,
                rev: item.rev,
                base: item.raw,
            });
        }
        // It changed (or appeared) there meanwhile: the next sync fetches and merges it.
        Err(DavError::PreconditionFailed { .. }) => {}
        Err(e) if e.is_unreachable() => return Err(e.into()),
        Err(e) => report.errors.push(format!("{href}: upload failed: {e}")),
    }
    Ok(())
}

/// `restore-remote` for photos: every blob of a live reference the server lacks (or holds with
/// the wrong size) and every live sidecar it lacks go up again.
pub fn restore_photos(
    store: &mut Store,
    client: &Client,
    account: &str,
    folder_url: &str,
) -> PhotoReport {
    let mut report = PhotoReport {
        url: folder_url.to_string(),
        ..Default::default()
    };
    let result = (|| -> Result<(), SyncError> {
        let folder = client.folder_path(folder_url)?;
        let collection = store.bind_photos(account, &folder)?;
        let listing = match client.propfind_folder(&folder) {
            Ok(l) => l,
            Err(DavError::NotFound { .. }) => {
                client.mkcol(&folder)?;
                Folder::default()
            }
            Err(e) => return Err(e.into()),
        };
        let mut remote = sort_remote(listing);
        let r = Run {
            client,
            blobs: Blobs::new(store.data_dir()),
            folder: folder.clone(),
            collection,
        };
        // Blobs the server holds with the wrong size are replaced (If-Match their etag).
        for sp in store.photos(false)? {
            let p = &sp.photo;
            if let Some(m) = remote.blobs.get(&p.sha256) {
                if m.size.is_some_and(|s| s != p.size) && r.blobs.has(&p.sha256) {
                    let path = r.blobs.path(&p.sha256);
                    match client.put_file(
                        &m.href,
                        &path,
                        &content_type(p),
                        &Precondition::Match(m.etag.clone()),
                    ) {
                        Ok(_) => report.blobs_uploaded += 1,
                        Err(e) if e.is_unreachable() => return Err(e.into()),
                        Err(e) => report.errors.push(format!("{}: {e}", m.href)),
                    }
                }
            }
        }
        remote.blobs.retain(|_, m| m.size.is_some());
        let uploaded = upload_blobs(store, &r, &remote, &mut report)?;
        let present: std::collections::HashSet<&str> =
            remote.sidecars.iter().map(|m| m.name.as_str()).collect();
        let mut writes = Vec::new();
        for si in store.sync_items(collection)? {
            if si.deleted || present.contains(format!("{}.json", si.uid).as_str()) {
                continue;
            }
            let href = client.child_href(&folder, &format!("{}.json", si.uid))?;
            push(
                store,
                &r,
                si.id,
                &href,
                Precondition::Create,
                &mut writes,
                &mut report,
            )?;
        }
        store.apply_sync(collection, writes, None)?;
        if uploaded > 0 {
            verify_uploads(store, &r, &mut report)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        fail(&mut report, e);
    }
    report.requests = client.requests();
    report
}

/// What `doctor` asks of the server for photos.
#[derive(Debug, Clone, Default)]
pub struct RemoteCheck {
    /// Blobs fetched again into the store (missing or corrupt here).
    pub repaired: Vec<String>,
    /// Problems: blobs the server lacks, corrupt there, failed downloads.
    pub problems: Vec<String>,
    /// Remote blobs re-hashed (`--deep`).
    pub rehashed: usize,
}

/// `doctor --repair` (blobs missing or corrupt here are fetched from the server, hash checked)
/// and `doctor --deep` (every remote blob of a live reference is downloaded to a temp file and
/// re-hashed; a mismatch is reported, the local copy is never touched).
pub fn check_remote(
    store: &Store,
    client: &Client,
    folder_url: &str,
    repair: bool,
    deep: bool,
) -> Result<RemoteCheck, SyncError> {
    let mut out = RemoteCheck::default();
    let folder = client.folder_path(folder_url)?;
    let remote = sort_remote(client.propfind_folder(&folder)?);
    let blobs = Blobs::new(store.data_dir());
    for b in store.blob_refs()? {
        let health = blobs.check(&b.sha256)?;
        let m = remote.blobs.get(&b.sha256);
        if repair && health != BlobHealth::Ok {
            match m {
                Some(m) => {
                    let replace = matches!(health, BlobHealth::Corrupt { .. });
                    match fetch_blob(client, &blobs, m, &b.sha256, b.size, replace) {
                        Ok(()) => out.repaired.push(b.sha256.clone()),
                        Err(e) => out.problems.push(e),
                    }
                }
                None => out.problems.push(format!(
                    "blob {} is not on the server either: it cannot be repaired from there",
                    b.sha256
                )),
            }
        }
        // Only live references' blobs are uploaded; one only the trash uses may not be there.
        if deep && (b.live || m.is_some()) {
            let Some(m) = m else {
                out.problems
                    .push(format!("blob {} is not on the server", b.sha256));
                continue;
            };
            let (mut file, temp) = blobs.temp_file()?;
            let got = client.get_to_file(&m.href, &mut file, b.size, b.size);
            let _ = std::fs::remove_file(&temp);
            out.rehashed += 1;
            match got {
                Ok(g) if g.sha256 == b.sha256 => {}
                Ok(g) => out.problems.push(format!(
                    "the server's blob {} is corrupt: its {} bytes hash to {}",
                    m.href, g.size, g.sha256
                )),
                Err(e) => out.problems.push(format!("{}: {e}", m.href)),
            }
        }
    }
    Ok(out)
}
