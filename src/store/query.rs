//! Reading: lists, search, occurrences in a window (extending the horizon on demand),
//! birthdays, and the checks `doctor` runs.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use rusqlite::{params, Transaction};

use super::items::{
    derive, insert_occ_rows, insert_occurrences, occ_rows, row_to_item, OccContext, StoredItem,
};
use super::{Columns, Result, Store};
use crate::format;
use crate::model::{Flags, Kind, Occurrence};

/// What `list` selects.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<Kind>,
    pub query: Option<String>,
    pub trash: bool,
    pub conflicts: bool,
    pub collection: Option<String>,
}

/// One occurrence with its item.
#[derive(Debug, Clone)]
pub struct ListedOccurrence {
    pub item: StoredItem,
    pub occurrence: Occurrence,
}

/// An item's bytes, borrowed from the database row (export streams these).
pub struct RawRef<'a> {
    pub id: i64,
    pub collection: &'a str,
    pub kind: Kind,
    pub uid: &'a str,
    pub raw: &'a [u8],
}

/// The SQL of a list and its FTS query: the search hits drive the query when there is one
/// (a few rows looked up by id) instead of a scan of every item of the kind.
fn list_sql(f: &Filter, columns: &str) -> (String, Option<String>) {
    let order = match f.kind {
        Some(Kind::Todo) => {
            "(i.status IN ('COMPLETED', 'CANCELLED')), i.due_ts IS NULL, i.due_ts,
             coalesce(nullif(i.priority, 0), 10), i.sort_key"
        }
        Some(Kind::Event) => "i.start_ts, i.sort_key",
        _ => "i.sort_key, i.id",
    };
    let fts = f.query.as_deref().and_then(fts_query);
    let (from, search) = if fts.is_some() {
        (
            "items_fts f CROSS JOIN items i ON i.id = f.rowid
             JOIN collections c ON c.id = i.collection_id",
            "items_fts MATCH ?5",
        )
    } else {
        (
            "items i JOIN collections c ON c.id = i.collection_id",
            "?5 IS NULL",
        )
    };
    let sql = format!(
        "SELECT {columns} FROM {from}
         WHERE {search}
           AND (?1 IS NULL OR i.kind = ?1)
           AND (i.deleted_at IS NOT NULL) = ?2
           AND (?3 = 0 OR i.flags & {} != 0)
           AND (?4 IS NULL OR c.name = ?4)
         ORDER BY {order}",
        Flags::CONFLICT
    );
    (sql, fts)
}

/// One line of a person's contact list, borrowed from the database row.
#[derive(Debug, Clone, Copy)]
pub struct ContactView<'a> {
    pub name: &'a str,
    pub org: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub flags: Flags,
    pub uid: &'a str,
}

/// One line of a person's event list, borrowed from the database row.
#[derive(Debug, Clone, Copy)]
pub struct OccurrenceView<'a> {
    pub start: i64,
    pub end: i64,
    pub all_day: bool,
    pub summary: &'a str,
    pub location: &'a str,
    pub flags: Flags,
    pub uid: &'a str,
}

/// A recurring event and what its occurrence rows repeat.
struct RecurringItem {
    id: i64,
    raw: Vec<u8>,
    uid: String,
    flags: u32,
    deleted: bool,
    collection_id: i64,
    title: String,
    location: Option<String>,
}

/// Past this many years of extension, a window is expanded in memory instead of stored.
const MAX_STORED_YEARS: i64 = 6;

fn month_floor(ts: i64) -> i64 {
    let d = chrono::DateTime::<Utc>::from_timestamp(ts, 0)
        .unwrap_or_default()
        .date_naive();
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(ts, |t| t.and_utc().timestamp())
}

fn month_ceil(ts: i64) -> i64 {
    let floor = month_floor(ts);
    if floor == ts {
        return ts;
    }
    let d = chrono::DateTime::<Utc>::from_timestamp(floor, 0)
        .unwrap_or_default()
        .date_naive();
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(ts, |t| t.and_utc().timestamp())
}

/// FTS5 query from what a person typed: every word must match as a prefix, accents folded.
fn fts_query(q: &str) -> Option<String> {
    let folded = super::fold_for_search(q);
    let terms: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{t}\"*"))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

const ITEM_COLUMNS: &str = "i.id, c.name, i.collection_id, i.kind, i.uid, X'', i.rev, i.flags,
    i.deleted_at IS NOT NULL, i.edited, i.problems, i.data";

impl Store {
    /// The window [from, to) (seconds) the occurrence table covers, set on first use to one
    /// month back and a year ahead.
    pub fn coverage(&self) -> Result<(i64, i64)> {
        if let (Some(f), Some(t)) = (self.meta("occ_from")?, self.meta("occ_to")?) {
            if let (Ok(f), Ok(t)) = (f.parse(), t.parse()) {
                return Ok((f, t));
            }
        }
        let now = Utc::now().timestamp();
        let from = month_floor(now - 31 * 86_400);
        let to = month_ceil(now + 366 * 86_400);
        Self::set_meta(&self.conn, "occ_from", &from.to_string())?;
        Self::set_meta(&self.conn, "occ_to", &to.to_string())?;
        Ok((from, to))
    }

    /// Makes the occurrence table cover [from, to). Returns false when the window is too far out
    /// to store (the caller then expands in memory).
    pub fn ensure_coverage(&mut self, from: i64, to: i64) -> Result<bool> {
        let (cf, ct) = self.coverage()?;
        if from >= cf && to <= ct {
            return Ok(true);
        }
        let nf = cf.min(month_floor(from));
        let nt = ct.max(month_ceil(to));
        if (nt - nf) > MAX_STORED_YEARS * 366 * 86_400 {
            return Ok(false);
        }
        let recurring = self.recurring_items()?;
        // Expansion is pure: spread it over the cores, then write on this thread.
        let expand = |r: &RecurringItem| -> Vec<Occurrence> {
            let parsed = format::parse(&r.raw);
            let mut add: Vec<Occurrence> = Vec::new();
            if nf < cf {
                // Below the old window: only what did not already overlap it.
                if let Ok(o) = parsed.occurrences(Some((nf, cf))) {
                    add.extend(o.into_iter().filter(|o| {
                        let (s, e) = (o.start.timestamp(), o.end.timestamp());
                        if e <= s {
                            s < cf
                        } else {
                            e <= cf
                        }
                    }));
                }
            }
            if nt > ct {
                if let Ok(o) = parsed.occurrences(Some((ct, nt))) {
                    add.extend(o.into_iter().filter(|o| o.start.timestamp() >= ct));
                }
            }
            add
        };
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let per = recurring.len().div_ceil(threads).max(1);
        let expanded: Vec<Vec<Occurrence>> = std::thread::scope(|scope| {
            let handles: Vec<_> = recurring
                .chunks(per)
                .map(|chunk| scope.spawn(move || chunk.iter().map(expand).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let tx = self.conn.transaction()?;
        let mut max_span = 0;
        // All rows sorted once: the table is clustered by start, so this is one sequential pass.
        let mut rows = Vec::new();
        for (r, add) in recurring.iter().zip(expanded) {
            let ctx = OccContext {
                item_id: r.id,
                uid: &r.uid,
                flags: r.flags,
                deleted: r.deleted,
                collection_id: r.collection_id,
                title: &r.title,
                location: r.location.as_deref(),
            };
            max_span = max_span.max(occ_rows(&ctx, &add, &mut rows));
        }
        insert_occ_rows(&tx, &mut rows)?;
        Self::set_meta(&tx, "occ_from", &nf.to_string())?;
        Self::set_meta(&tx, "occ_to", &nt.to_string())?;
        raise(&tx, max_span)?;
        tx.commit()?;
        Ok(true)
    }

    fn recurring_items(&self) -> Result<Vec<RecurringItem>> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, r.raw, i.uid, i.flags, i.deleted_at IS NOT NULL, i.collection_id, i.title,
                    json_extract(i.data, '$.location')
             FROM items i JOIN item_raw r ON r.item_id = i.id WHERE i.recurring = 1",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RecurringItem {
                id: r.get(0)?,
                raw: r.get(1)?,
                uid: r.get(2)?,
                flags: r.get(3)?,
                deleted: r.get(4)?,
                collection_id: r.get(5)?,
                title: r.get(6)?,
                location: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Items matching a filter, in the order a list shows them.
    pub fn list(&self, f: &Filter) -> Result<Vec<StoredItem>> {
        let (sql, fts) = list_sql(f, ITEM_COLUMNS);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                f.kind.map(Kind::as_str),
                f.trash,
                f.conflicts,
                f.collection,
                fts
            ],
            row_to_item,
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// What a person's contact list shows, one row at a time and borrowed from the database,
    /// without decoding each item's fields: the fast path for long lists.
    pub fn for_each_contact_row(
        &self,
        f: &Filter,
        mut each: impl FnMut(&ContactView<'_>),
    ) -> Result<()> {
        let mut f = f.clone();
        f.kind = Some(Kind::Contact);
        let (sql, fts) = list_sql(
            &f,
            "i.title, coalesce(json_extract(i.data, '$.org'), ''),
             coalesce(json_extract(i.data, '$.emails[0]'), ''),
             coalesce(json_extract(i.data, '$.phones[0]'), ''), i.flags, i.uid",
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![
            f.kind.map(Kind::as_str),
            f.trash,
            f.conflicts,
            f.collection,
            fts
        ])?;
        while let Some(r) = rows.next()? {
            each(&ContactView {
                name: r.get_ref(0)?.as_str()?,
                org: r.get_ref(1)?.as_str()?,
                email: r.get_ref(2)?.as_str()?,
                phone: r.get_ref(3)?.as_str()?,
                flags: Flags(r.get(4)?),
                uid: r.get_ref(5)?.as_str()?,
            });
        }
        Ok(())
    }

    /// Event occurrences overlapping [from, to), in start order, overrides applied.
    pub fn occurrences(&mut self, f: &Filter, from: i64, to: i64) -> Result<Vec<ListedOccurrence>> {
        if !self.ensure_coverage(from, to)? {
            return self.occurrences_in_memory(f, from, to);
        }
        let max_span: i64 = self
            .meta("occ_max_span")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, o.start, o.end, o.all_day, o.rid, o.summary, o.location,
                    o.recurring
             FROM occurrences o JOIN items i ON i.id = o.item_id
                  JOIN collections c ON c.id = o.collection_id
             WHERE o.start < ?2 AND o.start >= ?3
               AND (o.end > ?1 OR (o.end <= o.start AND o.start >= ?1))
               AND o.deleted = ?4
               AND (?5 = 0 OR o.flags & {} != 0)
               AND (?6 IS NULL OR c.name = ?6)
               AND (?7 IS NULL OR o.item_id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?7))
             ORDER BY o.start",
            Flags::CONFLICT
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let fts = f.query.as_deref().and_then(fts_query);
        let rows = stmt.query_map(
            params![
                from,
                to,
                from - max_span,
                f.trash,
                f.conflicts,
                f.collection,
                fts
            ],
            |r| {
                let item = row_to_item(r)?;
                let all_day: bool = r.get(14)?;
                let moment = |ts: i64| {
                    let t = chrono::DateTime::<Utc>::from_timestamp(ts, 0).unwrap_or_default();
                    if all_day {
                        crate::model::Moment::Date(t.date_naive())
                    } else {
                        crate::model::Moment::Instant(t)
                    }
                };
                Ok(ListedOccurrence {
                    item,
                    occurrence: Occurrence {
                        start: moment(r.get(12)?),
                        end: moment(r.get(13)?),
                        recurrence_id: if r.get::<_, bool>(18)? {
                            Some(r.get(15)?)
                        } else {
                            None
                        },
                        summary: r.get(16)?,
                        location: r.get(17)?,
                    },
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The columns a person's event list shows, one row at a time and borrowed from the
    /// database (no allocation per row), in start order: the fast path for long lists.
    pub fn for_each_occurrence_row(
        &mut self,
        f: &Filter,
        from: i64,
        to: i64,
        mut each: impl FnMut(&OccurrenceView<'_>),
    ) -> Result<()> {
        if !self.ensure_coverage(from, to)? {
            for o in self.occurrences_in_memory(f, from, to)? {
                let summary = o
                    .occurrence
                    .summary
                    .clone()
                    .unwrap_or_else(|| o.item.data["summary"].as_str().unwrap_or("").into());
                let location = o
                    .occurrence
                    .location
                    .clone()
                    .or_else(|| o.item.data["location"].as_str().map(str::to_string))
                    .unwrap_or_default();
                each(&OccurrenceView {
                    start: o.occurrence.start.timestamp(),
                    end: o.occurrence.end.timestamp(),
                    all_day: matches!(o.occurrence.start, crate::model::Moment::Date(_)),
                    summary: &summary,
                    location: &location,
                    flags: o.item.flags,
                    uid: &o.item.uid,
                });
            }
            return Ok(());
        }
        let max_span: i64 = self
            .meta("occ_max_span")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let sql = format!(
            "SELECT o.start, o.end, o.all_day, o.summary, coalesce(o.location, ''), o.flags, o.uid
             FROM occurrences o
             WHERE o.start < ?2 AND o.start >= ?3
               AND (o.end > ?1 OR (o.end <= o.start AND o.start >= ?1))
               AND o.deleted = ?4
               AND (?5 = 0 OR o.flags & {} != 0)
               AND (?6 IS NULL OR o.collection_id = (SELECT id FROM collections WHERE name = ?6))
               AND (?7 IS NULL OR o.item_id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?7))
             ORDER BY o.start",
            Flags::CONFLICT
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let fts = f.query.as_deref().and_then(fts_query);
        let mut rows = stmt.query(params![
            from,
            to,
            from - max_span,
            f.trash,
            f.conflicts,
            f.collection,
            fts
        ])?;
        while let Some(r) = rows.next()? {
            each(&OccurrenceView {
                start: r.get(0)?,
                end: r.get(1)?,
                all_day: r.get(2)?,
                summary: r.get_ref(3)?.as_str()?,
                location: r.get_ref(4)?.as_str()?,
                flags: Flags(r.get(5)?),
                uid: r.get_ref(6)?.as_str()?,
            });
        }
        Ok(())
    }

    /// Far-off windows: every event expanded on the fly (slow, but never stored).
    fn occurrences_in_memory(
        &self,
        f: &Filter,
        from: i64,
        to: i64,
    ) -> Result<Vec<ListedOccurrence>> {
        let mut filter = f.clone();
        filter.kind = Some(Kind::Event);
        let mut out = Vec::new();
        for item in self.list(&filter)? {
            let raw = self.raw_of(item.id)?;
            let parsed = format::parse(&raw);
            for o in parsed.occurrences(Some((from, to))).unwrap_or_default() {
                if format::ical::overlaps(&o, from, to) {
                    out.push(ListedOccurrence {
                        item: item.clone(),
                        occurrence: o,
                    });
                }
            }
        }
        out.sort_by_key(|o| o.occurrence.start.timestamp());
        Ok(out)
    }

    pub fn raw_of(&self, id: i64) -> Result<Vec<u8>> {
        Ok(self
            .conn
            .query_row("SELECT raw FROM item_raw WHERE item_id = ?1", [id], |r| {
                r.get(0)
            })?)
    }

    /// Contacts whose birthday (month/day) falls in [from, to] inclusive, wrapping the year end.
    pub fn birthdays(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<StoredItem>> {
        let a = from.format("%m-%d").to_string();
        let b = to.format("%m-%d").to_string();
        let wraps = a > b || (to - from) >= Duration::days(365);
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i JOIN collections c ON c.id = i.collection_id
             WHERE i.deleted_at IS NULL AND i.bday_md IS NOT NULL AND {}
             ORDER BY i.bday_md, i.sort_key",
            if wraps {
                "(i.bday_md >= ?1 OR i.bday_md <= ?2)"
            } else {
                "i.bday_md BETWEEN ?1 AND ?2"
            }
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![a, b], row_to_item)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Calls `f` for every item of `kinds` (live only unless `trash`), with its bytes, in id
    /// order, one row at a time.
    pub fn for_each_raw(
        &self,
        kinds: &[Kind],
        mut f: impl FnMut(&RawRef<'_>) -> std::io::Result<()>,
    ) -> Result<()> {
        // In id order (the table's own order): no sort, so memory stays flat however big.
        let kinds_sql = kinds
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT i.id, c.name, i.kind, i.uid, r.raw
             FROM items i JOIN collections c ON c.id = i.collection_id
                  JOIN item_raw r ON r.item_id = i.id
             WHERE i.deleted_at IS NULL AND i.kind IN ({kinds_sql}) ORDER BY i.id"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let kind = Kind::parse(r.get_ref(2)?.as_str()?).unwrap_or(Kind::Event);
            if !kinds.contains(&kind) {
                continue;
            }
            let item = RawRef {
                id: r.get(0)?,
                collection: r.get_ref(1)?.as_str()?,
                kind,
                uid: r.get_ref(3)?.as_str()?,
                raw: r.get_ref(4)?.as_blob()?,
            };
            f(&item).map_err(|e| super::StoreError::Io {
                path: self.path.clone(),
                source: e,
            })?;
        }
        Ok(())
    }

    /// `PRAGMA integrity_check`: empty when the file is sound.
    pub fn integrity(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }

    /// Items whose stored columns differ from what their text gives now: (uid, what differs).
    /// With `repair`, the columns (and search text and occurrences) are rewritten from the text.
    pub fn check_columns(&mut self, repair: bool) -> Result<Vec<(String, String)>> {
        let window = self.coverage()?;
        let mut bad = Vec::new();
        let mut fixes = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT i.id, i.uid, r.raw, i.title, i.sort_key, i.data, i.start_ts, i.end_ts,
                        i.all_day, i.recurring, i.due_ts, i.priority, i.status, i.completed_ts,
                        i.parent, i.bday_md, i.kind,
                        (SELECT count(*) FROM occurrences o WHERE o.item_id = i.id)
                 FROM items i JOIN item_raw r ON r.item_id = i.id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let raw: Vec<u8> = r.get(2)?;
                let d = derive(&raw, Vec::new(), window);
                let c = &d.columns;
                let stored = Columns {
                    title: r.get(3)?,
                    sort_key: r.get(4)?,
                    data: r.get(5)?,
                    start_ts: r.get(6)?,
                    end_ts: r.get(7)?,
                    all_day: r.get(8)?,
                    recurring: r.get(9)?,
                    due_ts: r.get(10)?,
                    priority: r.get(11)?,
                    status: r.get(12)?,
                    completed_ts: r.get(13)?,
                    parent: r.get(14)?,
                    bday_md: r.get(15)?,
                    search: c.search.clone(),
                    location: c.location.clone(),
                };
                let kind: String = r.get(16)?;
                let occ_count: i64 = r.get(17)?;
                let mut what = Vec::new();
                if stored != *c {
                    for (name, differs) in [
                        ("title", stored.title != c.title),
                        ("fields", stored.data != c.data),
                        (
                            "start/end",
                            (stored.start_ts, stored.end_ts) != (c.start_ts, c.end_ts),
                        ),
                        ("due", stored.due_ts != c.due_ts),
                        ("status", stored.status != c.status),
                        ("priority", stored.priority != c.priority),
                        ("parent", stored.parent != c.parent),
                        ("birthday", stored.bday_md != c.bday_md),
                        ("sort key", stored.sort_key != c.sort_key),
                    ] {
                        if differs {
                            what.push(name);
                        }
                    }
                    if what.is_empty() {
                        what.push("columns");
                    }
                }
                if kind != d.kind.as_str() {
                    what.push("kind");
                }
                if kind == "event" && occ_count != d.occurrences.len() as i64 {
                    what.push("occurrences");
                }
                if !what.is_empty() {
                    let id: i64 = r.get(0)?;
                    bad.push((r.get::<_, String>(1)?, what.join(", ")));
                    fixes.push((id, d));
                }
            }
        }
        if repair && !fixes.is_empty() {
            let tx = self.conn.transaction()?;
            for (id, d) in &fixes {
                rewrite_columns(&tx, *id, d)?;
            }
            tx.commit()?;
        }
        Ok(bad)
    }

    /// Items with any flag set.
    pub fn flagged(&self) -> Result<Vec<StoredItem>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i JOIN collections c ON c.id = i.collection_id
             WHERE i.flags != 0 ORDER BY i.kind, i.sort_key"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], row_to_item)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Counts of live items by kind.
    pub fn counts(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT kind, count(*) FROM items WHERE deleted_at IS NULL GROUP BY kind ORDER BY kind",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn raise(tx: &Transaction<'_>, span: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('occ_max_span', ?1)
         ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
        [span.to_string()],
    )?;
    Ok(())
}

fn rewrite_columns(tx: &Transaction<'_>, id: i64, d: &super::items::Derived) -> Result<()> {
    let c = &d.columns;
    tx.execute(
        "UPDATE items SET kind = ?2, title = ?3, sort_key = ?4, data = ?5, start_ts = ?6,
           end_ts = ?7, all_day = ?8, recurring = ?9, due_ts = ?10, priority = ?11, status = ?12,
           completed_ts = ?13, parent = ?14, bday_md = ?15
         WHERE id = ?1",
        params![
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
        ],
    )?;
    tx.execute("DELETE FROM items_fts WHERE rowid = ?1", [id])?;
    tx.execute(
        "INSERT INTO items_fts (rowid, body) VALUES (?1, ?2)",
        params![id, c.search],
    )?;
    tx.execute("DELETE FROM occurrences WHERE item_id = ?1", [id])?;
    let (uid, flags, deleted, collection_id): (String, u32, bool, i64) = tx.query_row(
        "SELECT uid, flags, deleted_at IS NOT NULL, collection_id FROM items WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let ctx = OccContext {
        item_id: id,
        uid: &uid,
        flags,
        deleted,
        collection_id,
        title: &d.columns.title,
        location: d.columns.location.as_deref(),
    };
    let span = insert_occurrences(tx, &ctx, &d.occurrences)?;
    raise(tx, span)
}
