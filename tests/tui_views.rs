//! Every view and overlay rendered into ratatui's `TestBackend` from a real database, at 60×20,
//! 80×24 and 160×48, compared with insta snapshots (tests/snapshots/). Wide characters (CJK,
//! emoji) and long names must stay in their columns.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use holdfast::store::Store;
use holdfast::sync::engine::{AccountReport, CollectionReport, Guard};
use holdfast::tui::app::{App, Msg, View};
use holdfast::tui::keymap::Keymap;
use holdfast::tui::theme::Theme;
use holdfast::tui::{prime, views};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

const SIZES: [(u16, u16); 3] = [(60, 20), (80, 24), (160, 48)];

fn card(uid: &str, name: &str, org: &str, email: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nORG:{org}\r\nEMAIL;TYPE=work:{email}\r\n\
         TEL;TYPE=cell:+49 30 1234567\r\n{extra}END:VCARD\r\n"
    )
}

fn event(uid: &str, summary: &str, start: &str, end: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART{start}\r\nDTEND{end}\r\nSUMMARY:{summary}\r\n{extra}\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn todo(uid: &str, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n{extra}END:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

fn fill(store: &mut Store) {
    let contacts = [
        (
            "c1",
            "Zoë Müller",
            "Ümlaut & Söhne",
            "zoe@example.org",
            "BDAY:1980-03-10\r\nNOTE:Met at the conference\\, Berlin\r\n",
        ),
        ("c2", "山田 太郎", "東京商事", "taro@example.jp", ""),
        (
            "c3",
            "Anna Kościółkowska",
            "Politechnika",
            "anna@example.pl",
            "ADR;TYPE=home:;;ul. Długa 5;Kraków;;30-001;Poland\r\n",
        ),
        (
            "c4",
            "Bartholomew Maximilian Featherstonehaugh-Cholmondeley",
            "A Very Long Organisation Name Limited",
            "bart@example.co.uk",
            "",
        ),
        ("c5", "Emoji 🎉 Fan", "", "fan@example.org", ""),
    ];
    for (uid, name, org, email, extra) in contacts {
        store
            .create(
                "Contacts",
                uid,
                card(uid, name, org, email, extra).as_bytes(),
                "test",
            )
            .expect("contact");
    }
    let events = [
        (
            "e1",
            "Standup",
            ":20260309T090000Z",
            ":20260309T091500Z",
            "RRULE:FREQ=DAILY;COUNT=10\r\n",
        ),
        (
            "e2",
            "Dentist",
            ":20260311T143000Z",
            ":20260311T153000Z",
            "LOCATION:Praxis Dr. Weiß\r\n",
        ),
        (
            "e3",
            "Holiday in 京都",
            ";VALUE=DATE:20260313",
            ";VALUE=DATE:20260316",
            "",
        ),
        (
            "e4",
            "Quarterly planning with the whole extended team",
            ":20260310T120000Z",
            ":20260310T130000Z",
            "",
        ),
    ];
    for (uid, s, a, b, extra) in events {
        store
            .create(
                "Calendar",
                uid,
                event(uid, s, a, b, extra).as_bytes(),
                "test",
            )
            .expect("event");
    }
    let todos = [
        (
            "t1",
            "Renew passport",
            "DUE;VALUE=DATE:20260301\r\nPRIORITY:1\r\nSTATUS:NEEDS-ACTION\r\n",
        ),
        (
            "t2",
            "Book flights",
            "DUE;VALUE=DATE:20260320\r\nSTATUS:NEEDS-ACTION\r\n",
        ),
        (
            "t3",
            "Choose seats",
            "RELATED-TO;RELTYPE=PARENT:t2\r\nSTATUS:NEEDS-ACTION\r\n",
        ),
        (
            "t4",
            "Water the plants",
            "STATUS:COMPLETED\r\nCOMPLETED:20260305T100000Z\r\n",
        ),
    ];
    for (uid, s, extra) in todos {
        store
            .create("Tasks", uid, todo(uid, s, extra).as_bytes(), "test")
            .expect("todo");
    }
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme { color: false };
    t.draw(|f| views::draw(f, app, &theme)).expect("draw");
    format!("{}", t.backend())
}

fn key(app: &mut App, store: &mut Store, code: KeyCode) {
    let fx = app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    for e in fx {
        holdfast::tui::run_effect(store, app, None, e).expect("effect");
    }
}

#[test]
fn every_view_and_overlay_at_three_sizes() {
    std::env::set_var("TZ", "UTC");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(&mut store);
    let today = NaiveDate::from_ymd_opt(2026, 3, 9).expect("date");
    for (w, h) in SIZES {
        let keymap = Keymap::new(&BTreeMap::new()).expect("keymap");
        let mut app = App::new(
            keymap,
            View::Contacts,
            today,
            1_773_050_000,
            &["home".into()],
        );
        app.resize(w, h);
        prime(&mut store, &mut app).expect("prime");
        let name = |what: &str| format!("{what}_{w}x{h}");
        insta::assert_snapshot!(name("contacts"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('j'));
        insta::assert_snapshot!(name("contacts_second_selected"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('2'));
        insta::assert_snapshot!(name("calendar_month"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('w'));
        insta::assert_snapshot!(name("calendar_week"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('a'));
        insta::assert_snapshot!(name("calendar_agenda"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('3'));
        insta::assert_snapshot!(name("todos_open"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('f'));
        insta::assert_snapshot!(name("todos_all"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('4'));
        insta::assert_snapshot!(name("photos"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('1'));
        key(&mut app, &mut store, KeyCode::Char('?'));
        insta::assert_snapshot!(name("help"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Esc);
        key(&mut app, &mut store, KeyCode::Char('n'));
        for c in "Ann".chars() {
            key(&mut app, &mut store, KeyCode::Char(c));
        }
        insta::assert_snapshot!(name("form_new_contact"), render(&app, w, h));
        // Esc on a changed form asks; y discards.
        key(&mut app, &mut store, KeyCode::Esc);
        key(&mut app, &mut store, KeyCode::Char('y'));
        key(&mut app, &mut store, KeyCode::Char('/'));
        for c in "kosci".chars() {
            key(&mut app, &mut store, KeyCode::Char(c));
        }
        insta::assert_snapshot!(name("contacts_filtered"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Esc);
        app.update(Msg::SyncDone {
            report: AccountReport {
                account: "home".into(),
                collections: vec![CollectionReport {
                    collection: "Tasks".into(),
                    guard: Some(Guard {
                        held_back: 999,
                        synced: 1000,
                        reason: "the server removed 999 of 1000 synced items (more than 20%)"
                            .into(),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            },
            now: 1_773_050_000,
        });
        insta::assert_snapshot!(name("guard_prompt"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Esc);
        key(&mut app, &mut store, KeyCode::Char('T'));
        insta::assert_snapshot!(name("trash_empty"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Esc);
    }
}

#[test]
fn the_filter_finds_accented_names_in_a_real_database() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(&mut store);
    let keymap = Keymap::new(&BTreeMap::new()).expect("keymap");
    let today = NaiveDate::from_ymd_opt(2026, 3, 9).expect("date");
    let mut app = App::new(keymap, View::Contacts, today, 0, &[]);
    app.resize(80, 24);
    prime(&mut store, &mut app).expect("prime");
    assert_eq!(app.contacts.total, 5);
    key(&mut app, &mut store, KeyCode::Char('/'));
    for c in "muller".chars() {
        key(&mut app, &mut store, KeyCode::Char(c));
    }
    assert_eq!(app.contacts.total, 1);
    assert_eq!(app.contacts.rows[0].uid, "c1");
    // Delete, then undo: back from the trash.
    key(&mut app, &mut store, KeyCode::Enter);
    key(&mut app, &mut store, KeyCode::Char('d'));
    assert_eq!(app.contacts.total, 0);
    assert!(store.find("c1", None).expect("kept").deleted);
    key(&mut app, &mut store, KeyCode::Char('u'));
    assert_eq!(app.contacts.total, 1);
    assert!(!store.find("c1", None).expect("kept").deleted);
}
