//! Sync state (DESIGN.md §3–§4): which local collection is bound to which server collection,
//! and per item the server's href and etag, the local rev last confirmed there and the base
//! text of three-way merges.
//!
//! The engine decides; this file only records. Every `apply_sync` call is one transaction that
//! changes data and sync state together (I4), so a killed sync leaves either the old state or
//! the new one, and the next sync converges from there.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Transaction};

use super::items::{derive, insert_occ_rows, set_deleted_in, write, Derived, OccRow, PhotoNote};
use super::occurrences::raise_max_span;
use super::{now_text, par_map, Result, Store, StoreError};
use crate::format::lines::RawItem;
use crate::model::{Flags, Kind, Problem};

/// A local collection bound to a server collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundCollection {
    pub id: i64,
    pub name: String,
    pub account: String,
    /// Absolute path on the server, ending in '/'.
    pub href: String,
    /// "addressbook", or the calendar's components joined by ',' ("VEVENT", "VTODO",
    /// "VEVENT,VTODO"; empty = any).
    pub remote_kind: String,
    pub sync_token: Option<String>,
    pub ctag: Option<String>,
}

/// One local item of a bound collection, with its sync state if it has been on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncItem {
    pub id: i64,
    pub uid: String,
    pub kind: Kind,
    pub rev: i64,
    pub deleted: bool,
    pub flags: Flags,
    pub href: Option<String>,
    pub etag: Option<String>,
    pub synced_rev: Option<i64>,
}

impl SyncItem {
    /// Changed locally since the server last confirmed it (or never confirmed).
    pub fn locally_changed(&self) -> bool {
        self.synced_rev != Some(self.rev)
    }
}

/// One change to record, decided by the sync engine.
#[derive(Debug, Clone)]
pub enum SyncWrite {
    /// The server's version becomes the current local one (a new item when `item_id` is None),
    /// and the base. `undelete` brings a trashed item back; `conflict` flags it.
    Pull {
        item_id: Option<i64>,
        href: String,
        etag: Option<String>,
        item: RawItem,
        undelete: bool,
        conflict: bool,
    },
    /// The server holds `rev` of the item as `base` (after our PUT, or found equal).
    Confirm {
        item_id: i64,
        href: String,
        etag: Option<String>,
        rev: i64,
        base: Vec<u8>,
    },
    /// A clean three-way merge replaces the local text (a new revision); pushed afterwards.
    Merge { item_id: i64, raw: Vec<u8> },
    /// Both sides changed the same property: the server's version is kept as a revision, the
    /// local one stays current (it is what the server gets), and the item is flagged.
    Conflict { item_id: i64, remote: Vec<u8> },
    /// Removed on the server: moved to the local trash with its full last version (I1).
    Trash { item_id: i64 },
    /// The sync state is dropped (deleted on both sides, or our DELETE went through).
    Forget { item_id: i64 },
}

/// What `apply_sync` found in the texts it stored, one entry per write, in the writes' order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Problems in the text (the item is stored verbatim and flagged, I9).
    pub problems: Vec<Vec<Problem>>,
    /// A contact's PHOTOs that could not become photo references (contact UID, line in the
    /// card, reason). The card is stored as it came and not flagged.
    pub photo_problems: Vec<Vec<PhotoNote>>,
}

impl Store {
    /// Every collection bound to `account`.
    pub fn bound_collections(&self, account: &str) -> Result<Vec<BoundCollection>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, account, href, coalesce(remote_kind, ''), sync_token, ctag
             FROM collections WHERE account = ?1 AND href IS NOT NULL
               AND coalesce(remote_kind, '') != 'photos' ORDER BY id",
        )?;
        let rows = stmt.query_map([account], |r| {
            Ok(BoundCollection {
                id: r.get(0)?,
                name: r.get(1)?,
                account: r.get(2)?,
                href: r.get(3)?,
                remote_kind: r.get(4)?,
                sync_token: r.get(5)?,
                ctag: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every collection's id and colour (as the server gave it, `#RRGGBB[AA]`), for views.
    pub fn collection_colors(&self) -> Result<Vec<(i64, Option<String>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, color FROM collections ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Local collections not bound to any server collection, by name.
    pub fn unbound_collections(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name FROM collections WHERE href IS NULL
                   AND coalesce(remote_kind, '') != 'photos' AND name != 'Photos' ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Binds local collection `id` to `href` of `account`. The token and ctag start empty, so
    /// the first sync lists the collection in full.
    pub fn bind_collection(
        &mut self,
        id: i64,
        account: &str,
        href: &str,
        remote_kind: &str,
        color: Option<&str>,
    ) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE collections SET account = ?2, href = ?3, remote_kind = ?4,
               color = coalesce(?5, color), sync_token = NULL, ctag = NULL
             WHERE id = ?1",
            params![id, account, href, remote_kind, color],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid(format!("no collection with id {id}")));
        }
        Ok(())
    }

    /// Creates a local collection for a server one, named `name` or, if taken, `name (2)` …
    /// Returns its id.
    pub fn create_bound_collection(
        &mut self,
        name: &str,
        account: &str,
        href: &str,
        remote_kind: &str,
        color: Option<&str>,
    ) -> Result<i64> {
        let mut candidate = name.to_string();
        let mut n = 2;
        loop {
            let taken: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM collections WHERE name = ?1)",
                [&candidate],
                |r| r.get(0),
            )?;
            if !taken {
                break;
            }
            candidate = format!("{name} ({n})");
            n += 1;
        }
        self.conn.execute(
            "INSERT INTO collections (name, created_at, account, href, remote_kind, color)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![candidate, now_text(), account, href, remote_kind, color],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Forgets the server's token and ctag, so the next sync lists the collection in full.
    pub fn reset_sync_token(&mut self, collection_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE collections SET sync_token = NULL, ctag = NULL WHERE id = ?1",
            [collection_id],
        )?;
        Ok(())
    }

    /// Every item of a collection (live and trashed) with its sync state.
    pub fn sync_items(&self, collection_id: i64) -> Result<Vec<SyncItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.id, i.uid, i.kind, i.rev, i.deleted_at IS NOT NULL, i.flags,
                    s.href, s.etag, s.synced_rev
             FROM items i LEFT JOIN sync_state s ON s.item_id = i.id
             WHERE i.collection_id = ?1 ORDER BY i.id",
        )?;
        let rows = stmt.query_map([collection_id], |r| {
            let kind: String = r.get(2)?;
            Ok(SyncItem {
                id: r.get(0)?,
                uid: r.get(1)?,
                kind: Kind::parse(&kind).unwrap_or(Kind::Event),
                rev: r.get(3)?,
                deleted: r.get(4)?,
                flags: Flags(r.get(5)?),
                href: r.get(6)?,
                etag: r.get(7)?,
                synced_rev: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The current bytes of an item.
    pub fn item_raw(&self, item_id: i64) -> Result<Vec<u8>> {
        Ok(self.conn.query_row(
            "SELECT raw FROM item_raw WHERE item_id = ?1",
            [item_id],
            |r| r.get(0),
        )?)
    }

    /// The item's earlier versions' bytes, newest first (not the current one).
    pub fn earlier_texts(&self, item_id: i64) -> Result<Vec<Vec<u8>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT raw FROM revisions WHERE item_id = ?1 ORDER BY rev DESC")?;
        let rows = stmt.query_map([item_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The text the server and we last agreed on for this item.
    pub fn sync_base(&self, item_id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT base FROM sync_state WHERE item_id = ?1",
                [item_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records `writes` for one collection in one transaction, and then (in the same
    /// transaction) the collection's new token and ctag when given. Texts are parsed first, off
    /// the transaction, on every core. Returns, per write, the problems found in the text it
    /// stored (a malformed item is stored verbatim and flagged, I9), and the PHOTOs of a
    /// stored contact that could not become photo references.
    pub fn apply_sync(
        &mut self,
        collection_id: i64,
        writes: Vec<SyncWrite>,
        token: Option<(Option<String>, Option<String>)>,
    ) -> Result<Applied> {
        let window = self.coverage()?;
        let derived: Vec<Option<Derived>> = par_map(&writes, |w| match w {
            SyncWrite::Pull { item, .. } => Some(derive(&item.raw, item.problems.clone(), window)),
            SyncWrite::Merge { raw, .. } | SyncWrite::Conflict { remote: raw, .. } => {
                Some(derive(raw, Vec::new(), window))
            }
            _ => None,
        });
        let tx = self.conn.transaction()?;
        let mut sink: Vec<OccRow> = Vec::new();
        let mut max_span = 0;
        let problems: Vec<Vec<Problem>> = derived
            .iter()
            .map(|d| d.as_ref().map(|d| d.problems.clone()).unwrap_or_default())
            .collect();
        // The contacts stored by this batch that may carry a PHOTO, and the write of each.
        let mut cards: Vec<(String, Vec<u8>)> = Vec::new();
        let mut card_write: Vec<usize> = Vec::new();
        for (at, (w, d)) in writes.into_iter().zip(derived).enumerate() {
            let contact = d.as_ref().is_some_and(|d| d.kind == Kind::Contact);
            match &w {
                SyncWrite::Pull { item, .. }
                    if contact && crate::format::photo::may_have_photo(&item.raw) =>
                {
                    cards.push((item.uid.clone(), item.raw.clone()));
                    card_write.push(at);
                }
                // The merged text becomes the current card: its PHOTO counts like a pulled one.
                SyncWrite::Merge { item_id, raw }
                    if contact && crate::format::photo::may_have_photo(raw) =>
                {
                    let uid: String =
                        tx.query_row("SELECT uid FROM items WHERE id = ?1", [item_id], |r| {
                            r.get(0)
                        })?;
                    cards.push((uid, raw.clone()));
                    card_write.push(at);
                }
                _ => {}
            }
            // Occurrence rows wait in `sink` only for items written once in this batch; an item
            // written twice flushes first so its old rows never outlive it.
            insert_occ_rows(&tx, &mut sink)?;
            sink.clear();
            let span = apply_one(&tx, collection_id, w, d, window)?;
            max_span = max_span.max(span);
        }
        if let Some((token, ctag)) = token {
            tx.execute(
                "UPDATE collections SET sync_token = ?2, ctag = ?3, synced_at = ?4 WHERE id = ?1",
                params![collection_id, token, ctag, now_text()],
            )?;
        }
        raise_max_span(&tx, max_span)?;
        tx.commit()?;
        // A contact's PHOTO becomes a linked reference (the card stays as it came, I7).
        let mut photo_problems: Vec<Vec<PhotoNote>> = vec![Vec::new(); problems.len()];
        if !cards.is_empty() {
            for (card, p) in self.link_card_photos(&cards)? {
                if let (Some(&at), Some((uid, _))) = (card_write.get(card), cards.get(card)) {
                    if let Some(slot) = photo_problems.get_mut(at) {
                        slot.push((uid.clone(), p));
                    }
                }
            }
        }
        Ok(Applied {
            problems,
            photo_problems,
        })
    }

    /// Clears the conflict flag: the user has reviewed the item (edited or reverted it).
    pub fn clear_conflict(&mut self, item_id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE items SET flags = flags & ~?2 WHERE id = ?1",
            params![item_id, Flags::CONFLICT],
        )?;
        tx.execute(
            "UPDATE occurrences SET flags = flags & ~?2 WHERE item_id = ?1",
            params![item_id, Flags::CONFLICT],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A value kept in the meta table (sync keeps each account's home sets there).
    pub fn meta_value(&self, key: &str) -> Result<Option<String>> {
        self.meta(key)
    }

    pub fn set_meta_value(&self, key: &str, value: &str) -> Result<()> {
        Store::set_meta(&self.conn, key, value)
    }

    /// Unbinds a collection (its server collection is gone and the user accepted that): it
    /// becomes local-only, its items stay.
    pub fn unbind_collection(&mut self, collection_id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM sync_state WHERE collection_id = ?1",
            [collection_id],
        )?;
        tx.execute(
            "UPDATE collections SET account = NULL, href = NULL, sync_token = NULL, ctag = NULL
             WHERE id = ?1",
            [collection_id],
        )?;
        tx.commit()?;
        Ok(())
    }
}

struct Current {
    uid: String,
    flags: u32,
    deleted_at: Option<String>,
    raw: Vec<u8>,
}

fn current(tx: &Transaction<'_>, id: i64) -> Result<Current> {
    Ok(tx
        .prepare_cached(
            "SELECT i.uid, i.flags, i.deleted_at, r.raw FROM items i
             JOIN item_raw r ON r.item_id = i.id WHERE i.id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Current {
                uid: r.get(0)?,
                flags: r.get(1)?,
                deleted_at: r.get(2)?,
                raw: r.get(3)?,
            })
        })?)
}

fn set_state(
    tx: &Transaction<'_>,
    item_id: i64,
    collection_id: i64,
    href: &str,
    etag: Option<&str>,
    rev: i64,
    base: &[u8],
) -> Result<()> {
    // An href belongs to one item: a stale row that still claims it (an item re-created under
    // the same name) lets go first.
    tx.prepare_cached(
        "DELETE FROM sync_state WHERE collection_id = ?1 AND href = ?2 AND item_id != ?3",
    )?
    .execute(params![collection_id, href, item_id])?;
    tx.prepare_cached(
        "INSERT INTO sync_state (item_id, collection_id, href, etag, synced_rev, base)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (item_id) DO UPDATE SET collection_id = excluded.collection_id,
           href = excluded.href, etag = excluded.etag, synced_rev = excluded.synced_rev,
           base = excluded.base",
    )?
    .execute(params![item_id, collection_id, href, etag, rev, base])?;
    Ok(())
}

fn set_flag(tx: &Transaction<'_>, item_id: i64, bit: u32) -> Result<()> {
    tx.prepare_cached("UPDATE items SET flags = flags | ?2 WHERE id = ?1")?
        .execute(params![item_id, bit])?;
    tx.prepare_cached("UPDATE occurrences SET flags = flags | ?2 WHERE item_id = ?1")?
        .execute(params![item_id, bit])?;
    Ok(())
}

fn rev_of(tx: &Transaction<'_>, item_id: i64) -> Result<i64> {
    Ok(tx
        .prepare_cached("SELECT rev FROM items WHERE id = ?1")?
        .query_row([item_id], |r| r.get(0))?)
}

fn apply_one(
    tx: &Transaction<'_>,
    collection_id: i64,
    w: SyncWrite,
    d: Option<Derived>,
    window: (i64, i64),
) -> Result<i64> {
    let missing = || StoreError::Invalid("sync: parsed text missing".into());
    match w {
        SyncWrite::Pull {
            item_id,
            href,
            etag,
            item,
            undelete,
            conflict,
        } => {
            let d = d.ok_or_else(missing)?;
            let existing = match item_id {
                Some(id) => Some((id, current(tx, id)?)),
                None => {
                    // A UID already here but not bound (a crash after an upload, or the same
                    // item imported by hand) is the same item: it gets the server's version as
                    // a new revision instead of a duplicate.
                    let found: Option<i64> = tx
                        .prepare_cached(
                            "SELECT id FROM items WHERE uid = ?2 AND collection_id = ?1",
                        )?
                        .query_row(params![collection_id, item.uid], |r| r.get(0))
                        .optional()?;
                    match found {
                        Some(id) => Some((id, current(tx, id)?)),
                        None => None,
                    }
                }
            };
            let (id, span) = match &existing {
                Some((id, cur))
                    if cur.raw == item.raw && (!undelete || cur.deleted_at.is_none()) =>
                {
                    (*id, 0)
                }
                Some((id, cur)) => {
                    let deleted_at = if undelete {
                        None
                    } else {
                        cur.deleted_at.clone()
                    };
                    write(
                        tx,
                        Some((*id, cur.flags)),
                        collection_id,
                        &cur.uid,
                        &item.raw,
                        &d,
                        "sync",
                        false,
                        deleted_at.as_deref(),
                        None,
                    )?
                }
                None => write(
                    tx,
                    None,
                    collection_id,
                    &item.uid,
                    &item.raw,
                    &d,
                    "sync",
                    false,
                    None,
                    None,
                )?,
            };
            if conflict {
                set_flag(tx, id, Flags::CONFLICT)?;
            }
            let rev = rev_of(tx, id)?;
            set_state(
                tx,
                id,
                collection_id,
                &href,
                etag.as_deref(),
                rev,
                &item.raw,
            )?;
            Ok(span)
        }
        SyncWrite::Confirm {
            item_id,
            href,
            etag,
            rev,
            base,
        } => {
            set_state(
                tx,
                item_id,
                collection_id,
                &href,
                etag.as_deref(),
                rev,
                &base,
            )?;
            Ok(0)
        }
        SyncWrite::Merge { item_id, raw } => {
            let d = d.ok_or_else(missing)?;
            let cur = current(tx, item_id)?;
            if cur.raw == raw {
                return Ok(0);
            }
            let (_, span) = write(
                tx,
                Some((item_id, cur.flags)),
                collection_id,
                &cur.uid,
                &raw,
                &d,
                "sync: merged with the server's changes",
                true,
                cur.deleted_at.as_deref(),
                None,
            )?;
            Ok(span)
        }
        SyncWrite::Conflict { item_id, remote } => {
            let d_remote = d.ok_or_else(missing)?;
            let cur = current(tx, item_id)?;
            // The server's version goes into history first, then the local one comes back on
            // top as the current version: both are kept (DESIGN.md §5).
            let last_revision: Option<Vec<u8>> = tx
                .prepare_cached(
                    "SELECT raw FROM revisions WHERE item_id = ?1 ORDER BY rev DESC LIMIT 1",
                )?
                .query_row([item_id], |r| r.get(0))
                .optional()?;
            let mut span = 0;
            if last_revision.as_deref() != Some(remote.as_slice()) && cur.raw != remote {
                write(
                    tx,
                    Some((item_id, cur.flags)),
                    collection_id,
                    &cur.uid,
                    &remote,
                    &d_remote,
                    "server (conflict: kept as a revision)",
                    false,
                    cur.deleted_at.as_deref(),
                    None,
                )?;
                let d_local = derive(&cur.raw, Vec::new(), window);
                span = write(
                    tx,
                    Some((item_id, cur.flags)),
                    collection_id,
                    &cur.uid,
                    &cur.raw,
                    &d_local,
                    "local (conflict: kept over the server's version)",
                    true,
                    cur.deleted_at.as_deref(),
                    None,
                )?
                .1;
            }
            set_flag(tx, item_id, Flags::CONFLICT)?;
            Ok(span)
        }
        SyncWrite::Trash { item_id } => {
            let cur = current(tx, item_id)?;
            if cur.deleted_at.is_none() {
                set_deleted_in(tx, item_id, Some(&now_text()), "removed on the server")?;
            }
            tx.prepare_cached("DELETE FROM sync_state WHERE item_id = ?1")?
                .execute([item_id])?;
            Ok(0)
        }
        SyncWrite::Forget { item_id } => {
            tx.prepare_cached("DELETE FROM sync_state WHERE item_id = ?1")?
                .execute([item_id])?;
            Ok(0)
        }
    }
}

/// Counts of sync state, for doctor, the status bar and tests.
impl Store {
    /// Local changes not yet on the server: edited or deleted since the last confirmation, or
    /// never uploaded, in bound collections.
    pub fn pending_changes(&self) -> Result<i64> {
        let bound: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM collections WHERE href IS NOT NULL)",
            [],
            |r| r.get(0),
        )?;
        if !bound {
            return Ok(0);
        }
        Ok(self.conn.query_row(
            "SELECT count(*) FROM items i JOIN collections c ON c.id = i.collection_id
             LEFT JOIN sync_state s ON s.item_id = i.id
             WHERE c.href IS NOT NULL
               AND ((s.item_id IS NULL AND i.deleted_at IS NULL)
                 OR (s.item_id IS NOT NULL AND s.synced_rev != i.rev))",
            [],
            |r| r.get(0),
        )?)
    }

    /// Items flagged unparsable or conflict (live ones).
    pub fn flagged_count(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM items WHERE flags != 0 AND deleted_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn sync_state_counts(&self) -> Result<HashMap<i64, i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT collection_id, count(*) FROM sync_state GROUP BY collection_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
    }
}
