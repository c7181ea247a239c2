//! The terminal UI (DESIGN.md §2): ratatui + crossterm.
//!
//! One thread owns the terminal and runs one loop over messages: keys, mouse, resize, clock
//! ticks and `SyncEvent`s, each from its own feeder thread into one channel. The loop hands each
//! message to `App::update` (no I/O), carries out the `Effect`s it returns against the store or
//! the sync worker, and redraws. It redraws only when a message came, so an idle UI costs no
//! CPU, and it never waits on the network: sync runs on the worker (I8).

pub mod app;
pub mod keymap;
pub mod photos;
pub mod theme;
pub mod views;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use chrono::{Local, NaiveDate, TimeZone, Timelike, Utc};
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;

use self::app::{App, Day, Effect, Entry, FormValues, Loaded, Msg, TodoFilter, View};
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
    store.interactive_mode()?;
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
        let handle = SyncHandle::spawn(
            launch.data_dir.clone(),
            setups,
            Settings {
                guard_fraction: s.guard_fraction,
                guard_min: s.guard_min,
                keep_backups: s.keep_backups,
                accept_remote_deletions: false,
            },
            Options {
                timeout: Duration::from_secs(s.timeout_secs),
                ..Options::default()
            },
            Some(Duration::from_secs(s.interval_secs.max(10))),
        );
        if !launch.exit_after_first_frame {
            handle.sync_now();
        }
        Some(handle)
    };

    let mut terminal = ratatui::try_init()?;
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
        // Sync events are read here, between messages: the worker never blocks on us.
        while let Some(msg) = next_message(&rx, sync.as_ref()) {
            let mut queue = vec![msg];
            // Whatever else arrived meanwhile (fast typing): handled before one redraw.
            while let Ok(m) = rx.try_recv() {
                queue.push(m);
            }
            for m in queue {
                let effects = app.update(m);
                for e in effects {
                    if let Effect::Edit { id } = e {
                        edit_external(&mut terminal, &mut store, &mut app, id)?;
                        continue;
                    }
                    run_effect(&mut store, &mut app, sync.as_ref(), e)?;
                }
            }
            if app.quit {
                break;
            }
            terminal.draw(|f| views::draw(f, &app, &theme))?;
        }
        Ok(())
    })();
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    if let Some(h) = sync {
        // Quitting never waits for the network: the worker thread is left to the OS if it is
        // inside a request (its own connection and transaction keep the database consistent).
        drop(h);
    }
    result
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

/// Carries out one effect and feeds its result back into the app (no terminal needed, except
/// for `Effect::Edit`, which only `run` handles).
pub fn run_effect(
    store: &mut Store,
    app: &mut App,
    sync: Option<&SyncHandle>,
    e: Effect,
) -> anyhow::Result<()> {
    let loaded = match load(store, app, sync, e) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(()),
        Err(err) => Loaded::Failed(err.to_string()),
    };
    let follow = app.update(Msg::Loaded(loaded));
    for f in follow {
        // Follow-ups are loads; one level is enough (loads return no effects but details).
        let loaded = match load(store, app, sync, f) {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(err) => Loaded::Failed(err.to_string()),
        };
        for g in app.update(Msg::Loaded(loaded)) {
            if let Ok(Some(l)) = load(store, app, sync, g) {
                app.update(Msg::Loaded(l));
            }
        }
    }
    Ok(())
}

fn load(
    store: &mut Store,
    app: &App,
    sync: Option<&SyncHandle>,
    e: Effect,
) -> anyhow::Result<Option<Loaded>> {
    let h = app.list_height;
    Ok(Some(match e {
        Effect::LoadContacts => {
            let f = Filter {
                kind: Some(Kind::Contact),
                query: Some(app.contacts.query.clone()).filter(|q| !q.is_empty()),
                ..Filter::default()
            };
            let (total, more) = count(store, &f)?;
            Loaded::Contacts {
                rows: store.page_shaped(&f, app.contacts.offset, h, more)?,
                total,
                more,
            }
        }
        Effect::LoadTodos => {
            let f = todo_filter(app);
            let (total, more) = count(store, &f)?;
            Loaded::Todos {
                rows: store.page_shaped(&f, app.todos.offset, h, more)?,
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
                s.sync_now();
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
        Effect::Create(v) => match create(store, &v) {
            Ok(message) => Loaded::Changed {
                message,
                undo: None,
            },
            Err(e) => return Ok(Some(Loaded::FormError(e))),
        },
        Effect::SaveLastView => {
            store.set_meta_value("tui.last_view", app.view.name())?;
            return Ok(None);
        }
        Effect::Edit { .. } => return Ok(None),
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
    // The first visible day: everything overlapping it (long events that began earlier too).
    // Every later day: what starts that day, a range of the start-ordered table cut off after
    // COUNT_CAP rows; all-day events are carried to each day they cover. The work is what the
    // screen shows, however busy the calendar is.
    let mut seen: std::collections::HashSet<(String, i64)> = std::collections::HashSet::new();
    let mut day = from;
    while day < to {
        let (a, b) = (
            local_midnight(day),
            local_midnight(day + chrono::Duration::days(1)),
        );
        let mut rows = 0;
        let mut take = |o: &crate::store::OccurrenceView<'_>| {
            rows += 1;
            if !seen.insert((o.uid.to_string(), o.start)) {
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
                if d.entries.len() < PER_DAY {
                    d.entries.push(Entry {
                        time: (!o.all_day).then(|| hhmm(o.start)),
                        end: (!o.all_day).then(|| hhmm(o.end)),
                        summary: o.summary.to_string(),
                        location: o.location.to_string(),
                        uid: o.uid.to_string(),
                        birthday: false,
                        color: colors.get(&o.collection_id).cloned(),
                    });
                }
            }
        };
        let first = day == from;
        let done = !first && store.for_each_occurrence_starting(a, b, COUNT_CAP, &mut take)?;
        if !done {
            store.for_each_occurrence_row_limit(
                &Filter::default(),
                a,
                b,
                Some(COUNT_CAP),
                &mut take,
            )?;
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
                    },
                );
            }
        }
        day += chrono::Duration::days(1);
    }
    Ok(days)
}

/// Makes a new item from a form; Err is shown in the form, which keeps what was typed.
fn create(store: &mut Store, v: &FormValues) -> Result<String, String> {
    let now = Utc::now();
    let uid = write::new_uid();
    let get = |i: usize| v.values.get(i).map(String::as_str).unwrap_or("").trim();
    let opt = |i: usize| Some(get(i)).filter(|s| !s.is_empty());
    let (text, kind) = match v.kind.as_str() {
        "contact" => {
            let emails: Vec<String> = opt(1).map(str::to_string).into_iter().collect();
            let phones: Vec<String> = opt(2).map(str::to_string).into_iter().collect();
            (
                write::new_contact(&uid, get(0), &emails, &phones, opt(3), now),
                Kind::Contact,
            )
        }
        "event" => {
            let tz = input::local_zone_name();
            let start = input::parse_when(get(1), false, &tz)?;
            let duration = match opt(2) {
                Some(d) => Some(
                    input::parse_duration(d)
                        .ok_or_else(|| format!("Duration {d:?}: use 30m, 1h, 1h30m, 2d"))?,
                ),
                None => Some("PT1H".to_string()),
            };
            (
                write::new_event(
                    &write::NewEvent {
                        uid: &uid,
                        summary: get(0),
                        start,
                        end: None,
                        duration: duration.as_deref(),
                        rrule: opt(4),
                        location: opt(3),
                    },
                    now,
                ),
                Kind::Event,
            )
        }
        _ => {
            let tz = input::local_zone_name();
            let due = match opt(1) {
                Some(d) => Some(input::parse_when(d, true, &tz)?),
                None => None,
            };
            let priority = match opt(2) {
                Some(p) => Some(
                    p.parse::<u8>()
                        .ok()
                        .filter(|p| (1..=9).contains(p))
                        .ok_or_else(|| format!("Priority {p:?}: a number from 1 to 9"))?,
                ),
                None => None,
            };
            (
                write::new_todo(
                    &write::NewTodo {
                        uid: &uid,
                        summary: get(0),
                        due,
                        priority,
                        parent: None,
                    },
                    now,
                ),
                Kind::Todo,
            )
        }
    };
    write::check_new(&text)?;
    store
        .create(kind.default_collection(), &uid, text.as_bytes(), "new")
        .map_err(|e| e.to_string())?;
    Ok(format!("created “{}”", get(0)))
}

/// `e`: the item's text in $EDITOR, with the terminal handed over and taken back.
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
