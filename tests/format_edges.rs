//! Edge cases of the format layer seen from the CLI: unknown zones are reported, never taken
//! as UTC; a file with nothing in it is an error; stray text is reported with its line.

mod common;

use common::Home;

#[test]
fn unknown_tzid_is_flagged_and_read_as_local_time_not_utc() {
    let home = Home::new();
    let path = home.root().join("mars.ics");
    std::fs::write(
        &path,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:mars-1\r\n\
         DTSTAMP:20250101T000000Z\r\nSUMMARY:Olympus meeting\r\n\
         DTSTART;TZID=Mars/Olympus_Mons:20250115T090000\r\n\
         DTEND;TZID=Mars/Olympus_Mons:20250115T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .expect("write");
    let p = path.to_str().unwrap_or_default();
    let (code, _, err) = home.run_env(&["import", p], &[("TZ", "America/New_York")]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("mars.ics:") && err.contains("Mars/Olympus_Mons") && err.contains("mars-1"),
        "the report names file, zone and item: {err}"
    );
    let (code, out, err) = home.run_env(
        &[
            "list",
            "events",
            "--from",
            "2025-01-15",
            "--to",
            "2025-01-16",
            "--json",
        ],
        &[("TZ", "America/New_York")],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let ev = &v[0];
    assert_eq!(ev["uid"], "mars-1");
    assert!(ev["flags"].to_string().contains("unparsable"), "{ev}");
    // 09:00 in the user's zone (New York, UTC-5), not 09:00 UTC.
    assert_eq!(ev["start"], "2025-01-15T14:00:00Z", "{ev}");
}

#[test]
fn a_file_without_items_and_stray_text_are_reported_with_lines() {
    let home = Home::new();
    let empty = home.root().join("notes.vcf");
    std::fs::write(&empty, "just some notes\nnot a card\n").expect("write");
    let (code, _, err) = home.run(&["import", empty.to_str().unwrap_or_default()]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("notes.vcf:1:") && err.contains("outside"),
        "{err}"
    );
    assert!(err.contains("notes.vcf:2:"), "{err}");
}

#[test]
fn doctor_json_reports_flagged_items() {
    let home = Home::new();
    let f = common::fixture("broken.vcf");
    home.run(&["import", f.to_str().unwrap_or_default()]);
    let (code, out, _) = home.run(&["doctor", "--json"]);
    assert_eq!(code, 3);
    let v: serde_json::Value = serde_json::from_str(&out).expect("doctor --json is JSON");
    assert_eq!(v["healthy"], false);
    assert_eq!(v["integrity"][0], "ok");
    let uids: Vec<&str> = v["flagged"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["uid"].as_str()).collect())
        .unwrap_or_default();
    assert!(uids.contains(&"broken-vcf-B-missing-end"), "{v}");
    assert!(uids.contains(&"broken-vcf-D-no-colon"), "{v}");
}

#[test]
fn subtasks_that_point_at_each_other_are_each_listed_once() {
    let home = Home::new();
    let path = home.root().join("cycle.ics");
    std::fs::write(
        &path,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n\
         BEGIN:VTODO\r\nUID:a\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:Task A\r\n\
         RELATED-TO;RELTYPE=PARENT:b\r\nEND:VTODO\r\n\
         BEGIN:VTODO\r\nUID:b\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:Task B\r\n\
         RELATED-TO;RELTYPE=PARENT:a\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    )
    .expect("write");
    let (code, _, err) = home.run(&["import", path.to_str().unwrap_or_default()]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = home.run(&["list", "todos"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("Task A").count(), 1, "{out}");
    assert_eq!(out.matches("Task B").count(), 1, "{out}");
}

fn write(home: &Home, name: &str, text: &str) -> String {
    let path = home.root().join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().unwrap_or_default().to_string()
}

fn vevent(uid: &str, extra: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:{uid}\r\n\
         DTSTART:20250301T100000Z\r\n{extra}END:VEVENT\r\n"
    )
}

/// Hostile values (a duration past any calendar, a rule with non-ASCII in it, a per-minute
/// rule) flag their own item and cost nothing else: every item is kept.
#[test]
fn hostile_values_flag_their_item_and_nothing_is_dropped() {
    let home = Home::new();
    let mut cal = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n");
    for i in 0..100 {
        let extra = match i {
            10 => "DURATION:P999999999D\r\n".to_string(),
            20 => "RRULE:FREQ=MONTHLY;BYDAY=-1\u{dc}U\r\n".to_string(),
            30 => "RRULE:FREQ=MINUTELY;INTERVAL=15\r\n".to_string(),
            40 => "DURATION:PT9999999999999999S\r\n".to_string(),
            _ => String::new(),
        };
        cal.push_str(&vevent(&format!("ev{i}"), &extra));
    }
    cal.push_str("END:VCALENDAR\r\n");
    let f = write(&home, "hostile.ics", &cal);
    let (code, out, err) = home.run(&["import", "--json", &f]);
    assert_eq!(code, 3, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["added"], 100, "{v}");
    assert_eq!(v["flagged"], 4, "{v}\n{err}");
    let events = home.list("events", &[]);
    assert_eq!(events.len(), 100);
    // The per-minute event still shows, once.
    let (_, out, _) = home.run(&[
        "list",
        "events",
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-02",
        "--json",
    ]);
    let occ: serde_json::Value = serde_json::from_str(&out).expect("json");
    let ev30 = occ
        .as_array()
        .map(|a| a.iter().filter(|o| o["uid"] == "ev30").count())
        .unwrap_or(0);
    assert_eq!(ev30, 1, "{occ}");
}

/// An all-day event is a date on the user's calendar, whatever their zone.
#[test]
fn all_day_events_belong_to_their_day_in_every_zone() {
    let home = Home::new();
    let f = write(
        &home,
        "allday.ics",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:day\r\n\
         DTSTAMP:20250101T000000Z\r\nSUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20261202\r\n\
         DTEND;VALUE=DATE:20261203\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    home.run(&["import", &f]);
    for tz in ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York"] {
        let uids = |from: &str, to: &str| -> Vec<String> {
            let (_, out, _) = home.run_env(
                &["list", "events", "--from", from, "--to", to, "--json"],
                &[("TZ", tz)],
            );
            let v: serde_json::Value = serde_json::from_str(&out).expect("json");
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e["uid"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(uids("2026-12-02", "2026-12-03"), ["day"], "{tz}");
        assert!(
            uids("2026-12-01", "2026-12-02").is_empty(),
            "{tz}: day before"
        );
        assert!(
            uids("2026-12-03", "2026-12-04").is_empty(),
            "{tz}: day after"
        );
    }
}

/// A custom VTIMEZONE whose rules end with a UTC UNTIL keeps its last transition.
#[test]
fn custom_zone_rules_ending_with_utc_until_keep_their_last_transition() {
    let home = Home::new();
    let f = write(
        &home,
        "custz.ics",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:My Europe Zone\r\n\
         BEGIN:STANDARD\r\nDTSTART:19961027T030000\r\n\
         RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;UNTIL=20251026T010000Z\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n\
         BEGIN:DAYLIGHT\r\nDTSTART:19810329T020000\r\n\
         RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20250330T010000Z\r\n\
         TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:summer\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:s\r\n\
         DTSTART;TZID=My Europe Zone:20250615T120000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    home.run(&["import", &f]);
    let v = home.list("events", &[]);
    assert_eq!(v[0]["start"], "2025-06-15T10:00:00Z", "{v:?}");
}

#[test]
fn an_item_without_uid_can_be_edited() {
    let home = Home::new();
    let f = write(
        &home,
        "nouid.vcf",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Uid Person\r\nEND:VCARD\r\n",
    );
    home.run(&["import", &f]);
    let uid = home.list("contacts", &[])[0]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let script = common::write_script(&home, "ed.sh", "sed -i 's/Person/Persona/' \"$1\"\n");
    let (code, _, err) = home.run_env(
        &["edit", &uid],
        &[("EDITOR", script.to_str().unwrap_or_default())],
    );
    assert_eq!(code, 0, "{err}");
    let c = home.list("contacts", &[]);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["full_name"], "No Uid Persona");
    assert_eq!(c[0]["uid"], uid.as_str());
}

#[test]
fn export_all_twice_writes_the_same_files() {
    let home = Home::new();
    let f = common::fixture("apple_grouped.vcf");
    home.run(&["import", f.to_str().unwrap_or_default()]);
    let dir = home.root().join("vdir");
    let d = dir.to_str().unwrap_or_default();
    home.ok(&["export", "--all", d]);
    let first = common::walk(&dir).len();
    home.ok(&["export", "--all", d]);
    assert_eq!(common::walk(&dir).len(), first);
    assert_eq!(first, 2);
}

/// Two items that give one TZID different rules (as Outlook's "Customized Time Zone" does)
/// survive a combined export: the second zone is renamed, no event moves.
#[test]
fn clashing_custom_tzids_are_renamed_on_export_and_no_event_moves() {
    let home = Home::new();
    let cal = |uid: &str, offset: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\n\
             TZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n\
             TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
             BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:{uid}\r\n\
             DTSTART;TZID=Customized Time Zone:20261201T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    let a = write(&home, "a.ics", &cal("tokyo", "+0900"));
    let b = write(&home, "b.ics", &cal("newyork", "-0500"));
    home.run(&["import", &a, &b]);
    let starts = |h: &Home| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = h
            .list("events", &[])
            .iter()
            .map(|e| {
                (
                    e["uid"].as_str().unwrap_or_default().to_string(),
                    e["start"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = starts(&home);
    assert_eq!(
        before,
        [
            ("newyork".to_string(), "2026-12-01T15:00:00Z".to_string()),
            ("tokyo".to_string(), "2026-12-01T01:00:00Z".to_string())
        ]
    );
    let out = home.root().join("all.ics");
    home.ok(&["export", "--calendar", out.to_str().unwrap_or_default()]);
    let again = Home::new();
    again.run(&["import", out.to_str().unwrap_or_default()]);
    assert_eq!(starts(&again), before);
}

/// One UID in two VCALENDAR blocks of a file (the series, then a moved occurrence): one item
/// with both parts; importing it again changes nothing.
#[test]
fn one_uid_across_calendar_blocks_is_one_item() {
    let home = Home::new();
    let f = write(
        &home,
        "twocal.ics",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:series1\r\n\
         DTSTART:20261130T090000Z\r\nDTEND:20261130T100000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\n\
         SUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:series1\r\n\
         RECURRENCE-ID:20261202T090000Z\r\nDTSTART:20261202T110000Z\r\nDTEND:20261202T120000Z\r\n\
         SUMMARY:Standup moved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let (code, out, err) = home.run(&["import", "--json", &f]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"added\":1") && out.contains("\"updated\":0"),
        "{out}"
    );
    let (_, out, _) = home.run(&["import", "--json", &f]);
    assert!(
        out.contains("\"unchanged\":1") && out.contains("\"updated\":0"),
        "{out}"
    );
    let (_, out, _) = home.run(&[
        "list",
        "events",
        "--from",
        "2026-11-30",
        "--to",
        "2026-12-06",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let summaries: Vec<&str> = v
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["summary"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(summaries.len(), 5, "{v}");
    assert_eq!(summaries[2], "Standup moved", "{v}");
}

/// A vCard 2.1 AGENT holds a whole card inside the card: the outer card keeps every line.
#[test]
fn a_card_embedded_in_agent_loses_nothing() {
    let home = Home::new();
    let text = "BEGIN:VCARD\r\nVERSION:2.1\r\nUID:ag1\r\nFN:Boss\r\nAGENT:\r\nBEGIN:VCARD\r\n\
                VERSION:2.1\r\nFN:Secretary\r\nEND:VCARD\r\nTEL:123\r\nEND:VCARD\r\n";
    let f = write(&home, "agent.vcf", text);
    let (_, _, err) = home.run(&["import", &f]);
    assert!(!err.contains("outside any BEGIN/END"), "{err}");
    let (code, out, _) = home.run(&["history", "ag1", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["text"], text);
}
