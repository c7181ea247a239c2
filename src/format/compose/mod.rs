//! What the UI's forms read from an item and write back into it (I7).
//!
//! A form edits a *draft*: the fields a person types, as text. `read` makes the draft of an
//! item; `apply` writes the difference between the draft the form opened with and the one it
//! saves into the item's text, line by line: a property the user did not change keeps its exact
//! bytes, and so does everything the form does not show (X- properties, groups, PHOTO, VALARMs,
//! ATTENDEEs …). A new item is the skeleton `write::new_*` makes (UID, DTSTAMP, VERSION,
//! PRODID), with the draft applied to it. Never touches the database or the terminal.

pub mod contact;
pub mod event;
pub mod patch;
pub mod todo;

use chrono::{DateTime, Utc};

pub use self::contact::ContactDraft;
pub use self::event::EventDraft;
use self::patch::{Comp, Patch};
pub use self::todo::TodoDraft;
use super::write::escape;

/// The fields a form has (rows of a multi-valued field share one id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldId {
    FullName,
    Org,
    Title,
    Email,
    Phone,
    Address,
    Birthday,
    Note,
    Summary,
    Start,
    End,
    Duration,
    AllDay,
    Tz,
    Location,
    Description,
    Alarm,
    Repeat,
    Interval,
    Until,
    Count,
    Due,
    Priority,
    Status,
    Percent,
    Parent,
}

/// One value of a multi-valued field (an email and its type). `origin` is the index of the line
/// it was read from among the item's lines of that property; None for a row the user added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub kind: String,
    pub value: String,
    pub origin: Option<usize>,
}

/// What a form edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    Contact(ContactDraft),
    Event(EventDraft),
    Todo(TodoDraft),
}

/// Why a field cannot be saved as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: FieldId,
    /// The row of a multi-valued field (0 otherwise).
    pub row: usize,
    pub message: String,
}

impl FieldError {
    pub fn new(field: FieldId, row: usize, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            row,
            message: message.into(),
        }
    }
}

/// Every field of `after` that cannot be saved (`before`: what the form opened with, so a value
/// read from the item, say a time zone only its VTIMEZONE defines, is never refused).
pub fn check(after: &Draft, before: &Draft) -> Vec<FieldError> {
    match (after, before) {
        (Draft::Contact(a), _) => contact::check(a),
        (Draft::Event(a), Draft::Event(b)) => event::check(a, Some(b)),
        (Draft::Event(a), _) => event::check(a, None),
        (Draft::Todo(a), _) => todo::check(a),
    }
}

/// The draft of an item's text (a contact, an event's master, a to-do).
pub fn read(raw: &[u8], kind: crate::model::Kind) -> Option<Draft> {
    use crate::model::Kind;
    Some(match kind {
        Kind::Contact => Draft::Contact(contact::read(raw)),
        Kind::Event => Draft::Event(event::read(raw)?),
        Kind::Todo => Draft::Todo(todo::read(raw)?),
        _ => return None,
    })
}

/// A new item's text: the `write::new_*` skeleton (UID, DTSTAMP, VERSION, PRODID) with the
/// draft applied, checked like `holdfast new` (`write::check_new`).
pub fn create(draft: &Draft, uid: &str, now: DateTime<Utc>) -> Result<String, String> {
    let bad = check(draft, draft);
    if let Some(e) = bad.first() {
        return Err(e.message.clone());
    }
    let text = match draft {
        Draft::Contact(d) => {
            let skeleton = super::write::new_contact(uid, d.full_name.trim(), &[], &[], None, now);
            let before = contact::read(skeleton.as_bytes());
            contact::apply(skeleton.as_bytes(), &before, d, now)?
        }
        Draft::Event(d) => event::create(d, uid, now)?,
        Draft::Todo(d) => todo::create(d, uid, now)?,
    };
    let text = String::from_utf8(text).map_err(|e| e.to_string())?;
    super::write::check_new(&text)?;
    Ok(text)
}

/// The item's text with what changed between `before` and `after` written into it. Unchanged
/// drafts give the text back as it was.
pub fn apply(
    raw: &[u8],
    before: &Draft,
    after: &Draft,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let out = match (before, after) {
        (Draft::Contact(b), Draft::Contact(a)) => contact::apply(raw, b, a, now)?,
        (Draft::Event(b), Draft::Event(a)) => event::apply(raw, None, b, a, now)?,
        (Draft::Todo(b), Draft::Todo(a)) => todo::apply(raw, b, a, now)?,
        _ => return Err("the form does not match the item".into()),
    };
    checked(raw, out)
}

/// One occurrence of a recurring event (`rid`: its RECURRENCE-ID instant, seconds) changed:
/// written as an override VEVENT in the same text (made from the master when there is none).
pub fn apply_occurrence(
    raw: &[u8],
    rid: i64,
    before: &EventDraft,
    after: &EventDraft,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let out = event::apply(raw, Some(rid), before, after, now)?;
    checked(raw, out)
}

fn checked(raw: &[u8], out: Vec<u8>) -> Result<Vec<u8>, String> {
    if out != raw {
        let text = String::from_utf8_lossy(&out);
        super::write::check_new(&text)?;
    }
    Ok(out)
}

/// Sets (or with an empty value removes) a TEXT property of `c`, keeping its group and
/// parameters when it exists.
pub(crate) fn text_prop(p: &mut Patch<'_>, c: &Comp, name: &str, value: &str) {
    match c.prop(name) {
        Some(_) if value.is_empty() => patch::remove_all(p, c, name),
        Some(old) => p.replace(old, &format!("{}:{}", old.head(), escape(value))),
        None if !value.is_empty() => {
            p.insert_line(c.props_end(), &format!("{name}:{}", escape(value)))
        }
        None => {}
    }
}
