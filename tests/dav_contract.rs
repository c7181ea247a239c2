//! The DAV client's contract, one suite run unchanged against real Radicale and real Xandikos
//! (taskchampion's "one behavioural suite, several backends"): discovery, conditional writes,
//! sync-collection (initial, incremental, deletions, bogus token), listing, byte-exact multiget,
//! request counting, and a deleted collection.

#[path = "common/servers.rs"]
mod servers;

use holdfast::sync::dav::{Client, CollectionKind, DavError, Member, Options, Precondition};
use servers::DavServer;

/// An event with a folded DESCRIPTION, non-ASCII UTF-8 and XML-special characters (the server
/// must escape `&` and `<` in calendar-data, and we must decode them).
const EVENT_ONE: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//Holdfast//contract//EN\r\n\
BEGIN:VEVENT\r\n\
UID:contract-one@holdfast\r\n\
DTSTAMP:20260301T120000Z\r\n\
DTSTART:20260309T090000Z\r\n\
DTEND:20260309T100000Z\r\n\
SUMMARY:Café Müller – 日本 & <friends>\r\n\
DESCRIPTION:A long description that goes past seventy-five octets so that \r\n\
\x20it has to be folded onto a second line\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

const EVENT_ONE_EDITED: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//Holdfast//contract//EN\r\n\
BEGIN:VEVENT\r\n\
UID:contract-one@holdfast\r\n\
DTSTAMP:20260302T120000Z\r\n\
DTSTART:20260309T110000Z\r\n\
DTEND:20260309T120000Z\r\n\
SUMMARY:Café Müller (moved)\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

const EVENT_TWO: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//Holdfast//contract//EN\r\n\
BEGIN:VEVENT\r\n\
UID:contract-two@holdfast\r\n\
DTSTAMP:20260301T120000Z\r\n\
DTSTART:20260310T090000Z\r\n\
DTEND:20260310T100000Z\r\n\
SUMMARY:Second\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

const TODO: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//Holdfast//contract//EN\r\n\
BEGIN:VTODO\r\n\
UID:contract-todo@holdfast\r\n\
DTSTAMP:20260301T120000Z\r\n\
SUMMARY:Buy Brötchen\r\n\
PRIORITY:1\r\n\
END:VTODO\r\n\
END:VCALENDAR\r\n";

const CONTACT: &str = "BEGIN:VCARD\r\n\
VERSION:3.0\r\n\
UID:contract-contact@holdfast\r\n\
FN:Jürgen Ω Müller\r\n\
N:Müller;Jürgen;;;\r\n\
EMAIL:jm@example.org\r\n\
NOTE:Likes <angle> brackets & ampersands\r\n\
END:VCARD\r\n";

const ICS: &str = "text/calendar; charset=utf-8";
const VCF: &str = "text/vcard; charset=utf-8";

fn sorted(mut members: Vec<Member>) -> Vec<Member> {
    members.sort_by(|a, b| a.href.cmp(&b.href));
    members
}

fn expect_precondition_failed<T: std::fmt::Debug>(what: &str, result: Result<T, DavError>) {
    match result {
        Err(DavError::PreconditionFailed { .. }) => {}
        other => panic!("{what}: expected PreconditionFailed, got {other:?}"),
    }
}

/// Fetches one href by multiget: it must equal a plain GET of it byte for byte. Both Radicale
/// (vobject) and Xandikos (icalendar) re-serialise what they are given (property order,
/// folding), so the body we PUT need not come back as is; the server's own form, PUT back
/// with If-Match, must then come back byte-identical: that proves our PUT and multiget move
/// bytes exactly. Returns (the bytes now stored, their etag).
fn assert_roundtrip(
    client: &Client,
    collection: &str,
    kind: &CollectionKind,
    href: &str,
    sent: &str,
    content_type: &str,
    server: &str,
) -> (String, String) {
    let fetch = || {
        let got = client
            .multiget(collection, kind, &[href.to_string()])
            .unwrap_or_else(|e| panic!("{server}: multiget {href}: {e}"));
        assert!(
            got.missing.is_empty(),
            "{server}: missing {:?}",
            got.missing
        );
        assert_eq!(got.found.len(), 1, "{server}: one item back");
        let found = got.found.into_iter().next().expect("one item");
        let get = client
            .get(href)
            .unwrap_or_else(|e| panic!("{server}: GET {href}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&found.body),
            String::from_utf8_lossy(&get.body),
            "{server}: multiget and GET disagree for {href}"
        );
        assert_eq!(found.body, get.body);
        let body = String::from_utf8(found.body).expect("UTF-8 body");
        (body, found.etag.expect("multiget etag"))
    };
    let (body, etag) = fetch();
    if body == sent {
        return (body, etag);
    }
    // The server rewrote it: its own form is a fixed point and must travel byte-exact.
    client
        .put(
            href,
            body.as_bytes(),
            content_type,
            &Precondition::Match(etag.clone()),
        )
        .unwrap_or_else(|e| panic!("{server}: PUT back the server's form of {href}: {e}"));
    let (again, etag) = fetch();
    assert_eq!(
        again, body,
        "{server}: {href} did not come back byte-identical"
    );
    (again, etag)
}

fn contract(server: &DavServer) {
    let name = server.name();
    let client = server.client();
    let book = server.create_addressbook("Holdfast Contacts");
    let events = server.create_event_calendar("Holdfast Events");
    let tasks = server.create_task_calendar("Holdfast Tasks");
    let event_kind = CollectionKind::Calendar {
        components: vec!["VEVENT".into()],
    };

    // --- discovery, from the server root, from the principal, from a collection ---
    let found = client
        .discover()
        .unwrap_or_else(|e| panic!("{name}: discover: {e}"));
    let by_href = |href: &str| {
        found
            .iter()
            .find(|c| c.href == href)
            .unwrap_or_else(|| panic!("{name}: discovery missed {href}: {found:#?}"))
    };
    let b = by_href(&book);
    assert_eq!(b.kind, CollectionKind::Addressbook, "{name}");
    assert_eq!(
        b.displayname.as_deref(),
        Some("Holdfast Contacts"),
        "{name}"
    );
    let e = by_href(&events);
    assert_eq!(e.kind, event_kind, "{name}: event calendar components");
    assert_eq!(e.displayname.as_deref(), Some("Holdfast Events"), "{name}");
    // Discovery lists what collections are, without change markers (costly on Radicale);
    // the home listing of later syncs brings the ctag, Depth 0 brings both.
    let listed = client
        .collections_in(server.calendar_home())
        .unwrap_or_else(|e| panic!("{name}: collections_in: {e}"));
    let le = listed
        .iter()
        .find(|c| c.href == events)
        .unwrap_or_else(|| panic!("{name}: home listing missed {events}: {listed:#?}"));
    assert!(
        le.ctag.is_some(),
        "{name}: getctag in the home listing: {le:?}"
    );
    let one = client
        .collection(&events)
        .unwrap_or_else(|e| panic!("{name}: collection: {e}"));
    assert!(
        one.sync_token.is_some(),
        "{name}: sync-token at Depth 0: {one:?}"
    );
    assert!(one.ctag.is_some(), "{name}: getctag at Depth 0: {one:?}");
    let ob = client
        .collection(&book)
        .unwrap_or_else(|e| panic!("{name}: collection: {e}"));
    assert!(
        ob.sync_token.is_some(),
        "{name}: addressbook sync-token: {ob:?}"
    );
    let t = by_href(&tasks);
    assert_eq!(
        t.kind,
        CollectionKind::Calendar {
            components: vec!["VTODO".into()]
        },
        "{name}: task calendar components"
    );
    assert_eq!(t.displayname.as_deref(), Some("Holdfast Tasks"), "{name}");

    let from_principal = server
        .client_at(&server.url(server.principal_path()), Options::default())
        .discover()
        .unwrap_or_else(|e| panic!("{name}: discover from the principal: {e}"));
    assert!(
        from_principal.iter().any(|c| c.href == events),
        "{name}: discovery from the principal: {from_principal:#?}"
    );
    let only = server
        .client_at(&server.url(&events), Options::default())
        .discover()
        .unwrap_or_else(|e| panic!("{name}: discover from a collection: {e}"));
    assert_eq!(
        only.len(),
        1,
        "{name}: a collection URL is that collection alone"
    );
    assert_eq!(only[0].href, events);

    let info = client
        .collection(&events)
        .unwrap_or_else(|e| panic!("{name}: collection: {e}"));
    assert_eq!(info.kind, event_kind);
    assert_eq!(info.displayname.as_deref(), Some("Holdfast Events"));

    // --- empty collection: initial sync lists nothing but gives a token ---
    let empty = client
        .sync_collection(&events, None)
        .unwrap_or_else(|e| panic!("{name}: initial sync of an empty collection: {e}"));
    assert!(
        empty.changed.is_empty() && empty.removed.is_empty(),
        "{name}: {empty:?}"
    );
    assert!(!empty.token.is_empty(), "{name}: a token");

    // --- create, and create again ---
    let one = format!("{events}one.ics");
    let two = format!("{events}two.ics");
    let etag_put = client
        .put(&one, EVENT_ONE.as_bytes(), ICS, &Precondition::Create)
        .unwrap_or_else(|e| panic!("{name}: PUT create: {e}"));
    expect_precondition_failed(
        &format!("{name}: second create of {one}"),
        client.put(&one, EVENT_TWO.as_bytes(), ICS, &Precondition::Create),
    );
    client
        .put(&two, EVENT_TWO.as_bytes(), ICS, &Precondition::Create)
        .unwrap_or_else(|e| panic!("{name}: PUT create two: {e}"));

    // --- an initial sync that asks for the data: the same members, and any body given is
    // exactly what a GET gives ---
    let event_kind_for_data = CollectionKind::Calendar {
        components: vec!["VEVENT".into()],
    };
    let (with_data, bodies) = client
        .sync_collection_with_data(&events, None, &event_kind_for_data)
        .unwrap_or_else(|e| panic!("{name}: initial sync with data: {e}"));
    assert_eq!(with_data.changed.len(), 2, "{name}: {with_data:?}");
    eprintln!("{name}: sync-collection gave {} of 2 bodies", bodies.len());
    for b in &bodies {
        let got = client
            .get(&b.href)
            .unwrap_or_else(|e| panic!("{name}: GET {}: {e}", b.href));
        assert_eq!(b.body, got.body, "{name}: {} body as GET gives it", b.href);
    }

    // --- initial sync lists the members with etags; list() agrees ---
    let initial = client
        .sync_collection(&events, None)
        .unwrap_or_else(|e| panic!("{name}: initial sync: {e}"));
    let initial_changed = sorted(initial.changed.clone());
    let hrefs: Vec<&str> = initial_changed.iter().map(|m| m.href.as_str()).collect();
    assert_eq!(
        hrefs,
        vec![one.as_str(), two.as_str()],
        "{name}: initial sync"
    );
    assert!(initial.removed.is_empty(), "{name}");
    assert!(
        initial_changed.iter().all(|m| !m.etag.is_empty()),
        "{name}: etags"
    );
    let etag_one = initial_changed[0].etag.clone();
    if let Some(etag) = &etag_put {
        assert_eq!(etag, &etag_one, "{name}: PUT etag is the listed etag");
    }
    let listed = sorted(
        client
            .list(&events)
            .unwrap_or_else(|e| panic!("{name}: list: {e}")),
    );
    assert_eq!(
        listed, initial_changed,
        "{name}: list() matches the initial sync"
    );

    // --- byte-exact multiget (folded line, UTF-8, escaped XML characters) ---
    let (stored, etag_one_now) =
        assert_roundtrip(&client, &events, &event_kind, &one, EVENT_ONE, ICS, name);
    assert!(
        stored.contains("\r\n "),
        "{name}: still a folded line: {stored:?}"
    );
    assert!(
        stored.contains("Café Müller – 日本 & <friends>"),
        "{name}: {stored:?}"
    );
    let gone = format!("{events}never-was.ics");
    let both = client
        .multiget(
            &events,
            &event_kind,
            &[one.clone(), two.clone(), gone.clone()],
        )
        .unwrap_or_else(|e| panic!("{name}: multiget of three: {e}"));
    assert_eq!(both.found.len(), 2, "{name}: {both:?}");
    assert_eq!(both.missing.len(), 1, "{name}: {both:?}");
    assert_eq!(both.missing[0].0, gone, "{name}");
    assert!(
        both.found.iter().all(|f| f.etag.is_some()),
        "{name}: multiget etags"
    );
    // Batches: one href per request gives the same result.
    let small = server.client_with(Options {
        multiget_batch: 1,
        ..Options::default()
    });
    let before = small.requests();
    let batched = small
        .multiget(&events, &event_kind, &[one.clone(), two.clone()])
        .unwrap_or_else(|e| panic!("{name}: batched multiget: {e}"));
    assert_eq!(batched.found.len(), 2);
    assert_eq!(
        small.requests() - before,
        2,
        "{name}: one request per batch"
    );

    // --- a change shows up alone in the incremental sync ---
    let etag_edited = client
        .put(
            &one,
            EVENT_ONE_EDITED.as_bytes(),
            ICS,
            &Precondition::Match(etag_one_now.clone()),
        )
        .unwrap_or_else(|e| panic!("{name}: PUT If-Match: {e}"));
    let delta = client
        .sync_collection(&events, Some(&initial.token))
        .unwrap_or_else(|e| panic!("{name}: incremental sync: {e}"));
    assert_eq!(
        delta
            .changed
            .iter()
            .map(|m| m.href.as_str())
            .collect::<Vec<_>>(),
        vec![one.as_str()],
        "{name}: incremental sync after one change"
    );
    assert!(delta.removed.is_empty(), "{name}: {delta:?}");
    assert_ne!(delta.changed[0].etag, etag_one, "{name}: new etag");
    if let Some(etag) = &etag_edited {
        assert_eq!(etag, &delta.changed[0].etag, "{name}");
    }
    assert_roundtrip(
        &client,
        &events,
        &event_kind,
        &one,
        EVENT_ONE_EDITED,
        ICS,
        name,
    );

    // --- stale etags are refused ---
    expect_precondition_failed(
        &format!("{name}: PUT with a stale etag"),
        client.put(
            &one,
            EVENT_ONE.as_bytes(),
            ICS,
            &Precondition::Match(etag_one.clone()),
        ),
    );
    expect_precondition_failed(
        &format!("{name}: DELETE with a stale etag"),
        client.delete(&one, &etag_one),
    );

    // --- a deletion shows up in `removed` ---
    let etag_two = listed[1].etag.clone();
    client
        .delete(&two, &etag_two)
        .unwrap_or_else(|e| panic!("{name}: DELETE: {e}"));
    client
        .delete(&two, &etag_two)
        .unwrap_or_else(|e| panic!("{name}: DELETE of something gone is fine: {e}"));
    let after_delete = client
        .sync_collection(&events, Some(&delta.token))
        .unwrap_or_else(|e| panic!("{name}: sync after delete: {e}"));
    assert_eq!(
        after_delete.removed,
        vec![two.clone()],
        "{name}: {after_delete:?}"
    );
    assert!(after_delete.changed.is_empty(), "{name}: {after_delete:?}");
    let listed = client
        .list(&events)
        .unwrap_or_else(|e| panic!("{name}: list: {e}"));
    assert_eq!(
        listed.iter().map(|m| m.href.as_str()).collect::<Vec<_>>(),
        vec![one.as_str()],
        "{name}: list after delete"
    );

    // --- a token the server never gave ---
    let bogus_token = match server.kind {
        servers::ServerKind::Radicale => format!("http://radicale.org/ns/sync/{}", "0".repeat(64)),
        servers::ServerKind::Xandikos => "bogus-token-that-was-never-issued".to_string(),
    };
    match client.sync_collection(&events, Some(&bogus_token)) {
        Err(DavError::TokenRejected { url }) => assert!(url.contains(&events), "{name}: {url}"),
        other => panic!("{name}: bogus token: expected TokenRejected, got {other:?}"),
    }

    // --- to-dos and contacts round-trip too ---
    let todo = format!("{tasks}todo.ics");
    client
        .put(&todo, TODO.as_bytes(), ICS, &Precondition::Create)
        .unwrap_or_else(|e| panic!("{name}: PUT todo: {e}"));
    let task_kind = CollectionKind::Calendar {
        components: vec!["VTODO".into()],
    };
    assert_roundtrip(&client, &tasks, &task_kind, &todo, TODO, ICS, name);
    let card = format!("{book}contact.vcf");
    client
        .put(&card, CONTACT.as_bytes(), VCF, &Precondition::Create)
        .unwrap_or_else(|e| panic!("{name}: PUT vcard: {e}"));
    let (card_stored, _) = assert_roundtrip(
        &client,
        &book,
        &CollectionKind::Addressbook,
        &card,
        CONTACT,
        VCF,
        name,
    );
    assert!(
        card_stored.contains("Likes <angle> brackets & ampersands"),
        "{name}"
    );
    let contacts = client
        .sync_collection(&book, None)
        .unwrap_or_else(|e| panic!("{name}: addressbook sync: {e}"));
    assert_eq!(contacts.changed.len(), 1, "{name}: {contacts:?}");

    // --- every request counts ---
    let before = client.requests();
    client
        .list(&events)
        .unwrap_or_else(|e| panic!("{name}: list: {e}"));
    client
        .sync_collection(&events, None)
        .unwrap_or_else(|e| panic!("{name}: sync: {e}"));
    assert_eq!(client.requests() - before, 2, "{name}: request count");

    // --- a deleted collection is NotFound, not an empty one (I3 relies on this) ---
    client
        .delete_collection(&tasks)
        .unwrap_or_else(|e| panic!("{name}: delete collection: {e}"));
    match client.sync_collection(&tasks, Some(&empty.token)) {
        Err(DavError::NotFound { .. }) => {}
        other => panic!("{name}: sync of a deleted collection: expected NotFound, got {other:?}"),
    }
    match client.list(&tasks) {
        Err(DavError::NotFound { .. }) => {}
        other => panic!("{name}: list of a deleted collection: expected NotFound, got {other:?}"),
    }
}

#[test]
fn contract_radicale() {
    contract(&DavServer::radicale());
}

#[test]
fn contract_xandikos() {
    contract(&DavServer::xandikos());
}

/// Radicale wants the account: no credentials, or a wrong password, is an Auth error that names
/// the URL and never the password.
#[test]
fn radicale_wrong_password_is_auth_error() {
    let server = DavServer::radicale();
    let secret = "not-the-password-Zq9";
    let client = Client::new(
        &server.base_url(),
        Some("test"),
        Some(secret.into()),
        Options::default(),
    )
    .expect("client");
    let before = client.requests();
    match client.discover() {
        Err(e @ DavError::Auth { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&server.base_url()), "{text}");
            assert!(!text.contains(secret), "{text}");
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert_eq!(client.requests() - before, 1, "a 401 is not retried");
}
