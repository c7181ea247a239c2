//! The review panels, global search, the to-do tree and the contact card, rendered from a real
//! database into ratatui's `TestBackend` at 60×20, 80×24 and 250×70 (insta snapshots), driven by keys
//! through `App::update` and the runtime's effects, as the UI runs them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use holdfast::model::Flags;
use holdfast::store::Store;
use holdfast::tui::app::{App, Msg, Overlay, View};
use holdfast::tui::keymap::Keymap;
use holdfast::tui::theme::Theme;
use holdfast::tui::{prime, run_effect, views};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

const SIZES: [(u16, u16); 3] = [(60, 20), (80, 24), (250, 70)];

fn todo(uid: &str, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n{extra}END:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

fn event(uid: &str, summary: &str, start: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\n\
         LOCATION:Room 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

const RICH_CARD: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:rich\r\nFN:Zoë Müller\r\n\
    N:Müller;Zoë;;;\r\nORG:Ümlaut & Söhne\r\nTITLE:Chief Tinkerer\r\n\
    EMAIL;TYPE=INTERNET;TYPE=WORK;TYPE=PREF:zoe@umlaut.example\r\n\
    EMAIL;TYPE=HOME:zoe@home.example\r\nTEL;TYPE=CELL:+49 151 000\r\n\
    TEL;TYPE=WORK,VOICE:+49 30 111\r\nitem1.TEL:+49 30 222\r\nitem1.X-ABLabel:_$!<Mobile>!$_\r\n\
    ADR;TYPE=WORK:;;Hauptstr. 1;Berlin;;10115;Germany\r\nURL:https://umlaut.example\r\n\
    BDAY:1980-03-10\r\nNOTE:Met at the conference\\, Berlin\r\n\
    PHOTO;VALUE=uri:https://umlaut.example/zoe.jpg\r\nEND:VCARD\r\n";

fn fill(store: &mut Store) {
    store
        .create("Contacts", "rich", RICH_CARD.as_bytes(), "test")
        .expect("card");
    for (uid, name) in [
        ("c2", "山田 太郎"),
        ("c3", "Anna Kościółkowska"),
        ("c4", "Emoji 🎉 Fan"),
    ] {
        let card = format!(
            "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL;TYPE=work:{uid}@example.org\r\nEND:VCARD\r\n"
        );
        store
            .create("Contacts", uid, card.as_bytes(), "test")
            .expect("card");
    }
    store
        .create(
            "Calendar",
            "e1",
            event("e1", "Lunch with Müller", "20260312T120000Z").as_bytes(),
            "test",
        )
        .expect("event");
    let todos = [
        ("p1", "Plan the trip to 京都", "DUE;VALUE=DATE:20260320\r\n"),
        (
            "p2",
            "Renew passport",
            "DUE;VALUE=DATE:20260301\r\nPRIORITY:1\r\n",
        ),
        (
            "s1",
            "Book flights (ask Müller)",
            "RELATED-TO:p1\r\nDUE;VALUE=DATE:20260310\r\n",
        ),
        ("s2", "Choose seats", "RELATED-TO;RELTYPE=PARENT:s1\r\n"),
        ("s3", "Pack 🎒", "RELATED-TO:p1\r\n"),
        ("o1", "Orphan subtask", "RELATED-TO:gone\r\n"),
    ];
    for (uid, s, extra) in todos {
        store
            .create("Tasks", uid, todo(uid, s, extra).as_bytes(), "test")
            .expect("todo");
    }
}

/// Makes "rich" a conflict as the sync engine records one: the server's version kept as a
/// revision, the local one on top, the item flagged.
fn make_conflict(store: &mut Store) {
    let item = store.find("rich", None).expect("rich");
    let server = RICH_CARD
        .replace("TITLE:Chief Tinkerer", "TITLE:Head of Tinkering")
        .replace("TEL;TYPE=CELL:+49 151 000\r\n", "");
    store
        .update(
            &item,
            server.as_bytes(),
            holdfast::store::CONFLICT_REMOTE_ORIGIN,
            false,
        )
        .expect("server version");
    let item = store.find("rich", None).expect("rich");
    store
        .update(&item, RICH_CARD.as_bytes(), "local (conflict)", false)
        .expect("local on top");
    let item = store.find("rich", None).expect("rich");
    store.reopen_conflict(item.id, None).expect("flag");
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme { color: false };
    t.draw(|f| views::draw(f, app, &theme)).expect("draw");
    times_masked(&format!("{}", t.backend()))
}

/// Revision times (RFC 3339, UTC) are when the test ran: masked, same width.
fn times_masked(s: &str) -> String {
    let b = s.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let hit = b.len() - i >= shape.len()
            && shape.iter().zip(&b[i..]).all(|(p, c)| match p {
                b'd' => c.is_ascii_digit(),
                _ => p == c,
            });
        if hit {
            out.push_str("YYYY-MM-DDThh:mm:ssZ");
            i += shape.len();
        } else {
            let ch = s[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn send(app: &mut App, store: &mut Store, k: KeyEvent) {
    for e in app.update(Msg::Key(k)) {
        run_effect(store, app, None, e).expect("effect");
    }
}

fn key(app: &mut App, store: &mut Store, code: KeyCode) {
    send(app, store, KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, store: &mut Store, s: &str) {
    for c in s.chars() {
        key(app, store, KeyCode::Char(c));
    }
}

fn new_app(store: &mut Store, w: u16, h: u16) -> App {
    let keymap = Keymap::new(&BTreeMap::new()).expect("keymap");
    let today = NaiveDate::from_ymd_opt(2026, 3, 9).expect("date");
    let mut app = App::new(
        keymap,
        View::Contacts,
        today,
        1_773_050_000,
        &["home".into()],
    );
    app.resize(w, h);
    prime(store, &mut app).expect("prime");
    app
}

#[test]
fn panels_search_tree_and_card_at_three_sizes() {
    std::env::set_var("TZ", "UTC");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(&mut store);
    make_conflict(&mut store);
    for (w, h) in SIZES {
        let name = |what: &str| format!("{what}_{w}x{h}");
        let mut app = new_app(&mut store, w, h);
        // The contact detail: every field with its type (pane when wide, Enter when narrow).
        key(&mut app, &mut store, KeyCode::Char('G'));
        key(&mut app, &mut store, KeyCode::Char('k'));
        if w < 90 {
            key(&mut app, &mut store, KeyCode::Enter);
        }
        insta::assert_snapshot!(name("contact_card"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Esc);
        // The conflicts panel, from the to-dos view.
        key(&mut app, &mut store, KeyCode::Char('3'));
        insta::assert_snapshot!(name("todo_tree"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Char('C'));
        insta::assert_snapshot!(name("conflicts"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Esc);
        // History of the selected to-do.
        key(&mut app, &mut store, KeyCode::Char('R'));
        insta::assert_snapshot!(name("history"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Esc);
        // Trash with one item.
        key(&mut app, &mut store, KeyCode::Char('G'));
        key(&mut app, &mut store, KeyCode::Char('d'));
        key(&mut app, &mut store, KeyCode::Char('T'));
        insta::assert_snapshot!(name("trash"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Enter);
        // Global search.
        key(&mut app, &mut store, KeyCode::Char('F'));
        typed(&mut app, &mut store, "muller");
        insta::assert_snapshot!(name("global_search"), render(&app, w, h));
        key(&mut app, &mut store, KeyCode::Esc);
    }
}

#[test]
fn resolving_a_conflict_in_the_panel_updates_the_status_and_undoes() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(&mut store);
    make_conflict(&mut store);
    let mut app = new_app(&mut store, 100, 30);
    assert_eq!(app.flagged, 1);
    key(&mut app, &mut store, KeyCode::Char('2'));
    key(&mut app, &mut store, KeyCode::Char('C'));
    let Some(Overlay::Conflicts(p)) = &app.overlay else {
        panic!("the conflicts panel opens from the calendar");
    };
    let d = p.detail.as_ref().expect("detail loaded");
    assert!(!d.loading);
    let names: Vec<&str> = d.diff.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, vec!["TITLE", "TEL"], "{:?}", d.diff);
    // O: take the server's version.
    key(&mut app, &mut store, KeyCode::Char('O'));
    assert_eq!(app.flagged, 0, "the status bar count follows");
    let item = store.find("rich", None).expect("rich");
    assert!(!item.flags.has(Flags::CONFLICT));
    assert!(String::from_utf8_lossy(&item.raw).contains("Head of Tinkering"));
    let Some(Overlay::Conflicts(p)) = &app.overlay else {
        panic!("the panel stays open");
    };
    assert!(p.items.is_empty(), "and lists nothing now");
    // u: undo, flagged again with my text back.
    key(&mut app, &mut store, KeyCode::Esc);
    key(&mut app, &mut store, KeyCode::Char('u'));
    assert_eq!(app.flagged, 1);
    let item = store.find("rich", None).expect("rich");
    assert!(item.flags.has(Flags::CONFLICT));
    assert!(String::from_utf8_lossy(&item.raw).contains("Chief Tinkerer"));
    // M: keep mine.
    key(&mut app, &mut store, KeyCode::Char('C'));
    key(&mut app, &mut store, KeyCode::Char('M'));
    assert_eq!(app.flagged, 0);
    let item = store.find("rich", None).expect("rich");
    assert!(String::from_utf8_lossy(&item.raw).contains("Chief Tinkerer"));
}

#[test]
fn global_search_jumps_to_contacts_todos_and_events() {
    std::env::set_var("TZ", "UTC");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    for i in 0..500 {
        let card =
            format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:n{i}\r\nFN:Person {i:03}\r\nEND:VCARD\r\n");
        store
            .create("Contacts", &format!("n{i}"), card.as_bytes(), "t")
            .expect("card");
    }
    fill(&mut store);
    let mut app = new_app(&mut store, 80, 24);
    // A contact far down the list: selected, and its page loaded around it.
    key(&mut app, &mut store, KeyCode::Char('F'));
    typed(&mut app, &mut store, "zoe");
    key(&mut app, &mut store, KeyCode::Enter);
    assert!(app.overlay.is_none());
    assert_eq!(app.view, View::Contacts);
    assert_eq!(app.contacts.current().map(|c| c.uid.as_str()), Some("rich"));
    assert!(app.contacts.selected >= 500, "{}", app.contacts.selected);
    // A subtask: the to-do view, the tree row selected.
    send(
        &mut app,
        &mut store,
        KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL),
    );
    typed(&mut app, &mut store, "seats");
    key(&mut app, &mut store, KeyCode::Enter);
    assert_eq!(app.view, View::Todos);
    assert_eq!(app.todos.current().map(|t| t.uid.as_str()), Some("s2"));
    // An event: the calendar on its day with it selected.
    key(&mut app, &mut store, KeyCode::Char('F'));
    typed(&mut app, &mut store, "lunch");
    key(&mut app, &mut store, KeyCode::Enter);
    assert_eq!(app.view, View::Calendar);
    assert_eq!(
        app.calendar.cursor,
        NaiveDate::from_ymd_opt(2026, 3, 12).expect("date")
    );
    assert_eq!(
        app.calendar.selected_entry().map(|e| e.uid.as_str()),
        Some("e1")
    );
    assert_eq!(
        app.calendar.detail.as_ref().map(|d| d.uid.as_str()),
        Some("e1")
    );
}

/// Every view at a large terminal (the other sizes are in tui_views.rs): nothing stretched
/// into uselessness, wide characters in their columns.
#[test]
fn every_view_at_250x70() {
    std::env::set_var("TZ", "UTC");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(&mut store);
    let (w, h) = (250, 70);
    let mut app = new_app(&mut store, w, h);
    insta::assert_snapshot!("large_contacts", render(&app, w, h));
    for (keys, name) in [
        ("2", "large_calendar_month"),
        ("w", "large_calendar_week"),
        ("a", "large_calendar_agenda"),
        ("3", "large_todos"),
        ("4", "large_photos"),
        ("?", "large_help"),
    ] {
        typed(&mut app, &mut store, keys);
        insta::assert_snapshot!(name, render(&app, w, h));
    }
}

/// The trash restores and the history reverts, from the views, against a real database.
#[test]
fn trash_restores_and_history_reverts() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(&mut store);
    let mut app = new_app(&mut store, 80, 24);
    // To-dos: done (a new revision), then delete it.
    key(&mut app, &mut store, KeyCode::Char('3'));
    let first = app.todos.current().map(|t| t.uid.clone()).expect("a to-do");
    key(&mut app, &mut store, KeyCode::Char(' '));
    let done = store.find(&first, None).expect("find");
    assert!(String::from_utf8_lossy(&done.raw).contains("STATUS:COMPLETED"));
    key(&mut app, &mut store, KeyCode::Char('f'));
    key(&mut app, &mut store, KeyCode::Char('G'));
    let uid = app.todos.current().map(|t| t.uid.clone()).expect("last");
    assert_eq!(uid, first, "done to-dos sort last");
    key(&mut app, &mut store, KeyCode::Char('d'));
    assert!(store.find(&uid, None).expect("kept").deleted);
    // From another view: the trash, Enter restores.
    key(&mut app, &mut store, KeyCode::Char('2'));
    key(&mut app, &mut store, KeyCode::Char('T'));
    let Some(Overlay::Items { items, .. }) = &app.overlay else {
        panic!("trash open")
    };
    assert_eq!(items.len(), 1);
    key(&mut app, &mut store, KeyCode::Enter);
    assert!(!store.find(&uid, None).expect("kept").deleted);
    // History: revisions with time and origin; Enter on the first reverts to it.
    key(&mut app, &mut store, KeyCode::Char('3'));
    key(&mut app, &mut store, KeyCode::Char('G'));
    key(&mut app, &mut store, KeyCode::Char('R'));
    let Some(Overlay::History { revisions, .. }) = &app.overlay else {
        panic!("history open")
    };
    assert!(revisions.len() >= 3, "{revisions:?}");
    assert!(revisions.iter().any(|r| r.origin == "done"));
    assert!(revisions.iter().all(|r| !r.time.is_empty()));
    key(&mut app, &mut store, KeyCode::Char('g'));
    key(&mut app, &mut store, KeyCode::Char('g'));
    key(&mut app, &mut store, KeyCode::Enter);
    let now = store.find(&uid, None).expect("find");
    assert!(!String::from_utf8_lossy(&now.raw).contains("STATUS:COMPLETED"));
    assert!(app
        .message
        .as_deref()
        .is_some_and(|m| m.contains("reverted")));
}

/// Everything the status bar counts as flagged is in the panel: conflicts first, then items
/// kept verbatim because they could not be read (with their problems; `M`/`O` refuse them).
#[test]
fn unreadable_items_are_listed_after_conflicts() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(&mut store);
    make_conflict(&mut store);
    // A time zone nobody knows: kept, read as local time, flagged.
    let broken = event("broken", "Meeting on Mars", "20260310T090000")
        .replace("DTSTART:", "DTSTART;TZID=Mars/Olympus:");
    store
        .create("Calendar", "broken", broken.as_bytes(), "test")
        .expect("kept verbatim");
    let mut app = new_app(&mut store, 80, 24);
    assert_eq!(app.flagged, 2);
    key(&mut app, &mut store, KeyCode::Char('C'));
    let Some(Overlay::Conflicts(p)) = &app.overlay else {
        panic!("panel")
    };
    let uids: Vec<&str> = p.items.iter().map(|i| i.uid.as_str()).collect();
    assert_eq!(uids, vec!["rich", "broken"]);
    key(&mut app, &mut store, KeyCode::Char('j'));
    let Some(Overlay::Conflicts(p)) = &app.overlay else {
        panic!("panel")
    };
    let d = p.detail.as_ref().expect("detail");
    assert!(!d.problems.is_empty(), "{d:?}");
    key(&mut app, &mut store, KeyCode::Char('M'));
    assert_eq!(app.flagged, 2, "nothing resolved");
}
