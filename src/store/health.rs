//! What `doctor` checks: SQLite's integrity, every item's derived columns against its text
//! (and the repair), flagged items.

use rusqlite::Transaction;

use super::items::{
    derive, insert_occurrences, row_to_item, write_derived, OccContext, StoredItem,
};
use super::occurrences::raise_max_span;
use super::query::ITEM_COLUMNS;
use super::{Columns, Result, Store};

impl Store {
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

fn rewrite_columns(tx: &Transaction<'_>, id: i64, d: &super::items::Derived) -> Result<()> {
    write_derived(tx, id, d)?;
    if d.kind == crate::model::Kind::Photo {
        let raw: Vec<u8> =
            tx.query_row("SELECT raw FROM item_raw WHERE item_id = ?1", [id], |r| {
                r.get(0)
            })?;
        super::photos::index_photo(tx, id, &raw)?;
    }
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
    raise_max_span(tx, span)
}
