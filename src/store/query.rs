//! Reading: lists, search, birthdays, and items' bytes for export.

use std::borrow::Cow;

use chrono::{Duration, NaiveDate};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, OptionalExtension};

use super::items::{row_to_item, StoredItem};
use super::{Result, Store};
use crate::model::{Flags, Kind};

/// What `list` selects.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<Kind>,
    pub query: Option<String>,
    pub trash: bool,
    pub conflicts: bool,
    pub collection: Option<String>,
    /// To-dos not completed or cancelled only.
    pub open_only: bool,
    /// Due in [from, to) (UTC seconds), when set.
    pub due_from: Option<i64>,
    pub due_to: Option<i64>,
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
    list_sql_shaped(f, columns, false)
}

/// `dense`: a search that matches a large share of the items (a one-letter prefix) is better
/// served by walking the list's index in order and checking each row against the matches
/// than by sorting every match.
pub(super) fn list_sql_shaped(f: &Filter, columns: &str, dense: bool) -> (String, Option<String>) {
    let order = match f.kind {
        Some(Kind::Todo) => {
            "(i.status IN ('COMPLETED', 'CANCELLED')), i.due_ts IS NULL, i.due_ts,
             coalesce(nullif(i.priority, 0), 10), i.sort_key"
        }
        Some(Kind::Event) => "i.start_ts, i.sort_key",
        _ => "i.sort_key, i.id",
    };
    let fts = f.query.as_deref().and_then(fts_query);
    let (from, search) = if fts.is_some() && dense {
        (
            "items i JOIN collections c ON c.id = i.collection_id",
            "i.id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?5)",
        )
    } else if fts.is_some() {
        (
            "items_fts f CROSS JOIN items i ON i.id = f.rowid
             JOIN collections c ON c.id = i.collection_id",
            "items_fts MATCH ?5",
        )
    } else if f.kind == Some(Kind::Todo) {
        // To-dos come in list order from their own index (the planner, with no statistics,
        // would pick the counting index and sort every to-do).
        (
            "items i INDEXED BY items_todo_order JOIN collections c ON c.id = i.collection_id",
            "?5 IS NULL",
        )
    } else {
        (
            "items i JOIN collections c ON c.id = i.collection_id",
            "?5 IS NULL",
        )
    };
    // Numbers only, so they go into the text (each distinct text is its own cached plan).
    let mut extra = String::new();
    if f.open_only {
        // The same expression as the to-do index's first column, so counting open to-dos
        // reads the index alone (NULL: no status, open).
        extra.push_str(" AND (i.status IN ('COMPLETED', 'CANCELLED')) IS NOT 1");
    }
    if let Some(t) = f.due_from {
        extra.push_str(&format!(" AND i.due_ts >= {t}"));
    }
    if let Some(t) = f.due_to {
        extra.push_str(&format!(" AND i.due_ts < {t}"));
    }
    // Only the conditions this filter has, spelt so an index can serve them: with stable
    // plans (QPSG), `(?1 IS NULL OR i.kind = ?1)` would be planned as a scan of every item.
    // The kind is one of a fixed set: written into the text, so a partial index on one kind
    // (to-dos in list order) can serve it.
    let kind = match f.kind {
        Some(k) => format!("?1 = '{k}' AND i.kind = '{k}'", k = k.as_str()),
        None => "?1 IS NULL".to_string(),
    };
    let collection = if f.collection.is_some() {
        "c.name = ?4"
    } else {
        "?4 IS NULL"
    };
    let conflicts = if f.conflicts {
        format!("?3 = 1 AND i.flags & {} != 0", Flags::CONFLICT)
    } else {
        "?3 = 0".to_string()
    };
    let sql = format!(
        "SELECT {columns} FROM {from}
         WHERE {search}
           AND {kind}
           AND (i.deleted_at IS NOT NULL) = ?2
           AND {conflicts}
           AND {collection}{extra}
         ORDER BY {order}"
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

/// What a contact list shows of a contact's `data` (columns.rs): borrowed from the row unless
/// the JSON escapes something.
#[derive(serde::Deserialize)]
struct ContactListFields<'a> {
    #[serde(borrow, default)]
    org: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "first")]
    emails: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "first")]
    phones: Option<Cow<'a, str>>,
}

/// The first string of a JSON array (or null), the rest skipped unparsed into values.
fn first<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Option<Cow<'de, str>>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of strings or null")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            #[derive(serde::Deserialize)]
            struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
            let first = seq.next_element::<Text<'de>>()?.map(|t| t.0);
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }
    d.deserialize_any(First)
}

/// A text column, or "" for NULL (json_extract of a missing field).
fn text_or_empty<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    match r.get_ref(i)? {
        rusqlite::types::ValueRef::Null => Ok(""),
        v => v.as_str().map_err(Into::into),
    }
}

/// FTS5 query from what a person typed: every word must match as a prefix, accents folded.
pub(super) fn fts_query(q: &str) -> Option<String> {
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

/// Matches beyond which a search is "dense" (see `list_sql_shaped`).
pub const DENSE: usize = 2000;

/// The values of `list_sql`'s parameters ?1 to ?5.
pub(super) fn list_params(f: &Filter, fts: Option<String>) -> [Value; 5] {
    [
        Value::from(f.kind.map(|k| k.as_str().to_string())),
        Value::from(f.trash),
        Value::from(f.conflicts),
        Value::from(f.collection.clone()),
        Value::from(fts),
    ]
}

/// A list's SQL without its ORDER BY (counting needs no order).
fn unordered(sql: &str) -> &str {
    match sql.rfind("ORDER BY") {
        Some(i) => &sql[..i],
        None => sql,
    }
}

pub(super) const ITEM_COLUMNS: &str =
    "i.id, c.name, i.collection_id, i.kind, i.uid, X'', i.rev, i.flags,
    i.deleted_at IS NOT NULL, i.edited, i.problems, i.data";

impl Store {
    /// Items matching a filter, in the order a list shows them.
    pub fn list(&self, f: &Filter) -> Result<Vec<StoredItem>> {
        let (sql, fts) = list_sql(f, ITEM_COLUMNS);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(list_params(f, fts)), row_to_item)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// One screenful of a list: `limit` items from `offset`, in list order. The UI pages
    /// through long lists with this instead of loading every row.
    pub fn page(&self, f: &Filter, offset: usize, limit: usize) -> Result<Vec<StoredItem>> {
        let dense = f.query.is_some() && self.count_capped(f, DENSE)?.1;
        self.page_shaped(f, offset, limit, dense)
    }

    /// `page` for a caller that has already counted the search (`count_capped(f, DENSE)`):
    /// `dense` is whether it matched more than `DENSE` items.
    pub fn page_shaped(
        &self,
        f: &Filter,
        offset: usize,
        limit: usize,
        dense: bool,
    ) -> Result<Vec<StoredItem>> {
        let (sql, fts) = list_sql_shaped(f, ITEM_COLUMNS, dense);
        let sql = format!("{sql} LIMIT {limit} OFFSET {offset}");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(list_params(f, fts)), row_to_item)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many items a list has, counting no further than `cap` (true: there are more).
    /// A search that matches half the database is not worth counting exactly on every key.
    pub fn count_capped(&self, f: &Filter, cap: usize) -> Result<(usize, bool)> {
        let (sql, fts) = list_sql(f, "1");
        let sql = format!(
            "SELECT count(*) FROM ({} LIMIT {})",
            unordered(&sql),
            cap + 1
        );
        let n = self.count_rows(&sql, f, fts)?;
        Ok((n.min(cap), n > cap))
    }

    /// How many items a list has.
    pub fn count(&self, f: &Filter) -> Result<usize> {
        let (sql, fts) = list_sql(f, "count(*)");
        self.count_rows(unordered(&sql), f, fts)
    }

    fn count_rows(&self, sql: &str, f: &Filter, fts: Option<String>) -> Result<usize> {
        let n: i64 = self
            .conn
            .prepare_cached(sql)?
            .query_row(params_from_iter(list_params(f, fts)), |r| r.get(0))?;
        Ok(n as usize)
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
        if f.query.as_deref().and_then(fts_query).is_some() {
            return self.for_each_contact_hit(&f, each);
        }
        // The three fields are read from `data` here rather than with json_extract: SQLite
        // parsed the document once per row into its binary form, which cost more than the
        // lookup of the row itself.
        let (sql, fts) = list_sql(&f, "i.title, i.data, i.flags, i.uid");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(list_params(&f, fts)))?;
        while let Some(r) = rows.next()? {
            let data = r.get_ref(1)?.as_str()?;
            let d: ContactListFields<'_> = serde_json::from_str(data).map_err(|e| {
                super::StoreError::Invalid(format!("contact fields are not valid JSON: {e}"))
            })?;
            each(&ContactView {
                name: r.get_ref(0)?.as_str()?,
                org: d.org.as_deref().unwrap_or(""),
                email: d.emails.as_deref().unwrap_or(""),
                phone: d.phones.as_deref().unwrap_or(""),
                flags: Flags(r.get(2)?),
                uid: r.get_ref(3)?.as_str()?,
            });
        }
        Ok(())
    }

    /// `for_each_contact_row` for a search: each hit is looked up in the contact-line index,
    /// whose entries hold what a line shows (the fields are computed there when the contact is
    /// written), so the table rows, spread over the whole file, are never read.
    fn for_each_contact_hit(
        &self,
        f: &Filter,
        mut each: impl FnMut(&ContactView<'_>),
    ) -> Result<()> {
        let (sql, fts) = list_sql(
            f,
            "i.sort_key, i.title, json_extract(i.data, '$.org'),
             json_extract(i.data, '$.emails[0]'), json_extract(i.data, '$.phones[0]'), i.uid,
             i.flags",
        );
        // The hits come in id order; they are put in list order (sort key, then id) here:
        // SQLite's sorter would copy every row into records and compare those.
        let sql = unordered(&sql).replacen(
            "CROSS JOIN items i ON",
            "CROSS JOIN items i INDEXED BY items_contact_line ON",
            1,
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(list_params(f, fts)))?;
        // Each hit's six texts one after the other in `text`; per hit where they end.
        let mut text = String::new();
        let mut hits: Vec<([usize; 6], Flags)> = Vec::new();
        while let Some(r) = rows.next()? {
            let mut ends = [0; 6];
            for (i, end) in ends.iter_mut().enumerate() {
                text.push_str(text_or_empty(r, i)?);
                *end = text.len();
            }
            hits.push((ends, Flags(r.get(6)?)));
        }
        let start_of = |n: usize| if n == 0 { 0 } else { hits[n - 1].0[5] };
        let mut order: Vec<usize> = (0..hits.len()).collect();
        order.sort_by(|&a, &b| {
            text[start_of(a)..hits[a].0[0]].cmp(&text[start_of(b)..hits[b].0[0]])
        });
        for n in order {
            let (ends, flags) = hits[n];
            let cell = |i: usize| &text[if i == 0 { start_of(n) } else { ends[i - 1] }..ends[i]];
            each(&ContactView {
                name: cell(1),
                org: cell(2),
                email: cell(3),
                phone: cell(4),
                flags,
                uid: cell(5),
            });
        }
        Ok(())
    }

    /// The names (titles) of the live items with these UIDs, by UID; UIDs with no live item
    /// are left out. One index lookup each: for what a screen shows.
    pub fn titles_of(&self, uids: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT title FROM items WHERE uid = ?1 AND deleted_at IS NULL AND title != ''
             LIMIT 1",
        )?;
        let mut out = std::collections::BTreeMap::new();
        for uid in uids {
            if out.contains_key(uid) {
                continue;
            }
            if let Some(t) = stmt
                .query_row([uid], |r| r.get::<_, String>(0))
                .optional()?
            {
                out.insert(uid.clone(), t);
            }
        }
        Ok(out)
    }

    pub fn raw_of(&self, id: i64) -> Result<Vec<u8>> {
        Ok(self
            .conn
            .query_row("SELECT raw FROM item_raw WHERE item_id = ?1", [id], |r| {
                r.get(0)
            })?)
    }

    /// Up to `limit` live contacts born on month-day `md` ("03-09"): (UID, name), by name.
    pub fn birthdays_on(&self, md: &str, limit: usize) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT uid, title FROM items INDEXED BY items_bday_names
             WHERE bday_md = ?1 AND deleted_at IS NULL AND kind = 'contact'
             ORDER BY sort_key LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![md, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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
}
