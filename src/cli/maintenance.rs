//! `backup`, `restore-backup`, `doctor`.

use std::path::Path;

use super::{exit, table, usage, Context, Outcome};

pub fn backup(ctx: &Context) -> Outcome {
    let b = ctx.store.backup(ctx.config.sync.keep_backups)?;
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({"path": b.path.display().to_string(), "bytes": b.bytes})
        );
    } else {
        println!("snapshot written: {} ({} bytes)", b.path.display(), b.bytes);
    }
    Ok(exit::OK)
}

pub fn restore(ctx: &mut Context, file: Option<&Path>) -> Outcome {
    let Some(file) = file else {
        let list = ctx.store.list_backups()?;
        if list.is_empty() {
            println!("No snapshots yet (`holdfast backup` makes one).");
        } else {
            println!("Snapshots, newest first (`holdfast restore-backup FILE`):");
            for p in list {
                println!("  {}", p.display());
            }
        }
        return Ok(exit::OK);
    };
    if !file.exists() {
        return Err(usage(format!("{}: no such file", file.display())));
    }
    let safety = ctx.store.restore(file, ctx.config.sync.keep_backups)?;
    println!(
        "restored {}; the database as it was is kept in {}",
        file.display(),
        safety.path.display()
    );
    Ok(exit::OK)
}

pub fn doctor(ctx: &mut Context, deep: bool, repair: bool) -> Outcome {
    let mut unhealthy = false;
    let integrity = ctx.store.integrity()?;
    if integrity.is_empty() {
        println!("database integrity: ok ({})", ctx.store.path().display());
    } else {
        println!("database integrity: FAILED");
        for l in &integrity {
            println!("  {l}");
        }
        println!("  Restore a snapshot: `holdfast restore-backup` lists them.");
        return Ok(exit::ERROR);
    }
    let _ = deep; // every check below already re-reads every item; --deep is kept for scripts
    let mismatched = ctx.store.check_columns(repair)?;
    if mismatched.is_empty() {
        println!("parsed columns: ok (every item's columns match its text)");
    } else {
        unhealthy = !repair;
        println!(
            "parsed columns: {} item(s) differ from their text{}",
            mismatched.len(),
            if repair {
                " (repaired)"
            } else {
                " (run `holdfast doctor --repair`)"
            }
        );
        for (uid, what) in &mismatched {
            println!("  {uid}: {what}");
        }
    }
    let flagged = ctx.store.flagged()?;
    if flagged.is_empty() {
        println!("flagged items: none");
    } else {
        unhealthy = true;
        println!(
            "flagged items: {} (kept verbatim; `holdfast edit UID` to fix)",
            flagged.len()
        );
        let mut rows = Vec::new();
        for i in &flagged {
            let reason = i
                .problems
                .iter()
                .map(|p| format!("line {}: {}", p.line, p.reason))
                .collect::<Vec<_>>()
                .join("; ");
            rows.push(vec![
                i.flags.names().join(","),
                i.kind.as_str().to_string(),
                i.uid.clone(),
                reason,
            ]);
        }
        table::print(&["FLAGS", "KIND", "UID", "REASON"], &rows);
    }
    Ok(if unhealthy {
        exit::ITEM_ERRORS
    } else {
        exit::OK
    })
}
