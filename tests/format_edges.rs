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
