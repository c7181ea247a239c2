//! The forms' format layer (`format::compose`): an edit changes only the lines of what the user
//! changed; everything else (groups, X- properties, PHOTO, VALARMs, ATTENDEEs) keeps its bytes.
//! Occurrence overrides carry the right RECURRENCE-ID; repeat rules are built as RFC 5545 asks.

use chrono::{DateTime, TimeZone, Utc};
use holdfast::format::compose::{self, ContactDraft, Draft, EventDraft, FieldId, Row, TodoDraft};
use holdfast::format::parse;
use holdfast::model::Kind;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0)
        .single()
        .expect("time")
}

/// Lines of `a` missing from `b`, and of `b` missing from `a` (as multisets, in order).
fn diff(a: &str, b: &str) -> (Vec<String>, Vec<String>) {
    let la: Vec<&str> = a.split("\r\n").collect();
    let lb: Vec<&str> = b.split("\r\n").collect();
    let gone = la
        .iter()
        .filter(|l| !lb.contains(l))
        .map(|s| s.to_string())
        .collect();
    let new = lb
        .iter()
        .filter(|l| !la.contains(l))
        .map(|s| s.to_string())
        .collect();
    (gone, new)
}

const CARD: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iOS 17//EN\r\nUID:c-1\r\n\
N:Müller;Zoë;;;\r\nFN:Zoë Müller\r\nORG:Ümlaut & Söhne;Sales\r\n\
item1.EMAIL;type=INTERNET;type=pref:zoe@example.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n\
EMAIL;TYPE=INTERNET;TYPE=WORK:zoe@work.example\r\nTEL;TYPE=CELL:+49 30 1\r\n\
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDAoNDBQNDAsL\r\n \
DBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA\r\n\
X-SOCIALPROFILE;type=twitter:https://twitter.com/zoe\r\nX-CUSTOM;X-PARAM=1:keep me\r\n\
BDAY:1980-03-10\r\nNOTE:Met at the conference\\, Berlin\r\nEND:VCARD\r\n";

fn contact_before() -> ContactDraft {
    compose::contact::read(CARD.as_bytes())
}

#[test]
fn contact_is_read_with_types_and_rows() {
    let d = contact_before();
    assert_eq!(d.full_name, "Zoë Müller");
    assert_eq!(d.org, "Ümlaut & Söhne");
    assert_eq!(d.birthday, "1980-03-10");
    assert_eq!(d.note, "Met at the conference, Berlin");
    assert_eq!(
        d.emails,
        vec![
            Row {
                kind: "other".into(),
                value: "zoe@example.org".into(),
                origin: Some(0)
            },
            Row {
                kind: "work".into(),
                value: "zoe@work.example".into(),
                origin: Some(1)
            },
        ]
    );
    assert_eq!(d.phones[0].kind, "cell");
}

#[test]
fn contact_edit_changes_only_the_edited_lines() {
    let before = contact_before();
    let mut after = before.clone();
    // Second email: new address and type; a new phone row; the note.
    after.emails[1].value = "zoe@new.example".into();
    after.emails[1].kind = "home".into();
    after.phones.push(Row {
        kind: "work".into(),
        value: "+49 30 2".into(),
        origin: None,
    });
    after.note = "Met in Berlin".into();
    let out = compose::apply(
        CARD.as_bytes(),
        &Draft::Contact(before.clone()),
        &Draft::Contact(after),
        now(),
    )
    .expect("apply");
    let out = String::from_utf8(out).expect("utf-8");
    let (gone, new) = diff(CARD, &out);
    assert_eq!(
        gone,
        vec![
            "EMAIL;TYPE=INTERNET;TYPE=WORK:zoe@work.example",
            "NOTE:Met at the conference\\, Berlin"
        ],
        "{out}"
    );
    assert_eq!(
        new,
        vec![
            "EMAIL;TYPE=INTERNET;TYPE=home:zoe@new.example",
            "TEL;TYPE=work:+49 30 2",
            "NOTE:Met in Berlin"
        ],
        "{out}"
    );
    // The group, the photo and the unknown properties are byte-identical.
    for keep in [
        "item1.EMAIL;type=INTERNET;type=pref:zoe@example.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n",
        "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDAoNDBQNDAsL\r\n DBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA\r\n",
        "X-CUSTOM;X-PARAM=1:keep me\r\n",
    ] {
        assert!(out.contains(keep), "{keep:?} lost:\n{out}");
    }
    // The new phone is written after the existing one.
    assert!(out.contains("TEL;TYPE=CELL:+49 30 1\r\nTEL;TYPE=work:+49 30 2\r\n"));
    assert!(parse(out.as_bytes()).problems.is_empty());
}

#[test]
fn contact_rename_and_removed_row() {
    let before = contact_before();
    let mut after = before.clone();
    after.full_name = "Zoë Schmidt".into();
    after.emails.remove(0);
    after.org = "Neue Firma".into();
    let out = compose::apply(
        CARD.as_bytes(),
        &Draft::Contact(before),
        &Draft::Contact(after),
        now(),
    )
    .expect("apply");
    let out = String::from_utf8(out).expect("utf-8");
    let (gone, new) = diff(CARD, &out);
    assert_eq!(
        gone,
        vec![
            "N:Müller;Zoë;;;",
            "FN:Zoë Müller",
            "ORG:Ümlaut & Söhne;Sales",
            "item1.EMAIL;type=INTERNET;type=pref:zoe@example.org"
        ]
    );
    assert_eq!(
        new,
        vec!["N:Schmidt;Zoë;;;", "FN:Zoë Schmidt", "ORG:Neue Firma;Sales"]
    );
}

#[test]
fn an_unchanged_draft_keeps_the_text() {
    let before = Draft::Contact(contact_before());
    let out = compose::apply(CARD.as_bytes(), &before, &before, now()).expect("apply");
    assert_eq!(out, CARD.as_bytes());
}

#[test]
fn a_new_contact_has_uid_version_and_every_field() {
    let d = ContactDraft {
        full_name: "山田 太郎".into(),
        org: "東京商事".into(),
        title: "部長".into(),
        emails: vec![Row {
            kind: "work".into(),
            value: "taro@example.jp".into(),
            origin: None,
        }],
        phones: vec![Row {
            kind: "cell".into(),
            value: "+81 3 1234".into(),
            origin: None,
        }],
        addresses: vec![Row {
            kind: "home".into(),
            value: "1-1 Chiyoda; Tokyo; ; 100-0001; Japan".into(),
            origin: None,
        }],
        birthday: "--04-15".into(),
        note: "likes tea; green".into(),
    };
    let text = compose::create(&Draft::Contact(d.clone()), "u-1", now()).expect("create");
    for want in [
        "VERSION:3.0\r\n",
        "UID:u-1\r\n",
        "FN:山田 太郎\r\n",
        "ORG:東京商事\r\n",
        "TITLE:部長\r\n",
        "EMAIL;TYPE=work:taro@example.jp\r\n",
        "TEL;TYPE=cell:+81 3 1234\r\n",
        "ADR;TYPE=home:;;1-1 Chiyoda;Tokyo;;100-0001;Japan\r\n",
        "BDAY:--0415\r\n",
        "NOTE:likes tea\\; green\r\n",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    // Read back, the draft is what was typed.
    let back = compose::contact::read(text.as_bytes());
    assert_eq!(
        back.addresses[0].value,
        "1-1 Chiyoda; Tokyo; ; 100-0001; Japan"
    );
    assert_eq!(back.birthday, "--04-15");
    assert_eq!(back.emails[0].value, "taro@example.jp");
}

#[test]
fn contact_validation_names_the_field_and_row() {
    let d = ContactDraft {
        emails: vec![
            Row {
                kind: "home".into(),
                value: "ok@example.org".into(),
                origin: None,
            },
            Row {
                kind: "home".into(),
                value: "not-an-address".into(),
                origin: None,
            },
        ],
        birthday: "1980-13-01".into(),
        ..ContactDraft::default()
    };
    let errs = compose::check(&Draft::Contact(d.clone()), &Draft::Contact(d));
    let at: Vec<(FieldId, usize)> = errs.iter().map(|e| (e.field, e.row)).collect();
    assert_eq!(
        at,
        vec![
            (FieldId::FullName, 0),
            (FieldId::Email, 1),
            (FieldId::Birthday, 0)
        ]
    );
}

const EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//EN\r\n\
BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:ev-1\r\nDTSTAMP:20260101T000000Z\r\n\
DTSTART;TZID=Europe/Berlin:20260309T100000\r\nDTEND;TZID=Europe/Berlin:20260309T110000\r\n\
SUMMARY:Standup\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\n\
ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.org\r\nX-MOZ-GENERATION:3\r\n\
BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Standup\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n\
BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER;VALUE=DATE-TIME:20260309T080000Z\r\nEND:VALARM\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";

fn event_before() -> EventDraft {
    compose::event::read(EVENT.as_bytes()).expect("event")
}

#[test]
fn event_is_read_with_zone_alarm_and_repeat() {
    let d = event_before();
    assert_eq!(d.start, "2026-03-09 10:00");
    assert_eq!(d.end, "2026-03-09 11:00");
    assert_eq!(d.tz, "Europe/Berlin");
    assert_eq!(d.alarm, "10");
    assert_eq!(d.repeat, "weekly");
    assert!(!d.all_day);
}

#[test]
fn event_edit_keeps_alarms_and_attendees() {
    let before = event_before();
    let mut after = before.clone();
    after.location = "Room 1".into();
    after.alarm = "15".into();
    let out = compose::apply(
        EVENT.as_bytes(),
        &Draft::Event(before),
        &Draft::Event(after),
        now(),
    )
    .expect("apply");
    let out = String::from_utf8(out).expect("utf-8");
    let (gone, new) = diff(EVENT, &out);
    assert_eq!(
        gone,
        vec!["DTSTAMP:20260101T000000Z", "TRIGGER:-PT10M"],
        "{out}"
    );
    assert_eq!(
        new,
        vec![
            "DTSTAMP:20260309T120000Z",
            "LOCATION:Room 1",
            "LAST-MODIFIED:20260309T120000Z",
            "TRIGGER:-PT15M"
        ],
        "{out}"
    );
    assert!(out.contains("ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.org\r\n"));
    assert!(out.contains(
        "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER;VALUE=DATE-TIME:20260309T080000Z\r\nEND:VALARM\r\n"
    ));
}

#[test]
fn removing_the_alarm_removes_only_that_valarm() {
    let before = event_before();
    let mut after = before.clone();
    after.alarm = String::new();
    let out = compose::apply(
        EVENT.as_bytes(),
        &Draft::Event(before),
        &Draft::Event(after),
        now(),
    )
    .expect("apply");
    let out = String::from_utf8(out).expect("utf-8");
    assert!(!out.contains("TRIGGER:-PT10M"), "{out}");
    assert_eq!(out.matches("BEGIN:VALARM").count(), 1, "{out}");
    assert!(out.contains("ACTION:AUDIO"));
}

#[test]
fn one_occurrence_becomes_an_override_with_a_zoned_recurrence_id() {
    let raw = EVENT.as_bytes();
    // The second Monday: 2026-03-16 10:00 Berlin = 09:00 UTC.
    let start = Utc
        .with_ymd_and_hms(2026, 3, 16, 9, 0, 0)
        .single()
        .expect("t")
        .timestamp();
    let rid = compose::event::occurrence_rid(raw, start).expect("an occurrence starts then");
    assert_eq!(rid, start);
    let before = compose::event::read_occurrence(raw, rid).expect("occurrence");
    assert_eq!(before.start, "2026-03-16 10:00");
    assert_eq!(before.end, "2026-03-16 11:00");
    assert_eq!(before.repeat, "none");
    let mut after = before.clone();
    after.start = "2026-03-16 12:00".into();
    after.end = "2026-03-16 13:00".into();
    after.summary = "Standup (moved)".into();
    let out = compose::apply_occurrence(raw, rid, &before, &after, now()).expect("override");
    let out = String::from_utf8(out).expect("utf-8");
    // The master is untouched: the text up to its END is the same bytes.
    let master_end = EVENT.find("END:VEVENT\r\n").expect("end") + 12;
    assert_eq!(&out[..master_end], &EVENT[..master_end]);
    let ov = &out[master_end..];
    for want in [
        "BEGIN:VEVENT\r\n",
        "UID:ev-1\r\n",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260316T100000\r\n",
        "DTSTART;TZID=Europe/Berlin:20260316T120000\r\n",
        "DTEND;TZID=Europe/Berlin:20260316T130000\r\n",
        "SUMMARY:Standup (moved)\r\n",
        "ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.org\r\n",
        "TRIGGER:-PT10M\r\n",
    ] {
        assert!(
            ov.contains(want),
            "{want:?} missing from the override:\n{ov}"
        );
    }
    assert!(!ov.contains("RRULE"), "{ov}");
    // Expanded: that Monday moved, the others did not.
    let occ = parse(out.as_bytes())
        .occurrences(Some((start - 86_400 * 8, start + 86_400 * 8)))
        .expect("expand");
    let starts: Vec<i64> = occ.iter().map(|o| o.start.timestamp()).collect();
    assert!(starts.contains(&(start + 2 * 3600)), "{starts:?}");
    assert!(!starts.contains(&start), "{starts:?}");
    assert!(starts.contains(&(start - 7 * 86_400)), "{starts:?}");
    // A second edit of the same occurrence edits the override, not a new one.
    let again = compose::event::read_occurrence(out.as_bytes(), rid).expect("again");
    assert_eq!(again.start, "2026-03-16 12:00");
    let mut later = again.clone();
    later.location = "Room 2".into();
    let out2 = compose::apply_occurrence(out.as_bytes(), rid, &again, &later, now()).expect("2");
    let out2 = String::from_utf8(out2).expect("utf-8");
    assert_eq!(out2.matches("RECURRENCE-ID").count(), 1, "{out2}");
    assert!(out2.contains("LOCATION:Room 2"));
}

#[test]
fn an_all_day_occurrence_override_uses_a_date_recurrence_id() {
    let raw = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:ad-1\r\n\
DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260301\r\nDTEND;VALUE=DATE:20260302\r\n\
SUMMARY:Bins\r\nRRULE:FREQ=DAILY;INTERVAL=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let start = Utc
        .with_ymd_and_hms(2026, 3, 5, 0, 0, 0)
        .single()
        .expect("t")
        .timestamp();
    let rid = compose::event::occurrence_rid(raw.as_bytes(), start).expect("rid");
    let before = compose::event::read_occurrence(raw.as_bytes(), rid).expect("occurrence");
    assert_eq!(
        (before.start.as_str(), before.all_day),
        ("2026-03-05", true)
    );
    assert_eq!(before.end, "", "a one-day event shows no end");
    let mut after = before.clone();
    after.summary = "Bins (late)".into();
    let out = compose::apply_occurrence(raw.as_bytes(), rid, &before, &after, now()).expect("ov");
    let out = String::from_utf8(out).expect("utf-8");
    assert!(
        out.contains("RECURRENCE-ID;VALUE=DATE:20260305\r\n"),
        "{out}"
    );
    assert!(out.contains("DTSTART;VALUE=DATE:20260305\r\n"), "{out}");
    assert!(out.contains("DTEND;VALUE=DATE:20260306\r\n"), "{out}");
}

fn new_event(repeat: &str, interval: &str, until: &str, count: &str, all_day: bool) -> String {
    let d = EventDraft {
        summary: "Yoga".into(),
        start: if all_day {
            "2026-03-09".into()
        } else {
            "2026-03-09 18:00".into()
        },
        duration: if all_day { String::new() } else { "1h".into() },
        all_day,
        tz: if all_day {
            String::new()
        } else {
            "America/New_York".into()
        },
        repeat: repeat.into(),
        interval: interval.into(),
        until: until.into(),
        count: count.into(),
        alarm: "30".into(),
        ..EventDraft::default()
    };
    compose::create(&Draft::Event(d), "ev-new", now()).expect("create")
}

#[test]
fn repeat_rules_are_built_with_interval_until_and_count() {
    let timed = new_event("weekly", "2", "2026-06-30", "", false);
    // 23:59:59 in New York on the last day is 03:59:59 UTC the day after (EDT).
    assert!(
        timed.contains("RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20260701T035959Z\r\n"),
        "{timed}"
    );
    assert!(timed.contains("DTSTART;TZID=America/New_York:20260309T180000\r\n"));
    assert!(
        timed.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York"),
        "{timed}"
    );
    assert!(timed.contains("DURATION:PT1H\r\n"));
    assert!(timed.contains(
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Yoga\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\n"
    ));
    assert!(timed.contains("VERSION:2.0\r\n") && timed.contains("PRODID:-//Holdfast"));
    assert!(timed.contains("UID:ev-new\r\n") && timed.contains("DTSTAMP:"));
    let all_day = new_event("monthly", "", "2026-12-31", "", true);
    assert!(
        all_day.contains("RRULE:FREQ=MONTHLY;UNTIL=20261231\r\n"),
        "{all_day}"
    );
    assert!(all_day.contains("DTSTART;VALUE=DATE:20260309\r\n"));
    let counted = new_event("daily", "1", "", "5", false);
    assert!(
        counted.contains("RRULE:FREQ=DAILY;COUNT=5\r\n"),
        "{counted}"
    );
    let once = new_event("none", "3", "", "", false);
    let event_part = once.split("BEGIN:VEVENT").nth(1).unwrap_or_default();
    assert!(!event_part.contains("RRULE"), "{once}");
}

#[test]
fn changing_the_frequency_keeps_nothing_of_the_old_rule_but_the_same_keeps_byday() {
    let before = event_before();
    let mut after = before.clone();
    after.count = "10".into();
    let out = compose::apply(
        EVENT.as_bytes(),
        &Draft::Event(before.clone()),
        &Draft::Event(after),
        now(),
    )
    .expect("apply");
    let out = String::from_utf8(out).expect("utf-8");
    assert!(
        out.contains("RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO\r\n"),
        "{out}"
    );
    let mut after = before.clone();
    after.repeat = "none".into();
    let out = compose::apply(
        EVENT.as_bytes(),
        &Draft::Event(before),
        &Draft::Event(after),
        now(),
    )
    .expect("apply");
    assert!(!String::from_utf8_lossy(&out).contains("RRULE:FREQ=WEEKLY"));
}

#[test]
fn event_validation_keeps_each_error_at_its_field() {
    let d = EventDraft {
        summary: "x".into(),
        start: "2026-03-09 10:00".into(),
        end: "2026-03-09 09:00".into(),
        duration: "1h".into(),
        tz: "Mars/Olympus".into(),
        alarm: "soon".into(),
        repeat: "weekly".into(),
        until: "2026-06-01".into(),
        count: "3".into(),
        ..EventDraft::default()
    };
    let errs = compose::check(&Draft::Event(d), &Draft::Event(EventDraft::default()));
    let fields: Vec<FieldId> = errs.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        vec![
            FieldId::Tz,
            FieldId::End,
            FieldId::Duration,
            FieldId::Alarm,
            FieldId::Count
        ],
        "{errs:?}"
    );
}

#[test]
fn todo_edit_sets_parent_priority_and_due() {
    let raw = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:t-1\r\n\
DTSTAMP:20260101T000000Z\r\nSUMMARY:File taxes\r\nX-APPLE-SORT-ORDER:5\r\nSTATUS:NEEDS-ACTION\r\n\
END:VTODO\r\nEND:VCALENDAR\r\n";
    let before = compose::todo::read(raw.as_bytes()).expect("todo");
    let mut after = before.clone();
    after.priority = "2".into();
    after.due = "2026-04-30".into();
    after.parent = "t-0".into();
    after.status = "IN-PROCESS".into();
    let out = compose::apply(
        raw.as_bytes(),
        &Draft::Todo(before),
        &Draft::Todo(after),
        now(),
    )
    .expect("apply");
    let out = String::from_utf8(out).expect("utf-8");
    let (gone, new) = diff(raw, &out);
    assert_eq!(
        gone,
        vec!["DTSTAMP:20260101T000000Z", "STATUS:NEEDS-ACTION"]
    );
    assert_eq!(
        new,
        vec![
            "DTSTAMP:20260309T120000Z",
            "STATUS:IN-PROCESS",
            "DUE;VALUE=DATE:20260430",
            "PRIORITY:2",
            "RELATED-TO;RELTYPE=PARENT:t-0",
            "LAST-MODIFIED:20260309T120000Z"
        ],
        "{out}"
    );
    let fields = parse(out.as_bytes()).fields;
    assert_eq!(fields.kind(), Kind::Todo);
}

#[test]
fn a_new_todo_with_a_due_time_gets_its_zone() {
    let d = TodoDraft {
        summary: "Call".into(),
        due: "2026-03-10 15:30".into(),
        tz: "Europe/Berlin".into(),
        priority: "1".into(),
        status: "NEEDS-ACTION".into(),
        ..TodoDraft::default()
    };
    let text = compose::create(&Draft::Todo(d), "t-new", now()).expect("create");
    assert!(
        text.contains("DUE;TZID=Europe/Berlin:20260310T153000\r\n"),
        "{text}"
    );
    assert!(text.contains("TZID:Europe/Berlin"), "{text}");
    assert!(text.contains("PRIORITY:1\r\n"));
}
