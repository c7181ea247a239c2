//! `App::update` for the review panels, global search, the contact card, the mouse and vim
//! motions in overlays: keys and loads become state and `Effect`s, no terminal, database or
//! network involved.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use holdfast::model::{Flags, Kind};
use holdfast::store::{SearchGroup, StoredItem};
use holdfast::tui::app::{
    App, CalMode, Day, Effect, Entry, Loaded, Msg, Overlay, TodoFilter, View,
};
use holdfast::tui::keymap::Keymap;
use holdfast::tui::panels::{Card, ConflictDetail};
use holdfast::tui::search::Located;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

fn app(w: u16, h: u16) -> App {
    let keymap = Keymap::new(&BTreeMap::new()).expect("default keymap");
    let today = NaiveDate::from_ymd_opt(2026, 3, 9).expect("date");
    let mut app = App::new(keymap, View::Contacts, today, 1_773_000_000, &[]);
    app.resize(w, h);
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

fn item(id: i64, kind: Kind, name: &str, flags: u32) -> StoredItem {
    let data = match kind {
        Kind::Contact => serde_json::json!({ "full_name": name }),
        _ => serde_json::json!({ "summary": name, "status": "NEEDS-ACTION" }),
    };
    StoredItem {
        id,
        collection: "C".into(),
        collection_id: 1,
        kind,
        uid: format!("u{id}"),
        raw: Vec::new(),
        rev: 3,
        flags: Flags(flags),
        deleted: false,
        edited: false,
        problems: Vec::new(),
        data,
    }
}

fn click(app: &mut App, column: u16, row: u16) -> Vec<Effect> {
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }))
}

fn scroll(app: &mut App, down: bool) -> Vec<Effect> {
    app.update(Msg::Mouse(MouseEvent {
        kind: if down {
            MouseEventKind::ScrollDown
        } else {
            MouseEventKind::ScrollUp
        },
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    }))
}

#[test]
fn conflicts_panel_from_any_view_resolves_and_undoes() {
    let mut a = app(80, 24);
    press(&mut a, KeyCode::Char('3'));
    assert_eq!(
        press(&mut a, KeyCode::Char('C')),
        vec![Effect::LoadConflicts]
    );
    let fx = a.update(Msg::Loaded(Loaded::Conflicts {
        items: vec![
            item(7, Kind::Event, "Standup", Flags::CONFLICT),
            item(8, Kind::Contact, "Ann", Flags::UNPARSABLE),
        ],
    }));
    assert_eq!(
        fx,
        vec![Effect::LoadConflict { id: 7 }],
        "the first one's sides"
    );
    // While it loads, the same selection asks nothing more.
    assert!(a
        .update(Msg::SyncStarted {
            account: "x".into()
        })
        .is_empty());
    a.update(Msg::Loaded(Loaded::ConflictDetail(ConflictDetail {
        id: 7,
        remote: Some((2, "2026-03-09T08:00:00Z".into())),
        ..ConflictDetail::default()
    })));
    assert_eq!(
        press(&mut a, KeyCode::Char('O')),
        vec![Effect::Resolve {
            id: 7,
            theirs: true
        }]
    );
    assert_eq!(
        press(&mut a, KeyCode::Char('M')),
        vec![Effect::Resolve {
            id: 7,
            theirs: false
        }]
    );
    // j: the next item's detail is loaded; an unreadable item is not "resolved".
    assert_eq!(
        press(&mut a, KeyCode::Char('j')),
        vec![Effect::LoadConflict { id: 8 }]
    );
    assert!(press(&mut a, KeyCode::Char('M')).is_empty());
    assert!(a
        .message
        .as_deref()
        .is_some_and(|m| m.contains("not a conflict")));
    // R: its history.
    assert_eq!(
        press(&mut a, KeyCode::Char('R')),
        vec![Effect::LoadHistory { id: 8 }]
    );
    // A resolution went through: the panel, the lists and the status bar reload; u undoes.
    a.update(Msg::Loaded(Loaded::Conflicts {
        items: vec![item(7, Kind::Event, "Standup", Flags::CONFLICT)],
    }));
    let fx = a.update(Msg::Loaded(Loaded::Changed {
        message: "took the server's version".into(),
        undo: Some(Effect::Reopen {
            id: 7,
            rev: Some(3),
        }),
    }));
    assert!(fx.contains(&Effect::LoadConflicts) && fx.contains(&Effect::LoadStatus));
    a.update(Msg::Loaded(Loaded::Status {
        pending: 1,
        flagged: 0,
    }));
    assert_eq!(a.flagged, 0);
    press(&mut a, KeyCode::Esc);
    assert!(a.overlay.is_none());
    assert_eq!(
        press(&mut a, KeyCode::Char('u')),
        vec![Effect::Reopen {
            id: 7,
            rev: Some(3)
        }]
    );
}

#[test]
fn taking_the_server_version_needs_one() {
    let mut a = app(80, 24);
    press(&mut a, KeyCode::Char('C'));
    a.update(Msg::Loaded(Loaded::Conflicts {
        items: vec![item(7, Kind::Todo, "T", Flags::CONFLICT)],
    }));
    a.update(Msg::Loaded(Loaded::ConflictDetail(ConflictDetail {
        id: 7,
        remote: None,
        ..ConflictDetail::default()
    })));
    assert!(press(&mut a, KeyCode::Char('O')).is_empty());
    assert!(a
        .message
        .as_deref()
        .is_some_and(|m| m.contains("not in this item's history")));
}

fn group(kind: Kind, items: Vec<StoredItem>) -> SearchGroup {
    SearchGroup {
        kind,
        total: items.len(),
        rows: items,
        more: false,
    }
}

#[test]
fn global_search_types_drops_stale_answers_and_jumps() {
    let mut a = app(80, 24);
    a.contacts.query = "old filter".into();
    assert!(press(&mut a, KeyCode::Char('F')).is_empty());
    assert!(matches!(a.overlay, Some(Overlay::Search(_))));
    // Keys are text here: q, j, G do not quit or move.
    assert_eq!(
        press(&mut a, KeyCode::Char('q')),
        vec![Effect::GlobalSearch { query: "q".into() }]
    );
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Char('m'));
    assert_eq!(
        press(&mut a, KeyCode::Char('ü')),
        vec![Effect::GlobalSearch {
            query: "mü".into()
        }]
    );
    assert!(!a.quit);
    // The answer to "m" arrives late: dropped.
    a.update(Msg::Loaded(Loaded::SearchResults {
        query: "m".into(),
        groups: vec![group(Kind::Contact, vec![item(1, Kind::Contact, "Max", 0)])],
    }));
    let Some(Overlay::Search(p)) = &a.overlay else {
        panic!("open")
    };
    assert!(p.is_empty());
    a.update(Msg::Loaded(Loaded::SearchResults {
        query: "mü".into(),
        groups: vec![
            group(Kind::Contact, vec![item(2, Kind::Contact, "Zoë Müller", 0)]),
            group(Kind::Todo, vec![item(3, Kind::Todo, "Call Müller", 0)]),
        ],
    }));
    press(&mut a, KeyCode::Down);
    let Some(Overlay::Search(p)) = &a.overlay else {
        panic!("open")
    };
    assert_eq!(p.current().map(|i| i.id), Some(3));
    press(&mut a, KeyCode::Up);
    assert_eq!(
        press(&mut a, KeyCode::Enter),
        vec![Effect::Locate {
            id: 2,
            kind: Kind::Contact
        }]
    );
    assert!(a.overlay.is_none());
    assert!(
        a.contacts.query.is_empty(),
        "the filter that could hide it is cleared"
    );
    // Located far down: the row is selected and its page is on screen.
    a.view = View::Todos;
    let fx = a.update(Msg::Loaded(Loaded::Located(Located::Row {
        view: View::Contacts,
        position: 73_456,
    })));
    assert_eq!(a.view, View::Contacts);
    assert_eq!(fx[0], Effect::LoadContacts);
    assert_eq!(a.contacts.selected, 73_456);
    let h = a.list_height;
    assert!(a.contacts.offset <= 73_456 && 73_456 < a.contacts.offset + h);
    // A done to-do: the list shows all to-dos, so it is in it.
    ctrl(&mut a, 'f');
    press(&mut a, KeyCode::Char('x'));
    let mut done = item(4, Kind::Todo, "Done thing", 0);
    done.data["status"] = "COMPLETED".into();
    a.update(Msg::Loaded(Loaded::SearchResults {
        query: "x".into(),
        groups: vec![group(Kind::Todo, vec![done])],
    }));
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.todo_filter, TodoFilter::All);
}

#[test]
fn an_event_hit_opens_its_day_with_it_selected() {
    let mut a = app(80, 24);
    let day = NaiveDate::from_ymd_opt(2026, 7, 1).expect("date");
    let fx = a.update(Msg::Loaded(Loaded::Located(Located::Day {
        date: day,
        uid: "ev-b".into(),
    })));
    assert_eq!(fx[0], Effect::LoadCalendar);
    assert_eq!((a.view, a.calendar.cursor), (View::Calendar, day));
    let entry = |uid: &str| Entry {
        time: Some("10:00".into()),
        end: None,
        summary: uid.into(),
        location: String::new(),
        uid: uid.into(),
        birthday: false,
        color: None,
        start: 0,
    };
    let mut days = BTreeMap::new();
    days.insert(
        day,
        Day {
            entries: vec![entry("ev-a"), entry("ev-b")],
            count: 2,
            capped: false,
        },
    );
    let fx = a.update(Msg::Loaded(Loaded::Calendar { days }));
    assert_eq!(a.calendar.entry, 1);
    assert_eq!(fx, vec![Effect::LoadDetail { uid: "ev-b".into() }]);
}

#[test]
fn the_card_loads_for_the_selected_contact_and_opens_on_narrow_screens() {
    // Wide: the detail pane shows the card; each new selection loads it once.
    let mut a = app(120, 30);
    let fx = a.update(Msg::Loaded(Loaded::Contacts {
        rows: vec![
            item(1, Kind::Contact, "A", 0),
            item(2, Kind::Contact, "B", 0),
        ],
        total: 2,
        more: false,
    }));
    assert_eq!(fx, vec![Effect::LoadCard { id: 1 }]);
    a.update(Msg::Loaded(Loaded::Card(Card {
        id: 1,
        fields: Vec::new(),
        loading: false,
        ..Card::default()
    })));
    assert_eq!(
        press(&mut a, KeyCode::Char('j')),
        vec![Effect::LoadCard { id: 2 }]
    );
    // Narrow: no pane, nothing loaded until Enter opens the card.
    let mut a = app(80, 24);
    let fx = a.update(Msg::Loaded(Loaded::Contacts {
        rows: vec![item(1, Kind::Contact, "A", 0)],
        total: 1,
        more: false,
    }));
    assert!(fx.is_empty());
    assert_eq!(
        press(&mut a, KeyCode::Enter),
        vec![Effect::LoadCard { id: 1 }]
    );
    assert!(matches!(a.overlay, Some(Overlay::Card)));
    press(&mut a, KeyCode::Esc);
    assert!(a.overlay.is_none());
}

#[test]
fn mouse_tabs_rows_days_and_wheel() {
    let mut a = app(80, 24);
    // Tabs: "  1 Contacts  " is 14 wide, "  2 Calendar  " the next 14.
    assert_eq!(
        click(&mut a, 20, 0),
        vec![Effect::LoadCalendar, Effect::SaveLastView]
    );
    assert_eq!(a.view, View::Calendar);
    click(&mut a, 30, 0);
    assert_eq!(a.view, View::Todos);
    // A row of the to-do list.
    a.update(Msg::Loaded(Loaded::Todos {
        rows: (0..5).map(|i| item(i, Kind::Todo, "t", 0)).collect(),
        total: 5,
        more: false,
    }));
    click(&mut a, 10, 3 + 2);
    assert_eq!(a.todos.selected, 2);
    click(&mut a, 10, 3 + 9);
    assert_eq!(a.todos.selected, 2, "below the last row: nothing");
    scroll(&mut a, true);
    assert_eq!(a.todos.selected, 3);
    // A day of the month grid: March 2026 starts on Monday 23 February in the grid.
    click(&mut a, 20, 0);
    assert_eq!(a.calendar.mode, CalMode::Month);
    // 80 wide: 11 columns a day; 20 rows inside: a week is 3 rows from row 3.
    let fx = click(&mut a, 11 * 2 + 1, 3 + 3 * 2);
    assert_eq!(
        a.calendar.cursor,
        NaiveDate::from_ymd_opt(2026, 3, 11).expect("date"),
        "{fx:?}"
    );
    // The wheel scrolls an open overlay's list, not the view under it.
    press(&mut a, KeyCode::Char('T'));
    a.update(Msg::Loaded(Loaded::Items {
        trash: true,
        items: (0..4).map(|i| item(i, Kind::Todo, "t", 0)).collect(),
    }));
    let cursor = a.calendar.cursor;
    scroll(&mut a, true);
    scroll(&mut a, true);
    let Some(Overlay::Items { selected, .. }) = &a.overlay else {
        panic!("trash open")
    };
    assert_eq!(*selected, 2);
    assert_eq!(a.calendar.cursor, cursor);
}

#[test]
fn vim_motions_in_overlay_lists() {
    let mut a = app(80, 24);
    press(&mut a, KeyCode::Char('T'));
    a.update(Msg::Loaded(Loaded::Items {
        trash: true,
        items: (0..40).map(|i| item(i, Kind::Contact, "c", 0)).collect(),
    }));
    let sel = |a: &App| match &a.overlay {
        Some(Overlay::Items { selected, .. }) => *selected,
        _ => usize::MAX,
    };
    press(&mut a, KeyCode::Char('G'));
    assert_eq!(sel(&a), 39);
    press(&mut a, KeyCode::Char('g'));
    press(&mut a, KeyCode::Char('g'));
    assert_eq!(sel(&a), 0);
    ctrl(&mut a, 'd');
    assert_eq!(sel(&a), a.list_height / 2);
    ctrl(&mut a, 'u');
    assert_eq!(sel(&a), 0);
    // Enter restores the selected one.
    press(&mut a, KeyCode::Char('j'));
    assert_eq!(
        press(&mut a, KeyCode::Enter),
        vec![Effect::Undelete { id: 1 }]
    );
}

#[test]
fn a_click_in_the_agenda_selects_the_day_and_entry() {
    let mut a = app(80, 24);
    press(&mut a, KeyCode::Char('2'));
    press(&mut a, KeyCode::Char('a'));
    assert_eq!(a.calendar.mode, CalMode::Agenda);
    let today = a.calendar.cursor;
    let entry = |uid: &str| Entry {
        time: None,
        end: None,
        summary: uid.into(),
        location: String::new(),
        uid: uid.into(),
        birthday: false,
        color: None,
        start: 0,
    };
    let mut days = BTreeMap::new();
    days.insert(
        today,
        Day {
            entries: vec![entry("a1"), entry("a2")],
            count: 2,
            capped: false,
        },
    );
    days.insert(
        today + chrono::Duration::days(2),
        Day {
            entries: vec![entry("c1"), entry("c2")],
            count: 2,
            capped: false,
        },
    );
    a.update(Msg::Loaded(Loaded::Calendar { days }));
    // Row 2: today's heading; 3, 4: its entries; 5, 6: tomorrow and "—"; 7: the day after.
    let fx = click(&mut a, 5, 4);
    assert_eq!((a.calendar.cursor, a.calendar.entry), (today, 1));
    assert_eq!(fx, vec![Effect::LoadDetail { uid: "a2".into() }]);
    click(&mut a, 5, 5);
    assert_eq!(a.calendar.cursor, today + chrono::Duration::days(1));
    // The agenda now starts at the selected day: 2 its heading, 3 "—", 4 the next day, 5 and
    // 6 its entries.
    click(&mut a, 5, 6);
    assert_eq!(
        (a.calendar.cursor, a.calendar.entry),
        (today + chrono::Duration::days(2), 1)
    );
}
