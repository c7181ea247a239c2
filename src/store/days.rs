//! The day cache of the occurrence table (migration 8): per UTC day, the live occurrences that
//! start that day, packed into one blob in table order. A month of a busy calendar is tens of
//! thousands of occurrence rows, and stepping SQLite through them was most of a month's
//! `list events`; read from here it is some thirty blobs.
//!
//! It is derived data, and it cannot go stale: in the writer's own transaction, triggers on
//! `occurrences` delete the day of every row deleted or updated, and `insert_occ_rows` (where
//! every row is inserted, `tests/architecture.rs` checks) the days of the rows it inserts; so
//! a day that is here is exactly what the table holds. Days are filled by a window read that finds them
//! missing (under the write lock, from the table, in one transaction), never by a writer.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, ErrorCode, TransactionBehavior};

use super::occurrences::{view_of, window_sql, OccurrenceView, LONG, VIEW_COLUMNS};
use super::query::{fts_query, Filter};
use super::{Result, Store};
use crate::format::width::width;
use crate::model::Flags;

/// The seconds of one day, the cache's unit.
const DAY: i64 = 86_400;

/// A window read fills the days it misses only when it spans at most this many: a month or a
/// quarter is what people list; a longer list is dominated by its own output anyway.
const MAX_FILL_DAYS: i64 = 100;

/// The cache keeps about this many days; past it, a fill drops the days outside its window.
const KEEP_DAYS: i64 = 400;

/// The day key of a start: seconds divided by `DAY`, truncated, exactly as the triggers of
/// migration 8 compute it (`start / 86400` in SQLite, integer division truncating too).
fn day_of(start: i64) -> i64 {
    start / DAY
}

/// Drops the cached days of these starts (ascending), before rows starting then are inserted:
/// what the insert trigger would do, once per day instead of once per row.
pub(super) fn forget_days(conn: &Connection, starts: impl Iterator<Item = i64>) -> Result<()> {
    let cached: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM occurrence_days)")?
        .query_row([], |r| r.get(0))?;
    if !cached {
        return Ok(());
    }
    let mut forget = conn.prepare_cached("DELETE FROM occurrence_days WHERE day = ?1")?;
    let mut last = None;
    for day in starts.map(day_of) {
        if last != Some(day) {
            forget.execute([day])?;
            last = Some(day);
        }
    }
    Ok(())
}

/// Bytes of one row's fixed part: start, end, collection id, flags, all-day, the display
/// widths of summary and location, and the byte lengths of summary, location and UID.
const HEAD: usize = 8 + 8 + 8 + 4 + 1 + 4 + 4 + 3 * 4;
const WIDTHS_AT: usize = 29;
const LENS_AT: usize = 37;

/// One day packed: the blob and what measuring its rows gives.
pub(super) struct PackedDay {
    pub blob: Vec<u8>,
    pub rows: usize,
    pub widths: [usize; 2],
    /// No row has flags, and every all-day row ends after it starts: a window that covers the
    /// whole day shows every row (`Bounds::covers`), and the day's widths are the window's.
    pub plain: bool,
}

/// Packs rows into a day blob: the row count, each row's fixed part, then all the rows' texts
/// (summary, location, UID of each row in turn) as one UTF-8 run.
pub(super) struct DayPacker {
    heads: Vec<u8>,
    text: String,
    rows: usize,
    widths: [usize; 2],
    plain: bool,
}

impl Default for DayPacker {
    fn default() -> Self {
        DayPacker {
            heads: Vec::new(),
            text: String::new(),
            rows: 0,
            widths: [0; 2],
            plain: true,
        }
    }
}

impl DayPacker {
    pub(super) fn push(&mut self, o: &OccurrenceView<'_>) {
        let widths = [width(o.summary), width(o.location)];
        let h = &mut self.heads;
        h.extend_from_slice(&o.start.to_le_bytes());
        h.extend_from_slice(&o.end.to_le_bytes());
        h.extend_from_slice(&o.collection_id.to_le_bytes());
        h.extend_from_slice(&o.flags.0.to_le_bytes());
        h.push(u8::from(o.all_day));
        for (w, most) in widths.into_iter().zip(&mut self.widths) {
            h.extend_from_slice(&(w as u32).to_le_bytes());
            *most = (*most).max(w);
        }
        for cell in [o.summary, o.location, o.uid] {
            h.extend_from_slice(&(cell.len() as u32).to_le_bytes());
            self.text.push_str(cell);
        }
        self.rows += 1;
        self.plain &= o.flags.0 == 0 && (!o.all_day || o.end > o.start);
    }

    /// The day packed, and the packer emptied for the next one.
    pub(super) fn take(&mut self) -> PackedDay {
        let mut blob = Vec::with_capacity(4 + self.heads.len() + self.text.len());
        blob.extend_from_slice(&(self.rows as u32).to_le_bytes());
        blob.append(&mut self.heads);
        blob.extend_from_slice(self.text.as_bytes());
        let done = std::mem::take(self);
        PackedDay {
            blob,
            rows: done.rows,
            widths: done.widths,
            plain: done.plain,
        }
    }
}

/// The rows of a day blob, checked whole before the first is read: a blob that does not hold
/// what `DayPacker` writes (a damaged file) is `None`, and its day is read from the table.
pub(super) struct DayRows<'a> {
    heads: &'a [u8],
    text: &'a str,
    text_at: usize,
}

impl<'a> DayRows<'a> {
    pub(super) fn parse(blob: &'a [u8]) -> Option<Self> {
        let (count, rest) = blob.split_first_chunk::<4>()?;
        let heads_len = (u32::from_le_bytes(*count) as usize).checked_mul(HEAD)?;
        let heads = rest.get(..heads_len)?;
        // A day's text is a few hundred kilobytes, checked on every read: simdutf8 checks it
        // several times faster than the standard library.
        let text = simdutf8::basic::from_utf8(rest.get(heads_len..)?).ok()?;
        // Every cell must end inside the text, on a character boundary, and the cells must
        // use the text up exactly.
        let mut at = 0usize;
        for head in heads.chunks_exact(HEAD) {
            for k in 0..3 {
                at = at.checked_add(u32_at(head, LENS_AT + 4 * k))?;
                if !text.is_char_boundary(at) {
                    return None;
                }
            }
        }
        (at == text.len()).then_some(DayRows {
            heads,
            text,
            text_at: 0,
        })
    }
}

fn i64_at(head: &[u8], at: usize) -> i64 {
    let mut b = [0; 8];
    b.copy_from_slice(&head[at..at + 8]);
    i64::from_le_bytes(b)
}

fn u32_at(head: &[u8], at: usize) -> usize {
    let mut b = [0; 4];
    b.copy_from_slice(&head[at..at + 4]);
    u32::from_le_bytes(b) as usize
}

impl<'a> Iterator for DayRows<'a> {
    type Item = OccurrenceView<'a>;

    fn next(&mut self) -> Option<OccurrenceView<'a>> {
        let (head, rest) = self.heads.split_at_checked(HEAD)?;
        self.heads = rest;
        let mut cells = [""; 3];
        for (k, cell) in cells.iter_mut().enumerate() {
            let end = self.text_at + u32_at(head, LENS_AT + 4 * k);
            // `parse` checked every boundary.
            *cell = self.text.get(self.text_at..end).unwrap_or_default();
            self.text_at = end;
        }
        let [summary, location, uid] = cells;
        Some(OccurrenceView {
            start: i64_at(head, 0),
            end: i64_at(head, 8),
            collection_id: i64_at(head, 16),
            flags: Flags(u32_at(head, 24) as u32),
            all_day: head[28] != 0,
            summary,
            location,
            uid,
            widths: Some([u32_at(head, WIDTHS_AT), u32_at(head, WIDTHS_AT + 4)]),
        })
    }
}

/// The bounds of a window read (the values of `Store::window`): which occurrences starting
/// in the days read belong to the window, exactly as the window's SQL decides.
#[derive(Clone, Copy)]
struct Bounds {
    from: i64,
    to: i64,
    /// The earliest start that can still overlap the window (the longest occurrence's span
    /// before its first local day).
    lo: i64,
    from_d: i64,
    to_d: i64,
}

impl Bounds {
    /// From the values `Store::window` binds (?1, ?2, ?3, ?8, ?9).
    fn of(values: &[Value]) -> Option<Bounds> {
        let int = |i: usize| match values.get(i) {
            Some(Value::Integer(v)) => Some(*v),
            _ => None,
        };
        Some(Bounds {
            from: int(0)?,
            to: int(1)?,
            lo: int(2)?,
            from_d: int(7)?,
            to_d: int(8)?,
        })
    }

    /// The starts a window can hold are [lo, hi).
    fn hi(&self) -> i64 {
        self.to.max(self.to_d)
    }

    fn admits(&self, o: &OccurrenceView<'_>) -> bool {
        o.start >= self.lo
            && o.start < self.hi()
            && if o.all_day {
                o.start < self.to_d && o.end > self.from_d
            } else {
                o.start < self.to
                    && (o.end > self.from || (o.end <= o.start && o.start >= self.from))
            }
    }

    /// Whether every plain row (`PackedDay::plain`) starting on `day` is admitted: the day
    /// lies in [from, to) and in [from_d, to_d). A timed row starting there is in the window
    /// whatever its end; an all-day one ends after it starts, so after `from_d`.
    fn covers(&self, day: i64) -> bool {
        day * DAY >= self.from.max(self.from_d) && (day + 1) * DAY <= self.to.min(self.to_d)
    }
}

/// A window of the live occurrences of every collection, to be read from the day cache: the
/// days [first, last] from its first local day on, and before them the lead (`read_lead`).
pub struct EventWindow {
    bounds: Bounds,
    /// The window's SQL over the table and its values, for days the cache lacks.
    sql: String,
    values: Vec<Value>,
    first: i64,
    last: i64,
}

impl EventWindow {
    /// How many days of the cache it reads.
    pub fn days(&self) -> i64 {
        self.last - self.first + 1
    }
}

/// What a day the window shows whole holds: its row count and the widest summary and
/// location among them (display columns).
#[derive(Debug, Clone, Copy)]
pub struct DayWidths {
    pub rows: usize,
    pub summary: usize,
    pub location: usize,
}

impl Store {
    /// The window [from, to) as days of the cache, filled first where it lacks them. None when
    /// the cache does not serve it: a filter (a collection, a search, the trash, conflicts),
    /// a window longer than `MAX_FILL_DAYS`, before 1970, or too far out to be stored. Read
    /// those with `occurrence_rows_in_parts`.
    pub fn event_window(&mut self, f: &Filter, from: i64, to: i64) -> Result<Option<EventWindow>> {
        if f.trash
            || f.conflicts
            || f.collection.is_some()
            || f.query.as_deref().and_then(fts_query).is_some()
        {
            return Ok(None);
        }
        let Some(values) = self.window(f, from, to)? else {
            return Ok(None);
        };
        let Some(bounds) = Bounds::of(&values).filter(|b| b.from.min(b.from_d) >= 0) else {
            return Ok(None);
        };
        let (first, last) = (
            day_of(bounds.from.min(bounds.from_d)),
            day_of(bounds.hi() - 1),
        );
        if last - first >= MAX_FILL_DAYS {
            return Ok(None);
        }
        self.fill_days(first, last)?;
        Ok(Some(EventWindow {
            bounds,
            sql: window_sql(VIEW_COLUMNS, "", f),
            values,
            first,
            last,
        }))
    }

    /// Fills the days [first, last] the cache lacks, from the table, in one write transaction
    /// taken only if it is free at once (a sync writing must not make a list wait; the list
    /// then reads those days from the table). A cache that cannot be filled is no error.
    fn fill_days(&mut self, first: i64, last: i64) -> Result<()> {
        if missing_days(&self.conn, first, last)?.is_empty() {
            return Ok(());
        }
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let filled = self.fill_days_locked(first, last);
        self.conn
            .busy_timeout(std::time::Duration::from_secs(super::BUSY_SECS))?;
        match filled {
            Err(super::StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::ReadOnly) =>
            {
                tracing::debug!("day cache not filled: {e}");
                Ok(())
            }
            other => other,
        }
    }

    fn fill_days_locked(&mut self, first: i64, last: i64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let missing = missing_days(&tx, first, last)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO occurrence_days
                     (day, rows, summary_w, location_w, plain, packed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut flush = |day: i64, packer: &mut DayPacker| -> rusqlite::Result<usize> {
                let p = packer.take();
                insert.execute(rusqlite::params![
                    day,
                    p.rows as i64,
                    p.widths[0] as i64,
                    p.widths[1] as i64,
                    p.plain,
                    p.blob
                ])
            };
            let mut scan = tx.prepare_cached(&format!(
                "SELECT {VIEW_COLUMNS} FROM occurrences o
                 WHERE o.start >= ?1 AND o.start < ?2 AND o.deleted = 0 ORDER BY o.start"
            ))?;
            for (a, b) in runs(&missing) {
                let mut packer = DayPacker::default();
                let mut day = a;
                let mut rows = scan.query([a * DAY, (b + 1) * DAY])?;
                while let Some(r) = rows.next()? {
                    let o = view_of(r)?;
                    while day < day_of(o.start) {
                        flush(day, &mut packer)?;
                        day += 1;
                    }
                    packer.push(&o);
                }
                while day <= b {
                    flush(day, &mut packer)?;
                    day += 1;
                }
            }
        }
        let kept: i64 = tx.query_row("SELECT count(*) FROM occurrence_days", [], |r| r.get(0))?;
        if kept > KEEP_DAYS {
            tx.execute(
                "DELETE FROM occurrence_days WHERE day < ?1 OR day > ?2",
                [first, last],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The cached days that differ from what the table gives now (`doctor`: the triggers
    /// keep them exact, so any is damage or a write from outside Holdfast); with `repair`
    /// they are dropped, to be filled again by the next list. Ascending.
    pub fn check_day_cache(&mut self, repair: bool) -> Result<Vec<i64>> {
        let mut stale = Vec::new();
        {
            let mut days = self.conn.prepare(
                "SELECT day, rows, summary_w, location_w, plain, packed FROM occurrence_days
                 ORDER BY day",
            )?;
            let mut scan = self.conn.prepare_cached(&format!(
                "SELECT {VIEW_COLUMNS} FROM occurrences o
                 WHERE o.start >= ?1 AND o.start < ?2 AND o.deleted = 0 ORDER BY o.start"
            ))?;
            let mut rows = days.query([])?;
            while let Some(r) = rows.next()? {
                let day: i64 = r.get(0)?;
                let mut packer = DayPacker::default();
                let mut table = scan.query([day * DAY, (day + 1) * DAY])?;
                while let Some(t) = table.next()? {
                    packer.push(&view_of(t)?);
                }
                let fresh = packer.take();
                let same = day >= 0
                    && r.get::<_, i64>(1)? == fresh.rows as i64
                    && r.get::<_, i64>(2)? == fresh.widths[0] as i64
                    && r.get::<_, i64>(3)? == fresh.widths[1] as i64
                    && r.get::<_, bool>(4)? == fresh.plain
                    && r.get_ref(5)?.as_blob().ok() == Some(fresh.blob.as_slice());
                if !same {
                    stale.push(day);
                }
            }
        }
        if repair && !stale.is_empty() {
            let tx = self.conn.transaction()?;
            for day in &stale {
                tx.execute("DELETE FROM occurrence_days WHERE day = ?1", [day])?;
            }
            tx.commit()?;
        }
        Ok(stale)
    }

    /// Measures what the window shows: the stored widths of each cached day it shows whole,
    /// and `row` for each shown row of the other days (the window's edges, days with flagged
    /// rows, days the cache lacks).
    pub fn measure_window(
        &self,
        w: &EventWindow,
        mut row: impl FnMut(&OccurrenceView<'_>),
    ) -> Result<Vec<DayWidths>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT day, rows, summary_w, location_w FROM occurrence_days
             WHERE day >= ?1 AND day <= ?2 AND plain ORDER BY day",
        )?;
        read_lead(&self.conn, w, &mut row)?;
        let mut reader = DayReader::new(&self.conn);
        let mut rows = stmt.query([w.first, w.last])?;
        let mut whole = Vec::new();
        let mut next = w.first;
        while let Some(r) = rows.next()? {
            let day: i64 = r.get(0)?;
            if !w.bounds.covers(day) {
                continue;
            }
            let count = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as usize);
            if day > next {
                reader.read(w, next, day - 1, &mut row)?;
            }
            whole.push(DayWidths {
                rows: count(1)?,
                summary: count(2)?,
                location: count(3)?,
            });
            next = day + 1;
        }
        if next <= w.last {
            reader.read(w, next, w.last, &mut row)?;
        }
        Ok(whole)
    }

    /// The window's rows in start order, a day at a time (the lead first), on `workers`
    /// threads with a connection each: `work` adds a row to its day's `R` (one `init` made, or
    /// one `done` gave back), and `done` gets the days' `R`s in window order as they are ready.
    pub fn read_window_ordered<R: Send>(
        &self,
        w: &EventWindow,
        workers: usize,
        init: impl Fn() -> R + Sync,
        work: impl Fn(&mut R, &OccurrenceView<'_>) + Sync,
        mut done: impl FnMut(R) -> Option<R>,
    ) -> Result<()> {
        use std::sync::atomic::{AtomicI64, Ordering};
        use std::sync::{mpsc, Mutex};
        if workers <= 1 {
            // Here, on this connection: a day or two is not worth a thread and a connection.
            let mut spare = None;
            let mut reader = DayReader::new(&self.conn);
            for day in w.first - 1..=w.last {
                let mut r = spare.take().unwrap_or_else(&init);
                let mut add = |o: &OccurrenceView<'_>| work(&mut r, o);
                if day < w.first {
                    read_lead(&self.conn, w, &mut add)?;
                } else {
                    reader.read(w, day, day, &mut add)?;
                }
                spare = done(r);
            }
            return Ok(());
        }
        let conns = (0..workers)
            .map(|_| self.read_connection())
            .collect::<Result<Vec<_>>>()?;
        // Day `first - 1` stands for the lead.
        let next_day = AtomicI64::new(w.first - 1);
        let spare: Mutex<Vec<R>> = Mutex::new(Vec::new());
        let (tx, rx) = mpsc::channel::<(i64, Result<R>)>();
        std::thread::scope(|scope| {
            let handles: Vec<_> = conns
                .into_iter()
                .map(|conn| {
                    let tx = tx.clone();
                    let (next_day, spare, init, work) = (&next_day, &spare, &init, &work);
                    scope.spawn(move || {
                        let mut reader = DayReader::new(&conn);
                        loop {
                            let day = next_day.fetch_add(1, Ordering::Relaxed);
                            if day > w.last {
                                break;
                            }
                            let reused = spare.lock().ok().and_then(|mut s| s.pop());
                            let mut r = reused.unwrap_or_else(init);
                            let mut add = |o: &OccurrenceView<'_>| work(&mut r, o);
                            let read = if day < w.first {
                                read_lead(&conn, w, &mut add)
                            } else {
                                reader.read(w, day, day, &mut add)
                            };
                            if tx.send((day, read.map(|()| r))).is_err() {
                                break;
                            }
                        }
                    })
                })
                .collect();
            drop(tx);
            let mut ready = std::collections::BTreeMap::new();
            let mut want = w.first - 1;
            let mut failed = None;
            for (day, read) in rx {
                ready.insert(day, read);
                while let Some(read) = ready.remove(&want) {
                    want += 1;
                    match read {
                        Ok(r) if failed.is_none() => {
                            if let Some(back) = done(r) {
                                if let Ok(mut s) = spare.lock() {
                                    s.push(back);
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            // Stop handing out days; the ones under way finish.
                            next_day.store(w.last + 1, Ordering::Relaxed);
                            failed.get_or_insert(e);
                        }
                    }
                }
            }
            for h in handles {
                if h.join().is_err() {
                    failed.get_or_insert(super::StoreError::Invalid(
                        "a thread reading the occurrences panicked".into(),
                    ));
                }
            }
            failed.map_or(Ok(()), Err)
        })
    }
}

/// The days in [first, last] without a cached blob, ascending.
fn missing_days(conn: &Connection, first: i64, last: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day FROM occurrence_days WHERE day >= ?1 AND day <= ?2 ORDER BY day",
    )?;
    let have = stmt
        .query_map([first, last], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut have = have.into_iter().peekable();
    Ok((first..=last)
        .filter(|d| {
            if have.peek() == Some(d) {
                have.next();
                false
            } else {
                true
            }
        })
        .collect())
}

/// Ascending days as runs of consecutive ones, each (first, last).
fn runs(days: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &d in days {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == d => *b = d,
            _ => out.push((d, d)),
        }
    }
    out
}

/// The window's rows that start before its first day (`first`): occurrences still running
/// when it begins. Only long ones (over `LONG` seconds, from their partial index, whose
/// condition the SQL spells as migration 6 does so that the planner takes it) can have begun
/// more than `LONG` before that day; the last `LONG` seconds are read whole. The index holds
/// equal starts in another order than the table, so those rows are put in table order here.
fn read_lead(
    conn: &Connection,
    w: &EventWindow,
    each: &mut dyn FnMut(&OccurrenceView<'_>),
) -> Result<()> {
    let cut = w.first * DAY;
    if w.bounds.lo >= cut {
        return Ok(());
    }
    let mut long = conn.prepare_cached(&format!(
        "SELECT {VIEW_COLUMNS}, o.item_id, o.rid FROM occurrences o
         WHERE o.end - o.start > 3600 AND o.start >= ?1 AND o.start < ?2 - {LONG}
           AND o.deleted = 0
         ORDER BY o.start"
    ))?;
    let mut rows = long.query([w.bounds.lo, cut])?;
    let mut running = Vec::new();
    while let Some(r) = rows.next()? {
        let o = view_of(r)?;
        if w.bounds.admits(&o) {
            let key = (o.start, r.get::<_, i64>(8)?, r.get::<_, i64>(9)?);
            running.push((key, OwnedView::of(&o)));
        }
    }
    running.sort_by_key(|(key, _)| *key);
    for (_, o) in &running {
        each(&o.view());
    }
    let mut last = conn.prepare_cached(&format!(
        "SELECT {VIEW_COLUMNS} FROM occurrences o
         WHERE o.start >= max(?1, ?2 - {LONG}) AND o.start < ?2 AND o.deleted = 0
         ORDER BY o.start"
    ))?;
    let mut rows = last.query([w.bounds.lo, cut])?;
    while let Some(r) = rows.next()? {
        let o = view_of(r)?;
        if w.bounds.admits(&o) {
            each(&o);
        }
    }
    Ok(())
}

/// An `OccurrenceView` that owns its texts.
struct OwnedView {
    start: i64,
    end: i64,
    all_day: bool,
    flags: Flags,
    collection_id: i64,
    texts: [String; 3],
}

impl OwnedView {
    fn of(o: &OccurrenceView<'_>) -> Self {
        OwnedView {
            start: o.start,
            end: o.end,
            all_day: o.all_day,
            flags: o.flags,
            collection_id: o.collection_id,
            texts: [o.summary, o.location, o.uid].map(str::to_owned),
        }
    }

    fn view(&self) -> OccurrenceView<'_> {
        let [summary, location, uid] = &self.texts;
        OccurrenceView {
            start: self.start,
            end: self.end,
            all_day: self.all_day,
            summary,
            location,
            flags: self.flags,
            uid,
            collection_id: self.collection_id,
            widths: None,
        }
    }
}

/// Reads the window's days on one connection. A day's blob (a few hundred kilobytes) is
/// read through one blob handle into one buffer, both kept for the next day: read as a column,
/// SQLite would assemble each into fresh memory first.
struct DayReader<'c> {
    conn: &'c Connection,
    blob: Option<rusqlite::blob::Blob<'c>>,
    buf: Vec<u8>,
}

impl<'c> DayReader<'c> {
    fn new(conn: &'c Connection) -> Self {
        DayReader {
            conn,
            blob: None,
            buf: Vec::new(),
        }
    }

    /// The window's rows starting in the days [a, b], in start order: each cached day from
    /// its blob, each run of days the cache lacks (or holds damaged, or lost since it was
    /// listed) from the table with the window's SQL, bounded to the run's seconds by ?10 and
    /// ?11. Days are non-negative (`event_window` serves no others), so day `d` is the seconds
    /// [d * DAY, (d + 1) * DAY).
    fn read(
        &mut self,
        w: &EventWindow,
        a: i64,
        b: i64,
        each: &mut dyn FnMut(&OccurrenceView<'_>),
    ) -> Result<()> {
        let conn = self.conn;
        let scan = |a: i64, b: i64, each: &mut dyn FnMut(&OccurrenceView<'_>)| -> Result<()> {
            let mut values = w.values.clone();
            values[9] = Value::from(a * DAY);
            values[10] = Value::from((b + 1) * DAY);
            let mut stmt = conn.prepare_cached(&w.sql)?;
            let mut rows = stmt.query(params_from_iter(values.iter()))?;
            while let Some(r) = rows.next()? {
                each(&view_of(r)?);
            }
            Ok(())
        };
        // The cached days and their sizes, from the rows' headers alone.
        let cached = conn
            .prepare_cached(
                "SELECT day, length(packed) FROM occurrence_days
                 WHERE day >= ?1 AND day <= ?2 ORDER BY day",
            )?
            .query_map([a, b], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut next = a;
        for (day, len) in cached {
            let Some(blob) = self.load(day, len) else {
                continue;
            };
            let Some(parsed) = DayRows::parse(blob) else {
                tracing::warn!(
                    day,
                    "a damaged day of the occurrence cache was read from the table"
                );
                continue;
            };
            if day > next {
                scan(next, day - 1, each)?;
            }
            for o in parsed.filter(|o| w.bounds.admits(o)) {
                each(&o);
            }
            next = day + 1;
        }
        if next <= b {
            scan(next, b, each)?;
        }
        Ok(())
    }

    /// Day `day`'s blob of `len` bytes, or None if it cannot be read (gone since it was
    /// listed: a writer dropped it; the day is then read from the table).
    fn load(&mut self, day: i64, len: i64) -> Option<&[u8]> {
        let len = usize::try_from(len).ok()?;
        let opened = match &mut self.blob {
            Some(blob) => blob.reopen(day),
            None => self
                .conn
                .blob_open(rusqlite::MAIN_DB, c"occurrence_days", c"packed", day, true)
                .map(|b| {
                    self.blob = Some(b);
                }),
        };
        let blob = match opened {
            Ok(()) => self.blob.as_ref()?,
            Err(e) => {
                tracing::debug!(day, "cached day not read: {e}");
                self.blob = None;
                return None;
            }
        };
        if blob.len() != len {
            return None;
        }
        self.buf.clear();
        self.buf.reserve(len);
        let read = blob.raw_read_at_exact(&mut self.buf.spare_capacity_mut()[..len], 0);
        read.inspect_err(|e| tracing::debug!(day, "cached day not read: {e}"))
            .ok()
            .map(|b| &*b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(
        start: i64,
        summary: &'a str,
        location: &'a str,
        uid: &'a str,
    ) -> OccurrenceView<'a> {
        OccurrenceView {
            start,
            end: start + 3600,
            all_day: false,
            summary,
            location,
            flags: Flags(0),
            uid,
            collection_id: 2,
            widths: None,
        }
    }

    fn packed(rows: &[OccurrenceView<'_>]) -> PackedDay {
        let mut p = DayPacker::default();
        for o in rows {
            p.push(o);
        }
        p.take()
    }

    #[test]
    fn a_packed_day_reads_back_row_for_row_with_its_widths() {
        let mut flagged = view(100, "山田 明", "", "u-2");
        flagged.flags = Flags(1);
        flagged.all_day = true;
        flagged.end = 100;
        let rows = [view(10, "Standup – Åsa", "Kraków", "u-1"), flagged];
        let day = packed(&rows);
        assert_eq!(day.rows, 2);
        assert_eq!(day.widths, [13, 6]);
        assert!(
            !day.plain,
            "a flagged row and an all-day row ending at its start"
        );
        let back: Vec<_> = DayRows::parse(&day.blob).expect("parses").collect();
        assert_eq!(back.len(), 2);
        for (b, o) in back.iter().zip(&rows) {
            assert_eq!(
                (b.start, b.end, b.all_day, b.flags, b.collection_id),
                (o.start, o.end, o.all_day, o.flags, o.collection_id)
            );
            assert_eq!(
                (b.summary, b.location, b.uid),
                (o.summary, o.location, o.uid)
            );
        }
        assert_eq!(back[1].widths, Some([7, 0]));
        let plain = packed(&[view(10, "a", "b", "c")]);
        assert!(plain.plain);
        // The packer is empty again after `take`.
        let mut p = DayPacker::default();
        p.push(&rows[0]);
        let _ = p.take();
        assert_eq!(p.take().rows, 0);
    }

    #[test]
    fn a_damaged_day_is_refused_whole() {
        let blob = packed(&[view(10, "Łódź", "x", "u-1"), view(20, "b", "", "u-2")]).blob;
        assert!(DayRows::parse(&blob).is_some());
        // Cut short, one byte too many, a count past the heads, text that is not UTF-8, a
        // length that splits a character.
        assert!(DayRows::parse(&blob[..blob.len() - 1]).is_none());
        let mut longer = blob.clone();
        longer.push(b'x');
        assert!(DayRows::parse(&longer).is_none());
        let mut count = blob.clone();
        count[0] = 200;
        assert!(DayRows::parse(&count).is_none());
        let mut bad_text = blob.clone();
        let at = 4 + 2 * HEAD;
        bad_text[at] = 0xff;
        assert!(DayRows::parse(&bad_text).is_none());
        let mut split = blob.clone();
        split[4 + LENS_AT] = 1; // "Ł" is two bytes
        split[4 + LENS_AT + 4] = 7; // the total kept
        assert!(DayRows::parse(&split).is_none());
        assert!(DayRows::parse(&[]).is_none());
    }

    #[test]
    fn runs_of_days() {
        assert_eq!(runs(&[1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn a_window_covers_the_days_inside_both_its_bounds() {
        let b = Bounds {
            from: 10 * DAY,
            to: 13 * DAY,
            lo: 7 * DAY,
            from_d: 10 * DAY,
            to_d: 13 * DAY,
        };
        assert!(!b.covers(9));
        assert!(b.covers(10) && b.covers(12));
        assert!(!b.covers(13));
        // A local window (UTC-5) covers only the UTC days inside it and its dates.
        let east = Bounds {
            from: 10 * DAY + 5 * 3600,
            to: 13 * DAY + 5 * 3600,
            ..b
        };
        assert!(!east.covers(10) && east.covers(11) && east.covers(12) && !east.covers(13));
    }
}
