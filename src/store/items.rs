//! Writing items: import merges by UID, every change keeps the previous version as a revision,
//! delete moves to the trash. Each call is one transaction.

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::json;

use super::occurrences::raise_max_span;
use super::{now_text, Columns, Result, Store, StoreError};
use crate::format::{self, lines::RawItem};
use crate::model::{Flags, Kind, Occurrence, Problem, Revision};

/// One item to write.
pub struct Incoming {
    pub collection_id: i64,
    pub item: RawItem,
}

/// What happened to one imported item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Added {
        uid: String,
        problems: Vec<Problem>,
    },
    Updated {
        uid: String,
        problems: Vec<Problem>,
    },
    /// Already stored exactly so; `problems` are the stored ones (a flagged item stays flagged).
    Unchanged {
        uid: String,
        problems: Vec<Problem>,
    },
}

/// A contact whose PHOTO could not become a photo reference: its UID, and the line (in the
/// card) and reason.
pub type PhotoNote = (String, Problem);

/// An item as stored.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub id: i64,
    pub collection: String,
    pub collection_id: i64,
    pub kind: Kind,
    pub uid: String,
    pub raw: Vec<u8>,
    pub rev: i64,
    pub flags: Flags,
    pub deleted: bool,
    pub edited: bool,
    pub problems: Vec<Problem>,
    pub data: serde_json::Value,
}

/// Everything derived from an item's bytes, computed before the transaction.
pub(super) struct Derived {
    pub kind: Kind,
    pub columns: Columns,
    pub occurrences: Vec<Occurrence>,
    pub problems: Vec<Problem>,
}

/// Everything derived from an item's text. A panic anywhere in the format layer (a bug, or a
/// dependency choking on hostile input) must not cost the item: it is caught here, and the item
/// is kept verbatim and flagged like any other unreadable text.
pub(super) fn derive(raw: &[u8], problems: Vec<Problem>, window: (i64, i64)) -> Derived {
    if format::photo::looks_like_sidecar(raw) {
        return super::photos::derive_photo(raw, problems);
    }
    let fallback = problems.clone();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        derive_unguarded(raw, problems, window)
    })) {
        Ok(d) => d,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            let kind = if raw
                .windows(11)
                .any(|w| w.eq_ignore_ascii_case(b"BEGIN:VCARD"))
            {
                Kind::Contact
            } else {
                Kind::Event
            };
            let fields = match kind {
                Kind::Contact => crate::model::Fields::Contact(Default::default()),
                _ => crate::model::Fields::Event(Default::default()),
            };
            let mut problems = fallback;
            problems.push(Problem {
                line: 1,
                reason: format!("Holdfast could not read this item (internal error: {what}); it is kept as it came"),
            });
            Derived {
                kind,
                columns: Columns::of(&fields),
                occurrences: Vec::new(),
                problems,
            }
        }
    }
}

fn derive_unguarded(raw: &[u8], mut problems: Vec<Problem>, window: (i64, i64)) -> Derived {
    let parsed = format::parse(raw);
    problems.extend(parsed.problems.iter().cloned());
    let occurrences = match parsed.occurrences(Some(window)) {
        Ok(o) => o,
        Err(reason) => {
            problems.push(Problem { line: 1, reason });
            Vec::new()
        }
    };
    problems.dedup();
    Derived {
        kind: parsed.kind,
        columns: Columns::of(&parsed.fields),
        occurrences,
        problems,
    }
}

fn problems_text(p: &[Problem]) -> Option<String> {
    if p.is_empty() {
        None
    } else {
        Some(
            json!(p
                .iter()
                .map(|p| json!({"line": p.line, "reason": p.reason}))
                .collect::<Vec<_>>())
            .to_string(),
        )
    }
}

pub(super) fn parse_problems(text: Option<String>) -> Vec<Problem> {
    let Some(text) = text else { return Vec::new() };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| Problem {
                    line: p["line"].as_u64().unwrap_or(0) as usize,
                    reason: p["reason"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What every occurrence row of one item repeats, so a window is listed without a join.
pub(super) struct OccContext<'a> {
    pub item_id: i64,
    pub uid: &'a str,
    pub flags: u32,
    pub deleted: bool,
    pub collection_id: i64,
    pub title: &'a str,
    pub location: Option<&'a str>,
}

/// One occurrence row, owned, so a batch's rows can be sorted before they are written.
pub(super) struct OccRow {
    start: i64,
    item_id: i64,
    rid: i64,
    end: i64,
    all_day: bool,
    recurring: bool,
    summary: String,
    location: Option<String>,
    uid: String,
    flags: u32,
    deleted: bool,
    collection_id: i64,
}

pub(super) fn occ_rows(ctx: &OccContext<'_>, occ: &[Occurrence], out: &mut Vec<OccRow>) -> i64 {
    let mut max_span = 0;
    for o in occ {
        let (s, e) = (o.start.timestamp(), o.end.timestamp());
        max_span = max_span.max(e - s);
        out.push(OccRow {
            start: s,
            item_id: ctx.item_id,
            rid: o.recurrence_id.unwrap_or(s),
            end: e,
            all_day: matches!(o.start, crate::model::Moment::Date(_)),
            recurring: o.recurrence_id.is_some(),
            summary: o.summary.as_deref().unwrap_or(ctx.title).to_string(),
            location: o.location.as_deref().or(ctx.location).map(str::to_string),
            uid: ctx.uid.to_string(),
            flags: ctx.flags,
            deleted: ctx.deleted,
            collection_id: ctx.collection_id,
        });
    }
    max_span
}

/// Writes rows in start order: the table is clustered by start, so sorted inserts touch each
/// page once instead of jumping around. Every row of the table is inserted here, and here the
/// day cache (`days.rs`) drops the days that gain rows: an insert trigger would cost two
/// microseconds a row (SQLite opens a statement journal for every insert that fires one),
/// seconds for an import or a horizon extension; deletes and updates have their triggers.
pub(super) fn insert_occ_rows(tx: &Transaction<'_>, rows: &mut [OccRow]) -> Result<()> {
    rows.sort_by_key(|r| (r.start, r.item_id, r.rid));
    super::days::forget_days(tx, rows.iter().map(|r| r.start))?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO occurrences (start, item_id, rid, end, all_day, recurring, summary,
           location, uid, flags, deleted, collection_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for r in rows.iter() {
        stmt.execute(params![
            r.start,
            r.item_id,
            r.rid,
            r.end,
            r.all_day,
            r.recurring,
            r.summary,
            r.location,
            r.uid,
            r.flags,
            r.deleted,
            r.collection_id
        ])?;
    }
    Ok(())
}

pub(super) fn insert_occurrences(
    tx: &Transaction<'_>,
    ctx: &OccContext<'_>,
    occ: &[Occurrence],
) -> Result<i64> {
    let mut rows = Vec::with_capacity(occ.len());
    let span = occ_rows(ctx, occ, &mut rows);
    insert_occ_rows(tx, &mut rows)?;
    Ok(span)
}

/// Writes `raw` as the new current version of an item (inserting it if `existing` is None),
/// keeping the previous version as a revision.
#[allow(clippy::too_many_arguments)]
pub(super) fn write(
    tx: &Transaction<'_>,
    existing: Option<(i64, u32)>,
    collection_id: i64,
    uid: &str,
    raw: &[u8],
    d: &Derived,
    origin: &str,
    edited: bool,
    deleted_at: Option<&str>,
    sink: Option<&mut Vec<OccRow>>,
) -> Result<(i64, i64)> {
    let c = &d.columns;
    let flags = if d.problems.is_empty() {
        0
    } else {
        Flags::UNPARSABLE
    } | existing.map_or(0, |(_, f)| f & Flags::CONFLICT);
    let now = now_text();
    let id = match existing {
        None => {
            tx.prepare_cached(
                "INSERT INTO items (collection_id, kind, uid, rev, origin, updated_at, edited,
                   deleted_at, flags, problems, title, sort_key, data, start_ts, end_ts, all_day,
                   recurring, due_ts, priority, status, completed_ts, parent, bday_md)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                   ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
            )?
            .execute(params![
                collection_id,
                d.kind.as_str(),
                uid,
                origin,
                now,
                edited,
                deleted_at,
                flags,
                problems_text(&d.problems),
                c.title,
                c.sort_key,
                c.data,
                c.start_ts,
                c.end_ts,
                c.all_day,
                c.recurring,
                c.due_ts,
                c.priority,
                c.status,
                c.completed_ts,
                c.parent,
                c.bday_md
            ])?;
            let id = tx.last_insert_rowid();
            tx.prepare_cached("INSERT INTO item_raw (item_id, raw) VALUES (?1, ?2)")?
                .execute(params![id, raw])?;
            tx.prepare_cached("INSERT INTO items_fts (rowid, body) VALUES (?1, ?2)")?
                .execute(params![id, c.search])?;
            id
        }
        Some((id, _)) => {
            tx.prepare_cached(
                "INSERT INTO revisions (item_id, rev, raw, origin, at, deleted)
                 SELECT i.id, i.rev, r.raw, i.origin, i.updated_at, i.deleted_at IS NOT NULL
                 FROM items i JOIN item_raw r ON r.item_id = i.id WHERE i.id = ?1",
            )?
            .execute([id])?;
            tx.prepare_cached("UPDATE item_raw SET raw = ?2 WHERE item_id = ?1")?
                .execute(params![id, raw])?;
            tx.prepare_cached(
                "UPDATE items SET rev = rev + 1, origin = ?2, updated_at = ?3, edited = ?4,
                   deleted_at = ?5, flags = ?6, problems = ?7
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                origin,
                now,
                edited,
                deleted_at,
                flags,
                problems_text(&d.problems)
            ])?;
            write_derived(tx, id, d)?;
            tx.prepare_cached("DELETE FROM occurrences WHERE item_id = ?1")?
                .execute([id])?;
            id
        }
    };
    if d.kind == Kind::Photo {
        super::photos::index_photo(tx, id, raw)?;
    }
    let ctx = OccContext {
        item_id: id,
        uid,
        flags,
        deleted: deleted_at.is_some(),
        collection_id,
        title: &c.title,
        location: c.location.as_deref(),
    };
    let span = match sink {
        Some(rows) => occ_rows(&ctx, &d.occurrences, rows),
        None => insert_occurrences(tx, &ctx, &d.occurrences)?,
    };
    Ok((id, span))
}

/// Rewrites an existing item's derived columns and search text from `d` (an update, or
/// `doctor --repair`). New items get the same values in their INSERT.
pub(super) fn write_derived(tx: &Transaction<'_>, id: i64, d: &Derived) -> Result<()> {
    let c = &d.columns;
    tx.prepare_cached(
        "UPDATE items SET kind = ?2, title = ?3, sort_key = ?4, data = ?5, start_ts = ?6,
           end_ts = ?7, all_day = ?8, recurring = ?9, due_ts = ?10, priority = ?11, status = ?12,
           completed_ts = ?13, parent = ?14, bday_md = ?15
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        d.kind.as_str(),
        c.title,
        c.sort_key,
        c.data,
        c.start_ts,
        c.end_ts,
        c.all_day,
        c.recurring,
        c.due_ts,
        c.priority,
        c.status,
        c.completed_ts,
        c.parent,
        c.bday_md
    ])?;
    tx.prepare_cached("DELETE FROM items_fts WHERE rowid = ?1")?
        .execute([id])?;
    tx.prepare_cached("INSERT INTO items_fts (rowid, body) VALUES (?1, ?2)")?
        .execute(params![id, c.search])?;
    Ok(())
}

/// A batch parsed and ready to write: what `prepare` makes, off the database thread.
pub struct Prepared {
    items: Vec<(Incoming, Derived)>,
    /// The contacts' PHOTOs, read and their blobs stored off the database thread. A failure (a
    /// full disk) is kept here and fails the batch before it is written.
    photos: Result<super::photos::ReadPhotos>,
}

impl Prepared {
    /// Sets each item's collection from its kind (the parser thread cannot touch the store).
    pub fn assign_collections(&mut self, mut f: impl FnMut(Kind) -> Result<i64>) -> Result<()> {
        for (inc, _) in &mut self.items {
            inc.collection_id = f(inc.item.kind)?;
        }
        Ok(())
    }
}

/// Parses a batch for `Store::import_prepared`, on every core, and makes the contacts'
/// inline PHOTOs durable blobs in the store under `data_dir`, so the writer only records the
/// references. No database: it can run on another thread. `window` is `Store::coverage()`,
/// read once before.
pub fn prepare(batch: Vec<Incoming>, window: (i64, i64), data_dir: &std::path::Path) -> Prepared {
    let derived: Vec<Derived> = super::par_map(&batch, |inc: &Incoming| {
        derive(&inc.item.raw, inc.item.problems.clone(), window)
    });
    let items: Vec<(Incoming, Derived)> = batch.into_iter().zip(derived).collect();
    let cards = items
        .iter()
        .filter(|(inc, d)| d.kind == Kind::Contact && format::photo::may_have_photo(&inc.item.raw))
        .map(|(inc, _)| (inc.item.uid.as_str(), &inc.item.raw[..]));
    let photos = super::photos::read_card_photos(data_dir, cards);
    Prepared { items, photos }
}

impl Store {
    /// Imports items, merging by UID inside each target collection: an identical item changes
    /// nothing, a changed one becomes a new revision. One transaction for the whole batch.
    pub fn import_batch(
        &mut self,
        batch: Vec<Incoming>,
        origin: &str,
    ) -> Result<Vec<ImportOutcome>> {
        let window = self.coverage()?;
        // Parse outside the transaction: the write lock is held only for SQL.
        let prepared = prepare(batch, window, &self.data_dir);
        self.import_prepared(prepared, origin)
    }

    /// Writes a batch parsed by `prepare` (possibly on another thread) in one transaction.
    pub fn import_prepared(
        &mut self,
        prepared: Prepared,
        origin: &str,
    ) -> Result<Vec<ImportOutcome>> {
        Ok(self.import_prepared_noting(prepared, origin)?.0)
    }

    /// `import_prepared`, also returning the contacts whose PHOTO could not become a photo
    /// reference (UID, line in the card, reason): the card itself is kept as it came.
    pub fn import_prepared_noting(
        &mut self,
        prepared: Prepared,
        origin: &str,
    ) -> Result<(Vec<ImportOutcome>, Vec<PhotoNote>)> {
        let Prepared {
            items: derived,
            photos,
        } = prepared;
        // Photos read ahead: their blobs are stored; a failure there fails the batch first.
        let mut read = photos?;
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(derived.len());
        let mut max_span = 0;
        // Occurrence rows of the batch, written sorted at the end; `touched` catches a UID that
        // appears twice in one batch, so its first version's rows never outlive it.
        let mut sink: Vec<OccRow> = Vec::new();
        let mut touched: std::collections::HashSet<i64> = std::collections::HashSet::new();
        // Contacts new or changed here: their photos become references linked to the card,
        // after the batch is in (the card itself is stored as it came, I7).
        let mut changed_cards: std::collections::HashSet<String> = std::collections::HashSet::new();
        for (inc, d) in derived {
            let found: Option<(i64, Vec<u8>, u32, Option<String>)> = tx
                .prepare_cached(
                    "SELECT i.id, r.raw, i.flags, i.problems FROM items i
                     JOIN item_raw r ON r.item_id = i.id
                     WHERE i.uid = ?2 AND i.collection_id = ?1",
                )?
                .query_row(params![inc.collection_id, inc.item.uid], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let uid = inc.item.uid.clone();
            let changed = !matches!(&found, Some((_, raw, _, _)) if *raw == inc.item.raw);
            if changed && d.kind == Kind::Contact {
                changed_cards.insert(uid.clone());
            }
            match found {
                Some((_, raw, _, problems)) if raw == inc.item.raw => {
                    out.push(ImportOutcome::Unchanged {
                        uid,
                        problems: parse_problems(problems),
                    });
                }
                Some((id, _, flags, _)) => {
                    if touched.contains(&id) {
                        insert_occ_rows(&tx, &mut sink)?;
                        sink.clear();
                    }
                    let deleted: Option<String> =
                        tx.query_row("SELECT deleted_at FROM items WHERE id = ?1", [id], |r| {
                            r.get(0)
                        })?;
                    let (_, span) = write(
                        &tx,
                        Some((id, flags)),
                        inc.collection_id,
                        &uid,
                        &inc.item.raw,
                        &d,
                        origin,
                        false,
                        deleted.as_deref(),
                        Some(&mut sink),
                    )?;
                    touched.insert(id);
                    max_span = max_span.max(span);
                    out.push(ImportOutcome::Updated {
                        uid,
                        problems: d.problems,
                    });
                }
                None => {
                    let (id, span) = write(
                        &tx,
                        None,
                        inc.collection_id,
                        &uid,
                        &inc.item.raw,
                        &d,
                        origin,
                        false,
                        None,
                        Some(&mut sink),
                    )?;
                    touched.insert(id);
                    max_span = max_span.max(span);
                    out.push(ImportOutcome::Added {
                        uid,
                        problems: d.problems,
                    });
                }
            }
        }
        insert_occ_rows(&tx, &mut sink)?;
        raise_max_span(&tx, max_span)?;
        tx.commit()?;
        // An unchanged card's photos were linked when it came (or unlinked since).
        read.retain(|uid| changed_cards.contains(uid));
        let notes = if read.is_empty() {
            Vec::new()
        } else {
            self.link_read_photos(read)?
                .into_iter()
                .map(|(_, uid, p)| (uid, p))
                .collect()
        };
        Ok((out, notes))
    }

    /// Adds a new item made by Holdfast (`new …`). Returns its problems (none for our own text).
    pub fn create(
        &mut self,
        collection: &str,
        uid: &str,
        raw: &[u8],
        origin: &str,
    ) -> Result<Vec<Problem>> {
        let collection_id = self.collection_id(collection)?;
        let window = self.coverage()?;
        let d = derive(raw, Vec::new(), window);
        let tx = self.conn.transaction()?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT id FROM items WHERE uid = ?2 AND collection_id = ?1",
                params![collection_id, uid],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::Invalid(format!(
                "an item with UID {uid:?} already exists in {collection}"
            )));
        }
        let (_, span) = write(
            &tx,
            None,
            collection_id,
            uid,
            raw,
            &d,
            origin,
            true,
            None,
            None,
        )?;
        raise_max_span(&tx, span)?;
        tx.commit()?;
        Ok(d.problems)
    }

    /// Replaces an item's text (edit, done, revert): the old version becomes a revision.
    pub fn update(
        &mut self,
        item: &StoredItem,
        raw: &[u8],
        origin: &str,
        undelete: bool,
    ) -> Result<Vec<Problem>> {
        let window = self.coverage()?;
        let d = derive(raw, Vec::new(), window);
        let tx = self.conn.transaction()?;
        let deleted_at: Option<String> = if undelete {
            None
        } else {
            tx.query_row(
                "SELECT deleted_at FROM items WHERE id = ?1",
                [item.id],
                |r| r.get(0),
            )?
        };
        let (_, span) = write(
            &tx,
            Some((item.id, item.flags.0)),
            item.collection_id,
            &item.uid,
            raw,
            &d,
            origin,
            true,
            deleted_at.as_deref(),
            None,
        )?;
        raise_max_span(&tx, span)?;
        tx.commit()?;
        Ok(d.problems)
    }

    /// Moves an item to the trash (a new revision; nothing is removed).
    pub fn delete(&mut self, item: &StoredItem) -> Result<()> {
        self.set_deleted(item, Some(now_text()), "delete")
    }

    /// Brings an item back from the trash.
    pub fn undelete(&mut self, item: &StoredItem) -> Result<()> {
        self.set_deleted(item, None, "undelete")
    }

    fn set_deleted(&mut self, item: &StoredItem, at: Option<String>, origin: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        set_deleted_in(&tx, item.id, at.as_deref(), origin)?;
        tx.commit()?;
        Ok(())
    }

    /// Every version of an item, oldest first, the current one last.
    pub fn history(&self, item: &StoredItem) -> Result<Vec<Revision>> {
        let mut stmt = self.conn.prepare(
            "SELECT rev, at, origin, deleted, raw FROM revisions WHERE item_id = ?1
             UNION ALL
             SELECT i.rev, i.updated_at, i.origin, i.deleted_at IS NOT NULL, r.raw
             FROM items i JOIN item_raw r ON r.item_id = i.id WHERE i.id = ?1
             ORDER BY 1",
        )?;
        let rows = stmt.query_map([item.id], |r| {
            let raw: Vec<u8> = r.get(4)?;
            Ok(Revision {
                rev: r.get(0)?,
                time: r.get(1)?,
                origin: r.get(2)?,
                deleted: r.get(3)?,
                text: String::from_utf8_lossy(&raw).into_owned(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The bytes of one revision.
    pub fn revision_raw(&self, item: &StoredItem, rev: i64) -> Result<Vec<u8>> {
        if rev == item.rev {
            return Ok(item.raw.clone());
        }
        self.conn
            .query_row(
                "SELECT raw FROM revisions WHERE item_id = ?1 AND rev = ?2",
                params![item.id, rev],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "{} has no revision {rev} (see `holdfast history {}`)",
                    item.uid, item.uid
                ))
            })
    }

    /// The item with this id (live or trashed).
    pub fn get(&self, id: i64) -> Result<StoredItem> {
        self.conn
            .prepare_cached(&format!("{ONE_ITEM} WHERE i.id = ?1"))?
            .query_row([id], row_to_item)
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("#{id}")))
    }

    /// Finds a live or trashed item by UID, optionally inside one collection.
    pub fn find(&self, uid: &str, collection: Option<&str>) -> Result<StoredItem> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ONE_ITEM} WHERE i.uid = ?1 AND (?2 IS NULL OR c.name = ?2)"
        ))?;
        let rows: Vec<StoredItem> = stmt
            .query_map(params![uid, collection], row_to_item)?
            .collect::<rusqlite::Result<_>>()?;
        match rows.len() {
            0 => Err(StoreError::NotFound(uid.to_string())),
            1 => Ok(rows
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::NotFound(uid.to_string()))?),
            n => Err(StoreError::Ambiguous {
                uid: uid.to_string(),
                count: n,
            }),
        }
    }
}

/// Moves an item into the trash (`at` set) or out of it, as a new revision, inside `tx`.
pub(super) fn set_deleted_in(
    tx: &Transaction<'_>,
    item_id: i64,
    at: Option<&str>,
    origin: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO revisions (item_id, rev, raw, origin, at, deleted)
         SELECT i.id, i.rev, r.raw, i.origin, i.updated_at, i.deleted_at IS NOT NULL
         FROM items i JOIN item_raw r ON r.item_id = i.id WHERE i.id = ?1",
    )?
    .execute([item_id])?;
    tx.prepare_cached("UPDATE occurrences SET deleted = ?2 WHERE item_id = ?1")?
        .execute(params![item_id, at.is_some()])?;
    tx.prepare_cached(
        "UPDATE items SET deleted_at = ?2, rev = rev + 1, origin = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![item_id, at, origin, now_text()])?;
    Ok(())
}

/// One item with its bytes, for `row_to_item`; callers add the WHERE.
const ONE_ITEM: &str = "SELECT i.id, c.name, i.collection_id, i.kind, i.uid, r.raw, i.rev, i.flags,
        i.deleted_at IS NOT NULL, i.edited, i.problems, i.data
     FROM items i JOIN collections c ON c.id = i.collection_id
          JOIN item_raw r ON r.item_id = i.id";

pub(super) fn row_to_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredItem> {
    let kind: String = r.get(3)?;
    let data: String = r.get(11)?;
    Ok(StoredItem {
        id: r.get(0)?,
        collection: r.get(1)?,
        collection_id: r.get(2)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Event),
        uid: r.get(4)?,
        raw: r.get(5)?,
        rev: r.get(6)?,
        flags: Flags(r.get(7)?),
        deleted: r.get(8)?,
        edited: r.get(9)?,
        problems: parse_problems(r.get(10)?),
        data: serde_json::from_str(&data).unwrap_or_default(),
    })
}
