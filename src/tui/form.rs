//! The create and edit forms: contacts, events, to-dos. A pure state machine (`Form::key`) that
//! the app drives; it does no I/O. A form edits a `compose::Draft`; saving hands the draft it
//! opened with and the one typed to the runtime (`Save`), which writes only the difference into
//! the item (`format::compose`), through the store, as a revision.
//!
//! What was typed is never lost: an invalid field keeps its text and shows why next to it, the
//! store's refusal shows in the form, and Esc on a changed form asks first.

mod fields;
mod input;
mod render;
pub mod run;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use self::fields::{contact_fields, event_fields, row, todo_fields};
pub use self::fields::{hint, Field};
pub use self::input::Input;
pub use self::render::draw;
use crate::format::compose::event as event_draft;
use crate::format::compose::todo as todo_draft;
use crate::format::compose::{self, ContactDraft, Draft, EventDraft, FieldId, Row, TodoDraft};
use crate::model::Kind;
use crate::store::StoredItem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Contact,
    Event,
    Todo,
}

/// What a save writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    New,
    Edit {
        id: i64,
    },
    /// One occurrence of a recurring event (its RECURRENCE-ID instant).
    Occurrence {
        id: i64,
        rid: i64,
    },
}

/// What the runtime saves: the draft the form opened with and the one typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Save {
    pub target: Target,
    pub before: Draft,
    pub after: Draft,
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stay,
    /// The form is done; the message (if any) goes to the message line.
    Close(Option<String>),
    Save(Box<Save>),
}

/// Asked before an occurrence of a repeating event is edited.
#[derive(Debug, Clone)]
pub struct Scope {
    pub id: i64,
    pub rid: i64,
    pub series: EventDraft,
    pub occurrence: EventDraft,
    /// 0: this occurrence, 1: the whole series.
    pub selected: usize,
}

#[derive(Debug, Clone)]
pub enum Stage {
    Editing,
    /// Esc on a changed form: discard?
    Discard,
    Scope(Box<Scope>),
}

#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FormKind,
    pub target: Target,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// Why the last save did not go through (besides the fields' own errors).
    pub error: Option<String>,
    pub stage: Stage,
    before: Box<Draft>,
}

impl Form {
    /// A new item's form; `zone` is the user's time zone (None: floating local time).
    pub fn new(kind: FormKind, day: chrono::NaiveDate, zone: Option<String>) -> Form {
        let zone = zone.unwrap_or_default();
        let draft = match kind {
            FormKind::Contact => Draft::Contact(ContactDraft {
                emails: vec![row("home")],
                phones: vec![row("cell")],
                addresses: vec![row("home")],
                ..ContactDraft::default()
            }),
            FormKind::Event => Draft::Event(EventDraft {
                start: format!("{day} 09:00"),
                duration: "1h".into(),
                tz: zone,
                repeat: "none".into(),
                ..EventDraft::default()
            }),
            FormKind::Todo => Draft::Todo(TodoDraft {
                status: "NEEDS-ACTION".into(),
                tz: zone,
                ..TodoDraft::default()
            }),
        };
        Form::of(Target::New, draft)
    }

    /// The form of a stored item. For an event, `occurrence` is the start of the occurrence
    /// selected in the calendar: a repeating event first asks "this occurrence or the series".
    pub fn edit(
        item: &StoredItem,
        occurrence: Option<i64>,
        zone: Option<String>,
    ) -> Result<Form, String> {
        let unreadable = || format!("{} cannot be edited in a form (E opens its text)", item.uid);
        let id = item.id;
        let draft = match item.kind {
            Kind::Todo => Draft::Todo(
                todo_draft::read_with_zone(&item.raw, &zone.unwrap_or_default())
                    .ok_or_else(unreadable)?,
            ),
            kind => compose::read(&item.raw, kind).ok_or_else(unreadable)?,
        };
        if let (Draft::Event(series), Some(start)) = (&draft, occurrence) {
            if let Some(rid) = event_draft::occurrence_rid(&item.raw, start) {
                let occurrence =
                    event_draft::read_occurrence(&item.raw, rid).ok_or_else(unreadable)?;
                let mut form = Form::of(Target::Edit { id }, draft.clone());
                form.stage = Stage::Scope(Box::new(Scope {
                    id,
                    rid,
                    series: series.clone(),
                    occurrence,
                    selected: 0,
                }));
                return Ok(form);
            }
        }
        Ok(Form::of(Target::Edit { id }, draft))
    }

    fn of(target: Target, draft: Draft) -> Form {
        let (kind, fields) = match &draft {
            Draft::Contact(d) => (FormKind::Contact, contact_fields(d)),
            Draft::Event(d) => (
                FormKind::Event,
                event_fields(d, !matches!(target, Target::Occurrence { .. })),
            ),
            Draft::Todo(d) => (FormKind::Todo, todo_fields(d)),
        };
        Form {
            kind,
            target,
            fields,
            focus: 0,
            error: None,
            stage: Stage::Editing,
            before: Box::new(draft),
        }
    }

    pub fn title(&self) -> &'static str {
        match (self.kind, self.target) {
            (FormKind::Contact, Target::New) => " New contact ",
            (FormKind::Contact, _) => " Edit contact ",
            (FormKind::Event, Target::New) => " New event ",
            (FormKind::Event, Target::Occurrence { .. }) => " Edit event — this occurrence ",
            (FormKind::Event, _) => " Edit event ",
            (FormKind::Todo, Target::New) => " New to-do ",
            (FormKind::Todo, _) => " Edit to-do ",
        }
    }

    /// The draft as typed (what the form does not show is kept from the one it opened with).
    pub fn draft(&self) -> Draft {
        let text = |id: FieldId| {
            self.fields
                .iter()
                .find(|f| f.id == id)
                .map(|f| f.value().to_string())
        };
        let rows = |id: FieldId| -> Vec<Row> {
            self.fields
                .iter()
                .filter(|f| f.id == id)
                .map(|f| Row {
                    kind: f.type_name().to_string(),
                    value: f.value().to_string(),
                    origin: f.origin,
                })
                .collect()
        };
        let set = |slot: &mut String, id: FieldId| {
            if let Some(v) = text(id) {
                *slot = v;
            }
        };
        match &*self.before {
            Draft::Contact(b) => {
                let mut d = b.clone();
                set(&mut d.full_name, FieldId::FullName);
                set(&mut d.org, FieldId::Org);
                set(&mut d.title, FieldId::Title);
                set(&mut d.birthday, FieldId::Birthday);
                set(&mut d.note, FieldId::Note);
                d.emails = rows(FieldId::Email);
                d.phones = rows(FieldId::Phone);
                d.addresses = rows(FieldId::Address);
                Draft::Contact(d)
            }
            Draft::Event(b) => {
                let mut d = b.clone();
                set(&mut d.summary, FieldId::Summary);
                set(&mut d.start, FieldId::Start);
                set(&mut d.end, FieldId::End);
                set(&mut d.duration, FieldId::Duration);
                d.all_day = text(FieldId::AllDay).map_or(d.all_day, |v| v == "yes");
                set(&mut d.tz, FieldId::Tz);
                set(&mut d.location, FieldId::Location);
                set(&mut d.description, FieldId::Description);
                set(&mut d.alarm, FieldId::Alarm);
                set(&mut d.repeat, FieldId::Repeat);
                set(&mut d.interval, FieldId::Interval);
                set(&mut d.until, FieldId::Until);
                set(&mut d.count, FieldId::Count);
                Draft::Event(d)
            }
            Draft::Todo(b) => {
                let mut d = b.clone();
                set(&mut d.summary, FieldId::Summary);
                set(&mut d.due, FieldId::Due);
                set(&mut d.priority, FieldId::Priority);
                d.status = text(FieldId::Status)
                    .map(|s| if s == "—" { String::new() } else { s })
                    .unwrap_or(d.status);
                set(&mut d.percent, FieldId::Percent);
                set(&mut d.parent, FieldId::Parent);
                Draft::Todo(d)
            }
        }
    }

    /// Something typed differs from what the form opened with.
    pub fn changed(&self) -> bool {
        self.draft() != *self.before
    }

    /// An error for one field (the runtime's, e.g. an unknown parent): shown next to it.
    pub fn field_error(&mut self, id: FieldId, row: usize, message: String) {
        if let Some(i) = self.index_of(id, row) {
            self.fields[i].error = Some(message);
            self.focus = i;
        } else {
            self.error = Some(message);
        }
    }

    fn index_of(&self, id: FieldId, row: usize) -> Option<usize> {
        self.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.id == id)
            .nth(row)
            .map(|(i, _)| i)
    }

    pub fn key(&mut self, k: KeyEvent) -> Outcome {
        match &mut self.stage {
            Stage::Scope(s) => match k.code {
                KeyCode::Up | KeyCode::Down | KeyCode::Tab | KeyCode::BackTab => {
                    s.selected = 1 - s.selected;
                    Outcome::Stay
                }
                KeyCode::Char('j') | KeyCode::Char('k') => {
                    s.selected = 1 - s.selected;
                    Outcome::Stay
                }
                KeyCode::Char('o') | KeyCode::Char('s') | KeyCode::Enter => {
                    let one = match k.code {
                        KeyCode::Char('o') => true,
                        KeyCode::Char('s') => false,
                        _ => s.selected == 0,
                    };
                    let scope = (**s).clone();
                    *self = if one {
                        Form::of(
                            Target::Occurrence {
                                id: scope.id,
                                rid: scope.rid,
                            },
                            Draft::Event(scope.occurrence),
                        )
                    } else {
                        Form::of(Target::Edit { id: scope.id }, Draft::Event(scope.series))
                    };
                    Outcome::Stay
                }
                KeyCode::Esc | KeyCode::Char('q') => Outcome::Close(None),
                _ => Outcome::Stay,
            },
            // Only y (or d) discards: a stray Enter keeps the text.
            Stage::Discard => match k.code {
                KeyCode::Char('y') | KeyCode::Char('d') => Outcome::Close(Some("not saved".into())),
                _ => {
                    self.stage = Stage::Editing;
                    Outcome::Stay
                }
            },
            Stage::Editing => self.editing_key(k),
        }
    }

    fn editing_key(&mut self, k: KeyEvent) -> Outcome {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let last = self.fields.len().saturating_sub(1);
        let Some(field) = self.fields.get_mut(self.focus) else {
            return Outcome::Close(None);
        };
        let picked = !field.choices.is_empty();
        let id = field.id;
        let rows_of_id = if field.is_row() {
            self.fields.iter().filter(|f| f.id == id).count()
        } else {
            0
        };
        let Some(field) = self.fields.get_mut(self.focus) else {
            return Outcome::Close(None);
        };
        match k.code {
            KeyCode::Esc => {
                return if self.changed() {
                    self.stage = Stage::Discard;
                    Outcome::Stay
                } else {
                    Outcome::Close(None)
                };
            }
            KeyCode::Char('s') if ctrl => return self.save(),
            KeyCode::Enter if self.focus == last => return self.save(),
            KeyCode::Enter | KeyCode::Tab | KeyCode::Down => {
                self.focus = (self.focus + 1) % self.fields.len()
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = (self.focus + self.fields.len() - 1) % self.fields.len()
            }
            KeyCode::Char('n') if ctrl && field.is_row() => {
                let new = Field {
                    input: Input::default(),
                    origin: None,
                    error: None,
                    kind: 0,
                    ..field.clone()
                };
                self.fields.insert(self.focus + 1, new);
                self.focus += 1;
            }
            KeyCode::Char('d') if ctrl && field.is_row() => {
                if rows_of_id > 1 {
                    self.fields.remove(self.focus);
                    if self.fields.get(self.focus).is_none_or(|f| f.id != id) {
                        self.focus -= 1;
                    }
                } else {
                    field.input.set("");
                    field.error = None;
                }
            }
            KeyCode::Char('t') if ctrl && field.is_row() => {
                field.kind = (field.kind + 1) % field.types.len();
            }
            KeyCode::Char('u') if ctrl && !picked => {
                field.input.set("");
                field.error = None;
            }
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if picked => {
                field.cycle(if k.code == KeyCode::Left { -1 } else { 1 });
                field.error = None;
                if field.id == FieldId::AllDay {
                    let on = field.value() == "yes";
                    self.all_day_changed(on);
                }
            }
            KeyCode::Left => field.input.left(),
            KeyCode::Right => field.input.right(),
            KeyCode::Home => field.input.home(),
            KeyCode::End => field.input.end(),
            KeyCode::Backspace if !picked => {
                field.input.backspace();
                field.error = None;
            }
            KeyCode::Delete if !picked => {
                field.input.delete();
                field.error = None;
            }
            KeyCode::Char(c) if !ctrl && !picked => {
                field.input.insert(c);
                field.error = None;
            }
            _ => {}
        }
        Outcome::Stay
    }

    /// All day on: times become dates; off: dates get the default time back.
    fn all_day_changed(&mut self, on: bool) {
        for f in &mut self.fields {
            if !matches!(f.id, FieldId::Start | FieldId::End) || f.value().is_empty() {
                continue;
            }
            let v = f.value().to_string();
            if on {
                if let Some((date, _)) = v.split_once(' ') {
                    f.input.set(date);
                }
            } else if !v.contains(' ') && f.id == FieldId::Start {
                f.input.set(&format!("{v} 09:00"));
            }
        }
    }

    /// Checks every field; with none wrong, the save for the runtime. Nothing typed changes.
    fn save(&mut self) -> Outcome {
        let after = self.draft();
        for f in &mut self.fields {
            f.error = None;
        }
        self.error = None;
        let errors = compose::check(&after, &self.before);
        if errors.is_empty() {
            return Outcome::Save(Box::new(Save {
                target: self.target,
                before: (*self.before).clone(),
                after,
            }));
        }
        let mut first = None;
        for e in &errors {
            if let Some(i) = self.index_of(e.field, e.row) {
                self.fields[i]
                    .error
                    .get_or_insert_with(|| e.message.clone());
                first = Some(first.map_or(i, |f: usize| f.min(i)));
            }
        }
        if let Some(i) = first {
            self.focus = i;
        }
        self.error = Some(match errors.len() {
            1 => "not saved: one field needs fixing".into(),
            n => format!("not saved: {n} fields need fixing"),
        });
        Outcome::Stay
    }
}
