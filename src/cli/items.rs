//! Commands on one item: new, edit, done, delete, undelete, history, revert.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::Command as Process;

use chrono::{NaiveDate, Utc};

use super::args::NewCommand;
use super::{exit, table, usage, Context, Failure, Outcome};
use crate::format::split::NO_UID_PREFIX;
use crate::format::{self, input, lines, tz::Zone, write};
use crate::model::Kind;

fn parse_when(s: &str, all_day: bool, tz: &Option<String>) -> Result<write::Start, Failure> {
    input::parse_when(s, all_day, tz).map_err(usage)
}

fn report_problems(uid: &str, problems: &[crate::model::Problem]) {
    for p in problems {
        eprintln!("holdfast: {uid}: line {}: {}", p.line, p.reason);
    }
}

pub fn new(ctx: &mut Context, cmd: NewCommand) -> Outcome {
    let now = Utc::now();
    let uid = write::new_uid();
    let (kind, text, collection) = match cmd {
        NewCommand::Contact {
            full_name,
            email,
            phone,
            org,
            collection,
        } => {
            if full_name.trim().is_empty() {
                return Err(usage("a contact needs a name"));
            }
            (
                Kind::Contact,
                write::new_contact(&uid, full_name.trim(), &email, &phone, org.as_deref(), now),
                collection,
            )
        }
        NewCommand::Event {
            summary,
            start,
            end,
            duration,
            all_day,
            tz,
            rrule,
            location,
            collection,
        } => {
            let tz = match tz {
                Some(t) => match Zone::named(&t) {
                    Some(Zone::Iana(z)) => Some(z.name().to_string()),
                    _ => {
                        return Err(usage(format!(
                            "--tz {t:?}: not a known IANA zone (e.g. Europe/Berlin)"
                        )))
                    }
                },
                None if all_day => None,
                None => input::local_zone_name(),
            };
            let start = parse_when(&start, all_day, &tz)?;
            let end = end.map(|e| parse_when(&e, all_day, &tz)).transpose()?;
            let duration =
                match duration {
                    Some(d) => Some(input::parse_duration(&d).ok_or_else(|| {
                        usage(format!("--duration {d:?}: use 30m, 1h, 1h30m, 2d"))
                    })?),
                    None if end.is_none() && !all_day => Some("PT1H".to_string()),
                    None => None,
                };
            let text = write::new_event(
                &write::NewEvent {
                    uid: &uid,
                    summary: &summary,
                    start,
                    end,
                    duration: duration.as_deref(),
                    rrule: rrule.as_deref(),
                    location: location.as_deref(),
                },
                now,
            );
            (Kind::Event, text, collection)
        }
        NewCommand::Todo {
            summary,
            due,
            priority,
            parent,
            collection,
        } => {
            let tz = input::local_zone_name();
            let due = due
                .map(|d| {
                    let date_only = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").is_ok();
                    parse_when(&d, date_only, &tz)
                })
                .transpose()?;
            if let Some(p) = &parent {
                let found = ctx.store.find(p, None)?;
                if found.kind != Kind::Todo {
                    return Err(usage(format!("--parent {p}: that item is not a to-do")));
                }
            }
            let text = write::new_todo(
                &write::NewTodo {
                    uid: &uid,
                    summary: &summary,
                    due,
                    priority,
                    parent: parent.as_deref(),
                },
                now,
            );
            (Kind::Todo, text, collection)
        }
    };
    // Validate what we built (a bad --rrule, say) before storing it.
    write::check_new(&text).map_err(|e| usage(format!("not created: {e}")))?;
    let collection = collection.unwrap_or_else(|| kind.default_collection().to_string());
    ctx.store
        .create(&collection, &uid, text.as_bytes(), "new")?;
    println!("{uid}");
    Ok(exit::OK)
}

pub fn edit(ctx: &mut Context, uid: &str, collection: Option<&str>) -> Outcome {
    let item = ctx.store.find(uid, collection)?;
    let dir = tempfile::Builder::new()
        .prefix("holdfast-edit-")
        .tempdir()
        .map_err(|e| anyhow::anyhow!("cannot create a temporary file: {e}"))?;
    let path = dir.path().join(format!("item.{}", item.kind.extension()));
    std::fs::write(&path, &item.raw).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    // On a terminal, a text that does not validate goes back to the editor (as `crontab -e`
    // does), so nothing typed is lost; elsewhere it is kept under `rescued/` and nothing saved.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    loop {
        run_editor(&path)?;
        let new = std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if new == item.raw {
            eprintln!("holdfast: no changes");
            return Ok(exit::OK);
        }
        let problems = validate_edit(&item, &new);
        if problems.is_empty() {
            ctx.store.update(&item, &new, "edit", false)?;
            // Editing a conflicted item is the user's decision on it.
            ctx.store.clear_conflict(item.id)?;
            eprintln!("holdfast: saved {} as a new revision", item.uid);
            return Ok(exit::OK);
        }
        for p in &problems {
            eprintln!("holdfast: {}: {p}", item.uid);
        }
        if interactive && ask("Edit again? [Y/n] ") {
            continue;
        }
        let rescue = rescue(ctx, &item.uid, item.kind, &new)?;
        eprintln!(
            "holdfast: not saved. Your text is kept in {}; fix it and import it, or run \
             `holdfast edit {}` again.",
            rescue.display(),
            item.uid
        );
        return Ok(exit::ITEM_ERRORS);
    }
}

fn run_editor(path: &std::path::Path) -> Result<(), Failure> {
    let cmd = crate::config::editor_command();
    let status = Process::new(&cmd[0])
        .args(&cmd[1..])
        .arg(path)
        .status()
        .map_err(|e| {
            usage(format!(
                "cannot start the editor {:?}: {e} (set $EDITOR)",
                cmd[0]
            ))
        })?;
    if !status.success() {
        return Err(usage(format!(
            "the editor exited with {status}; nothing was saved"
        )));
    }
    Ok(())
}

/// Yes unless the answer starts with n.
fn ask(question: &str) -> bool {
    eprint!("{question}");
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    !answer.trim_start().to_ascii_lowercase().starts_with('n')
}

/// Why an edited text cannot be saved: empty when it can.
fn validate_edit(item: &crate::store::StoredItem, new: &[u8]) -> Vec<String> {
    if item.kind == Kind::Photo {
        // A photo reference's text is its JSON sidecar: it must stay one, about the same photo.
        return match format::photo::from_sidecar(new) {
            Ok(p) if p.id != item.uid => vec![format!(
                "the id changed from {:?} to {:?}; an edit keeps the id",
                item.uid, p.id
            )],
            Ok(_) => Vec::new(),
            Err(reason) => vec![reason],
        };
    }
    let split = lines::split(new);
    let mut problems: Vec<String> = split
        .stray
        .iter()
        .map(|p| format!("line {}: {}", p.line, p.reason))
        .collect();
    match split.items.as_slice() {
        [one] => {
            // An item that came without a UID has one derived from its bytes, which an edit
            // changes: that is still the same item.
            let both_derived =
                one.uid.starts_with(NO_UID_PREFIX) && item.uid.starts_with(NO_UID_PREFIX);
            if one.uid != item.uid && !both_derived {
                problems.push(format!(
                    "the UID changed from {:?} to {:?}; an edit keeps the UID",
                    item.uid, one.uid
                ));
            }
            if one.kind != item.kind {
                problems.push(format!(
                    "the item changed from a {} to a {}",
                    item.kind.as_str(),
                    one.kind.as_str()
                ));
            }
            for p in &one.problems {
                problems.push(format!("line {}: {}", one.file_line(p.line), p.reason));
            }
        }
        items => problems.push(format!(
            "the text holds {} items; keep exactly one",
            items.len()
        )),
    }
    for p in &format::parse(new).problems {
        problems.push(format!("line {}: {}", p.line, p.reason));
    }
    problems.dedup();
    problems
}

/// Keeps text the user typed that could not be saved, under `<data>/rescued/`.
fn rescue(ctx: &Context, uid: &str, kind: Kind, text: &[u8]) -> Result<PathBuf, Failure> {
    let dir = ctx.store.data_dir().join("rescued");
    crate::store::private_dir(&dir)?;
    let name: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!(
        "{name}-{}.{}",
        Utc::now().format("%Y%m%dT%H%M%S"),
        kind.extension()
    ));
    std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    crate::store::private_file(&path)?;
    Ok(path)
}

pub fn done(ctx: &mut Context, uid: &str, collection: Option<&str>, undo: bool) -> Outcome {
    let item = ctx.store.find(uid, collection)?;
    if item.kind != Kind::Todo {
        return Err(usage(format!(
            "{uid} is a {}, not a to-do",
            item.kind.as_str()
        )));
    }
    let now = Utc::now();
    let new = if undo {
        write::mark_undone(&item.raw, now)
    } else {
        write::mark_done(&item.raw, now)
    };
    let problems = ctx
        .store
        .update(&item, &new, if undo { "undone" } else { "done" }, false)?;
    report_problems(uid, &problems);
    if !ctx.json {
        println!(
            "{}: {}",
            item.data["summary"].as_str().unwrap_or(uid),
            if undo { "open again" } else { "done" }
        );
    }
    Ok(exit::OK)
}

pub fn delete(ctx: &mut Context, uid: &str, collection: Option<&str>) -> Outcome {
    let item = ctx.store.find(uid, collection)?;
    if item.deleted {
        eprintln!("holdfast: {uid} is already in the trash");
        return Ok(exit::OK);
    }
    ctx.store.delete(&item)?;
    if !ctx.json {
        println!("moved {uid} to the trash (`holdfast undelete {uid}` brings it back)");
    }
    Ok(exit::OK)
}

pub fn undelete(ctx: &mut Context, uid: &str, collection: Option<&str>) -> Outcome {
    let item = ctx.store.find(uid, collection)?;
    if !item.deleted {
        eprintln!("holdfast: {uid} is not in the trash");
        return Ok(exit::OK);
    }
    ctx.store.undelete(&item)?;
    if !ctx.json {
        println!("restored {uid} from the trash");
    }
    Ok(exit::OK)
}

pub fn history(ctx: &Context, uid: &str, collection: Option<&str>) -> Outcome {
    let item = ctx.store.find(uid, collection)?;
    let revs = ctx.store.history(&item)?;
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string(&revs).map_err(anyhow::Error::from)?
        );
        return Ok(exit::OK);
    }
    let rows: Vec<Vec<String>> = revs
        .iter()
        .map(|r| {
            vec![
                r.rev.to_string(),
                r.time.clone(),
                r.origin.clone(),
                if r.deleted {
                    "in trash".into()
                } else {
                    String::new()
                },
                format!("{} bytes", r.text.len()),
            ]
        })
        .collect();
    table::print(&["REV", "TIME", "ORIGIN", "STATE", "SIZE"], &rows);
    println!(
        "(`--json` shows each revision's full text; `holdfast revert {uid} REV` brings one back)"
    );
    Ok(exit::OK)
}

pub fn revert(ctx: &mut Context, uid: &str, rev: i64, collection: Option<&str>) -> Outcome {
    let item = ctx.store.find(uid, collection)?;
    let raw = ctx.store.revision_raw(&item, rev)?;
    let problems = ctx
        .store
        .update(&item, &raw, &format!("revert:{rev}"), true)?;
    ctx.store.clear_conflict(item.id)?;
    report_problems(uid, &problems);
    if !ctx.json {
        println!(
            "{uid}: revision {rev} is current again (as revision {})",
            item.rev + 1
        );
    }
    Ok(exit::OK)
}
