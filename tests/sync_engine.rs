//! The sync engine against real servers (Radicale and Xandikos from `.venv`, started on free
//! loopback ports by the tests): changes and deletions cross both ways, no-op syncs stay cheap,
//! disjoint edits merge, same-property edits become flagged conflicts with both versions kept,
//! and the deletion guard holds partial wipes, emptied and deleted collections. One suite runs
//! unchanged against both servers.

#[path = "common/servers.rs"]
mod servers;

use holdfast::model::Flags;
use holdfast::store::Store;
use holdfast::sync::dav::{Client, CollectionKind, Precondition};
use holdfast::sync::engine::{restore_remote, sync_account, AccountReport, Settings};
use servers::DavServer;

const ACCOUNT: &str = "acct";

/// One Holdfast home: its own data directory and database.
struct Side {
    dir: tempfile::TempDir,
}

impl Side {
    fn new() -> Side {
        Side {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn store(&self) -> Store {
        Store::open(self.dir.path()).expect("open store")
    }

    fn sync_with(&self, server: &DavServer, accept: bool) -> AccountReport {
        self.sync_settings(server, accept, 3600)
    }

    /// `discover_secs` 0: the home sets are listed, so collections added on the server show.
    fn sync_settings(&self, server: &DavServer, accept: bool, discover_secs: u64) -> AccountReport {
        let client = server.client();
        let mut store = self.store();
        let settings = Settings {
            guard_fraction: 0.2,
            guard_min: 5,
            keep_backups: 3,
            accept_remote_deletions: accept,
            discover_secs,
        };
        sync_account(&mut store, &client, ACCOUNT, &settings, &mut |_| {})
    }

    /// A sync that must go through with no error and no guard.
    fn sync(&self, server: &DavServer) -> AccountReport {
        let r = self.sync_with(server, false);
        assert!(
            r.error.is_none(),
            "{}: sync failed: {:?}",
            server.name(),
            r.error
        );
        for c in &r.collections {
            assert!(
                c.errors.is_empty() && c.guard.is_none(),
                "{}: {}: {:?} {:?}",
                server.name(),
                c.collection,
                c.errors,
                c.guard
            );
        }
        r
    }

    fn create(&self, collection: &str, uid: &str, raw: &str) {
        self.store()
            .create(collection, uid, raw.as_bytes(), "test")
            .expect("create");
    }

    fn raw(&self, uid: &str) -> String {
        let item = self.store().find(uid, None).expect("find");
        String::from_utf8(item.raw).expect("utf8")
    }

    /// The parsed fields (what `list --json` shows).
    fn data(&self, uid: &str) -> serde_json::Value {
        self.store().find(uid, None).expect("find").data
    }

    fn live(&self, uid: &str) -> bool {
        !self.store().find(uid, None).expect("find").deleted
    }

    /// Replaces `from` by `to` in the item's text, as `holdfast edit` would save it.
    fn edit(&self, uid: &str, from: &str, to: &str) {
        let mut store = self.store();
        let item = store.find(uid, None).expect("find");
        let text = String::from_utf8(item.raw.clone()).expect("utf8");
        assert!(text.contains(from), "{uid}: no {from:?} in\n{text}");
        store
            .update(&item, text.replace(from, to).as_bytes(), "edit", false)
            .expect("update");
    }

    fn delete(&self, uid: &str) {
        let mut store = self.store();
        let item = store.find(uid, None).expect("find");
        store.delete(&item).expect("delete");
    }
}

fn card(uid: &str, name: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\n\
         TEL;TYPE=CELL:+49 30 1234\r\nNOTE:first note\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n\
         END:VCARD\r\n"
    )
}

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\n\
         SUMMARY:{summary}\r\nLOCATION:Room 1\r\nX-CUSTOM;X-P=1:keep me\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    )
}

fn todo(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\n\
         END:VCALENDAR\r\n"
    )
}

struct Collections {
    contacts: String,
    events: String,
    tasks: String,
}

fn collections(server: &DavServer) -> Collections {
    Collections {
        contacts: server.create_addressbook("Contacts"),
        events: server.create_event_calendar("Events"),
        tasks: server.create_task_calendar("Tasks"),
    }
}

fn members(client: &Client, href: &str) -> usize {
    client.list(href).expect("list").len()
}

fn body_on_server(client: &Client, collection: &str, uid: &str) -> String {
    let href = client
        .list(collection)
        .expect("list")
        .into_iter()
        .map(|m| m.href)
        .find(|h| h.contains(uid))
        .unwrap_or_else(|| panic!("{uid} not on the server in {collection}"));
    String::from_utf8(client.get(&href).expect("get").body).expect("utf8")
}

fn crossing_suite(server: &DavServer) {
    let name = server.name();
    let cols = collections(server);
    let client = server.client();
    let a = Side::new();
    let b = Side::new();
    for i in 0..5 {
        a.create(
            "Contacts",
            &format!("c{i}"),
            &card(&format!("c{i}"), &format!("Person {i}")),
        );
    }
    for i in 0..3 {
        a.create(
            "Calendar",
            &format!("e{i}"),
            &event(&format!("e{i}"), &format!("Meeting {i}")),
        );
    }
    for i in 0..2 {
        a.create(
            "Tasks",
            &format!("t{i}"),
            &todo(&format!("t{i}"), &format!("Task {i}")),
        );
    }
    // Initial sync: A's items go up, B gets them byte-identical.
    let r = a.sync(server);
    let pushed: usize = r.collections.iter().map(|c| c.pushed).sum();
    assert_eq!(pushed, 10, "{name}: {r:?}");
    assert_eq!(members(&client, &cols.contacts), 5, "{name}");
    assert_eq!(members(&client, &cols.events), 3, "{name}");
    assert_eq!(members(&client, &cols.tasks), 2, "{name}");
    let r = b.sync(server);
    let pulled: usize = r.collections.iter().map(|c| c.pulled).sum();
    assert_eq!(pulled, 10, "{name}: {r:?}");
    // Radicale and Xandikos re-serialize what they store (order, folding), so what crosses is
    // compared by meaning here; byte-exactness of what we send is checked by restore-remote.
    assert_eq!(b.data("c1"), a.data("c1"), "{name}: contact crossed");
    assert_eq!(b.data("e2"), a.data("e2"), "{name}: event crossed");
    assert!(
        b.raw("c1").to_ascii_lowercase().contains("item1.x-ablabel"),
        "{name}: group kept: {}",
        b.raw("c1")
    );
    assert_eq!(
        b.raw("c4"),
        body_on_server(&client, &cols.contacts, "c4"),
        "{name}: pulled byte-identical to what the server holds"
    );

    // A collection that appears on the server is created locally and bound.
    let holidays = server.create_event_calendar("Holidays");
    client
        .put(
            &format!("{holidays}h1.ics"),
            event("h1", "Day off").as_bytes(),
            "text/calendar",
            &Precondition::Create,
        )
        .expect("put");
    // Not seen until the home sets are listed again (every `discover_secs`, or when asked).
    a.sync(server);
    assert!(
        a.store().find("h1", None).is_err(),
        "{name}: between discoveries, only the known collections are asked"
    );
    for side in [&a, &b] {
        let r = side.sync_settings(server, false, 0);
        assert!(r.error.is_none(), "{name}: {r:?}");
    }
    let store = a.store();
    let h1 = store
        .find("h1", None)
        .expect("pulled from the new collection");
    assert_eq!(h1.collection, "Holidays", "{name}");
    drop(store);

    // No-op: at most one request per collection.
    let r = a.sync(server);
    assert!(
        r.requests <= 4,
        "{name}: a no-op sync sent {} requests for 4 collections",
        r.requests
    );

    // Incremental, both ways: B edits and deletes, a third party adds on the server, A edits.
    b.edit("c1", "NOTE:first note", "NOTE:changed by B");
    b.delete("c2");
    a.edit("e1", "SUMMARY:Meeting 1", "SUMMARY:Moved by A");
    client
        .put(
            &format!("{}third.vcf", cols.contacts),
            card("third", "From Elsewhere").as_bytes(),
            "text/vcard",
            &Precondition::Create,
        )
        .expect("third-party put");
    b.sync(server);
    a.sync(server);
    b.sync(server);
    assert!(
        a.raw("c1").contains("NOTE:changed by B"),
        "{name}: edit crossed to A"
    );
    assert!(
        !a.live("c2"),
        "{name}: B's deletion put A's copy in the trash"
    );
    assert!(
        a.raw("c2").contains("FN:Person 2"),
        "{name}: the trashed copy keeps its full text"
    );
    assert!(
        b.raw("e1").contains("SUMMARY:Moved by A"),
        "{name}: edit crossed to B"
    );
    assert!(
        a.raw("third").contains("From Elsewhere"),
        "{name}: new server item pulled"
    );
    assert!(b.raw("third").contains("From Elsewhere"), "{name}");
    assert_eq!(members(&client, &cols.contacts), 5, "{name}: 5 - 1 + 1");

    // Both edit the same contact: disjoint properties merge.
    a.edit(
        "c0",
        "TEL;TYPE=CELL:+49 30 1234",
        "TEL;TYPE=CELL:+49 30 9999",
    );
    b.edit("c0", "NOTE:first note", "NOTE:B's note");
    b.sync(server);
    let r = a.sync(server);
    let merged: usize = r.collections.iter().map(|c| c.merged).sum();
    assert_eq!(merged, 1, "{name}: {r:?}");
    b.sync(server);
    for side in [&a, &b] {
        let t = side.raw("c0");
        assert!(
            t.contains("+49 30 9999") && t.contains("NOTE:B's note"),
            "{name}: {t}"
        );
        assert!(
            t.to_ascii_lowercase().contains("item1.x-ablabel"),
            "{name}: group kept"
        );
    }

    // Both edit the same property: local wins on the server, the server's version is kept as
    // a revision, and the item is flagged.
    a.edit("e0", "SUMMARY:Meeting 0", "SUMMARY:A says");
    b.edit("e0", "SUMMARY:Meeting 0", "SUMMARY:B says");
    b.sync(server);
    let r = a.sync_with(server, false);
    let conflicts: usize = r.collections.iter().map(|c| c.conflicts).sum();
    assert_eq!(conflicts, 1, "{name}: {r:?}");
    let store = a.store();
    let item = store.find("e0", None).expect("find");
    assert!(item.flags.has(Flags::CONFLICT), "{name}: flagged");
    let history = store.history(&item).expect("history");
    assert!(
        history.iter().any(|h| h.text.contains("SUMMARY:B says")),
        "{name}: B's version kept as a revision"
    );
    assert!(String::from_utf8_lossy(&item.raw).contains("SUMMARY:A says"));
    assert!(body_on_server(&client, &cols.events, "e0").contains("SUMMARY:A says"));
    b.sync(server);
    assert!(b.raw("e0").contains("SUMMARY:A says"), "{name}: converged");
    assert!(
        b.raw("e0").contains("X-CUSTOM;X-P=1:keep me"),
        "{name}: X- kept"
    );
}

#[test]
fn changes_cross_both_ways_on_radicale() {
    crossing_suite(&DavServer::radicale());
}

#[test]
fn changes_cross_both_ways_on_xandikos() {
    crossing_suite(&DavServer::xandikos());
}

fn guard_suite(server: &DavServer) {
    let name = server.name();
    let cols = collections(server);
    let client = server.client();
    let a = Side::new();
    for i in 0..12 {
        a.create(
            "Tasks",
            &format!("t{i}"),
            &todo(&format!("t{i}"), &format!("Task {i}")),
        );
    }
    a.sync(server);
    let originals: Vec<String> = (0..12)
        .map(|i| body_on_server(&client, &cols.tasks, &format!("t{i}")))
        .collect();
    // The server drops 11 of 12: a partial wipe, which vdirsyncer applies silently.
    let listed = client.list(&cols.tasks).expect("list");
    for m in listed.iter().skip(1) {
        client.delete(&m.href, &m.etag).expect("delete on server");
    }
    let r = a.sync_with(server, false);
    assert!(r.guard_tripped(), "{name}: guard must trip: {r:?}");
    let g = r
        .collections
        .iter()
        .find_map(|c| c.guard.clone())
        .expect("guard");
    assert_eq!(g.held_back, 11, "{name}");
    for i in 0..12 {
        assert!(a.live(&format!("t{i}")), "{name}: t{i} must stay");
    }
    // Still held on the next sync.
    assert!(
        a.sync_with(server, false).guard_tripped(),
        "{name}: still held"
    );
    // restore-remote puts them back, byte-identical.
    let r = restore_remote(&mut a.store(), &client, ACCOUNT, &mut |_| {});
    assert!(r.error.is_none(), "{name}: {r:?}");
    assert_eq!(members(&client, &cols.tasks), 12, "{name}");
    for (i, original) in originals.iter().enumerate() {
        assert_eq!(
            &body_on_server(&client, &cols.tasks, &format!("t{i}")),
            original,
            "{name}: t{i} restored byte-identical to what the server held"
        );
    }
    a.sync(server);

    // Wipe again, and this time the user accepts: the items go to the trash, not away.
    for m in client.list(&cols.tasks).expect("list").iter().skip(2) {
        client.delete(&m.href, &m.etag).expect("delete on server");
    }
    let r = a.sync_with(server, true);
    assert!(!r.guard_tripped(), "{name}: accepted");
    let snap = r.snapshot.clone().expect("a snapshot before trashing");
    assert!(std::path::Path::new(&snap).exists(), "{name}: {snap}");
    let trashed: usize = r.collections.iter().map(|c| c.moved_to_trash).sum();
    assert_eq!(trashed, 10, "{name}: {r:?}");
    let in_trash = (0..12).filter(|i| !a.live(&format!("t{i}"))).count();
    assert_eq!(in_trash, 10, "{name}");
    assert!(a.sync(server).collections.iter().all(|c| c.guard.is_none()));

    // A few removals are normal and pass the guard.
    let c = Side::new();
    for i in 0..20 {
        c.create(
            "Contacts",
            &format!("p{i}"),
            &card(&format!("p{i}"), &format!("P {i}")),
        );
    }
    c.sync(server);
    for m in client.list(&cols.contacts).expect("list").iter().take(3) {
        client.delete(&m.href, &m.etag).expect("delete on server");
    }
    let r = c.sync(server);
    let trashed: usize = r.collections.iter().map(|c| c.moved_to_trash).sum();
    assert_eq!(trashed, 3, "{name}");

    // The contact collection emptied completely: held, nothing local removed.
    for m in client.list(&cols.contacts).expect("list") {
        client.delete(&m.href, &m.etag).expect("delete on server");
    }
    let r = c.sync_with(server, false);
    assert!(
        r.guard_tripped(),
        "{name}: an emptied collection must trip: {r:?}"
    );
    let live = (0..20).filter(|i| c.live(&format!("p{i}"))).count();
    assert_eq!(live, 17, "{name}: the 17 still synced are all kept");

    // The event collection deleted outright: held, nothing local removed.
    let d = Side::new();
    for i in 0..3 {
        d.create("Calendar", &format!("x{i}"), &event(&format!("x{i}"), "E"));
    }
    d.sync(server);
    client
        .delete_collection(&cols.events)
        .expect("delete collection");
    let r = d.sync_with(server, false);
    assert!(
        r.guard_tripped(),
        "{name}: deleted collection must trip: {r:?}"
    );
    assert!((0..3).all(|i| d.live(&format!("x{i}"))), "{name}");
    // restore-remote re-creates the collection and uploads.
    let r = restore_remote(&mut d.store(), &client, ACCOUNT, &mut |_| {});
    assert!(r.error.is_none(), "{name}: {r:?}");
    assert_eq!(members(&client, &cols.events), 3, "{name}");
    let _ = CollectionKind::Addressbook;
}

#[test]
fn guard_holds_partial_wipes_on_radicale() {
    guard_suite(&DavServer::radicale());
}

#[test]
fn guard_holds_partial_wipes_on_xandikos() {
    guard_suite(&DavServer::xandikos());
}
