//! The one-way dependency rule of DESIGN.md §2, enforced: `cli -> store -> format -> model`
//! (and `config` only from `cli`); crates stay in their rooms (rusqlite in store/, calcard in
//! format/, rrule in format/, clap in cli/ and main.rs).

use std::fs;
use std::path::Path;

/// Each module and the crate modules it must never import.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "model",
        &["format", "store", "cli", "config", "sync", "tui"],
    ),
    ("format", &["store", "cli", "config", "sync", "tui"]),
    ("store", &["cli", "config", "sync", "tui"]),
    ("sync", &["cli", "tui"]),
    ("cli", &["tui"]),
];

/// External crates and the only modules allowed to use them.
const ROOMS: &[(&str, &[&str])] = &[
    ("rusqlite", &["store"]),
    ("clap", &["cli", "main.rs"]),
    ("rrule", &["format"]),
    ("calcard", &["format"]),
    ("reqwest", &["sync"]),
    ("quick_xml", &["sync"]),
    ("imagesize", &["format"]),
    ("exif", &["format"]),
    ("base64", &["format"]),
    ("indicatif", &["cli"]),
    ("ratatui", &["tui"]),
    ("crossterm", &["tui"]),
    ("ratatui_image", &["tui"]),
    ("image", &["tui"]),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
}

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

fn uses(text: &str, target: &str) -> bool {
    text.contains(&format!("crate::{target}::"))
        || text.contains(&format!("crate::{target};"))
        || text.contains(&format!("crate::{{{target}"))
        || text.contains(&format!("crate::{target}}}"))
        || text.contains(&format!("crate::{target},"))
}

#[test]
fn module_dependencies_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "found only {} source files", files.len());
    let mut bad = Vec::new();
    for f in &files {
        let module = module_of(&src, f);
        let text = fs::read_to_string(f).unwrap_or_default();
        for (m, forbidden) in FORBIDDEN {
            if *m == module {
                for t in *forbidden {
                    if uses(&text, t) {
                        bad.push(format!("{} ({module}) imports crate::{t}", f.display()));
                    }
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "dependency rule broken:\n{}",
        bad.join("\n")
    );
}

#[test]
fn crates_stay_in_their_rooms() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let module = module_of(&src, f);
        let file_name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = fs::read_to_string(f).unwrap_or_default();
        for (krate, rooms) in ROOMS {
            let used =
                text.contains(&format!("{krate}::")) || text.contains(&format!("use {krate}"));
            let allowed = rooms.iter().any(|r| *r == module || *r == file_name);
            if used && !allowed {
                bad.push(format!(
                    "{} uses {krate}, allowed only in {rooms:?}",
                    f.display()
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "crates outside their rooms:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_catches_a_violation() {
    // The rule must be able to fail: a store file importing cli is caught.
    assert!(uses("use crate::cli::Context;", "cli"));
    assert!(uses("use crate::{cli, model};", "cli"));
    assert!(!uses("use crate::client::X;", "cli"));
}

/// Whether `text` has SQL that inserts rows into the occurrence table.
fn inserts_occurrences(text: &str) -> bool {
    let squeezed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    squeezed.contains("INTO occurrences ") || squeezed.contains("INTO occurrences(")
}

/// The day cache of the occurrence table (src/store/days.rs) is kept exact on insert by
/// `items::insert_occ_rows`, not by a trigger: a row inserted anywhere else would leave a
/// cached day stale.
#[test]
fn occurrence_rows_are_inserted_only_where_the_day_cache_is_kept() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut inserting: Vec<String> = files
        .iter()
        .filter(|f| inserts_occurrences(&fs::read_to_string(f).unwrap_or_default()))
        .map(|f| f.strip_prefix(&src).unwrap_or(f).display().to_string())
        .collect();
    inserting.sort();
    assert_eq!(inserting, vec!["store/items.rs".to_string()]);
    // The check can fail.
    assert!(inserts_occurrences(
        "tx.execute(\"INSERT INTO\n   occurrences (start) VALUES (1)\")"
    ));
    assert!(!inserts_occurrences("SELECT * FROM occurrences o"));
}
