//! The store APIs behind the review panels and global search, on real SQLite files: conflicts
//! produced for real by a sync against Radicale and resolved both ways (and undone), search
//! over every kind with accents folded, an item's position in its list, and the to-do tree.

#[path = "common/servers.rs"]
mod servers;

use holdfast::model::{Flags, Kind};
use holdfast::store::{Filter, Resolution, Store};
use holdfast::sync::engine::{sync_account, AccountReport, Settings};
use servers::DavServer;

fn sync(dir: &std::path::Path, server: &DavServer) -> AccountReport {
    let mut store = Store::open(dir).expect("open");
    let settings = Settings {
        guard_fraction: 0.2,
        guard_min: 5,
        keep_backups: 3,
        accept_remote_deletions: false,
        discover_secs: 3600,
    };
    let r = sync_account(&mut store, &server.client(), "acct", &settings, &mut |_| {});
    assert!(r.error.is_none(), "{:?}", r.error);
    r
}

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\n\
         SUMMARY:{summary}\r\nLOCATION:Room 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn edit(dir: &std::path::Path, uid: &str, from: &str, to: &str) {
    let mut store = Store::open(dir).expect("open");
    let item = store.find(uid, None).expect("find");
    let text = String::from_utf8(item.raw.clone()).expect("utf8");
    assert!(text.contains(from), "{text}");
    store
        .update(&item, text.replace(from, to).as_bytes(), "edit", false)
        .expect("update");
}

fn raw(dir: &std::path::Path, uid: &str) -> String {
    let item = Store::open(dir)
        .expect("open")
        .find(uid, None)
        .expect("find");
    String::from_utf8(item.raw).expect("utf8")
}

/// Makes A's `uid` conflict: A and B both change its SUMMARY, B syncs first.
fn conflict(a: &std::path::Path, b: &std::path::Path, server: &DavServer, uid: &str, n: usize) {
    let before = raw(a, uid);
    let line = before
        .lines()
        .find(|l| l.starts_with("SUMMARY:"))
        .expect("summary")
        .to_string();
    edit(a, uid, &line, &format!("SUMMARY:A says {n}"));
    edit(b, uid, &line, &format!("SUMMARY:B says {n}"));
    sync(b, server);
    let r = sync(a, server);
    let c: usize = r.collections.iter().map(|c| c.conflicts).sum();
    assert_eq!(c, 1, "{r:?}");
}

#[test]
fn a_real_conflict_resolved_both_ways_and_undone() {
    let server = DavServer::radicale();
    server.create_event_calendar("Events");
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    Store::open(a.path())
        .expect("open")
        .create("Calendar", "e0", event("e0", "Meeting").as_bytes(), "test")
        .expect("create");
    sync(a.path(), &server);
    sync(b.path(), &server);

    // 1. Take the server's version: B's text becomes A's newest revision; the flag goes; the
    //    next sync uploads it, so B keeps its text and both converge.
    conflict(a.path(), b.path(), &server, "e0", 1);
    let mut store = Store::open(a.path()).expect("open");
    let item = store.find("e0", None).expect("find");
    assert!(item.flags.has(Flags::CONFLICT));
    assert_eq!(store.flagged_for_review(50).expect("flagged").len(), 1);
    assert_eq!(store.flagged_count().expect("count"), 1);
    let v = store
        .conflict_versions(item.id)
        .expect("versions")
        .expect("the server's version is kept");
    assert!(String::from_utf8_lossy(&v.remote).contains("SUMMARY:B says 1"));
    assert!(String::from_utf8_lossy(&v.item.raw).contains("SUMMARY:A says 1"));
    let before = store
        .resolve_conflict(item.id, Resolution::TakeServer)
        .expect("take server");
    assert_eq!(before, item.rev);
    let now = store.get(item.id).expect("get");
    assert!(!now.flags.has(Flags::CONFLICT), "flag cleared");
    assert!(String::from_utf8_lossy(&now.raw).contains("SUMMARY:B says 1"));
    assert_eq!(now.rev, item.rev + 1, "a new revision");
    assert_eq!(store.flagged_count().expect("count"), 0);
    assert!(
        store.pending_changes().expect("pending") > 0,
        "to be uploaded"
    );
    // Undo: A's text back as a newer revision, flagged again; redo the resolution.
    store
        .reopen_conflict(item.id, Some(before))
        .expect("reopen");
    let again = store.get(item.id).expect("get");
    assert!(again.flags.has(Flags::CONFLICT));
    assert!(String::from_utf8_lossy(&again.raw).contains("SUMMARY:A says 1"));
    store
        .resolve_conflict(item.id, Resolution::TakeServer)
        .expect("take server again");
    drop(store);
    sync(a.path(), &server);
    sync(b.path(), &server);
    assert!(
        raw(b.path(), "e0").contains("SUMMARY:B says 1"),
        "converged"
    );
    assert!(raw(a.path(), "e0").contains("SUMMARY:B says 1"));

    // 2. Keep mine: the text stays A's (already on the server), the flag goes.
    conflict(a.path(), b.path(), &server, "e0", 2);
    let mut store = Store::open(a.path()).expect("open");
    let item = store.find("e0", None).expect("find");
    assert!(item.flags.has(Flags::CONFLICT));
    store
        .resolve_conflict(item.id, Resolution::KeepMine)
        .expect("keep mine");
    let now = store.get(item.id).expect("get");
    assert!(!now.flags.has(Flags::CONFLICT));
    assert_eq!(now.rev, item.rev, "no new revision");
    assert!(String::from_utf8_lossy(&now.raw).contains("SUMMARY:A says 2"));
    // Undo of keep-mine: flagged again, text unchanged.
    store.reopen_conflict(item.id, None).expect("reopen");
    assert!(store.get(item.id).expect("get").flags.has(Flags::CONFLICT));
    store
        .resolve_conflict(item.id, Resolution::KeepMine)
        .expect("keep mine");
    // Resolving an item that is not in conflict is refused.
    assert!(store
        .resolve_conflict(item.id, Resolution::KeepMine)
        .is_err());
    drop(store);
    sync(a.path(), &server);
    sync(b.path(), &server);
    assert!(
        raw(b.path(), "e0").contains("SUMMARY:A says 2"),
        "converged"
    );
}

fn todo(uid: &str, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n{extra}END:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

fn card(uid: &str, name: &str) -> String {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEND:VCARD\r\n")
}

#[test]
fn search_over_every_kind_and_positions() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("open");
    for i in 0..300 {
        store
            .create(
                "Contacts",
                &format!("c{i}"),
                card(&format!("c{i}"), &format!("Person {i:03}")).as_bytes(),
                "t",
            )
            .expect("card");
    }
    store
        .create("Contacts", "m", card("m", "Zoë Müller").as_bytes(), "t")
        .expect("card");
    store
        .create(
            "Contacts",
            "k",
            card("k", "Anna Kościółkowska").as_bytes(),
            "t",
        )
        .expect("card");
    store
        .create(
            "Calendar",
            "e",
            event("e", "Lunch with Müller").as_bytes(),
            "t",
        )
        .expect("event");
    store
        .create(
            "Tasks",
            "t",
            todo("t", "Call Muller back", "").as_bytes(),
            "t",
        )
        .expect("todo");
    let groups = store.search_all("muller", 17).expect("search");
    let kinds: Vec<(Kind, usize)> = groups.iter().map(|g| (g.kind, g.total)).collect();
    assert_eq!(
        kinds,
        vec![(Kind::Contact, 1), (Kind::Event, 1), (Kind::Todo, 1)]
    );
    let groups = store.search_all("kosci", 17).expect("search");
    assert_eq!(groups[0].rows[0].uid, "k");
    // Many hits: the page is capped, the count says how many.
    let groups = store.search_all("person", 17).expect("search");
    assert_eq!(groups[0].rows.len(), 17);
    assert_eq!(groups[0].total, 200);
    assert!(groups[0].more);
    assert!(store.search_all("  ", 17).expect("empty").is_empty());
    // Positions in the contact list: "Zoë Müller" sorts last of 302.
    let m = store.find("m", None).expect("m");
    assert_eq!(store.contact_position(m.id).expect("pos"), Some(301));
    let p = store.find("c150", None).expect("c150");
    let f = Filter {
        kind: Some(Kind::Contact),
        ..Filter::default()
    };
    let pos = store.contact_position(p.id).expect("pos").expect("some");
    let page = store.page(&f, pos, 1).expect("page");
    assert_eq!(
        page[0].uid, "c150",
        "the position is where the list shows it"
    );
    store.delete(&p).expect("delete");
    assert_eq!(store.contact_position(p.id).expect("pos"), None);
}

#[test]
fn todo_tree_pages_subtasks_under_parents() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("open");
    let todos = [
        ("p1", "Plan trip", "DUE;VALUE=DATE:20260320\r\n"),
        (
            "p2",
            "Renew passport",
            "DUE;VALUE=DATE:20260301\r\nPRIORITY:1\r\n",
        ),
        (
            "c1",
            "Book flights",
            "RELATED-TO:p1\r\nDUE;VALUE=DATE:20260310\r\n",
        ),
        ("c2", "Choose seats", "RELATED-TO;RELTYPE=PARENT:c1\r\n"),
        ("c3", "Pack", "RELATED-TO:p1\r\n"),
        ("c4", "Done sub", "RELATED-TO:p1\r\nSTATUS:COMPLETED\r\n"),
        ("o1", "Orphan", "RELATED-TO:missing-parent\r\n"),
        ("z", "Zebra", ""),
    ];
    for (uid, s, extra) in todos {
        store
            .create("Tasks", uid, todo(uid, s, extra).as_bytes(), "t")
            .expect("todo");
    }
    let f = Filter {
        kind: Some(Kind::Todo),
        ..Filter::default()
    };
    let rows = store.todo_tree_page(&f, 0, 100).expect("tree");
    let got: Vec<(String, usize)> = rows.iter().map(|r| (r.item.uid.clone(), r.depth)).collect();
    let want: Vec<(String, usize)> = [
        ("p2", 0),
        ("p1", 0),
        ("c1", 1),
        ("c2", 2),
        ("c3", 1),
        ("c4", 1),
        ("o1", 0),
        ("z", 0),
    ]
    .iter()
    .map(|(u, d)| (u.to_string(), *d))
    .collect();
    assert_eq!(got, want);
    // Paged: a window in the middle of the tree.
    let page = store.todo_tree_page(&f, 2, 3).expect("page");
    let uids: Vec<&str> = page.iter().map(|r| r.item.uid.as_str()).collect();
    assert_eq!(uids, vec!["c1", "c2", "c3"]);
    let c2 = store.find("c2", None).expect("c2");
    assert_eq!(store.todo_position(&f, c2.id).expect("pos"), Some(3));
    // A search lists its matches flat.
    let q = Filter {
        query: Some("seats".into()),
        ..f.clone()
    };
    let flat = store.todo_tree_page(&q, 0, 10).expect("flat");
    assert_eq!((flat.len(), flat[0].depth), (1, 0));
    assert_eq!(store.todo_position(&q, c2.id).expect("pos"), Some(0));
    // Open only: the done subtask is gone; a subtask of a trashed parent is top level.
    let open = Filter {
        open_only: true,
        ..f.clone()
    };
    let rows = store.todo_tree_page(&open, 0, 100).expect("open");
    assert!(rows.iter().all(|r| r.item.uid != "c4"));
    let p1 = store.find("p1", None).expect("p1");
    store.delete(&p1).expect("trash");
    let rows = store.todo_tree_page(&f, 0, 100).expect("tree");
    let c1 = rows.iter().find(|r| r.item.uid == "c1").expect("c1");
    assert_eq!(c1.depth, 0, "parent in the trash: top level");
}

/// A search that matches more than one key's window of the index says so, and narrowing it
/// finds what lay beyond.
#[test]
fn a_very_wide_search_is_marked_as_having_more() {
    use holdfast::format::lines;
    use holdfast::store::Incoming;
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = Store::open(dir.path()).expect("open");
    let mut vcf = String::new();
    for i in 0..5100 {
        vcf += &card(&format!("c{i}"), &format!("Person {i}"));
    }
    let batch: Vec<Incoming> = lines::split(vcf.as_bytes())
        .items
        .into_iter()
        .map(|item| Incoming {
            collection_id: store.collection_id("Contacts").expect("c"),
            item,
        })
        .collect();
    store.import_batch(batch, "t").expect("import");
    store
        .create(
            "Calendar",
            "late",
            event("late", "Person of the year dinner").as_bytes(),
            "t",
        )
        .expect("event");
    let g = store.search_all("person", 17).expect("search");
    assert_eq!(g[0].kind, Kind::Contact);
    assert!(g[0].more && g[0].total == 200);
    let g = store.search_all("person dinner", 17).expect("search");
    assert_eq!(g.len(), 1);
    assert_eq!(
        (g[0].kind, g[0].rows[0].uid.as_str()),
        (Kind::Event, "late")
    );
    assert!(!g[0].more);
}
