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
    let _ = deep; // every check below already re-reads every item; --deep is kept for scripts
    let integrity = ctx.store.integrity()?;
    let (mismatched, flagged) = if integrity.is_empty() {
        (ctx.store.check_columns(repair)?, ctx.store.flagged()?)
    } else {
        (Vec::new(), Vec::new())
    };
    // Checked after the columns: their repair rewrites occurrences, which drops those days.
    let stale_days = if integrity.is_empty() {
        ctx.store.check_day_cache(repair)?
    } else {
        Vec::new()
    };
    let photos = if integrity.is_empty() {
        Some(super::photos::doctor(ctx, deep, repair)?)
    } else {
        None
    };
    let photos_unhealthy = photos.as_ref().is_some_and(|p| p.unhealthy());
    let code = if !integrity.is_empty() {
        exit::ERROR
    } else if ((!mismatched.is_empty() || !stale_days.is_empty()) && !repair)
        || !flagged.is_empty()
        || photos_unhealthy
    {
        exit::ITEM_ERRORS
    } else {
        exit::OK
    };
    if ctx.json {
        let doc = serde_json::json!({
            "database": ctx.store.path().display().to_string(),
            "integrity": if integrity.is_empty() { vec!["ok".to_string()] } else { integrity.clone() },
            "mismatched": mismatched.iter().map(|(uid, what)| serde_json::json!({"uid": uid, "differs": what})).collect::<Vec<_>>(),
            "repaired": repair && (!mismatched.is_empty() || !stale_days.is_empty()),
            "stale_cached_days": stale_days.iter().map(|d| day_text(*d)).collect::<Vec<_>>(),
            "flagged": flagged.iter().map(|i| serde_json::json!({
                "uid": i.uid,
                "kind": i.kind.as_str(),
                "collection": i.collection,
                "flags": i.flags.names(),
                "problems": i.problems.iter().map(|p| serde_json::json!({"line": p.line, "reason": p.reason})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "photos": photos,
            "healthy": code == exit::OK,
        });
        super::emit(&format!("{doc}\n"));
        return Ok(code);
    }
    if integrity.is_empty() {
        println!("database integrity: ok ({})", ctx.store.path().display());
    } else {
        println!("database integrity: FAILED");
        for l in &integrity {
            println!("  {l}");
        }
        println!("  Restore a snapshot: `holdfast restore-backup` lists them.");
        return Ok(code);
    }
    if mismatched.is_empty() {
        println!("parsed columns: ok (every item's columns match its text)");
    } else {
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
    if stale_days.is_empty() {
        println!("event day cache: ok (every cached day matches the occurrences)");
    } else {
        println!(
            "event day cache: {} day(s) differ from the occurrences{}",
            stale_days.len(),
            if repair {
                " (dropped; the next list fills them again)"
            } else {
                " (run `holdfast doctor --repair`)"
            }
        );
        for d in &stale_days {
            println!("  {}", day_text(*d));
        }
    }
    if flagged.is_empty() {
        println!("flagged items: none");
    } else {
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
    if let Some(p) = &photos {
        super::photos::print_health(p, repair);
    }
    Ok(code)
}

/// A day of the event cache (days since 1970-01-01, UTC) as its date.
fn day_text(day: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(day.saturating_mul(86_400), 0).map_or_else(
        || format!("day {day}"),
        |t| t.format("%Y-%m-%d").to_string(),
    )
}
