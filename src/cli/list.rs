//! `list`: aligned tables for people, one JSON array for scripts.

use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};

use super::args::{ListArgs, ListKind};
use super::{exit, table, usage, Context, Outcome};
use crate::model::{Flags, Kind, Moment};
use crate::store::{EventWindow, Filter, OccurrenceView, StoredItem};

/// A `--from/--to` value: a date (local midnight) or an RFC 3339 time.
pub fn parse_bound(s: &str) -> Option<i64> {
    if let Ok(d) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        let midnight = d.and_hms_opt(0, 0, 0)?;
        return Local
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.timestamp());
    }
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp())
}

fn base(item: &StoredItem) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("uid".into(), Value::String(item.uid.clone()));
    m.insert("collection".into(), Value::String(item.collection.clone()));
    m.insert(
        "flags".into(),
        Value::Array(
            item.flags
                .names()
                .into_iter()
                .map(|n| Value::String(n.into()))
                .collect(),
        ),
    );
    if let Value::Object(data) = &item.data {
        for (k, v) in data {
            m.insert(k.clone(), v.clone());
        }
    }
    if !item.problems.is_empty() {
        m.insert(
            "problems".into(),
            Value::Array(
                item.problems
                    .iter()
                    .map(|p| serde_json::json!({"line": p.line, "reason": p.reason}))
                    .collect(),
            ),
        );
    }
    m
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a.first().map(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// `[unparsable,conflict]`, or nothing for an item without flags.
fn flags_text(flags: Flags) -> String {
    let n = flags.names();
    if n.is_empty() {
        String::new()
    } else {
        format!("[{}]", n.join(","))
    }
}

/// A UTC time as the user's local wall clock, for people.
fn local_time(m: &str) -> String {
    match Moment::parse(m) {
        Some(Moment::Instant(t)) => t
            .with_timezone(&Local)
            .format("%Y-%m-%d %a %H:%M")
            .to_string(),
        Some(Moment::Date(d)) => d.format("%Y-%m-%d %a").to_string(),
        None => m.to_string(),
    }
}

pub fn list(ctx: &mut Context, a: &ListArgs) -> Outcome {
    let kind = match a.kind {
        ListKind::Contacts => Kind::Contact,
        ListKind::Events => Kind::Event,
        ListKind::Todos => Kind::Todo,
        ListKind::Photos => Kind::Photo,
    };
    let filter = Filter {
        kind: Some(kind),
        query: a.query.clone(),
        trash: a.trash,
        conflicts: a.conflicts,
        collection: a.collection.clone(),
        ..Filter::default()
    };
    if let (Some(from), Some(to)) = (&a.from, &a.to) {
        if kind != Kind::Event {
            return Err(usage("--from/--to apply to `list events` only"));
        }
        let f = parse_bound(from).ok_or_else(|| {
            usage(format!(
                "--from {from:?}: use YYYY-MM-DD or an RFC 3339 time"
            ))
        })?;
        let t = parse_bound(to)
            .ok_or_else(|| usage(format!("--to {to:?}: use YYYY-MM-DD or an RFC 3339 time")))?;
        if t <= f {
            return Err(usage("--to must be after --from (it is exclusive)"));
        }
        return occurrences(ctx, &filter, f, t);
    }
    if kind == Kind::Contact && !ctx.json {
        return contact_table(ctx, &filter);
    }
    if kind == Kind::Photo && !ctx.json {
        let items = ctx.store.list(&filter)?;
        let photos: Vec<crate::store::StoredPhoto> = items
            .into_iter()
            .filter_map(crate::store::StoredPhoto::from_item)
            .collect();
        super::photos::print_table(&photos);
        return Ok(exit::OK);
    }
    let items = ctx.store.list(&filter)?;
    if ctx.json {
        let arr: Vec<Value> = items.iter().map(|i| Value::Object(base(i))).collect();
        super::emit(&format!("{}\n", Value::Array(arr)));
        return Ok(exit::OK);
    }
    let rows: Vec<Vec<String>> = match kind {
        Kind::Contact => items
            .iter()
            .map(|i| {
                let d = &i.data;
                vec![
                    s(&d["full_name"]),
                    s(&d["org"]),
                    s(&d["emails"]),
                    s(&d["phones"]),
                    flags_text(i.flags),
                    i.uid.clone(),
                ]
            })
            .collect(),
        Kind::Todo => todo_rows(&items),
        _ => items
            .iter()
            .map(|i| {
                let d = &i.data;
                vec![
                    local_time(&s(&d["start"])),
                    s(&d["summary"]),
                    s(&d["location"]),
                    if d["rrule"].is_null() {
                        String::new()
                    } else {
                        "↻".into()
                    },
                    flags_text(i.flags),
                    i.uid.clone(),
                ]
            })
            .collect(),
    };
    let headers: &[&str] = match kind {
        Kind::Contact => &["NAME", "ORG", "EMAIL", "PHONE", "FLAGS", "UID"],
        Kind::Todo => &["", "DUE", "PRIO", "SUMMARY", "FLAGS", "UID"],
        _ => &["START", "SUMMARY", "LOCATION", "", "FLAGS", "UID"],
    };
    if rows.is_empty() {
        println!("Nothing to list.");
    } else {
        table::print(headers, &rows);
    }
    Ok(exit::OK)
}

/// Local wall-clock formatting for long lists: the zone offset is looked up once per hour of
/// time and each day's label once, instead of a full chrono format per row. Rows come in start
/// order, so the hour last asked (or the one before: an end is often in another hour than its
/// start) and the last day answer most rows without hashing.
#[derive(Default)]
struct LocalClock {
    offsets: std::collections::HashMap<i64, i64>,
    days: std::collections::HashMap<i64, String>,
    /// (hour, offset) of the last two hours asked.
    recent: [Option<(i64, i64)>; 2],
    last_day: Option<(i64, String)>,
}

impl LocalClock {
    /// `ts` on the local wall clock, as seconds since the epoch of that clock.
    fn local(&mut self, ts: i64) -> i64 {
        let hour = ts.div_euclid(3600);
        for (h, off) in self.recent.iter().flatten() {
            if *h == hour {
                return ts + off;
            }
        }
        let off = *self.offsets.entry(hour).or_insert_with(|| {
            DateTime::<Utc>::from_timestamp(ts, 0)
                .map(|t| i64::from(t.with_timezone(&Local).offset().local_minus_utc()))
                .unwrap_or(0)
        });
        self.recent = [Some((hour, off)), self.recent[0]];
        ts + off
    }

    /// `2025-06-02 Mon` of the day holding `t` (seconds of a wall clock, or a UTC date).
    fn day_label(&mut self, t: i64) -> &str {
        let day = t.div_euclid(86_400);
        if self.last_day.as_ref().is_none_or(|(d, _)| *d != day) {
            let label = self
                .days
                .entry(day)
                .or_insert_with(|| {
                    DateTime::<Utc>::from_timestamp(day * 86_400, 0)
                        .map(|d| d.format("%Y-%m-%d %a").to_string())
                        .unwrap_or_default()
                })
                .clone();
            self.last_day = Some((day, label));
        }
        self.last_day.as_ref().map_or("", |(_, label)| label)
    }
}

/// Every `HH:MM` of a day, one after the other, built at compile time.
const HOURS_MINUTES: &str = {
    const BYTES: [u8; 1440 * 5] = {
        let mut b = [0u8; 1440 * 5];
        let mut minute = 0;
        while minute < 1440 {
            let (h, m) = ((minute / 60) as u8, (minute % 60) as u8);
            let at = minute * 5;
            b[at] = b'0' + h / 10;
            b[at + 1] = b'0' + h % 10;
            b[at + 2] = b':';
            b[at + 3] = b'0' + m / 10;
            b[at + 4] = b'0' + m % 10;
            minute += 1;
        }
        b
    };
    match std::str::from_utf8(&BYTES) {
        Ok(text) => text,
        Err(_) => panic!("HH:MM is ASCII"),
    }
};

/// `HH:MM` of `t` (seconds of a wall clock).
fn hh_mm(t: i64) -> &'static str {
    let at = (t.rem_euclid(86_400) / 60) as usize * 5;
    HOURS_MINUTES.get(at..at + 5).unwrap_or("00:00")
}

/// To-dos with their subtasks right under them, indented.
fn todo_rows(items: &[StoredItem]) -> Vec<Vec<String>> {
    use std::collections::{HashMap, HashSet};
    let uids: HashSet<&str> = items.iter().map(|i| i.uid.as_str()).collect();
    // Children by parent UID, in list order (so subtasks keep the done/due/priority order).
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (idx, i) in items.iter().enumerate() {
        match i.data["parent"]
            .as_str()
            .filter(|p| uids.contains(p) && *p != i.uid)
        {
            Some(p) => children.entry(p).or_default().push(idx),
            None => roots.push(idx),
        }
    }
    let mut rows = Vec::with_capacity(items.len());
    // Depth-first with an explicit stack; a parent cycle (A under B under A) cannot recurse
    // forever: every item is shown once.
    let mut shown = vec![false; items.len()];
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&r| (r, 0)).collect();
    let push = |idx: usize, depth: usize, rows: &mut Vec<Vec<String>>| {
        let item = &items[idx];
        let d = &item.data;
        let due = s(&d["due"]);
        rows.push(vec![
            match d["status"].as_str() {
                Some("COMPLETED") => "[x]".into(),
                Some("CANCELLED") => "[-]".into(),
                _ => "[ ]".into(),
            },
            if due.is_empty() {
                String::new()
            } else {
                local_time(&due)
            },
            d["priority"]
                .as_u64()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            format!(
                "{}{}",
                "  ".repeat(depth) + if depth > 0 { "└ " } else { "" },
                s(&d["summary"])
            ),
            flags_text(item.flags),
            item.uid.clone(),
        ]);
    };
    loop {
        while let Some((idx, depth)) = stack.pop() {
            if shown[idx] {
                continue;
            }
            shown[idx] = true;
            push(idx, depth, &mut rows);
            if let Some(kids) = children.get(items[idx].uid.as_str()) {
                stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
            }
        }
        // Items only reachable through a cycle: show them at the top level.
        match shown.iter().position(|s| !s) {
            Some(idx) => stack.push((idx, 0)),
            None => break,
        }
    }
    rows
}

fn occurrences(ctx: &mut Context, filter: &Filter, from: i64, to: i64) -> Outcome {
    if ctx.json {
        let occ = ctx.store.occurrences(filter, from, to)?;
        let arr: Vec<Value> = occ
            .iter()
            .map(|o| {
                let mut m = base(&o.item);
                m.insert(
                    "start".into(),
                    Value::String(o.occurrence.start.to_rfc3339()),
                );
                m.insert("end".into(), Value::String(o.occurrence.end.to_rfc3339()));
                m.insert(
                    "all_day".into(),
                    Value::Bool(matches!(o.occurrence.start, Moment::Date(_))),
                );
                if let Some(sm) = &o.occurrence.summary {
                    m.insert("summary".into(), Value::String(sm.clone()));
                }
                if let Some(l) = &o.occurrence.location {
                    m.insert("location".into(), Value::String(l.clone()));
                }
                m.insert(
                    "recurrence_id".into(),
                    o.occurrence
                        .recurrence_id
                        .and_then(|r| DateTime::<Utc>::from_timestamp(r, 0))
                        .map_or(Value::Null, |t| {
                            Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                        }),
                );
                Value::Object(m)
            })
            .collect();
        super::emit(&format!("{}\n", Value::Array(arr)));
        return Ok(exit::OK);
    }
    let headers = ["START", "END", "SUMMARY", "LOCATION", "FLAGS", "UID"];
    // More than two days are read on every core; a day or two on this thread alone.
    let parts = if to - from > 2 * 86_400 {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    } else {
        1
    };
    if let Some(window) = ctx.store.event_window(filter, from, to, parts)? {
        return event_days(window, headers);
    }
    // A filtered window is read in consecutive parts, one per core, each row's cells copied
    // into its part's buffer and measured once; then each part is formatted on its own thread
    // and the parts written in order. A second SQL pass cost more than the copy.
    let parts = ctx.store.occurrence_rows_in_parts(
        filter,
        from,
        to,
        parts,
        EventRows::default,
        |rows, o| rows.push(o),
    )?;
    if parts.iter().all(|p| p.rows.is_empty()) {
        println!("No events in that window.");
        return Ok(exit::OK);
    }
    let mut widths = [0; 3];
    for p in &parts {
        for (w, pw) in widths.iter_mut().zip(p.widths) {
            *w = (*w).max(pw);
        }
    }
    let widths = event_columns(widths, headers);
    let mut out = String::with_capacity(EVENT_CHUNK + 4096);
    table::push_row(&mut out, &headers, &widths);
    let widths = &widths;
    std::thread::scope(|scope| {
        // Every part after the first is formatted whole on a thread of its own while this one
        // formats and writes the first in chunks.
        let rest: Vec<_> = parts[1..]
            .iter()
            .map(|p| {
                scope.spawn(move || {
                    let mut text = String::new();
                    p.format(widths, &mut text, |_| {});
                    text
                })
            })
            .collect();
        parts[0].format(widths, &mut out, |out| {
            super::emit(out);
            out.clear();
        });
        super::emit(&out);
        for h in rest {
            match h.join() {
                Ok(text) => super::emit(&text),
                Err(_) => {
                    eprintln!("holdfast: a thread formatting the list panicked");
                    std::process::exit(i32::from(exit::ERROR));
                }
            }
        }
    });
    Ok(exit::OK)
}

/// The live events of every collection over a window of days, from the store's day cache:
/// the widths come from each day's stored measure (only the window's edges are read row by
/// row), then the days are formatted on every core, a day per piece of output, and written
/// in order as they are ready.
fn event_days(window: EventWindow<'_>, headers: [&str; 6]) -> Outcome {
    let mut widths = [0; 3];
    let mut rows = 0;
    let whole = window.measure(|o| {
        rows += 1;
        widen(&mut widths, o);
    })?;
    for d in &whole {
        rows += d.rows;
        widths[0] = widths[0].max(d.summary);
        widths[1] = widths[1].max(d.location);
    }
    if rows == 0 {
        println!("No events in that window.");
        return Ok(exit::OK);
    }
    let widths = event_columns(widths, headers);
    let mut head = String::new();
    table::push_row(&mut head, &headers, &widths);
    super::emit(&head);
    window.read_ordered(
        LinePrinter::default,
        |p, o| {
            p.push(
                &widths,
                (o.start, o.end, o.all_day, o.flags),
                [o.summary, o.location, o.uid],
                o.display_widths(),
            );
        },
        |mut p| {
            super::emit(&p.out);
            p.out.clear();
            Some(p)
        },
    )?;
    Ok(exit::OK)
}

/// Widens `widths` (summary, location, flags) to hold `o`'s cells; the widths of its summary
/// and location.
fn widen(widths: &mut [usize; 3], o: &OccurrenceView<'_>) -> [usize; 2] {
    let measured = o.display_widths();
    for (w, m) in widths.iter_mut().zip(measured) {
        *w = (*w).max(m);
    }
    if o.flags.0 != 0 {
        widths[2] = widths[2].max(flags_text(o.flags).len());
    }
    measured
}

/// The event table's column widths (START, END, SUMMARY, LOCATION, FLAGS) from the widest
/// summary, location and flags of its rows: never narrower than a timed start, an end, or the
/// headers.
fn event_columns([summary, location, flags]: [usize; 3], headers: [&str; 6]) -> [usize; 5] {
    let mut widths = [20, 7, summary, location, flags];
    for (w, h) in widths.iter_mut().zip(headers) {
        *w = (*w).max(h.len());
    }
    widths
}

/// Formats a person's event lines into `out`: local times, cells padded to the table's widths
/// as `table::push_measured_row` pads them (no padding before an empty cell, none at the end of
/// a line), written straight into `out`: tens of thousands of lines a month.
#[derive(Default)]
struct LinePrinter {
    out: String,
    clock: LocalClock,
}

impl LinePrinter {
    /// One line: `when` is (start, end, all-day, flags), `cells` summary, location and UID,
    /// `measured` the display widths of summary and location.
    fn push(
        &mut self,
        widths: &[usize; 5],
        (start, end, all_day, flags): (i64, i64, bool, Flags),
        [summary, location, uid]: [&str; 3],
        measured: [usize; 2],
    ) {
        let out = &mut self.out;
        let line = out.len();
        // START and END: ASCII, so their widths are their lengths.
        let (start_width, end_time) = if all_day {
            let label = self.clock.day_label(start);
            out.push_str(label);
            (label.len(), None)
        } else {
            let (local_start, local_end) = (self.clock.local(start), self.clock.local(end));
            let label = self.clock.day_label(local_start);
            out.push_str(label);
            out.push(' ');
            out.push_str(hh_mm(local_start));
            (label.len() + 6, Some(hh_mm(local_end)))
        };
        let mut pad = widths[0].saturating_sub(start_width) + 2;
        let mut cell = |out: &mut String, text: &str, width: usize, column: usize| {
            if !text.is_empty() {
                table::push_spaces(out, pad);
                pad = 0;
                out.push_str(text);
            }
            pad += widths
                .get(column)
                .map_or(0, |w| w.saturating_sub(width) + 2);
        };
        match &end_time {
            Some(hm) => cell(out, hm, 5, 1),
            None => cell(out, "all day", 7, 1),
        }
        cell(out, summary, measured[0], 2);
        cell(out, location, measured[1], 3);
        if flags.0 == 0 {
            cell(out, "", 0, 4);
        } else {
            let flags = flags_text(flags);
            cell(out, &flags, flags.len(), 4);
        }
        cell(out, uid, 0, 5);
        // A cell that ends in white space (a UID, say) is cut as the other tables cut it.
        if out.as_bytes().last().is_some_and(|b| !b.is_ascii_graphic()) {
            let kept = out[line..].trim_end().len();
            out.truncate(line + kept);
        }
        out.push('\n');
    }
}

/// Output is written in pieces of about this size: big enough for few write calls, small enough
/// to stay in cache and reuse the same pages.
const EVENT_CHUNK: usize = 256 << 10;

/// The rows of a person's event list, their text in one buffer: summary, location and UID of
/// each row one after the other, `ends` marking where each cell stops.
#[derive(Default)]
struct EventRows {
    text: String,
    rows: Vec<EventRow>,
    /// The widest summary, location and flags of these rows.
    widths: [usize; 3],
}

struct EventRow {
    start: i64,
    end: i64,
    all_day: bool,
    flags: Flags,
    ends: [usize; 3],
    summary_width: usize,
    location_width: usize,
}

impl EventRows {
    fn push(&mut self, o: &OccurrenceView<'_>) {
        let mut ends = [0; 3];
        for (end, cell) in ends.iter_mut().zip([o.summary, o.location, o.uid]) {
            self.text.push_str(cell);
            *end = self.text.len();
        }
        let [summary_width, location_width] = widen(&mut self.widths, o);
        self.rows.push(EventRow {
            start: o.start,
            end: o.end,
            all_day: o.all_day,
            flags: o.flags,
            ends,
            summary_width,
            location_width,
        });
    }

    /// Appends these rows' lines to `out`, handing it to `full` whenever it holds
    /// `EVENT_CHUNK` bytes or more.
    fn format(&self, widths: &[usize; 5], out: &mut String, mut full: impl FnMut(&mut String)) {
        let mut printer = LinePrinter {
            out: std::mem::take(out),
            ..LinePrinter::default()
        };
        let mut text_at = 0;
        for row in &self.rows {
            let cells = row.ends.map(|e| {
                let cell = &self.text[text_at..e];
                text_at = e;
                cell
            });
            printer.push(
                widths,
                (row.start, row.end, row.all_day, row.flags),
                cells,
                [row.summary_width, row.location_width],
            );
            if printer.out.len() >= EVENT_CHUNK {
                full(&mut printer.out);
            }
        }
        *out = printer.out;
    }
}

/// Contacts for people: one pass over borrowed rows (a search is the costly part here, so it
/// runs once) into one text buffer with each cell's width measured once, then an aligned table.
fn contact_table(ctx: &mut Context, filter: &Filter) -> Outcome {
    let headers = ["NAME", "ORG", "EMAIL", "PHONE", "FLAGS", "UID"];
    let mut widths = headers.map(str::len);
    let mut text = String::new();
    // Per row: where each of its six cells ends in `text`, and the widths of the first five.
    let mut rows: Vec<([usize; 6], [usize; 5])> = Vec::new();
    ctx.store.for_each_contact_row(filter, |c| {
        let flags = flags_text(c.flags);
        let mut ends = [0; 6];
        let mut w = [0; 5];
        for (i, cell) in [c.name, c.org, c.email, c.phone, &flags, c.uid]
            .into_iter()
            .enumerate()
        {
            text.push_str(cell);
            ends[i] = text.len();
            if i < 5 {
                w[i] = table::width(cell);
                widths[i] = widths[i].max(w[i]);
            }
        }
        rows.push((ends, w));
    })?;
    if rows.is_empty() {
        println!("Nothing to list.");
        return Ok(exit::OK);
    }
    const CHUNK: usize = 256 << 10;
    let mut out = String::with_capacity(CHUNK + 4096);
    table::push_row(&mut out, &headers, &widths[..5]);
    let mut at = 0;
    for (ends, w) in &rows {
        let cells = ends.map(|e| {
            let cell = &text[at..e];
            at = e;
            cell
        });
        table::push_measured_row(&mut out, &cells, |i, _| w[i.min(4)], &widths[..5]);
        if out.len() >= CHUNK {
            super::emit(&out);
            out.clear();
        }
    }
    super::emit(&out);
    Ok(exit::OK)
}
