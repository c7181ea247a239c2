//! The day cache of the occurrence table (migration 8): per UTC day, the live occurrences that
//! start that day, packed into one blob in table order (`day_pack.rs`) with their display
//! widths. A month of a busy calendar is tens of thousands of occurrence rows, and stepping
//! SQLite through them was most of a month's `list events`; read from here (`day_read.rs`) it
//! is some thirty blobs.
//!
//! It is derived data, and it cannot go stale: in the writer's own transaction, triggers on
//! `occurrences` delete the day of every row deleted or updated, and `insert_occ_rows` (where
//! every row is inserted; `tests/architecture.rs` checks) the days of the rows it inserts. A
//! day that is here is exactly what the table holds. Days are filled by a list that finds them
//! missing, under the write lock, from the table, in one transaction.

use rusqlite::{Connection, TransactionBehavior};

use super::day_pack::{DayPacker, PackedDay};
use super::occurrences::{view_of, VIEW_COLUMNS};
use super::{Result, Store};

/// The seconds of one day, the cache's unit.
pub(super) const DAY: i64 = 86_400;

/// The cache serves windows of at most this many days (a month or a quarter is what people
/// list; a longer list is dominated by its own output anyway); longer ones read the table.
pub(super) const MAX_FILL_DAYS: i64 = 100;

/// The cache keeps about this many days; past it, a fill drops the days outside its window.
const KEEP_DAYS: i64 = 400;

/// The layout of the packed days and the width measure they hold, stamped in the meta table:
/// change it when `day_pack.rs` or `format::width` changes, and the old days are dropped.
const FORMAT: &str = "1";
const FORMAT_KEY: &str = "day_cache_format";

/// The day key of a start: seconds divided by `DAY`, truncated, exactly as the triggers of
/// migration 8 compute it (`start / 86400` in SQLite, integer division truncating too).
pub(super) fn day_of(start: i64) -> i64 {
    start / DAY
}

/// The live rows starting in [?1, ?2), in table order: what a day is packed from.
fn scan_sql() -> String {
    format!(
        "SELECT {VIEW_COLUMNS} FROM occurrences o
         WHERE o.start >= ?1 AND o.start < ?2 AND o.deleted = 0 ORDER BY o.start"
    )
}

/// Drops the cached days of these starts (ascending), before rows starting then are inserted:
/// what an insert trigger would do, once per day instead of once per row.
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

impl Store {
    /// Fills the days [first, last] the cache lacks, from the table, in one write transaction
    /// taken only if it is free at once (a sync writing must not make a list wait; the list
    /// then reads those days from the table). A cache that cannot be filled (the lock taken, a
    /// full disk, a read-only file) is no error: the list reads the table instead.
    pub(super) fn fill_days(&mut self, first: i64, last: i64) -> Result<()> {
        if first < 0 || last - first >= MAX_FILL_DAYS {
            return Ok(());
        }
        let stamped = self.meta(FORMAT_KEY)?.as_deref() == Some(FORMAT);
        if stamped && missing_days(&self.conn, first, last)?.is_empty() {
            return Ok(());
        }
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let filled = self.fill_days_locked(first, last);
        self.conn
            .busy_timeout(std::time::Duration::from_secs(super::BUSY_SECS))?;
        match filled {
            Err(super::StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                tracing::debug!("day cache not filled: another connection is writing");
            }
            Err(e) => tracing::warn!("day cache not filled (the list reads the table): {e}"),
            Ok(()) => {}
        }
        Ok(())
    }

    fn fill_days_locked(&mut self, first: i64, last: i64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Days packed by another layout or another width measure are dropped whole.
        if Self::meta_in(&tx, FORMAT_KEY)?.as_deref() != Some(FORMAT) {
            tx.execute("DELETE FROM occurrence_days", [])?;
            Self::set_meta(&tx, FORMAT_KEY, FORMAT)?;
        }
        let missing = missing_days(&tx, first, last)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO occurrence_days
                     (day, rows, summary_w, location_w, plain, packed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut scan = tx.prepare_cached(&scan_sql())?;
            for (a, b) in runs(&missing) {
                pack_days(&mut scan, a, b, |day, p| {
                    insert.execute(rusqlite::params![
                        day,
                        p.rows as i64,
                        p.widths[0] as i64,
                        p.widths[1] as i64,
                        p.plain,
                        p.blob
                    ])?;
                    Ok(())
                })?;
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

    /// The cached days that differ from what the table gives now (`doctor`: the writes keep
    /// them exact, so any is damage or a write from outside Holdfast); with `repair` they are
    /// dropped, to be filled again by the next list. Ascending.
    pub fn check_day_cache(&mut self, repair: bool) -> Result<Vec<i64>> {
        let mut stale = Vec::new();
        {
            let mut days = self.conn.prepare(
                "SELECT day, rows, summary_w, location_w, plain, packed FROM occurrence_days
                 ORDER BY day",
            )?;
            let mut scan = self.conn.prepare_cached(&scan_sql())?;
            let mut rows = days.query([])?;
            while let Some(r) = rows.next()? {
                let day: i64 = r.get(0)?;
                // A day key no start can have (a damaged row) is stale as it is.
                let Some(from) = day.checked_mul(DAY).filter(|_| day >= 0) else {
                    stale.push(day);
                    continue;
                };
                if from > i64::MAX - DAY {
                    stale.push(day);
                    continue;
                }
                let mut fresh = None;
                pack_days(&mut scan, day, day, |_, p| {
                    fresh = Some(p);
                    Ok(())
                })?;
                let Some(fresh) = fresh else {
                    continue;
                };
                let same = r.get::<_, i64>(1)? == fresh.rows as i64
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
}

/// Packs each day of [a, b] (non-negative) from the table with `scan` (`scan_sql`), empty
/// days too, handing each to `each` in order.
fn pack_days(
    scan: &mut rusqlite::CachedStatement<'_>,
    a: i64,
    b: i64,
    mut each: impl FnMut(i64, PackedDay) -> Result<()>,
) -> Result<()> {
    let mut packer = DayPacker::default();
    let mut day = a;
    let mut rows = scan.query([a * DAY, (b + 1) * DAY])?;
    while let Some(r) = rows.next()? {
        let o = view_of(r)?;
        while day < day_of(o.start) {
            each(day, packer.take())?;
            day += 1;
        }
        packer.push(&o);
    }
    while day <= b {
        each(day, packer.take())?;
        day += 1;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_days() {
        assert_eq!(runs(&[1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
        assert!(runs(&[]).is_empty());
    }
}
