//! Real CalDAV/CardDAV servers for integration tests: Radicale and Xandikos from the worktree's
//! `.venv` (pinned in tests/servers/requirements.txt; `scripts/test` installs them), each on a
//! free 127.0.0.1 port with its storage in a temp dir, stopped (with its process group) on Drop.
//!
//! Use from a test file with `#[path = "common/servers.rs"] mod servers;`, then
//! `let server = servers::DavServer::radicale();` and `server.client()`, or
//! `server.create_event_calendar("work")` for a fresh empty collection.
//!
//! Radicale runs with htpasswd (plain) user `test`/`test` and `owner_only` rights: the principal
//! and both home sets are `/test/`. Xandikos has no auth: principal `/user/`, calendar home
//! `/user/calendars/`, addressbook home `/user/contacts/` (created by `--autocreate`).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use holdfast::sync::dav::{Client, CollectionKind, Options};

/// Startup budget: Python imports on a loaded 2-core machine can take several seconds.
const STARTUP: Duration = Duration::from_secs(60);

/// Which server a `DavServer` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Radicale,
    Xandikos,
}

/// A running server; killed and its storage removed when dropped.
pub struct DavServer {
    pub kind: ServerKind,
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    credentials: Option<(String, String)>,
    principal: String,
    calendar_home: String,
    addressbook_home: String,
}

/// Distinct collection names across tests in one process.
static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run `python3 -m venv .venv && .venv/bin/pip install -r \
         tests/servers/requirements.txt` (scripts/test does it)",
        venv.display()
    );
    venv
}

/// A port that was free a moment ago (bind port 0, read it, release it). The server may lose
/// the race for it; `start` then retries with another.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

impl DavServer {
    /// Radicale with user test/test (htpasswd, plain) and owner_only rights.
    pub fn radicale() -> DavServer {
        Self::start(ServerKind::Radicale, "test")
    }

    /// Radicale whose user `test` has `password` (to search for leaks of a distinctive one).
    #[allow(dead_code)]
    pub fn radicale_with_password(password: &str) -> DavServer {
        Self::start(ServerKind::Radicale, password)
    }

    /// Xandikos without auth, principal /user/, home sets autocreated.
    pub fn xandikos() -> DavServer {
        Self::start(ServerKind::Xandikos, "")
    }

    fn start(kind: ServerKind, password: &str) -> DavServer {
        let mut last_log = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir for server storage");
            let port = free_port();
            let log_path = dir.path().join("server.log");
            let log = std::fs::File::create(&log_path).expect("create server log");
            let mut command = Command::new(python());
            match kind {
                ServerKind::Radicale => {
                    std::fs::write(dir.path().join("users"), format!("test:{password}\n"))
                        .expect("htpasswd");
                    let config = format!(
                        "[server]\nhosts = 127.0.0.1:{port}\n\
                         [auth]\ntype = htpasswd\nhtpasswd_filename = {users}\n\
                         htpasswd_encryption = plain\ndelay = 0\n\
                         [rights]\ntype = owner_only\n\
                         [storage]\nfilesystem_folder = {storage}\n\
                         [logging]\nlevel = warning\n",
                        users = dir.path().join("users").display(),
                        storage = dir.path().join("collections").display(),
                    );
                    let config_path = dir.path().join("config");
                    std::fs::write(&config_path, config).expect("radicale config");
                    command
                        .args(["-m", "radicale", "--config"])
                        .arg(&config_path);
                }
                ServerKind::Xandikos => {
                    command
                        .args(["-m", "xandikos", "serve", "-d"])
                        .arg(dir.path().join("data"))
                        .arg("--state-dir")
                        .arg(dir.path().join("state"))
                        .args(["-l", "127.0.0.1", "-p", &port.to_string()])
                        .args(["--route-prefix", "/", "--current-user-principal", "/user/"])
                        .args(["--autocreate", "--no-detect-systemd"]);
                }
            }
            command
                .env("HOME", dir.path())
                .env("XDG_DATA_HOME", dir.path().join("xdg"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log);
            {
                use std::os::unix::process::CommandExt;
                command.process_group(0);
            }
            let child = command.spawn().expect("start the DAV server");
            let (principal, calendar_home, addressbook_home, credentials) = match kind {
                ServerKind::Radicale => (
                    "/test/".to_string(),
                    "/test/".to_string(),
                    "/test/".to_string(),
                    Some(("test".to_string(), password.to_string())),
                ),
                ServerKind::Xandikos => (
                    "/user/".to_string(),
                    "/user/calendars/".to_string(),
                    "/user/contacts/".to_string(),
                    None,
                ),
            };
            let mut server = DavServer {
                kind,
                child,
                port,
                dir,
                credentials,
                principal,
                calendar_home,
                addressbook_home,
            };
            if wait_ready(&mut server.child, server.port) {
                return server;
            }
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
            // Drop kills what is left; try another port.
        }
        panic!("{kind:?} did not start; last log:\n{last_log}");
    }

    /// "Radicale" or "Xandikos", for messages.
    pub fn name(&self) -> &'static str {
        match self.kind {
            ServerKind::Radicale => "Radicale",
            ServerKind::Xandikos => "Xandikos",
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/`
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Absolute URL of `path` (which starts with '/').
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// (username, password) when the server wants auth.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The principal path (ends in '/').
    pub fn principal_path(&self) -> &str {
        &self.principal
    }

    /// Where calendars live (ends in '/').
    pub fn calendar_home(&self) -> &str {
        &self.calendar_home
    }

    /// Where addressbooks live (ends in '/').
    pub fn addressbook_home(&self) -> &str {
        &self.addressbook_home
    }

    /// The server's storage directory (temp).
    pub fn storage(&self) -> &Path {
        self.dir.path()
    }

    /// A client for the base URL with the server's credentials and short timeouts.
    pub fn client(&self) -> Client {
        self.client_with(Options {
            timeout: Duration::from_secs(20),
            ..Options::default()
        })
    }

    pub fn client_with(&self, options: Options) -> Client {
        self.client_at(&self.base_url(), options)
    }

    /// A client whose base URL is `url` (a principal, home or collection URL).
    pub fn client_at(&self, url: &str, options: Options) -> Client {
        let (user, password) = match self.credentials() {
            Some((u, p)) => (Some(u), Some(p.to_string())),
            None => (None, None),
        };
        Client::new(url, user, password, options).expect("DAV client")
    }

    fn fresh_name(prefix: &str) -> String {
        format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
    }

    /// Creates a fresh empty collection of `kind` named `<prefix>-N` in the right home; returns
    /// its href (ending in '/').
    pub fn create(&self, prefix: &str, kind: &CollectionKind, displayname: &str) -> String {
        let home = match kind {
            CollectionKind::Addressbook => &self.addressbook_home,
            CollectionKind::Calendar { .. } => &self.calendar_home,
        };
        let href = format!("{home}{}/", Self::fresh_name(prefix));
        self.client()
            .create_collection(&href, kind, displayname)
            .unwrap_or_else(|e| panic!("{}: create {href}: {e}", self.name()));
        href
    }

    /// A fresh empty addressbook.
    pub fn create_addressbook(&self, displayname: &str) -> String {
        self.create("contacts", &CollectionKind::Addressbook, displayname)
    }

    /// A fresh empty calendar for VEVENTs.
    pub fn create_event_calendar(&self, displayname: &str) -> String {
        let kind = CollectionKind::Calendar {
            components: vec!["VEVENT".into()],
        };
        self.create("events", &kind, displayname)
    }

    /// A fresh empty calendar for VTODOs.
    pub fn create_task_calendar(&self, displayname: &str) -> String {
        let kind = CollectionKind::Calendar {
            components: vec!["VTODO".into()],
        };
        self.create("tasks", &kind, displayname)
    }
}

impl Drop for DavServer {
    fn drop(&mut self) {
        // The whole process group: a server may have forked workers.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain WebDAV server (wsgidav, pinned in tests/servers/requirements.txt) serving a temp
/// folder on a free 127.0.0.1 port, anonymous; killed with its process group on Drop. For the
/// photos folder (`photos_url`): files on the server are files under `root()`.
pub struct WebDav {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl WebDav {
    pub fn start() -> WebDav {
        let mut last_log = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir for wsgidav");
            let root = dir.path().join("share");
            std::fs::create_dir_all(&root).expect("share dir");
            let port = free_port();
            let log_path = dir.path().join("server.log");
            let log = std::fs::File::create(&log_path).expect("create server log");
            let mut command = Command::new(python());
            command
                .args(["-m", "wsgidav.server.server_cli", "--host", "127.0.0.1"])
                .args(["--port", &port.to_string(), "--root"])
                .arg(&root)
                .args(["--auth", "anonymous", "--no-config", "-q"])
                .env("HOME", dir.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log);
            {
                use std::os::unix::process::CommandExt;
                command.process_group(0);
            }
            let child = command.spawn().expect("start wsgidav");
            let mut server = WebDav { child, port, dir };
            if wait_ready(&mut server.child, server.port) {
                return server;
            }
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        panic!("wsgidav did not start; last log:\n{last_log}");
    }

    /// `http://127.0.0.1:PORT/PATH` (`path` without a leading '/').
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// The folder the server publishes as '/'.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("share")
    }
}

impl Drop for WebDav {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until a server started as `child` answers HTTP on `port`; false if it exited first.
fn wait_ready(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + STARTUP;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = "OPTIONS / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
            let mut answer = [0u8; 12];
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read(&mut answer).is_ok_and(|n| n > 0)
                && answer.starts_with(b"HTTP/")
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
