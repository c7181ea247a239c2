//! End to end, the real binary in a pseudo-terminal (vt100 parses what it draws): global search
//! finds an accented name far down a long list and Enter jumps to it; the log goes to a file
//! under the data directory and never onto the screen.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

const ROWS: u16 = 24;
const COLS: u16 = 100;

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    /// Every byte the program wrote to the terminal.
    raw: Arc<Mutex<Vec<u8>>>,
    _master: Box<dyn MasterPty + Send>,
}

impl Screen {
    fn spawn(home: &Home) -> Screen {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(BIN);
        cmd.cwd(home.root());
        cmd.env("HOLDFAST_DATA_DIR", home.data());
        cmd.env("HOLDFAST_CONFIG", home.root().join("config.toml"));
        cmd.env("HOLDFAST_LOG", "debug");
        cmd.env("TZ", "UTC");
        cmd.env("NO_COLOR", "1");
        cmd.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(cmd).expect("spawn holdfast");
        drop(pty.slave);
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("non-zero");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(size(ROWS), size(COLS), 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let (sink, bytes) = (Arc::clone(&parser), Arc::clone(&raw));
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        sink.lock().expect("lock").process(&buf[..n]);
                        bytes.lock().expect("lock").extend_from_slice(&buf[..n]);
                    }
                }
            }
        });
        let writer = pty.master.take_writer().expect("writer");
        Screen {
            parser,
            writer,
            child,
            raw,
            _master: pty.master,
        }
    }

    fn send(&mut self, keys: &str) {
        self.writer
            .write_all(keys.as_bytes())
            .and_then(|_| self.writer.flush())
            .expect("write keys");
    }

    fn contents(&self) -> String {
        self.parser.lock().expect("lock").screen().contents()
    }

    /// The highlighted (reversed) row of the list, if any.
    fn selected_row(&self) -> Option<String> {
        let p = self.parser.lock().expect("lock");
        let s = p.screen();
        (3..ROWS - 2)
            .find(|&r| s.cell(r, 0).is_some_and(|c| c.inverse()))
            .map(|r| s.contents_between(r, 0, r, COLS).trim_end().to_string())
    }

    #[track_caller]
    fn expect(&self, what: &str, pred: impl Fn(&Screen) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !pred(self) {
            assert!(
                Instant::now() < deadline,
                "{what}; the screen shows:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn wait_exit(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
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

#[test]
fn e2e_global_search_jumps_to_a_contact_far_down_and_logs_to_a_file() {
    let home = Home::new();
    let mut vcf = String::new();
    for i in 0..400 {
        vcf +=
            &format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:f{i}\r\nFN:Filler {i:03}\r\nEND:VCARD\r\n");
    }
    vcf += "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:target\r\nFN:Zofia Kościółkowska\r\n\
            EMAIL;TYPE=work:zofia@example.pl\r\nEND:VCARD\r\n";
    vcf += "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\nBEGIN:VTODO\r\n\
            UID:todo-k\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:Call Kościółkowska\r\n\
            END:VTODO\r\nEND:VCALENDAR\r\n";
    let file = home.root().join("people.vcf");
    std::fs::write(&file, vcf).expect("write");
    home.ok(&["import", file.to_str().expect("utf-8")]);

    let mut s = Screen::spawn(&home);
    s.expect("the contacts open", |s| {
        s.contents().contains("Contacts — 401")
    });
    // Ctrl-f opens the search box; accents are folded.
    s.send("\x06");
    s.expect("Ctrl-f opens global search", |s| {
        s.contents().contains("Search everything")
    });
    s.send("kosci");
    s.expect("hits of two kinds, labelled", |s| {
        let t = s.contents();
        t.contains("Contacts (1)")
            && t.contains("Zofia Kościółkowska")
            && t.contains("To-dos (1)")
            && t.contains("Call Kościółkowska")
    });
    s.send("\r");
    s.expect("Enter jumps to the contact, selected and on screen", |s| {
        !s.contents().contains("Search everything")
            && s.selected_row()
                .is_some_and(|r| r.contains("Zofia Kościółkowska"))
    });
    // The log: a file under the data directory, with lines; none of it on the screen.
    let log = home.data().join("logs").join("holdfast.log");
    let text = std::fs::read_to_string(&log).expect("the log file exists");
    assert!(text.contains("ui started"), "{text}");
    assert!(text.lines().count() >= 1);
    s.send("q");
    assert!(s.wait_exit(), "q quits");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("ui stopped"), "{text}");
    // Nothing of it was ever written to the terminal (not only: not on the last screen).
    let shown = String::from_utf8_lossy(&s.raw.lock().expect("lock")).to_string();
    for needle in ["ui started", "ui stopped", " INFO ", " DEBUG ", " WARN "] {
        assert!(
            !shown.contains(needle),
            "log output {needle:?} reached the terminal"
        );
    }
}
