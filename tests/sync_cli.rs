//! `holdfast --sync` and `restore-remote` as a user runs them, against real servers on loopback:
//! exit codes (0, 3, 4, 5), the guard's message naming both ways out, `--json`, a malformed item
//! on the server, dead and silent servers, SIGKILL at random points, and passwords that never
//! leak into the database, backups or messages.

mod common;
#[path = "common/servers.rs"]
mod servers;

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::Home;
use holdfast::sync::dav::Precondition;
use serde_json::Value;
use servers::DavServer;

fn configure(home: &Home, url: &str, credentials: Option<(&str, &str)>, extra: &str) {
    let auth = match credentials {
        Some((u, p)) => format!("username = \"{u}\"\npassword = \"{p}\"\n"),
        None => String::new(),
    };
    let path = home.root().join("config.toml");
    std::fs::write(
        &path,
        format!("[[account]]\nname = \"home\"\nurl = \"{url}\"\n{auth}\n[sync]\n{extra}\n"),
    )
    .expect("write config");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn for_server(home: &Home, server: &DavServer) {
    configure(home, &server.base_url(), server.credentials(), "");
}

fn cards(n: usize, prefix: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{prefix}{i}\r\nFN:Person {prefix}{i}\r\n\
                 EMAIL:p{i}@example.org\r\nEND:VCARD\r\n"
            )
        })
        .collect()
}

fn events(n: usize) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n");
    for i in 0..n {
        s.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:ev{i}\r\nDTSTAMP:20260101T000000Z\r\n\
             DTSTART:20261201T{:02}0000Z\r\nSUMMARY:Event {i}\r\nEND:VEVENT\r\n",
            i % 24
        ));
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn import(home: &Home, name: &str, text: &str) {
    let path = home.root().join(name);
    std::fs::write(&path, text).expect("write import file");
    home.ok(&["import", path.to_str().expect("path")]);
}

fn sync_json(home: &Home, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["--sync", "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = home.run(&args);
    let v: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("--sync --json is not JSON ({e}): {out}\nstderr: {err}"));
    (code, v, err)
}

fn total(v: &Value, key: &str) -> u64 {
    v["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|a| a["collections"].as_array().into_iter().flatten())
        .map(|c| c[key].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn sync_reports_json_and_exit_codes_and_the_guard_names_both_ways_out() {
    let server = DavServer::radicale();
    let book = server.create_addressbook("Contacts");
    let home = Home::new();
    for_server(&home, &server);
    import(&home, "c.vcf", &cards(10, "g"));
    let (code, v, err) = sync_json(&home, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(total(&v, "pushed"), 10, "{v}");
    let c = &v["accounts"][0]["collections"][0];
    for key in [
        "collection",
        "pulled",
        "pushed",
        "moved_to_trash",
        "conflicts",
        "errors",
        "guard",
    ] {
        assert!(c.get(key).is_some(), "--json lacks {key}: {c}");
    }
    // Human run: a summary on stdout, exit 0.
    let (code, out, _) = home.run(&["--sync"]);
    assert_eq!(code, 0);
    assert!(out.contains("sync:"), "{out}");

    // The server loses 8 of 10: exit 4, nothing removed, both ways out named.
    let client = server.client();
    for m in client.list(&book).expect("list").iter().skip(2) {
        client.delete(&m.href, &m.etag).expect("delete");
    }
    let (code, out, err) = home.run(&["--sync"]);
    assert_eq!(code, 4, "{out}\n{err}");
    assert!(err.contains("--accept-remote-deletions"), "{err}");
    assert!(err.contains("restore-remote"), "{err}");
    assert_eq!(
        home.list("contacts", &[]).len(),
        10,
        "nothing local removed"
    );
    let (code, v, _) = sync_json(&home, &[]);
    assert_eq!(code, 4);
    assert_eq!(
        v["accounts"][0]["collections"][0]["guard"]["held_back"].as_u64(),
        Some(8),
        "{v}"
    );
    // restore-remote: back on the server.
    let (code, out, err) = home.run(&["restore-remote"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(client.list(&book).expect("list").len(), 10);
    assert_eq!(home.run(&["--sync"]).0, 0);
    // Wipe again and accept: into the trash.
    for m in client.list(&book).expect("list").iter().skip(2) {
        client.delete(&m.href, &m.etag).expect("delete");
    }
    let (code, _, err) = home.run(&["--sync", "--accept-remote-deletions"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(home.list("contacts", &[]).len(), 2);
    assert_eq!(home.list("contacts", &["--trash"]).len(), 8);
}

#[test]
fn a_malformed_item_on_the_server_is_kept_flagged_and_named_by_href() {
    let server = DavServer::radicale();
    let cal = server.create_event_calendar("Calendar");
    let client = server.client();
    for i in 0..3 {
        client
            .put(
                &format!("{cal}ok{i}.ics"),
                format!(
                    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n\
                     UID:ok{i}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\n\
                     SUMMARY:Fine {i}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                )
                .as_bytes(),
                "text/calendar",
                &Precondition::Create,
            )
            .expect("put");
    }
    // The server takes it; its time zone exists nowhere, so its times cannot be trusted.
    let broken = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n\
                  UID:broken\r\nDTSTAMP:20260101T000000Z\r\n\
                  DTSTART;TZID=Mars/Olympus_Mons:20261201T100000\r\nSUMMARY:On Mars\r\n\
                  END:VEVENT\r\nEND:VCALENDAR\r\n";
    client
        .put(
            &format!("{cal}broken.ics"),
            broken.as_bytes(),
            "text/calendar",
            &Precondition::Create,
        )
        .expect("the server takes the unknown-zone event");
    let home = Home::new();
    for_server(&home, &server);
    let (code, out, err) = home.run(&["--sync"]);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(err.contains("broken.ics"), "names the href: {err}");
    assert!(
        err.contains("line") && err.contains("Mars/Olympus_Mons"),
        "line and reason: {err}"
    );
    let listed = home.list("events", &[]);
    assert_eq!(
        listed.len(),
        4,
        "the rest synced, the odd one kept: {listed:?}"
    );
    let flagged: Vec<&Value> = listed
        .iter()
        .filter(|c| c["flags"].to_string().contains("unparsable"))
        .collect();
    assert_eq!(flagged.len(), 1, "{listed:?}");
    assert_eq!(flagged[0]["uid"], "broken");
    // Kept verbatim: exactly what the server holds.
    let held = client.get(&format!("{cal}broken.ics")).expect("get").body;
    let stored = home.ok(&["history", "broken", "--json"]);
    let stored: Value = serde_json::from_str(&stored).expect("json");
    assert_eq!(
        stored.as_array().and_then(|a| a.last()).map(|r| r["text"]
            .as_str()
            .unwrap_or("")
            .as_bytes()
            .to_vec()),
        Some(held)
    );
}

#[test]
fn a_dead_server_exits_5_quickly_and_touches_nothing() {
    let home = Home::new();
    import(&home, "c.vcf", &cards(3, "d"));
    let before = home.sqlite("SELECT count(*), sum(rev) FROM items");
    // Refusing connections.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    configure(
        &home,
        &format!("http://127.0.0.1:{port}/"),
        Some(("u", "p")),
        "timeout_secs = 2",
    );
    let t = Instant::now();
    let (code, v, err) = sync_json(&home, &[]);
    assert_eq!(code, 5, "{v}\n{err}");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    assert!(err.contains("untouched"), "{err}");
    // Accepting and never answering.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().take(8).flatten() {
            held.push(s);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    configure(
        &home,
        &format!("http://127.0.0.1:{port}/"),
        Some(("u", "p")),
        "timeout_secs = 2",
    );
    let t = Instant::now();
    let (code, _, err) = home.run(&["--sync"]);
    assert_eq!(code, 5, "{err}");
    // Two retries with backoff on top of the 2 s timeout.
    assert!(
        t.elapsed() < Duration::from_secs(12),
        "a silent server held the sync for {:?}",
        t.elapsed()
    );
    assert_eq!(home.sqlite("SELECT count(*), sum(rev) FROM items"), before);
    drop(holder);
}

#[test]
fn killed_mid_sync_many_times_then_converges_with_no_duplicate_and_no_lost_edit() {
    let server = DavServer::radicale();
    let book = server.create_addressbook("Contacts");
    let cal = server.create_event_calendar("Calendar");
    let home = Home::new();
    for_server(&home, &server);
    import(&home, "c.vcf", &cards(300, "k"));
    import(&home, "e.ics", &events(150));
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);
    eprintln!("seed {seed}");
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for round in 0..8 {
        // An edit before some rounds: it must survive the kills.
        if round % 3 == 1 {
            let uid = format!("k{}", next(300));
            let script = home.root().join("ed.sh");
            std::fs::write(
                &script,
                format!("#!/bin/sh\nsed -i 's/^FN:.*/FN:Edited in round {round}/' \"$1\"\n"),
            )
            .expect("script");
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            let (code, _, err) =
                home.run_env(&["edit", &uid], &[("EDITOR", script.to_str().expect("p"))]);
            assert_eq!(code, 0, "{err}");
        }
        let mut child = home
            .command(&["--sync"], &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(30 + next(900)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let (code, out, derr) = home.run(&["doctor"]);
        assert_eq!(
            code, 0,
            "round {round}: doctor after SIGKILL:\n{out}\n{derr}\n{err}"
        );
    }
    let (code, out, err) = home.run(&["--sync"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, _, _) = home.run(&["--sync"]);
    assert_eq!(code, 0);
    let client = server.client();
    let on_server = client.list(&book).expect("list");
    assert_eq!(on_server.len(), 300, "no duplicate, none missing");
    assert_eq!(client.list(&cal).expect("list").len(), 150);
    assert_eq!(home.list("contacts", &[]).len(), 300);
    // Every local text is the server's text (so every edit went up).
    let fresh = Home::new();
    for_server(&fresh, &server);
    assert_eq!(fresh.run(&["--sync"]).0, 0);
    let mine: Vec<Value> = home.list("contacts", &[]);
    let theirs: Vec<Value> = fresh.list("contacts", &[]);
    let names = |v: &[Value]| {
        let mut n: Vec<String> = v
            .iter()
            .map(|c| format!("{}={}", c["uid"], c["full_name"]))
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names(&mine),
        names(&theirs),
        "a fresh home sees exactly our data"
    );
}

#[test]
fn passwords_never_reach_the_database_backups_or_messages() {
    const SECRET: &str = "Zq7-unlikely-Passw0rd-x91";
    let server = DavServer::radicale_with_password(SECRET);
    server.create_addressbook("Contacts");
    let home = Home::new();
    configure(&home, &server.base_url(), Some(("test", SECRET)), "");
    import(&home, "c.vcf", &cards(5, "s"));
    let (code, out, err) = home.run(&["--sync"]);
    assert_eq!(code, 0, "{err}");
    let mut seen = format!("{out}{err}");
    // A guard run (snapshots are taken) and a failing login.
    let (_, o, e) = home.run(&["--sync", "--json"]);
    seen.push_str(&o);
    seen.push_str(&e);
    home.ok(&["backup"]);
    configure(
        &home,
        &server.base_url(),
        Some(("test", "wrong-Zq7-password")),
        "",
    );
    let (code, o, e) = home.run(&["--sync", "--json"]);
    assert_ne!(code, 0);
    seen.push_str(&o);
    seen.push_str(&e);
    assert!(
        !seen.contains(SECRET) && !seen.contains("wrong-Zq7"),
        "leaked in output:\n{seen}"
    );
    // Every file under the data dir: DB, WAL, backups.
    let mut files = Vec::new();
    let mut stack = vec![home.data()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("backups")),
        "{files:?}"
    );
    for f in files {
        let bytes = std::fs::read(&f).expect("read");
        let hit = bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
        assert!(!hit, "the password is in {}", f.display());
    }
}

/// A server that answers every request with the same raw HTTP response.
fn garbage_server(response: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::Write;
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 65536];
                // Read the request head (and whatever body came with it), then answer.
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(response);
                let _ = stream.flush();
            });
        }
    });
    port
}

#[test]
fn garbage_answers_fail_the_request_clearly_and_lose_nothing() {
    let cases: [(&str, &'static [u8]); 4] = [
        (
            "invalid XML",
            b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: 27\r\nConnection: close\r\n\r\n<d:multistatus><d:response",
        ),
        (
            "a 200 where a 207 belongs",
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<html>hello</html>\r\n",
        ),
        (
            "a truncated body",
            b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\">",
        ),
        (
            "an oversized body",
            b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: 900000000000\r\nConnection: close\r\n\r\n<?xml",
        ),
    ];
    let home = Home::new();
    import(&home, "c.vcf", &cards(4, "z"));
    let before = home.sqlite("SELECT group_concat(uid || ':' || rev || ':' || flags) FROM items");
    for (what, response) in cases {
        let port = garbage_server(response);
        configure(
            &home,
            &format!("http://127.0.0.1:{port}/"),
            Some(("u", "p")),
            "timeout_secs = 3",
        );
        let (code, out, err) = home.run(&["--sync"]);
        assert!(code == 3 || code == 5, "{what}: exit {code}\n{out}\n{err}");
        assert!(
            err.contains(&format!("127.0.0.1:{port}")),
            "{what}: names the URL: {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert_eq!(
            home.sqlite("SELECT group_concat(uid || ':' || rev || ':' || flags) FROM items"),
            before,
            "{what}: local data changed"
        );
    }
    assert_eq!(home.run(&["doctor"]).0, 0);
}

fn edit_with(home: &Home, uid: &str, sed: &str) {
    let script = home.root().join("ed.sh");
    std::fs::write(&script, format!("#!/bin/sh\nsed -i '{sed}' \"$1\"\n")).expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (code, _, err) = home.run_env(&["edit", uid], &[("EDITOR", script.to_str().expect("p"))]);
    assert_eq!(code, 0, "edit {uid}: {err}");
}

#[test]
fn a_conflict_is_listed_keeps_both_versions_and_an_edit_settles_it() {
    let server = DavServer::radicale();
    server.create_addressbook("Contacts");
    let a = Home::new();
    let b = Home::new();
    for_server(&a, &server);
    for_server(&b, &server);
    import(&a, "c.vcf", &cards(2, "cf"));
    assert_eq!(a.run(&["--sync"]).0, 0);
    assert_eq!(b.run(&["--sync"]).0, 0);
    edit_with(&a, "cf0", "s/^FN:.*/FN:Name from A/");
    edit_with(&b, "cf0", "s/^FN:.*/FN:Name from B/");
    assert_eq!(b.run(&["--sync"]).0, 0);
    let (code, v, err) = sync_json(&a, &[]);
    assert_eq!(code, 3, "a conflict is reported: {v}\n{err}");
    assert_eq!(total(&v, "conflicts"), 1, "{v}");
    assert!(err.contains("history cf0"), "{err}");
    let listed = a.list("contacts", &["--conflicts"]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["uid"], "cf0");
    assert_eq!(listed[0]["full_name"], "Name from A", "local wins");
    assert!(
        a.history("cf0")
            .iter()
            .any(|r| r["text"].as_str().unwrap_or("").contains("FN:Name from B")),
        "B's version kept as a revision"
    );
    assert_eq!(b.run(&["--sync"]).0, 0);
    assert_eq!(
        b.list("contacts", &[])[0]["full_name"],
        "Name from A",
        "converged on the server's copy"
    );
    // The user decides: an edit clears the flag, and the next sync is clean.
    edit_with(&a, "cf0", "s/^FN:.*/FN:Name agreed/");
    assert!(a.list("contacts", &["--conflicts"]).is_empty());
    assert_eq!(a.run(&["--sync"]).0, 0);
}

/// A crash after an upload but before it was recorded, then an edit here: the server holds our
/// earlier version, so the edit goes up as an edit, not a conflict.
#[test]
fn an_upload_whose_record_was_lost_then_edited_is_pushed_not_flagged() {
    let server = DavServer::radicale();
    let book = server.create_addressbook("Contacts");
    let home = Home::new();
    for_server(&home, &server);
    import(&home, "c.vcf", &cards(3, "lost"));
    let (code, _, err) = home.run(&["--sync"]);
    assert_eq!(code, 0, "{err}");
    // What a SIGKILL between the PUT and its record leaves behind.
    home.sqlite("DELETE FROM sync_state; UPDATE collections SET sync_token = NULL, ctag = NULL");
    edit_with(&home, "lost1", "s/^FN:.*/FN:Renamed after the crash/");
    let (code, out, err) = home.run(&["--sync"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(home.list("contacts", &["--conflicts"]).is_empty());
    let client = server.client();
    let members = client.list(&book).expect("list");
    assert_eq!(members.len(), 3, "no duplicate");
    let renamed = members
        .iter()
        .filter_map(|m| client.get(&m.href).ok())
        .filter(|g| String::from_utf8_lossy(&g.body).contains("FN:Renamed after the crash"))
        .count();
    assert_eq!(renamed, 1, "the edit reached the server");
}
