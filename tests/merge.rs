//! The three-way merge of DESIGN.md §5: changes to different properties combine, changes to the
//! same property conflict, and every line the merge does not change keeps its bytes (I7).

use holdfast::format::merge::{merge, Merged};
use proptest::prelude::*;

fn clean(m: Merged) -> String {
    match m {
        Merged::Clean(b) => String::from_utf8(b).expect("utf-8"),
        Merged::Conflict { properties } => panic!("unexpected conflict on {properties:?}"),
    }
}

fn conflicts(m: Merged) -> Vec<String> {
    match m {
        Merged::Conflict { properties } => properties,
        Merged::Clean(b) => panic!("unexpected clean merge:\n{}", String::from_utf8_lossy(&b)),
    }
}

fn card(body: &str) -> String {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\n{body}END:VCARD\r\n")
}

fn cal(body: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n{body}END:VCALENDAR\r\n")
}

const EVENT: &str = "BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20250101T000000Z\r\n\
DTSTART:20250110T100000Z\r\nDTEND:20250110T110000Z\r\nSUMMARY:Standup\r\n\
RRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\n";

#[test]
fn disjoint_vcard_edits_merge() {
    let base = card("FN:Ann Lee\r\nTEL:111\r\nNOTE:old\r\n");
    let local = card("FN:Ann Lee\r\nTEL:111\r\nTEL;TYPE=CELL:222\r\nNOTE:old\r\n");
    let remote = card("FN:Ann Lee\r\nTEL:111\r\nNOTE:new\r\n");
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        card("FN:Ann Lee\r\nTEL:111\r\nTEL;TYPE=CELL:222\r\nNOTE:new\r\n")
    );
}

#[test]
fn same_fn_changed_both_ways_conflicts() {
    let base = card("FN:Ann Lee\r\n");
    let local = card("FN:Ann Smith\r\n");
    let remote = card("FN:Ann Jones\r\n");
    let m = merge(Some(base.as_bytes()), local.as_bytes(), remote.as_bytes());
    assert_eq!(conflicts(m), vec!["FN".to_string()]);
}

#[test]
fn same_change_on_both_sides_is_clean() {
    let base = card("FN:Ann Lee\r\nNOTE:a\r\n");
    // Same new FN; local folds it differently and also edits NOTE.
    let local = card("FN:Ann\r\n  Smith\r\nNOTE:b\r\n");
    let remote = card("FN:Ann Smith\r\nNOTE:a\r\n");
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(out, local, "the result is local's, bytes and all");
}

#[test]
fn apple_group_label_is_kept() {
    let base =
        card("FN:Ann\r\nitem1.EMAIL;type=INTERNET:a@x.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n");
    let local = card(
        "FN:Ann Lee\r\nitem1.EMAIL;type=INTERNET:a@x.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n",
    );
    let remote = card(
        "FN:Ann\r\nitem1.EMAIL;type=INTERNET:a@x.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n\
         item2.URL:https://x.org\r\nitem2.X-ABLabel:blog\r\n",
    );
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        card(
            "FN:Ann Lee\r\nitem1.EMAIL;type=INTERNET:a@x.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n\
             item2.URL:https://x.org\r\nitem2.X-ABLabel:blog\r\n"
        )
    );
}

#[test]
fn apple_group_labels_edited_both_ways_conflict_by_group() {
    let base = card("FN:Ann\r\nitem1.TEL:1\r\nitem1.X-ABLabel:home\r\n");
    let local = card("FN:Ann\r\nitem1.TEL:1\r\nitem1.X-ABLabel:work\r\n");
    let remote = card("FN:Ann\r\nitem1.TEL:1\r\nitem1.X-ABLabel:cabin\r\n");
    let m = merge(Some(base.as_bytes()), local.as_bytes(), remote.as_bytes());
    assert_eq!(conflicts(m), vec!["ITEM1.X-ABLABEL".to_string()]);
}

#[test]
fn ical_summary_local_and_location_remote_merge() {
    let base = cal(EVENT);
    let local = cal(&EVENT.replace("SUMMARY:Standup", "SUMMARY:Daily standup"));
    let remote = cal(&EVENT.replace(
        "SUMMARY:Standup\r\n",
        "SUMMARY:Standup\r\nLOCATION:Room 4\r\n",
    ));
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        cal(&EVENT.replace(
            "SUMMARY:Standup\r\n",
            "SUMMARY:Daily standup\r\nLOCATION:Room 4\r\n"
        ))
    );
}

#[test]
fn dtstart_changed_both_ways_conflicts() {
    let base = cal(EVENT);
    let local = cal(&EVENT.replace("DTSTART:20250110T100000Z", "DTSTART:20250110T090000Z"));
    let remote = cal(&EVENT.replace("DTSTART:20250110T100000Z", "DTSTART:20250110T120000Z"));
    let m = merge(Some(base.as_bytes()), local.as_bytes(), remote.as_bytes());
    assert_eq!(conflicts(m), vec!["VEVENT DTSTART".to_string()]);
}

#[test]
fn override_added_remotely_while_master_edited_locally_keeps_both() {
    let over = "BEGIN:VEVENT\r\nUID:e1\r\nRECURRENCE-ID:20250112T100000Z\r\n\
DTSTAMP:20250101T000000Z\r\nDTSTART:20250112T140000Z\r\nDTEND:20250112T150000Z\r\n\
SUMMARY:Standup (moved)\r\nEND:VEVENT\r\n";
    let base = cal(EVENT);
    let master = EVENT.replace("SUMMARY:Standup", "SUMMARY:Team standup");
    let local = cal(&master);
    let remote = cal(&format!("{EVENT}{over}"));
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(out, cal(&format!("{master}{over}")));
}

#[test]
fn override_edited_both_ways_names_the_property() {
    let over =
        "BEGIN:VEVENT\r\nUID:e1\r\nRECURRENCE-ID:20250112T100000Z\r\nSUMMARY:A\r\nEND:VEVENT\r\n";
    let base = cal(&format!("{EVENT}{over}"));
    let local = cal(&format!(
        "{EVENT}{}",
        over.replace("SUMMARY:A", "SUMMARY:B")
    ));
    let remote = cal(&format!(
        "{EVENT}{}",
        over.replace("SUMMARY:A", "SUMMARY:C")
    ));
    let m = merge(Some(base.as_bytes()), local.as_bytes(), remote.as_bytes());
    assert_eq!(conflicts(m), vec!["VEVENT SUMMARY".to_string()]);
}

#[test]
fn valarm_added_on_one_side_is_kept() {
    let alarm =
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:x\r\nEND:VALARM\r\n";
    let base = cal(EVENT);
    let local = cal(&EVENT.replace("SUMMARY:Standup", "SUMMARY:Sync"));
    let remote = cal(&EVENT.replace("END:VEVENT", &format!("{alarm}END:VEVENT")));
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        cal(&EVENT
            .replace("SUMMARY:Standup", "SUMMARY:Sync")
            .replace("END:VEVENT", &format!("{alarm}END:VEVENT")))
    );
}

#[test]
fn valarm_edited_both_ways_conflicts() {
    let alarm = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n";
    let base = cal(&EVENT.replace("END:VEVENT", &format!("{alarm}END:VEVENT")));
    let with = |t: &str| {
        cal(&EVENT.replace(
            "END:VEVENT",
            &format!("{}END:VEVENT", alarm.replace("-PT15M", t)),
        ))
    };
    let m = merge(
        Some(base.as_bytes()),
        with("-PT5M").as_bytes(),
        with("-PT1H").as_bytes(),
    );
    assert_eq!(conflicts(m), vec!["VEVENT VALARM".to_string()]);
}

#[test]
fn exdates_added_on_both_sides_are_united() {
    let base = cal(EVENT);
    let local = cal(&EVENT.replace("END:VEVENT", "EXDATE:20250111T100000Z\r\nEND:VEVENT"));
    let remote = cal(&EVENT.replace("END:VEVENT", "EXDATE:20250113T100000Z\r\nEND:VEVENT"));
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        cal(&EVENT.replace(
            "END:VEVENT",
            "EXDATE:20250111T100000Z\r\nEXDATE:20250113T100000Z\r\nEND:VEVENT"
        ))
    );
}

#[test]
fn differing_dtstamp_and_sequence_do_not_conflict() {
    let base = cal(&EVENT.replace("END:VEVENT", "SEQUENCE:1\r\nEND:VEVENT"));
    let local = cal(&EVENT
        .replace("DTSTAMP:20250101T000000Z", "DTSTAMP:20250301T000000Z")
        .replace("SUMMARY:Standup", "SUMMARY:Local")
        .replace("END:VEVENT", "SEQUENCE:2\r\nEND:VEVENT"))
    .replace("PRODID:-//x//y//EN", "PRODID:-//holdfast//EN");
    let remote = cal(&EVENT
        .replace("DTSTAMP:20250101T000000Z", "DTSTAMP:20250201T000000Z")
        .replace("DTEND:20250110T110000Z", "DTEND:20250110T113000Z")
        .replace("END:VEVENT", "SEQUENCE:3\r\nEND:VEVENT"))
    .replace("PRODID:-//x//y//EN", "PRODID:-//server//EN");
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        cal(&EVENT
            .replace("DTSTAMP:20250101T000000Z", "DTSTAMP:20250301T000000Z")
            .replace("DTEND:20250110T110000Z", "DTEND:20250110T113000Z")
            .replace("SUMMARY:Standup", "SUMMARY:Local")
            .replace("END:VEVENT", "SEQUENCE:3\r\nEND:VEVENT"))
        .replace("PRODID:-//x//y//EN", "PRODID:-//holdfast//EN"),
        "later DTSTAMP (local), larger SEQUENCE (remote), local PRODID"
    );
}

#[test]
fn component_deleted_remotely_and_edited_locally_conflicts() {
    let other = "BEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Buy milk\r\nEND:VTODO\r\n";
    let base = cal(&format!("{EVENT}{other}"));
    let local = cal(&format!("{EVENT}{}", other.replace("milk", "oat milk")));
    let remote = cal(&EVENT.replace("SUMMARY:Standup", "SUMMARY:Remote"));
    let m = merge(Some(base.as_bytes()), local.as_bytes(), remote.as_bytes());
    assert_eq!(conflicts(m), vec!["VTODO".to_string()]);
    // Deleted remotely, untouched locally: it goes.
    let local = cal(&format!(
        "{}{other}",
        EVENT.replace("RRULE", "X-A:1\r\nRRULE")
    ));
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        cal(&EVENT
            .replace("SUMMARY:Standup", "SUMMARY:Remote")
            .replace("RRULE", "X-A:1\r\nRRULE"))
    );
}

#[test]
fn lf_line_endings_of_local_are_kept_for_remote_lines() {
    let base = card("FN:Ann\r\n");
    let local = card("FN:Ann\r\nNOTE:n\r\n").replace("\r\n", "\n");
    let remote = card("FN:Ann\r\nTEL:1\r\n");
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        card("FN:Ann\r\nTEL:1\r\nNOTE:n\r\n").replace("\r\n", "\n")
    );
}

#[test]
fn crlf_and_untouched_multibyte_fold_survive_byte_exact() {
    // "ł" is C5 82: the fold falls between its two bytes, and stays there.
    let folded: &[u8] = b"NOTE:Pawe\xc5\r\n \x82 Nowak was here\r\n";
    let mk = |fn_line: &[u8], tail: &[u8]| {
        let mut v = b"BEGIN:VCARD\r\nVERSION:4.0\r\n".to_vec();
        v.extend_from_slice(fn_line);
        v.extend_from_slice(folded);
        v.extend_from_slice(tail);
        v.extend_from_slice(b"END:VCARD\r\n");
        v
    };
    let base = mk(b"FN:P\r\n", b"");
    let local = mk(b"FN:Pawel\r\n", b"");
    let remote = mk(b"FN:P\r\n", b"EMAIL:p@x.pl\r\n");
    match merge(Some(&base), &local, &remote) {
        Merged::Clean(out) => assert_eq!(out, mk(b"FN:Pawel\r\n", b"EMAIL:p@x.pl\r\n")),
        Merged::Conflict { properties } => panic!("{properties:?}"),
    }
}

#[test]
fn remote_line_keeps_its_own_folding() {
    let base = card("FN:Ann\r\n");
    let local = card("FN:Ann Lee\r\n");
    let remote = card(
        "FN:Ann\r\nNOTE:a very long note that the server folded a\r\n t seventy-five octets\r\n",
    );
    let out = clean(merge(
        Some(base.as_bytes()),
        local.as_bytes(),
        remote.as_bytes(),
    ));
    assert_eq!(
        out,
        card("FN:Ann Lee\r\nNOTE:a very long note that the server folded a\r\n t seventy-five octets\r\n")
    );
}

#[test]
fn result_equal_to_remote_is_remote_bytes() {
    // Local only refolded a line; remote changed NOTE: the result is remote's content, so its bytes.
    let base = card("FN:Ann Lee\r\nNOTE:a\r\n");
    let local = card("FN:Ann\r\n  Lee\r\nNOTE:a\r\n");
    let remote = card("NOTE:b\r\nFN:Ann Lee\r\n");
    match merge(Some(base.as_bytes()), local.as_bytes(), remote.as_bytes()) {
        Merged::Clean(out) => assert_eq!(out, remote.as_bytes()),
        Merged::Conflict { properties } => panic!("{properties:?}"),
    }
}

#[test]
fn without_base_identical_texts_are_clean() {
    let t = card("FN:Ann\r\n");
    assert_eq!(clean(merge(None, t.as_bytes(), t.as_bytes())), t);
}

#[test]
fn without_base_disagreeing_keys_conflict_and_one_sided_keys_merge() {
    let local = card("FN:Ann\r\nTEL:1\r\n");
    let remote = card("FN:Ann\r\nTEL:2\r\n");
    assert_eq!(
        conflicts(merge(None, local.as_bytes(), remote.as_bytes())),
        vec!["TEL".to_string()]
    );
    let remote = card("FN:Ann\r\nTEL:1\r\nNOTE:x\r\n");
    let local = card("FN:Ann\r\nTEL:1\r\nREV:20250101T000000Z\r\n");
    assert_eq!(
        clean(merge(None, local.as_bytes(), remote.as_bytes())),
        card("FN:Ann\r\nTEL:1\r\nNOTE:x\r\nREV:20250101T000000Z\r\n")
    );
}

#[test]
fn garbage_is_a_conflict_not_a_panic() {
    let base = card("FN:Ann\r\n");
    let cases: [&[u8]; 6] = [
        b"\xff\xfe\x00garbage",
        b"BEGIN:VCARD\r\nFN:Ann\r\n",
        b"FN:Ann\r\nEND:VCARD\r\n",
        b"BEGIN:VCARD\r\nno colon here\r\nEND:VCARD\r\n",
        b"BEGIN:VCARD\r\nBEGIN:X\r\nEND:VCARD\r\nEND:X\r\n",
        b"",
    ];
    for bad in cases {
        let m = merge(Some(base.as_bytes()), bad, card("FN:Bob\r\n").as_bytes());
        let props = conflicts(m);
        assert!(props[0].contains("unparsable"), "{props:?}");
    }
    // A vCard against a calendar is no merge either.
    let m = merge(None, base.as_bytes(), cal(EVENT).as_bytes());
    assert!(conflicts(m)[0].contains("unparsable"));
}

/// A small vCard from generated property values (by index, so keys are stable).
fn gen_card(values: &[(usize, String)]) -> String {
    const KEYS: [&str; 6] = ["FN", "NOTE", "TEL", "EMAIL", "item1.X-ABLabel", "TITLE"];
    let body: String = values
        .iter()
        .map(|(k, v)| format!("{}:{v}\r\n", KEYS[k % KEYS.len()]))
        .collect();
    card(&body)
}

fn values() -> impl Strategy<Value = Vec<(usize, String)>> {
    prop::collection::vec((0usize..6, "[a-zA-Z0-9 ,.ł€]{0,90}"), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn one_sided_change_is_taken_verbatim(base in values(), other in values()) {
        let (b, x) = (gen_card(&base), gen_card(&other));
        prop_assert_eq!(merge(Some(b.as_bytes()), x.as_bytes(), b.as_bytes()), Merged::Clean(x.clone().into_bytes()));
        prop_assert_eq!(merge(Some(b.as_bytes()), b.as_bytes(), x.as_bytes()), Merged::Clean(x.into_bytes()));
    }

    #[test]
    fn unchanged_side_in_other_line_endings_gives_the_changed_side(base in values(), other in values()) {
        // The unchanged side differs from base only in bytes (LF), so the merge does the work.
        let (b, x) = (gen_card(&base), gen_card(&other));
        let lf = b.replace("\r\n", "\n");
        prop_assume!(x != b);
        prop_assert_eq!(merge(Some(b.as_bytes()), x.as_bytes(), lf.as_bytes()), Merged::Clean(x.clone().into_bytes()));
        prop_assert_eq!(merge(Some(b.as_bytes()), lf.as_bytes(), x.as_bytes()), Merged::Clean(x.into_bytes()));
    }

    #[test]
    fn edits_to_different_properties_combine(a in "[a-z ]{1,100}", b in "[1-9][0-9]{0,19}") {
        let base = card("FN:Ann\r\nNOTE:n\r\nTEL:0\r\n");
        let local = card(&format!("FN:Ann\r\nNOTE:{a}\r\nTEL:0\r\n"));
        let remote = card(&format!("FN:Ann\r\nNOTE:n\r\nTEL:0\r\nTEL:{b}\r\n"));
        let out = merge(Some(base.as_bytes()), local.as_bytes(), remote.as_bytes());
        let want = card(&format!("FN:Ann\r\nNOTE:{a}\r\nTEL:0\r\nTEL:{b}\r\n"));
        prop_assert_eq!(out, Merged::Clean(want.into_bytes()));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(
        base in prop::option::of(prop::collection::vec(any::<u8>(), 0..200)),
        local in prop::collection::vec(any::<u8>(), 0..200),
        remote in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = merge(base.as_deref(), &local, &remote);
    }

    #[test]
    fn never_panics_on_mangled_items(cut in 0usize..400, junk in "[\r\n :;.A-Z]{0,12}", pick in 0usize..3) {
        let texts = [card("FN:Ann\r\nTEL:1\r\n"), cal(EVENT), card("item1.TEL:2\r\n")];
        let t = &texts[pick];
        let cut = cut.min(t.len());
        let mangled = format!("{}{junk}{}", &t[..cut], &t[cut..]);
        let _ = merge(Some(t.as_bytes()), mangled.as_bytes(), texts[(pick + 1) % 3].as_bytes());
        let _ = merge(Some(t.as_bytes()), t.replace("Ann", "Bo").as_bytes(), mangled.as_bytes());
    }
}
