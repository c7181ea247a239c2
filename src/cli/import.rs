//! `import` and `export`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::{exit, usage, Context, Failure, Outcome};
use crate::format::{edit, lines, vcard, write};
use crate::model::{Kind, Problem};
use crate::store::{prepare, ImportOutcome, Incoming, Prepared};

/// Items written per transaction: large enough to amortise the commit (fsync), small enough to
/// keep memory flat on big files.
const IMPORT_BATCH: usize = 5_000;

/// Lines outside any item reported one by one before the rest are counted.
const MAX_STRAY_REPORTS: usize = 20;

#[derive(Default)]
struct Tally {
    added: usize,
    updated: usize,
    unchanged: usize,
    flagged: usize,
    errors: usize,
    /// Contacts' PHOTOs that could not become photo references (reported, cards kept).
    photo_problems: usize,
}

pub fn import(ctx: &mut Context, files: &[PathBuf], collection: Option<String>) -> Outcome {
    ctx.store.bulk_mode()?;
    // A big first import builds the list indexes once at the end (see `defer_list_indexes`).
    let bytes: u64 = files
        .iter()
        .filter_map(|f| fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let deferred = bytes >= BULK_BYTES && ctx.store.defer_list_indexes()?;
    let outcome = import_files(ctx, files, collection);
    if deferred {
        ctx.store.build_deferred_indexes()?;
    }
    outcome
}

/// Files at least this big (about 10,000 items) are a bulk import.
const BULK_BYTES: u64 = 4 << 20;

fn import_files(ctx: &mut Context, files: &[PathBuf], collection: Option<String>) -> Outcome {
    let mut total = Tally::default();
    let mut ids = HashMap::new();
    for file in files {
        let bytes = match fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", file.display());
                total.errors += 1;
                continue;
            }
        };
        let origin = format!("import:{}", file.display());
        let mut t = Tally::default();
        let mut seen = 0usize;
        let window = ctx.store.coverage()?;
        // A pipeline over two threads: a reader thread cuts the file and parses each batch while
        // this thread writes the previous one to the database (SQLite has one writer). Memory
        // stays at the file's size plus a few batches.
        let stray = std::thread::scope(|scope| -> Result<Vec<Problem>, Failure> {
            let (to_writer, from_reader) = mpsc::sync_channel::<(Prepared, Vec<ItemMeta>)>(2);
            let bytes = &bytes;
            let data_dir = ctx.store.data_dir().to_path_buf();
            let reader = scope.spawn(move || {
                let mut pending: Vec<lines::RawItem> = Vec::with_capacity(IMPORT_BATCH);
                let mut seen = 0usize;
                let mut open = true;
                let ship = |chunk: Vec<lines::RawItem>, open: &mut bool| {
                    if chunk.is_empty() || !*open {
                        return;
                    }
                    let meta: Vec<ItemMeta> = chunk.iter().map(|i| i.clone_meta()).collect();
                    let incoming = chunk
                        .into_iter()
                        .map(|item| Incoming {
                            collection_id: 0, // assigned by the writer, which owns the store
                            item,
                        })
                        .collect();
                    // Contacts' photos are read and stored here too, off the writer.
                    let prepared = prepare(incoming, window, &data_dir);
                    // A closed channel means the writer failed; it reports why.
                    *open = to_writer.send((prepared, meta)).is_ok();
                };
                let stray = lines::split_each(bytes, |item| {
                    seen += 1;
                    pending.push(item);
                    if pending.len() >= IMPORT_BATCH {
                        ship(std::mem::take(&mut pending), &mut open);
                    }
                });
                ship(pending, &mut open);
                (stray, seen)
            });
            for (mut prepared, meta) in from_reader.iter() {
                prepared.assign_collections(|kind| {
                    let name = collection
                        .clone()
                        .unwrap_or_else(|| kind.default_collection().to_string());
                    match ids.get(&name) {
                        Some(id) => Ok(*id),
                        None => {
                            let id = ctx.store.collection_id(&name)?;
                            ids.insert(name, id);
                            Ok(id)
                        }
                    }
                })?;
                let (outcomes, notes) = ctx.store.import_prepared_noting(prepared, &origin)?;
                for (uid, p) in &notes {
                    let line = meta
                        .iter()
                        .find(|m| &m.uid == uid)
                        .map_or(p.line, |m| m.file_line(p.line));
                    eprintln!(
                        "{}:{line}: contact {uid}: {} (the card is imported as it came; its photo \
                         is not in the photo store)",
                        file.display(),
                        p.reason
                    );
                }
                t.photo_problems += notes.len();
                report(file, &outcomes, meta, &mut t);
            }
            let (stray, n) = reader
                .join()
                .map_err(|_| anyhow::anyhow!("the import reader thread panicked"))?;
            seen = n;
            Ok(stray)
        })?;
        drop(bytes);
        // A binary or foreign file would give one report per line: show the first few.
        for p in stray.iter().take(MAX_STRAY_REPORTS) {
            eprintln!("{}:{}: {}", file.display(), p.line, p.reason);
        }
        if stray.len() > MAX_STRAY_REPORTS {
            eprintln!(
                "{}: … and {} more lines outside any item (is this a vCard/iCalendar file?)",
                file.display(),
                stray.len() - MAX_STRAY_REPORTS
            );
        }
        total.errors += stray.len();
        if seen == 0 && stray.is_empty() {
            eprintln!("{}: no vCard or iCalendar data found", file.display());
            total.errors += 1;
        }
        if !ctx.json {
            println!(
                "{}: {} new, {} changed, {} unchanged{}",
                file.display(),
                t.added,
                t.updated,
                t.unchanged,
                if t.flagged > 0 {
                    format!(", {} kept but flagged (see `holdfast doctor`)", t.flagged)
                } else {
                    String::new()
                }
            );
        }
        total.added += t.added;
        total.updated += t.updated;
        total.unchanged += t.unchanged;
        total.flagged += t.flagged;
        total.errors += t.photo_problems;
    }
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({
                "added": total.added, "updated": total.updated, "unchanged": total.unchanged,
                "flagged": total.flagged, "errors": total.errors,
            })
        );
    }
    Ok(if total.flagged + total.errors > 0 {
        exit::ITEM_ERRORS
    } else {
        exit::OK
    })
}

/// Counts outcomes and reports each item's problems with file and line.
fn report(file: &Path, outcomes: &[ImportOutcome], meta: Vec<ItemMeta>, t: &mut Tally) {
    for (o, m) in outcomes.iter().zip(meta) {
        let problems = match o {
            ImportOutcome::Added { problems, .. } => {
                t.added += 1;
                problems
            }
            ImportOutcome::Updated { problems, .. } => {
                t.updated += 1;
                problems
            }
            ImportOutcome::Unchanged { problems, .. } => {
                t.unchanged += 1;
                problems
            }
        };
        if !problems.is_empty() {
            t.flagged += 1;
            for p in problems {
                eprintln!(
                    "{}:{}: {} {}: {} (kept verbatim and flagged)",
                    file.display(),
                    m.file_line(p.line),
                    m.kind.as_str(),
                    m.uid,
                    p.reason
                );
            }
        }
    }
}

/// What `import` needs to report an item after it has been moved into the store.
struct ItemMeta {
    kind: Kind,
    uid: String,
    line: usize,
    line_map: Vec<(usize, usize)>,
}

impl ItemMeta {
    fn file_line(&self, line: usize) -> usize {
        lines::RawItem {
            kind: self.kind,
            uid: String::new(),
            raw: Vec::new(),
            line: self.line,
            problems: Vec::new(),
            line_map: self.line_map.clone(),
        }
        .file_line(line)
    }
}

trait CloneMeta {
    fn clone_meta(&self) -> ItemMeta;
}

impl CloneMeta for lines::RawItem {
    fn clone_meta(&self) -> ItemMeta {
        ItemMeta {
            kind: self.kind,
            uid: self.uid.clone(),
            line: self.line,
            line_map: self.line_map.clone(),
        }
    }
}

/// Writes through a temporary file renamed into place, so a failed export leaves no half file.
struct Output {
    tmp: PathBuf,
    path: PathBuf,
    w: BufWriter<fs::File>,
    bytes: u64,
}

impl Output {
    fn create(path: &Path) -> std::io::Result<Output> {
        let tmp = path.with_extension("holdfast-tmp");
        let f = fs::File::create(&tmp)?;
        Ok(Output {
            tmp,
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, f),
            bytes: 0,
        })
    }

    fn write(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.bytes += b.len() as u64;
        self.w.write_all(b)
    }

    fn finish(mut self) -> std::io::Result<u64> {
        self.w.flush()?;
        // On disk before it replaces anything: a crash leaves the old file or the new one.
        self.w.get_ref().sync_all()?;
        fs::rename(&self.tmp, &self.path)?;
        Ok(self.bytes)
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> super::Failure + '_ {
    move |e| anyhow::anyhow!("{}: {e}", path.display()).into()
}

pub fn export(
    ctx: &Context,
    contacts: Option<&Path>,
    version: Option<&str>,
    calendar: Option<&Path>,
    todos: Option<&Path>,
    all: Option<&Path>,
) -> Outcome {
    let mut warnings = 0;
    let mut summary = Vec::new();
    if let Some(path) = contacts {
        let mut out = Output::create(path).map_err(io_err(path))?;
        let target = match version {
            Some(v) => Some(
                vcard::Version::parse(v)
                    .ok_or_else(|| usage(format!("--vcard-version {v}: use 3.0 or 4.0")))?,
            ),
            None => None,
        };
        let mut n = 0;
        ctx.store.for_each_raw(&[Kind::Contact], |item| {
            let raw = item.raw;
            match target {
                None if !vcard::is_terminated(raw) => {
                    eprintln!(
                        "holdfast: contact {} not exported: its BEGIN:VCARD has no END:VCARD, which \
                         would swallow the next card. Fix it with `holdfast edit {}`, or export it \
                         as it is with --all",
                        item.uid, item.uid
                    );
                    warnings += 1;
                }
                None => {
                    n += 1;
                    out.write(raw)?;
                    if raw.last() != Some(&b'\n') {
                        out.write(b"\r\n")?;
                    }
                }
                Some(v) => match vcard::convert(raw, v) {
                    Some(text) => {
                        n += 1;
                        out.write(text.as_bytes())?
                    }
                    None => {
                        eprintln!(
                            "holdfast: contact {} could not be converted; written as stored",
                            item.uid
                        );
                        warnings += 1;
                        n += 1;
                        out.write(raw)?;
                    }
                },
            }
            Ok(())
        })?;
        let bytes = out.finish().map_err(io_err(path))?;
        summary.push(format!(
            "{n} contacts ({bytes} bytes) to {}",
            path.display()
        ));
    }
    for (path, kinds, what) in [
        (calendar, &[Kind::Event, Kind::Journal][..], "events"),
        (todos, &[Kind::Todo][..], "to-dos"),
    ] {
        let Some(path) = path else { continue };
        let (n, bytes) = export_calendar(ctx, path, kinds, &mut warnings)?;
        summary.push(format!("{n} {what} ({bytes} bytes) to {}", path.display()));
    }
    if let Some(dir) = all {
        let n = export_vdir(ctx, dir)?;
        summary.push(format!("{n} items, one file each, under {}", dir.display()));
    }
    if !ctx.json {
        for s in &summary {
            println!("exported {s}");
        }
    } else {
        println!("{}", serde_json::json!({ "exported": summary }));
    }
    Ok(if warnings > 0 {
        exit::ITEM_ERRORS
    } else {
        exit::OK
    })
}

/// A VTIMEZONE's rules, for comparing two definitions: unfolded lines, without the stamps that
/// change when nothing else does.
fn zone_definition(bytes: &[u8]) -> String {
    lines::logical_lines(bytes)
        .into_iter()
        .filter(|l| !matches!(l.name().as_str(), "LAST-MODIFIED" | "DTSTAMP" | "TZURL"))
        .map(|l| lines::decode(&l.text).trim().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn export_calendar(
    ctx: &Context,
    path: &Path,
    kinds: &[Kind],
    warnings: &mut usize,
) -> Result<(usize, u64), super::Failure> {
    // One pass: components go to a body file while the VTIMEZONEs (first definition of each
    // TZID wins) and the TZIDs in use are collected; then header + zones + body make the file,
    // so it is self-contained.
    let mut zones: Vec<(String, Vec<u8>)> = Vec::new();
    // TZID -> its definition, to catch two items that give one TZID different rules (Outlook
    // calls every zone it made up "Customized Time Zone").
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut used: Vec<String> = Vec::new();
    let body_path = path.with_extension("holdfast-body");
    let mut body = Output::create(&body_path).map_err(io_err(path))?;
    let mut n = 0;
    ctx.store.for_each_raw(kinds, |item| {
        let mut parts = lines::calendar_parts(item.raw);
        if parts.broken {
            eprintln!(
                "holdfast: {} {} not exported: one of its components has no END line, which \
                 would swallow what follows it. Fix it with `holdfast edit {}`, or export it as \
                 it is with --all",
                item.kind.as_str(),
                item.uid,
                item.uid
            );
            *warnings += 1;
            return Ok(());
        }
        // A TZID already defined differently by an earlier item: this item's zone is renamed
        // (in its VTIMEZONE and its TZID parameters), so no event moves.
        let clashes: Vec<String> = parts
            .timezones
            .iter()
            .filter(|(id, bytes)| {
                seen.get(id)
                    .is_some_and(|def| *def != zone_definition(bytes))
            })
            .map(|(id, _)| id.clone())
            .collect();
        if !clashes.is_empty() {
            let mut raw = item.raw.to_vec();
            for id in clashes {
                let mut k = 2;
                let renamed = loop {
                    let candidate = format!("{id} ({k})");
                    if !seen.contains_key(&candidate) {
                        break candidate;
                    }
                    k += 1;
                };
                raw = edit::rename_tzid(&raw, &id, &renamed);
            }
            parts = lines::calendar_parts(&raw);
        }
        n += 1;
        for (id, bytes) in parts.timezones {
            if !seen.contains_key(&id) {
                seen.insert(id.clone(), zone_definition(&bytes));
                zones.push((id, bytes));
            }
        }
        for t in parts.tzids {
            if !used.contains(&t) {
                used.push(t);
            }
        }
        for c in parts.components {
            body.write(&c)?;
        }
        Ok(())
    })?;
    body.finish().map_err(io_err(path))?;
    for t in used {
        if !seen.contains_key(&t) {
            // 2000-01-01 .. 2040-01-01
            if let Some(block) = write::vtimezone(&t, 946_684_800, 2_208_988_800) {
                seen.insert(t.clone(), String::new());
                zones.push((t, block.into_bytes()));
            }
        }
    }
    let mut out = Output::create(path).map_err(io_err(path))?;
    out.write(
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{}\r\n",
            write::PRODID
        )
        .as_bytes(),
    )
    .map_err(io_err(path))?;
    for (_, bytes) in &zones {
        out.write(bytes).map_err(io_err(path))?;
    }
    let mut reader = fs::File::open(&body_path).map_err(io_err(path))?;
    out.bytes += std::io::copy(&mut reader, &mut out.w).map_err(io_err(path))?;
    let _ = fs::remove_file(&body_path);
    out.write(b"END:VCALENDAR\r\n").map_err(io_err(path))?;
    let bytes = out.finish().map_err(io_err(path))?;
    Ok((n, bytes))
}

/// A file name for a UID: safe characters kept, others replaced.
fn file_name(uid: &str) -> String {
    let s: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("item{s}")
    } else {
        s
    }
}

fn export_vdir(ctx: &Context, dir: &Path) -> Result<usize, super::Failure> {
    // One file per item, named after its UID; running it again overwrites the same files, and
    // two UIDs that map to one name get the item id added. Each file is written whole or not at
    // all (temporary file, then rename).
    let mut used: HashSet<PathBuf> = HashSet::new();
    let mut n = 0;
    ctx.store.for_each_raw(
        &[Kind::Contact, Kind::Event, Kind::Todo, Kind::Journal],
        |item| {
            let sub = dir.join(file_name(item.collection));
            fs::create_dir_all(&sub)?;
            let ext = item.kind.extension();
            let mut path = sub.join(format!("{}.{ext}", file_name(item.uid)));
            if used.contains(&path) {
                path = sub.join(format!("{}-{}.{ext}", file_name(item.uid), item.id));
            }
            let tmp = path.with_extension(format!("{ext}.holdfast-tmp"));
            fs::write(&tmp, item.raw)?;
            fs::rename(&tmp, &path)?;
            used.insert(path);
            n += 1;
            Ok(())
        },
    )?;
    Ok(n)
}
