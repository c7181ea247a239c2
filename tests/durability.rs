//! I4 on the import path: killing the process with SIGKILL at random moments leaves a sound
//! database, and importing again converges with no duplicate and nothing lost.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Home, BIN};

#[test]
fn import_killed_at_random_points_leaves_a_sound_database_that_converges() {
    let home = Home::new();
    let gen = generate(&home, ["-N", "4000", "-M", "4000", "-K", "1000"]);
    let files = [gen.join("all.vcf"), gen.join("all.ics")];
    // Kill after 50..600 ms, several times, each time on top of what earlier runs left.
    let delays = [50u64, 120, 200, 330, 450, 600];
    let mut killed = 0;
    for ms in delays {
        let mut child = Command::new(BIN)
            .arg("import")
            .args(&files)
            .env("HOLDFAST_DATA_DIR", home.data())
            .env("HOLDFAST_CONFIG", home.root().join("config.toml"))
            .env("TZ", "UTC")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn import");
        std::thread::sleep(Duration::from_millis(ms));
        if child.try_wait().expect("try_wait").is_none() {
            child.kill().expect("SIGKILL");
            killed += 1;
        }
        let _ = child.wait();
        let (code, out, err) = home.run(&["doctor"]);
        assert_eq!(code, 0, "doctor after a kill at {ms} ms:\n{out}\n{err}");
    }
    assert!(
        killed >= 2,
        "the import finished too fast to be interrupted ({killed} kills)"
    );
    // A complete import now converges: every item once, nothing flagged.
    let (code, _, err) = home.run(&[
        "import",
        files[0].to_str().unwrap_or_default(),
        files[1].to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 0, "{err}");
    let contacts = home.list("contacts", &[]);
    let events = home.list("events", &[]);
    let todos = home.list("todos", &[]);
    assert_eq!(contacts.len(), 4000);
    assert_eq!(events.len(), 4000);
    assert_eq!(todos.len(), 1000);
    let mut uids: Vec<&str> = contacts
        .iter()
        .chain(&events)
        .chain(&todos)
        .filter_map(|v| v["uid"].as_str())
        .collect();
    let n = uids.len();
    uids.sort_unstable();
    uids.dedup();
    assert_eq!(uids.len(), n, "duplicate UIDs after the kills");
    let (code, out, err) = home.run(&["doctor"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

/// The list indexes as a fresh store has them (name and SQL), for comparing after an import.
fn list_index_schema(home: &Home) -> String {
    home.sqlite("SELECT name || ': ' || sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
}

/// Runs the peers' seeded generator with `counts` (`-N`, `-M`, `-K` and their values) into
/// `<home root>/gen`, which it returns.
fn generate(home: &Home, counts: [&str; 6]) -> std::path::PathBuf {
    let gen = home.root().join("gen");
    let out = Command::new("python3")
        .arg("../shared/peers/gen_data.py")
        .args(counts)
        .arg("--out")
        .arg(&gen)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run gen_data.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    gen
}

/// A big first import drops the list indexes and builds them at the end; one killed in between
/// leaves them to the next open, which builds them before anything reads.
#[test]
fn a_bulk_import_builds_the_list_indexes_at_the_end_and_after_a_kill_on_next_open() {
    let fresh = Home::new();
    fresh.ok(&["list", "contacts"]);
    let want = list_index_schema(&fresh);
    assert!(want.contains("items_contact_line"), "{want}");

    // Whole: every index back as it was, nothing left deferred.
    let home = Home::new();
    let vcf = generate(&home, ["-N", "12000", "-M", "10", "-K", "10"]).join("all.vcf");
    assert!(
        std::fs::metadata(&vcf).expect("vcf").len() > 4 << 20,
        "not a bulk import"
    );
    let vcf = vcf.to_str().unwrap_or_default().to_string();
    let (code, _, err) = home.run(&["import", &vcf]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(list_index_schema(&home), want);
    assert_eq!(
        home.sqlite("SELECT count(*) FROM meta WHERE key = 'deferred_indexes'"),
        "0"
    );

    // Killed while the indexes are deferred.
    let home = Home::new();
    let vcf = generate(&home, ["-N", "12000", "-M", "10", "-K", "10"]).join("all.vcf");
    let mut child = home
        .command(&["import", vcf.to_str().unwrap_or_default()], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn import");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen = false;
    while std::time::Instant::now() < deadline && child.try_wait().expect("try_wait").is_none() {
        if home.db().exists() {
            let out = Command::new(common::sqlite3_bin())
                .arg(home.db())
                .arg("SELECT count(*) FROM meta WHERE key = 'deferred_indexes'")
                .output()
                .expect("sqlite3");
            if String::from_utf8_lossy(&out.stdout).trim() == "1" {
                seen = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(seen, "the import never deferred its list indexes");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_ne!(
        list_index_schema(&home),
        want,
        "the indexes were not dropped"
    );
    // The next command (a search, which reads `items_contact_line` by name) builds them first.
    let (code, out, err) = home.run(&["list", "contacts", "--query", "a"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(list_index_schema(&home), want);
    assert_eq!(
        home.sqlite("SELECT count(*) FROM meta WHERE key = 'deferred_indexes'"),
        "0"
    );
    let (code, out, err) = home.run(&["doctor"]);
    assert_eq!(code, 0, "{out}\n{err}");
}
