//! The terminal UI (DESIGN.md §2): ratatui + crossterm.
//!
//! One thread owns the terminal and runs one loop over messages: keys, mouse, resize, clock
//! ticks and `SyncEvent`s, each from its own feeder thread into one channel. The loop hands each
//! message to `App::update` (no I/O), carries out the `Effect`s it returns against the store or
//! the sync worker, and redraws. It redraws only when a message came, so an idle UI costs no
//! CPU, and it never waits on the network: sync runs on the worker (I8).

pub mod app;
mod calendar_view;
mod effects;
pub mod form;
pub mod keymap;
pub mod link;
mod mouse;
mod panel_views;
pub mod panels;
pub mod photos;
pub mod preview;
pub mod search;
pub mod theme;
pub mod views;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use chrono::{Local, NaiveDate, TimeZone, Timelike, Utc};
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;

use self::app::{App, CalMode, Day, Effect, Entry, Loaded, Msg, TodoFilter, View};
use self::keymap::Keymap;
use self::theme::Theme;
use crate::config::Config;
use crate::format::{input, write};
use crate::model::Kind;
use crate::store::{Filter, Store};
use crate::sync::dav::Options;
use crate::sync::engine::Settings;
use crate::sync::worker::{AccountSetup, SyncEvent, SyncHandle};

/// What `holdfast` with no command needs.
pub struct Launch {
    pub data_dir: PathBuf,
    pub config: Config,
    /// Draw one complete frame and exit (for measuring start-up).
    pub exit_after_first_frame: bool,
}

/// Entries kept per day for the grids (the count covers the rest).
const PER_DAY: usize = 12;

/// Birthdays shown per day at most.
const BIRTHDAYS_PER_DAY: usize = 5;

/// Rows read per day at most; a fuller day shows "99+".
const COUNT_CAP: usize = 100;

/// Opens the UI; returns when the user quits.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    let mut store = Store::open(&launch.data_dir)?;
    // From here on nothing may write to the terminal but the UI: events go to the log file.
    crate::logging::init(&launch.data_dir);
    tracing::info!(data_dir = %launch.data_dir.display(), "ui started");
    store.interactive_mode()?;
    // Past the stored horizon the UI draws what is stored and extends on another thread.
    store.defer_extension(true);
    let keymap = Keymap::new(&launch.config.keys)
        .map_err(|e| anyhow::anyhow!("{}: {e}", launch.config.path.display()))?;
    let view = store
        .meta_value("tui.last_view")?
        .and_then(|v| View::from_name(&v))
        .unwrap_or(View::Contacts);
    let today = Local::now().date_naive();
    let accounts: Vec<String> = launch
        .config
        .accounts
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let mut app = App::new(keymap, view, today, Utc::now().timestamp(), &accounts);
    app.interval_secs = launch.config.sync.interval_secs;
    app.zone = input::local_zone_name();
    let theme = Theme::from_env();

    // Passwords are resolved before the terminal is taken over: a password_command may prompt.
    let mut setups = Vec::new();
    for a in &launch.config.accounts {
        setups.push(AccountSetup {
            name: a.name.clone(),
            url: a.url.clone(),
            username: a.username.clone(),
            password: a.password_value()?,
        });
    }
    let (tx, rx) = channel::<Msg>();
    let sync = if setups.is_empty() {
        None
    } else {
        let s = &launch.config.sync;
        // Each account's photos folder is synced beside its collections (own thread, own
        // timeouts): a dead photos server shows in the status bar and holds nothing else up.
        let photos: HashMap<String, String> = launch
            .config
            .accounts
            .iter()
            .filter_map(|a| a.photos_url.clone().map(|u| (a.name.clone(), u)))
            .collect();
        let handle = SyncHandle::spawn_with_photos(
            launch.data_dir.clone(),
            setups,
            photos,
            Settings {
                guard_fraction: s.guard_fraction,
                guard_min: s.guard_min,
                keep_backups: s.keep_backups,
                accept_remote_deletions: false,
                discover_secs: s.discover_secs,
            },
            Options {
                timeout: Duration::from_secs(s.timeout_secs),
                ..Options::default()
            },
            Some(Duration::from_secs(s.interval_secs.max(10))),
        );
        if !launch.exit_after_first_frame {
            handle.sync_now_discovering();
        }
        Some(handle)
    };

    let mut terminal = ratatui::try_init()?;
    // Which graphics the terminal speaks: asked now, before the key thread reads stdin.
    let picker = if launch.exit_after_first_frame {
        None
    } else {
        preview::picker_from_env(true)
    };
    if picker.is_none() && !launch.exit_after_first_frame {
        app.preview_off = Some("(previews off: NO_COLOR or HOLDFAST_PREVIEW=off; o opens)".into());
    }
    let previewer = picker.map(|p| preview::Previewer::start(p, tx.clone()));
    let blobs = crate::store::Blobs::new(&launch.data_dir);
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    let result = (|| -> anyhow::Result<()> {
        let size = terminal.size()?;
        app.resize(size.width, size.height);
        for e in app.start() {
            run_effect(&mut store, &mut app, sync.as_ref(), e)?;
        }
        terminal.draw(|f| views::draw(f, &app, &theme))?;
        if launch.exit_after_first_frame {
            return Ok(());
        }
        spawn_feeders(tx.clone());
        let mut extending = false;
        // The preview last asked for (the thread answers each once).
        let mut asked: Option<(String, (u16, u16))> = None;
        if let (Some(p), Some((sha, cells))) = (&previewer, app.preview_wanted()) {
            p.request(&sha, blobs.path(&sha), cells);
            asked = Some((sha, cells));
        }
        if extend_horizon(&mut store, &mut app, &tx, &mut extending) {
            terminal.draw(|f| views::draw(f, &app, &theme))?;
        }
        // Sync events are read here, between messages: the worker never blocks on us.
        while let Some(msg) = next_message(&rx, sync.as_ref()) {
            let mut queue = vec![msg];
            // Whatever else arrived meanwhile (fast typing): handled before one redraw.
            while let Ok(m) = rx.try_recv() {
                queue.push(m);
            }
            for m in queue {
                if matches!(m, Msg::Loaded(Loaded::Preview(_))) {
                    // Answered: the same photo may be asked for again (a file that arrived).
                    asked = None;
                }
                if matches!(m, Msg::HorizonExtended) {
                    extending = false;
                    if app.message.as_deref() == Some(EXTENDING) {
                        app.message = None;
                    }
                }
                let effects = app.update(m);
                for e in effects {
                    if let Effect::Edit { id } = e {
                        edit_external(&mut terminal, &mut store, &mut app, id)?;
                        continue;
                    }
                    if let Effect::SetCardPhoto { contact, photo } = e {
                        // Decoding a photo of many megapixels takes a while: on a thread of
                        // its own, with its own connection, so keys are never held up (I8).
                        app.message = Some("making the card's thumbnail…".into());
                        let (dir, tx) = (store.data_dir().to_path_buf(), tx.clone());
                        std::thread::spawn(move || {
                            let done = Store::open(&dir)
                                .map_err(anyhow::Error::from)
                                .and_then(|mut s| link::card_photo(&mut s, contact, &photo))
                                .unwrap_or_else(|e| Loaded::Failed(format!("{e:#}")));
                            let _ = tx.send(Msg::Loaded(done));
                        });
                        continue;
                    }
                    run_effect(&mut store, &mut app, sync.as_ref(), e)?;
                }
            }
            if app.quit {
                break;
            }
            if let (Some(p), Some((sha, cells))) = (&previewer, app.preview_wanted()) {
                if asked.as_ref() != Some(&(sha.clone(), cells)) {
                    p.request(&sha, blobs.path(&sha), cells);
                    asked = Some((sha, cells));
                }
            }
            extend_horizon(&mut store, &mut app, &tx, &mut extending);
            terminal.draw(|f| views::draw(f, &app, &theme))?;
        }
        Ok(())
    })();
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    match &result {
        Ok(()) => tracing::info!("ui stopped"),
        Err(e) => tracing::error!("ui stopped: {e:#}"),
    }
    if let Some(h) = sync {
        // Quitting never waits for the network: the worker thread is left to the OS if it is
        // inside a request (its own connection and transaction keep the database consistent).
        drop(h);
    }
    result
}

/// The message line while the occurrence horizon is extended.
const EXTENDING: &str = "reading repeating events further ahead…";

/// Extends the occurrence horizon on a thread of its own (its own connection) when a read
/// went past it: the screen meanwhile shows what is stored, and `Msg::HorizonExtended` reads
/// it again. One extension at a time; a read past the horizon during it asks again after.
/// True when the message line changed.
fn extend_horizon(
    store: &mut Store,
    app: &mut App,
    tx: &Sender<Msg>,
    extending: &mut bool,
) -> bool {
    if *extending {
        return false;
    }
    let Some((from, to)) = store.take_deferred_extension() else {
        return false;
    };
    *extending = true;
    let dir = store.data_dir().to_path_buf();
    let tx = tx.clone();
    std::thread::spawn(move || {
        match Store::open(&dir).and_then(|mut s| s.ensure_coverage(from, to)) {
            Ok(_) => {
                let _ = tx.send(Msg::HorizonExtended);
            }
            Err(e) => {
                let _ = tx.send(Msg::Loaded(Loaded::Failed(format!(
                    "repeating events past the stored range could not be stored: {e}"
                ))));
            }
        }
    });
    if app.message.is_none() {
        app.message = Some(EXTENDING.into());
        return true;
    }
    false
}

/// Keys, mouse and resizes from one thread; the clock from another.
fn spawn_feeders(tx: Sender<Msg>) {
    let keys = tx.clone();
    std::thread::spawn(move || loop {
        let msg = match event::read() {
            Ok(Event::Key(k)) => Msg::Key(k),
            Ok(Event::Mouse(m)) => Msg::Mouse(m),
            Ok(Event::Resize(width, height)) => Msg::Resize { width, height },
            Ok(_) => continue,
            Err(_) => return,
        };
        if keys.send(msg).is_err() {
            return;
        }
    });
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(20));
        if tx.send(Msg::Tick(Utc::now().timestamp())).is_err() {
            return;
        }
    });
}

/// The next message: input first; sync events are polled so the loop wakes for them too.
fn next_message(rx: &Receiver<Msg>, sync: Option<&SyncHandle>) -> Option<Msg> {
    loop {
        if let Some(h) = sync {
            if let Ok(ev) = h.events().try_recv() {
                return Some(sync_msg(ev));
            }
            match rx.recv_timeout(Duration::from_millis(250)) {
                Ok(m) => return Some(m),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(_) => return None,
            }
        }
        return rx.recv().ok();
    }
}

fn sync_msg(ev: SyncEvent) -> Msg {
    let now = Utc::now().timestamp();
    match ev {
        SyncEvent::Started { account } => Msg::SyncStarted { account },
        SyncEvent::Progress(p) => Msg::SyncProgress {
            account: p.account,
            done: p.done,
            total: p.total,
        },
        SyncEvent::AccountDone(report) => Msg::SyncDone { report, now },
        SyncEvent::Finished => Msg::Tick(now),
        SyncEvent::Failed(e) => Msg::Loaded(Loaded::Failed(format!("sync: {e}"))),
    }
}

/// Local midnight of `d` as UTC seconds.
fn local_midnight(d: NaiveDate) -> i64 {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp())
        .unwrap_or_else(|| naive.and_utc().timestamp())
}

fn hhmm(ts: i64) -> String {
    match Local.timestamp_opt(ts, 0).single() {
        Some(t) => format!("{:02}:{:02}", t.hour(), t.minute()),
        None => String::new(),
    }
}

/// Loads what the app shows first (what `run` does before the first frame); for tests and
/// benchmarks that render without a terminal.
pub fn prime(store: &mut Store, app: &mut App) -> anyhow::Result<()> {
    for e in app.start() {
        run_effect(store, app, None, e)?;
    }
    Ok(())
}

/// What the message line says when a load failed. While another process imports a big file
/// into a store that was empty, the list indexes are being rebuilt (`defer_list_indexes`) and
/// reads that name them fail for that while: that is said as what it is.
fn failure_text(store: &Store, err: &anyhow::Error) -> String {
    if store.indexes_deferred().unwrap_or(false) {
        "an import is under way; the lists fill in when it has built its indexes \
         (switch views to look again)"
            .to_string()
    } else {
        err.to_string()
    }
}

/// Carries out one effect and feeds its result back into the app (no terminal needed, except
/// for `Effect::Edit`, which only `run` handles).
pub fn run_effect(
    store: &mut Store,
    app: &mut App,
    sync: Option<&SyncHandle>,
    e: Effect,
) -> anyhow::Result<()> {
    let what = format!("{e:?}");
    let loaded = match load(store, app, sync, e) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(()),
        Err(err) => {
            tracing::warn!(effect = %effect_name(&what), "failed: {err:#}");
            Loaded::Failed(failure_text(store, &err))
        }
    };
    let follow = app.update(Msg::Loaded(loaded));
    for f in follow {
        // Follow-ups are loads; one level is enough (loads return no effects but details).
        let what = format!("{f:?}");
        let loaded = match load(store, app, sync, f) {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(err) => {
                tracing::warn!(effect = %effect_name(&what), "failed: {err:#}");
                Loaded::Failed(failure_text(store, &err))
            }
        };
        for g in app.update(Msg::Loaded(loaded)) {
            if let Ok(Some(l)) = load(store, app, sync, g) {
                app.update(Msg::Loaded(l));
            }
        }
    }
    Ok(())
}

/// An effect's name for the log (its variant, without the values it carries: a search query
/// or form text is the user's data).
fn effect_name(debug: &str) -> &str {
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or(debug)
}

fn load(
    store: &mut Store,
    app: &App,
    sync: Option<&SyncHandle>,
    e: Effect,
) -> anyhow::Result<Option<Loaded>> {
    let h = app.list_height;
    if let Some(r) = effects::load(store, app, &e) {
        return r.map(Some);
    }
    if let Some(r) = link::load(store, &e) {
        return r.map(Some);
    }
    Ok(Some(match e {
        Effect::LoadContacts => {
            let f = Filter {
                kind: Some(Kind::Contact),
                query: Some(app.contacts.query.clone()).filter(|q| !q.is_empty()),
                ..Filter::default()
            };
            let (total, more) = list_count(store, &f, &app.contacts, h)?;
            Loaded::Contacts {
                rows: store.page_shaped(&f, app.contacts.offset, h, more)?,
                total,
                more,
            }
        }
        Effect::LoadPhotos => {
            let f = Filter {
                kind: Some(Kind::Photo),
                query: Some(app.photos.query.clone()).filter(|q| !q.is_empty()),
                ..Filter::default()
            };
            // Counted only a good way past the screen, as contacts are.
            let (total, more) = list_count(store, &f, &app.photos, h)?;
            let rows = store.page_shaped(&f, app.photos.offset, h, more)?;
            let uids: Vec<String> = rows
                .iter()
                .filter_map(|i| crate::store::StoredPhoto::from_item(i.clone()))
                .flat_map(|p| p.photo.links)
                .collect();
            Loaded::Photos {
                names: store.titles_of(&uids)?,
                rows,
                total,
                more,
            }
        }
        Effect::OpenPhoto { sha256 } => open_photo(store, &sha256),
        Effect::LoadTodos => {
            // Subtasks right under their parent, paged from SQL like every list.
            let f = todo_filter(app);
            // Counted only a good way past the screen (100,000 open to-dos are not counted
            // for every frame); the count grows as the list is paged down.
            let (total, more) = list_count(store, &f, &app.todos, h)?;
            Loaded::TodoTree {
                rows: store.todo_tree_page(&f, app.todos.offset, h)?,
                total,
                more,
            }
        }
        Effect::LoadCalendar => Loaded::Calendar {
            days: calendar_days(store, app)?,
        },
        Effect::LoadDetail { uid } => Loaded::Detail(store.find(&uid, None).ok()),
        Effect::LoadStatus => Loaded::Status {
            pending: store.pending_changes()?,
            flagged: store.flagged_count()?,
        },
        Effect::LoadTrash => Loaded::Items {
            trash: true,
            items: store.page(
                &Filter {
                    trash: true,
                    ..Filter::default()
                },
                0,
                2000,
            )?,
        },
        Effect::LoadFlagged => Loaded::Items {
            trash: false,
            items: store.flagged()?,
        },
        Effect::LoadHistory { id } => {
            let item = store.get(id)?;
            let revisions = store.history(&item)?;
            Loaded::History { item, revisions }
        }
        Effect::SyncNow => {
            if let Some(s) = sync {
                s.sync_now_discovering();
            }
            return Ok(None);
        }
        Effect::RestoreRemote => {
            if let Some(s) = sync {
                s.restore_remote();
            }
            Loaded::Changed {
                message: "uploading your copies back to the server…".into(),
                undo: None,
            }
        }
        Effect::AcceptDeletions { account } => {
            if let Some(s) = sync {
                s.sync_accepting_deletions();
            }
            Loaded::Changed {
                message: format!("{account}: moving the removed items to the trash (T shows it)"),
                undo: None,
            }
        }
        Effect::ToggleDone { id } => {
            let item = store.get(id)?;
            let done = matches!(
                item.data["status"].as_str(),
                Some("COMPLETED") | Some("CANCELLED")
            );
            let now = Utc::now();
            let new = if done {
                write::mark_undone(&item.raw, now)
            } else {
                write::mark_done(&item.raw, now)
            };
            store.update(&item, &new, if done { "undone" } else { "done" }, false)?;
            Loaded::Changed {
                message: format!(
                    "{} {}",
                    item.data["summary"].as_str().unwrap_or(""),
                    if done { "reopened" } else { "done" }
                ),
                undo: Some(Effect::ToggleDone { id }),
            }
        }
        Effect::Delete { id } => {
            let item = store.get(id)?;
            store.delete(&item)?;
            Loaded::Changed {
                message: "moved to the trash (u undoes, T shows the trash)".into(),
                undo: Some(Effect::Undelete { id }),
            }
        }
        Effect::Undelete { id } => {
            let item = store.get(id)?;
            store.undelete(&item)?;
            Loaded::Changed {
                message: "restored from the trash".into(),
                undo: Some(Effect::Delete { id }),
            }
        }
        Effect::Revert { id, rev } => {
            let item = store.get(id)?;
            let raw = store.revision_raw(&item, rev)?;
            let before = item.rev;
            store.update(&item, &raw, &format!("revert:{rev}"), true)?;
            store.clear_conflict(id)?;
            Loaded::Changed {
                message: format!("reverted to revision {rev} (u undoes)"),
                undo: Some(Effect::Revert { id, rev: before }),
            }
        }
        Effect::OpenForm { id, occurrence } => Loaded::Editing {
            item: store.get(id)?,
            occurrence,
        },
        Effect::SaveForm(s) => match form::run::save(store, &s) {
            Ok(l) => l,
            // The form stays open with everything typed; the reason shows in it.
            Err(e) => Loaded::FormError(format!("not saved: {e}")),
        },
        Effect::SaveLastView => {
            store.set_meta_value("tui.last_view", app.view.name())?;
            return Ok(None);
        }
        Effect::Edit { .. } => return Ok(None),
        // The panels' effects, handled by `effects::load` above.
        _ => return Ok(None),
    }))
}

/// A list's size: exact from the index without a search; with one, counted to
/// `store::DENSE` (shown as "2000+"): a one-letter search may match most of the database, and
/// is typed one key at a time. The same count tells `page_shaped` how to read the page.
fn count(store: &Store, f: &Filter) -> anyhow::Result<(usize, bool)> {
    Ok(if f.query.is_some() {
        store.count_capped(f, crate::store::DENSE)?
    } else {
        (store.count(f)?, false)
    })
}

/// How many rows a list has, counted only a good way past the screen (100,000 contacts are
/// not counted for every frame; `more` says there are more, and the count grows as the list is
/// paged down), or all of them when `G` asked for the end.
fn list_count(
    store: &Store,
    f: &Filter,
    p: &app::Paged,
    h: usize,
) -> anyhow::Result<(usize, bool)> {
    if f.query.is_some() {
        return count(store, f);
    }
    if p.to_end {
        return Ok((store.count(f)?, false));
    }
    Ok(store.count_capped(f, p.offset + 4 * h + crate::store::DENSE)?)
}

fn todo_filter(app: &App) -> Filter {
    let mut f = Filter {
        kind: Some(Kind::Todo),
        query: Some(app.todos.query.clone()).filter(|q| !q.is_empty()),
        ..Filter::default()
    };
    let today = app.calendar.today;
    match app.todo_filter {
        TodoFilter::All => {}
        TodoFilter::Open => f.open_only = true,
        TodoFilter::Today => {
            f.open_only = true;
            f.due_from = Some(local_midnight(today));
            f.due_to = Some(local_midnight(today + chrono::Duration::days(1)));
        }
        TodoFilter::Overdue => {
            f.open_only = true;
            f.due_to = Some(local_midnight(today));
        }
    }
    f
}

/// The visible period's days: the first entries of each and their count, read row by row
/// (borrowed, nothing kept beyond `PER_DAY`), plus birthdays.
fn calendar_days(store: &mut Store, app: &App) -> anyhow::Result<BTreeMap<NaiveDate, Day>> {
    let (from, to) = app.calendar.period();
    let mut days: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    // Each calendar its colour: the server's, else one of a fixed palette by collection.
    const PALETTE: [&str; 6] = [
        "#5fafd7", "#87d787", "#d7af5f", "#d787af", "#af87ff", "#5fd7af",
    ];
    let colors: std::collections::HashMap<i64, String> = store
        .collection_colors()?
        .into_iter()
        .map(|(id, c)| {
            let fallback = PALETTE[id.unsigned_abs() as usize % PALETTE.len()].to_string();
            (id, c.unwrap_or(fallback))
        })
        .collect();
    // Each day: the first PER_DAY rows of what starts that day, a range of the start-ordered
    // table, and the rest only counted, up to COUNT_CAP; the first visible day also what began
    // earlier and still runs. All-day events are carried to each day they cover. The work is
    // what the screen shows, however busy the calendar is.
    // A month cell shows a few entries: other days read no more than that; the cursor's day
    // reads PER_DAY, which the detail pane and the entry selection go through.
    let cursor = app.calendar.cursor;
    let height = app.size.1;
    let cell = calendar_view::month_cell_entries(height).min(PER_DAY);
    let shown = |date: NaiveDate| {
        if app.calendar.mode == CalMode::Month && date != cursor && height > 0 {
            cell
        } else {
            PER_DAY
        }
    };
    let mut seen: std::collections::HashSet<(String, i64)> = std::collections::HashSet::new();
    let mut day = from;
    while day < to {
        let (a, b) = (
            local_midnight(day),
            local_midnight(day + chrono::Duration::days(1)),
        );
        // Rows handed to `take`; the day's count covers the ones only counted.
        let read = std::cell::Cell::new(0);
        let mut take = |o: &crate::store::OccurrenceView<'_>| {
            read.set(read.get() + 1);
            // Only an all-day row can come twice (day ranges are local, its date is UTC).
            if o.all_day && !seen.insert((o.uid.to_string(), o.start)) {
                return;
            }
            let dates: Vec<NaiveDate> = if o.all_day {
                // Dates: every day from the start to the day before the end.
                let d = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|t| t.date_naive());
                match (d(o.start), d(o.end)) {
                    (Some(s), Some(e)) => {
                        let last = (e - chrono::Duration::days(1)).max(s);
                        let mut out = Vec::new();
                        let mut x = s.max(from);
                        while x <= last && x < to {
                            out.push(x);
                            x += chrono::Duration::days(1);
                        }
                        out
                    }
                    _ => Vec::new(),
                }
            } else {
                // A timed event shows on the day it starts (or the first visible day).
                vec![day]
            };
            for date in dates {
                let d = days.entry(date).or_default();
                d.count += 1;
                if d.entries.len() < shown(date) {
                    d.entries.push(Entry {
                        time: (!o.all_day).then(|| hhmm(o.start)),
                        end: (!o.all_day).then(|| hhmm(o.end)),
                        summary: o.summary.to_string(),
                        location: o.location.to_string(),
                        uid: o.uid.to_string(),
                        birthday: false,
                        color: colors.get(&o.collection_id).cloned(),
                        start: o.start,
                    });
                }
            }
        };
        let stored =
            day != from || store.for_each_occurrence_running(a, b, COUNT_CAP, &mut take)?;
        let counted = if stored {
            let before = read.get();
            let n = store.for_each_occurrence_starting(a, b, shown(day), COUNT_CAP, &mut take)?;
            // (The day was stored a moment ago if what ran into it was.)
            n.map(|n| before + n).or((day == from).then_some(before))
        } else {
            None
        };
        let rows = match counted {
            Some(n) => n,
            None => {
                store.for_each_occurrence_row_limit(
                    &Filter::default(),
                    a,
                    b,
                    Some(COUNT_CAP),
                    &mut take,
                )?;
                read.get()
            }
        };
        if rows > read.get() {
            days.entry(day).or_default().count += rows - read.get();
        }
        if rows >= COUNT_CAP {
            days.entry(day).or_default().capped = true;
        }
        day += chrono::Duration::days(1);
    }
    // Birthdays: a month/day index lookup per visible day, a few names each.
    let mut day = from;
    while day < to {
        let md = day.format("%m-%d").to_string();
        let people = store.birthdays_on(&md, BIRTHDAYS_PER_DAY)?;
        if !people.is_empty() {
            let e = days.entry(day).or_default();
            e.count += people.len();
            for (i, (uid, name)) in people.into_iter().enumerate() {
                e.entries.insert(
                    i,
                    Entry {
                        time: None,
                        end: None,
                        summary: format!("{name}'s birthday"),
                        location: String::new(),
                        uid,
                        birthday: true,
                        color: None,
                        start: 0,
                    },
                );
            }
        }
        day += chrono::Duration::days(1);
    }
    Ok(days)
}

/// `E`: the item's text in $EDITOR, with the terminal handed over and taken back.
fn edit_external(
    terminal: &mut ratatui::DefaultTerminal,
    store: &mut Store,
    app: &mut App,
    id: i64,
) -> anyhow::Result<()> {
    let item = store.get(id)?;
    let dir = tempfile::Builder::new()
        .prefix("holdfast-edit-")
        .tempdir()?;
    let path = dir.path().join(format!("item.{}", item.kind.extension()));
    std::fs::write(&path, &item.raw)?;
    let editor = crate::config::editor_command();
    let program = editor.first().cloned().unwrap_or_else(|| "vi".into());
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    let status = std::process::Command::new(&program)
        .args(&editor[1..])
        .arg(&path)
        .status();
    *terminal = ratatui::try_init()?;
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    terminal.clear()?;
    let msg = match status {
        Err(e) => Loaded::Failed(format!("cannot start {program:?}: {e} (set $EDITOR)")),
        Ok(s) if !s.success() => {
            Loaded::Failed(format!("the editor exited with {s}; nothing saved"))
        }
        Ok(_) => {
            let new = std::fs::read(&path)?;
            if new == item.raw {
                Loaded::Failed("no changes".into())
            } else {
                let parsed = crate::format::parse(&new);
                if let Some(p) = parsed.problems.first() {
                    // Nothing typed is lost: the text stays where the editor left it.
                    let keep = store.data_dir().join("rescued");
                    crate::store::private_dir(&keep)?;
                    let saved = keep.join(format!("{}.{}", item.uid, item.kind.extension()));
                    std::fs::write(&saved, &new)?;
                    Loaded::Failed(format!(
                        "not saved: line {}: {} (your text is in {})",
                        p.line,
                        p.reason,
                        saved.display()
                    ))
                } else {
                    let before = item.rev;
                    store.update(&item, &new, "edit", false)?;
                    store.clear_conflict(item.id)?;
                    Loaded::Changed {
                        message: "saved as a new revision (u undoes)".into(),
                        undo: Some(Effect::Revert { id, rev: before }),
                    }
                }
            }
        }
    };
    for e in app.update(Msg::Loaded(msg)) {
        run_effect(store, app, None, e)?;
    }
    Ok(())
}

/// `o` on a photo: its file in the system viewer (`$HOLDFAST_OPEN`, else `xdg-open`, or `open`
/// on macOS), started detached with no terminal I/O; never waited for.
fn open_photo(store: &Store, sha256: &str) -> Loaded {
    let path = crate::store::Blobs::new(store.data_dir()).path(sha256);
    if !path.exists() {
        return Loaded::Failed(format!(
            "the photo's file is not here yet ({}): a sync fetches it",
            path.display()
        ));
    }
    let command = std::env::var("HOLDFAST_OPEN")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".into()
            } else {
                "xdg-open".into()
            }
        });
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or("xdg-open").to_string();
    let spawned = std::process::Command::new(&program)
        .args(words)
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            // Reaped on a thread of its own: the viewer may stay open for hours.
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            Loaded::Message(format!("opened with {program}"))
        }
        Err(e) => Loaded::Failed(format!(
            "cannot start {program:?}: {e} (set $HOLDFAST_OPEN to your image viewer)"
        )),
    }
}
