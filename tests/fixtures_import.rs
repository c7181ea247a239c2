//! Import / list / export tests driven by tests/fixtures/expectations.json, run against the real
//! binary on a temporary data dir.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// helpers

fn file_exp(name: &str) -> Value {
    let exp = expectations();
    let f = exp["files"][name].clone();
    assert!(f.is_object(), "expectations.json has no entry for {name}");
    f
}

fn arr(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn kind_list(kind: &str) -> &'static str {
    match kind {
        "contact" => "contacts",
        "event" => "events",
        "todo" => "todos",
        other => panic!("unknown kind {other}"),
    }
}

fn flags_of(item: &Value) -> Vec<String> {
    arr(&item["flags"])
        .iter()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect()
}

/// Number of items a fixture file holds (well-formed + malformed).
fn items_in_file(f: &Value) -> usize {
    f["total_items_kept"]
        .as_u64()
        .map(|n| n as usize)
        .unwrap_or_else(|| arr(&f["items"]).len() + arr(&f["malformed"]).len())
}

fn malformed_uids(f: &Value) -> BTreeSet<String> {
    arr(&f["malformed"])
        .iter()
        .map(|m| m["uid"].as_str().expect("uid").to_string())
        .collect()
}

/// Import one file with `--json`, check the exit code and the summary's shape; return the summary.
fn import_json(home: &Home, path: &str, expected_code: i32) -> (Value, String) {
    let (code, out, err) = home.run(&["import", "--json", path]);
    assert_eq!(
        code, expected_code,
        "import {path}: exit code\nstdout: {out}\nstderr: {err}"
    );
    let summary = parse_json(&out, &["import", "--json", path]);
    for key in ["added", "updated", "unchanged", "flagged", "errors"] {
        assert!(
            summary[key].is_u64(),
            "import summary lacks numeric {key:?}: {summary}"
        );
    }
    (summary, err)
}

/// The keyword a report of this malformation must mention.
fn reason_keywords(reason: &str) -> Vec<&'static str> {
    if reason.contains("END:VCARD") {
        vec!["END:VCARD"]
    } else if reason.contains("END:VEVENT") {
        vec!["END:VEVENT"]
    } else if reason.starts_with("DTSTART") {
        vec!["DTSTART"]
    } else if reason.contains("':'") {
        vec!["colon", "':'", "\":\""]
    } else {
        panic!("no keyword known for reason {reason:?}")
    }
}

fn occurrence_view(o: &Value) -> Value {
    json!({
        "uid": o["uid"],
        "start": o["start"],
        "end": o["end"],
        "all_day": o["all_day"],
        "summary": o["summary"],
    })
}

fn sort_occ(v: &mut [Value]) {
    v.sort_by(|a, b| {
        let ka = (
            a["start"].as_str().unwrap_or("").to_string(),
            a["uid"].as_str().unwrap_or("").to_string(),
        );
        let kb = (
            b["start"].as_str().unwrap_or("").to_string(),
            b["uid"].as_str().unwrap_or("").to_string(),
        );
        ka.cmp(&kb)
    });
}

/// Everything the expectations say about one fixture, checked on a fresh data dir.
fn check_fixture(name: &str) {
    let f = file_exp(name);
    let home = Home::new();
    let path = fixture(name);
    let path = path.to_str().expect("utf-8 path");
    let expected_code = f["expected_exit_code_on_import"].as_i64().unwrap_or(0) as i32;
    let (summary, stderr) = import_json(&home, path, expected_code);

    let n_items = items_in_file(&f);
    let malformed = arr(&f["malformed"]);
    assert_eq!(
        summary["added"],
        json!(n_items),
        "{name}: every item is added exactly once: {summary}"
    );
    assert_eq!(
        summary["flagged"],
        json!(malformed.len()),
        "{name}: flagged count: {summary}"
    );

    let contacts = home.list("contacts", &[]);
    let events = home.list("events", &[]);
    let todos = home.list("todos", &[]);
    assert_eq!(
        contacts.len() + events.len() + todos.len(),
        n_items,
        "{name}: every item (good or malformed) is kept, once\ncontacts: {contacts:?}\nevents: {events:?}\ntodos: {todos:?}"
    );
    let lists: BTreeMap<&str, &Vec<Value>> =
        [("contact", &contacts), ("event", &events), ("todo", &todos)]
            .into_iter()
            .collect();

    // Well-formed items.
    for item in arr(&f["items"]) {
        let uid = item["uid"].as_str().expect("uid");
        let kind = item["kind"].as_str().expect("kind");
        let list = lists[kind];
        let n = list.iter().filter(|v| v["uid"] == uid).count();
        assert_eq!(
            n, 1,
            "{name}: {kind} {uid} must be listed exactly once (one item per UID)"
        );
        let got = by_uid(list, uid).expect("listed");
        assert!(
            !flags_of(got).iter().any(|f| f == "unparsable"),
            "{name}: well-formed {uid} must not be flagged: {got}"
        );
        match kind {
            "contact" => {
                for key in ["full_name", "emails", "phones", "org"] {
                    assert_eq!(
                        got[key], item[key],
                        "{name}: contact {uid}: {key}\nlisted: {got}"
                    );
                }
            }
            "event" => {
                assert_eq!(
                    got["summary"], item["summary"],
                    "{name}: event {uid}: summary\nlisted: {got}"
                );
                if let Some(all_day) = item.get("all_day") {
                    assert_eq!(
                        &got["all_day"], all_day,
                        "{name}: event {uid}: all_day\nlisted: {got}"
                    );
                }
                if let Some(loc) = item.get("location") {
                    assert_eq!(
                        &got["location"], loc,
                        "{name}: event {uid}: location\nlisted: {got}"
                    );
                }
                if let Some(rrule) = item.get("rrule") {
                    assert_eq!(
                        &got["rrule"], rrule,
                        "{name}: event {uid}: rrule\nlisted: {got}"
                    );
                }
            }
            "todo" => {
                for key in [
                    "summary",
                    "due",
                    "priority",
                    "status",
                    "completed",
                    "parent",
                ] {
                    assert_eq!(
                        got[key], item[key],
                        "{name}: todo {uid}: {key}\nlisted: {got}"
                    );
                }
            }
            other => panic!("unexpected kind {other}"),
        }
    }

    // Malformed items: kept, flagged, reported on stderr with file, line and reason.
    let file_name = name;
    for m in &malformed {
        let uid = m["uid"].as_str().expect("uid");
        let kind = m["kind"].as_str().expect("kind");
        let list = lists[kind];
        let got = by_uid(list, uid).unwrap_or_else(|| {
            panic!(
                "{name}: malformed {kind} {uid} must be kept (list {})",
                kind_list(kind)
            )
        });
        assert!(
            flags_of(got).iter().any(|f| f == "unparsable"),
            "{name}: malformed {uid} must carry the 'unparsable' flag: {got}"
        );
        let begin = m["begin_line"].as_u64().expect("begin_line");
        let problem = m["problem_line"].as_u64().expect("problem_line");
        let reason = m["reason"].as_str().expect("reason");
        let keywords = reason_keywords(reason);
        let reported = stderr.lines().any(|line| {
            let names_line = [begin, problem].iter().any(|n| {
                line.contains(&format!(":{n}:"))
                    || line.contains(&format!(":{n} "))
                    || line.contains(&format!("line {n}"))
            });
            line.contains(file_name)
                && line.contains(uid)
                && names_line
                && keywords
                    .iter()
                    .any(|k| line.to_lowercase().contains(&k.to_lowercase()))
        });
        assert!(
            reported,
            "{name}: stderr must name the file, {uid}, line {begin} or {problem} and the reason ({reason:?}); stderr was:\n{stderr}"
        );
    }
    if malformed.is_empty() {
        assert_eq!(expected_code, 0);
    }

    // Query windows: exactly the expected occurrences.
    for q in arr(&f["queries"]) {
        let from = q["from"].as_str().expect("from");
        let to = q["to"].as_str().expect("to");
        let got = home.list("events", &["--from", from, "--to", to]);
        let expected = arr(&q["occurrences"]);
        let mut want: Vec<Value> = expected.iter().map(occurrence_view).collect();
        let mut have: Vec<Value> = got.iter().map(occurrence_view).collect();
        sort_occ(&mut want);
        sort_occ(&mut have);
        assert_eq!(
            have,
            want,
            "{name}: occurrences in [{from}, {to}) ({})\nfull output: {}",
            q["note"].as_str().unwrap_or(""),
            Value::Array(got.clone())
        );
        // Where the expectation names a location (an override's), the occurrence carries it.
        for e in expected.iter().filter(|e| e.get("location").is_some()) {
            let g = got
                .iter()
                .find(|g| g["uid"] == e["uid"] && g["start"] == e["start"])
                .expect("occurrence present (checked above)");
            assert_eq!(
                g["location"], e["location"],
                "{name}: location of occurrence {}",
                e["start"]
            );
        }
    }
}

macro_rules! fixture_test {
    ($fn_name:ident, $file:expr) => {
        #[test]
        fn $fn_name() {
            check_fixture($file);
        }
    };
}

const FIXTURES: &[&str] = &[
    "apple_grouped.vcf",
    "broken.ics",
    "broken.vcf",
    "custom_vtimezone.ics",
    "dst_recurring.ics",
    "fold_multibyte.ics",
    "fold_multibyte.vcf",
    "google_lf.ics",
    "nextcloud_subtasks.ics",
    "outlook_windows_tz.ics",
    "photos.vcf",
    "vcard21_qp.vcf",
];

fixture_test!(
    apple_grouped_vcf_imports_grouped_contacts_as_expected,
    "apple_grouped.vcf"
);
fixture_test!(
    broken_ics_keeps_every_event_flags_the_malformed_and_exits_3,
    "broken.ics"
);
fixture_test!(
    broken_vcf_keeps_every_card_flags_the_malformed_and_exits_3,
    "broken.vcf"
);
fixture_test!(
    custom_vtimezone_ics_uses_its_own_rules_for_times,
    "custom_vtimezone.ics"
);
fixture_test!(
    dst_recurring_ics_expands_across_us_dst_with_rdate,
    "dst_recurring.ics"
);
fixture_test!(
    fold_multibyte_ics_unfolds_inside_utf8_characters,
    "fold_multibyte.ics"
);
fixture_test!(
    fold_multibyte_vcf_unfolds_inside_utf8_characters,
    "fold_multibyte.vcf"
);
fixture_test!(
    google_lf_ics_handles_all_day_floating_utc_and_duration,
    "google_lf.ics"
);
fixture_test!(
    nextcloud_subtasks_ics_imports_todos_with_parents,
    "nextcloud_subtasks.ics"
);
fixture_test!(
    outlook_windows_tz_ics_expands_with_exdate_and_override,
    "outlook_windows_tz.ics"
);
fixture_test!(photos_vcf_imports_contacts_with_photos, "photos.vcf");
fixture_test!(
    vcard21_qp_vcf_decodes_quoted_printable_and_charsets,
    "vcard21_qp.vcf"
);

#[test]
fn every_fixture_in_expectations_has_an_import_test() {
    let exp = expectations();
    let listed: BTreeSet<&str> = exp["files"]
        .as_object()
        .expect("files")
        .keys()
        .map(String::as_str)
        .collect();
    let tested: BTreeSet<&str> = FIXTURES.iter().copied().collect();
    assert_eq!(
        listed, tested,
        "fixture tests and expectations.json disagree"
    );
    for name in FIXTURES {
        assert!(fixture(name).exists(), "fixture {name} is missing");
    }
}

// ---------------------------------------------------------------------------------------------
// re-import, revisions

fn snapshot(home: &Home) -> Vec<Vec<Value>> {
    vec![
        home.list("contacts", &[]),
        home.list("events", &[]),
        home.list("todos", &[]),
        home.list("contacts", &["--trash"]),
        home.list("events", &["--trash"]),
        home.list("todos", &["--trash"]),
    ]
}

#[test]
fn reimporting_the_same_file_changes_nothing_and_creates_no_duplicate() {
    let exp = expectations();
    let home = Home::new();
    for name in FIXTURES {
        let f = &exp["files"][*name];
        let code = f["expected_exit_code_on_import"].as_i64().unwrap_or(0) as i32;
        import_json(&home, fixture(name).to_str().expect("path"), code);
    }
    let before = snapshot(&home);
    let total: usize = FIXTURES
        .iter()
        .map(|n| items_in_file(&exp["files"][*n]))
        .sum();
    assert_eq!(
        before[0].len() + before[1].len() + before[2].len(),
        total,
        "items after the first import"
    );

    for name in FIXTURES {
        let path = fixture(name);
        let path = path.to_str().expect("path");
        let (code, out, err) = home.run(&["import", "--json", path]);
        assert!(
            code == 0 || code == 3,
            "re-import {name}: exit {code}\nstderr: {err}"
        );
        let summary = parse_json(&out, &["import", "--json", path]);
        assert_eq!(
            summary["added"],
            json!(0),
            "re-import {name} must add nothing: {summary}"
        );
        assert_eq!(
            summary["updated"],
            json!(0),
            "re-import {name} must update nothing: {summary}"
        );
    }
    let after = snapshot(&home);
    assert_eq!(
        before, after,
        "re-importing every fixture changed the listed data"
    );

    // No new revisions either.
    for name in FIXTURES {
        for item in arr(&exp["files"][*name]["items"])
            .iter()
            .chain(arr(&exp["files"][*name]["malformed"]).iter())
        {
            let uid = item["uid"].as_str().expect("uid");
            let h = home.history(uid);
            assert_eq!(
                h.len(),
                1,
                "{name}: {uid} must still have one revision after re-import: {h:?}"
            );
        }
    }
}

fn check_history_entry(e: &Value, rev: u64) {
    assert_eq!(e["rev"], json!(rev), "history entry rev: {e}");
    assert!(
        e["time"].as_str().is_some_and(|t| !t.is_empty()),
        "history entry time: {e}"
    );
    assert!(
        e["origin"].as_str().is_some_and(|t| !t.is_empty()),
        "history entry origin: {e}"
    );
    assert!(
        e["text"].as_str().is_some_and(|t| !t.is_empty()),
        "history entry text: {e}"
    );
}

#[test]
fn changed_todo_in_reimported_file_becomes_a_new_revision() {
    let home = Home::new();
    let orig = fixture_bytes("nextcloud_subtasks.ics");
    let orig_text = String::from_utf8(orig.clone()).expect("utf-8");
    assert!(orig_text.contains("SUMMARY:Pack the kitchen\r\n"));
    let changed = orig_text.replace(
        "SUMMARY:Pack the kitchen\r\n",
        "SUMMARY:Pack the kitchen and the cellar\r\n",
    );
    let copy = home.root().join("nextcloud_changed.ics");
    std::fs::write(&copy, changed).expect("write copy");

    import_json(
        &home,
        fixture("nextcloud_subtasks.ics").to_str().expect("path"),
        0,
    );
    let (summary, _) = import_json(&home, copy.to_str().expect("path"), 0);
    assert_eq!(summary["added"], json!(0), "{summary}");
    assert_eq!(summary["updated"], json!(1), "{summary}");
    assert_eq!(summary["unchanged"], json!(2), "{summary}");

    let uid = "d5a9c3e4-6f7b-4c8d-8e1f-2a3b4c5d6e7f";
    let todos = home.list("todos", &[]);
    assert_eq!(todos.len(), 3, "no duplicate: {todos:?}");
    assert_eq!(
        by_uid(&todos, uid).expect("listed")["summary"],
        "Pack the kitchen and the cellar"
    );

    let h = home.history(uid);
    assert_eq!(h.len(), 2, "two revisions: {h:?}");
    check_history_entry(&h[0], 1);
    check_history_entry(&h[1], 2);
    assert!(h[0]["text"]
        .as_str()
        .expect("text")
        .contains("SUMMARY:Pack the kitchen\r\n"));
    assert!(h[1]["text"]
        .as_str()
        .expect("text")
        .contains("SUMMARY:Pack the kitchen and the cellar\r\n"));
    // Untouched siblings keep a single revision.
    assert_eq!(
        home.history("b3e7a1c2-4d5f-4a6b-8c9d-0e1f2a3b4c5d").len(),
        1
    );
}

#[test]
fn changed_card_in_reimported_file_becomes_a_new_revision() {
    let home = Home::new();
    let orig_text = String::from_utf8(fixture_bytes("apple_grouped.vcf")).expect("utf-8");
    assert!(orig_text.contains("FN:Sofia Lindqvist\r\n"));
    let changed = orig_text.replace("FN:Sofia Lindqvist\r\n", "FN:Sofia M. Lindqvist\r\n");
    let copy = home.root().join("apple_changed.vcf");
    std::fs::write(&copy, changed).expect("write copy");

    import_json(
        &home,
        fixture("apple_grouped.vcf").to_str().expect("path"),
        0,
    );
    let (summary, _) = import_json(&home, copy.to_str().expect("path"), 0);
    assert_eq!(
        (summary["added"].clone(), summary["updated"].clone()),
        (json!(0), json!(1)),
        "{summary}"
    );

    let uid = "6B29FC40-CA47-1067-B31D-00DD010662DA";
    let contacts = home.list("contacts", &[]);
    assert_eq!(contacts.len(), 2, "no duplicate: {contacts:?}");
    assert_eq!(
        by_uid(&contacts, uid).expect("listed")["full_name"],
        "Sofia M. Lindqvist"
    );
    let h = home.history(uid);
    assert_eq!(h.len(), 2, "two revisions: {h:?}");
    check_history_entry(&h[0], 1);
    check_history_entry(&h[1], 2);
    assert!(h[1]["text"]
        .as_str()
        .expect("text")
        .contains("FN:Sofia M. Lindqvist"));
}

// ---------------------------------------------------------------------------------------------
// search

#[test]
fn contact_query_matches_without_diacritics() {
    let home = Home::new();
    import_json(&home, fixture("vcard21_qp.vcf").to_str().expect("path"), 0);
    import_json(
        &home,
        fixture("apple_grouped.vcf").to_str().expect("path"),
        0,
    );

    let uids = |q: &str| -> Vec<String> {
        home.list("contacts", &["--query", q])
            .iter()
            .map(|c| c["uid"].as_str().expect("uid").to_string())
            .collect()
    };
    assert_eq!(
        uids("kosci"),
        vec!["nokia-6230i-0001-kosciolkowska"],
        "kosci finds Kościółkowska only"
    );
    assert_eq!(
        uids("muller"),
        vec!["nokia-6230i-0002-mueller"],
        "muller finds Müller only"
    );
}

// ---------------------------------------------------------------------------------------------
// export

fn import_all(home: &Home, names: &[&str]) {
    let exp = expectations();
    for name in names {
        let code = exp["files"][*name]["expected_exit_code_on_import"]
            .as_i64()
            .unwrap_or(0) as i32;
        import_json(home, fixture(name).to_str().expect("path"), code);
    }
}

fn files_with_ext(ext: &str) -> Vec<&'static str> {
    FIXTURES
        .iter()
        .copied()
        .filter(|n| n.ends_with(ext))
        .collect()
}

/// The well-formed fixtures of a type: the broken files have their own export test.
fn sound_files_with_ext(ext: &str) -> Vec<&'static str> {
    files_with_ext(ext)
        .into_iter()
        .filter(|n| !n.starts_with("broken."))
        .collect()
}

/// Every original `component` block (of well-formed items) must appear verbatim in `out`.
fn assert_blocks_verbatim(names: &[&str], component: &str, out: &[u8], what: &str) {
    let exp = expectations();
    let mut checked = 0;
    for name in names {
        let bad = malformed_uids(&exp["files"][*name]);
        for block in blocks(&fixture_bytes(name), component) {
            let uid = block_uid(&block).unwrap_or_default();
            if bad.contains(&uid) {
                continue;
            }
            assert!(
                contains_bytes(out, &block),
                "{what}: the {component} {uid} from {name} is not byte-identical in the export.\nexpected block:\n{:?}",
                String::from_utf8_lossy(&block)
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no {component} block checked");
}

#[test]
fn export_contacts_writes_every_original_card_byte_identical() {
    let home = Home::new();
    let vcfs = sound_files_with_ext(".vcf");
    import_all(&home, &vcfs);
    let out = home.root().join("out.vcf");
    home.ok(&["export", "--contacts", out.to_str().expect("path")]);
    let bytes = std::fs::read(&out).expect("read out.vcf");
    assert_blocks_verbatim(&vcfs, "VCARD", &bytes, "export --contacts");
}

#[test]
fn export_calendar_writes_every_original_vevent_byte_identical() {
    let home = Home::new();
    let icss = sound_files_with_ext(".ics");
    import_all(&home, &icss);
    let out = home.root().join("out.ics");
    home.ok(&["export", "--calendar", out.to_str().expect("path")]);
    let bytes = std::fs::read(&out).expect("read out.ics");
    assert_blocks_verbatim(&icss, "VEVENT", &bytes, "export --calendar");
}

#[test]
fn export_todos_writes_every_original_vtodo_byte_identical() {
    let home = Home::new();
    import_all(&home, &["nextcloud_subtasks.ics"]);
    let out = home.root().join("todos.ics");
    home.ok(&["export", "--todos", out.to_str().expect("path")]);
    let bytes = std::fs::read(&out).expect("read todos.ics");
    assert_blocks_verbatim(
        &["nextcloud_subtasks.ics"],
        "VTODO",
        &bytes,
        "export --todos",
    );
}

/// TZID parameter values used on content lines (outside VTIMEZONE), and TZIDs defined by VTIMEZONEs.
fn tzids_used_and_defined(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let text = unfold(text);
    let mut used = BTreeSet::new();
    let mut defined = BTreeSet::new();
    let mut in_tz = false;
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        if line.eq_ignore_ascii_case("BEGIN:VTIMEZONE") {
            in_tz = true;
            continue;
        }
        if line.eq_ignore_ascii_case("END:VTIMEZONE") {
            in_tz = false;
            continue;
        }
        if in_tz {
            if let Some(v) = line.strip_prefix("TZID:") {
                defined.insert(v.to_string());
            }
            continue;
        }
        let mut rest = line;
        while let Some(pos) = rest.find(";TZID=") {
            let after = &rest[pos + 6..];
            let value = if let Some(q) = after.strip_prefix('"') {
                q.split('"').next().unwrap_or("").to_string()
            } else {
                after.split([';', ':']).next().unwrap_or("").to_string()
            };
            used.insert(value);
            rest = after;
        }
    }
    (used, defined)
}

#[test]
fn export_calendar_has_a_vtimezone_for_every_tzid_it_uses() {
    let home = Home::new();
    let icss = sound_files_with_ext(".ics");
    import_all(&home, &icss);
    let out = home.root().join("out.ics");
    home.ok(&["export", "--calendar", out.to_str().expect("path")]);
    let text = unfold_bytes(&std::fs::read(&out).expect("read out.ics"));
    assert!(
        !text.contains('\u{FFFD}'),
        "unfolded export must be valid UTF-8"
    );
    let (used, defined) = tzids_used_and_defined(&text);
    for must in [
        "W. Europe Standard Time",
        "Custom/Holdfast Test Zone",
        "America/New_York",
    ] {
        assert!(
            used.contains(must),
            "export should use TZID {must:?}; used: {used:?}"
        );
    }
    let missing: Vec<&String> = used.difference(&defined).collect();
    assert!(
        missing.is_empty(),
        "TZIDs used without a VTIMEZONE in out.ics: {missing:?} (defined: {defined:?})"
    );
}

#[test]
fn export_all_writes_single_item_fixtures_byte_identical() {
    let exp = expectations();
    let home = Home::new();
    import_all(&home, FIXTURES);
    let dir = home.root().join("all");
    home.ok(&["export", "--all", dir.to_str().expect("path")]);
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = walk(&dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).expect("read");
            (p, b)
        })
        .collect();

    let singles: Vec<&str> = FIXTURES
        .iter()
        .copied()
        .filter(|n| items_in_file(&exp["files"][*n]) == 1)
        .collect();
    assert!(
        singles.iter().any(|n| n.ends_with(".ics")),
        "expected single-item .ics fixtures: {singles:?}"
    );
    for name in singles {
        let uid = arr(&exp["files"][name]["items"])[0]["uid"]
            .as_str()
            .expect("uid")
            .to_string();
        let needle = format!("UID:{uid}");
        let holders: Vec<&(std::path::PathBuf, Vec<u8>)> = files
            .iter()
            .filter(|(_, b)| unfold_bytes(b).contains(&needle))
            .collect();
        assert_eq!(
            holders.len(),
            1,
            "{name}: exactly one exported file must hold {uid}: {:?}",
            holders.iter().map(|h| &h.0).collect::<Vec<_>>()
        );
        let (p, bytes) = holders[0];
        assert!(
            *bytes == fixture_bytes(name),
            "{name}: {} is not byte-identical to the source file",
            p.display()
        );
    }
}

#[test]
fn export_vcard_40_is_read_back_with_same_uids_and_names() {
    let home = Home::new();
    let good = [
        "apple_grouped.vcf",
        "photos.vcf",
        "vcard21_qp.vcf",
        "fold_multibyte.vcf",
    ];
    import_all(&home, &good);
    let original: BTreeMap<String, Value> = home
        .list("contacts", &[])
        .into_iter()
        .map(|c| {
            (
                c["uid"].as_str().expect("uid").to_string(),
                c["full_name"].clone(),
            )
        })
        .collect();
    assert_eq!(original.len(), 8);

    let out = home.root().join("v4.vcf");
    home.ok(&[
        "export",
        "--contacts",
        out.to_str().expect("path"),
        "--vcard-version",
        "4.0",
    ]);
    let bytes = std::fs::read(&out).expect("read v4.vcf");
    let cards = blocks(&bytes, "VCARD");
    assert_eq!(cards.len(), 8, "one card per contact");
    for card in &cards {
        let text = unfold_bytes(card);
        let versions: Vec<&str> = text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| l.starts_with("VERSION:"))
            .collect();
        assert_eq!(
            versions,
            vec!["VERSION:4.0"],
            "card must be vCard 4.0:\n{text}"
        );
    }

    let other = Home::new();
    let (summary, err) = import_json(&other, out.to_str().expect("path"), 0);
    assert_eq!(summary["added"], json!(8), "{summary}\n{err}");
    let back: BTreeMap<String, Value> = other
        .list("contacts", &[])
        .into_iter()
        .map(|c| {
            assert!(flags_of(&c).is_empty(), "re-imported 4.0 card flagged: {c}");
            (
                c["uid"].as_str().expect("uid").to_string(),
                c["full_name"].clone(),
            )
        })
        .collect();
    assert_eq!(back, original, "vCard 4.0 round trip: UIDs and names");
}

/// An item whose component has no END would swallow whatever follows it in a shared file: a
/// combined export leaves it out, says so by UID, and exits 3; the rest stays readable.
#[test]
fn combined_export_leaves_out_unterminated_items_and_names_them() {
    let home = Home::new();
    import_all(&home, &["broken.vcf", "broken.ics"]);
    let vcf = home.root().join("b.vcf");
    let ics = home.root().join("b.ics");
    let (code, _, err) = home.run(&[
        "export",
        "--contacts",
        vcf.to_str().expect("path"),
        "--calendar",
        ics.to_str().expect("path"),
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("broken-vcf-B-missing-end"), "{err}");
    assert!(err.contains("broken-ics-3-missing-end"), "{err}");
    // Our own reader takes the export back without a complaint, minus the two left out.
    let again = Home::new();
    let (code, _, err) = again.run(&[
        "import",
        vcf.to_str().expect("path"),
        ics.to_str().expect("path"),
    ]);
    assert!(code == 0 || code == 3, "{err}");
    assert!(!err.contains("END:VCALENDAR where"), "{err}");
    let contacts: Vec<String> = again
        .list("contacts", &[])
        .iter()
        .filter_map(|c| c["uid"].as_str().map(str::to_string))
        .collect();
    assert!(
        contacts.contains(&"broken-vcf-A-good".to_string()),
        "{contacts:?}"
    );
    assert!(
        contacts.contains(&"broken-vcf-C-good".to_string()),
        "{contacts:?}"
    );
    assert!(!contacts.contains(&"broken-vcf-B-missing-end".to_string()));
    let events: Vec<String> = again
        .list("events", &[])
        .iter()
        .filter_map(|c| c["uid"].as_str().map(str::to_string))
        .collect();
    assert!(
        events.contains(&"broken-ics-4-good".to_string()),
        "{events:?}"
    );
    assert!(!events.contains(&"broken-ics-3-missing-end".to_string()));
}
