//! The occurrence table: event occurrences over a rolling horizon, extended on demand, and
//! the reads over a window (DESIGN.md §9 rule 4). Rows are clustered by start and carry what a
//! list shows, so a window is one range scan.

use chrono::{Datelike, NaiveDate, Utc};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Transaction};

use super::items::{insert_occ_rows, occ_rows, row_to_item, OccContext, StoredItem};
use super::query::{fts_query, Filter, ITEM_COLUMNS};
use super::{Result, Store};
use crate::format;
use crate::model::{Flags, Kind, Occurrence};

/// One occurrence with its item.
#[derive(Debug, Clone)]
pub struct ListedOccurrence {
    pub item: StoredItem,
    pub occurrence: Occurrence,
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
    pub collection_id: i64,
    /// The display widths of summary and location, when the row comes measured (from the day
    /// cache).
    pub widths: Option<[usize; 2]>,
}

impl OccurrenceView<'_> {
    /// The display widths of summary and location: as the row came measured, or measured now.
    pub fn display_widths(&self) -> [usize; 2] {
        self.widths.unwrap_or_else(|| {
            [
                format::width::width(self.summary),
                format::width::width(self.location),
            ]
        })
    }
}

/// The columns `view_of` reads, in its order.
pub(super) const VIEW_COLUMNS: &str =
    "o.start, o.end, o.all_day, o.summary, coalesce(o.location, ''), o.flags, o.uid, o.collection_id";

/// An `OccurrenceView` borrowed from a row of `VIEW_COLUMNS`.
pub(super) fn view_of<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<OccurrenceView<'r>> {
    Ok(OccurrenceView {
        start: r.get(0)?,
        end: r.get(1)?,
        all_day: r.get(2)?,
        summary: r.get_ref(3)?.as_str()?,
        location: r.get_ref(4)?.as_str()?,
        flags: Flags(r.get(5)?),
        uid: r.get_ref(6)?.as_str()?,
        collection_id: r.get(7)?,
        widths: None,
    })
}

/// All-day events are dates, not instants: a date belongs to a window when the window covers
/// some of that day *on the user's calendar*. Dates are stored as UTC midnights, so the window
/// [from, to) is turned into the UTC midnights of its first local day and of the local day after
/// its last one.
pub fn day_bounds(from: i64, to: i64) -> (i64, i64) {
    use chrono::{DateTime, Local};
    let local_day = |ts: i64| {
        DateTime::<Utc>::from_timestamp(ts, 0)
            .unwrap_or_default()
            .with_timezone(&Local)
            .date_naive()
    };
    let midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp())
    };
    let first = local_day(from);
    let last = local_day(to.saturating_sub(1).max(from));
    (midnight(first), midnight(last) + 86_400)
}

/// Whether an occurrence belongs to the window, all-day ones by the user's calendar days.
pub fn overlaps_window(o: &Occurrence, from: i64, to: i64) -> bool {
    match o.start {
        crate::model::Moment::Date(_) => {
            let (from_d, to_d) = day_bounds(from, to);
            o.start.timestamp() < to_d && o.end.timestamp() > from_d
        }
        crate::model::Moment::Instant(_) => format::ical::overlaps(o, from, to),
    }
}

/// A window query over the occurrence table: `columns` selected, `join` added after
/// `occurrences o`; the values come from `Store::window`. Only the conditions the filter has are
/// in the text (a term such as `(?5 = 0 OR …)` would be evaluated on every row); the largest
/// parameter is always used, so the same values bind every variant. ?10 and ?11 bound the
/// starts read (a part of the window, see `occurrence_rows_in_parts`), folded into the range
/// so that each part reads only its own stretch of the table.
pub(super) fn window_sql(columns: &str, join: &str, f: &Filter) -> String {
    let mut extra = String::new();
    if f.conflicts {
        extra.push_str(&format!(
            " AND (?5 = 0 OR o.flags & {} != 0)",
            Flags::CONFLICT
        ));
    }
    if f.collection.is_some() {
        extra.push_str(
            " AND (?6 IS NULL OR o.collection_id = (SELECT id FROM collections WHERE name = ?6))",
        );
    }
    if f.query.as_deref().and_then(fts_query).is_some() {
        extra.push_str(
            " AND (?7 IS NULL OR o.item_id IN \
             (SELECT rowid FROM items_fts WHERE items_fts MATCH ?7))",
        );
    }
    format!(
        "SELECT {columns}
         FROM occurrences o {join}
         WHERE o.start < min(max(?2, ?9), ?11) AND o.start >= max(?3, ?10)
           AND ((o.all_day = 0 AND o.start < ?2
                 AND (o.end > ?1 OR (o.end <= o.start AND o.start >= ?1)))
             OR (o.all_day = 1 AND o.start < ?9 AND o.end > ?8))
           AND o.deleted = ?4{extra}
         ORDER BY o.start"
    )
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

/// An occurrence longer than this (seconds) is in the `occurrences_long` index (migration 6,
/// which spells the number out).
pub(super) const LONG: i64 = 3600;

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

/// Records the longest occurrence seen, which bounds how far back a window query must look.
pub(super) fn raise_max_span(tx: &Transaction<'_>, span: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('occ_max_span', ?1)
         ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
        [span.to_string()],
    )?;
    Ok(())
}

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

    /// With `on`, reads past the stored horizon do not extend it (seconds of expansion with
    /// tens of thousands of repeating events): they read what is stored (every single event,
    /// repeating ones up to the horizon) and the window they wanted is kept for
    /// `take_deferred_extension`. The terminal UI draws first and extends on another thread.
    pub fn defer_extension(&mut self, on: bool) {
        self.defer_extension = on;
    }

    /// The window reads wanted stored since the last call, if any went past the horizon.
    pub fn take_deferred_extension(&mut self) -> Option<(i64, i64)> {
        self.deferred.take()
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
        if self.defer_extension {
            let (f, t) = self.deferred.unwrap_or((from, to));
            self.deferred = Some((f.min(from), t.max(to)));
            return Ok(true);
        }
        let recurring = self.recurring_items()?;
        // Expansion is pure: spread it over the cores, then write on this thread.
        let expand_unguarded = |r: &RecurringItem| -> Vec<Occurrence> {
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
        // One result per item, always (a panic gives none): results are matched to items by
        // position, so a lost slot would give one event's occurrences to another.
        let expand = |r: &RecurringItem| -> Vec<Occurrence> {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| expand_unguarded(r)))
                .unwrap_or_default()
        };
        let expanded: Vec<Vec<Occurrence>> = super::par_map(&recurring, expand);
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
        raise_max_span(&tx, max_span)?;
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

    /// Makes the table cover [from, to) (all-day dates by the user's calendar days) and returns
    /// the values of `window_sql`, or None when the window is too far out to store.
    pub(super) fn window(&mut self, f: &Filter, from: i64, to: i64) -> Result<Option<Vec<Value>>> {
        let (from_d, to_d) = day_bounds(from, to);
        if !self.ensure_coverage(from.min(from_d), to.max(to_d))? {
            return Ok(None);
        }
        let max_span: i64 = self
            .meta("occ_max_span")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(Some(vec![
            Value::from(from),
            Value::from(to),
            Value::from(from.min(from_d) - max_span),
            Value::from(f.trash),
            Value::from(f.conflicts),
            Value::from(f.collection.clone()),
            Value::from(f.query.as_deref().and_then(fts_query)),
            Value::from(from_d),
            Value::from(to_d),
            Value::from(i64::MIN),
            Value::from(i64::MAX),
        ]))
    }

    /// Event occurrences overlapping [from, to), in start order, overrides applied.
    pub fn occurrences(&mut self, f: &Filter, from: i64, to: i64) -> Result<Vec<ListedOccurrence>> {
        let Some(values) = self.window(f, from, to)? else {
            return self.occurrences_in_memory(f, from, to);
        };
        let sql = window_sql(
            &format!(
                "{ITEM_COLUMNS}, o.start, o.end, o.all_day, o.rid, o.summary, o.location, \
                 o.recurring"
            ),
            "JOIN items i ON i.id = o.item_id JOIN collections c ON c.id = o.collection_id",
            f,
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(values.iter()), |r| {
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
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The columns a person's event list shows, one row at a time and borrowed from the
    /// database (no allocation per row), in start order: the fast path for long lists.
    pub fn for_each_occurrence_row(
        &mut self,
        f: &Filter,
        from: i64,
        to: i64,
        each: impl FnMut(&OccurrenceView<'_>),
    ) -> Result<()> {
        self.for_each_occurrence_row_limit(f, from, to, None, each)
    }

    /// `for_each_occurrence_row`, stopping after `limit` rows: a screen shows so many, however
    /// busy the calendar is.
    pub fn for_each_occurrence_row_limit(
        &mut self,
        f: &Filter,
        from: i64,
        to: i64,
        limit: Option<usize>,
        mut each: impl FnMut(&OccurrenceView<'_>),
    ) -> Result<()> {
        let Some(values) = self.window(f, from, to)? else {
            let all = self.occurrences_in_memory(f, from, to)?;
            for o in all.into_iter().take(limit.unwrap_or(usize::MAX)) {
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
                    collection_id: o.item.collection_id,
                    widths: None,
                });
            }
            return Ok(());
        };
        let mut sql = window_sql(VIEW_COLUMNS, "", f);
        if let Some(n) = limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(values.iter()))?;
        while let Some(r) = rows.next()? {
            each(&view_of(r)?);
        }
        Ok(())
    }

    /// `for_each_occurrence_row` cut by start time into `parts` consecutive stretches, each
    /// read on a thread and connection of its own (a busy month is tens of thousands of rows,
    /// and one SQLite connection reads on one core): `each` sees each row once, with its
    /// part's `T`, in start order within the part; the parts come back in window order.
    pub fn occurrence_rows_in_parts<T: Send>(
        &mut self,
        f: &Filter,
        from: i64,
        to: i64,
        parts: usize,
        init: impl Fn() -> T + Sync,
        each: impl Fn(&mut T, &OccurrenceView<'_>) + Sync,
    ) -> Result<Vec<T>> {
        let parts = parts.max(1);
        let Some(values) = self.window(f, from, to)? else {
            let mut one = init();
            self.for_each_occurrence_row(f, from, to, |o| each(&mut one, o))?;
            return Ok(vec![one]);
        };
        let sql = window_sql(VIEW_COLUMNS, "", f);
        // Part k of n reads the starts in [cut(k), cut(k + 1)); the first and last are
        // open-ended (long events that began before `from`, all-day ones on the window's last
        // local day).
        let cut = |k: usize, n: usize| match k {
            0 => i64::MIN,
            k if k == n => i64::MAX,
            k => from + (to - from) / n as i64 * k as i64,
        };
        self.read_in_parts(parts, |conn, k, n| {
            let mut values = values.clone();
            values[9] = Value::from(cut(k, n));
            values[10] = Value::from(cut(k + 1, n));
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(values.iter()))?;
            let mut part = init();
            while let Some(r) = rows.next()? {
                each(&mut part, &view_of(r)?);
            }
            Ok(part)
        })
    }

    /// `read(connection, k, n)` for the parts k in 0..n, each on a thread and connection of its
    /// own, all seeing the database at one instant (`readers_at_one_snapshot`: parts read at
    /// different instants could show an event moved meanwhile twice, or not at all); the
    /// answers in the order of k. `n` is `parts`, or 1 (the whole window on this connection)
    /// when another connection is writing.
    fn read_in_parts<T: Send>(
        &self,
        parts: usize,
        read: impl Fn(&rusqlite::Connection, usize, usize) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let readers = match parts {
            0 | 1 => None,
            n => self.readers_at_one_snapshot(n)?,
        };
        let Some(readers) = readers else {
            return Ok(vec![read(&self.conn, 0, 1)?]);
        };
        let (read, n) = (&read, readers.len());
        std::thread::scope(|scope| {
            let handles: Vec<_> = readers
                .into_iter()
                .enumerate()
                .map(|(k, c)| scope.spawn(move || read(&c, k, n)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().map_err(|_| {
                        super::StoreError::Invalid(
                            "a thread reading the occurrences panicked".into(),
                        )
                    })?
                })
                .collect()
        })
    }

    /// Occurrences that *start* in [from, to): `each` gets the first `show` in start order, and
    /// the answer is how many there are, counted up to `cap` (so a day costs `cap` index steps
    /// and `show` decoded rows, however busy it is). A range of the start-ordered table and
    /// nothing before it (`for_each_occurrence_row` also looks back for long events still
    /// running). None when the window is too far out to be stored; the caller then uses
    /// `for_each_occurrence_row_limit`.
    pub fn for_each_occurrence_starting(
        &mut self,
        from: i64,
        to: i64,
        show: usize,
        cap: usize,
        mut each: impl FnMut(&OccurrenceView<'_>),
    ) -> Result<Option<usize>> {
        if !self.ensure_coverage(from, to)? {
            return Ok(None);
        }
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {VIEW_COLUMNS} FROM occurrences o
                 WHERE o.start >= ?1 AND o.start < ?2 AND o.deleted = 0
                 ORDER BY o.start LIMIT ?3"
        ))?;
        let mut rows = stmt.query(rusqlite::params![from, to, show as i64])?;
        let mut shown = 0;
        while let Some(r) = rows.next()? {
            each(&view_of(r)?);
            shown += 1;
        }
        if shown < show || cap <= show {
            return Ok(Some(shown.min(cap)));
        }
        // The rest only counted, from the key alone: all the rows less the trash's (a small
        // index), since reading `deleted`, past the texts, from every row costs 4x as much.
        let trashed: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM occurrences INDEXED BY occurrences_trashed
                 WHERE deleted = 1 AND start >= ?1 AND start < ?2",
            )?
            .query_row(rusqlite::params![from, to], |r| r.get(0))?;
        let all: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM occurrences
                 WHERE start >= ?1 AND start < ?2 LIMIT ?3)",
            )?
            .query_row(rusqlite::params![from, to, cap as i64 + trashed], |r| {
                r.get(0)
            })?;
        Ok(Some(((all - trashed).max(0) as usize).min(cap)))
    }

    /// The occurrences of the day [from, to) that began before it and still run (all-day
    /// ones by the user's calendar days, as in `for_each_occurrence_row`), in start order, at
    /// most `limit`. Only the last `LONG` seconds of the table are read row by row; earlier
    /// starts come from the index of long occurrences, so the cost does not grow with the
    /// longest event's span times the calendar's density. False when the window is too far
    /// out to be stored.
    pub fn for_each_occurrence_running(
        &mut self,
        from: i64,
        to: i64,
        limit: usize,
        mut each: impl FnMut(&OccurrenceView<'_>),
    ) -> Result<bool> {
        let (from_d, to_d) = day_bounds(from, to);
        if !self.ensure_coverage(from.min(from_d), to.max(to_d))? {
            return Ok(false);
        }
        let max_span: i64 = self
            .meta("occ_max_span")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        // Still running at `from`; the long ones first (by the partial index, so its WHERE
        // term is spelled as in the migration), then the last `LONG` seconds before `from`
        // from the table itself: a shorter occurrence that began earlier has ended.
        let running = "o.deleted = 0 AND ((o.all_day = 0 AND o.end > ?1)
             OR (o.all_day = 1 AND o.start < ?4 AND o.end > ?3))";
        let parts = [
            format!(
                "SELECT {VIEW_COLUMNS} FROM occurrences o INDEXED BY occurrences_long
                 WHERE o.end - o.start > 3600 AND o.start >= ?2 AND o.start < ?1 - {LONG}
                   AND {running}
                 ORDER BY o.start LIMIT ?5"
            ),
            format!(
                "SELECT {VIEW_COLUMNS} FROM occurrences o
                 WHERE o.start >= max(?2, ?1 - {LONG}) AND o.start < ?1 AND {running}
                 ORDER BY o.start LIMIT ?5"
            ),
        ];
        let lo = from.min(from_d) - max_span;
        let mut left = limit;
        for sql in &parts {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut rows = stmt.query(rusqlite::params![from, lo, from_d, to_d, left as i64])?;
            while let Some(r) = rows.next()? {
                each(&view_of(r)?);
                left -= 1;
            }
        }
        Ok(true)
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
            let wide = (from - 86_400, to + 86_400);
            for o in parsed.occurrences(Some(wide)).unwrap_or_default() {
                if overlaps_window(&o, from, to) {
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
}
