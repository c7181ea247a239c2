//! The DAV client against a server that fails, lies or sends garbage: a tiny scripted HTTP/1.1
//! server on 127.0.0.1:0 answers each connection with the next canned response (and closes
//! it), recording what it was asked. Every error must name the URL and never the password; a
//! bad answer aborts that request only (I9); nothing here may panic or hang.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use holdfast::sync::dav::{Client, CollectionKind, DavError, Options, Precondition};

const PASSWORD: &str = "s3cret-PW-never-shown";

/// What the scripted server does with one connection.
enum Step {
    /// Read the request, write these bytes, close.
    Send(Vec<u8>),
    /// Read the request and never answer (the connection is held open for a while).
    Hang,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    head: String,
    body: String,
}

struct Scripted {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl Scripted {
    fn start(steps: Vec<Step>) -> Scripted {
        Scripted::start_with(|_| steps)
    }

    /// Like `start`, for scripts that need to know their own port.
    fn start_with(script: impl FnOnce(u16) -> Vec<Step>) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let steps = script(port);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let thread = std::thread::spawn(move || serve(listener, steps, log));
        Scripted {
            port,
            seen,
            thread: Some(thread),
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn client(&self, options: Options) -> Client {
        Client::new(&self.base(), Some("alice"), Some(PASSWORD.into()), options).expect("client")
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        // Unblock a pending accept so the thread ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: TcpListener, steps: Vec<Step>, log: Arc<Mutex<Vec<Seen>>>) {
    for step in steps {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        if let Some(request) = read_request(&stream) {
            log.lock().expect("log").push(request);
        }
        match step {
            Step::Send(bytes) => {
                let mut stream = stream;
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
            Step::Hang => {
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(15));
                    drop(stream);
                });
            }
        }
    }
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut first = head.lines().next()?.split_whitespace();
    Some(Seen {
        method: first.next()?.to_string(),
        path: first.next()?.to_string(),
        head: head.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn response(status: &str, headers: &[&str], body: &str) -> Step {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    Step::Send(out.into_bytes())
}

fn multistatus(body: &str) -> Step {
    response(
        "207 Multi-Status",
        &["Content-Type: application/xml; charset=utf-8"],
        body,
    )
}

fn quick() -> Options {
    Options {
        timeout: Duration::from_secs(5),
        retries: 2,
        backoff: Duration::from_millis(10),
        ..Options::default()
    }
}

/// The error names the server and never the password.
fn check_message(error: &DavError, server: &Scripted) {
    let text = error.to_string();
    let debug = format!("{error:?}");
    assert!(
        text.contains(&format!("127.0.0.1:{}", server.port)),
        "error does not name the URL: {text}"
    );
    assert!(!text.contains(PASSWORD), "password in message: {text}");
    assert!(!debug.contains(PASSWORD), "password in debug: {debug}");
}

fn expect_protocol(
    result: Result<impl std::fmt::Debug, DavError>,
    server: &Scripted,
    what: &str,
) -> String {
    match result {
        Err(e @ DavError::Protocol { .. }) => {
            check_message(&e, server);
            e.to_string()
        }
        other => panic!("{what}: expected a Protocol error, got {other:?}"),
    }
}

const LISTING: &str = r#"<?xml version="1.0"?>
<multistatus xmlns="DAV:"><response><href>/cal/</href><propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
<response><href>/cal/a.ics</href><propstat><prop><getetag>"1"</getetag><resourcetype/></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;

#[test]
fn invalid_xml_is_a_protocol_error() {
    let server = Scripted::start(vec![multistatus(
        r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/a.ics</d:wrong></d:response></d:multistatus>"#,
    )]);
    let client = server.client(quick());
    let message = expect_protocol(client.list("/cal/"), &server, "invalid XML");
    assert!(message.contains("/cal/"), "{message}");
    assert_eq!(client.requests(), 1, "a bad answer is not retried");
}

#[test]
fn truncated_body_is_a_protocol_error() {
    let head = "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n";
    let mut bytes = head.as_bytes().to_vec();
    bytes.extend_from_slice(&LISTING.as_bytes()[..120]);
    let server = Scripted::start(vec![Step::Send(bytes)]);
    let client = server.client(quick());
    let message = expect_protocol(client.list("/cal/"), &server, "truncated body");
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn xml_that_stops_early_is_a_protocol_error() {
    let server = Scripted::start(vec![multistatus(&LISTING[..200])]);
    let client = server.client(quick());
    expect_protocol(client.list("/cal/"), &server, "XML cut short");
}

#[test]
fn html_where_multistatus_belongs_is_a_protocol_error() {
    let server = Scripted::start(vec![response(
        "200 OK",
        &["Content-Type: text/html"],
        "<html><body>Welcome to our portal</body></html>",
    )]);
    let client = server.client(quick());
    let message = expect_protocol(client.list("/cal/"), &server, "HTML");
    assert!(message.contains("207"), "{message}");
}

#[test]
fn body_over_the_limit_is_refused() {
    let big = format!(
        "<multistatus xmlns=\"DAV:\">{}</multistatus>",
        " ".repeat(10_000)
    );
    // One with a Content-Length, one read until the connection closes.
    let unsized_reply = format!(
        "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n{big}"
    );
    let server = Scripted::start(vec![
        multistatus(&big),
        Step::Send(unsized_reply.into_bytes()),
    ]);
    let client = server.client(Options {
        max_body: 4096,
        ..quick()
    });
    let first = expect_protocol(client.list("/cal/"), &server, "sized");
    assert!(first.contains("4096"), "{first}");
    let second = expect_protocol(client.list("/cal/"), &server, "unsized");
    assert!(second.contains("4096"), "{second}");
}

#[test]
fn sync_collection_follows_507_truncation() {
    let first = r#"<?xml version="1.0"?>
<A:multistatus xmlns:A="DAV:">
 <A:response><A:href>/cal/a.ics</A:href><A:propstat><A:prop><A:getetag>"a1"</A:getetag></A:prop><A:status>HTTP/1.1 200 OK</A:status></A:propstat></A:response>
 <A:response><A:href>/cal/c.ics</A:href><A:propstat><A:prop><A:getetag>"c1"</A:getetag></A:prop><A:status>HTTP/1.1 200 OK</A:status></A:propstat></A:response>
 <A:response><A:href>/cal/</A:href><A:status>HTTP/1.1 507 Insufficient Storage</A:status></A:response>
 <A:sync-token>tok-1</A:sync-token>
</A:multistatus>"#;
    let second = r#"<?xml version="1.0"?>
<multistatus xmlns="DAV:">
 <response><href>http://127.0.0.1:PORT/cal/b.ics</href><propstat><prop><getetag>"b1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
 <response><href>/cal/a.ics</href><href>/cal/d.ics</href><status>HTTP/1.1 404 Not Found</status></response>
 <sync-token>tok-2</sync-token>
</multistatus>"#;
    let server = Scripted::start_with(|port| {
        vec![
            multistatus(first),
            multistatus(&second.replace("PORT", &port.to_string())),
        ]
    });
    let client = server.client(quick());
    let delta = client
        .sync_collection("/cal/", Some("tok-0"))
        .expect("sync with continuation");
    let changed: Vec<(&str, &str)> = delta
        .changed
        .iter()
        .map(|m| (m.href.as_str(), m.etag.as_str()))
        .collect();
    assert_eq!(
        changed,
        vec![("/cal/b.ics", "\"b1\""), ("/cal/c.ics", "\"c1\"")]
    );
    assert_eq!(
        delta.removed,
        vec!["/cal/a.ics".to_string(), "/cal/d.ics".to_string()]
    );
    assert_eq!(delta.token, "tok-2");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|s| s.method == "REPORT" && s.path == "/cal/"));
    assert!(seen[0].body.contains(">tok-0<"), "{}", seen[0].body);
    assert!(seen[1].body.contains(">tok-1<"), "{}", seen[1].body);
    assert_eq!(client.requests(), 2);
}

#[test]
fn endless_507_without_a_new_token_stops() {
    let looping = r#"<multistatus xmlns="DAV:"><response><href>/cal/</href><status>HTTP/1.1 507 Insufficient Storage</status></response><sync-token>same</sync-token></multistatus>"#;
    let server = Scripted::start(vec![multistatus(looping), multistatus(looping)]);
    let client = server.client(quick());
    let message = expect_protocol(client.sync_collection("/cal/", None), &server, "507 loop");
    assert!(message.contains("507"), "{message}");
}

#[test]
fn rejected_tokens_ask_for_a_listing() {
    let precondition =
        r#"<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>"#;
    let server = Scripted::start(vec![
        response(
            "403 Forbidden",
            &["Content-Type: application/xml"],
            precondition,
        ),
        response(
            "409 Conflict",
            &["Content-Type: application/xml"],
            precondition,
        ),
        response(
            "412 Precondition Failed",
            &["Content-Type: application/xml"],
            precondition,
        ),
        response("501 Not Implemented", &[], ""),
        response("400 Bad Request", &[], ""),
        response("403 Forbidden", &[], ""),
    ]);
    let client = server.client(quick());
    for round in 0..5 {
        match client.sync_collection("/cal/", Some("old")) {
            Err(e @ DavError::TokenRejected { .. }) => check_message(&e, &server),
            other => panic!("round {round}: expected TokenRejected, got {other:?}"),
        }
    }
    // A plain 403 without the precondition is an authorisation problem, not a token problem.
    match client.sync_collection("/cal/", Some("old")) {
        Err(DavError::Auth { status: 403, .. }) => {}
        other => panic!("plain 403: expected Auth, got {other:?}"),
    }
    assert_eq!(client.requests(), 6, "none of these is retried");
}

#[test]
fn hrefs_on_another_host_are_refused() {
    let evil = r#"<multistatus xmlns="DAV:"><response><href>http://evil.example/steal/x.ics</href><propstat><prop><getetag>"1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
    let other_port = r#"<multistatus xmlns="DAV:"><response><href>http://127.0.0.1:1/cal/x.ics</href><propstat><prop><getetag>"1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
    let server = Scripted::start(vec![multistatus(evil), multistatus(other_port)]);
    let client = server.client(quick());
    let message = expect_protocol(client.list("/cal/"), &server, "other host");
    assert!(message.contains("evil.example"), "{message}");
    let message = expect_protocol(client.list("/cal/"), &server, "other port");
    assert!(message.contains("127.0.0.1:1/"), "{message}");
    // And the caller cannot be talked into it either.
    let refused = client.get("http://evil.example/x.ics");
    assert!(
        matches!(refused, Err(DavError::Protocol { .. })),
        "{refused:?}"
    );
    assert_eq!(client.requests(), 2, "no request to evil.example");
}

#[test]
fn redirects_keep_the_method_and_stay_on_the_origin() {
    let server = Scripted::start_with(|port| {
        vec![
            response("301 Moved Permanently", &["Location: /moved/"], ""),
            response(
                "307 Temporary Redirect",
                &[&format!("Location: http://127.0.0.1:{port}/final/")],
                "",
            ),
            multistatus(&LISTING.replace("/cal/", "/final/")),
            response("302 Found", &["Location: http://evil.example/cal/"], ""),
        ]
    });
    let client = server.client(quick());
    let members = client.list("/cal/").expect("list through two redirects");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].href, "/final/a.ics");
    let seen = server.seen();
    let trail: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str()))
        .collect();
    assert_eq!(
        trail,
        vec![
            ("PROPFIND", "/cal/"),
            ("PROPFIND", "/moved/"),
            ("PROPFIND", "/final/")
        ]
    );
    assert!(
        seen[2].body.contains("getetag"),
        "body kept: {}",
        seen[2].body
    );
    let message = expect_protocol(client.list("/cal/"), &server, "redirect elsewhere");
    assert!(message.contains("evil.example"), "{message}");
    assert_eq!(client.requests(), 4);
}

#[test]
fn too_many_redirects_stop() {
    let steps = (0..6)
        .map(|i| response("302 Found", &[&format!("Location: /hop{i}/")], ""))
        .collect();
    let server = Scripted::start(steps);
    let client = server.client(quick());
    let message = expect_protocol(client.list("/cal/"), &server, "redirect loop");
    assert!(message.contains("redirects"), "{message}");
    assert_eq!(client.requests(), 6, "5 hops followed, then stop");
}

#[test]
fn busy_server_is_retried_with_backoff() {
    let server = Scripted::start(vec![
        response("503 Service Unavailable", &[], ""),
        response("429 Too Many Requests", &[], ""),
        multistatus(LISTING),
    ]);
    let client = server.client(quick());
    let members = client.list("/cal/").expect("third time lucky");
    assert_eq!(members.len(), 1);
    assert_eq!(client.requests(), 3);
}

#[test]
fn busy_server_gives_up_after_the_retries() {
    let server = Scripted::start(vec![
        response("503 Service Unavailable", &[], ""),
        response("502 Bad Gateway", &[], ""),
        response("504 Gateway Timeout", &[], ""),
    ]);
    let client = server.client(quick());
    match client.list("/cal/") {
        Err(e @ DavError::Status { status: 504, .. }) => check_message(&e, &server),
        other => panic!("expected Status 504, got {other:?}"),
    }
    assert_eq!(client.requests(), 3, "1 try + 2 retries");
}

#[test]
fn writes_are_not_retried_once_sent() {
    let server = Scripted::start(vec![
        response("503 Service Unavailable", &[], ""),
        response("503 Service Unavailable", &[], ""),
    ]);
    let client = server.client(quick());
    match client.put(
        "/cal/a.ics",
        b"BEGIN:VCALENDAR\r\n",
        "text/calendar",
        &Precondition::Create,
    ) {
        Err(DavError::Status { status: 503, .. }) => {}
        other => panic!("expected Status 503, got {other:?}"),
    }
    match client.delete("/cal/a.ics", "\"1\"") {
        Err(DavError::Status { status: 503, .. }) => {}
        other => panic!("expected Status 503, got {other:?}"),
    }
    assert_eq!(
        client.requests(),
        2,
        "a write that reached the server is never repeated"
    );
    let seen = server.seen();
    assert!(
        seen[0]
            .head
            .to_ascii_lowercase()
            .contains("if-none-match: *"),
        "{}",
        seen[0].head
    );
    assert!(
        seen[1]
            .head
            .to_ascii_lowercase()
            .contains("if-match: \"1\""),
        "{}",
        seen[1].head
    );
}

#[test]
fn put_and_delete_statuses() {
    let server = Scripted::start(vec![
        response("201 Created", &["ETag: \"new-1\""], ""),
        response("204 No Content", &[], ""),
        response("412 Precondition Failed", &[], ""),
        response("404 Not Found", &[], ""),
        response("410 Gone", &[], ""),
        response("412 Precondition Failed", &[], ""),
    ]);
    let client = server.client(quick());
    let etag = client
        .put("/cal/a.ics", b"x", "text/calendar", &Precondition::Create)
        .expect("created");
    assert_eq!(etag.as_deref(), Some("\"new-1\""));
    let etag = client
        .put(
            "/cal/a.ics",
            b"y",
            "text/calendar",
            &Precondition::Match("\"new-1\"".into()),
        )
        .expect("updated");
    assert_eq!(etag, None, "no ETag header, no etag");
    match client.put(
        "/cal/a.ics",
        b"z",
        "text/calendar",
        &Precondition::Match("\"old\"".into()),
    ) {
        Err(e @ DavError::PreconditionFailed { .. }) => check_message(&e, &server),
        other => panic!("expected PreconditionFailed, got {other:?}"),
    }
    client.delete("/cal/a.ics", "\"1\"").expect("404 is done");
    client.delete("/cal/a.ics", "\"1\"").expect("410 is done");
    assert!(matches!(
        client.delete("/cal/a.ics", "\"1\""),
        Err(DavError::PreconditionFailed { .. })
    ));
}

#[test]
fn unauthorised_is_an_auth_error_without_retry() {
    let server = Scripted::start(vec![
        response(
            "401 Unauthorized",
            &["WWW-Authenticate: Basic realm=\"x\""],
            "no",
        ),
        response(
            "401 Unauthorized",
            &["WWW-Authenticate: Basic realm=\"x\""],
            "no",
        ),
    ]);
    let client = server.client(quick());
    match client.list("/cal/") {
        Err(e @ DavError::Auth { status: 401, .. }) => check_message(&e, &server),
        other => panic!("expected Auth, got {other:?}"),
    }
    assert_eq!(client.requests(), 1);
    let seen = server.seen();
    assert!(
        seen[0]
            .head
            .to_ascii_lowercase()
            .contains("authorization: basic "),
        "Basic auth is sent preemptively: {}",
        seen[0].head
    );
}

#[test]
fn no_username_sends_no_authorization() {
    let server = Scripted::start(vec![multistatus(LISTING)]);
    let client = Client::new(&server.base(), None, None, quick()).expect("client");
    client.list("/cal/").expect("list");
    assert!(!server.seen()[0]
        .head
        .to_ascii_lowercase()
        .contains("authorization"));
}

#[test]
fn multiget_bytes_are_exact_whatever_the_prefixes() {
    // CDATA with raw CRLF, character references for CR, entities, an unusual prefix for DAV:,
    // one href answered 404 and one not answered at all.
    let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<Z:multistatus xmlns:Z=\"DAV:\" xmlns:cal=\"urn:ietf:params:xml:ns:caldav\">\
<Z:response><Z:href>/cal/a.ics</Z:href><Z:propstat><Z:prop><Z:getetag>\"a\"</Z:getetag>\
<cal:calendar-data><![CDATA[BEGIN:VCALENDAR\r\nSUMMARY:Tom & Jerry <3 – ü\r\n x\r\nEND:VCALENDAR\r\n]]></cal:calendar-data>\
</Z:prop><Z:status>HTTP/1.1 200 OK</Z:status></Z:propstat></Z:response>\
<Z:response><Z:href>/cal/b%20c.ics</Z:href><Z:propstat><Z:prop><Z:getetag>\"b\"</Z:getetag>\
<cal:calendar-data>BEGIN:VCALENDAR&#13;\nSUMMARY:Tom &amp; Jerry &lt;3 &#x2013; \u{fc}\r\n x&#13;&#10;END:VCALENDAR&#xD;\n</cal:calendar-data>\
</Z:prop><Z:status>HTTP/1.1 200 OK</Z:status></Z:propstat></Z:response>\
<Z:response><Z:href>/cal/gone.ics</Z:href><Z:status>HTTP/1.1 404 Not Found</Z:status></Z:response>\
</Z:multistatus>";
    let server = Scripted::start(vec![multistatus(body)]);
    let client = server.client(quick());
    let kind = CollectionKind::Calendar { components: vec![] };
    let hrefs: Vec<String> = [
        "/cal/a.ics",
        "/cal/b c.ics",
        "/cal/gone.ics",
        "/cal/silent.ics",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let got = client.multiget("/cal/", &kind, &hrefs).expect("multiget");
    let expected = "BEGIN:VCALENDAR\r\nSUMMARY:Tom & Jerry <3 – ü\r\n x\r\nEND:VCALENDAR\r\n";
    assert_eq!(got.found.len(), 2, "{got:?}");
    for fetched in &got.found {
        assert_eq!(
            String::from_utf8_lossy(&fetched.body),
            expected,
            "{}",
            fetched.href
        );
    }
    assert_eq!(got.found[0].href, "/cal/a.ics");
    assert_eq!(got.found[0].etag.as_deref(), Some("\"a\""));
    assert_eq!(
        got.found[1].href, "/cal/b c.ics",
        "the caller's spelling comes back"
    );
    let mut missing = got.missing.clone();
    missing.sort();
    assert_eq!(
        missing,
        vec![
            ("/cal/gone.ics".to_string(), 404),
            ("/cal/silent.ics".to_string(), 404)
        ]
    );
    let seen = server.seen();
    assert_eq!(seen[0].method, "REPORT");
    assert!(
        seen[0].body.contains("calendar-multiget"),
        "{}",
        seen[0].body
    );
}

#[test]
fn connection_refused_is_unreachable_and_fast() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let base = format!("http://127.0.0.1:{port}/");
    let client = Client::new(&base, Some("alice"), Some(PASSWORD.into()), quick()).expect("client");
    let started = Instant::now();
    let error = client.discover().expect_err("nobody listens");
    assert!(error.is_unreachable(), "{error:?}");
    let text = error.to_string();
    assert!(text.contains(&base), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(client.requests(), 3, "connect failures are retried");
    // A write that never left may be retried too.
    let error = client
        .put("/cal/a.ics", b"x", "text/calendar", &Precondition::Create)
        .expect_err("nobody listens");
    assert!(error.is_unreachable(), "{error:?}");
    assert_eq!(client.requests(), 6, "PUT retried on connect failure only");
}

#[test]
fn silent_server_times_out_as_unreachable() {
    let timeout = Duration::from_secs(1);
    let server = Scripted::start(vec![Step::Hang, Step::Hang]);
    let client = server.client(Options {
        timeout,
        retries: 1,
        backoff: Duration::from_millis(10),
        ..Options::default()
    });
    let started = Instant::now();
    let error = client.list("/cal/").expect_err("no answer");
    let elapsed = started.elapsed();
    assert!(error.is_unreachable(), "{error:?}");
    check_message(&error, &server);
    assert!(elapsed < timeout * 3, "took {elapsed:?}");
    assert_eq!(client.requests(), 2, "a timed-out read is retried");
}

#[test]
fn credentials_in_the_url_never_show() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let client = Client::new(
        &format!("http://alice:{PASSWORD}@127.0.0.1:{port}/"),
        None,
        None,
        Options {
            retries: 0,
            ..quick()
        },
    )
    .expect("client");
    let error = client.list("/cal/").expect_err("refused");
    assert!(!error.to_string().contains(PASSWORD), "{error}");
    assert!(!format!("{error:?}").contains(PASSWORD), "{error:?}");
}

#[test]
fn discovery_through_well_known_principal_and_home_sets() {
    let principal = r#"<multistatus xmlns="DAV:"><response><href>/dav/</href><propstat><prop><current-user-principal><href>/dav/principals/alice/</href></current-user-principal></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
    let homes = r#"<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:k="urn:ietf:params:xml:ns:carddav"><d:response><d:href>/dav/principals/alice/</d:href><d:propstat><d:prop>
<c:calendar-home-set><d:href>http://127.0.0.1:PORT/dav/cal/alice/</d:href></c:calendar-home-set>
<k:addressbook-home-set><d:href>/dav/card/alice/</d:href></k:addressbook-home-set>
</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
    let calendars = r##"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/" xmlns:I="http://apple.com/ns/ical/">
<response><href>/dav/cal/alice/</href><propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
<response><href>/dav/cal/alice/work/</href><propstat><prop><resourcetype><collection/><C:calendar/></resourcetype><displayname>Work &amp; Life</displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="vtodo"/></C:supported-calendar-component-set><I:calendar-color>#FF8800FF</I:calendar-color><CS:getctag>ctag-7</CS:getctag><sync-token>http://example.org/sync/7</sync-token></prop><status>HTTP/1.1 200 OK</status></propstat><propstat><prop><getetag/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
<response><href>/dav/cal/alice/inbox/</href><propstat><prop><resourcetype><collection/><C:schedule-inbox/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
<response><href>/dav/cal/alice/files/</href><propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
</multistatus>"##;
    let books = r#"<multistatus xmlns="DAV:"><response><href>/dav/card/alice/friends/</href><propstat><prop><resourcetype><collection/><addressbook xmlns="urn:ietf:params:xml:ns:carddav"/></resourcetype><displayname>Friends</displayname></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
    let server = Scripted::start_with(|port| {
        vec![
            response("404 Not Found", &[], ""),
            response("301 Moved Permanently", &["Location: /dav/"], ""),
            multistatus(principal),
            response("404 Not Found", &[], ""),
            multistatus(&homes.replace("PORT", &port.to_string())),
            multistatus(calendars),
            multistatus(books),
        ]
    });
    let client = server.client(quick());
    let found = client.discover().expect("discover");
    assert_eq!(found.len(), 2, "{found:#?}");
    let work = &found[0];
    assert_eq!(work.href, "/dav/cal/alice/work/");
    assert_eq!(
        work.kind,
        CollectionKind::Calendar {
            components: vec!["VEVENT".into(), "VTODO".into()]
        }
    );
    assert_eq!(work.displayname.as_deref(), Some("Work & Life"));
    assert_eq!(work.color.as_deref(), Some("#FF8800FF"));
    assert_eq!(work.ctag.as_deref(), Some("ctag-7"));
    assert_eq!(
        work.sync_token.as_deref(),
        Some("http://example.org/sync/7")
    );
    assert_eq!(found[1].href, "/dav/card/alice/friends/");
    assert_eq!(found[1].kind, CollectionKind::Addressbook);
    assert_eq!(found[1].displayname.as_deref(), Some("Friends"));
    let trail: Vec<(String, String)> = server
        .seen()
        .into_iter()
        .map(|s| (s.method, s.path))
        .collect();
    let expected = [
        "/",
        "/.well-known/caldav",
        "/dav/",
        "/.well-known/carddav",
        "/dav/principals/alice/",
        "/dav/cal/alice/",
        "/dav/card/alice/",
    ];
    assert_eq!(
        trail,
        expected
            .iter()
            .map(|p| ("PROPFIND".to_string(), p.to_string()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn plain_http_to_another_machine_warns_and_debug_hides_the_password() {
    let remote = Client::new(
        "http://dav.example.org/",
        Some("alice"),
        Some(PASSWORD.into()),
        quick(),
    )
    .expect("client");
    assert!(remote.insecure_warning().is_some());
    assert!(!format!("{remote:?}").contains(PASSWORD));
    for local in [
        "http://127.0.0.1:5232/",
        "http://localhost/",
        "http://[::1]/",
        "https://dav.example.org/",
    ] {
        let client = Client::new(local, None, None, quick()).expect("client");
        assert_eq!(client.insecure_warning(), None, "{local}");
    }
}
