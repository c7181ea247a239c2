//! Behaviour of the headless CLI (DESIGN §6), driven through the real binary on a temp data dir.

mod common;

use common::*;
use serde_json::{json, Value};

fn is_uid_line(out: &str) -> bool {
    let t = out.trim();
    !t.is_empty() && !t.contains(char::is_whitespace) && out.trim_end().lines().count() == 1
}

// ---------------------------------------------------------------------------------------------
// new / list

#[test]
fn new_contact_prints_a_uid_that_list_shows() {
    let home = Home::new();
    let (code, out, err) = home.run(&[
        "new",
        "contact",
        "Ada Lovelace",
        "--email",
        "ada@example.org",
        "--email",
        "ada@work.example",
        "--phone",
        "+44 20 7946 0000",
        "--org",
        "Analytical Engines Ltd",
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        is_uid_line(&out),
        "`new` must print just the UID, got {out:?}"
    );
    let uid = out.trim();
    let contacts = home.list("contacts", &[]);
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    let c = by_uid(&contacts, uid).unwrap_or_else(|| panic!("{uid} not listed: {contacts:?}"));
    assert_eq!(c["full_name"], "Ada Lovelace");
    assert_eq!(c["emails"], json!(["ada@example.org", "ada@work.example"]));
    assert_eq!(c["phones"], json!(["+44 20 7946 0000"]));
    assert_eq!(c["org"], "Analytical Engines Ltd");
    assert_eq!(c["flags"], json!([]));
    assert!(c["collection"].is_string(), "{c}");
}

#[test]
fn new_event_prints_a_uid_that_list_shows() {
    let home = Home::new();
    let (code, out, err) = home.run(&[
        "new",
        "event",
        "Dentist",
        "--start",
        "2026-12-03 14:00",
        "--duration",
        "1h",
        "--location",
        "Main St 1",
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        is_uid_line(&out),
        "`new` must print just the UID, got {out:?}"
    );
    let uid = out.trim();
    let events = home.list("events", &[]);
    let e = by_uid(&events, uid).unwrap_or_else(|| panic!("{uid} not listed: {events:?}"));
    assert_eq!(e["summary"], "Dentist");
    // TZ=UTC and no --tz: local wall time is UTC.
    assert_eq!(e["start"], "2026-12-03T14:00:00Z");
    assert_eq!(e["end"], "2026-12-03T15:00:00Z");
    assert_eq!(e["all_day"], false);
    assert_eq!(e["location"], "Main St 1");
    let window = home.list("events", &["--from", "2026-12-01", "--to", "2026-12-08"]);
    assert_eq!(
        window.iter().filter(|o| o["uid"] == uid).count(),
        1,
        "{window:?}"
    );
}

#[test]
fn new_todo_prints_a_uid_that_list_shows() {
    let home = Home::new();
    let (code, out, err) = home.run(&[
        "new",
        "todo",
        "File taxes",
        "--due",
        "2026-12-31",
        "--priority",
        "2",
    ]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        is_uid_line(&out),
        "`new` must print just the UID, got {out:?}"
    );
    let uid = out.trim();
    let todos = home.list("todos", &[]);
    let t = by_uid(&todos, uid).unwrap_or_else(|| panic!("{uid} not listed: {todos:?}"));
    assert_eq!(t["summary"], "File taxes");
    assert_eq!(t["due"], "2026-12-31");
    assert_eq!(t["priority"], 2);
    assert_eq!(t["status"], "NEEDS-ACTION");
    assert_eq!(t["completed"], Value::Null);
    assert_eq!(t["parent"], Value::Null);
}

#[test]
fn weekly_event_in_berlin_has_three_occurrences_at_0900z() {
    let home = Home::new();
    let uid = home.ok(&[
        "new",
        "event",
        "Standup",
        "--start",
        "2026-12-01 10:00",
        "--tz",
        "Europe/Berlin",
        "--rrule",
        "FREQ=WEEKLY;COUNT=3",
    ]);
    let occ = home.list("events", &["--from", "2026-11-01", "--to", "2027-01-01"]);
    let starts: Vec<&str> = occ
        .iter()
        .filter(|o| o["uid"] == uid.as_str())
        .map(|o| o["start"].as_str().expect("start"))
        .collect();
    assert_eq!(
        starts,
        vec![
            "2026-12-01T09:00:00Z",
            "2026-12-08T09:00:00Z",
            "2026-12-15T09:00:00Z"
        ],
        "occurrences: {occ:?}"
    );
    assert_eq!(occ.len(), 3, "{occ:?}");
    for o in &occ {
        assert_eq!(o["summary"], "Standup");
        assert_eq!(o["all_day"], false);
        assert!(
            o["end"].as_str().expect("end") > o["start"].as_str().expect("start"),
            "{o}"
        );
    }
    // COUNT=3: nothing afterwards.
    let later = home.list("events", &["--from", "2026-12-16", "--to", "2027-03-01"]);
    assert!(later.is_empty(), "{later:?}");
}

#[test]
fn new_todo_with_parent_records_the_parent_uid() {
    let home = Home::new();
    let parent = home.ok(&["new", "todo", "Move house"]);
    let child = home.ok(&["new", "todo", "Book a van", "--parent", &parent]);
    let todos = home.list("todos", &[]);
    assert_eq!(todos.len(), 2);
    assert_eq!(
        by_uid(&todos, &child).expect("child")["parent"],
        json!(parent)
    );
    assert_eq!(
        by_uid(&todos, &parent).expect("parent")["parent"],
        Value::Null
    );
}

#[test]
fn done_marks_the_todo_completed_with_a_timestamp() {
    let home = Home::new();
    let uid = home.ok(&["new", "todo", "Water plants"]);
    let (code, _, err) = home.run(&["done", &uid]);
    assert_eq!(code, 0, "{err}");
    let todos = home.list("todos", &[]);
    let t = by_uid(&todos, &uid).expect("listed");
    assert_eq!(t["status"], "COMPLETED", "{t}");
    let completed = t["completed"]
        .as_str()
        .unwrap_or_else(|| panic!("completed must be set: {t}"));
    assert!(
        completed.ends_with('Z') && completed.len() == 20,
        "completed is RFC 3339 UTC: {completed}"
    );
    assert_eq!(home.history(&uid).len(), 2, "done is a revision");
}

#[test]
fn list_unknown_kind_is_a_usage_error() {
    let home = Home::new();
    let (code, out, err) = home.run(&["list", "nonsense"]);
    assert_eq!(code, 2, "stdout: {out}\nstderr: {err}");
}

// ---------------------------------------------------------------------------------------------
// edit

/// Import `fixture_name`, edit `uid` with a sed script, and check that exactly one line changed
/// (to `new_line`) and every other line of the stored text is byte-identical.
fn edit_changes_only_one_line(
    fixture_name: &str,
    uid: &str,
    sed_expr: &str,
    old_line: &str,
    new_line: &str,
    must_keep: &[&str],
) {
    let home = Home::new();
    home.ok(&["import", fixture(fixture_name).to_str().expect("path")]);
    let before = home.history(uid);
    assert_eq!(before.len(), 1);
    let script = write_script(&home, "editor.sh", &format!("sed -i '{sed_expr}' \"$1\""));
    let (code, out, err) = home.run_env(
        &["edit", uid],
        &[("EDITOR", script.to_str().expect("path"))],
    );
    assert_eq!(code, 0, "edit {uid}: stdout {out}\nstderr {err}");

    let h = home.history(uid);
    assert_eq!(h.len(), 2, "edit saves one new revision: {h:?}");
    let old = h[0]["text"].as_str().expect("text");
    let new = h[1]["text"].as_str().expect("text");
    let old_lines = lines_with_endings(old.as_bytes());
    let new_lines = lines_with_endings(new.as_bytes());
    assert_eq!(
        old_lines.len(),
        new_lines.len(),
        "edit must not add or drop lines:\nold {old:?}\nnew {new:?}"
    );
    let diffs: Vec<usize> = (0..old_lines.len())
        .filter(|i| old_lines[*i] != new_lines[*i])
        .collect();
    assert_eq!(
        diffs.len(),
        1,
        "exactly one line differs; differing lines: {diffs:?}\nold {old:?}\nnew {new:?}"
    );
    let i = diffs[0];
    assert_eq!(
        strip_eol(old_lines[i]),
        old_line.as_bytes(),
        "changed line before"
    );
    assert_eq!(
        strip_eol(new_lines[i]),
        new_line.as_bytes(),
        "changed line after"
    );
    let unfolded = unfold(new);
    for keep in must_keep {
        assert!(unfolded.contains(keep), "edited text lost {keep:?}:\n{new}");
    }
}

#[test]
fn edit_of_apple_card_keeps_groups_labels_and_x_lines_byte_identical() {
    let exp = expectations();
    let keep: Vec<String> = exp["files"]["apple_grouped.vcf"]["items"][0]["extra"]
        ["must_keep_on_edit"]
        .as_array()
        .expect("must_keep")
        .iter()
        .map(|v| v.as_str().expect("str").to_string())
        .collect();
    let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
    edit_changes_only_one_line(
        "apple_grouped.vcf",
        "6B29FC40-CA47-1067-B31D-00DD010662DA",
        "s/^FN:Sofia Lindqvist/FN:Sofia L. Lindqvist/",
        "FN:Sofia Lindqvist",
        "FN:Sofia L. Lindqvist",
        &keep,
    );
}

#[test]
fn edit_of_photo_card_keeps_the_photo_byte_identical() {
    edit_changes_only_one_line(
        "photos.vcf",
        "3D1E5C7A-9B2F-4E60-8C14-7F2A6B9D0E11",
        "s/^FN:Chidi Okafor/FN:Chidi N. Okafor/",
        "FN:Chidi Okafor",
        "FN:Chidi N. Okafor",
        &["PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABsSFBcUERsXFhce"],
    );
}

#[test]
fn edit_of_outlook_event_keeps_attendees_alarms_and_x_lines_byte_identical() {
    let exp = expectations();
    let keep: Vec<String> = exp["files"]["outlook_windows_tz.ics"]["must_keep_on_edit"]
        .as_array()
        .expect("must_keep")
        .iter()
        .map(|v| v.as_str().expect("str").to_string())
        .collect();
    let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
    let uid = "040000008200E00074C5B7101A82E00800000000D0F2C8A5E393DB0100000000000000001000000047A1B2C3D4E5F60718293A4B5C6D7E8F";
    edit_changes_only_one_line(
        "outlook_windows_tz.ics",
        uid,
        "s/:Weekly planning\\r$/:Weekly sync\\r/",
        "SUMMARY;LANGUAGE=en-us:Weekly planning",
        "SUMMARY;LANGUAGE=en-us:Weekly sync",
        &keep,
    );
}

#[test]
fn edit_updates_what_list_shows() {
    let home = Home::new();
    home.ok(&["import", fixture("photos.vcf").to_str().expect("path")]);
    let script = write_script(
        &home,
        "editor.sh",
        "sed -i 's/^FN:Chidi Okafor/FN:Chidi N. Okafor/' \"$1\"",
    );
    let (code, _, err) = home.run_env(
        &["edit", "3D1E5C7A-9B2F-4E60-8C14-7F2A6B9D0E11"],
        &[("EDITOR", script.to_str().expect("path"))],
    );
    assert_eq!(code, 0, "{err}");
    let contacts = home.list("contacts", &[]);
    assert_eq!(
        by_uid(&contacts, "3D1E5C7A-9B2F-4E60-8C14-7F2A6B9D0E11").expect("listed")["full_name"],
        "Chidi N. Okafor"
    );
}

#[test]
fn edit_that_breaks_the_item_exits_3_saves_nothing_and_rescues_the_text() {
    let home = Home::new();
    home.ok(&[
        "import",
        fixture("apple_grouped.vcf").to_str().expect("path"),
    ]);
    let uid = "6B29FC40-CA47-1067-B31D-00DD010662DA";
    let before_hist = home.history(uid);
    let before_list = home.list("contacts", &[]);
    let script = write_script(&home, "breaker.sh", "sed -i '/^END:VCARD/d' \"$1\"");
    let (code, out, err) = home.run_env(
        &["edit", uid],
        &[("EDITOR", script.to_str().expect("path"))],
    );
    assert_eq!(
        code, 3,
        "broken edit must exit 3\nstdout: {out}\nstderr: {err}"
    );
    assert_eq!(home.history(uid), before_hist, "nothing saved");
    assert_eq!(home.list("contacts", &[]), before_list, "nothing changed");

    let rescued = home.data().join("rescued");
    assert!(
        rescued.is_dir(),
        "DATA/rescued/ must exist after a failed edit; stderr: {err}"
    );
    let files = walk(&rescued);
    assert_eq!(files.len(), 1, "one rescued file: {files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("read rescued file");
    assert!(
        text.contains(&format!("UID:{uid}")),
        "rescued text is the user's edit: {text}"
    );
    assert!(
        !text.contains("END:VCARD"),
        "rescued text is the user's (broken) edit: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// trash, history

#[test]
fn delete_moves_to_trash_and_undelete_brings_it_back() {
    let home = Home::new();
    let keep = home.ok(&["new", "contact", "Keeper"]);
    let uid = home.ok(&["new", "contact", "Goner", "--email", "goner@example.org"]);
    let (code, _, err) = home.run(&["delete", &uid]);
    assert_eq!(code, 0, "{err}");
    let live = home.list("contacts", &[]);
    assert!(
        by_uid(&live, &uid).is_none(),
        "deleted item still listed: {live:?}"
    );
    assert!(by_uid(&live, &keep).is_some());
    let trash = home.list("contacts", &["--trash"]);
    let t = by_uid(&trash, &uid).unwrap_or_else(|| panic!("deleted item not in trash: {trash:?}"));
    assert_eq!(t["full_name"], "Goner");
    assert_eq!(t["emails"], json!(["goner@example.org"]));
    assert!(
        by_uid(&trash, &keep).is_none(),
        "live item in trash: {trash:?}"
    );

    let (code, _, err) = home.run(&["undelete", &uid]);
    assert_eq!(code, 0, "{err}");
    let live = home.list("contacts", &[]);
    assert_eq!(by_uid(&live, &uid).expect("back")["full_name"], "Goner");
    assert!(
        by_uid(&home.list("contacts", &["--trash"]), &uid).is_none(),
        "undeleted item still in trash"
    );
}

#[test]
fn revert_restores_an_earlier_revisions_text() {
    let home = Home::new();
    let uid = home.ok(&["new", "todo", "Call the bank"]);
    home.ok(&["done", &uid]);
    let h = home.history(&uid);
    assert_eq!(h.len(), 2);
    let rev1 = h[0]["text"].as_str().expect("text").to_string();

    let (code, _, err) = home.run(&["revert", &uid, "1"]);
    assert_eq!(code, 0, "{err}");
    let h = home.history(&uid);
    assert_eq!(h.len(), 3, "revert is itself a new revision: {h:?}");
    assert_eq!(h[2]["rev"], 3);
    assert_eq!(
        h[2]["text"].as_str().expect("text"),
        rev1,
        "current text is revision 1's"
    );
    let todos = home.list("todos", &[]);
    let t = by_uid(&todos, &uid).expect("listed");
    assert_eq!(t["status"], "NEEDS-ACTION");
    assert_eq!(t["completed"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// backups, permissions, schema

fn backups(home: &Home) -> Vec<std::path::PathBuf> {
    let dir = home.data().join("backups");
    if dir.is_dir() {
        walk(&dir)
    } else {
        Vec::new()
    }
}

#[test]
fn backup_writes_a_0600_snapshot_under_backups() {
    let home = Home::new();
    home.ok(&["new", "contact", "Someone"]);
    assert!(backups(&home).is_empty());
    let (code, _, err) = home.run(&["backup"]);
    assert_eq!(code, 0, "{err}");
    let files = backups(&home);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&files[0]), 0o600, "backup file mode");
    assert!(std::fs::metadata(&files[0]).expect("stat").len() > 0);
}

#[test]
fn data_dir_is_0700_and_database_0600() {
    let home = Home::new();
    home.ok(&["new", "contact", "Someone"]);
    assert_eq!(mode(&home.data()), 0o700, "data dir mode");
    assert_eq!(mode(&home.db()), 0o600, "holdfast.db mode");
}

#[test]
fn restore_backup_snapshots_current_db_first_and_restores_the_old_state() {
    let home = Home::new();
    let before = home.ok(&["new", "contact", "Before Backup"]);
    home.ok(&["backup"]);
    let snap = backups(&home);
    assert_eq!(snap.len(), 1);
    let after = home.ok(&["new", "contact", "After Backup"]);
    home.ok(&["delete", &before]);
    assert!(by_uid(&home.list("contacts", &[]), &before).is_none());

    let (code, out, err) = home.run(&["restore-backup", snap[0].to_str().expect("path")]);
    assert_eq!(code, 0, "stdout {out}\nstderr {err}");
    assert_eq!(
        backups(&home).len(),
        2,
        "the current DB is snapshotted before restoring"
    );

    let live = home.list("contacts", &[]);
    assert!(
        by_uid(&live, &after).is_none(),
        "item created after the backup must be gone: {live:?}"
    );
    assert_eq!(
        by_uid(&live, &before).map(|c| c["full_name"].clone()),
        Some(json!("Before Backup")),
        "{live:?}"
    );
    assert!(by_uid(&home.list("contacts", &["--trash"]), &after).is_none());
}

#[test]
fn database_from_a_newer_schema_is_refused_with_exit_2() {
    let home = Home::new();
    home.ok(&["new", "contact", "Someone"]);
    home.sqlite("PRAGMA user_version = 99;");
    let (code, out, err) = home.run(&["list", "contacts", "--json"]);
    assert_eq!(code, 2, "stdout {out}\nstderr {err}");
    assert!(
        err.to_lowercase().contains("newer"),
        "message must say the DB is newer: {err}"
    );
    assert_eq!(
        home.sqlite("PRAGMA user_version;"),
        "99",
        "the newer DB must be left alone"
    );
}

// ---------------------------------------------------------------------------------------------
// doctor

#[test]
fn doctor_exits_0_on_a_healthy_database() {
    let home = Home::new();
    home.ok(&["new", "contact", "Someone"]);
    home.ok(&[
        "import",
        fixture("apple_grouped.vcf").to_str().expect("path"),
    ]);
    let (code, out, err) = home.run(&["doctor"]);
    assert_eq!(code, 0, "stdout {out}\nstderr {err}");
}

#[test]
fn doctor_lists_flagged_items_and_exits_3() {
    let home = Home::new();
    let (code, _, _) = home.run(&["import", fixture("broken.vcf").to_str().expect("path")]);
    assert_eq!(code, 3);
    let (code, out, err) = home.run(&["doctor"]);
    assert_eq!(code, 3, "stdout {out}\nstderr {err}");
    let all = format!("{out}{err}");
    for uid in ["broken-vcf-B-missing-end", "broken-vcf-D-no-colon"] {
        assert!(all.contains(uid), "doctor must list {uid}:\n{all}");
    }
    for uid in ["broken-vcf-A-good", "broken-vcf-C-good"] {
        assert!(
            !all.contains(uid),
            "doctor must not list the good {uid}:\n{all}"
        );
    }
}

#[test]
fn doctor_reports_parsed_column_mismatch_and_repair_fixes_it() {
    let home = Home::new();
    home.ok(&[
        "import",
        fixture("apple_grouped.vcf").to_str().expect("path"),
    ]);
    let uid = "6B29FC40-CA47-1067-B31D-00DD010662DA";
    home.sqlite(&format!("UPDATE items SET title='x' WHERE uid='{uid}';"));

    let (code, out, err) = home.run(&["doctor"]);
    let all = format!("{out}{err}");
    assert_ne!(code, 0, "doctor must fail on a mismatch:\n{all}");
    assert!(
        all.contains(uid),
        "doctor must name the mismatching item:\n{all}"
    );
    assert!(
        !all.contains("A1F0E2D3-5B4C-4D6E-8F70-9A8B7C6D5E4F"),
        "only the damaged item is reported:\n{all}"
    );

    let (code, out, err) = home.run(&["doctor", "--repair"]);
    assert_eq!(
        code, 0,
        "doctor --repair fixes the only problem\nstdout {out}\nstderr {err}"
    );
    assert_ne!(
        home.sqlite(&format!("SELECT title FROM items WHERE uid='{uid}';")),
        "x",
        "title repaired"
    );

    let (code, out, err) = home.run(&["doctor"]);
    let all = format!("{out}{err}");
    assert_eq!(code, 0, "after --repair doctor is clean:\n{all}");
    assert!(
        !all.contains(uid),
        "no mismatch reported after repair:\n{all}"
    );
    assert_eq!(
        by_uid(&home.list("contacts", &[]), uid).expect("listed")["full_name"],
        "Sofia Lindqvist"
    );
}
