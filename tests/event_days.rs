//! The day cache behind `list events --from/--to` (src/store/days.rs): whatever was written,
//! and however, a listing from the cache is byte for byte the listing the occurrence table
//! gives. The table's own path is taken with `--collection Calendar` (a filter the cache does
//! not serve), which here holds every event.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{sqlite3_bin, write_script, Home};
use unicode_width::UnicodeWidthStr;

const CALENDAR: &str = "BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//holdfast tests//EN\r
BEGIN:VEVENT\r
UID:daily@days.test\r
DTSTART:20260301T090000Z\r
DTEND:20260301T093000Z\r
RRULE:FREQ=DAILY\r
SUMMARY:Standup – Åsa\r
LOCATION:Kraków\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly@days.test\r
DTSTART;TZID=Europe/Berlin:20260305T230000\r
DTEND;TZID=Europe/Berlin:20260306T003000\r
RRULE:FREQ=WEEKLY;COUNT=8\r
EXDATE;TZID=Europe/Berlin:20260312T230000\r
SUMMARY:山田 明 weekly\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly@days.test\r
RECURRENCE-ID;TZID=Europe/Berlin:20260319T230000\r
DTSTART;TZID=Europe/Berlin:20260319T200000\r
DTEND;TZID=Europe/Berlin:20260319T210000\r
SUMMARY:Moved weekly\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:trip@days.test\r
DTSTART:20260308T100000Z\r
DTEND:20260311T100000Z\r
SUMMARY:Trip\r
LOCATION:Lisbon\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:holiday@days.test\r
DTSTART;VALUE=DATE:20260309\r
DTEND;VALUE=DATE:20260312\r
SUMMARY:Holiday\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:zero-day@days.test\r
DTSTART;VALUE=DATE:20260310\r
DTEND;VALUE=DATE:20260310\r
SUMMARY:Zero-length day\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:instant@days.test\r
DTSTART:20260310T000000Z\r
DTEND:20260310T000000Z\r
SUMMARY:Instant at midnight\r
END:VEVENT\r
END:VCALENDAR\r
";

/// Windows and zones: a day, a week across the long events' edges, a month across the DST
/// change of 2026-03-29; in UTC, west of it (local days start at 05:00 UTC) and east of it.
const WINDOWS: [(&str, &str); 3] = [
    ("2026-03-10", "2026-03-11"),
    ("2026-03-09", "2026-03-16"),
    ("2026-03-01", "2026-04-01"),
];
const ZONES: [&str; 3] = ["UTC", "America/New_York", "Asia/Tokyo"];

/// A fresh home with `calendar` imported from `days.ics` in its root (returned, to import
/// again).
fn home_with(calendar: &str) -> (Home, std::path::PathBuf) {
    let home = Home::new();
    let ics = home.root().join("days.ics");
    std::fs::write(&ics, calendar).expect("write calendar");
    home.ok(&["import", ics.to_str().expect("path")]);
    (home, ics)
}

fn listing(home: &Home, from: &str, to: &str, tz: &str, extra: &[&str]) -> String {
    let mut args = vec!["list", "events", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    let (code, out, err) = home.run_env(&args, &[("TZ", tz)]);
    assert_eq!(code, 0, "holdfast {args:?} (TZ={tz}) exited {code}: {err}");
    out
}

/// Every window in every zone: the cached listing is the table's listing. Returns the UTC
/// month as the cache lists it.
fn same_as_table(home: &Home, step: &str) -> String {
    for (from, to) in WINDOWS {
        for tz in ZONES {
            let cached = listing(home, from, to, tz, &[]);
            let table = listing(home, from, to, tz, &["--collection", "Calendar"]);
            assert_eq!(
                cached, table,
                "after {step}: {from}..{to} in {tz}, the day cache (left) and the table (right) differ"
            );
        }
    }
    listing(home, "2026-03-01", "2026-04-01", "UTC", &[])
}

fn cached_days(home: &Home) -> usize {
    home.sqlite("SELECT count(*) FROM occurrence_days")
        .parse()
        .expect("a count")
}

fn lines_with<'a>(listing: &'a str, needle: &str) -> Vec<&'a str> {
    listing.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn the_day_cache_lists_what_the_table_holds_after_every_kind_of_write() {
    let (home, ics) = home_with(CALENDAR);

    let month = same_as_table(&home, "import");
    assert!(cached_days(&home) >= 31, "the listings filled the cache");
    assert_eq!(lines_with(&month, "Standup – Åsa").len(), 31, "{month}");
    // The override moved the 19th to 19:00 UTC; the 12th is excluded.
    let weekly = lines_with(&month, "weekly");
    assert!(
        weekly
            .iter()
            .any(|l| l.starts_with("2026-03-19 Thu 19:00") && l.contains("Moved weekly")),
        "{weekly:?}"
    );
    assert!(
        !weekly.iter().any(|l| l.starts_with("2026-03-12")),
        "{weekly:?}"
    );
    // A day on its own shows the trip and holiday still running, and the zero-length ones.
    let day = listing(&home, "2026-03-10", "2026-03-11", "UTC", &[]);
    for summary in ["Trip", "Holiday", "Zero-length day", "Instant at midnight"] {
        assert_eq!(lines_with(&day, summary).len(), 1, "{summary}:\n{day}");
    }

    // edit
    let script = write_script(
        &home,
        "editor.sh",
        "sed -i 's/^SUMMARY:Standup.*/SUMMARY:Daily sync/' \"$1\"",
    );
    let (code, _, err) = home.run_env(
        &["edit", "daily@days.test"],
        &[("EDITOR", script.to_str().expect("path"))],
    );
    assert_eq!(code, 0, "edit: {err}");
    let month = same_as_table(&home, "edit");
    assert_eq!(lines_with(&month, "Daily sync").len(), 31, "{month}");
    assert!(lines_with(&month, "Standup").is_empty(), "{month}");

    // delete, undelete
    home.ok(&["delete", "trip@days.test"]);
    let month = same_as_table(&home, "delete");
    assert!(lines_with(&month, "Trip").is_empty(), "{month}");
    home.ok(&["undelete", "trip@days.test"]);
    let month = same_as_table(&home, "undelete");
    assert_eq!(lines_with(&month, "Trip").len(), 1, "{month}");

    // new
    home.ok(&[
        "new",
        "event",
        "Dentist",
        "--start",
        "2026-03-12 08:00",
        "--duration",
        "1h",
    ]);
    let month = same_as_table(&home, "new event");
    assert_eq!(lines_with(&month, "Dentist").len(), 1, "{month}");

    // a changed file imported again
    let changed = CALENDAR.replace("LOCATION:Lisbon", "LOCATION:Porto");
    std::fs::write(&ics, changed).expect("write calendar");
    home.ok(&["import", ics.to_str().expect("path")]);
    let month = same_as_table(&home, "re-import");
    assert_eq!(lines_with(&month, "Porto").len(), 1, "{month}");

    // revert to the first revision
    home.ok(&["revert", "daily@days.test", "1"]);
    let month = same_as_table(&home, "revert");
    assert_eq!(lines_with(&month, "Standup – Åsa").len(), 31, "{month}");

    // doctor --repair rewrites the occurrences of every item
    let (code, out, err) = home.run(&["doctor", "--repair"]);
    assert!(code == 0 || code == 3, "doctor --repair: {out}\n{err}");
    same_as_table(&home, "doctor --repair");
}

#[test]
fn a_damaged_day_in_the_cache_is_read_from_the_table() {
    let (home, _) = home_with(CALENDAR);
    let before = listing(&home, "2026-03-09", "2026-03-16", "UTC", &[]);
    assert!(cached_days(&home) > 0);
    home.sqlite("UPDATE occurrence_days SET packed = x'0100000000' WHERE day % 2 = 0");
    let (code, out, err) = home.run(&[
        "list",
        "events",
        "--from",
        "2026-03-09",
        "--to",
        "2026-03-16",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, before);

    // doctor names the damaged days; --repair drops them and the next list fills them again.
    let damaged: usize = home
        .sqlite("SELECT count(*) FROM occurrence_days WHERE day % 2 = 0")
        .parse()
        .expect("a count");
    assert!(damaged > 0);
    let (code, out, _) = home.run(&["doctor"]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(&format!("event day cache: {damaged} day(s) differ")),
        "{out}"
    );
    let doc = home.run(&["doctor", "--json"]).1;
    let doc: serde_json::Value = serde_json::from_str(&doc).expect("doctor --json");
    assert_eq!(
        doc["stale_cached_days"].as_array().map(Vec::len),
        Some(damaged)
    );
    home.ok(&["doctor", "--repair"]);
    let (code, out, _) = home.run(&["doctor"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("event day cache: ok"), "{out}");
    assert_eq!(
        listing(&home, "2026-03-09", "2026-03-16", "UTC", &[]),
        before
    );
    let (code, out, _) = home.run(&["doctor"]);
    assert_eq!(code, 0, "refilled days match: {out}");
}

#[test]
fn a_list_does_not_wait_for_another_writer_to_fill_the_cache() {
    let (home, _) = home_with(CALENDAR);
    // The horizon is extended by this first read (it writes); the cache is left empty.
    let table = listing(
        &home,
        "2026-03-01",
        "2026-04-01",
        "UTC",
        &["--collection", "Calendar"],
    );
    assert_eq!(cached_days(&home), 0);

    // Another process holds the write lock.
    let mut writer = Command::new(sqlite3_bin())
        .arg(home.db())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run sqlite3");
    let mut input = writer.stdin.take().expect("stdin");
    writeln!(input, "BEGIN IMMEDIATE; SELECT 'locked';").expect("write to sqlite3");
    input.flush().expect("flush");
    let mut line = String::new();
    BufReader::new(writer.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read from sqlite3");
    assert_eq!(line.trim(), "locked");

    let started = std::time::Instant::now();
    let cached = listing(&home, "2026-03-01", "2026-04-01", "UTC", &[]);
    let took = started.elapsed();
    drop(input);
    writer.wait().expect("sqlite3 ends");

    assert_eq!(cached, table);
    assert!(took.as_secs() < 5, "the list waited {took:?} for the lock");
    assert_eq!(
        cached_days(&home),
        0,
        "nothing was filled under another's lock"
    );
    // Once the lock is free the next list fills it.
    assert_eq!(
        listing(&home, "2026-03-01", "2026-04-01", "UTC", &[]),
        table
    );
    assert!(cached_days(&home) > 0);
}

#[test]
fn the_deletes_and_updates_of_occurrences_have_their_triggers() {
    let home = Home::new();
    home.ok(&["list", "events"]);
    let triggers = home.sqlite(
        "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master
         WHERE type = 'trigger' AND tbl_name = 'occurrences' ORDER BY name)",
    );
    assert_eq!(triggers, "occurrence_days_delete occurrence_days_update");
}

/// Python moving one event back and forth by 20 days, its summary long one way and short the
/// other, a commit each time, for `secs` seconds.
const MOVER: &str = r#"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
end = time.time() + float(sys.argv[2])
far = False
while time.time() < end:
    shift = 20 * 86400 if not far else -20 * 86400
    summary = "Mover " + "W" * 60 if not far else "Mover"
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE occurrences SET start = start + ?, end = end + ?, summary = ? "
               "WHERE uid = 'mover@days.test'", (shift, shift, summary))
    db.execute("COMMIT")
    far = not far
    time.sleep(0.002)
"#;

#[test]
fn a_list_reads_one_instant_while_another_process_writes() {
    let mover = "BEGIN:VEVENT\r\nUID:mover@days.test\r\nDTSTART:20260305T120000Z\r\n\
                 DTEND:20260305T130000Z\r\nSUMMARY:Mover\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let (home, _) = home_with(&CALENDAR.replace("END:VCALENDAR\r\n", mover));
    listing(&home, "2026-03-01", "2026-04-01", "UTC", &[]);
    let script = home.root().join("mover.py");
    std::fs::write(&script, MOVER).expect("write script");
    let mut writer = Command::new("python3")
        .arg(&script)
        .arg(home.db())
        .arg("4")
        .spawn()
        .expect("run python3");
    let started = std::time::Instant::now();
    let mut lists = 0;
    while started.elapsed().as_secs_f64() < 3.5 {
        for extra in [&[][..], &["--collection", "Calendar"][..]] {
            let out = listing(&home, "2026-03-01", "2026-04-01", "UTC", extra);
            let lines: Vec<&str> = out.lines().collect();
            let movers = lines.iter().filter(|l| l.contains("Mover")).count();
            assert_eq!(
                movers, 1,
                "{extra:?}: the moved event is listed once:\n{out}"
            );
            // Every UID starts under the header's UID: widths and rows from one instant.
            let uid_at = lines[0].find("UID").expect("header");
            for l in &lines[1..] {
                let uid = l.split_whitespace().last().unwrap_or_default();
                assert_eq!(
                    l.width() - uid.width(),
                    lines[0][..uid_at].width(),
                    "{extra:?}: misaligned line {l:?}\n{out}"
                );
            }
            lists += 1;
        }
    }
    assert!(writer.wait().expect("python3 ends").success());
    assert!(lists >= 4, "only {lists} lists ran");
}

#[test]
fn a_cache_that_cannot_be_filled_leaves_the_list_to_the_table() {
    let (home, _) = home_with(CALENDAR);
    let table = listing(
        &home,
        "2026-03-01",
        "2026-04-01",
        "UTC",
        &["--collection", "Calendar"],
    );
    // Any write to the cache fails (as on a full disk).
    home.sqlite(
        "CREATE TRIGGER refuse BEFORE INSERT ON occurrence_days
         BEGIN SELECT RAISE(ABORT, 'disk full, say'); END",
    );
    assert_eq!(
        listing(&home, "2026-03-01", "2026-04-01", "UTC", &[]),
        table
    );
    assert_eq!(cached_days(&home), 0);
}
