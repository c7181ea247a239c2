//! The Photos view against a real database: paging, the `/` filter, motions, mouse, `o`, the
//! preview request, the photos part of a sync report in the status bar; and insta snapshots at
//! 60×20, 80×24 and 160×48 (the preview drawn with half-blocks, deterministically).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use holdfast::model::PhotoRef;
use holdfast::store::{Blobs, Store};
use holdfast::sync::engine::AccountReport;
use holdfast::sync::photos::PhotoReport;
use holdfast::tui::app::{App, Effect, Loaded, Msg, View};
use holdfast::tui::keymap::Keymap;
use holdfast::tui::preview::{self, PreviewImage};
use holdfast::tui::theme::Theme;
use holdfast::tui::{prime, run_effect, views};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Terminal;
use ratatui_image::picker::Picker;

const SIZES: [(u16, u16); 3] = [(60, 20), (80, 24), (160, 48)];

/// A real, decodable PNG: a gradient with a dark square in the middle.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        if x > w / 3 && x < 2 * w / 3 && y > h / 3 && y < 2 * h / 3 {
            image::Rgb([20, 20, 60])
        } else {
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 180])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

fn photo(i: usize, sha256: &str, caption: &str, links: &[&str]) -> PhotoRef {
    PhotoRef {
        format: PhotoRef::FORMAT.into(),
        id: format!("00000000-0000-4000-8000-{i:012}"),
        sha256: sha256.into(),
        mime: "image/png".into(),
        size: 1_234 + i as u64 * 1000,
        width: Some(400),
        height: Some(300),
        taken_at: Some(format!("2025-06-{:02}T10:00:00", i + 1)),
        caption: Some(caption.into()),
        original_name: Some(format!("IMG_{i:04}.png")),
        original_path: None,
        links: links.iter().map(|s| s.to_string()).collect(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
    }
}

/// A few references (the first with its file in the blob store) and two links.
fn fill(dir: &std::path::Path, store: &mut Store) -> String {
    let blobs = Blobs::new(dir);
    let first = blobs.ingest_bytes(&png(400, 300)).expect("blob").sha256;
    let photos = vec![
        photo(0, &first, "Beach at dawn", &["c1"]),
        photo(1, &format!("{:064x}", 1), "Birthday cake", &["c1", "e1"]),
        photo(2, &format!("{:064x}", 2), "Mountain hut", &[]),
        photo(3, &format!("{:064x}", 3), "Beach volleyball", &[]),
    ];
    store.create_photos(&photos, "test").expect("photos");
    first
}

fn app(store: &mut Store, w: u16, h: u16) -> App {
    let keymap = Keymap::new(&BTreeMap::new()).expect("keymap");
    let today = NaiveDate::from_ymd_opt(2026, 3, 9).expect("date");
    let mut app = App::new(keymap, View::Photos, today, 1_773_050_000, &["home".into()]);
    app.resize(w, h);
    prime(store, &mut app).expect("prime");
    app
}

fn press(app: &mut App, store: &mut Store, code: KeyCode) -> Vec<Effect> {
    let fx = app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    let mut kept = Vec::new();
    for e in fx {
        if matches!(e, Effect::OpenPhoto { .. }) {
            kept.push(e);
            continue;
        }
        run_effect(store, app, None, e).expect("effect");
    }
    kept
}

fn typed(app: &mut App, store: &mut Store, keys: &str) {
    for c in keys.chars() {
        press(app, store, KeyCode::Char(c));
    }
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme { color: false };
    t.draw(|f| views::draw(f, app, &theme)).expect("draw");
    format!("{}", t.backend())
}

/// What the preview thread would send: decoded here with half-blocks (deterministic).
fn halfblock_preview(dir: &std::path::Path, sha: &str, cells: (u16, u16)) -> PreviewImage {
    let path = Blobs::new(dir).path(sha);
    PreviewImage {
        sha256: sha.into(),
        cells,
        image: preview::decode(&path, cells, &Picker::halfblocks()).map(Arc::new),
    }
}

/// Thousands of photos are counted only a good way past the screen on a load (the first frame
/// does not grow with the collection); `G` counts them all and goes to the real last one.
#[test]
fn a_long_photo_list_is_counted_part_way_and_g_reaches_its_real_end() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    let n = holdfast::store::DENSE + 600;
    let photos: Vec<PhotoRef> = (0..n)
        .map(|i| photo(i, &format!("{i:064x}"), &format!("Street {i}"), &[]))
        .collect();
    store.create_photos(&photos, "test").expect("photos");
    let mut app = app(&mut store, 80, 24);
    assert!(app.photos.more, "counted part way");
    assert!(app.photos.total < n, "{} of {n}", app.photos.total);
    press(&mut app, &mut store, KeyCode::Char('G'));
    assert_eq!(app.photos.total, n);
    assert!(!app.photos.more);
    assert_eq!(app.photos.selected, n - 1);
    assert_eq!(
        app.photos.current().map(|i| i.id),
        app.photos.rows.last().map(|i| i.id)
    );
}

#[test]
fn the_list_pages_from_sql_filters_and_moves() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    let photos: Vec<PhotoRef> = (0..300)
        .map(|i| {
            let caption = if i % 10 == 0 { "Beach" } else { "Street" };
            photo(i, &format!("{i:064x}"), &format!("{caption} {i}"), &[])
        })
        .collect();
    store.create_photos(&photos, "test").expect("photos");
    let mut app = app(&mut store, 80, 24);
    assert_eq!(app.photos.total, 300);
    // Only a page is read, never all 300.
    assert_eq!(app.photos.rows.len(), app.list_height);
    press(&mut app, &mut store, KeyCode::Char('G'));
    assert_eq!(app.photos.selected, 299);
    assert_eq!(
        app.photos.current().map(|i| i.id),
        app.photos.rows.last().map(|i| i.id)
    );
    typed(&mut app, &mut store, "gg");
    assert_eq!(app.photos.selected, 0);
    assert_eq!(app.photos.offset, 0);
    press(&mut app, &mut store, KeyCode::Char('j'));
    press(&mut app, &mut store, KeyCode::Char('j'));
    press(&mut app, &mut store, KeyCode::Char('k'));
    assert_eq!(app.photos.selected, 1);
    press(&mut app, &mut store, KeyCode::Char('/'));
    typed(&mut app, &mut store, "beach");
    assert_eq!(app.photos.total, 30, "one in ten is a beach");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("/beach"), "{screen}");
    assert!(screen.contains("Beach"), "{screen}");
    assert!(!screen.contains("Street"), "{screen}");
    press(&mut app, &mut store, KeyCode::Esc);
    assert_eq!(app.photos.total, 300);
    assert!(!app.searching);
}

#[test]
fn a_click_selects_a_row_and_o_opens_the_selected_photo() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    let first = fill(dir.path(), &mut store);
    let mut app = app(&mut store, 80, 24);
    assert_eq!(app.photos.total, 4);
    // Row 3 is the first list row (tabs, title, header); row 5 the third photo.
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row: 5,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.photos.selected, 2);
    typed(&mut app, &mut store, "gg");
    let fx = press(&mut app, &mut store, KeyCode::Char('o'));
    assert_eq!(
        fx,
        vec![Effect::OpenPhoto {
            sha256: first.clone()
        }]
    );
    // Enter does the same.
    let fx = press(&mut app, &mut store, KeyCode::Enter);
    assert_eq!(fx, vec![Effect::OpenPhoto { sha256: first }]);
    // A photo whose file is not here says so instead of starting a viewer.
    press(&mut app, &mut store, KeyCode::Char('j'));
    let fx = press(&mut app, &mut store, KeyCode::Char('o'));
    for e in fx {
        run_effect(&mut store, &mut app, None, e).expect("effect");
    }
    let msg = app.message.clone().unwrap_or_default();
    assert!(msg.contains("not here yet"), "{msg}");
}

#[test]
fn the_preview_is_asked_for_the_selected_photo_only_when_it_fits() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    let first = fill(dir.path(), &mut store);
    let mut app = app(&mut store, 80, 24);
    let (sha, cells) = app.preview_wanted().expect("a preview is wanted");
    assert_eq!(sha, first);
    assert!(cells.0 >= 10 && cells.1 >= 4, "{cells:?}");
    // Once it is there, nothing more is asked for.
    let p = halfblock_preview(dir.path(), &sha, cells);
    assert!(p.image.is_ok(), "{:?}", p.image.as_ref().err());
    app.update(Msg::Loaded(Loaded::Preview(p)));
    assert_eq!(app.preview_wanted(), None);
    // Moving on asks for the next one.
    press(&mut app, &mut store, KeyCode::Char('j'));
    assert_eq!(
        app.preview_wanted().map(|w| w.0),
        Some(format!("{:064x}", 1))
    );
    // Too narrow for a detail pane, or previews off: nothing decoded.
    app.resize(50, 20);
    assert_eq!(app.preview_wanted(), None);
    app.resize(80, 24);
    app.preview_off = Some("(previews off)".into());
    assert_eq!(app.preview_wanted(), None);
    // Other views never ask.
    app.preview_off = None;
    press(&mut app, &mut store, KeyCode::Char('1'));
    assert_eq!(app.preview_wanted(), None);
}

#[test]
fn a_missing_file_or_a_broken_image_is_a_message_not_a_panic() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = preview::decode(&dir.path().join("nope"), (20, 10), &Picker::halfblocks());
    assert!(
        missing
            .as_ref()
            .err()
            .is_some_and(|e| e.contains("not here yet")),
        "{:?}",
        missing.err()
    );
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"\x89PNG\r\n\x1a\nnot really").expect("write");
    let broken = preview::decode(&junk, (20, 10), &Picker::halfblocks());
    assert!(broken.is_err());
}

#[test]
fn the_status_bar_shows_the_photos_part_of_a_sync() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(dir.path(), &mut store);
    let mut app = app(&mut store, 120, 24);
    let report = |photos: PhotoReport| AccountReport {
        account: "home".into(),
        photos: Some(Box::new(photos)),
        ..Default::default()
    };
    app.update(Msg::SyncDone {
        report: report(PhotoReport {
            url: "http://127.0.0.1:1/photos/".into(),
            unreachable: true,
            error: Some("connection refused".into()),
            ..Default::default()
        }),
        now: 1_773_050_000,
    });
    let screen = render(&app, 120, 24);
    assert!(screen.contains("home: synced"), "{screen}");
    assert!(screen.contains("photos offline"), "{screen}");
    app.update(Msg::SyncDone {
        report: report(PhotoReport {
            errors: vec!["IMG_1.jpg: the blob fails its hash".into()],
            ..Default::default()
        }),
        now: 1_773_050_000,
    });
    let screen = render(&app, 120, 24);
    assert!(screen.contains("1 photo problem(s)"), "{screen}");
    assert!(screen.contains("the blob fails its hash"), "{screen}");
    app.update(Msg::SyncDone {
        report: report(PhotoReport::default()),
        now: 1_773_050_000,
    });
    let screen = render(&app, 120, 24);
    assert!(!screen.contains("photo problem"), "{screen}");
    assert!(!screen.contains("photos offline"), "{screen}");
}

#[test]
fn photos_view_at_three_sizes() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(dir.path(), &mut store);
    for (w, h) in SIZES {
        let mut app = app(&mut store, w, h);
        let name = |what: &str| format!("{what}_{w}x{h}");
        // Before the preview thread answers.
        insta::assert_snapshot!(name("photos_loading"), render(&app, w, h));
        if let Some((sha, cells)) = app.preview_wanted() {
            let p = halfblock_preview(dir.path(), &sha, cells);
            app.update(Msg::Loaded(Loaded::Preview(p)));
        }
        insta::assert_snapshot!(name("photos_preview"), render(&app, w, h));
        press(&mut app, &mut store, KeyCode::Char('j'));
        insta::assert_snapshot!(name("photos_second_two_links"), render(&app, w, h));
        app.preview_off = Some("(previews off: NO_COLOR; o opens)".into());
        press(&mut app, &mut store, KeyCode::Char('/'));
        typed(&mut app, &mut store, "beach");
        insta::assert_snapshot!(name("photos_filtered_no_color"), render(&app, w, h));
    }
}

/// A store (TZ=UTC) with one contact, Zoe Miller, UID `c1`.
fn store_with_zoe() -> (tempfile::TempDir, Store) {
    std::env::set_var("TZ", "UTC");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    store
        .create(
            "Contacts",
            "c1",
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Zoe Miller\r\nEND:VCARD\r\n",
            "test",
        )
        .expect("contact");
    (dir, store)
}

#[test]
fn the_contact_card_and_the_event_detail_list_their_linked_photos() {
    let (dir, mut store) = store_with_zoe();
    store
        .create(
            "Calendar",
            "e1",
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\n\
              DTSTAMP:20260101T000000Z\r\nDTSTART:20260309T100000Z\r\nDTEND:20260309T110000Z\r\n\
              SUMMARY:Birthday party\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "test",
        )
        .expect("event");
    fill(dir.path(), &mut store);
    let (w, h) = (160, 48);
    let mut app = app(&mut store, w, h);
    press(&mut app, &mut store, KeyCode::Char('1'));
    let screen = render(&app, w, h);
    assert!(screen.contains("2 linked"), "{screen}");
    assert!(screen.contains("Beach at dawn · "), "{screen}");
    assert!(screen.contains("Birthday cake · 00000000"), "{screen}");
    press(&mut app, &mut store, KeyCode::Char('2'));
    press(&mut app, &mut store, KeyCode::Char('a'));
    let screen = render(&app, w, h);
    assert!(screen.contains("Birthday party"), "{screen}");
    assert!(screen.contains("1 linked"), "{screen}");
    assert!(screen.contains("Birthday cake · 00000000"), "{screen}");
}

#[test]
fn plus_links_the_photo_minus_unlinks_it_and_u_undoes() {
    let (dir, mut store) = store_with_zoe();
    fill(dir.path(), &mut store);
    let (w, h) = (80, 24);
    let mut app = app(&mut store, w, h);
    // The third photo, "Mountain hut", has no links.
    typed(&mut app, &mut store, "jj");
    let id = app.selected_photo().expect("selected").id;
    let links = |store: &Store| store.photo(&id).expect("photo").photo.links;
    press(&mut app, &mut store, KeyCode::Char('-'));
    assert!(app.overlay.is_none());
    assert!(app
        .message
        .clone()
        .unwrap_or_default()
        .contains("not linked"));
    press(&mut app, &mut store, KeyCode::Char('+'));
    typed(&mut app, &mut store, "zoe");
    insta::assert_snapshot!("photos_link_picker_80x24", render(&app, w, h));
    press(&mut app, &mut store, KeyCode::Enter);
    assert!(app.overlay.is_none());
    assert_eq!(links(&store), vec!["c1".to_string()]);
    let msg = app.message.clone().unwrap_or_default();
    assert!(msg.contains("linked to Zoe Miller"), "{msg}");
    // The list shows it at once.
    assert!(
        render(&app, w, h).contains("Mountain hut        Zoe Mille"),
        "{}",
        render(&app, w, h)
    );
    press(&mut app, &mut store, KeyCode::Char('u'));
    assert!(links(&store).is_empty(), "u undid the link");
    // Unlink: the picker lists the current links by name.
    typed(&mut app, &mut store, "gg");
    press(&mut app, &mut store, KeyCode::Char('-'));
    let screen = render(&app, w, h);
    assert!(screen.contains("contact  Zoe Miller"), "{screen}");
    press(&mut app, &mut store, KeyCode::Enter);
    let first = app.selected_photo().expect("selected").id;
    assert!(store.photo(&first).expect("photo").photo.links.is_empty());
    press(&mut app, &mut store, KeyCode::Char('u'));
    assert_eq!(
        store.photo(&first).expect("photo").photo.links,
        vec!["c1".to_string()]
    );
}

#[test]
fn capital_p_sets_the_card_photo_to_a_small_thumbnail_and_u_undoes() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    let card =
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Zoe Miller\r\nNOTE:kept\r\nEND:VCARD\r\n";
    store
        .create("Contacts", "c1", card, "test")
        .expect("contact");
    // A big photo (1600×1200) linked to the contact.
    let blobs = Blobs::new(dir.path());
    let sha = blobs.ingest_bytes(&png(1600, 1200)).expect("blob").sha256;
    store
        .create_photos(&[photo(0, &sha, "Portrait", &["c1"])], "test")
        .expect("photo");
    let (w, h) = (100, 30);
    let mut app = app(&mut store, w, h);
    press(&mut app, &mut store, KeyCode::Char('1'));
    press(&mut app, &mut store, KeyCode::Char('P'));
    let screen = render(&app, w, h);
    assert!(screen.contains("photo    Portrait"), "{screen}");
    press(&mut app, &mut store, KeyCode::Enter);
    let msg = app.message.clone().unwrap_or_default();
    assert!(msg.contains("card photo set"), "{msg}");
    let item = store.find("c1", None).expect("contact");
    let photos = holdfast::format::photo::vcard_photos(&item.raw);
    assert_eq!(photos.len(), 1, "{}", String::from_utf8_lossy(&item.raw));
    assert!(
        item.raw.len() < 100_000,
        "the card stays small: {}",
        item.raw.len()
    );
    let text = String::from_utf8_lossy(&item.raw).to_string();
    assert!(text.contains("NOTE:kept"), "{text}");
    // The thumbnail is a JPEG of at most 256 px.
    let thumb = holdfast::tui::link::card_thumbnail(&blobs.path(&sha)).expect("thumbnail");
    let img = image::load_from_memory(&thumb).expect("decodes");
    assert!(
        img.width() <= 256 && img.height() <= 256,
        "{}×{}",
        img.width(),
        img.height()
    );
    assert_eq!(&thumb[..2], &[0xFF, 0xD8], "a JPEG");
    press(&mut app, &mut store, KeyCode::Char('u'));
    let item = store.find("c1", None).expect("contact");
    assert_eq!(item.raw, card.to_vec(), "u gives the card back as it was");
}

#[test]
fn a_preview_that_missed_its_file_is_asked_again_after_a_sync_fetched_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    fill(dir.path(), &mut store);
    let mut app = app(&mut store, 80, 24);
    press(&mut app, &mut store, KeyCode::Char('j'));
    let (sha, cells) = app.preview_wanted().expect("wanted");
    // The second photo's file is not here: the preview thread says so.
    let missed = halfblock_preview(dir.path(), &sha, cells);
    assert!(missed.image.is_err());
    app.update(Msg::Loaded(Loaded::Preview(missed)));
    assert!(render(&app, 80, 24).contains("file is not here"));
    assert_eq!(app.preview_wanted(), None);
    app.update(Msg::SyncDone {
        report: AccountReport {
            account: "home".into(),
            photos: Some(Box::new(PhotoReport {
                blobs_fetched: 1,
                ..Default::default()
            })),
            ..Default::default()
        },
        now: 1_773_050_000,
    });
    assert_eq!(app.preview_wanted(), Some((sha, cells)));
}

/// While another process imports a big file into a store that was empty, its list indexes are
/// being rebuilt and the views that read them by name cannot load: the message line says so in
/// words, not as a database error; once the indexes are back the same keys load the views.
#[test]
fn views_read_during_a_bulk_import_say_so_in_words() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("store");
    let mut app = app(&mut store, 80, 24);
    // What `holdfast import` does first, here from a second connection as another process would.
    let mut importer = Store::open(dir.path()).expect("second store");
    assert!(importer.defer_list_indexes().expect("defer"));
    press(&mut app, &mut store, KeyCode::Char('3'));
    let m = app.message.clone().unwrap_or_default();
    assert!(m.contains("an import is under way"), "{m}");
    assert!(!m.contains("database error"), "{m}");
    importer.build_deferred_indexes().expect("build");
    app.message = None;
    press(&mut app, &mut store, KeyCode::Char('2'));
    press(&mut app, &mut store, KeyCode::Char('3'));
    assert_eq!(app.message, None);
}
