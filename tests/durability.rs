//! I4 on the import path: killing the process with SIGKILL at random moments leaves a sound
//! database, and importing again converges with no duplicate and nothing lost.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Home, BIN};

#[test]
fn import_killed_at_random_points_leaves_a_sound_database_that_converges() {
    let home = Home::new();
    let gen = home.root().join("gen");
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .args([
            "../shared/peers/gen_data.py",
            "-N",
            "4000",
            "-M",
            "4000",
            "-K",
            "1000",
            "--out",
        ])
        .arg(&gen)
        .current_dir(root)
        .output()
        .expect("run gen_data.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
