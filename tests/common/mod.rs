//! Shared helpers for the integration tests: every test drives the real `holdfast` binary on a
//! fresh temporary data directory, with an empty config, TZ=UTC and NO_COLOR=1.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_holdfast");

/// A throw-away Holdfast home: `<tmp>/data` is the data dir (created by holdfast itself),
/// `<tmp>/config.toml` is an empty config file.
pub struct Home {
    pub tmp: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        let tmp = tempfile::tempdir().expect("create tempdir");
        std::fs::write(tmp.path().join("config.toml"), b"").expect("write empty config");
        Home { tmp }
    }

    /// The temp dir root (scratch space for scripts, copies of fixtures, export targets).
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// The Holdfast data dir (HOLDFAST_DATA_DIR).
    pub fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    pub fn db(&self) -> PathBuf {
        self.data().join("holdfast.db")
    }

    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        // HOLDFAST_TEST_BIN runs the tests against another build (to show a test fails on
        // the build before a fix).
        let bin = std::env::var_os("HOLDFAST_TEST_BIN").unwrap_or_else(|| BIN.into());
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("HOLDFAST_DATA_DIR", self.data())
            .env("HOLDFAST_CONFIG", self.tmp.path().join("config.toml"))
            .env("TZ", "UTC")
            .env("NO_COLOR", "1")
            .env_remove("VISUAL")
            .env("EDITOR", "/bin/false")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run holdfast with `args`; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_env(args, &[])
    }

    /// Like `run`, with extra environment variables (e.g. EDITOR).
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let out = self.command(args, env).output().expect("spawn holdfast");
        let code = out.status.code().unwrap_or(-1);
        (
            code,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Run a command that must succeed (exit 0) and print one JSON document on stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let (code, out, err) = self.run(args);
        assert_eq!(
            code, 0,
            "holdfast {args:?} exited {code}\nstdout: {out}\nstderr: {err}"
        );
        parse_json(&out, args)
    }

    /// Run a command that must succeed and return its stdout trimmed (e.g. `new` prints a UID).
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(
            code, 0,
            "holdfast {args:?} exited {code}\nstdout: {out}\nstderr: {err}"
        );
        out.trim().to_string()
    }

    /// `list KIND --json` as a vector of objects.
    pub fn list(&self, kind: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["list", kind];
        args.extend_from_slice(extra);
        args.push("--json");
        match self.json(&args) {
            Value::Array(v) => v,
            other => panic!("holdfast {args:?}: expected a JSON array, got {other}"),
        }
    }

    /// `history UID --json` as a vector of revisions.
    pub fn history(&self, uid: &str) -> Vec<Value> {
        match self.json(&["history", uid, "--json"]) {
            Value::Array(v) => v,
            other => panic!("history {uid}: expected a JSON array, got {other}"),
        }
    }

    /// Run the sqlite3 CLI on the data dir's database.
    pub fn sqlite(&self, sql: &str) -> String {
        let out = Command::new(sqlite3_bin())
            .arg(self.db())
            .arg(sql)
            .output()
            .expect("run sqlite3");
        assert!(
            out.status.success(),
            "sqlite3 {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

pub fn sqlite3_bin() -> &'static str {
    if Path::new("/usr/bin/sqlite3").exists() {
        "/usr/bin/sqlite3"
    } else {
        "sqlite3"
    }
}

pub fn parse_json(out: &str, args: &[&str]) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| {
        panic!("holdfast {args:?}: stdout is not one JSON document ({e}):\n{out}")
    })
}

/// Path of a fixture file.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("read fixture {name}: {e}"))
}

/// tests/fixtures/expectations.json
pub fn expectations() -> Value {
    let text =
        std::fs::read_to_string(fixture("expectations.json")).expect("read expectations.json");
    serde_json::from_str(&text).expect("parse expectations.json")
}

/// Find the element with this `uid` in a list output.
pub fn by_uid<'a>(items: &'a [Value], uid: &str) -> Option<&'a Value> {
    items.iter().find(|v| v["uid"] == uid)
}

/// Undo RFC 5545/6350 line folding (CRLF or LF followed by a space or tab).
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\n\t", "")
}

/// Undo folding at the byte level (a fold may split a UTF-8 character), then decode.
pub fn unfold_bytes(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\r\n ") || bytes[i..].starts_with(b"\r\n\t") {
            i += 3;
        } else if bytes[i..].starts_with(b"\n ") || bytes[i..].starts_with(b"\n\t") {
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Does `hay` contain `needle` as a contiguous byte sequence?
pub fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Split raw bytes into physical lines, each keeping its own line ending.
pub fn lines_with_endings(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|b| *b == b'\n').collect()
}

/// The line content without its CR/LF ending.
pub fn strip_eol(line: &[u8]) -> &[u8] {
    let mut l = line;
    if l.ends_with(b"\n") {
        l = &l[..l.len() - 1];
    }
    if l.ends_with(b"\r") {
        l = &l[..l.len() - 1];
    }
    l
}

/// Extract every well-nested `BEGIN:<name>` .. `END:<name>` block (bytes, line endings included).
/// A second `BEGIN:<name>` before the `END` restarts the block (the first one was unterminated).
pub fn blocks(bytes: &[u8], name: &str) -> Vec<Vec<u8>> {
    let begin = format!("BEGIN:{name}");
    let end = format!("END:{name}");
    let mut out = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    for line in lines_with_endings(bytes) {
        let content = strip_eol(line);
        if content.eq_ignore_ascii_case(begin.as_bytes()) {
            cur = Some(line.to_vec());
        } else if let Some(buf) = cur.as_mut() {
            buf.extend_from_slice(line);
            if content.eq_ignore_ascii_case(end.as_bytes()) {
                out.push(cur.take().expect("block"));
            }
        }
    }
    out
}

/// The (unfolded) UID value of a block, if any.
pub fn block_uid(block: &[u8]) -> Option<String> {
    let text = unfold_bytes(block);
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .find_map(|l| l.strip_prefix("UID:").map(str::to_string))
}

/// Write an executable shell script into the home's temp dir and return its path.
pub fn write_script(home: &Home, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = home.root().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod script");
    path
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read_dir {}: {e}", d.display()))
        {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
