//! `App::update` without a terminal, a database or a network: keys become state changes and
//! effects, sync events become status, and the guard prompt offers its three ways on.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use holdfast::format::compose::Draft;
use holdfast::sync::engine::{AccountReport, CollectionReport, Guard};
use holdfast::tui::app::{App, Effect, Loaded, Msg, Overlay, SyncState, View};
use holdfast::tui::keymap::Keymap;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn app() -> App {
    let keymap = Keymap::new(&BTreeMap::new()).expect("default keymap");
    let today = NaiveDate::from_ymd_opt(2026, 3, 9).expect("date");
    let mut app = App::new(
        keymap,
        View::Contacts,
        today,
        1_773_000_000,
        &["home".to_string()],
    );
    app.resize(80, 24);
    app
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut App, s: &str) -> Vec<Effect> {
    let mut all = Vec::new();
    for c in s.chars() {
        all.extend(press(app, KeyCode::Char(c)));
    }
    all
}

/// A list of `total` contacts whose page (from the current offset) is "loaded".
fn with_contacts(app: &mut App, total: usize) {
    app.update(Msg::Loaded(Loaded::Contacts {
        rows: Vec::new(),
        total,
        more: false,
    }));
}

#[test]
fn moving_past_the_page_asks_for_the_next_page_only() {
    let mut a = app();
    with_contacts(&mut a, 100_000);
    let h = a.list_height;
    // Inside the page: no load.
    assert!(press(&mut a, KeyCode::Char('j')).is_empty() || a.contacts.selected == 1);
    for _ in 0..h {
        press(&mut a, KeyCode::Char('j'));
    }
    assert_eq!(a.contacts.selected, h + 1);
    assert!(a.contacts.offset > 0, "the page moved");
    // G jumps to the end of 100,000 rows, and asks for that page.
    let fx = press(&mut a, KeyCode::Char('G'));
    assert_eq!(a.contacts.selected, 99_999);
    assert_eq!(fx, vec![Effect::LoadContacts]);
    assert_eq!(a.contacts.offset, 100_000 - h);
    // gg goes back to the top.
    press(&mut a, KeyCode::Char('g'));
    press(&mut a, KeyCode::Char('g'));
    assert_eq!((a.contacts.selected, a.contacts.offset), (0, 0));
}

#[test]
fn views_switch_by_number_and_tab_and_remember_the_last() {
    let mut a = app();
    assert_eq!(
        press(&mut a, KeyCode::Char('2')),
        vec![Effect::LoadCalendar, Effect::SaveLastView]
    );
    assert_eq!(a.view, View::Calendar);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.view, View::Todos);
    press(&mut a, KeyCode::BackTab);
    press(&mut a, KeyCode::BackTab);
    assert_eq!(a.view, View::Contacts);
    assert_eq!(
        press(&mut a, KeyCode::Char('q')),
        vec![Effect::SaveLastView]
    );
    assert!(a.quit);
}

#[test]
fn slash_filters_as_you_type_and_esc_clears() {
    let mut a = app();
    press(&mut a, KeyCode::Char('/'));
    assert!(a.searching);
    let fx = typed(&mut a, "mül");
    assert_eq!(
        fx,
        vec![Effect::LoadContacts; 3],
        "one reload per keystroke"
    );
    assert_eq!(a.contacts.query, "mül");
    // While searching, 'q' is text, not quit.
    typed(&mut a, "q");
    assert!(!a.quit);
    assert_eq!(a.contacts.query, "mülq");
    press(&mut a, KeyCode::Backspace);
    press(&mut a, KeyCode::Enter);
    assert!(!a.searching);
    assert_eq!(a.contacts.query, "mül", "Enter keeps the filter");
    // Esc outside the search clears it.
    assert_eq!(press(&mut a, KeyCode::Esc), vec![Effect::LoadContacts]);
    assert!(a.contacts.query.is_empty());
}

#[test]
fn a_form_validates_inline_and_keeps_what_was_typed() {
    let mut a = app();
    press(&mut a, KeyCode::Char('n'));
    assert!(matches!(a.overlay, Some(Overlay::Form(_))));
    let save = |a: &mut App| {
        a.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('s'),
            KeyModifiers::CONTROL,
        )))
    };
    // Empty name: no effect, an error next to the name.
    assert!(save(&mut a).is_empty());
    match &a.overlay {
        Some(Overlay::Form(f)) => {
            assert!(f.fields[0].error.as_deref().unwrap_or("").contains("name"))
        }
        other => panic!("form expected, got {other:?}"),
    }
    typed(&mut a, "Ann Lee");
    // Full name, organisation, title, then the first email row.
    for _ in 0..3 {
        press(&mut a, KeyCode::Tab);
    }
    typed(&mut a, "ann@example.org");
    let fx = save(&mut a);
    match fx.as_slice() {
        [Effect::SaveForm(s)] => match &s.after {
            Draft::Contact(c) => {
                assert_eq!(c.full_name, "Ann Lee");
                assert_eq!(c.emails[0].value, "ann@example.org");
            }
            other => panic!("a contact expected, got {other:?}"),
        },
        other => panic!("save expected, got {other:?}"),
    }
    // The store refuses: the form stays with the text and shows why.
    a.update(Msg::Loaded(Loaded::FormError("bad date".into())));
    match &a.overlay {
        Some(Overlay::Form(f)) => {
            assert_eq!(f.fields[0].value(), "Ann Lee");
            assert_eq!(f.error.as_deref(), Some("bad date"));
        }
        other => panic!("form expected, got {other:?}"),
    }
}

#[test]
fn sync_events_become_status_and_the_guard_asks() {
    let mut a = app();
    a.update(Msg::SyncStarted {
        account: "home".into(),
    });
    a.update(Msg::SyncProgress {
        account: "home".into(),
        done: 3,
        total: 10,
    });
    assert_eq!(a.sync["home"], SyncState::Syncing { done: 3, total: 10 });
    let down = AccountReport {
        account: "home".into(),
        unreachable: true,
        error: Some("server unreachable".into()),
        ..Default::default()
    };
    a.update(Msg::SyncDone {
        report: down,
        now: 1000,
    });
    assert!(matches!(a.sync["home"], SyncState::Unreachable { next, .. } if next > 1000));
    // The guard: a prompt with three ways on; "restore" is one Enter away after k k.
    let held = AccountReport {
        account: "home".into(),
        collections: vec![CollectionReport {
            collection: "Tasks".into(),
            guard: Some(Guard {
                held_back: 999,
                synced: 1000,
                reason: "the server removed 999 of 1000 synced items".into(),
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    a.update(Msg::SyncDone {
        report: held,
        now: 2000,
    });
    assert!(matches!(a.overlay, Some(Overlay::Guard { .. })));
    // Esc and q do not dismiss it by accident: it needs a choice.
    press(&mut a, KeyCode::Char('q'));
    assert!(!a.quit && a.overlay.is_some());
    press(&mut a, KeyCode::Char('k'));
    press(&mut a, KeyCode::Char('k'));
    assert_eq!(press(&mut a, KeyCode::Enter), vec![Effect::RestoreRemote]);
    assert!(a.overlay.is_none());
}

/// A sync whose items had problems (a contact photo that is not an image, an unreadable
/// item) says so on the message line, the first in full; a clean one says nothing.
#[test]
fn a_sync_with_problems_in_single_items_says_so() {
    let mut a = app();
    let report = |errors: Vec<String>| AccountReport {
        account: "home".into(),
        collections: vec![CollectionReport {
            collection: "Contacts".into(),
            pulled: 3,
            errors,
            ..Default::default()
        }],
        ..Default::default()
    };
    a.update(Msg::SyncDone {
        report: report(Vec::new()),
        now: 1000,
    });
    assert_eq!(a.message, None);
    a.update(Msg::SyncDone {
        report: report(vec![
            "/dav/c/a.vcf: line 4: contact a: PHOTO is not an image".into(),
            "/dav/c/b.vcf: line 2: bad base64".into(),
        ]),
        now: 2000,
    });
    let m = a.message.clone().unwrap_or_default();
    assert!(m.starts_with("home/Contacts: 2 problem(s)"), "{m}");
    assert!(
        m.contains("/dav/c/a.vcf: line 4: contact a: PHOTO is not an image"),
        "{m}"
    );
    assert!(matches!(a.sync["home"], SyncState::Ok { .. }));
}

#[test]
fn undo_takes_back_the_last_change() {
    let mut a = app();
    assert!(press(&mut a, KeyCode::Char('u')).is_empty());
    let fx = a.update(Msg::Loaded(Loaded::Changed {
        message: "moved to the trash".into(),
        undo: Some(Effect::Undelete { id: 7 }),
    }));
    assert!(
        fx.contains(&Effect::LoadContacts),
        "lists reload after a change"
    );
    assert_eq!(
        press(&mut a, KeyCode::Char('u')),
        vec![Effect::Undelete { id: 7 }]
    );
}

#[test]
fn calendar_keys_move_by_day_and_period() {
    let mut a = app();
    press(&mut a, KeyCode::Char('2'));
    let start = a.calendar.cursor;
    press(&mut a, KeyCode::Char('l'));
    assert_eq!(a.calendar.cursor, start.succ_opt().expect("next day"));
    assert_eq!(
        press(&mut a, KeyCode::Char('L')),
        vec![Effect::LoadCalendar]
    );
    assert_eq!(a.calendar.cursor.format("%Y-%m").to_string(), "2026-04");
    press(&mut a, KeyCode::Char('t'));
    assert_eq!(a.calendar.cursor, start);
    assert_eq!(
        press(&mut a, KeyCode::Char('w')),
        vec![Effect::LoadCalendar]
    );
}

/// A list counted only part way (`more`): `G` asks for the whole count, then goes to the real
/// last row and loads its page.
#[test]
fn bottom_of_a_list_counted_part_way_goes_to_the_real_end() {
    let mut a = app();
    a.update(Msg::Loaded(Loaded::Contacts {
        rows: Vec::new(),
        total: 2_080,
        more: true,
    }));
    let fx = press(&mut a, KeyCode::Char('G'));
    assert_eq!(fx, vec![Effect::LoadContacts]);
    assert!(a.contacts.to_end, "the next load counts everything");
    let fx = a.update(Msg::Loaded(Loaded::Contacts {
        rows: Vec::new(),
        total: 100_000,
        more: false,
    }));
    assert_eq!(a.contacts.selected, 99_999);
    assert!(!a.contacts.to_end);
    assert_eq!(fx, vec![Effect::LoadContacts], "the last page is loaded");
    assert!(a.contacts.offset + a.list_height >= 100_000);
}
