//! Photo references as items: kind `photo`, in the `Photos` collection, their text the JSON
//! sidecar (so revisions, the trash, history and sync state come with every other item's).
//! Beside each, `photo_refs` (hash, size) and `photo_links` (which contact, event or to-do UIDs
//! it belongs to) are kept from the sidecar in the same transaction, for the blob checks and
//! the "photos of this contact" lookup.

use std::path::Path;

use rusqlite::{params, OptionalExtension, Transaction};
use sha2::Digest;

use super::items::{write, Derived, StoredItem};
use super::{fold_for_search, now_text, Columns, Result, Store, StoreError};
use crate::format::photo::{self, from_sidecar, to_sidecar, CardPhoto};
use crate::model::{Kind, PhotoRef, Problem, PHOTOS_COLLECTION};

/// Marks the collection bound to an account's `photos_url` (collections.remote_kind): the
/// CalDAV/CardDAV engine leaves it alone.
pub const PHOTOS_REMOTE_KIND: &str = "photos";

/// The derived columns of a photo reference, from its sidecar.
pub(super) fn derive_photo(raw: &[u8], mut problems: Vec<Problem>) -> Derived {
    let p = match from_sidecar(raw) {
        Ok(p) => Some(p),
        Err(reason) => {
            problems.push(Problem { line: 1, reason });
            None
        }
    };
    let (title, sort_key, data, search) = match &p {
        Some(p) => {
            let title = p
                .caption
                .clone()
                .filter(|c| !c.trim().is_empty())
                .or_else(|| p.original_name.clone())
                .unwrap_or_else(|| format!("photo {}", &p.sha256[..12]));
            let when = p.taken_at.clone().unwrap_or_else(|| p.created_at.clone());
            let search = fold_for_search(&format!(
                "{} {}",
                p.caption.as_deref().unwrap_or_default(),
                p.original_name.as_deref().unwrap_or_default()
            ));
            let data = serde_json::to_value(p).unwrap_or_default();
            (title, format!("{when} {}", p.id), data.to_string(), search)
        }
        None => (
            "unreadable photo sidecar".to_string(),
            String::new(),
            "{}".to_string(),
            String::new(),
        ),
    };
    Derived {
        kind: Kind::Photo,
        columns: Columns {
            title,
            sort_key,
            data,
            start_ts: None,
            end_ts: None,
            all_day: false,
            recurring: false,
            due_ts: None,
            priority: None,
            status: None,
            completed_ts: None,
            parent: None,
            bday_md: None,
            search,
            location: None,
        },
        occurrences: Vec::new(),
        problems,
    }
}

/// Rewrites the photo tables of item `id` from its sidecar (inside the write's transaction).
pub(super) fn index_photo(tx: &Transaction<'_>, id: i64, raw: &[u8]) -> Result<()> {
    tx.prepare_cached("DELETE FROM photo_links WHERE item_id = ?1")?
        .execute([id])?;
    let Ok(p) = from_sidecar(raw) else {
        tx.prepare_cached("DELETE FROM photo_refs WHERE item_id = ?1")?
            .execute([id])?;
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT INTO photo_refs (item_id, sha256, size) VALUES (?1, ?2, ?3)
         ON CONFLICT (item_id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size",
    )?
    .execute(params![id, p.sha256, p.size as i64])?;
    for l in &p.links {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO photo_links (target_uid, item_id) VALUES (?1, ?2)",
        )?
        .execute(params![l, id])?;
    }
    Ok(())
}

/// One blob the database refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
    /// UIDs of the references using it (live or in the trash).
    pub photos: Vec<String>,
    /// At least one of them is live (not in the trash).
    pub live: bool,
}

/// A photo reference with its item.
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    pub item: StoredItem,
    pub photo: PhotoRef,
}

impl StoredPhoto {
    /// From a listed item: its `data` column is the sidecar's fields (lists do not read the
    /// bytes). None for an unreadable sidecar (flagged; `doctor` lists it).
    pub fn from_item(item: StoredItem) -> Option<StoredPhoto> {
        let photo = serde_json::from_value(item.data.clone())
            .ok()
            .or_else(|| from_sidecar(&item.raw).ok())?;
        Some(StoredPhoto { item, photo })
    }
}

impl Store {
    /// The id of the Photos collection (created if missing).
    pub fn photos_collection(&self) -> Result<i64> {
        self.collection_id(PHOTOS_COLLECTION)
    }

    /// Adds new photo references in one transaction.
    pub fn create_photos(&mut self, photos: &[PhotoRef], origin: &str) -> Result<()> {
        let collection = self.photos_collection()?;
        let tx = self.conn.transaction()?;
        for p in photos {
            let raw = to_sidecar(p);
            let d = derive_photo(&raw, Vec::new());
            write(
                &tx, None, collection, &p.id, &raw, &d, origin, true, None, None,
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The photo reference with this id (live or trashed); a unique prefix of the id works too.
    pub fn photo(&self, id: &str) -> Result<StoredPhoto> {
        let item = match self.find(id, Some(PHOTOS_COLLECTION)) {
            Ok(i) => i,
            Err(StoreError::NotFound(_)) if id.len() >= 4 => {
                let like = format!("{}%", id.replace(['%', '_'], ""));
                let ids: Vec<String> = self
                    .conn
                    .prepare_cached(
                        "SELECT i.uid FROM items i JOIN collections c ON c.id = i.collection_id
                         WHERE c.name = ?1 AND i.uid LIKE ?2 LIMIT 2",
                    )?
                    .query_map(params![PHOTOS_COLLECTION, like], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                match ids.as_slice() {
                    [one] => self.find(one, Some(PHOTOS_COLLECTION))?,
                    [] => {
                        return Err(StoreError::Invalid(format!(
                            "no photo with id {id:?} (see `holdfast list photos`)"
                        )))
                    }
                    _ => {
                        return Err(StoreError::Invalid(format!(
                            "photo id prefix {id:?} matches more than one photo; give more of it"
                        )))
                    }
                }
            }
            Err(StoreError::NotFound(_)) => {
                return Err(StoreError::Invalid(format!(
                    "no photo with id {id:?} (see `holdfast list photos`)"
                )))
            }
            Err(e) => return Err(e),
        };
        let photo = from_sidecar(&item.raw).map_err(|reason| {
            StoreError::Invalid(format!(
                "photo {}: its sidecar is unreadable: {reason}",
                item.uid
            ))
        })?;
        Ok(StoredPhoto { item, photo })
    }

    /// Writes a changed reference as a new revision.
    pub fn save_photo(&mut self, item: &StoredItem, p: &PhotoRef, origin: &str) -> Result<()> {
        let mut p = p.clone();
        p.updated_at = now_text();
        self.update(item, &to_sidecar(&p), origin, false)?;
        Ok(())
    }

    /// The live reference to these bytes, if any (the oldest when several).
    pub fn photo_by_sha(&self, sha256: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT i.uid FROM photo_refs p JOIN items i ON i.id = p.item_id
                 WHERE p.sha256 = ?1 AND i.deleted_at IS NULL ORDER BY i.id LIMIT 1",
            )?
            .query_row([sha256], |r| r.get(0))
            .optional()?)
    }

    /// UIDs of the live photos linked to `uid`, oldest first.
    pub fn photos_linked_to(&self, uid: &str) -> Result<Vec<String>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT i.uid FROM photo_links l JOIN items i ON i.id = l.item_id
                 WHERE l.target_uid = ?1 AND i.deleted_at IS NULL ORDER BY i.id",
            )?
            .query_map([uid], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// Every photo reference (live first, then the trash with `trash`), in list order.
    pub fn photos(&self, trash: bool) -> Result<Vec<StoredPhoto>> {
        let items = self.list(&super::Filter {
            kind: Some(Kind::Photo),
            trash,
            ..Default::default()
        })?;
        Ok(items
            .into_iter()
            .filter_map(StoredPhoto::from_item)
            .collect())
    }

    /// Every blob the references (live and trashed) need, with who needs it.
    pub fn blob_refs(&self) -> Result<Vec<BlobRef>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.sha256, p.size, group_concat(i.uid, ' '), max(i.deleted_at IS NULL)
             FROM photo_refs p JOIN items i ON i.id = p.item_id
             GROUP BY p.sha256, p.size ORDER BY p.sha256",
        )?;
        let rows = stmt.query_map([], |r| {
            let uids: String = r.get(2)?;
            Ok(BlobRef {
                sha256: r.get(0)?,
                size: r.get::<_, i64>(1)? as u64,
                photos: uids.split(' ').map(str::to_string).collect(),
                live: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The collection holding photo references bound to `account`'s photos folder, binding
    /// the Photos collection to `folder` the first time. Only one account can hold it.
    pub fn bind_photos(&mut self, account: &str, folder: &str) -> Result<i64> {
        let id = self.photos_collection()?;
        let (bound_account, href): (Option<String>, Option<String>) = self.conn.query_row(
            "SELECT account, href FROM collections WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        match (bound_account, href) {
            (Some(a), Some(h)) if a == account && h == folder => Ok(id),
            (Some(a), Some(_)) if a != account => Err(StoreError::Invalid(format!(
                "the Photos collection syncs with account {a:?}; only one account can have \
                 photos_url (remove it from {account:?})"
            ))),
            (_, old) => {
                // A new folder URL: what was confirmed on the old one says nothing about it.
                if old.is_some() {
                    self.conn
                        .execute("DELETE FROM sync_state WHERE collection_id = ?1", [id])?;
                }
                self.conn.execute(
                    "UPDATE collections SET account = ?2, href = ?3, remote_kind = ?4,
                       sync_token = NULL, ctag = NULL WHERE id = ?1",
                    params![id, account, folder, PHOTOS_REMOTE_KIND],
                )?;
                Ok(id)
            }
        }
    }

    /// Photo references for contacts' PHOTO properties (inline ones: blob stored, reference
    /// linked to the contact; one reference per image and contact), all in one transaction.
    /// Returns (index in `cards`, problem) for the ones that could not be kept: the index,
    /// not the UID, says which card it was (two cards of one batch may share a UID). The cards
    /// themselves are not touched.
    pub fn link_card_photos(
        &mut self,
        cards: &[(String, Vec<u8>)],
    ) -> Result<Vec<(usize, Problem)>> {
        let read = read_card_photos(
            &self.data_dir,
            cards.iter().map(|(u, r)| (u.as_str(), &r[..])),
        )?;
        Ok(self
            .link_read_photos(read)?
            .into_iter()
            .map(|(at, _, p)| (at, p))
            .collect())
    }

    /// The second half of `link_card_photos`, for cards `read_card_photos` read (on another
    /// thread, during an import): only the references are written here. Returns (index of
    /// the card among those read, its UID, problem) for the PHOTOs that could not be kept.
    pub fn link_read_photos(&mut self, read: ReadPhotos) -> Result<Vec<(usize, String, Problem)>> {
        let mut problems = Vec::new();
        let mut new: Vec<PhotoRef> = Vec::new();
        for (at, contact_uid, found) in read.cards {
            for f in found {
                let image = match f {
                    Found::Image(i) => i,
                    Found::Problem(p) => {
                        problems.push((at, contact_uid.clone(), p));
                        continue;
                    }
                };
                let known = new
                    .iter()
                    .any(|p| p.sha256 == image.sha256 && p.links.first() == Some(&contact_uid));
                if known || self.card_photo_exists(&contact_uid, &image.sha256)? {
                    continue;
                }
                let now = now_text();
                new.push(PhotoRef {
                    format: PhotoRef::FORMAT.into(),
                    id: uuid::Uuid::new_v4().to_string(),
                    sha256: image.sha256,
                    mime: image.mime.into(),
                    size: image.size,
                    width: image.info.width,
                    height: image.info.height,
                    taken_at: image.info.taken_at,
                    caption: None,
                    original_name: None,
                    original_path: Some(format!("vCard PHOTO of {contact_uid}")),
                    links: vec![contact_uid.clone()],
                    created_at: now.clone(),
                    updated_at: now,
                });
            }
        }
        if !new.is_empty() {
            self.create_photos(&new, "vcard-photo")?;
        }
        Ok(problems)
    }

    fn card_photo_exists(&self, contact_uid: &str, sha256: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM photo_links l JOIN photo_refs p
                   ON p.item_id = l.item_id WHERE l.target_uid = ?1 AND p.sha256 = ?2)",
            )?
            .query_row(params![contact_uid, sha256], |r| r.get(0))?)
    }
}

/// Contacts' PHOTOs read by `read_card_photos`, their blobs durable in the store: what
/// `Store::link_read_photos` needs to write the references.
#[derive(Default)]
pub struct ReadPhotos {
    /// (index of the card among those read, its UID, what its PHOTOs gave).
    cards: Vec<(usize, String, Vec<Found>)>,
}

impl ReadPhotos {
    pub fn is_empty(&self) -> bool {
        self.cards.is_empty()
    }

    /// Keeps the cards of the contacts `keep` says yes to (by UID).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.cards.retain(|(_, uid, _)| keep(uid));
    }
}

enum Found {
    Image(FoundImage),
    Problem(Problem),
}

struct FoundImage {
    sha256: String,
    mime: &'static str,
    size: u64,
    info: photo::ImageInfo,
}

/// Reads the PHOTOs of contacts (UID, card text) and makes each inline image a durable blob in
/// the store under `data_dir`: no database, so an import runs it on its parser thread while the
/// writer stores the previous batch. Blobs are durable on return, before any reference to them
/// is written (a crash in between leaves an orphan blob, which `doctor` lists, never a dangling
/// reference). A URI photo has no bytes to keep; the card keeps the link (I7).
pub fn read_card_photos<'a>(
    data_dir: &Path,
    cards: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<ReadPhotos> {
    let blobs = super::blobs::Blobs::new(data_dir);
    let cards: Vec<(&str, &[u8])> = cards.into_iter().collect();
    // Decoding, hashing and writing each new blob's file run on every core: creating thousands
    // of small files is mostly the filesystem's time, and it takes them in parallel.
    let per_card = super::par_map(&cards, |(_, raw)| read_one_card(&blobs, raw));
    let mut staged: Vec<super::blobs::Staged> = Vec::new();
    let mut read = ReadPhotos::default();
    for (at, ((contact_uid, _), got)) in cards.iter().zip(per_card).enumerate() {
        let (found, new) = got?;
        staged.extend(new);
        if !found.is_empty() {
            read.cards.push((at, contact_uid.to_string(), found));
        }
    }
    // The blobs are durable before any reference to them is. (The same image on two cards
    // may have been written twice; the second copy is dropped there.)
    blobs.install_all(staged)?;
    Ok(read)
}

/// One card's PHOTOs: what each gave, and the temp files of the images not yet in the store.
fn read_one_card(
    blobs: &super::blobs::Blobs,
    raw: &[u8],
) -> Result<(Vec<Found>, Vec<super::blobs::Staged>)> {
    let mut found = Vec::new();
    let mut staged: Vec<super::blobs::Staged> = Vec::new();
    for f in photo::vcard_photos(raw) {
        match f {
            CardPhoto::Inline { bytes, line } => {
                let info = photo::probe(&bytes[..bytes.len().min(photo::HEAD_BYTES)]);
                let Some(mime) = info.mime else {
                    found.push(Found::Problem(Problem {
                        line,
                        // What it means for the card is the caller's to say (import and sync
                        // word it each for their own case).
                        reason: "PHOTO is not a JPEG, PNG, GIF, WebP, TIFF or HEIF image".into(),
                    }));
                    continue;
                };
                let sha256 = super::blobs::hex(&sha2::Sha256::digest(&bytes));
                let pending = staged.iter().any(|s| s.sha256 == sha256);
                if !pending && !blobs.has(&sha256) {
                    staged.push(blobs.stage_hashed(&bytes, &sha256)?);
                }
                found.push(Found::Image(FoundImage {
                    sha256,
                    mime,
                    size: bytes.len() as u64,
                    info,
                }));
            }
            CardPhoto::Uri { .. } => {}
            CardPhoto::Bad { reason, line } => found.push(Found::Problem(Problem { line, reason })),
        }
    }
    Ok((found, staged))
}
