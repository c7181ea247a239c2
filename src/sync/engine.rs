//! The impure half of sync: talks to the server through `dav::Client`, asks `plan` what to do,
//! and records the outcome in the store (DESIGN.md §4–§5, I1–I6).
//!
//! Order per collection: read the server's delta, fetch and apply what changed there (pulls
//! first, so a local edit meets the server's version before it is pushed), then the trash
//! (guarded), then pushes. The sync token is stored only when the whole collection went through,
//! so an interrupted or partly failed sync repeats the same delta next time; repeating is safe
//! because every step compares etags and texts first.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::dav::{
    Client, CollectionKind, DavError, Delta, Fetched, Precondition, RemoteCollection,
};
use super::plan::{plan, resolve, same_meaning, Action, Local, RemoteView, Resolution};
use crate::format::split::resource;
use crate::model::Kind;
use crate::store::{BoundCollection, Store, StoreError, SyncItem, SyncWrite};

/// Sync settings (DESIGN.md §7 `[sync]`), plus the user's answer to the guard.
#[derive(Debug, Clone)]
pub struct Settings {
    pub guard_fraction: f64,
    pub guard_min: u64,
    pub keep_backups: usize,
    pub accept_remote_deletions: bool,
    /// Seconds between looks for collections added on the server; 0 looks at every sync.
    /// In between, a sync asks each known collection for its changes directly (one request
    /// each), which on Radicale costs less than a home listing with change markers.
    pub discover_secs: u64,
}

/// What happened to one collection.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CollectionReport {
    pub collection: String,
    pub href: String,
    pub pulled: usize,
    pub pushed: usize,
    pub deleted_remote: usize,
    pub moved_to_trash: usize,
    pub conflicts: usize,
    pub merged: usize,
    /// Item-level problems and failed requests, each naming the href.
    pub errors: Vec<String>,
    /// Set when the deletion guard held removals back: how many, and why.
    pub guard: Option<Guard>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Guard {
    pub held_back: usize,
    pub synced: usize,
    pub reason: String,
}

/// What happened to one account.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AccountReport {
    pub account: String,
    pub collections: Vec<CollectionReport>,
    /// The account could not be synced at all (unreachable, authentication …).
    pub error: Option<String>,
    pub unreachable: bool,
    pub requests: u64,
    /// Snapshot taken before destructive changes, if any.
    pub snapshot: Option<String>,
    /// The account's photos folder (`photos_url`), synced beside the collections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos: Option<Box<super::photos::PhotoReport>>,
}

impl AccountReport {
    pub fn guard_tripped(&self) -> bool {
        self.collections.iter().any(|c| c.guard.is_some())
            || self.photos.as_ref().is_some_and(|p| p.guard_tripped())
    }

    pub fn item_errors(&self) -> bool {
        self.collections.iter().any(|c| !c.errors.is_empty())
            || self
                .photos
                .as_ref()
                .is_some_and(|p| !p.errors.is_empty() || p.error.is_some())
    }

    /// The CalDAV/CardDAV server or the photos folder could not be reached.
    pub fn any_unreachable(&self) -> bool {
        self.unreachable || self.photos.as_ref().is_some_and(|p| p.unreachable)
    }
}

/// Progress for a bar or the TUI's status line.
#[derive(Debug, Clone)]
pub struct Progress {
    pub account: String,
    pub collection: String,
    pub done: usize,
    pub total: usize,
}

/// Failures that stop a whole account.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Dav(#[from] DavError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Items fetched per multiget and applied per transaction.
const BATCH: usize = 500;

/// Longest time uploads stay unrecorded.
const COMMIT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Syncs every collection of `account`.
pub fn sync_account(
    store: &mut Store,
    client: &Client,
    account: &str,
    settings: &Settings,
    progress: &mut dyn FnMut(Progress),
) -> AccountReport {
    let mut report = AccountReport {
        account: account.to_string(),
        ..Default::default()
    };
    if let Err(e) = run(store, client, account, settings, progress, &mut report) {
        report.unreachable = matches!(&e, SyncError::Dav(d) if d.is_unreachable());
        report.error = Some(e.to_string());
    }
    report.requests = client.requests();
    report
}

fn run(
    store: &mut Store,
    client: &Client,
    account: &str,
    settings: &Settings,
    progress: &mut dyn FnMut(Progress),
    report: &mut AccountReport,
) -> Result<(), SyncError> {
    let remote = list_remote(store, client, account, settings.discover_secs)?;
    let pairs = bind(store, account, &remote)?;
    let mut snapshot = Snapshot::default();
    // Each collection's local items, read once; and which collections need their delta read
    // (the rest are unchanged with nothing to push).
    let mut local = Vec::with_capacity(pairs.len());
    let mut needs = Vec::with_capacity(pairs.len());
    for (bound, r) in &pairs {
        let items = store.sync_items(bound.id)?;
        needs.push(r.as_ref().is_some_and(|r| needs_listing(&items, bound, r)));
        local.push(items);
    }
    // The next collection's delta is read on its own thread while this one is applied: the
    // server's time and ours overlap, with one listing in flight at a time (a server such as
    // Radicale gets slower, not faster, with several heavy requests at once).
    std::thread::scope(|scope| {
        let start = |i: usize| -> Option<Pending<'_>> {
            let (bound, r) = &pairs[i];
            match r {
                // Unchanged there, something to push here: no delta to read.
                Some(r) if needs[i] && unchanged(bound, r) => {
                    Some(Pending::Ready(Ok((Delta::default(), Vec::new()))))
                }
                _ if needs[i] => Some(Pending::Thread(
                    scope.spawn(move || read_listing(client, bound)),
                )),
                _ => None,
            }
        };
        let mut handles: Vec<Option<Pending<'_>>> = (0..pairs.len()).map(|_| None).collect();
        let mut started = vec![false; pairs.len()];
        for i in 0..pairs.len() {
            if !started[i] {
                started[i] = true;
                handles[i] = start(i);
            }
            let (bound, r) = &pairs[i];
            let handle = handles[i].take();
            let mut c = CollectionReport {
                collection: bound.name.clone(),
                href: bound.href.clone(),
                ..Default::default()
            };
            let listing = handle.map(|h| match h {
                Pending::Ready(l) => l,
                Pending::Thread(t) => t.join().unwrap_or_else(|_| {
                    Err(DavError::Protocol {
                        url: bound.href.clone(),
                        reason: "the listing thread failed".into(),
                    })
                }),
            });
            // This collection's delta is in: read the next one's while this one is applied.
            if let Some(next) = (i + 1..pairs.len()).find(|j| needs[*j]) {
                if !started[next] {
                    started[next] = true;
                    handles[next] = start(next);
                }
            }
            let outcome = match r {
                Some(r) => sync_collection(
                    store,
                    client,
                    bound,
                    r.clone(),
                    std::mem::take(&mut local[i]),
                    listing,
                    settings,
                    &mut snapshot,
                    &mut c,
                    progress,
                ),
                None => collection_gone(store, bound, settings, &mut snapshot, &mut c),
            };
            match outcome {
                Ok(()) => {}
                Err(SyncError::Dav(e)) if e.is_unreachable() => {
                    report.collections.push(c);
                    report.snapshot = snapshot.path.clone();
                    return Err(SyncError::Dav(e));
                }
                Err(e) => c.errors.push(e.to_string()),
            }
            report.collections.push(c);
        }
        report.snapshot = snapshot.path.clone();
        Ok(())
    })
}

/// What a collection's server side says: the delta (with bodies, for an initial listing).
type Listing = Result<(Delta, Vec<Fetched>), DavError>;

/// A listing being read on its thread, or already known.
enum Pending<'scope> {
    Ready(Listing),
    Thread(std::thread::ScopedJoinHandle<'scope, Listing>),
}

/// True unless the server's collection is unchanged (same ctag or token) and nothing local
/// waits to go up.
fn needs_listing(items: &[SyncItem], bound: &BoundCollection, r: &RemoteCollection) -> bool {
    let pending = items
        .iter()
        .any(|i| (i.href.is_none() && !i.deleted) || (i.href.is_some() && i.locally_changed()));
    !unchanged(bound, r) || pending
}

/// Between discoveries the collections come without ctag or token, so this is false and
/// each is asked for its delta; a discovery's listing brings ctags (not tokens: cheaper on
/// the server), which spare a collection whose server has no sync-collection a full listing.
fn unchanged(bound: &BoundCollection, r: &RemoteCollection) -> bool {
    (bound.ctag.is_some() && r.ctag == bound.ctag)
        || (bound.sync_token.is_some() && r.sync_token == bound.sync_token)
}

/// Reads the delta since the stored token (all of the collection without one), asking for the
/// changed items' data in the same request: no multigets after it for what the server gave.
fn read_listing(client: &Client, bound: &BoundCollection) -> Listing {
    client.sync_collection_with_data(
        &bound.href,
        bound.sync_token.as_deref(),
        &kind_of(&bound.remote_kind),
    )
}

/// The server's collections. Known ones that have a sync token are asked for their changes
/// directly (one sync-collection each; a collection gone answers 404 and meets the guard), and
/// the home sets are listed only every `discover_secs` (to notice collections added, renamed or
/// recoloured on the server), or when some collection has no token: that listing brings the
/// ctags such a collection is compared by.
fn list_remote(
    store: &mut Store,
    client: &Client,
    account: &str,
    discover_secs: u64,
) -> Result<Vec<RemoteCollection>, SyncError> {
    let homes_key = format!("sync.{account}.homes");
    let when_key = format!("sync.{account}.discovered_at");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let homes: Vec<String> = store
        .meta_value(&homes_key)?
        .and_then(|h| serde_json::from_str(&h).ok())
        .unwrap_or_default();
    if !homes.is_empty() {
        let bound = store.bound_collections(account)?;
        let last = store
            .meta_value(&when_key)?
            .and_then(|t| t.parse::<u64>().ok());
        let recent = discover_secs > 0 && last.is_some_and(|t| t <= now && now - t < discover_secs);
        if recent && !bound.is_empty() && bound.iter().all(|b| b.sync_token.is_some()) {
            return Ok(bound
                .into_iter()
                .map(|b| RemoteCollection {
                    kind: kind_of(&b.remote_kind),
                    href: b.href,
                    displayname: None,
                    color: None,
                    ctag: None,
                    sync_token: None,
                })
                .collect());
        }
        let mut all = Vec::new();
        for home in &homes {
            all.extend(client.collections_in(home)?);
        }
        store.set_meta_value(&when_key, &now.to_string())?;
        return Ok(all);
    }
    let (homes, found) = client.discover_homes()?;
    // A plain collection URL as the account URL has no home to list: discovery (one PROPFIND)
    // runs each time then.
    if !homes.is_empty() {
        store.set_meta_value(
            &homes_key,
            &serde_json::to_string(&homes).unwrap_or_default(),
        )?;
        store.set_meta_value(&when_key, &now.to_string())?;
    }
    Ok(found)
}

fn remote_kind(k: &CollectionKind) -> String {
    match k {
        CollectionKind::Addressbook => "addressbook".into(),
        CollectionKind::Calendar { components } => components.join(","),
    }
}

fn kind_of(remote_kind: &str) -> CollectionKind {
    if remote_kind == "addressbook" {
        CollectionKind::Addressbook
    } else {
        CollectionKind::Calendar {
            components: remote_kind
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }
}

/// Whether an item of `kind` may go to a collection of `remote_kind`.
fn accepts(remote_kind: &str, kind: Kind) -> bool {
    match kind {
        Kind::Contact => remote_kind == "addressbook",
        Kind::Event | Kind::Todo => {
            if remote_kind == "addressbook" {
                return false;
            }
            let want = if kind == Kind::Event {
                "VEVENT"
            } else {
                "VTODO"
            };
            remote_kind.is_empty() || remote_kind.split(',').any(|c| c == want)
        }
        _ => false,
    }
}

/// Pairs each server collection with a local one: the one already bound to it, else a default
/// local collection never bound before (Contacts, Calendar, Tasks: so what the user made before
/// adding the account is uploaded), else a new local collection. Local collections bound to a
/// server collection that is gone are paired with None.
fn bind(
    store: &mut Store,
    account: &str,
    remote: &[RemoteCollection],
) -> Result<Vec<(BoundCollection, Option<RemoteCollection>)>, SyncError> {
    let mut bound = store.bound_collections(account)?;
    let mut pairs = Vec::new();
    let mut free: Vec<(i64, String)> = store.unbound_collections()?;
    for r in remote {
        let rk = remote_kind(&r.kind);
        if let Some(pos) = bound.iter().position(|b| b.href == r.href) {
            pairs.push((bound.remove(pos), Some(r.clone())));
            continue;
        }
        let wanted = match &r.kind {
            CollectionKind::Addressbook => "Contacts",
            CollectionKind::Calendar { components }
                if components.len() == 1 && components[0] == "VTODO" =>
            {
                "Tasks"
            }
            _ => "Calendar",
        };
        let id = match free.iter().position(|(_, n)| n == wanted) {
            Some(pos) => {
                let (id, _) = free.remove(pos);
                store.bind_collection(id, account, &r.href, &rk, r.color.as_deref())?;
                id
            }
            None => {
                let name = r
                    .displayname
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| {
                        r.href
                            .trim_end_matches('/')
                            .rsplit('/')
                            .next()
                            .unwrap_or("Remote")
                            .to_string()
                    });
                store.create_bound_collection(&name, account, &r.href, &rk, r.color.as_deref())?
            }
        };
        let b = store
            .bound_collections(account)?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| StoreError::Invalid(format!("collection {id} vanished")))?;
        pairs.push((b, Some(r.clone())));
    }
    for b in bound {
        pairs.push((b, None));
    }
    Ok(pairs)
}

/// One snapshot per sync, taken before the first change that overwrites or trashes an item.
#[derive(Default)]
struct Snapshot {
    path: Option<String>,
    /// Taken by this sync.
    fresh: bool,
}

/// A snapshot this recent covers changes that only overwrite (the overwritten versions are
/// revisions anyway, I2): a database of 450 MB is not copied for every pulled edit.
const SNAPSHOT_FRESH: std::time::Duration = std::time::Duration::from_secs(3600);

impl Snapshot {
    /// Before trashing: a new snapshot. Before overwriting: one from the last hour will do.
    fn ensure(&mut self, store: &Store, keep: usize) -> Result<(), SyncError> {
        self.take(store, keep, true)
    }

    fn ensure_recent(&mut self, store: &Store, keep: usize) -> Result<(), SyncError> {
        self.take(store, keep, false)
    }

    fn take(&mut self, store: &Store, keep: usize, fresh: bool) -> Result<(), SyncError> {
        if self.fresh || (self.path.is_some() && !fresh) {
            return Ok(());
        }
        if !fresh {
            let recent = store.list_backups()?.into_iter().next().filter(|p| {
                std::fs::metadata(p)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age < SNAPSHOT_FRESH)
            });
            if let Some(p) = recent {
                self.path = Some(p.display().to_string());
                return Ok(());
            }
        }
        let b = store.backup(keep)?;
        self.path = Some(b.path.display().to_string());
        self.fresh = true;
        Ok(())
    }
}

/// The server collection a local one was bound to is gone (404 or no longer listed).
fn collection_gone(
    store: &mut Store,
    bound: &BoundCollection,
    settings: &Settings,
    snapshot: &mut Snapshot,
    c: &mut CollectionReport,
) -> Result<(), SyncError> {
    let items = store.sync_items(bound.id)?;
    let synced: Vec<&SyncItem> = items.iter().filter(|i| i.href.is_some()).collect();
    if synced.is_empty() {
        // Nothing of ours was there: simply local-only from now on.
        store.unbind_collection(bound.id)?;
        return Ok(());
    }
    if !settings.accept_remote_deletions {
        c.guard = Some(Guard {
            held_back: synced.iter().filter(|i| !i.deleted).count(),
            synced: synced.len(),
            reason: format!(
                "the server's collection {} is gone (deleted or no longer listed)",
                bound.href
            ),
        });
        return Ok(());
    }
    snapshot.ensure(store, settings.keep_backups)?;
    let writes: Vec<SyncWrite> = synced
        .iter()
        .map(|i| SyncWrite::Trash { item_id: i.id })
        .collect();
    c.moved_to_trash = synced.iter().filter(|i| !i.deleted).count();
    store.apply_sync(bound.id, writes, None)?;
    store.unbind_collection(bound.id)?;
    Ok(())
}

/// An href for a new item: the UID when it is safe in a URL, else a hash of it; the same UID
/// always gives the same href, so an upload repeated after a crash meets its own first copy.
fn new_href(collection: &str, uid: &str, kind: Kind) -> String {
    let safe = !uid.is_empty()
        && uid.len() <= 120
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
        && !uid.starts_with('.');
    let stem = if safe {
        uid.to_string()
    } else {
        Sha256::digest(uid.as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let ext = if kind == Kind::Contact { "vcf" } else { "ics" };
    format!("{}{stem}.{ext}", collection)
}

fn content_type(kind: Kind) -> &'static str {
    if kind == Kind::Contact {
        "text/vcard; charset=utf-8"
    } else {
        "text/calendar; charset=utf-8"
    }
}

/// A write the server must get, once the local side is recorded.
struct Upload {
    item: i64,
    href: String,
    pre: Precondition,
}

#[allow(clippy::too_many_arguments)]
fn sync_collection(
    store: &mut Store,
    client: &Client,
    bound: &BoundCollection,
    r: RemoteCollection,
    items: Vec<SyncItem>,
    listing: Option<Listing>,
    settings: &Settings,
    snapshot: &mut Snapshot,
    c: &mut CollectionReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), SyncError> {
    let Some(listed) = listing else {
        // Unchanged on the server, nothing to push.
        return Ok(());
    };
    let unchanged = unchanged(bound, &r);
    // The server's side.
    let mut prefetched: HashMap<String, Fetched> = HashMap::new();
    let (view, token) = if unchanged {
        (
            RemoteView::Delta {
                changed: Vec::new(),
                removed: Vec::new(),
            },
            bound.sync_token.clone(),
        )
    } else {
        let listed = listed.map(|(d, bodies)| {
            prefetched = bodies.into_iter().map(|f| (f.href.clone(), f)).collect();
            d
        });
        match listed {
            Ok(d) if bound.sync_token.is_some() => (
                RemoteView::Delta {
                    changed: d.changed.into_iter().map(|m| (m.href, m.etag)).collect(),
                    removed: d.removed,
                },
                Some(d.token),
            ),
            Ok(d) => (
                RemoteView::Full(d.changed.into_iter().map(|m| (m.href, m.etag)).collect()),
                Some(d.token),
            ),
            Err(DavError::TokenRejected { .. }) => {
                let members = client.list(&r.href)?;
                (
                    RemoteView::Full(members.into_iter().map(|m| (m.href, m.etag)).collect()),
                    None,
                )
            }
            Err(DavError::NotFound { .. }) => {
                return collection_gone(store, bound, settings, snapshot, c);
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut p = plan(&items, &view);
    let mut complete = true;
    if p.guard_trips(settings.guard_fraction, settings.guard_min)
        && !settings.accept_remote_deletions
    {
        let held = p.trashes();
        p.actions.retain(|a| !matches!(a, Action::Trash { .. }));
        c.guard = Some(Guard {
            held_back: held,
            synced: p.synced,
            reason: if p.emptied {
                format!("the server's collection {} is empty", r.href)
            } else {
                format!(
                    "the server removed {held} of {} synced items (more than {:.0}%)",
                    p.synced,
                    settings.guard_fraction * 100.0
                )
            },
        });
        complete = false;
    }
    let by_id: HashMap<i64, &SyncItem> = items.iter().map(|i| (i.id, i)).collect();
    let by_uid: HashMap<&str, &SyncItem> = items
        .iter()
        .filter(|i| i.href.is_none())
        .map(|i| (i.uid.as_str(), i))
        .collect();
    let rk = bound.remote_kind.as_str();
    let mut uploads: Vec<Upload> = Vec::new();
    // New local items, uploaded after the pulls: one that meets a server item with its UID on
    // the way is bound to it there instead.
    let mut creates: Vec<Upload> = Vec::new();
    let mut met: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut deletes: Vec<(i64, String, Option<String>)> = Vec::new();
    let mut forget: Vec<SyncWrite> = Vec::new();
    let mut trash: Vec<SyncWrite> = Vec::new();
    let mut fetch: Vec<(String, String, Option<i64>)> = Vec::new();
    for a in p.actions {
        match a {
            Action::Fetch { href, etag, item } => fetch.push((href, etag, item)),
            Action::Push { item, href, etag } => uploads.push(Upload {
                item,
                href,
                pre: etag.map_or(Precondition::Create, Precondition::Match),
            }),
            Action::Create { item } => {
                let Some(i) = by_id.get(&item) else { continue };
                if !accepts(rk, i.kind) {
                    c.errors.push(format!(
                        "{}: a {} cannot go to {} (the server collection takes {}); move it to \
                         another collection",
                        i.uid,
                        i.kind.as_str(),
                        r.href,
                        if rk.is_empty() { "anything" } else { rk }
                    ));
                    continue;
                }
                creates.push(Upload {
                    item,
                    href: new_href(&r.href, &i.uid, i.kind),
                    pre: Precondition::Create,
                });
            }
            Action::Recreate { item, href } => uploads.push(Upload {
                item,
                href,
                pre: Precondition::Create,
            }),
            Action::Delete { item, href, etag } => deletes.push((item, href, etag)),
            Action::Trash { item } => trash.push(SyncWrite::Trash { item_id: item }),
            Action::Forget { item } => forget.push(SyncWrite::Forget { item_id: item }),
        }
    }
    let total = fetch.len() + uploads.len() + creates.len() + deletes.len() + trash.len();
    let mut done = 0;
    let mut tick = |done: usize| {
        progress(Progress {
            account: bound.account.clone(),
            collection: bound.name.clone(),
            done,
            total,
        })
    };
    tick(0);
    // 1. Pull what changed on the server.
    let ck = kind_of(rk);
    for chunk in fetch.chunks(BATCH) {
        let mut got = super::dav::Multiget::default();
        let hrefs: Vec<String> = chunk
            .iter()
            .filter_map(|(h, _, _)| match prefetched.remove(h) {
                Some(f) => {
                    got.found.push(f);
                    None
                }
                None => Some(h.clone()),
            })
            .collect();
        if !hrefs.is_empty() {
            let more = client.multiget(&r.href, &ck, &hrefs)?;
            got.found.extend(more.found);
            got.missing.extend(more.missing);
        }
        for (h, status) in &got.missing {
            c.errors.push(format!(
                "{h}: listed by the server but not given back (HTTP {status}); tried again next sync"
            ));
            complete = false;
        }
        let wanted: HashMap<&str, &(String, String, Option<i64>)> =
            chunk.iter().map(|f| (f.0.as_str(), f)).collect();
        let mut writes: Vec<SyncWrite> = Vec::new();
        let mut hrefs_of: Vec<String> = Vec::new();
        for f in got.found {
            let Some((_, listed_etag, bound_item)) = wanted.get(f.href.as_str()).copied() else {
                continue;
            };
            let etag = f.etag.clone().or_else(|| Some(listed_etag.clone()));
            let raw_item = resource(&f.body);
            let local_item = bound_item
                .and_then(|id| by_id.get(&id).copied())
                .or_else(|| by_uid.get(raw_item.uid.as_str()).copied());
            let (raw, base) = match local_item {
                Some(i) => {
                    let raw = store.item_raw(i.id)?;
                    let base = match store.sync_base(i.id)? {
                        Some(b) => Some(b),
                        None if raw != f.body => lost_base(store, i.id, &f.body)?,
                        None => None,
                    };
                    (raw, base)
                }
                None => (Vec::new(), None),
            };
            let res = resolve(
                local_item.map(|item| Local {
                    item,
                    raw: &raw,
                    base: base.as_deref(),
                }),
                &f.body,
            );
            let id = local_item.map(|i| i.id);
            met.extend(id);
            match res {
                Resolution::Pull { undelete, conflict } => {
                    if id.is_some() {
                        snapshot.ensure_recent(store, settings.keep_backups)?;
                    }
                    if conflict {
                        c.conflicts += 1;
                    }
                    c.pulled += 1;
                    writes.push(SyncWrite::Pull {
                        item_id: id,
                        href: f.href.clone(),
                        etag,
                        item: raw_item,
                        undelete,
                        conflict,
                    });
                    hrefs_of.push(f.href.clone());
                }
                Resolution::Confirm => {
                    if let Some(i) = local_item {
                        writes.push(confirm(i, &f.href, etag, f.body.clone()));
                        hrefs_of.push(f.href.clone());
                    }
                }
                Resolution::Push => {
                    if let Some(i) = local_item {
                        uploads.push(Upload {
                            item: i.id,
                            href: f.href.clone(),
                            pre: etag.map_or(Precondition::Create, Precondition::Match),
                        });
                    }
                }
                Resolution::Delete => {
                    if let Some(i) = local_item {
                        deletes.push((i.id, f.href.clone(), etag));
                    }
                }
                Resolution::Merge(m) => {
                    if let Some(i) = local_item {
                        c.merged += 1;
                        snapshot.ensure_recent(store, settings.keep_backups)?;
                        writes.push(SyncWrite::Merge {
                            item_id: i.id,
                            raw: m,
                        });
                        hrefs_of.push(f.href.clone());
                        uploads.push(Upload {
                            item: i.id,
                            href: f.href.clone(),
                            pre: etag.map_or(Precondition::Create, Precondition::Match),
                        });
                    }
                }
                Resolution::Conflict { properties } => {
                    if let Some(i) = local_item {
                        c.conflicts += 1;
                        c.errors.push(format!(
                            "{}: changed here and on the server ({}); kept ours on the server, \
                             theirs as a revision. Review with `holdfast history {}`; `edit` or \
                             `revert` clears the flag",
                            f.href,
                            properties.join(", "),
                            i.uid
                        ));
                        snapshot.ensure(store, settings.keep_backups)?;
                        writes.push(SyncWrite::Conflict {
                            item_id: i.id,
                            remote: f.body.clone(),
                        });
                        hrefs_of.push(f.href.clone());
                        uploads.push(Upload {
                            item: i.id,
                            href: f.href.clone(),
                            pre: etag.map_or(Precondition::Create, Precondition::Match),
                        });
                    }
                }
            }
        }
        let applied = store.apply_sync(bound.id, writes, None)?;
        for ((href, ps), photos) in hrefs_of
            .iter()
            .zip(applied.problems)
            .zip(applied.photo_problems)
        {
            for pr in ps {
                c.errors.push(format!(
                    "{href}: line {}: {} (stored verbatim and flagged)",
                    pr.line, pr.reason
                ));
            }
            // The card itself is fine and stored unflagged; only its photo is missing from
            // the photo store, so the user hears of it here or nowhere.
            for (uid, pr) in photos {
                c.errors.push(format!(
                    "{href}: line {}: contact {uid}: {} (the card is stored as it came; its \
                     photo is not in the photo store)",
                    pr.line, pr.reason
                ));
            }
        }
        done += chunk.len();
        tick(done);
    }
    // 2. The trash, unless the guard held it.
    if !trash.is_empty() {
        snapshot.ensure(store, settings.keep_backups)?;
        c.moved_to_trash = trash.len();
        done += trash.len();
        store.apply_sync(bound.id, trash, None)?;
        tick(done);
    }
    if !forget.is_empty() {
        store.apply_sync(bound.id, forget, None)?;
    }
    uploads.extend(creates.into_iter().filter(|u| !met.contains(&u.item)));
    // 3. Push: uploads, then deletions. The server's answer is recorded in batches; an upload
    // done but not recorded (a crash) is recognised next time by its text.
    let mut confirms: Vec<SyncWrite> = Vec::new();
    // What we wrote: href -> the etag the server gave (None for a DELETE).
    let mut written: HashMap<String, Option<String>> = HashMap::new();
    let fresh: HashMap<i64, SyncItem> = if uploads.is_empty() {
        HashMap::new()
    } else {
        // Revs after the merges and conflicts just recorded.
        store
            .sync_items(bound.id)?
            .into_iter()
            .map(|i| (i.id, i))
            .collect()
    };
    let mut last_commit = std::time::Instant::now();
    for u in uploads {
        let Some(i) = fresh.get(&u.item) else {
            continue;
        };
        let raw = store.item_raw(i.id)?;
        match client.put(&u.href, &raw, content_type(i.kind), &u.pre) {
            Ok(etag) => {
                c.pushed += 1;
                written.insert(u.href.clone(), etag.clone());
                confirms.push(confirm(i, &u.href, etag, raw));
            }
            Err(DavError::PreconditionFailed { .. }) if u.pre == Precondition::Create => {
                // Already there. The same item in the server's spelling: our own earlier
                // upload whose record a crash lost; it only needs recording. Anything else is
                // fetched and merged by the next sync.
                match same_on_server(client, &u.href, i, &raw) {
                    Some(f) => confirms.push(confirm(i, &u.href, f.etag, f.body)),
                    None => {
                        c.errors.push(format!(
                            "{}: already exists on the server with other content; it will be \
                             merged on the next sync",
                            u.href
                        ));
                        complete = false;
                    }
                }
            }
            Err(DavError::PreconditionFailed { .. }) => {
                // Someone changed it meanwhile: never overwrite blindly (I5). The next sync
                // fetches their version and merges.
                c.errors.push(format!(
                    "{}: changed on the server during this sync; it will be merged on the next sync",
                    u.href
                ));
                complete = false;
            }
            Err(e) if e.is_unreachable() => {
                store.apply_sync(bound.id, std::mem::take(&mut confirms), None)?;
                return Err(e.into());
            }
            Err(e) => {
                c.errors.push(e.to_string());
                complete = false;
            }
        }
        done += 1;
        tick(done);
        // Recorded often, so a kill loses little: an upload done but not recorded is found
        // again by its UID on the next sync, which costs a fetch.
        if confirms.len() >= BATCH || last_commit.elapsed() > COMMIT_EVERY {
            store.apply_sync(bound.id, std::mem::take(&mut confirms), None)?;
            last_commit = std::time::Instant::now();
        }
    }
    for (item, href, etag) in deletes {
        let result = match &etag {
            Some(e) => client.delete(&href, e),
            None => client.delete(&href, "*"),
        };
        match result {
            Ok(()) => {
                c.deleted_remote += 1;
                written.insert(href.clone(), None);
                confirms.push(SyncWrite::Forget { item_id: item });
            }
            Err(DavError::PreconditionFailed { .. }) => {
                c.errors.push(format!(
                    "{href}: changed on the server since it was deleted here; it will come back \
                     flagged on the next sync"
                ));
                complete = false;
            }
            Err(e) if e.is_unreachable() => {
                store.apply_sync(bound.id, std::mem::take(&mut confirms), None)?;
                return Err(e.into());
            }
            Err(e) => {
                c.errors.push(e.to_string());
                complete = false;
            }
        }
        done += 1;
    }
    // 4. The token, with the last confirmations, only when the whole delta went through. After
    // our own writes the token read before them is stale: a second sync-collection from it
    // should show exactly our writes; then its token is current. Anything else (someone wrote
    // meanwhile, or the server omits members created and deleted since a token, as Xandikos
    // does) clears the token, so the next sync lists the collection in full.
    let wrote = c.pushed > 0 || c.deleted_remote > 0;
    let token_update = if !complete {
        None
    } else if !wrote {
        Some((token, r.ctag.clone()))
    } else {
        let after = match token.as_deref() {
            Some(t) => client.sync_collection(&r.href, Some(t)).ok(),
            None => None,
        };
        let ours = after.as_ref().is_some_and(|d| {
            d.changed
                .iter()
                .all(|m| !m.etag.is_empty() && written.get(&m.href) == Some(&Some(m.etag.clone())))
                && d.removed.iter().all(|h| written.get(h) == Some(&None))
        });
        match after {
            Some(d) if ours => Some((Some(d.token), None)),
            _ => Some((None, None)),
        }
    };
    store.apply_sync(bound.id, confirms, token_update)?;
    tick(done);
    Ok(())
}

/// For an item never confirmed on the server that the server holds anyway: when the server's
/// text is one of the item's earlier versions (our upload whose record a crash lost, then an
/// edit here), that version is the base, so the edit is pushed rather than flagged.
fn lost_base(store: &Store, item_id: i64, remote: &[u8]) -> Result<Option<Vec<u8>>, SyncError> {
    Ok(store
        .earlier_texts(item_id)?
        .into_iter()
        .find(|old| old.as_slice() == remote || same_meaning(old, remote)))
}

/// The record that the server holds the item's current rev as `base` under `href`.
fn confirm(i: &SyncItem, href: &str, etag: Option<String>, base: Vec<u8>) -> SyncWrite {
    SyncWrite::Confirm {
        item_id: i.id,
        href: href.to_string(),
        etag,
        rev: i.rev,
        base,
    }
}

/// After a create met an existing resource: the server's copy when it is the same item.
fn same_on_server(client: &Client, href: &str, item: &SyncItem, raw: &[u8]) -> Option<Fetched> {
    let f = client.get(href).ok()?;
    let local = Local {
        item,
        raw,
        base: None,
    };
    (resolve(Some(local), &f.body) == Resolution::Confirm).then_some(f)
}

/// `holdfast restore-remote`: puts every live local item the server lacks back on it,
/// re-creating collections that are gone. Unedited items go up byte-identical (I7).
pub fn restore_remote(
    store: &mut Store,
    client: &Client,
    account: &str,
    progress: &mut dyn FnMut(Progress),
) -> AccountReport {
    let mut report = AccountReport {
        account: account.to_string(),
        ..Default::default()
    };
    let result = (|| -> Result<(), SyncError> {
        for bound in store.bound_collections(account)? {
            let mut c = CollectionReport {
                collection: bound.name.clone(),
                href: bound.href.clone(),
                ..Default::default()
            };
            let kind = kind_of(&bound.remote_kind);
            let members = match client.list(&bound.href) {
                Ok(m) => m,
                Err(DavError::NotFound { .. }) => {
                    client.create_collection(&bound.href, &kind, &bound.name)?;
                    Vec::new()
                }
                Err(e) => return Err(e.into()),
            };
            let on_server: HashMap<&str, &str> = members
                .iter()
                .map(|m| (m.href.as_str(), m.etag.as_str()))
                .collect();
            let items = store.sync_items(bound.id)?;
            let live: Vec<&SyncItem> = items.iter().filter(|i| !i.deleted).collect();
            let mut confirms = Vec::new();
            for (n, i) in live.iter().enumerate() {
                let href = i
                    .href
                    .clone()
                    .unwrap_or_else(|| new_href(&bound.href, &i.uid, i.kind));
                if on_server.contains_key(href.as_str()) {
                    continue;
                }
                if !accepts(&bound.remote_kind, i.kind) {
                    continue;
                }
                let raw = store.item_raw(i.id)?;
                match client.put(&href, &raw, content_type(i.kind), &Precondition::Create) {
                    Ok(etag) => {
                        c.pushed += 1;
                        confirms.push(confirm(i, &href, etag, raw));
                    }
                    Err(e) if e.is_unreachable() => {
                        store.apply_sync(bound.id, confirms, None)?;
                        return Err(e.into());
                    }
                    Err(e) => c.errors.push(e.to_string()),
                }
                if confirms.len() >= BATCH {
                    store.apply_sync(bound.id, std::mem::take(&mut confirms), None)?;
                }
                progress(Progress {
                    account: account.to_string(),
                    collection: bound.name.clone(),
                    done: n + 1,
                    total: live.len(),
                });
            }
            store.apply_sync(bound.id, confirms, None)?;
            // Next sync lists in full: the server changed under its old token.
            store.reset_sync_token(bound.id)?;
            report.collections.push(c);
        }
        Ok(())
    })();
    if let Err(e) = result {
        report.unreachable = matches!(&e, SyncError::Dav(d) if d.is_unreachable());
        report.error = Some(e.to_string());
    }
    report.requests = client.requests();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_for_new_items_are_stable_and_safe() {
        assert_eq!(
            new_href("/u/c/", "abc-1@x.org", Kind::Contact),
            "/u/c/abc-1@x.org.vcf"
        );
        let odd = new_href("/u/c/", "a/b c?é", Kind::Event);
        assert!(odd.starts_with("/u/c/") && odd.ends_with(".ics"));
        assert!(!odd["/u/c/".len()..].contains(['/', ' ', '?']));
        assert_eq!(odd, new_href("/u/c/", "a/b c?é", Kind::Event));
    }

    #[test]
    fn kinds_go_where_they_are_accepted() {
        assert!(accepts("addressbook", Kind::Contact));
        assert!(!accepts("VEVENT", Kind::Contact));
        assert!(accepts("VEVENT", Kind::Event));
        assert!(!accepts("VTODO", Kind::Event));
        assert!(accepts("VEVENT,VTODO", Kind::Todo));
        assert!(accepts("", Kind::Todo));
    }
}
