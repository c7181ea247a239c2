//! The sync worker (DESIGN.md §2, I8): one thread that owns the HTTP clients and its own
//! database connection. The TUI and `--sync` talk to it over channels: `SyncRequest` in,
//! `SyncEvent` out. Nothing on the caller's side ever waits on the network.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use super::dav::{Client, Options};
use super::engine::{restore_remote, sync_account, AccountReport, Progress, Settings};
use super::photos::{restore_photos, sync_photos, PhotoReport};
use crate::store::Store;

/// One account, with its password already resolved by the caller (the worker never runs
/// commands or reads the config).
#[derive(Clone)]
pub struct AccountSetup {
    pub name: String,
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for AccountSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountSetup")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// What the worker is asked to do.
#[derive(Debug, Clone)]
pub enum SyncRequest {
    /// Sync every account now.
    Now,
    /// Sync now, and list the home sets for collections added on the server whatever
    /// `discover_secs` says (the user asked: at the UI's launch and on its sync key).
    NowDiscovering,
    /// Sync now, applying remote deletions the guard held back (into the trash).
    NowAcceptingDeletions,
    /// Upload every live local item the server lacks (`holdfast restore-remote`).
    RestoreRemote,
    /// Finish the current step and end the thread.
    Stop,
}

/// What the worker reports.
#[derive(Debug, Clone)]
pub enum SyncEvent {
    Started {
        account: String,
    },
    Progress(Progress),
    /// One account done (successfully or not: see the report).
    AccountDone(AccountReport),
    /// A whole round (every account) done.
    Finished,
    /// The worker could not even start (the database could not be opened …).
    Failed(String),
}

/// Handle to a running worker.
pub struct SyncHandle {
    requests: Sender<SyncRequest>,
    events: Receiver<SyncEvent>,
    thread: Option<JoinHandle<()>>,
}

impl SyncHandle {
    /// Starts the worker on its own thread with its own connection to the database in
    /// `data_dir`. With `interval`, it also syncs on its own every `interval`.
    pub fn spawn(
        data_dir: PathBuf,
        accounts: Vec<AccountSetup>,
        settings: Settings,
        options: Options,
        interval: Option<Duration>,
    ) -> SyncHandle {
        Self::spawn_with_photos(
            data_dir,
            accounts,
            HashMap::new(),
            settings,
            options,
            interval,
        )
    }

    /// `spawn`, with each account's `photos_url` (account name → folder URL): those folders
    /// are synced on their own thread beside the account's collections, so a dead photos
    /// server never holds up the CalDAV/CardDAV part, nor the other way round.
    pub fn spawn_with_photos(
        data_dir: PathBuf,
        accounts: Vec<AccountSetup>,
        photos: HashMap<String, String>,
        settings: Settings,
        options: Options,
        interval: Option<Duration>,
    ) -> SyncHandle {
        let (req_tx, req_rx) = channel::<SyncRequest>();
        let (ev_tx, ev_rx) = channel::<SyncEvent>();
        let thread = std::thread::Builder::new()
            .name("holdfast-sync".into())
            .spawn(move || {
                worker(
                    data_dir, accounts, photos, settings, options, interval, req_rx, ev_tx,
                )
            })
            .ok();
        SyncHandle {
            requests: req_tx,
            events: ev_rx,
            thread,
        }
    }

    /// Asks for a sync now; returns at once.
    pub fn sync_now(&self) {
        let _ = self.requests.send(SyncRequest::Now);
    }

    /// Asks for a sync now that also looks for collections added on the server.
    pub fn sync_now_discovering(&self) {
        let _ = self.requests.send(SyncRequest::NowDiscovering);
    }

    /// Asks for a sync that accepts remote deletions (the user answered the guard).
    pub fn sync_accepting_deletions(&self) {
        let _ = self.requests.send(SyncRequest::NowAcceptingDeletions);
    }

    /// Asks for `restore-remote`; returns at once.
    pub fn restore_remote(&self) {
        let _ = self.requests.send(SyncRequest::RestoreRemote);
    }

    /// The events, to poll (`try_recv`) or wait on.
    pub fn events(&self) -> &Receiver<SyncEvent> {
        &self.events
    }

    /// Asks the worker to stop and waits for the thread to end.
    pub fn stop(mut self) {
        let _ = self.requests.send(SyncRequest::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn worker(
    data_dir: PathBuf,
    accounts: Vec<AccountSetup>,
    photos: HashMap<String, String>,
    settings: Settings,
    options: Options,
    interval: Option<Duration>,
    requests: Receiver<SyncRequest>,
    events: Sender<SyncEvent>,
) {
    let mut store = match Store::open(&data_dir) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("sync worker: cannot open the database: {e}");
            let _ = events.send(SyncEvent::Failed(e.to_string()));
            return;
        }
    };
    loop {
        let request = match interval {
            Some(every) => match requests.recv_timeout(every) {
                Ok(r) => r,
                Err(RecvTimeoutError::Timeout) => SyncRequest::Now,
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match requests.recv() {
                Ok(r) => r,
                Err(_) => return,
            },
        };
        let (restore, accept, discover) = match request {
            SyncRequest::Stop => return,
            SyncRequest::Now => (false, false, false),
            SyncRequest::NowDiscovering => (false, false, true),
            SyncRequest::NowAcceptingDeletions => (false, true, false),
            SyncRequest::RestoreRemote => (true, false, false),
        };
        let settings = Settings {
            accept_remote_deletions: settings.accept_remote_deletions || accept,
            discover_secs: if discover { 0 } else { settings.discover_secs },
            ..settings.clone()
        };
        for a in &accounts {
            tracing::info!(account = %a.name, restore, accept, "sync started");
            let _ = events.send(SyncEvent::Started {
                account: a.name.clone(),
            });
            let folder = photos.get(&a.name);
            let report = std::thread::scope(|scope| {
                let photo_thread = folder.map(|folder| {
                    let (data_dir, settings, options) = (&data_dir, &settings, &options);
                    std::thread::Builder::new()
                        .name("holdfast-photos".into())
                        .spawn_scoped(scope, move || {
                            photo_round(data_dir, a, folder, settings, options, restore)
                        })
                });
                let mut report = match Client::new(
                    &a.url,
                    a.username.as_deref(),
                    a.password.clone(),
                    options.clone(),
                ) {
                    Ok(client) => {
                        let mut progress = |p: Progress| {
                            let _ = events.send(SyncEvent::Progress(p));
                        };
                        if restore {
                            restore_remote(&mut store, &client, &a.name, &mut progress)
                        } else {
                            sync_account(&mut store, &client, &a.name, &settings, &mut progress)
                        }
                    }
                    Err(e) => AccountReport {
                        account: a.name.clone(),
                        unreachable: e.is_unreachable(),
                        error: Some(e.to_string()),
                        ..Default::default()
                    },
                };
                report.photos = photo_thread.map(|t| {
                    Box::new(match t.map(|t| t.join()) {
                        Ok(Ok(r)) => r,
                        _ => PhotoReport {
                            url: folder.cloned().unwrap_or_default(),
                            error: Some("the photo sync thread failed".into()),
                            ..Default::default()
                        },
                    })
                });
                report
            });
            log_report(&report);
            let _ = events.send(SyncEvent::AccountDone(report));
        }
        let _ = events.send(SyncEvent::Finished);
    }
}

/// One line per account and round, plus one per collection problem.
fn log_report(r: &AccountReport) {
    let (pulled, pushed, conflicts): (usize, usize, usize) =
        r.collections.iter().fold((0, 0, 0), |(a, b, c), x| {
            (a + x.pulled, b + x.pushed, c + x.conflicts)
        });
    if let Some(e) = &r.error {
        tracing::error!(account = %r.account, unreachable = r.unreachable, "sync failed: {e}");
    } else {
        tracing::info!(account = %r.account, pulled, pushed, conflicts, "sync finished");
    }
    for c in &r.collections {
        if let Some(g) = &c.guard {
            tracing::warn!(account = %r.account, collection = %c.collection, held_back = g.held_back, "deletion guard: {}", g.reason);
        }
        for e in &c.errors {
            tracing::warn!(account = %r.account, collection = %c.collection, "{e}");
        }
    }
}

/// One account's photo sync (or restore), on its own thread with its own database connection
/// and HTTP client.
fn photo_round(
    data_dir: &Path,
    a: &AccountSetup,
    folder: &str,
    settings: &Settings,
    options: &Options,
    restore: bool,
) -> PhotoReport {
    let failed = |e: String, unreachable: bool| PhotoReport {
        url: folder.to_string(),
        error: Some(e),
        unreachable,
        ..Default::default()
    };
    let mut store = match Store::open(data_dir) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string(), false),
    };
    let client = match Client::new(
        folder,
        a.username.as_deref(),
        a.password.clone(),
        options.clone(),
    ) {
        Ok(c) => c,
        Err(e) => return failed(e.to_string(), e.is_unreachable()),
    };
    if restore {
        restore_photos(&mut store, &client, &a.name, folder)
    } else {
        sync_photos(&mut store, &client, &a.name, folder, settings)
    }
}
