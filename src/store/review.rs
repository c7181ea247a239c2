//! What the UI's review panels and global search read and write: conflicts (the server's
//! version kept as a revision, DESIGN.md §5) and their resolution, a search over every kind,
//! where an item sits in its list (to jump to it), and the to-do list as a tree.
//!
//! Like every list here, nothing reads more rows than the screen shows, except locating one
//! item in its list, which counts rows before it from an index.

use rusqlite::{params, params_from_iter, OptionalExtension, Transaction};

use super::items::{derive, row_to_item, write, StoredItem};
use super::occurrences::raise_max_span;
use super::query::{list_params, list_sql_shaped, ITEM_COLUMNS};
use super::{Filter, Result, Store, StoreError};
use crate::model::{Flags, Kind};

/// The origin `SyncWrite::Conflict` gives the server's version it keeps as a revision.
pub const CONFLICT_REMOTE_ORIGIN: &str = "server (conflict: kept as a revision)";

/// The two sides of a conflict: the current (local, winning) text and the server's.
#[derive(Debug, Clone)]
pub struct ConflictVersions {
    pub item: StoredItem,
    /// The revision that holds the server's version, its time (RFC 3339) and bytes.
    pub remote_rev: i64,
    pub remote_at: String,
    pub remote: Vec<u8>,
}

/// How a person settles a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The current version stays (it is already on the server); the flag goes.
    KeepMine,
    /// The server's version becomes a new revision (the next sync uploads it); the flag goes.
    TakeServer,
}

/// One row of the to-do tree: the item and how deep it sits (0: top level).
#[derive(Debug, Clone)]
pub struct TreeRow {
    pub item: StoredItem,
    pub depth: usize,
}

/// Search hits of one kind: the first rows and how many there are (capped).
#[derive(Debug, Clone)]
pub struct SearchGroup {
    pub kind: Kind,
    pub rows: Vec<StoredItem>,
    pub total: usize,
    /// More matches than `total` counted.
    pub more: bool,
}

/// Matches counted per kind in a global search at most (shown as "200+").
const SEARCH_COUNT_CAP: usize = 200;

/// Search-index matches a global search reads at most per key typed: about 5 ms; a search
/// matching more is answered from these and marked as having more.
const SEARCH_WINDOW: usize = 5000;

/// Subtask levels followed at most: a UID loop between collections cannot recurse forever.
const TREE_DEPTH: usize = 16;

impl Store {
    /// The newest revision the sync engine kept as the server's side of a conflict, with the
    /// item itself; None when the item has no such revision (flagged by an older version, or
    /// the versions were equal).
    pub fn conflict_versions(&self, item_id: i64) -> Result<Option<ConflictVersions>> {
        let item = self.get(item_id)?;
        let remote: Option<(i64, String, Vec<u8>)> = self
            .conn
            .prepare_cached(
                "SELECT rev, at, raw FROM revisions WHERE item_id = ?1 AND origin = ?2
                 ORDER BY rev DESC LIMIT 1",
            )?
            .query_row(params![item_id, CONFLICT_REMOTE_ORIGIN], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        Ok(
            remote.map(|(remote_rev, remote_at, remote)| ConflictVersions {
                item,
                remote_rev,
                remote_at,
                remote,
            }),
        )
    }

    /// Settles a conflict in one transaction. Returns the item's revision before, so the
    /// change can be undone with `reopen_conflict`.
    pub fn resolve_conflict(&mut self, item_id: i64, how: Resolution) -> Result<i64> {
        let item = self.get(item_id)?;
        if !item.flags.has(Flags::CONFLICT) {
            return Err(StoreError::Invalid(format!(
                "{} is not flagged as a conflict",
                item.uid
            )));
        }
        let window = self.coverage()?;
        let remote = match how {
            Resolution::KeepMine => None,
            Resolution::TakeServer => Some(
                self.conflict_versions(item_id)?
                    .ok_or_else(|| {
                        StoreError::Invalid(format!(
                            "{}: the server's version is not in its history (see `holdfast history {}`)",
                            item.uid, item.uid
                        ))
                    })?
                    .remote,
            ),
        };
        let tx = self.conn.transaction()?;
        if let Some(raw) = &remote {
            let d = derive(raw, Vec::new(), window);
            let deleted_at: Option<String> = tx.query_row(
                "SELECT deleted_at FROM items WHERE id = ?1",
                [item_id],
                |r| r.get(0),
            )?;
            let (_, span) = write(
                &tx,
                Some((item_id, item.flags.0)),
                item.collection_id,
                &item.uid,
                raw,
                &d,
                "conflict: took the server's version",
                true,
                deleted_at.as_deref(),
                None,
            )?;
            raise_max_span(&tx, span)?;
        }
        set_conflict_in(&tx, item_id, false)?;
        tx.commit()?;
        Ok(item.rev)
    }

    /// Undoes `resolve_conflict`: flags the item again and, when `rev` is given and is not the
    /// current one, brings that revision back as a new one.
    pub fn reopen_conflict(&mut self, item_id: i64, rev: Option<i64>) -> Result<()> {
        let item = self.get(item_id)?;
        if let Some(rev) = rev.filter(|r| *r != item.rev) {
            let raw = self.revision_raw(&item, rev)?;
            self.update(&item, &raw, &format!("revert:{rev}"), false)?;
        }
        let tx = self.conn.transaction()?;
        set_conflict_in(&tx, item_id, true)?;
        tx.commit()?;
        Ok(())
    }

    /// Live flagged items (what the status bar counts), conflicts first, then by kind and
    /// name; at most `limit`.
    pub fn flagged_for_review(&self, limit: usize) -> Result<Vec<StoredItem>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i INDEXED BY items_flagged
             JOIN collections c ON c.id = i.collection_id
             WHERE i.flags != 0 AND i.deleted_at IS NULL
             ORDER BY i.flags & {} = 0, i.kind, i.sort_key LIMIT {limit}",
            Flags::CONFLICT
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], row_to_item)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A search over contacts, events and to-dos (live ones): per kind the first `limit` hits
    /// and how many there are. Accents are folded (`muller` finds Müller).
    ///
    /// One pass over at most `SEARCH_WINDOW` matches of the search index, whatever their kind:
    /// a one-letter search over 100,000 contacts costs that many lookups, not one per match
    /// per kind. When the window fills, counts are lower bounds (`more`) and a kind whose
    /// matches all lie beyond it shows up once the search is narrower.
    pub fn search_all(&self, query: &str, limit: usize) -> Result<Vec<SearchGroup>> {
        let Some(fts) = super::query::fts_query(query) else {
            return Ok(Vec::new());
        };
        let kinds = [Kind::Contact, Kind::Event, Kind::Todo];
        let mut ids: Vec<Vec<i64>> = vec![Vec::new(); kinds.len()];
        let mut counts = [0usize; 3];
        let mut scanned = 0;
        {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT m.r, i.kind FROM
                   (SELECT rowid AS r FROM items_fts WHERE items_fts MATCH ?1 LIMIT {SEARCH_WINDOW}) m
                   JOIN items i ON i.id = m.r
                 WHERE i.deleted_at IS NULL"
            ))?;
            let mut rows = stmt.query([&fts])?;
            while let Some(r) = rows.next()? {
                scanned += 1;
                let kind = Kind::parse(r.get_ref(1)?.as_str()?);
                if let Some(k) = kinds.iter().position(|x| Some(*x) == kind) {
                    counts[k] += 1;
                    if ids[k].len() < limit {
                        ids[k].push(r.get(0)?);
                    }
                }
            }
        }
        // Trashed matches count against the window too: it is full when the index had more.
        let full = scanned >= SEARCH_WINDOW
            || self
                .conn
                .prepare_cached(&format!(
                    "SELECT count(*) FROM (SELECT 1 FROM items_fts WHERE items_fts MATCH ?1
                     LIMIT {})",
                    SEARCH_WINDOW + 1
                ))?
                .query_row([&fts], |r| r.get::<_, i64>(0))? as usize
                > SEARCH_WINDOW;
        let mut out = Vec::new();
        for (k, kind) in kinds.into_iter().enumerate() {
            if ids[k].is_empty() {
                continue;
            }
            let list: Vec<String> = ids[k].iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT {ITEM_COLUMNS} FROM items i JOIN collections c ON c.id = i.collection_id
                 WHERE i.id IN ({})",
                list.join(",")
            );
            let mut rows = self
                .conn
                .prepare(&sql)?
                .query_map([], row_to_item)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            // Sorted as the kind's list sorts (by time, then name).
            rows.sort_by_cached_key(|i| {
                let name = match kind {
                    Kind::Contact => i.data["full_name"].as_str(),
                    _ => i.data["summary"].as_str(),
                };
                let when = i.data["start"].as_str().or(i.data["due"].as_str());
                (
                    when.unwrap_or("").to_string(),
                    super::fold_for_search(name.unwrap_or("")),
                )
            });
            out.push(SearchGroup {
                kind,
                rows,
                total: counts[k].min(SEARCH_COUNT_CAP),
                more: full || counts[k] > SEARCH_COUNT_CAP,
            });
        }
        Ok(out)
    }

    /// Where a live contact sits in the unfiltered contact list (its index), counted on the
    /// list's index: the rows before it in (sort_key, id) order.
    pub fn contact_position(&self, item_id: i64) -> Result<Option<usize>> {
        let key: Option<(String, bool)> = self
            .conn
            .prepare_cached("SELECT sort_key, deleted_at IS NOT NULL FROM items WHERE id = ?1 AND kind = 'contact'")?
            .query_row([item_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((sort_key, false)) = key else {
            return Ok(None);
        };
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM items INDEXED BY items_kind_sort
             WHERE kind = 'contact' AND deleted_at IS NULL
               AND (sort_key < ?1 OR (sort_key = ?1 AND id < ?2))",
            )?
            .query_row(params![sort_key, item_id], |r| r.get(0))?;
        Ok(Some(n as usize))
    }

    /// The first date (UTC seconds) an event shows on at or after `from`, else its last one
    /// before; None for an event with no occurrence rows.
    pub fn event_start_near(&self, item_id: i64, from: i64) -> Result<Option<i64>> {
        let next: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT min(start) FROM occurrences WHERE item_id = ?1 AND start >= ?2 AND deleted = 0",
            )?
            .query_row(params![item_id, from], |r| r.get(0))?;
        if next.is_some() {
            return Ok(next);
        }
        Ok(self
            .conn
            .prepare_cached(
                "SELECT max(start) FROM occurrences WHERE item_id = ?1 AND deleted = 0",
            )?
            .query_row([item_id], |r| r.get(0))?)
    }

    /// One screenful of the to-do list as a tree: subtasks (RELATED-TO a parent) right under
    /// their parent, each level in list order (open first, by due date, priority, name). A
    /// to-do whose parent is not in the list (missing, trashed, or hidden by the open filter)
    /// is top level. A search or a due-date filter lists its matches flat (depth 0).
    ///
    /// Top-level to-dos stream from the list's index in order; only those with subtasks cost
    /// a lookup of their children (by the parent index), so the first page reads about one
    /// screenful of rows however many to-dos there are, and a page at row N reads N index
    /// entries, as a flat OFFSET would.
    pub fn todo_tree_page(&self, f: &Filter, offset: usize, limit: usize) -> Result<Vec<TreeRow>> {
        if !tree_shaped(f) || !self.todos_have_parents()? {
            return Ok(self
                .page(f, offset, limit)?
                .into_iter()
                .map(|item| TreeRow { item, depth: 0 })
                .collect());
        }
        let mut window: Vec<(i64, usize)> = Vec::new();
        self.walk_tree(f, |pos, id, depth| {
            if pos >= offset + limit {
                return false;
            }
            if pos >= offset {
                window.push((id, depth));
            }
            true
        })?;
        let ids: Vec<String> = window.iter().map(|(id, _)| id.to_string()).collect();
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i JOIN collections c ON c.id = i.collection_id
             WHERE i.id IN ({})",
            ids.join(",")
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut by_id: std::collections::HashMap<i64, StoredItem> = stmt
            .query_map([], row_to_item)?
            .map(|r| r.map(|i| (i.id, i)))
            .collect::<rusqlite::Result<_>>()?;
        Ok(window
            .into_iter()
            .filter_map(|(id, depth)| by_id.remove(&id).map(|item| TreeRow { item, depth }))
            .collect())
    }

    /// Where a to-do sits in `todo_tree_page`'s order (None: not in the list).
    pub fn todo_position(&self, f: &Filter, item_id: i64) -> Result<Option<usize>> {
        if !tree_shaped(f) {
            // A flat list: its ids in list order, counted until the one wanted.
            let (sql, fts) = list_sql_shaped(f, "i.id", self.todo_search_dense(f)?);
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(list_params(f, fts)))?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                if r.get::<_, i64>(0)? == item_id {
                    return Ok(Some(n));
                }
                n += 1;
            }
            return Ok(None);
        }
        let mut found = None;
        self.walk_tree(f, |pos, id, _| {
            if id == item_id {
                found = Some(pos);
                return false;
            }
            true
        })?;
        Ok(found)
    }

    /// Calls `each(position, id, depth)` for the tree's rows in order until it returns false.
    fn walk_tree(&self, f: &Filter, mut each: impl FnMut(usize, i64, usize) -> bool) -> Result<()> {
        let open = if f.open_only {
            " AND (p.status IN ('COMPLETED', 'CANCELLED')) IS NOT 1"
        } else {
            ""
        };
        // A root: no parent, its own parent, or a parent not in this list.
        let root = format!(
            " AND (i.parent IS NULL OR i.parent = i.uid OR NOT EXISTS (
                 SELECT 1 FROM items p WHERE p.uid = i.parent AND p.kind = 'todo'
                   AND p.deleted_at IS NULL{open}))"
        );
        let has_children = |of: &str| {
            format!(
                "EXISTS (SELECT 1 FROM items q INDEXED BY items_todo_parent
                   WHERE q.kind = 'todo' AND q.parent = {of}.uid AND q.uid != {of}.uid
                     AND q.deleted_at IS NULL{})",
                open.replace("p.", "q.")
            )
        };
        let (sql, fts) = list_sql_shaped(f, &format!("i.id, i.uid, {}", has_children("i")), false);
        let sql = match sql.rfind("ORDER BY") {
            Some(at) => format!("{}{root} {}", &sql[..at], &sql[at..]),
            None => sql,
        };
        let children_sql = format!(
            "SELECT p.id, p.uid, {} FROM items p INDEXED BY items_todo_parent
             WHERE p.kind = 'todo' AND p.parent = ?1 AND p.uid != ?1
               AND p.deleted_at IS NULL{open}
             ORDER BY (p.status IN ('COMPLETED', 'CANCELLED')), p.due_ts IS NULL, p.due_ts,
                      coalesce(nullif(p.priority, 0), 10), p.sort_key, p.id",
            has_children("p")
        );
        let mut roots = self.conn.prepare_cached(&sql)?;
        let mut rows = roots.query(params_from_iter(list_params(f, fts)))?;
        let mut children = self.conn.prepare_cached(&children_sql)?;
        let mut children_of = |uid: &str| -> Result<Vec<(i64, String, bool)>> {
            Ok(children
                .query_map([uid], |c| Ok((c.get(0)?, c.get(1)?, c.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?)
        };
        let mut pos = 0;
        while let Some(r) = rows.next()? {
            let (id, uid, kids): (i64, String, bool) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if !each(pos, id, 0) {
                return Ok(());
            }
            pos += 1;
            if !kids {
                continue;
            }
            // Depth-first, preorder: the top of `pending` is the next row to show.
            let mut seen = std::collections::HashSet::from([id]);
            let mut pending: Vec<(i64, String, bool, usize)> = children_of(&uid)?
                .into_iter()
                .rev()
                .map(|(i, u, k)| (i, u, k, 1))
                .collect();
            while let Some((cid, cuid, more, depth)) = pending.pop() {
                // A UID loop (the same UID in two collections) is shown once.
                if !seen.insert(cid) {
                    continue;
                }
                if !each(pos, cid, depth) {
                    return Ok(());
                }
                pos += 1;
                if more && depth < TREE_DEPTH {
                    pending.extend(
                        children_of(&cuid)?
                            .into_iter()
                            .rev()
                            .map(|(i, u, k)| (i, u, k, depth + 1)),
                    );
                }
            }
        }
        Ok(())
    }

    fn todos_have_parents(&self) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM items INDEXED BY items_todo_parent
             WHERE kind = 'todo' AND parent IS NOT NULL AND deleted_at IS NULL)",
            )?
            .query_row([], |r| r.get(0))?)
    }

    fn todo_search_dense(&self, f: &Filter) -> Result<bool> {
        Ok(f.query.is_some() && self.count_capped(f, super::DENSE)?.1)
    }
}

/// Whether a filter lists to-dos as a tree: the open and all lists. A search or a due-date
/// window lists its matches flat (a match's parent may not match).
fn tree_shaped(f: &Filter) -> bool {
    f.query.is_none() && f.due_from.is_none() && f.due_to.is_none()
}

/// Sets or clears the conflict flag of an item and its occurrence rows.
fn set_conflict_in(tx: &Transaction<'_>, item_id: i64, on: bool) -> Result<()> {
    let (items, occ) = if on {
        (
            "UPDATE items SET flags = flags | ?2 WHERE id = ?1",
            "UPDATE occurrences SET flags = flags | ?2 WHERE item_id = ?1",
        )
    } else {
        (
            "UPDATE items SET flags = flags & ~?2 WHERE id = ?1",
            "UPDATE occurrences SET flags = flags & ~?2 WHERE item_id = ?1",
        )
    };
    tx.execute(items, params![item_id, Flags::CONFLICT])?;
    tx.execute(occ, params![item_id, Flags::CONFLICT])?;
    Ok(())
}
