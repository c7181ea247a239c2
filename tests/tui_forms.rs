//! The create and edit forms: the state machine through `App::update` (no terminal), saves
//! carried out against a real database through the runtime's `run_effect`, and each form
//! rendered into `TestBackend` at 60×20, 80×24 and 160×48 (insta snapshots).

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use holdfast::format::compose::{Draft, FieldId};
use holdfast::model::{Flags, Kind};
use holdfast::store::{Store, StoredItem};
use holdfast::tui::app::{App, Effect, Loaded, Msg, Overlay, View};
use holdfast::tui::form::{Form, Stage, Target};
use holdfast::tui::keymap::Keymap;
use holdfast::tui::theme::Theme;
use holdfast::tui::{prime, run_effect, views};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

const SIZES: [(u16, u16); 3] = [(60, 20), (80, 24), (160, 48)];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 9).expect("date")
}

fn app(view: View) -> App {
    let keymap = Keymap::new(&BTreeMap::new()).expect("default keymap");
    let mut app = App::new(keymap, view, today(), 1_773_050_000, &[]);
    app.resize(80, 24);
    app
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        assert!(press(app, KeyCode::Char(c)).is_empty());
    }
}

fn tabs(app: &mut App, n: usize) {
    for _ in 0..n {
        press(app, KeyCode::Tab);
    }
}

fn form(app: &App) -> &Form {
    match &app.overlay {
        Some(Overlay::Form(f)) => f,
        other => panic!("a form expected, got {other:?}"),
    }
}

fn values(app: &App, id: FieldId) -> Vec<String> {
    form(app)
        .fields
        .iter()
        .filter(|f| f.id == id)
        .map(|f| f.value().to_string())
        .collect()
}

fn error(app: &App, id: FieldId) -> Option<String> {
    form(app)
        .fields
        .iter()
        .find(|f| f.id == id)
        .and_then(|f| f.error.clone())
}

const WEEKLY: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n\
UID:weekly-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T100000Z\r\n\
DTEND:20260302T110000Z\r\nSUMMARY:Standup\r\nRRULE:FREQ=WEEKLY\r\n\
ATTENDEE;CN=Ann:mailto:ann@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// The Monday 2026-03-09 10:00 UTC occurrence.
fn monday() -> i64 {
    Utc.with_ymd_and_hms(2026, 3, 9, 10, 0, 0)
        .single()
        .expect("t")
        .timestamp()
}

fn stored(kind: Kind, uid: &str, raw: &str) -> StoredItem {
    StoredItem {
        id: 7,
        collection: "Calendar".into(),
        collection_id: 1,
        kind,
        uid: uid.into(),
        raw: raw.as_bytes().to_vec(),
        rev: 1,
        flags: Flags(0),
        deleted: false,
        edited: false,
        problems: Vec::new(),
        data: serde_json::Value::Null,
    }
}

#[test]
fn typing_wide_characters_moves_by_whole_characters() {
    let mut a = app(View::Contacts);
    press(&mut a, KeyCode::Char('n'));
    typed(&mut a, "山田");
    press(&mut a, KeyCode::Left);
    typed(&mut a, "x");
    press(&mut a, KeyCode::End);
    typed(&mut a, " 太郎");
    press(&mut a, KeyCode::Backspace);
    assert_eq!(values(&a, FieldId::FullName), ["山x田 太"]);
}

#[test]
fn an_invalid_save_keeps_every_value_and_marks_each_field() {
    let mut a = app(View::Calendar);
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(values(&a, FieldId::Start), ["2026-03-09 09:00"]);
    // No summary; an end before the start; a zone that does not exist.
    tabs(&mut a, 2);
    typed(&mut a, "2026-03-09 08:00");
    tabs(&mut a, 3);
    typed(&mut a, "Europe/Atlantis");
    assert!(ctrl(&mut a, 's').is_empty(), "nothing saved");
    assert_eq!(
        error(&a, FieldId::Summary).as_deref(),
        Some("an event needs a summary")
    );
    assert_eq!(
        error(&a, FieldId::End).as_deref(),
        Some("ends before it starts")
    );
    assert!(error(&a, FieldId::Tz).unwrap_or_default().contains("IANA"));
    // The default duration and a typed end: one of them must go.
    assert!(error(&a, FieldId::Duration)
        .unwrap_or_default()
        .contains("not both"));
    assert_eq!(
        form(&a).error.as_deref(),
        Some("not saved: 4 fields need fixing")
    );
    // Everything typed is still there; the focus went to the first bad field.
    assert_eq!(values(&a, FieldId::End), ["2026-03-09 08:00"]);
    assert_eq!(values(&a, FieldId::Tz), ["Europe/Atlantis"]);
    assert_eq!(form(&a).focus, 0);
    // Typing into a field clears its error only.
    typed(&mut a, "Yoga");
    assert_eq!(error(&a, FieldId::Summary), None);
    assert!(error(&a, FieldId::End).is_some());
    // Fixed, it saves: the zone and end as typed.
    tabs(&mut a, 2);
    ctrl(&mut a, 'u');
    typed(&mut a, "2026-03-09 10:30");
    tabs(&mut a, 1);
    ctrl(&mut a, 'u');
    tabs(&mut a, 2);
    ctrl(&mut a, 'u');
    typed(&mut a, "Europe/Berlin");
    let fx = ctrl(&mut a, 's');
    match fx.as_slice() {
        [Effect::SaveForm(s)] => {
            assert_eq!(s.target, Target::New);
            match &s.after {
                Draft::Event(e) => {
                    assert_eq!(
                        (e.summary.as_str(), e.end.as_str(), e.tz.as_str()),
                        ("Yoga", "2026-03-09 10:30", "Europe/Berlin")
                    );
                    assert_eq!(e.duration, "");
                }
                other => panic!("event expected: {other:?}"),
            }
        }
        other => panic!("one save expected, got {other:?}"),
    }
    // The store refuses: the form keeps everything and says why.
    a.update(Msg::Loaded(Loaded::FormError("disk full".into())));
    assert_eq!(form(&a).error.as_deref(), Some("disk full"));
    assert_eq!(values(&a, FieldId::Summary), ["Yoga"]);
}

#[test]
fn email_rows_are_added_typed_and_removed() {
    let mut a = app(View::Contacts);
    press(&mut a, KeyCode::Char('n'));
    typed(&mut a, "Ann Lee");
    tabs(&mut a, 3);
    typed(&mut a, "a@example.org");
    ctrl(&mut a, 'n');
    typed(&mut a, "b@example.org");
    ctrl(&mut a, 't');
    ctrl(&mut a, 'n');
    typed(&mut a, "c@example.org");
    assert_eq!(
        values(&a, FieldId::Email),
        ["a@example.org", "b@example.org", "c@example.org"]
    );
    ctrl(&mut a, 'd');
    assert_eq!(
        values(&a, FieldId::Email),
        ["a@example.org", "b@example.org"]
    );
    assert_eq!(form(&a).fields[form(&a).focus].id, FieldId::Email);
    // The only phone row is cleared, not removed.
    press(&mut a, KeyCode::Tab);
    typed(&mut a, "+49 1");
    ctrl(&mut a, 'd');
    assert_eq!(values(&a, FieldId::Phone), [""]);
    // A bad second email: the error is on that row.
    press(&mut a, KeyCode::Up);
    typed(&mut a, " oops");
    assert!(ctrl(&mut a, 's').is_empty());
    let rows: Vec<Option<String>> = form(&a)
        .fields
        .iter()
        .filter(|f| f.id == FieldId::Email)
        .map(|f| f.error.clone())
        .collect();
    assert_eq!(rows[0], None);
    assert!(rows[1].is_some(), "{rows:?}");
    for _ in 0..5 {
        press(&mut a, KeyCode::Backspace);
    }
    let fx = ctrl(&mut a, 's');
    let [Effect::SaveForm(s)] = fx.as_slice() else {
        panic!("save expected, got {fx:?}");
    };
    let Draft::Contact(c) = &s.after else {
        panic!("contact expected");
    };
    let emails: Vec<(&str, &str)> = c
        .emails
        .iter()
        .map(|r| (r.kind.as_str(), r.value.as_str()))
        .collect();
    assert_eq!(
        emails,
        [("home", "a@example.org"), ("work", "b@example.org")]
    );
}

#[test]
fn esc_on_a_changed_form_asks_before_discarding() {
    let mut a = app(View::Todos);
    press(&mut a, KeyCode::Char('n'));
    // Unchanged: Esc just closes.
    press(&mut a, KeyCode::Esc);
    assert!(a.overlay.is_none());
    press(&mut a, KeyCode::Char('n'));
    typed(&mut a, "Buy milk");
    press(&mut a, KeyCode::Esc);
    assert!(matches!(form(&a).stage, Stage::Discard));
    // n (or a stray Enter): back to the form with the text.
    press(&mut a, KeyCode::Enter);
    assert!(matches!(form(&a).stage, Stage::Editing));
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('n'));
    assert!(matches!(form(&a).stage, Stage::Editing));
    assert_eq!(values(&a, FieldId::Summary), ["Buy milk"]);
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('y'));
    assert!(a.overlay.is_none());
    assert_eq!(a.message.as_deref(), Some("not saved"));
}

#[test]
fn enter_moves_on_and_saves_on_the_last_field() {
    let mut a = app(View::Todos);
    press(&mut a, KeyCode::Char('n'));
    typed(&mut a, "Call mum");
    let n = form(&a).fields.len();
    for _ in 0..n - 1 {
        assert!(press(&mut a, KeyCode::Enter).is_empty());
    }
    assert_eq!(form(&a).focus, n - 1);
    let fx = press(&mut a, KeyCode::Enter);
    assert!(matches!(fx.as_slice(), [Effect::SaveForm(_)]), "{fx:?}");
    // The runtime refuses the parent: the error shows at the parent field.
    a.update(Msg::Loaded(Loaded::FieldError {
        field: FieldId::Parent,
        row: 0,
        message: "no to-do matches “x”".into(),
    }));
    assert_eq!(
        error(&a, FieldId::Parent).as_deref(),
        Some("no to-do matches “x”")
    );
}

#[test]
fn a_sync_or_the_mouse_never_takes_the_form_away() {
    use holdfast::sync::engine::{AccountReport, CollectionReport, Guard};
    use ratatui::crossterm::event::{MouseEvent, MouseEventKind};
    let keymap = Keymap::new(&BTreeMap::new()).expect("keymap");
    let mut a = App::new(keymap, View::Contacts, today(), 0, &["home".into()]);
    press(&mut a, KeyCode::Char('n'));
    typed(&mut a, "Half typed");
    a.update(Msg::SyncDone {
        report: AccountReport {
            account: "home".into(),
            collections: vec![CollectionReport {
                collection: "Contacts".into(),
                guard: Some(Guard {
                    held_back: 9,
                    synced: 10,
                    reason: "the server removed 9 of 10".into(),
                }),
                ..Default::default()
            }],
            ..Default::default()
        },
        now: 1,
    });
    assert_eq!(values(&a, FieldId::FullName), ["Half typed"]);
    assert!(a.message.as_deref().unwrap_or("").contains("home"));
    // A click on the tabs does not switch views under the form.
    a.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(ratatui::crossterm::event::MouseButton::Left),
        column: 20,
        row: 0,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(a.view, View::Contacts);
    assert_eq!(values(&a, FieldId::FullName), ["Half typed"]);
}

fn open_occurrence(a: &mut App) {
    a.update(Msg::Loaded(Loaded::Editing {
        item: stored(Kind::Event, "weekly-1", WEEKLY),
        occurrence: Some(monday()),
    }));
    assert!(matches!(form(a).stage, Stage::Scope(_)));
}

#[test]
fn a_repeating_event_asks_this_occurrence_or_the_series() {
    let mut a = app(View::Calendar);
    open_occurrence(&mut a);
    // Enter on the first choice: this occurrence, at its own time, without the repeat fields.
    press(&mut a, KeyCode::Enter);
    assert_eq!(form(&a).title(), " Edit event — this occurrence ");
    assert_eq!(values(&a, FieldId::Start), ["2026-03-09 10:00"]);
    assert!(values(&a, FieldId::Repeat).is_empty());
    tabs(&mut a, 6);
    typed(&mut a, "Room 2");
    let fx = ctrl(&mut a, 's');
    let [Effect::SaveForm(s)] = fx.as_slice() else {
        panic!("save expected, got {fx:?}");
    };
    assert_eq!(
        s.target,
        Target::Occurrence {
            id: 7,
            rid: monday()
        }
    );
    // j then Enter (or s): the whole series, from its first start, with its repeat rule.
    let mut a = app(View::Calendar);
    open_occurrence(&mut a);
    press(&mut a, KeyCode::Char('j'));
    press(&mut a, KeyCode::Enter);
    assert_eq!(form(&a).target, Target::Edit { id: 7 });
    assert_eq!(values(&a, FieldId::Start), ["2026-03-02 10:00"]);
    assert_eq!(values(&a, FieldId::Repeat), ["weekly"]);
    // ←/→ change a choice; typing does not.
    let repeat = form(&a)
        .fields
        .iter()
        .position(|f| f.id == FieldId::Repeat)
        .expect("repeat");
    tabs(&mut a, repeat);
    press(&mut a, KeyCode::Right);
    typed(&mut a, "x");
    assert_eq!(values(&a, FieldId::Repeat), ["monthly"]);
    // Esc at the prompt closes without a form.
    let mut a = app(View::Calendar);
    open_occurrence(&mut a);
    press(&mut a, KeyCode::Esc);
    assert!(a.overlay.is_none());
}

// ---- Against a real database ----

const CARD: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-zoe\r\nN:Müller;Zoë;;;\r\nFN:Zoë Müller\r\n\
ORG:Ümlaut & Söhne\r\nitem1.EMAIL;type=INTERNET:zoe@example.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n\
EMAIL;TYPE=WORK:zoe@work.example\r\nTEL;TYPE=CELL:+49 30 1234567\r\n\
ADR;TYPE=home:;;ul. Długa 5;Kraków;;30-001;Poland\r\nX-CUSTOM:keep\r\nBDAY:1980-03-10\r\n\
NOTE:Met at the conference\\, Berlin\r\nEND:VCARD\r\n";

const TODO: &str =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:t-taxes\r\n\
DTSTAMP:20260101T000000Z\r\nSUMMARY:File taxes\r\nDUE;VALUE=DATE:20260415\r\nPRIORITY:1\r\n\
STATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";

const RECEIPTS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\n\
UID:t-receipts\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Collect receipts\r\n\
STATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";

fn database() -> (tempfile::TempDir, Store) {
    std::env::set_var("TZ", "UTC");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    store
        .create("Contacts", "c-zoe", CARD.as_bytes(), "test")
        .expect("card");
    store
        .create("Calendar", "weekly-1", WEEKLY.as_bytes(), "test")
        .expect("event");
    store
        .create("Tasks", "t-taxes", TODO.as_bytes(), "test")
        .expect("todo");
    store
        .create("Tasks", "t-receipts", RECEIPTS.as_bytes(), "test")
        .expect("todo");
    (dir, store)
}

fn run(a: &mut App, store: &mut Store, fx: Vec<Effect>) {
    for e in fx {
        run_effect(store, a, None, e).expect("effect");
    }
}

fn key(a: &mut App, store: &mut Store, code: KeyCode) {
    let fx = press(a, code);
    run(a, store, fx);
}

fn ctrl_key(a: &mut App, store: &mut Store, c: char) {
    let fx = ctrl(a, c);
    run(a, store, fx);
}

fn raw(store: &Store, uid: &str) -> String {
    String::from_utf8(store.find(uid, None).expect("item").raw).expect("utf-8")
}

#[test]
fn editing_a_contact_writes_a_revision_that_u_undoes() {
    let (_dir, mut store) = database();
    let mut a = app(View::Contacts);
    prime(&mut store, &mut a).expect("prime");
    key(&mut a, &mut store, KeyCode::Char('e'));
    assert_eq!(form(&a).title(), " Edit contact ");
    assert_eq!(
        values(&a, FieldId::Email),
        ["zoe@example.org", "zoe@work.example"]
    );
    tabs(&mut a, 2);
    typed(&mut a, "CEO");
    ctrl_key(&mut a, &mut store, 's');
    assert!(a.overlay.is_none(), "the form closes once saved");
    let after = raw(&store, "c-zoe");
    assert_eq!(
        after.replace("TITLE:CEO\r\n", ""),
        CARD,
        "only the title was added"
    );
    let history = store
        .history(&store.find("c-zoe", None).expect("item"))
        .expect("history");
    assert_eq!(history.last().map(|r| r.origin.as_str()), Some("tui"));
    key(&mut a, &mut store, KeyCode::Char('u'));
    assert_eq!(raw(&store, "c-zoe"), CARD, "u brings the old text back");
}

#[test]
fn creating_through_the_form_and_undoing_it() {
    let (_dir, mut store) = database();
    let mut a = app(View::Todos);
    prime(&mut store, &mut a).expect("prime");
    key(&mut a, &mut store, KeyCode::Char('n'));
    typed(&mut a, "Sort receipts");
    tabs(&mut a, 5);
    // A parent by part of its summary.
    typed(&mut a, "collect");
    ctrl_key(&mut a, &mut store, 's');
    assert!(a.overlay.is_none());
    let made = store
        .list(&holdfast::store::Filter {
            kind: Some(Kind::Todo),
            query: Some("sort".into()),
            ..Default::default()
        })
        .expect("list");
    assert_eq!(made.len(), 1);
    let text = raw(&store, &made[0].uid);
    assert!(
        text.contains("RELATED-TO;RELTYPE=PARENT:t-receipts\r\n"),
        "{text}"
    );
    key(&mut a, &mut store, KeyCode::Char('u'));
    assert!(
        store.find(&made[0].uid, None).expect("item").deleted,
        "u moves the new item to the trash"
    );
}

#[test]
fn a_parent_must_exist_and_not_be_the_item_itself() {
    let (_dir, mut store) = database();
    let mut a = app(View::Todos);
    prime(&mut store, &mut a).expect("prime");
    // The list shows "Collect receipts" then "File taxes" (by due / summary): pick taxes.
    let at = a
        .todos
        .rows
        .iter()
        .position(|t| t.uid == "t-taxes")
        .expect("taxes listed");
    for _ in 0..at {
        key(&mut a, &mut store, KeyCode::Char('j'));
    }
    key(&mut a, &mut store, KeyCode::Char('e'));
    assert_eq!(values(&a, FieldId::Due), ["2026-04-15"]);
    assert_eq!(values(&a, FieldId::Priority), ["1"]);
    tabs(&mut a, 5);
    typed(&mut a, "t-taxes");
    ctrl_key(&mut a, &mut store, 's');
    assert_eq!(
        error(&a, FieldId::Parent).as_deref(),
        Some("a to-do cannot be its own parent")
    );
    ctrl(&mut a, 'u');
    typed(&mut a, "nothing like it");
    ctrl_key(&mut a, &mut store, 's');
    assert!(error(&a, FieldId::Parent)
        .unwrap_or_default()
        .contains("no to-do matches"));
    assert_eq!(raw(&store, "t-taxes"), TODO, "nothing was written");
}

#[test]
fn one_occurrence_is_saved_as_an_override_and_undone() {
    let (_dir, mut store) = database();
    let mut a = app(View::Calendar);
    prime(&mut store, &mut a).expect("prime");
    let entry = a
        .calendar
        .selected_entry()
        .expect("today's standup")
        .clone();
    assert_eq!((entry.summary.as_str(), entry.start), ("Standup", monday()));
    key(&mut a, &mut store, KeyCode::Char('e'));
    assert!(matches!(form(&a).stage, Stage::Scope(_)));
    key(&mut a, &mut store, KeyCode::Char('o'));
    tabs(&mut a, 6);
    typed(&mut a, "Room 2");
    ctrl_key(&mut a, &mut store, 's');
    assert!(a.overlay.is_none(), "{:?}", a.message);
    let text = raw(&store, "weekly-1");
    assert!(text.starts_with(&WEEKLY[..WEEKLY.len() - "END:VCALENDAR\r\n".len()]));
    assert!(
        text.contains("RECURRENCE-ID:20260309T100000Z\r\n"),
        "{text}"
    );
    assert!(text.contains("LOCATION:Room 2\r\n"), "{text}");
    key(&mut a, &mut store, KeyCode::Char('u'));
    assert_eq!(raw(&store, "weekly-1"), WEEKLY);
}

// ---- Rendered ----

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme { color: false };
    t.draw(|f| views::draw(f, app, &theme)).expect("draw");
    format!("{}", t.backend())
}

#[test]
fn every_form_rendered_at_three_sizes() {
    let (_dir, mut store) = database();
    for (w, h) in SIZES {
        let name = |what: &str| format!("{what}_{w}x{h}");
        let mut a = app(View::Contacts);
        a.resize(w, h);
        prime(&mut store, &mut a).expect("prime");
        key(&mut a, &mut store, KeyCode::Char('e'));
        insta::assert_snapshot!(name("form_edit_contact"), render(&a, w, h));
        // Ten email rows: on a short screen the fields scroll with the focus.
        tabs(&mut a, 4);
        for i in 0..10 {
            ctrl(&mut a, 'n');
            typed(&mut a, &format!("extra{i}@example.org"));
        }
        insta::assert_snapshot!(name("form_contact_rows"), render(&a, w, h));
        // The last field (BackTab from the first wraps round) scrolls the top away.
        let back = form(&a).focus + 1;
        for _ in 0..back {
            press(&mut a, KeyCode::BackTab);
        }
        assert_eq!(form(&a).fields[form(&a).focus].id, FieldId::Note);
        insta::assert_snapshot!(name("form_contact_scrolled"), render(&a, w, h));
        key(&mut a, &mut store, KeyCode::Esc);
        key(&mut a, &mut store, KeyCode::Char('y'));

        key(&mut a, &mut store, KeyCode::Char('2'));
        key(&mut a, &mut store, KeyCode::Char('n'));
        typed(&mut a, "Yoga 🧘");
        insta::assert_snapshot!(name("form_new_event"), render(&a, w, h));
        // A validation error: the end before the start, shown under the field.
        tabs(&mut a, 2);
        typed(&mut a, "2026-03-09 08:00");
        ctrl_key(&mut a, &mut store, 's');
        insta::assert_snapshot!(name("form_validation_error"), render(&a, w, h));
        key(&mut a, &mut store, KeyCode::Esc);
        insta::assert_snapshot!(name("form_discard_prompt"), render(&a, w, h));
        key(&mut a, &mut store, KeyCode::Char('y'));

        key(&mut a, &mut store, KeyCode::Char('e'));
        insta::assert_snapshot!(name("form_occurrence_prompt"), render(&a, w, h));
        key(&mut a, &mut store, KeyCode::Char('s'));
        insta::assert_snapshot!(name("form_edit_series"), render(&a, w, h));
        key(&mut a, &mut store, KeyCode::Esc);

        key(&mut a, &mut store, KeyCode::Char('3'));
        key(&mut a, &mut store, KeyCode::Char('n'));
        typed(&mut a, "Sort receipts");
        insta::assert_snapshot!(name("form_new_todo"), render(&a, w, h));
        key(&mut a, &mut store, KeyCode::Esc);
        key(&mut a, &mut store, KeyCode::Char('y'));
        key(&mut a, &mut store, KeyCode::Char('1'));
    }
}
