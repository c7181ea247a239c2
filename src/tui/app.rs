//! The UI's state and its one update function. `App::update` does no I/O: it changes state and
//! returns `Effect`s; the runtime (`tui/mod.rs`) carries them out against the store or the sync
//! worker and feeds the results back as `Msg::Loaded`. So every key is testable without a
//! terminal, a database or a network.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent};

pub use super::form::{Form, FormKind};
use super::form::{Outcome, Save};
use super::keymap::{Action, Key, Keymap, Resolved};
use super::link::{LinkOption, LinkPicker};
use super::panels::{Card, ConflictDetail, ConflictPanel};
use super::preview::PreviewImage;
use super::search::{Located, SearchPanel};
use crate::format::compose::FieldId;
use crate::model::{Kind, Revision};
use crate::store::{SearchGroup, StoredItem, TreeRow};
use crate::sync::engine::AccountReport;

/// The four views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Contacts,
    Calendar,
    Todos,
    Photos,
}

impl View {
    pub const ALL: [View; 4] = [View::Contacts, View::Calendar, View::Todos, View::Photos];

    pub fn title(self) -> &'static str {
        match self {
            View::Contacts => "Contacts",
            View::Calendar => "Calendar",
            View::Todos => "To-dos",
            View::Photos => "Photos",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            View::Contacts => "contacts",
            View::Calendar => "calendar",
            View::Todos => "todos",
            View::Photos => "photos",
        }
    }

    pub fn from_name(s: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalMode {
    Month,
    Week,
    Agenda,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TodoFilter {
    Open,
    All,
    Today,
    Overdue,
}

impl TodoFilter {
    pub fn label(self) -> &'static str {
        match self {
            TodoFilter::Open => "open",
            TodoFilter::All => "all",
            TodoFilter::Today => "due today",
            TodoFilter::Overdue => "overdue",
        }
    }

    fn next(self) -> TodoFilter {
        match self {
            TodoFilter::Open => TodoFilter::All,
            TodoFilter::All => TodoFilter::Today,
            TodoFilter::Today => TodoFilter::Overdue,
            TodoFilter::Overdue => TodoFilter::Open,
        }
    }
}

/// A list that pages from SQL: only the rows on screen are loaded.
#[derive(Debug, Clone, Default)]
pub struct Paged {
    /// Index of the first loaded row in the whole list.
    pub offset: usize,
    pub rows: Vec<StoredItem>,
    /// Rows in the whole list.
    pub total: usize,
    /// Selected row (index in the whole list).
    pub selected: usize,
    /// The filter typed with `/` (empty: none).
    pub query: String,
    /// `total` is a lower bound: a search matched more than was counted.
    pub more: bool,
    /// Tree depth of each loaded row (to-dos: 0 top level, 1 a subtask …); empty: flat.
    pub depths: Vec<usize>,
    /// `G` was pressed on a list counted only part way (`more`): the next load counts it all
    /// and the selection then goes to its last row.
    pub to_end: bool,
}

impl Paged {
    pub fn current(&self) -> Option<&StoredItem> {
        self.selected
            .checked_sub(self.offset)
            .and_then(|i| self.rows.get(i))
    }

    /// Takes a loaded page; the selection stays inside the list. After `G` on a list counted
    /// part way (`to_end`), goes to the real last row: true when that row's page must be loaded.
    fn set_page(&mut self, rows: Vec<StoredItem>, total: usize, more: bool, height: usize) -> bool {
        self.rows = rows;
        self.total = total;
        self.more = more;
        if self.selected >= total {
            self.selected = total.saturating_sub(1);
        }
        std::mem::take(&mut self.to_end) && self.select(total.saturating_sub(1), height)
    }

    /// Moves the selection by `delta` (clamped); true when the page must be reloaded.
    fn step(&mut self, delta: isize, height: usize) -> bool {
        if self.total == 0 {
            return false;
        }
        let last = self.total - 1;
        let target = (self.selected as isize + delta).clamp(0, last as isize) as usize;
        self.select(target, height)
    }

    fn select(&mut self, target: usize, height: usize) -> bool {
        self.selected = target.min(self.total.saturating_sub(1));
        let height = height.max(1);
        if self.selected < self.offset || self.selected >= self.offset + height {
            self.offset = if self.selected < self.offset {
                self.selected
            } else {
                self.selected + 1 - height
            };
            return true;
        }
        self.selected >= self.offset + self.rows.len()
    }
}

/// One line of a day in the calendar: what the grid and agenda show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Local "HH:MM", or None for all-day.
    pub time: Option<String>,
    pub end: Option<String>,
    pub summary: String,
    pub location: String,
    pub uid: String,
    pub birthday: bool,
    pub color: Option<String>,
    /// The occurrence's start (UTC seconds): which occurrence an edit means.
    pub start: i64,
}

/// A day of the visible period: its first entries and how many there are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Day {
    pub entries: Vec<Entry>,
    pub count: usize,
    /// More rows than were counted (the count is a lower bound).
    pub capped: bool,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    pub mode: CalMode,
    pub today: NaiveDate,
    pub cursor: NaiveDate,
    /// Loaded days of the visible period.
    pub days: BTreeMap<NaiveDate, Day>,
    /// Entry selected within the cursor day.
    pub entry: usize,
    /// The selected event, loaded for the detail pane.
    pub detail: Option<StoredItem>,
    /// Select this event (UID) on the cursor day once the days are loaded (a search hit).
    pub want: Option<String>,
    /// Photos linked to the selected event: (its UID, the first few, how many).
    pub detail_photos: Option<(String, Vec<String>, usize)>,
}

impl Calendar {
    /// The days the current mode shows.
    pub fn period(&self) -> (NaiveDate, NaiveDate) {
        match self.mode {
            CalMode::Month => {
                let first = self.cursor.with_day(1).unwrap_or(self.cursor);
                let start = first - Duration::days(first.weekday().num_days_from_monday() as i64);
                (start, start + Duration::days(42))
            }
            CalMode::Week => {
                let start = self.cursor
                    - Duration::days(self.cursor.weekday().num_days_from_monday() as i64);
                (start, start + Duration::days(7))
            }
            CalMode::Agenda => (self.cursor, self.cursor + Duration::days(14)),
        }
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        self.days
            .get(&self.cursor)
            .and_then(|d| d.entries.get(self.entry))
    }
}

/// Per-account sync state for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    Idle,
    Syncing { done: usize, total: usize },
    Ok { at: i64 },
    Unreachable { since: i64, next: i64 },
    Failed { at: i64, reason: String },
    Guard { at: i64 },
}

/// A window over the view.
#[derive(Debug, Clone)]
pub enum Overlay {
    /// The keys; `scroll` lines down when the screen is short.
    Help { scroll: u16 },
    /// Trash or flagged items: a list to restore from / look at.
    Items {
        title: String,
        trash: bool,
        items: Vec<StoredItem>,
        selected: usize,
    },
    History {
        item: StoredItem,
        revisions: Vec<Revision>,
        selected: usize,
    },
    /// The deletion guard tripped: what the server did, and three ways on.
    Guard {
        account: String,
        text: String,
        selected: usize,
    },
    /// A create or edit form (`tui/form.rs`).
    Form(Form),
    /// Conflicts and other flagged items, the selected one's two sides compared.
    Conflicts(ConflictPanel),
    /// Global search over every kind.
    Search(SearchPanel),
    /// The selected contact's card, every field (narrow screens have no detail pane).
    Card,
    /// Link the selected photo to something, or unlink it (`tui/link.rs`).
    Link(LinkPicker),
}

/// What the runtime does for `update`. `Reopen` undoes a conflict resolution (flag again, and
/// bring `rev` back when given); `Locate` finds where a search hit sits in its view.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    LoadContacts,
    LoadTodos,
    LoadCalendar,
    LoadDetail {
        uid: String,
    },
    LoadStatus,
    LoadTrash,
    LoadFlagged,
    LoadHistory {
        id: i64,
    },
    SyncNow,
    RestoreRemote,
    AcceptDeletions {
        account: String,
    },
    ToggleDone {
        id: i64,
    },
    Delete {
        id: i64,
    },
    Undelete {
        id: i64,
    },
    Revert {
        id: i64,
        rev: i64,
    },
    /// The item's text in $EDITOR.
    Edit {
        id: i64,
    },
    /// Load the item for its edit form (`occurrence`: the selected occurrence's start).
    OpenForm {
        id: i64,
        occurrence: Option<i64>,
    },
    /// Write what a form saves.
    SaveForm(Box<Save>),
    SaveLastView,
    LoadConflicts,
    LoadConflict {
        id: i64,
    },
    Resolve {
        id: i64,
        theirs: bool,
    },
    Reopen {
        id: i64,
        rev: Option<i64>,
    },
    GlobalSearch {
        query: String,
    },
    Locate {
        id: i64,
        kind: Kind,
    },
    LoadCard {
        id: i64,
    },
    LoadPhotos,
    /// The link picker's search (contacts, events, to-dos).
    LinkSearch {
        query: String,
    },
    /// The photo's current links, named (the unlink picker).
    LoadLinks {
        photo: String,
    },
    /// The contact's card photo becomes a thumbnail of photo `photo`.
    SetCardPhoto {
        contact: i64,
        photo: String,
    },
    /// Link (or unlink) photo `photo` to item `uid`.
    Relink {
        photo: String,
        uid: String,
        link: bool,
    },
    /// The photos linked to an event (its detail pane lists them).
    LoadLinkedPhotos {
        uid: String,
    },
    /// The photo's file in the system viewer (`xdg-open`, `open`, or `$HOLDFAST_OPEN`).
    OpenPhoto {
        sha256: String,
    },
}

/// Results the runtime feeds back.
#[derive(Debug, Clone)]
pub enum Loaded {
    Contacts {
        rows: Vec<StoredItem>,
        total: usize,
        more: bool,
    },
    Todos {
        rows: Vec<StoredItem>,
        total: usize,
        more: bool,
    },
    Calendar {
        days: BTreeMap<NaiveDate, Day>,
    },
    Detail(Option<StoredItem>),
    Status {
        pending: i64,
        flagged: i64,
    },
    Items {
        trash: bool,
        items: Vec<StoredItem>,
    },
    History {
        item: StoredItem,
        revisions: Vec<Revision>,
    },
    /// A change went through; `undo` says how to take it back.
    Changed {
        message: String,
        undo: Option<Effect>,
    },
    Failed(String),
    /// Something done that changes nothing shown ("opened with xdg-open").
    Message(String),
    FormError(String),
    /// An item to edit in a form.
    Editing {
        item: StoredItem,
        occurrence: Option<i64>,
    },
    /// The runtime refused one field (an unknown parent, say): shown next to it.
    FieldError {
        field: FieldId,
        row: usize,
        message: String,
    },
    /// The to-do list as a tree: rows with their depth.
    TodoTree {
        rows: Vec<TreeRow>,
        total: usize,
        more: bool,
    },
    Conflicts {
        items: Vec<StoredItem>,
    },
    ConflictDetail(ConflictDetail),
    SearchResults {
        query: String,
        groups: Vec<SearchGroup>,
    },
    Located(Located),
    Card(Card),
    Photos {
        rows: Vec<StoredItem>,
        total: usize,
        more: bool,
        /// The names of the contacts, events and to-dos the page's photos link to, by UID.
        names: BTreeMap<String, String>,
    },
    /// A decoded preview (from the preview thread).
    Preview(PreviewImage),
    LinkedPhotos {
        uid: String,
        lines: Vec<String>,
        total: usize,
    },
    /// What the link picker offers (`query`: the search it answers; None: current links).
    LinkOptions {
        query: Option<String>,
        options: Vec<LinkOption>,
    },
}

/// Everything that can happen.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// A clock tick (seconds since the epoch): status texts age.
    Tick(i64),
    /// The occurrence horizon was extended (on another thread): the calendar is read again.
    HorizonExtended,
    SyncStarted {
        account: String,
    },
    SyncProgress {
        account: String,
        done: usize,
        total: usize,
    },
    SyncDone {
        report: AccountReport,
        now: i64,
    },
    Loaded(Loaded),
}

pub struct App {
    pub view: View,
    pub keymap: Keymap,
    pending_key: Option<Key>,
    pub contacts: Paged,
    pub todos: Paged,
    /// Photo references, paged like the other lists (rows are the references' items).
    pub photos: Paged,
    /// Names of what the photos on the page link to, by UID (the list shows names).
    pub photo_link_names: BTreeMap<String, String>,
    /// The last preview decoded (drawn when it is the selected photo's, at the pane's size).
    pub preview: Option<PreviewImage>,
    /// Why the Photos view shows no previews at all (`NO_COLOR` …); None: previews on.
    pub preview_off: Option<String>,
    /// Per account: what went wrong with its photos folder in the last sync (None: fine).
    pub photo_sync: BTreeMap<String, String>,
    pub todo_filter: TodoFilter,
    pub calendar: Calendar,
    /// Typing into the filter of the current view.
    pub searching: bool,
    pub overlay: Option<Overlay>,
    pub sync: BTreeMap<String, SyncState>,
    pub pending_changes: i64,
    pub flagged: i64,
    /// One line at the bottom: the last thing that happened.
    pub message: Option<String>,
    undo: Vec<Effect>,
    pub now: i64,
    /// The selected contact's labelled fields (loaded for the detail pane).
    pub card: Option<Card>,
    /// Rows a list shows (set from the terminal size).
    pub list_height: usize,
    pub size: (u16, u16),
    pub interval_secs: u64,
    pub quit: bool,
    /// The user's time zone, for new events and to-dos (None: floating local time).
    pub zone: Option<String>,
}

impl App {
    pub fn new(keymap: Keymap, view: View, today: NaiveDate, now: i64, accounts: &[String]) -> App {
        App {
            view,
            keymap,
            pending_key: None,
            contacts: Paged::default(),
            todos: Paged::default(),
            photos: Paged::default(),
            photo_link_names: BTreeMap::new(),
            preview: None,
            preview_off: None,
            photo_sync: BTreeMap::new(),
            todo_filter: TodoFilter::Open,
            calendar: Calendar {
                mode: CalMode::Month,
                today,
                cursor: today,
                days: BTreeMap::new(),
                entry: 0,
                detail: None,
                want: None,
                detail_photos: None,
            },
            searching: false,
            overlay: None,
            sync: accounts
                .iter()
                .map(|a| (a.clone(), SyncState::Idle))
                .collect(),
            pending_changes: 0,
            flagged: 0,
            message: None,
            undo: Vec::new(),
            card: None,
            now,
            list_height: 20,
            size: (80, 24),
            interval_secs: 300,
            quit: false,
            zone: None,
        }
    }

    /// What to load first.
    /// What to load first: the view on screen and the status bar; other views load when
    /// they are opened.
    pub fn start(&self) -> Vec<Effect> {
        vec![self.reload_current(), Effect::LoadStatus]
    }

    fn paged(&mut self) -> Option<&mut Paged> {
        match self.view {
            View::Contacts => Some(&mut self.contacts),
            View::Todos => Some(&mut self.todos),
            View::Photos => Some(&mut self.photos),
            _ => None,
        }
    }

    fn reload_current(&self) -> Effect {
        match self.view {
            View::Todos => Effect::LoadTodos,
            View::Calendar => Effect::LoadCalendar,
            View::Photos => Effect::LoadPhotos,
            View::Contacts => Effect::LoadContacts,
        }
    }

    /// The one place state changes.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut fx = self.update_state(msg);
        fx.extend(self.wanted_loads());
        fx
    }

    fn update_state(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(k) if k.kind != KeyEventKind::Release => self.key(k),
            Msg::Key(_) => Vec::new(),
            Msg::Mouse(m) => self.mouse(m),
            Msg::Resize { width, height } => {
                self.resize(width, height);
                let mut e = vec![Effect::LoadContacts, Effect::LoadTodos];
                // A month cell's entries are read to its height.
                if self.view == View::Calendar {
                    e.push(Effect::LoadCalendar);
                }
                if self.view == View::Photos {
                    e.push(Effect::LoadPhotos);
                }
                e
            }
            Msg::HorizonExtended => vec![Effect::LoadCalendar],
            Msg::Tick(now) => {
                self.now = now;
                let today = chrono::DateTime::from_timestamp(now, 0)
                    .map(|t| t.with_timezone(&chrono::Local).date_naive());
                match today {
                    Some(d) if d != self.calendar.today => {
                        self.calendar.today = d;
                        vec![Effect::LoadCalendar]
                    }
                    _ => Vec::new(),
                }
            }
            Msg::SyncStarted { account } => {
                self.sync
                    .insert(account, SyncState::Syncing { done: 0, total: 0 });
                Vec::new()
            }
            Msg::SyncProgress {
                account,
                done,
                total,
            } => {
                self.sync
                    .insert(account, SyncState::Syncing { done, total });
                Vec::new()
            }
            Msg::SyncDone { report, now } => self.sync_done(report, now),
            Msg::Loaded(l) => self.loaded(l),
        }
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.size = (width, height);
        // Tabs, a header row, the status bar and the message line.
        self.list_height = (height as usize).saturating_sub(5).max(1);
    }

    fn sync_done(&mut self, r: AccountReport, now: i64) -> Vec<Effect> {
        let state = if r.unreachable {
            SyncState::Unreachable {
                since: now,
                next: now + self.interval_secs as i64,
            }
        } else if r.guard_tripped() {
            let lines: Vec<String> = r
                .collections
                .iter()
                .filter_map(|c| {
                    c.guard.as_ref().map(|g| {
                        format!(
                            "{}: {} ({} items held back)",
                            c.collection, g.reason, g.held_back
                        )
                    })
                })
                .chain(r.photos.iter().filter_map(|p| {
                    p.guard.as_ref().map(|g| {
                        format!(
                            "photos ({}): {} ({} photos held back)",
                            p.url, g.reason, g.held_back
                        )
                    })
                }))
                .collect();
            if matches!(self.overlay, Some(Overlay::Form(_))) {
                // A form being typed into is never replaced; the status bar keeps the state.
                self.message = Some(format!(
                    "{}: the server removed items, nothing deleted here; S after the form decides",
                    r.account
                ));
            } else {
                self.overlay = Some(Overlay::Guard {
                    account: r.account.clone(),
                    text: lines.join("\n"),
                    selected: 2,
                });
            }
            SyncState::Guard { at: now }
        } else if let Some(e) = &r.error {
            SyncState::Failed {
                at: now,
                reason: e.clone(),
            }
        } else {
            SyncState::Ok { at: now }
        };
        self.photos_done(&r);
        let photos_pulled = r.photos.as_ref().map_or(0, |p| p.pulled + p.moved_to_trash);
        let pulled: usize = r
            .collections
            .iter()
            .map(|c| c.pulled + c.moved_to_trash)
            .sum::<usize>()
            + photos_pulled;
        let conflicts: usize = r.collections.iter().map(|c| c.conflicts).sum();
        // Problems with single items (an unreadable item stored and flagged, a contact photo
        // that is not an image): the first on the message line, every one in the log.
        let mut errors = r
            .collections
            .iter()
            .flat_map(|c| c.errors.iter().map(move |e| (c, e)));
        if let Some((c, first)) = errors.next() {
            self.message = Some(format!(
                "{}/{}: {} problem(s) with single items (all in the log): {first}",
                r.account,
                c.collection,
                1 + errors.count()
            ));
        }
        if conflicts > 0 {
            self.message = Some(format!(
                "{}: {conflicts} conflict(s) — press C to review",
                r.account
            ));
        }
        self.sync.insert(r.account, state);
        let mut fx = vec![Effect::LoadStatus];
        if pulled > 0 {
            fx.extend([
                Effect::LoadContacts,
                Effect::LoadTodos,
                Effect::LoadCalendar,
            ]);
            if self.view == View::Photos {
                fx.push(Effect::LoadPhotos);
            }
        }
        fx
    }

    fn loaded(&mut self, l: Loaded) -> Vec<Effect> {
        match l {
            Loaded::Contacts { rows, total, more } => {
                if self.contacts.set_page(rows, total, more, self.list_height) {
                    return vec![Effect::LoadContacts];
                }
            }
            Loaded::Todos { rows, total, more } => {
                self.todos.rows = rows;
                self.todos.total = total;
                self.todos.more = more;
                if self.todos.selected >= total {
                    self.todos.selected = total.saturating_sub(1);
                }
            }
            Loaded::Calendar { days } => {
                self.calendar.days = days;
                if let Some(uid) = self.calendar.want.take() {
                    let day = self.calendar.days.get(&self.calendar.cursor);
                    if let Some(i) = day.and_then(|d| d.entries.iter().position(|e| e.uid == uid)) {
                        self.calendar.entry = i;
                    }
                }
                let n = self
                    .calendar
                    .days
                    .get(&self.calendar.cursor)
                    .map_or(0, |d| d.entries.len());
                self.calendar.entry = self.calendar.entry.min(n.saturating_sub(1));
                return self.detail_effect();
            }
            Loaded::Detail(item) => {
                let uid = item.as_ref().map(|i| i.uid.clone());
                self.calendar.detail = item;
                if let Some(uid) = uid {
                    return vec![Effect::LoadLinkedPhotos { uid }];
                }
            }
            Loaded::LinkOptions { query, options } => self.link_options(query, options),
            Loaded::LinkedPhotos { uid, lines, total } => {
                self.calendar.detail_photos = Some((uid, lines, total));
            }
            Loaded::Status { pending, flagged } => {
                self.pending_changes = pending;
                self.flagged = flagged;
            }
            Loaded::Items { trash, items } => {
                self.overlay = Some(Overlay::Items {
                    title: if trash {
                        "Trash — Enter restores · R history".into()
                    } else {
                        "Flagged (conflicts, unreadable) — R shows history".into()
                    },
                    trash,
                    items,
                    selected: 0,
                });
            }
            Loaded::History { item, revisions } => {
                let selected = revisions.len().saturating_sub(1);
                self.overlay = Some(Overlay::History {
                    item,
                    revisions,
                    selected,
                });
            }
            Loaded::Changed { message, undo } => {
                // A form that was being saved is done.
                if matches!(self.overlay, Some(Overlay::Form(_))) {
                    self.overlay = None;
                }
                self.message = Some(message);
                if let Some(u) = undo {
                    self.undo.push(u);
                }
                let mut fx = vec![
                    Effect::LoadContacts,
                    Effect::LoadTodos,
                    Effect::LoadCalendar,
                    Effect::LoadStatus,
                ];
                if self.view == View::Photos {
                    fx.push(Effect::LoadPhotos);
                }
                // The card and an open conflicts panel show what just changed.
                self.card = None;
                if matches!(self.overlay, Some(Overlay::Conflicts(_))) {
                    fx.push(Effect::LoadConflicts);
                }
                return fx;
            }
            Loaded::Failed(e) | Loaded::Message(e) => self.message = Some(e),
            Loaded::FormError(e) => {
                if let Some(Overlay::Form(f)) = &mut self.overlay {
                    f.error = Some(e);
                } else {
                    self.message = Some(e);
                }
            }
            Loaded::FieldError {
                field,
                row,
                message,
            } => match &mut self.overlay {
                Some(Overlay::Form(f)) => f.field_error(field, row, message),
                _ => self.message = Some(message),
            },
            Loaded::Editing { item, occurrence } => {
                match Form::edit(&item, occurrence, self.zone.clone()) {
                    Ok(f) => self.overlay = Some(Overlay::Form(f)),
                    Err(e) => self.message = Some(e),
                }
            }
            Loaded::TodoTree { rows, total, more } => {
                self.todos.depths = rows.iter().map(|r| r.depth).collect();
                let rows = rows.into_iter().map(|r| r.item).collect();
                if self.todos.set_page(rows, total, more, self.list_height) {
                    return vec![Effect::LoadTodos];
                }
            }
            Loaded::Conflicts { items } => {
                let keep = match &self.overlay {
                    Some(Overlay::Conflicts(p)) => p.selected,
                    _ => 0,
                };
                self.overlay = Some(Overlay::Conflicts(ConflictPanel {
                    selected: keep.min(items.len().saturating_sub(1)),
                    items,
                    detail: None,
                }));
            }
            Loaded::ConflictDetail(d) => {
                if let Some(Overlay::Conflicts(p)) = &mut self.overlay {
                    if p.detail.as_ref().is_some_and(|x| x.id == d.id) {
                        p.detail = Some(d);
                    }
                }
            }
            Loaded::SearchResults { query, groups } => self.search_results(query, groups),
            Loaded::Located(l) => return self.show_located(l),
            Loaded::Card(c) => {
                if self.card.as_ref().is_some_and(|x| x.id == c.id) {
                    self.card = Some(c);
                }
            }
            Loaded::Photos {
                rows,
                total,
                more,
                names,
            } => {
                self.photo_link_names = names;
                if self.photos.set_page(rows, total, more, self.list_height) {
                    return vec![Effect::LoadPhotos];
                }
            }
            Loaded::Preview(p) => self.preview = Some(p),
        }
        Vec::new()
    }

    /// Loads the selected event's details, or clears them when nothing is selected (so `e`
    /// and `d` never act on an event that is not on screen).
    fn detail_effect(&mut self) -> Vec<Effect> {
        match self.calendar.selected_entry() {
            Some(e) if !e.birthday => vec![Effect::LoadDetail { uid: e.uid.clone() }],
            _ => {
                self.calendar.detail = None;
                Vec::new()
            }
        }
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Effect> {
        // A fast Esc then a key arrives as Alt+key: in a form or the filter that is Esc first.
        if k.modifiers.contains(KeyModifiers::ALT)
            && (self.searching || matches!(self.overlay, Some(Overlay::Form(_))))
        {
            let mut fx = self.key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
            let mut plain = k;
            plain.modifiers.remove(KeyModifiers::ALT);
            fx.extend(self.key(plain));
            return fx;
        }
        if self.searching {
            return self.search_key(k);
        }
        if let Some(Overlay::Form(_)) = self.overlay {
            return self.form_key(k);
        }
        if let Some(Overlay::Search(_)) = self.overlay {
            return self.global_search_key(k);
        }
        if let Some(Overlay::Link(_)) = self.overlay {
            return self.link_key(k);
        }
        let key = Key::from_event(&k);
        let action = match self.keymap.resolve(self.pending_key.take(), key) {
            Resolved::Action(a) => a,
            Resolved::Pending(p) => {
                self.pending_key = Some(p);
                return Vec::new();
            }
            Resolved::None => return Vec::new(),
        };
        if self.overlay.is_some() {
            return self.overlay_action(action);
        }
        self.action(action)
    }

    /// What an action does on a view (no overlay open).
    pub fn action(&mut self, a: Action) -> Vec<Effect> {
        let h = self.list_height;
        let half = (h / 2).max(1) as isize;
        match a {
            Action::Quit => {
                self.quit = true;
                vec![Effect::SaveLastView]
            }
            Action::ViewContacts => self.switch(View::Contacts),
            Action::ViewCalendar => self.switch(View::Calendar),
            Action::ViewTodos => self.switch(View::Todos),
            Action::ViewPhotos => self.switch(View::Photos),
            Action::NextView | Action::PrevView => {
                let i = View::ALL.iter().position(|v| *v == self.view).unwrap_or(0);
                let n = View::ALL.len();
                let j = if a == Action::NextView {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.switch(View::ALL[j])
            }
            Action::Down
            | Action::Up
            | Action::PageDown
            | Action::PageUp
            | Action::Top
            | Action::Bottom => self.motion(a, half),
            Action::Search => {
                self.searching = true;
                Vec::new()
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                Vec::new()
            }
            Action::ToggleDone => match (self.view, self.todos.current()) {
                (View::Todos, Some(t)) => vec![Effect::ToggleDone { id: t.id }],
                _ => Vec::new(),
            },
            Action::SyncNow => {
                if self.sync.is_empty() {
                    self.message =
                        Some("no account configured: see README, “Sync with your server”".into());
                    Vec::new()
                } else {
                    vec![Effect::SyncNow]
                }
            }
            Action::Today if self.view == View::Calendar => {
                self.calendar.cursor = self.calendar.today;
                self.calendar.entry = 0;
                self.calendar.detail = None;
                vec![Effect::LoadCalendar]
            }
            Action::PrevDay | Action::NextDay if self.view == View::Calendar => {
                let d = if a == Action::NextDay { 1 } else { -1 };
                self.move_cursor(Duration::days(d))
            }
            Action::PrevPeriod | Action::NextPeriod if self.view == View::Calendar => {
                let sign = if a == Action::NextPeriod { 1 } else { -1 };
                let c = self.calendar.cursor;
                let next = match self.calendar.mode {
                    CalMode::Month => shift_month(c, sign),
                    CalMode::Week => c + Duration::days(7 * sign as i64),
                    CalMode::Agenda => c + Duration::days(14 * sign as i64),
                };
                self.calendar.cursor = next;
                self.calendar.entry = 0;
                self.calendar.detail = None;
                vec![Effect::LoadCalendar]
            }
            Action::Month | Action::Week | Action::Agenda if self.view == View::Calendar => {
                self.calendar.mode = match a {
                    Action::Month => CalMode::Month,
                    Action::Week => CalMode::Week,
                    _ => CalMode::Agenda,
                };
                vec![Effect::LoadCalendar]
            }
            Action::Filter if self.view == View::Todos => {
                self.todo_filter = self.todo_filter.next();
                self.todos.selected = 0;
                self.todos.offset = 0;
                vec![Effect::LoadTodos]
            }
            Action::New => {
                let kind = match self.view {
                    View::Contacts => FormKind::Contact,
                    View::Calendar => FormKind::Event,
                    View::Todos => FormKind::Todo,
                    View::Photos => {
                        self.message = Some(
                            "photos are added with `holdfast photos add PATH…` (or arrive by sync)"
                                .into(),
                        );
                        return Vec::new();
                    }
                };
                let form = Form::new(kind, self.calendar.cursor, self.zone.clone());
                self.overlay = Some(Overlay::Form(form));
                Vec::new()
            }
            Action::Edit => match self.current_id() {
                Some(id) => {
                    let occurrence = match self.view {
                        View::Calendar => self.calendar.selected_entry().map(|e| e.start),
                        _ => None,
                    };
                    vec![Effect::OpenForm { id, occurrence }]
                }
                None => Vec::new(),
            },
            Action::EditExternal => match self.current_id() {
                Some(id) => vec![Effect::Edit { id }],
                None => Vec::new(),
            },
            Action::Delete => match self.current_id() {
                Some(id) => vec![Effect::Delete { id }],
                None => Vec::new(),
            },
            Action::History => match self.current_id() {
                Some(id) => vec![Effect::LoadHistory { id }],
                None => Vec::new(),
            },
            Action::Undo => match self.undo.pop() {
                Some(e) => vec![e],
                None => {
                    self.message = Some("nothing to undo".into());
                    Vec::new()
                }
            },
            Action::Trash => vec![Effect::LoadTrash],
            Action::Conflicts => vec![Effect::LoadConflicts],
            Action::GlobalSearch => self.open_global_search(),
            Action::Open if self.view == View::Calendar => self.detail_effect(),
            Action::LinkPhoto => self.open_link_picker(false),
            Action::UnlinkPhoto => self.open_link_picker(true),
            Action::SetContactPhoto => self.open_card_photo_picker(),
            Action::Open | Action::OpenExternal if self.view == View::Photos => {
                match self.selected_photo() {
                    Some(p) => vec![Effect::OpenPhoto { sha256: p.sha256 }],
                    None => Vec::new(),
                }
            }
            Action::Open if self.view == View::Contacts && self.contacts.current().is_some() => {
                self.overlay = Some(Overlay::Card);
                Vec::new()
            }
            Action::Back => {
                if let Some(p) = self.paged() {
                    if !p.query.is_empty() {
                        p.query.clear();
                        p.selected = 0;
                        p.offset = 0;
                        return vec![self.reload_current()];
                    }
                }
                self.message = None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn current_id(&self) -> Option<i64> {
        match self.view {
            View::Contacts => self.contacts.current().map(|i| i.id),
            View::Todos => self.todos.current().map(|i| i.id),
            View::Calendar => self.calendar.detail.as_ref().map(|i| i.id),
            View::Photos => self.photos.current().map(|i| i.id),
        }
    }

    pub(crate) fn switch_view(&mut self, v: View) -> Vec<Effect> {
        self.switch(v)
    }

    fn switch(&mut self, v: View) -> Vec<Effect> {
        self.view = v;
        self.searching = false;
        vec![self.reload_current(), Effect::SaveLastView]
    }

    fn motion(&mut self, a: Action, half: isize) -> Vec<Effect> {
        let h = self.list_height;
        if self.view == View::Calendar {
            let n = self
                .calendar
                .days
                .get(&self.calendar.cursor)
                .map_or(0, |d| d.entries.len());
            match a {
                Action::Down if self.calendar.entry + 1 < n => self.calendar.entry += 1,
                Action::Down => return self.move_cursor(Duration::days(1)),
                Action::Up if self.calendar.entry > 0 => self.calendar.entry -= 1,
                Action::Up => return self.move_cursor(Duration::days(-1)),
                Action::PageDown => return self.move_cursor(Duration::days(7)),
                Action::PageUp => return self.move_cursor(Duration::days(-7)),
                _ => {}
            }
            return self.detail_effect();
        }
        let reload = self.reload_current();
        let Some(p) = self.paged() else {
            return Vec::new();
        };
        let moved = match a {
            Action::Down => p.step(1, h),
            Action::Up => p.step(-1, h),
            Action::PageDown => p.step(half, h),
            Action::PageUp => p.step(-half, h),
            Action::Top => p.select(0, h),
            Action::Bottom if p.more && p.query.is_empty() => {
                p.to_end = true;
                true
            }
            Action::Bottom => p.select(p.total.saturating_sub(1), h),
            _ => false,
        };
        if moved {
            vec![reload]
        } else {
            Vec::new()
        }
    }

    fn move_cursor(&mut self, by: Duration) -> Vec<Effect> {
        let (from, to) = self.calendar.period();
        self.calendar.cursor += by;
        self.calendar.entry = 0;
        let c = self.calendar.cursor;
        self.calendar.detail = None;
        if c < from || c >= to {
            vec![Effect::LoadCalendar]
        } else {
            self.detail_effect()
        }
    }

    fn search_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let reload = self.reload_current();
        let Some(p) = self.paged() else {
            self.searching = false;
            return Vec::new();
        };
        match k.code {
            KeyCode::Esc => {
                p.query.clear();
                self_clear(p);
                self.searching = false;
            }
            KeyCode::Enter => {
                self.searching = false;
                return Vec::new();
            }
            KeyCode::Backspace => {
                p.query.pop();
                self_clear(p);
            }
            KeyCode::Char(c) => {
                p.query.push(c);
                self_clear(p);
            }
            _ => return Vec::new(),
        }
        vec![reload]
    }

    fn form_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let Some(Overlay::Form(form)) = &mut self.overlay else {
            return Vec::new();
        };
        match form.key(k) {
            Outcome::Stay => Vec::new(),
            Outcome::Close(message) => {
                self.overlay = None;
                self.message = message;
                Vec::new()
            }
            // The form stays open (and keeps what was typed) until the store accepts it.
            Outcome::Save(s) => vec![Effect::SaveForm(s)],
        }
    }

    fn overlay_action(&mut self, a: Action) -> Vec<Effect> {
        let page = (self.list_height / 2).max(1);
        let Some(overlay) = &mut self.overlay else {
            return Vec::new();
        };
        if matches!(a, Action::Back | Action::Quit | Action::Help)
            && !matches!(overlay, Overlay::Guard { .. })
        {
            self.overlay = None;
            return Vec::new();
        }
        if matches!(overlay, Overlay::Conflicts(_)) {
            return self.conflicts_action(a);
        }
        match overlay {
            Overlay::Search(_) | Overlay::Card | Overlay::Conflicts(_) | Overlay::Link(_) => {
                Vec::new()
            }
            Overlay::Help { scroll } => {
                match a {
                    Action::Down => *scroll = scroll.saturating_add(1),
                    Action::Up => *scroll = scroll.saturating_sub(1),
                    Action::PageDown => *scroll = scroll.saturating_add(10),
                    Action::PageUp => *scroll = scroll.saturating_sub(10),
                    _ => {}
                }
                Vec::new()
            }
            Overlay::Form(_) => Vec::new(),
            Overlay::Items {
                trash,
                items,
                selected,
                ..
            } => match a {
                _ if super::panels::list_motion(a, selected, items.len(), page) => Vec::new(),
                Action::Open if *trash => match items.get(*selected) {
                    Some(i) => {
                        let id = i.id;
                        self.overlay = None;
                        vec![Effect::Undelete { id }]
                    }
                    None => Vec::new(),
                },
                Action::Open | Action::History => match items.get(*selected) {
                    Some(i) => vec![Effect::LoadHistory { id: i.id }],
                    None => Vec::new(),
                },
                _ => Vec::new(),
            },
            Overlay::History {
                item,
                revisions,
                selected,
            } => match a {
                _ if super::panels::list_motion(a, selected, revisions.len(), page) => Vec::new(),
                Action::Open => match revisions.get(*selected) {
                    Some(r) if r.rev != item.rev => {
                        let (id, rev) = (item.id, r.rev);
                        self.overlay = None;
                        vec![Effect::Revert { id, rev }]
                    }
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            },
            Overlay::Guard {
                account, selected, ..
            } => match a {
                Action::Down | Action::NextDay => {
                    *selected = (*selected + 1).min(2);
                    Vec::new()
                }
                Action::Up | Action::PrevDay => {
                    *selected = selected.saturating_sub(1);
                    Vec::new()
                }
                Action::Open => {
                    let account = account.clone();
                    let choice = *selected;
                    self.overlay = None;
                    match choice {
                        0 => vec![Effect::RestoreRemote],
                        1 => vec![Effect::AcceptDeletions { account }],
                        _ => {
                            self.message = Some(
                                "deletions held back; nothing removed. Decide later with S".into(),
                            );
                            Vec::new()
                        }
                    }
                }
                Action::Back => {
                    self.overlay = None;
                    Vec::new()
                }
                _ => Vec::new(),
            },
        }
    }

    fn mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        if matches!(self.overlay, Some(Overlay::Form(_))) {
            // The list under a form stays where it is.
            return Vec::new();
        }
        self.mouse_event(m)
    }

    pub(crate) fn overlay_key_action(&mut self, a: Action) -> Vec<Effect> {
        self.overlay_action(a)
    }

    pub(crate) fn calendar_detail(&mut self) -> Vec<Effect> {
        self.detail_effect()
    }
}

fn self_clear(p: &mut Paged) {
    p.selected = 0;
    p.offset = 0;
}

/// The same day `n` months on (clamped to the month's end).
pub fn shift_month(d: NaiveDate, n: i32) -> NaiveDate {
    let months = d.year() * 12 + d.month0() as i32 + n;
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
    let mut day = d.day();
    loop {
        if let Some(x) = NaiveDate::from_ymd_opt(y, m, day) {
            return x;
        }
        day -= 1;
    }
}
