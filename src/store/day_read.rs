//! Reading a window of events from the day cache (`days.rs`): which rows of the days read
//! belong to the window, the column widths from the days' stored measures, and the rows in
//! order, a day at a time on every core. Every connection reading a window sees the database
//! at the same instant (`Store::readers_at_one_snapshot`), so the widths fit the rows and an
//! event moved meanwhile is listed once.

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, ErrorCode};

use super::day_pack::DayRows;
use super::days::{day_of, DAY, MAX_FILL_DAYS};
use super::occurrences::{view_of, window_sql, OccurrenceView, LONG, VIEW_COLUMNS};
use super::query::{fts_query, Filter};
use super::{Result, Store, StoreError};
use crate::model::Flags;

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
/// Everything it reads comes from one snapshot of the database.
pub struct EventWindow<'s> {
    store: &'s Store,
    plan: Plan,
    /// Read connections, each inside a read transaction of the same snapshot, one per thread
    /// that reads. Empty: the window is read on the store's connection, inside the read
    /// transaction `event_window` began and dropping the window ends.
    readers: Vec<Connection>,
}

/// What reading a window's days needs, shared by the threads that read it.
struct Plan {
    bounds: Bounds,
    /// The window's SQL over the table and its values, for days the cache lacks.
    sql: String,
    values: Vec<Value>,
    first: i64,
    last: i64,
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
    /// The window [from, to) as days of the cache, filled first where it lacks them, to be
    /// read by `workers` threads. None when the cache does not serve it: a filter (a
    /// collection, a search, the trash, conflicts), a window longer than `MAX_FILL_DAYS`,
    /// before 1970, or too far out to be stored. Read those with `occurrence_rows_in_parts`.
    pub fn event_window(
        &mut self,
        f: &Filter,
        from: i64,
        to: i64,
        workers: usize,
    ) -> Result<Option<EventWindow<'_>>> {
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
        let readers = match workers {
            0 | 1 => None,
            n => self.readers_at_one_snapshot(n)?,
        };
        let readers = match readers {
            Some(readers) => readers,
            None => {
                // One reader, this connection (or a writer held the lock): its own snapshot.
                begin_read(&self.conn)?;
                Vec::new()
            }
        };
        Ok(Some(EventWindow {
            store: self,
            plan: Plan {
                bounds,
                sql: window_sql(VIEW_COLUMNS, "", f),
                values,
                first,
                last,
            },
            readers,
        }))
    }

    /// `n` read connections that see the database at the same instant: each begins its read
    /// transaction while this connection holds the write lock, so that no write can come
    /// between them (a list read on several connections otherwise showed an event moved
    /// meanwhile twice, or not at all). None when another connection is writing: the lock is
    /// not waited for.
    pub(super) fn readers_at_one_snapshot(&self, n: usize) -> Result<Option<Vec<Connection>>> {
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let locked = self.conn.execute_batch("BEGIN IMMEDIATE");
        self.conn
            .busy_timeout(std::time::Duration::from_secs(super::BUSY_SECS))?;
        match locked {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        // Opened on threads of their own: each parses the schema on its first read.
        let path = self.path.as_path();
        let opened = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n).map(|_| scope.spawn(|| open_reader(path))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StoreError::Invalid(
                            "a thread opening the database panicked".into(),
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()
        });
        let released = self.conn.execute_batch("ROLLBACK");
        let readers = opened?;
        released?;
        Ok(Some(readers))
    }
}

/// A read-only connection inside a read transaction that has begun (its snapshot is taken).
fn open_reader(path: &Path) -> Result<Connection> {
    let conn = super::read_only_connection(path)?;
    begin_read(&conn)?;
    Ok(conn)
}

/// Begins a read transaction on `conn` and takes its snapshot (at the first read).
fn begin_read(conn: &Connection) -> Result<()> {
    conn.execute_batch("BEGIN DEFERRED")?;
    conn.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM occurrence_days LIMIT 1)",
        [],
        |r| r.get::<_, i64>(0),
    )?;
    Ok(())
}

impl EventWindow<'_> {
    /// The connection that measures the window (and reads it, when it has no readers).
    fn conn(&self) -> &Connection {
        self.readers.first().unwrap_or(&self.store.conn)
    }

    /// Measures what the window shows: the stored widths of each cached day it shows whole,
    /// and `row` for each shown row of the other days (the window's edges, days with flagged
    /// rows, days the cache lacks).
    pub fn measure(&self, mut row: impl FnMut(&OccurrenceView<'_>)) -> Result<Vec<DayWidths>> {
        let (w, conn) = (&self.plan, self.conn());
        let mut stmt = conn.prepare_cached(
            "SELECT day, rows, summary_w, location_w FROM occurrence_days
             WHERE day >= ?1 AND day <= ?2 AND plain ORDER BY day",
        )?;
        read_lead(conn, w, &mut row)?;
        let mut reader = DayReader::new(conn);
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

    /// The window's rows in start order, a day at a time (the lead first), on a thread per
    /// reader connection (or here, on the store's): `work` adds a row to its day's `R` (one
    /// `init` made, or one `done` gave back), and `done` gets the days' `R`s in window order as
    /// they are ready. Days ready early wait in memory for the ones before them.
    pub fn read_ordered<R: Send>(
        mut self,
        init: impl Fn() -> R + Sync,
        work: impl Fn(&mut R, &OccurrenceView<'_>) + Sync,
        mut done: impl FnMut(R) -> Option<R>,
    ) -> Result<()> {
        use std::sync::atomic::{AtomicI64, Ordering};
        use std::sync::{mpsc, Mutex};
        let conns = std::mem::take(&mut self.readers);
        let w = &self.plan;
        if conns.is_empty() {
            // Here, on the store's connection: a day or two is not worth a thread.
            let mut spare = None;
            let mut reader = DayReader::new(self.conn());
            for day in w.first - 1..=w.last {
                let mut r = spare.take().unwrap_or_else(&init);
                reader.read_day(w, day, &mut |o| work(&mut r, o))?;
                spare = done(r);
            }
            return Ok(());
        }
        // Day `first - 1` stands for the lead (`DayReader::read_day`).
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
                            let read = reader.read_day(w, day, &mut |o| work(&mut r, o));
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

impl Drop for EventWindow<'_> {
    fn drop(&mut self) {
        if self.readers.is_empty() {
            // Ends the read transaction `event_window` began on the store's connection. The
            // readers' end with their connections.
            if let Err(e) = self.store.conn.execute_batch("COMMIT") {
                tracing::warn!("ending a window's read transaction: {e}");
            }
        }
    }
}

/// The window's rows that start before its first day (`first`): occurrences still running
/// when it begins. Only long ones (over `LONG` seconds, from their partial index, whose
/// condition the SQL spells as migration 6 does so that the planner takes it) can have begun
/// more than `LONG` before that day; the last `LONG` seconds are read whole. The index holds
/// equal starts in another order than the table, so those rows are put in table order here.
fn read_lead(conn: &Connection, w: &Plan, each: &mut dyn FnMut(&OccurrenceView<'_>)) -> Result<()> {
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
        w: &Plan,
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

    /// The window's rows starting on `day`, or the lead (`read_lead`) for the day before the
    /// window's first.
    fn read_day(
        &mut self,
        w: &Plan,
        day: i64,
        each: &mut dyn FnMut(&OccurrenceView<'_>),
    ) -> Result<()> {
        if day < w.first {
            read_lead(self.conn, w, each)
        } else {
            self.read(w, day, day, each)
        }
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
