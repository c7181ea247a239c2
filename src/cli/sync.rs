//! `holdfast --sync` and `holdfast restore-remote`: resolve each account's password, run the
//! sync worker, show progress (a bar on a terminal only), print a summary or one JSON document,
//! and pick the exit code of DESIGN.md §6.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::json;

use super::{exit, usage, Context, Failure, Outcome};
use crate::config::Account;
use crate::sync::dav::Options;
use crate::sync::engine::{AccountReport, Settings};
use crate::sync::worker::{AccountSetup, SyncEvent, SyncHandle};

/// Runs `--sync` (or `restore-remote` when `restore`).
pub fn run(
    ctx: &Context,
    account: Option<&str>,
    accept_remote_deletions: bool,
    restore: bool,
) -> Outcome {
    let accounts: Vec<&Account> = ctx
        .config
        .accounts
        .iter()
        .filter(|a| account.is_none_or(|n| a.name == n))
        .collect();
    if accounts.is_empty() {
        let msg = match account {
            Some(n) => format!(
                "no account named {n:?} in {} (accounts: {})",
                ctx.config.path.display(),
                ctx.config
                    .accounts
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!(
                "no [[account]] in {}; add one to sync (see README: “Sync with your server”)",
                ctx.config.path.display()
            ),
        };
        if ctx.json {
            super::emit(&format!(
                "{}\n",
                json!({"accounts": [], "exit": exit::USAGE, "error": msg})
            ));
        }
        return Err(usage(msg));
    }
    crate::logging::init(ctx.store.data_dir());
    let mut setups = Vec::new();
    for a in &accounts {
        setups.push(AccountSetup {
            name: a.name.clone(),
            url: a.url.clone(),
            username: a.username.clone(),
            password: a.password_value()?,
        });
        if let Some(w) = crate::sync::dav::insecure_warning(&a.url) {
            eprintln!("holdfast: warning: account {:?}: {w}", a.name);
        }
    }
    let s = &ctx.config.sync;
    let settings = Settings {
        guard_fraction: s.guard_fraction,
        guard_min: s.guard_min,
        keep_backups: s.keep_backups,
        accept_remote_deletions,
        discover_secs: s.discover_secs,
    };
    let options = Options {
        timeout: Duration::from_secs(s.timeout_secs),
        ..Options::default()
    };
    let photos: std::collections::HashMap<String, String> = accounts
        .iter()
        .filter_map(|a| a.photos_url.clone().map(|u| (a.name.clone(), u)))
        .collect();
    let handle = SyncHandle::spawn_with_photos(
        ctx.store.data_dir().to_path_buf(),
        setups,
        photos,
        settings,
        options,
        None,
    );
    if restore {
        handle.restore_remote();
    } else {
        handle.sync_now();
    }
    let bar = Bar::new(!ctx.json && std::io::stderr().is_terminal());
    let mut reports: Vec<AccountReport> = Vec::new();
    loop {
        match handle.events().recv() {
            Ok(SyncEvent::Started { account }) => bar.message(&account),
            Ok(SyncEvent::Progress(p)) => bar.progress(&p.account, &p.collection, p.done, p.total),
            Ok(SyncEvent::AccountDone(r)) => reports.push(r),
            Ok(SyncEvent::Finished) => break,
            Ok(SyncEvent::Failed(e)) => {
                bar.finish();
                handle.stop();
                return Err(Failure::from(anyhow::anyhow!(e)));
            }
            Err(_) => break,
        }
    }
    bar.finish();
    handle.stop();
    let code = exit_code(&reports);
    if ctx.json {
        super::emit(&format!("{}\n", json!({"accounts": reports, "exit": code})));
    } else {
        print_summary(&reports, restore);
    }
    for r in &reports {
        for c in &r.collections {
            if let Some(g) = &c.guard {
                eprintln!(
                    "holdfast: {}/{}: held back {} deletion(s): {}. Nothing local was removed.\n  \
                     If the server is right: holdfast --sync --accept-remote-deletions --account {} \
                     (they go to the trash; `holdfast undelete UID` brings one back)\n  \
                     If the server lost them: holdfast restore-remote --account {} \
                     (uploads your copies back)",
                    r.account, c.collection, g.held_back, g.reason, r.account, r.account
                );
            }
            for e in &c.errors {
                eprintln!("holdfast: {}/{}: {e}", r.account, c.collection);
            }
        }
        if let Some(e) = &r.error {
            eprintln!("holdfast: {}: {e}", r.account);
            if r.unreachable {
                eprintln!("  local data is untouched; the next sync picks up from here");
            }
        }
        if let Some(p) = &r.photos {
            if let Some(g) = &p.guard {
                eprintln!(
                    "holdfast: {}/photos: held back {} deletion(s): {}. Nothing local was \
                     removed.\n  If the server is right: holdfast --sync \
                     --accept-remote-deletions --account {}\n  If the server lost them: \
                     holdfast restore-remote --account {} (uploads photos and sidecars back)",
                    r.account, g.held_back, g.reason, r.account, r.account
                );
            }
            for e in &p.errors {
                eprintln!("holdfast: {}/photos: {e}", r.account);
            }
            if let Some(e) = &p.error {
                eprintln!("holdfast: {}/photos: {e}", r.account);
                if p.unreachable {
                    eprintln!("  local photos are untouched; the next sync picks up from here");
                }
            }
        }
    }
    Ok(code)
}

/// 5 if a server was unreachable, else 4 if the guard held deletions, else 3 if anything else
/// went wrong (item errors, a failed request), else 0.
fn exit_code(reports: &[AccountReport]) -> u8 {
    if reports.iter().any(|r| r.any_unreachable()) {
        exit::UNREACHABLE
    } else if reports.iter().any(|r| r.guard_tripped()) {
        exit::GUARD
    } else if reports.iter().any(|r| r.error.is_some() || r.item_errors()) {
        exit::ITEM_ERRORS
    } else {
        exit::OK
    }
}

fn print_summary(reports: &[AccountReport], restore: bool) {
    let mut rows = Vec::new();
    for r in reports {
        for c in &r.collections {
            rows.push(vec![
                r.account.clone(),
                c.collection.clone(),
                c.pulled.to_string(),
                c.pushed.to_string(),
                c.moved_to_trash.to_string(),
                c.deleted_remote.to_string(),
                c.conflicts.to_string(),
                c.errors.len().to_string(),
                match &c.guard {
                    Some(g) => format!("held {}", g.held_back),
                    None => "ok".into(),
                },
            ]);
        }
    }
    for r in reports {
        if let Some(p) = &r.photos {
            rows.push(vec![
                r.account.clone(),
                "photos".into(),
                format!("{} (+{} blobs)", p.pulled, p.blobs_fetched),
                format!("{} (+{} blobs)", p.pushed, p.blobs_uploaded),
                p.moved_to_trash.to_string(),
                p.deleted_remote.to_string(),
                p.conflicts.to_string(),
                (p.errors.len() + usize::from(p.error.is_some())).to_string(),
                match &p.guard {
                    Some(g) => format!("held {}", g.held_back),
                    None => "ok".into(),
                },
            ]);
        }
    }
    if !rows.is_empty() {
        super::table::print(
            &[
                "ACCOUNT",
                "COLLECTION",
                "PULLED",
                if restore { "RESTORED" } else { "PUSHED" },
                "TO TRASH",
                "DELETED THERE",
                "CONFLICTS",
                "ERRORS",
                "GUARD",
            ],
            &rows,
        );
    }
    let total = |f: fn(&crate::sync::engine::CollectionReport) -> usize| -> usize {
        reports
            .iter()
            .flat_map(|r| &r.collections)
            .map(f)
            .sum::<usize>()
    };
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    super::emit(&format!(
        "{} {} account(s): {} pulled, {} pushed, {} to trash, {} conflicts{}\n",
        if restore { "restore-remote:" } else { "sync:" },
        reports.len(),
        total(|c| c.pulled),
        total(|c| c.pushed),
        total(|c| c.moved_to_trash),
        total(|c| c.conflicts),
        if failed > 0 {
            format!(", {failed} account(s) failed")
        } else {
            String::new()
        }
    ));
}

/// An indicatif bar on stderr when it is a terminal; nothing otherwise.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(tty: bool) -> Bar {
        if !tty {
            return Bar(None);
        }
        let pb = indicatif::ProgressBar::new(0);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {prefix} {msg} [{bar:30}] {pos}/{len}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.enable_steady_tick(Duration::from_millis(120));
        Bar(Some(pb))
    }

    fn message(&self, account: &str) {
        if let Some(pb) = &self.0 {
            pb.set_prefix(account.to_string());
            pb.set_message("connecting");
        }
    }

    fn progress(&self, account: &str, collection: &str, done: usize, total: usize) {
        if let Some(pb) = &self.0 {
            pb.set_prefix(account.to_string());
            pb.set_message(collection.to_string());
            pb.set_length(total as u64);
            pb.set_position(done as u64);
        }
    }

    fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
