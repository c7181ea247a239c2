//! The store through its library API on a real SQLite file: the occurrence horizon, birthdays
//! and snapshot rotation.

use chrono::NaiveDate;
use holdfast::format::lines;
use holdfast::model::Kind;
use holdfast::store::{Filter, Incoming, Store};

fn import(store: &mut Store, text: &str) {
    let split = lines::split(text.as_bytes());
    assert!(split.stray.is_empty(), "{:?}", split.stray);
    let batch = split
        .items
        .into_iter()
        .map(|item| Incoming {
            collection_id: store
                .collection_id(item.kind.default_collection())
                .expect("collection"),
            item,
        })
        .collect();
    store.import_batch(batch, "test").expect("import");
}

fn ts(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .unwrap_or_default()
}

/// Occurrences read from the table, wherever the window falls relative to the stored horizon
/// (inside, before, after, straddling, far away), are exactly those expanded in memory.
#[test]
fn stored_occurrences_match_expansion_across_horizon_extensions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    let cal = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n\
        BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20200101T000000Z\r\nSUMMARY:Weekly\r\n\
        DTSTART;TZID=Europe/Berlin:20200106T090000\r\nDTEND;TZID=Europe/Berlin:20200106T100000\r\n\
        RRULE:FREQ=WEEKLY\r\nEXDATE;TZID=Europe/Berlin:20250106T090000\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:daily\r\nDTSTAMP:20200101T000000Z\r\nSUMMARY:Daily\r\n\
        DTSTART;VALUE=DATE:20240301\r\nRRULE:FREQ=DAILY;INTERVAL=3\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:once\r\nDTSTAMP:20200101T000000Z\r\nSUMMARY:Once\r\n\
        DTSTART:20230515T120000Z\r\nDTEND:20230515T130000Z\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";
    import(&mut store, cal);
    let texts: Vec<(String, Vec<u8>)> = store
        .list(&Filter {
            kind: Some(Kind::Event),
            ..Filter::default()
        })
        .expect("list")
        .into_iter()
        .map(|i| {
            let raw = store.raw_of(i.id).expect("raw");
            (i.uid, raw)
        })
        .collect();
    assert_eq!(texts.len(), 3);
    let windows = [
        (ts(2026, 11, 1), ts(2026, 12, 1)),
        (ts(2025, 1, 1), ts(2025, 2, 1)),
        (ts(2023, 5, 1), ts(2023, 6, 1)),
        (ts(2024, 12, 20), ts(2025, 1, 20)),
        (ts(2028, 3, 1), ts(2028, 4, 15)),
        (ts(2019, 12, 1), ts(2020, 2, 1)),
        (ts(2045, 1, 1), ts(2045, 2, 1)),
    ];
    for (from, to) in windows {
        let mut got: Vec<(String, i64, i64)> = store
            .occurrences(&Filter::default(), from, to)
            .expect("occurrences")
            .into_iter()
            .map(|o| {
                (
                    o.item.uid.clone(),
                    o.occurrence.start.timestamp(),
                    o.occurrence.end.timestamp(),
                )
            })
            .collect();
        let mut want: Vec<(String, i64, i64)> = Vec::new();
        for (uid, raw) in &texts {
            let parsed = holdfast::format::parse(raw);
            for o in parsed
                .occurrences(Some((from - 86_400, to + 86_400)))
                .expect("expand")
            {
                if holdfast::store::overlaps_window(&o, from, to) {
                    want.push((uid.clone(), o.start.timestamp(), o.end.timestamp()));
                }
            }
        }
        got.sort();
        want.sort();
        assert!(!want.is_empty() || from > ts(2040, 1, 1) || to < ts(2020, 1, 1));
        assert_eq!(got, want, "window {from}..{to}");
    }
    // The Jan 6 2025 EXDATE is honoured from the table too.
    let jan = store
        .occurrences(&Filter::default(), ts(2025, 1, 6), ts(2025, 1, 7))
        .expect("occurrences");
    assert!(jan.iter().all(|o| o.item.uid != "weekly"), "{jan:?}");
}

#[test]
fn birthdays_are_a_month_day_query_that_wraps_the_year() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    let card = |uid: &str, bday: &str| {
        format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{uid}\r\nBDAY:{bday}\r\nEND:VCARD\r\n"
        )
    };
    let text = [
        card("dec30", "1980-12-30"),
        card("jan02", "--0102"),
        card("jun15", "19750615"),
        card("feb29", "2000-02-29"),
    ]
    .concat();
    import(&mut store, &text);
    let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("date");
    let names = |v: Vec<holdfast::store::StoredItem>| -> Vec<String> {
        v.into_iter().map(|i| i.uid).collect()
    };
    assert_eq!(
        names(store.birthdays(d(12, 25), d(1, 5)).expect("q")),
        ["jan02", "dec30"]
    );
    assert_eq!(
        names(store.birthdays(d(6, 1), d(6, 30)).expect("q")),
        ["jun15"]
    );
    assert_eq!(
        names(store.birthdays(d(2, 28), d(3, 1)).expect("q")),
        ["feb29"]
    );
    assert!(store.birthdays(d(7, 1), d(11, 30)).expect("q").is_empty());
}

#[test]
fn snapshots_rotate_keeping_the_newest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(store.backup(3).expect("backup").path);
    }
    let kept = store.list_backups().expect("list");
    assert_eq!(kept.len(), 3, "{kept:?}");
    // Newest first, and they are the last three made.
    let mut last3: Vec<_> = made[2..].to_vec();
    last3.reverse();
    assert_eq!(kept, last3);
    for p in &kept {
        let ok = rusqlite_free_check(p);
        assert!(ok, "{} is not a sound database copy", p.display());
    }
}

/// A snapshot opens as a Holdfast store of its own.
fn rusqlite_free_check(p: &std::path::Path) -> bool {
    let tmp = tempfile::tempdir().expect("tempdir");
    let copy = tmp.path().join("holdfast.db");
    std::fs::copy(p, &copy).expect("copy");
    Store::open(tmp.path())
        .and_then(|s| s.integrity())
        .is_ok_and(|v| v.is_empty())
}

/// Restoring the oldest snapshot (the one the safety snapshot's rotation removes) works, twice.
#[test]
fn restoring_the_oldest_snapshot_survives_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    import(
        &mut store,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:keep\r\nFN:Kept Person\r\nEND:VCARD\r\n",
    );
    for _ in 0..3 {
        store.backup(3).expect("backup");
    }
    import(
        &mut store,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:later\r\nFN:Later Person\r\nEND:VCARD\r\n",
    );
    for round in 0..2 {
        let oldest = store
            .list_backups()
            .expect("list")
            .last()
            .cloned()
            .expect("a snapshot");
        store.restore(&oldest, 3).expect("restore");
        let uids: Vec<String> = store
            .list(&Filter::default())
            .expect("list")
            .into_iter()
            .map(|i| i.uid)
            .collect();
        assert!(
            uids.contains(&"keep".to_string()),
            "round {round}: {uids:?}"
        );
        assert!(store.integrity().expect("check").is_empty());
    }
}

/// A contact search reads each hit's list line from the contact-line index (migration 4):
/// the same names, first email, first phone and org as the full list, in the same order
/// (sort key, then id), with escaped JSON, missing fields, trash and accents handled.
#[test]
fn contact_search_lines_match_the_full_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    let mut vcf = String::new();
    let people = [
        (
            "m1",
            "Zoë Müller",
            "ORG:Müller \\; Söhne\r\nEMAIL:z@x.org\r\nEMAIL:z2@x.org\r\nTEL:+49 1\r\n",
        ),
        ("m2", "Anna Muller", "EMAIL:\"quoted\"@x.org\r\n"),
        ("m3", "anna muller", "TEL:+1 2\r\nTEL:+1 3\r\n"),
        ("m4", "Bob Müller-Lüdenscheidt", ""),
        ("x1", "Someone Else", "EMAIL:muller@nowhere.org\r\n"),
        ("x2", "Nobody", ""),
    ];
    for (uid, name, extra) in people {
        vcf.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\n{extra}END:VCARD\r\n"
        ));
    }
    import(&mut store, &vcf);
    let m4 = store.find("m4", None).expect("m4");
    store.delete(&m4).expect("trash m4");
    let line = |c: &holdfast::store::ContactView<'_>| {
        format!("{}|{}|{}|{}|{}", c.name, c.org, c.email, c.phone, c.uid)
    };
    let lines = |store: &Store, f: &Filter| {
        let mut out = Vec::new();
        store
            .for_each_contact_row(f, |c| out.push(line(c)))
            .expect("rows");
        out
    };
    let all = lines(&store, &Filter::default());
    let hits = lines(
        &store,
        &Filter {
            query: Some("muller".into()),
            ..Filter::default()
        },
    );
    let expected: Vec<String> = all
        .iter()
        .filter(|l| l.to_lowercase().replace('ü', "u").contains("muller"))
        .cloned()
        .collect();
    assert_eq!(hits, expected, "all: {all:#?}");
    assert_eq!(hits.len(), 4, "{hits:#?}");
    assert!(hits[0].starts_with("Anna Muller|") || hits[0].starts_with("anna muller|"));
    assert!(
        hits.iter()
            .any(|l| l == "Zoë Müller|Müller ; Söhne|z@x.org|+49 1|m1"),
        "{hits:#?}"
    );
    let trashed = lines(
        &store,
        &Filter {
            query: Some("muller".into()),
            trash: true,
            ..Filter::default()
        },
    );
    assert_eq!(trashed.len(), 1, "{trashed:#?}");
    assert!(trashed[0].ends_with("|m4"));
}

/// A calendar day read the cheap way (what still runs into it, from the index of long
/// occurrences and the last hour, then what starts in it, a few rows and a capped count) is
/// the window query's answer.
#[test]
fn a_day_read_by_parts_matches_the_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    let ev = |uid: &str, start: &str, end: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20200101T000000Z\r\nSUMMARY:{uid}\r\n\
             DTSTART{start}\r\nDTEND{end}\r\nEND:VEVENT\r\n"
        )
    };
    let mut cal = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n");
    // Running into 2030-03-10: long, crossing midnight, all-day over three days.
    cal += &ev("long", ":20300308T100000Z", ":20300311T100000Z");
    cal += &ev("midnight", ":20300309T233000Z", ":20300310T003000Z");
    cal += &ev("allday", ";VALUE=DATE:20300309", ";VALUE=DATE:20300312");
    // Over before the day: long, short, all-day.
    cal += &ev("ended-long", ":20300307T100000Z", ":20300309T100000Z");
    cal += &ev("ended-short", ":20300309T223000Z", ":20300309T233000Z");
    cal += &ev(
        "ended-allday",
        ";VALUE=DATE:20300308",
        ";VALUE=DATE:20300310",
    );
    // Starting that day: five, and one the day after.
    for h in 8..13 {
        cal += &ev(
            &format!("day-{h}"),
            &format!(":20300310T{h:02}0000Z"),
            &format!(":20300310T{h:02}3000Z"),
        );
    }
    cal += &ev("next", ":20300311T090000Z", ":20300311T100000Z");
    cal += "END:VCALENDAR\r\n";
    import(&mut store, &cal);

    let (from, to) = (ts(2030, 3, 10), ts(2030, 3, 11));
    let mut window = Vec::new();
    store
        .for_each_occurrence_row(&Filter::default(), from, to, |o| {
            window.push((o.uid.to_string(), o.start))
        })
        .expect("window");
    let mut parts = Vec::new();
    assert!(store
        .for_each_occurrence_running(from, to, 100, |o| parts.push((o.uid.to_string(), o.start)))
        .expect("running"));
    let mut uids: Vec<&str> = parts.iter().map(|(u, _)| u.as_str()).collect();
    uids.sort_unstable();
    assert_eq!(uids, ["allday", "long", "midnight"]);
    let n = store
        .for_each_occurrence_starting(from, to, 100, 100, |o| {
            parts.push((o.uid.to_string(), o.start))
        })
        .expect("starting");
    assert_eq!(n, Some(5));
    parts.sort();
    window.sort();
    assert_eq!(parts, window);

    // A few rows and a count capped where asked.
    let mut shown = Vec::new();
    let n = store
        .for_each_occurrence_starting(from, to, 2, 4, |o| shown.push(o.uid.to_string()))
        .expect("starting");
    assert_eq!(
        (shown, n),
        (vec!["day-8".to_string(), "day-9".into()], Some(4))
    );
    let n = store
        .for_each_occurrence_starting(from, to, 2, 100, |_| {})
        .expect("starting");
    assert_eq!(n, Some(5));

    // The trash's occurrences are neither shown nor counted.
    let trashed = store.find("day-8", None).expect("find");
    store.delete(&trashed).expect("delete");
    let mut shown = Vec::new();
    let n = store
        .for_each_occurrence_starting(from, to, 2, 100, |o| shown.push(o.uid.to_string()))
        .expect("starting");
    assert_eq!(
        (shown, n),
        (vec!["day-9".to_string(), "day-10".into()], Some(4))
    );
    let n = store
        .for_each_occurrence_starting(from, to, 2, 4, |_| {})
        .expect("starting");
    assert_eq!(n, Some(4));
}
