//! End-to-end tests of the terminal UI: the real `holdfast` binary in a pseudo-terminal, its
//! output parsed by a vt100 emulator, keys typed as bytes. Every wait polls with a deadline.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

const ROWS: u16 = 30;
const COLS: u16 = 100;
const ESC: &str = "\x1b";
const TAB: &str = "\t";
const ENTER: &str = "\r";
const CTRL_S: &str = "\x13";
const CTRL_N: &str = "\x0e";
const CTRL_T: &str = "\x14";
const CTRL_U: &str = "\x15";

/// `holdfast` (no command) running in a pty, its screen kept up to date by a reader thread.
struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    /// The pty's termios before the UI started (to check it is restored on exit).
    termios_before: String,
}

impl Screen {
    fn spawn(home: &Home) -> Screen {
        Screen::spawn_env(home, &[])
    }

    /// `spawn` with extra environment variables (an empty value removes the variable).
    fn spawn_env(home: &Home, env: &[(&str, &str)]) -> Screen {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let termios_before = format!("{:?}", pty.master.get_termios());
        let mut cmd = CommandBuilder::new(BIN);
        cmd.cwd(home.root());
        cmd.env("HOLDFAST_DATA_DIR", home.data());
        cmd.env("HOLDFAST_CONFIG", home.root().join("config.toml"));
        cmd.env("TZ", "UTC");
        cmd.env("NO_COLOR", "1");
        cmd.env("TERM", "xterm-256color");
        cmd.env("EDITOR", "/bin/false");
        cmd.env_remove("VISUAL");
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let child = pty
            .slave
            .spawn_command(cmd)
            .expect("spawn holdfast in the pty");
        // Only the child holds the slave: the reader sees EOF when it exits.
        drop(pty.slave);
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("non-zero size");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(size(ROWS), size(COLS), 0)));
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let sink = Arc::clone(&parser);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => sink.lock().expect("parser lock").process(&buf[..n]),
                }
            }
        });
        let writer = pty.master.take_writer().expect("pty writer");
        Screen {
            parser,
            writer,
            child,
            master: pty.master,
            termios_before,
        }
    }

    /// Types `keys` (raw bytes: "\x1b" is Esc, "\r" Enter, "\t" Tab).
    fn send(&mut self, keys: &str) {
        self.writer
            .write_all(keys.as_bytes())
            .and_then(|_| self.writer.flush())
            .expect("write keys to the pty");
    }

    /// The screen as text, one line per row.
    fn contents(&self) -> String {
        self.parser.lock().expect("parser lock").screen().contents()
    }

    /// Polls until `pred` holds on the screen text or `timeout` passes.
    fn wait_until(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(&self.contents()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn wait_for(&self, text: &str, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.contains(text))
    }

    /// Sends `keys` and returns how long it took until `pred` held (None: not within `limit`).
    fn timed(
        &mut self,
        keys: &str,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<Duration> {
        let t0 = Instant::now();
        self.send(keys);
        self.wait_until(limit, pred).then(|| t0.elapsed())
    }

    /// The text of the highlighted (reversed) list row, if any (list rows start at row 3).
    fn selected_row(&self) -> Option<String> {
        let p = self.parser.lock().expect("parser lock");
        let s = p.screen();
        (3..ROWS - 2)
            .find(|&r| s.cell(r, 0).is_some_and(|c| c.inverse()))
            .map(|r| s.contents_between(r, 0, r, COLS).trim_end().to_string())
    }

    fn alternate_screen(&self) -> bool {
        self.parser
            .lock()
            .expect("parser lock")
            .screen()
            .alternate_screen()
    }

    /// Waits for the child to exit; its status, or None if it is still running.
    fn wait_exit(&mut self, timeout: Duration) -> Option<portable_pty::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

const START: Duration = Duration::from_secs(20);
const STEP: Duration = Duration::from_secs(5);

/// Asserts `pred` becomes true within `timeout`, printing the screen if not.
#[track_caller]
fn expect_screen(s: &Screen, timeout: Duration, what: &str, pred: impl Fn(&str) -> bool) {
    assert!(
        s.wait_until(timeout, pred),
        "{what}; the screen shows:\n{}",
        s.contents()
    );
}

fn vcard(name: &str, email: &str) -> String {
    let uid = name.to_lowercase().replace(' ', "-");
    format!(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:e2e-{uid}\r\nFN:{name}\r\nEMAIL:{email}\r\nEND:VCARD\r\n"
    )
}

/// 30 contacts: two with accents and a "Mueller" that `muller` must not match.
fn contacts_vcf() -> String {
    let mut out = vcard("Zoë Müller", "zoe@example.org");
    out += &vcard("Kościółkowska Anna", "anna@example.pl");
    out += &vcard("Hans Mueller", "hans@example.de");
    for i in 1..=27 {
        out += &vcard(
            &format!("Filler Contact {i:02}"),
            &format!("f{i}@example.org"),
        );
    }
    out
}

/// Two events (today 10:00 UTC, tomorrow 14:00 UTC) and two open to-dos.
fn calendar_ics() -> String {
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today + chrono::Duration::days(1);
    let d = |x: chrono::NaiveDate| x.format("%Y%m%d").to_string();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//holdfast e2e//EN\r\n\
         BEGIN:VEVENT\r\nUID:e2e-ev-1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:{t}T100000Z\r\n\
         DTEND:{t}T110000Z\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:e2e-ev-2\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:{m}T140000Z\r\n\
         DTEND:{m}T150000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n\
         BEGIN:VTODO\r\nUID:e2e-todo-1\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:Buy milk\r\n\
         DUE;VALUE=DATE:{t}\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\n\
         BEGIN:VTODO\r\nUID:e2e-todo-2\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:File taxes\r\n\
         STATUS:NEEDS-ACTION\r\nEND:VTODO\r\n\
         END:VCALENDAR\r\n",
        t = d(today),
        m = d(tomorrow),
    )
}

fn import_fixtures(home: &Home) {
    let vcf = home.root().join("people.vcf");
    let ics = home.root().join("cal.ics");
    std::fs::write(&vcf, contacts_vcf()).expect("write vcf");
    std::fs::write(&ics, calendar_ics()).expect("write ics");
    home.ok(&["import", vcf.to_str().expect("utf-8 path")]);
    home.ok(&["import", ics.to_str().expect("utf-8 path")]);
    assert_eq!(home.list("contacts", &[]).len(), 30, "contacts imported");
    assert_eq!(home.list("todos", &[]).len(), 2, "to-dos imported");
}

#[test]
fn e2e_import_switch_create_filter_quit() {
    let home = Home::new();
    import_fixtures(&home);
    let mut s = Screen::spawn(&home);
    assert!(
        s.wait_for("Contacts —", START),
        "the contacts view did not open; the screen shows:\n{}",
        s.contents()
    );
    expect_screen(&s, STEP, "30 contacts and no account", |t| {
        t.contains("Contacts — 30") && t.contains("local only (no account)")
    });
    assert!(s.alternate_screen(), "the UI runs on the alternate screen");

    // Views.
    let month = chrono::Utc::now().date_naive().format("%B %Y").to_string();
    s.send("2");
    expect_screen(&s, STEP, "2 shows the month with today's event", |t| {
        t.contains(&month) && t.contains("Mon") && t.contains("Standup")
    });
    s.send("3");
    expect_screen(&s, STEP, "3 shows the to-dos", |t| {
        t.contains("To-dos")
            && t.contains("— 2")
            && t.contains("Buy milk")
            && t.contains("File taxes")
    });
    s.send("1");
    expect_screen(&s, STEP, "1 goes back to the contacts", |t| {
        t.contains("Contacts — 30")
    });

    // Filter as you type, accents ignored.
    s.send("/");
    expect_screen(&s, STEP, "/ opens the filter line", |t| {
        t.contains("(Enter keeps, Esc clears)")
    });
    s.send("muller");
    expect_screen(&s, STEP, "`muller` leaves only Zoë Müller", |t| {
        t.contains("Zoë Müller")
            && t.contains("— 1")
            && !t.contains("Kościółkowska")
            && !t.contains("Hans Mueller")
            && !t.contains("Filler Contact")
    });
    s.send(ESC);
    expect_screen(&s, STEP, "Esc clears the filter", |t| {
        t.contains("Contacts — 30") && t.contains("Filler Contact 01") && !t.contains("/muller")
    });

    // New contact through the form: name, then Tab past organisation and title to the email.
    s.send("n");
    expect_screen(&s, STEP, "n opens the contact form", |t| {
        t.contains("New contact") && t.contains("Full name") && t.contains("Email")
    });
    s.send("Pty Person");
    expect_screen(&s, STEP, "the name is typed into the form", |t| {
        t.contains("Pty Person")
    });
    s.send(&TAB.repeat(3));
    s.send("pty@example.org");
    expect_screen(&s, STEP, "the email is typed into its row", |t| {
        t.contains("[home] pty@example.org")
    });
    s.send(CTRL_S);
    expect_screen(
        &s,
        STEP,
        "Ctrl-S saves: message and one more contact",
        |t| t.contains("created") && t.contains("Contacts — 31"),
    );
    // Checks that fail without stopping the walk-through (reported together at the end).
    let mut problems: Vec<String> = Vec::new();
    if !s.wait_until(STEP, |t| !t.contains("New contact")) {
        problems.push(format!(
            "after n, typing, Ctrl-S the contact is created but the form stays open \
             (a second Ctrl-S creates a duplicate):\n{}",
            s.contents()
        ));
        s.send(ESC);
        expect_screen(&s, STEP, "Esc closes the form", |t| {
            !t.contains("New contact")
        });
    }
    s.send("/pty");
    expect_screen(&s, STEP, "the new contact is listed", |t| {
        t.contains("Pty Person") && t.contains("pty@example.org") && t.contains("— 1")
    });
    s.send(ENTER);
    expect_screen(&s, STEP, "Enter keeps the filter", |t| {
        !t.contains("(Enter keeps, Esc clears)")
    });

    // Edit it through the form: e opens it filled in; an organisation, a second email row
    // (Ctrl-N) of type work (Ctrl-T), a wide-character title.
    s.send("e");
    expect_screen(
        &s,
        STEP,
        "e opens the edit form with the contact's values",
        |t| t.contains("Edit contact") && t.contains("Pty Person") && t.contains("pty@example.org"),
    );
    s.send(TAB);
    s.send("Pty Org");
    s.send(TAB);
    s.send("課長");
    s.send(TAB);
    s.send(CTRL_N);
    s.send("second@example.org");
    s.send(CTRL_T);
    expect_screen(&s, STEP, "a second email row, typed work", |t| {
        t.contains("[work] second@example.org") && t.contains("Pty Org") && t.contains("課長")
    });
    // An invalid birthday keeps the form open with everything typed.
    s.send(&TAB.repeat(3));
    s.send("1990-02-30");
    s.send(CTRL_S);
    expect_screen(
        &s,
        STEP,
        "the bad birthday is refused next to its field",
        |t| t.contains("use YYYY-MM-DD") && t.contains("[work] second@example.org"),
    );
    s.send(CTRL_U);
    s.send("1990-02-28");
    s.send(CTRL_S);
    expect_screen(&s, STEP, "Ctrl-S saves the edit as a revision", |t| {
        t.contains("saved") && !t.contains("Edit contact")
    });

    // Quit: exits 0 within 2 s, the terminal restored.
    let t0 = Instant::now();
    s.send("q");
    let status = s.wait_exit(Duration::from_secs(2));
    let took = t0.elapsed();
    let screen = s.contents();
    let status =
        status.unwrap_or_else(|| panic!("q did not exit within 2 s; the screen shows:\n{screen}"));
    assert!(
        status.success(),
        "holdfast exited with {status:?} after {took:?}; the screen shows:\n{screen}"
    );
    // The reader thread may still be draining the last bytes (leave alternate screen).
    let restored = {
        let deadline = Instant::now() + Duration::from_secs(2);
        while s.alternate_screen() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        !s.alternate_screen()
    };
    assert!(
        restored,
        "after q the terminal is still on the alternate screen:\n{}",
        s.contents()
    );
    assert_eq!(
        format!("{:?}", s.master.get_termios()),
        s.termios_before,
        "after q the pty's modes (raw mode, echo) are not restored"
    );
    assert!(
        !s.parser.lock().expect("parser lock").screen().hide_cursor(),
        "after q the cursor is still hidden"
    );
    drop(s);

    let contacts = home.list("contacts", &[]);
    let people: Vec<_> = contacts
        .iter()
        .filter(|c| c["full_name"] == "Pty Person")
        .collect();
    assert_eq!(people.len(), 1, "Pty Person saved once: {contacts:?}");
    assert_eq!(
        people[0]["emails"],
        serde_json::json!(["pty@example.org", "second@example.org"]),
        "{}",
        people[0]
    );
    assert_eq!(people[0]["org"], "Pty Org", "{}", people[0]);
    // Created and edited by the form: two revisions from the UI; the last has every field.
    let uid = people[0]["uid"].as_str().expect("uid");
    let revisions = home.history(uid);
    let origins: Vec<&str> = revisions
        .iter()
        .map(|r| r["origin"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(origins, ["tui", "tui"], "{revisions:?}");
    let text = revisions[1]["text"].as_str().unwrap_or("");
    for want in [
        "TITLE:課長",
        "BDAY:1990-02-28",
        "EMAIL;TYPE=work:second@example.org",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    assert_eq!(contacts.len(), 31, "{contacts:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A server that accepts connections and never answers; counts the connections.
fn hanging_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for conn in listener.incoming() {
            match conn {
                Ok(c) => {
                    held.push(c);
                    count.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => return,
            }
        }
    });
    (port, accepted)
}

#[test]
fn e2e_hanging_server_never_blocks_the_ui() {
    let home = Home::new();
    import_fixtures(&home);
    let (port, accepted) = hanging_server();
    let config = home.root().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"home\"\nurl = \"http://127.0.0.1:{port}/\"\n\
             username = \"u\"\npassword = \"p\"\n\n[sync]\ntimeout_secs = 30\n"
        ),
    )
    .expect("write config");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600))
            .expect("chmod 600");
    }

    let mut s = Screen::spawn(&home);
    expect_screen(&s, START, "the contacts view opens", |t| {
        t.contains("Contacts — 30")
    });
    expect_screen(&s, STEP, "the start-up sync is running", |t| {
        t.contains("home: syncing")
    });
    let deadline = Instant::now() + STEP;
    while accepted.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        accepted.load(Ordering::SeqCst) > 0,
        "the sync never connected to the hanging server:\n{}",
        s.contents()
    );

    let limit = Duration::from_millis(500);
    let step = |s: &mut Screen, keys: &str, what: &str, pred: &dyn Fn(&str) -> bool| {
        let took = s.timed(keys, Duration::from_secs(5), pred);
        match took {
            Some(t) => assert!(
                t <= limit,
                "{what} ({keys:?}) took {t:?} while the sync hangs (limit {limit:?}):\n{}",
                s.contents()
            ),
            None => panic!(
                "{what} ({keys:?}): no update within 5 s while the sync hangs:\n{}",
                s.contents()
            ),
        }
    };

    step(&mut s, "3", "3 shows the to-dos", &|t| {
        t.contains("To-dos") && t.contains("Buy milk")
    });
    step(&mut s, "1", "1 shows the contacts", &|t| {
        t.contains("Contacts — 30")
    });
    let sel = |s: &Screen| s.selected_row().unwrap_or_default();
    let first = sel(&s);
    assert!(
        first.starts_with("Filler Contact 01"),
        "the first contact is highlighted, got {first:?}:\n{}",
        s.contents()
    );
    {
        let t0 = Instant::now();
        s.send("j");
        let moved = s.wait_until(Duration::from_secs(5), |_| {
            sel(&s).starts_with("Filler Contact 02")
        });
        let took = t0.elapsed();
        assert!(
            moved && took <= limit,
            "j: selection {first:?} -> {:?} after {took:?} (limit {limit:?}):\n{}",
            sel(&s),
            s.contents()
        );
    }
    step(&mut s, "/", "/ opens the filter", &|t| {
        t.contains("(Enter keeps, Esc clears)")
    });
    step(&mut s, "x", "typing x filters", &|t| {
        t.contains("/x") && !t.contains("Contacts — 30")
    });
    step(&mut s, ESC, "Esc clears the filter", &|t| {
        t.contains("Contacts — 30") && !t.contains("(Enter keeps, Esc clears)")
    });
    // S changes nothing visible while a sync runs: what follows it must still be prompt.
    step(&mut s, "S3", "S (sync now), then 3", &|t| {
        t.contains("To-dos") && t.contains("Buy milk")
    });
    step(&mut s, "1", "1 after S", &|t| t.contains("Contacts — 30"));
    assert!(
        s.contents().contains("home: syncing"),
        "the sync should still be hanging:\n{}",
        s.contents()
    );

    let t0 = Instant::now();
    s.send("q");
    let status = s.wait_exit(Duration::from_secs(2));
    let took = t0.elapsed();
    let screen = s.contents();
    let status = status.unwrap_or_else(|| {
        panic!("q did not exit within 2 s while the sync hangs; the screen shows:\n{screen}")
    });
    assert!(
        status.success(),
        "exit status {status:?} after {took:?}; the screen shows:\n{screen}"
    );
}

/// Real PNGs in a folder, added with `holdfast photos add` (captions "Photo 0" …).
fn add_photos(home: &Home, n: u32) -> std::path::PathBuf {
    let dir = home.root().join("pictures");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for i in 0..n {
        let img = image::RgbImage::from_fn(120, 80, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 3) as u8, (i * 40) as u8])
        });
        img.save(dir.join(format!("photo-{i}.png")))
            .expect("write png");
    }
    home.ok(&["photos", "add", dir.to_str().expect("utf-8 path")]);
    assert_eq!(home.list("photos", &[]).len(), n as usize, "photos added");
    dir
}

#[test]
fn e2e_hanging_photos_server_never_blocks_the_ui() {
    let home = Home::new();
    import_fixtures(&home);
    add_photos(&home, 3);
    let (port, accepted) = hanging_server();
    let config = home.root().join("config.toml");
    // The CalDAV/CardDAV server refuses at once; the photos folder accepts and never answers.
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"home\"\nurl = \"http://127.0.0.1:1/\"\n\
             photos_url = \"http://127.0.0.1:{port}/photos/\"\n\
             username = \"u\"\npassword = \"p\"\n\n[sync]\ntimeout_secs = 30\n"
        ),
    )
    .expect("write config");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600))
            .expect("chmod 600");
    }
    // With colours (no NO_COLOR): the half-block preview runs on its thread meanwhile.
    let mut s = Screen::spawn_env(&home, &[("NO_COLOR", "")]);
    expect_screen(&s, START, "the contacts view opens", |t| {
        t.contains("Contacts — 30")
    });
    let deadline = Instant::now() + STEP;
    while accepted.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        accepted.load(Ordering::SeqCst) > 0,
        "the photo sync never connected to the hanging server:\n{}",
        s.contents()
    );
    let limit = Duration::from_millis(500);
    let step = |s: &mut Screen, keys: &str, what: &str, pred: &dyn Fn(&str) -> bool| match s.timed(
        keys,
        Duration::from_secs(5),
        pred,
    ) {
        Some(t) => assert!(
            t <= limit,
            "{what} ({keys:?}) took {t:?} while the photos server hangs:\n{}",
            s.contents()
        ),
        None => panic!(
            "{what} ({keys:?}): no update within 5 s while the photos server hangs:\n{}",
            s.contents()
        ),
    };
    step(&mut s, "4", "4 shows the photos", &|t| {
        t.contains("Photos (1 of 3)") && t.contains("photo-0.png")
    });
    // The preview (half-blocks in this terminal) arrives from its thread.
    expect_screen(&s, STEP, "the selected photo's preview is drawn", |t| {
        t.contains('▀') || t.contains('▄')
    });
    step(&mut s, "j", "j selects the second photo", &|t| {
        t.contains("Photos (2 of 3)")
    });
    step(&mut s, "G", "G selects the last photo", &|t| {
        t.contains("Photos (3 of 3)")
    });
    step(&mut s, "/", "/ opens the filter", &|t| {
        t.contains("(Enter keeps, Esc clears)")
    });
    step(&mut s, "photo-1", "typing filters the photos", &|t| {
        t.contains("Photos (1 of 1) /photo-1")
    });
    step(&mut s, ESC, "Esc clears the filter", &|t| {
        t.contains("Photos (1 of 3)") && !t.contains("(Enter keeps, Esc clears)")
    });
    step(&mut s, "3", "3 shows the to-dos", &|t| {
        t.contains("Buy milk")
    });
    step(&mut s, "4", "4 again", &|t| t.contains("Photos (1 of 3)"));
    let t0 = Instant::now();
    s.send("q");
    let status = s.wait_exit(Duration::from_secs(2));
    let screen = s.contents();
    let status = status.unwrap_or_else(|| {
        panic!("q did not exit within 2 s while the photos server hangs:\n{screen}")
    });
    assert!(
        status.success(),
        "exit status {status:?} after {:?}:\n{screen}",
        t0.elapsed()
    );
}

#[test]
fn e2e_o_opens_the_selected_photo_with_holdfast_open() {
    let home = Home::new();
    add_photos(&home, 2);
    let out = home.root().join("opened.txt");
    let script = home.root().join("viewer.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", out.display()),
    )
    .expect("write script");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let mut s = Screen::spawn_env(&home, &[("HOLDFAST_OPEN", script.to_str().expect("utf-8"))]);
    expect_screen(&s, START, "the UI opens", |t| t.contains("4 Photos"));
    s.send("4");
    expect_screen(&s, STEP, "the photos view", |t| {
        t.contains("Photos (1 of 2)")
    });
    s.send("j");
    expect_screen(&s, STEP, "the second photo", |t| {
        t.contains("Photos (2 of 2)")
    });
    s.send("o");
    expect_screen(&s, STEP, "o says what opened the photo", |t| {
        t.contains("opened with")
    });
    let deadline = Instant::now() + STEP;
    let mut opened = String::new();
    while Instant::now() < deadline {
        opened = std::fs::read_to_string(&out).unwrap_or_default();
        if !opened.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // The file handed over is the blob of the photo the detail pane shows as selected.
    let opened = std::path::PathBuf::from(opened.trim());
    let sha = opened
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        opened,
        home.data()
            .join("photos")
            .join(sha.get(..2).unwrap_or(""))
            .join(&sha),
        "the viewer got a blob's path"
    );
    assert!(opened.exists(), "{}", opened.display());
    let screen = s.contents();
    assert!(
        sha.len() == 64 && screen.contains(&format!("sha256  {}", &sha[..16])),
        "the opened photo ({sha}) is the selected one:\n{screen}"
    );
    // The UI is still there and quits at once.
    s.send("q");
    assert!(s.wait_exit(Duration::from_secs(2)).is_some(), "q quits");
}
