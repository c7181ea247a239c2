//! A form's fields: what each kind of item shows, in order, and how a field is edited
//! (typed, picked from choices, or a row of a multi-valued field with a type).

use super::input::Input;
use crate::format::compose::contact::{ADDRESS_TYPES, EMAIL_TYPES, PHONE_TYPES};
use crate::format::compose::event::REPEATS;
use crate::format::compose::todo::STATUSES;
use crate::format::compose::{ContactDraft, EventDraft, FieldId, Row, TodoDraft};

const NO_YES: &[&str] = &["no", "yes"];

#[derive(Debug, Clone)]
pub struct Field {
    pub id: FieldId,
    pub label: &'static str,
    pub input: Input,
    /// A field picked from these (←/→/Space), not typed.
    pub choices: &'static [&'static str],
    /// A row of a multi-valued field: its types (Ctrl-T), the one chosen, the line it came from.
    pub types: &'static [&'static str],
    pub kind: usize,
    pub origin: Option<usize>,
    pub error: Option<String>,
}

impl Field {
    pub(super) fn text(id: FieldId, label: &'static str, value: &str) -> Field {
        Field {
            id,
            label,
            input: Input::new(value),
            choices: &[],
            types: &[],
            kind: 0,
            origin: None,
            error: None,
        }
    }

    fn choice(
        id: FieldId,
        label: &'static str,
        choices: &'static [&'static str],
        v: &str,
    ) -> Field {
        Field {
            choices,
            ..Field::text(id, label, v)
        }
    }

    pub(super) fn row(
        id: FieldId,
        label: &'static str,
        types: &'static [&'static str],
        r: &Row,
    ) -> Field {
        Field {
            types,
            kind: types.iter().position(|t| *t == r.kind).unwrap_or(0),
            origin: r.origin,
            ..Field::text(id, label, &r.value)
        }
    }

    pub fn value(&self) -> &str {
        self.input.text()
    }

    pub fn is_row(&self) -> bool {
        !self.types.is_empty()
    }

    pub fn type_name(&self) -> &'static str {
        self.types.get(self.kind).copied().unwrap_or("")
    }

    pub(super) fn cycle(&mut self, step: isize) {
        let n = self.choices.len() as isize;
        if n == 0 {
            return;
        }
        let at = self.choices.iter().position(|c| *c == self.value());
        let next = match at {
            Some(i) => (i as isize + step).rem_euclid(n) as usize,
            None => 0,
        };
        self.input.set(self.choices[next]);
    }
}

pub(super) fn row(kind: &str) -> Row {
    Row {
        kind: kind.into(),
        value: String::new(),
        origin: None,
    }
}

fn rows_or_one(rows: &[Row], kind: &str) -> Vec<Row> {
    if rows.is_empty() {
        vec![row(kind)]
    } else {
        rows.to_vec()
    }
}

pub(super) fn contact_fields(d: &ContactDraft) -> Vec<Field> {
    let mut f = vec![
        Field::text(FieldId::FullName, "Full name", &d.full_name),
        Field::text(FieldId::Org, "Organisation", &d.org),
        Field::text(FieldId::Title, "Title", &d.title),
    ];
    for r in rows_or_one(&d.emails, "home") {
        f.push(Field::row(FieldId::Email, "Email", EMAIL_TYPES, &r));
    }
    for r in rows_or_one(&d.phones, "cell") {
        f.push(Field::row(FieldId::Phone, "Phone", PHONE_TYPES, &r));
    }
    for r in rows_or_one(&d.addresses, "home") {
        f.push(Field::row(FieldId::Address, "Address", ADDRESS_TYPES, &r));
    }
    f.push(Field::text(FieldId::Birthday, "Birthday", &d.birthday));
    f.push(Field::text(FieldId::Note, "Note", &d.note));
    f
}

pub(super) fn event_fields(d: &EventDraft, series: bool) -> Vec<Field> {
    let mut f = vec![
        Field::text(FieldId::Summary, "Summary", &d.summary),
        Field::text(FieldId::Start, "Start", &d.start),
        Field::text(FieldId::End, "End", &d.end),
        Field::text(FieldId::Duration, "or Duration", &d.duration),
        Field::choice(
            FieldId::AllDay,
            "All day",
            NO_YES,
            if d.all_day { "yes" } else { "no" },
        ),
        Field::text(FieldId::Tz, "Time zone", &d.tz),
        Field::text(FieldId::Location, "Location", &d.location),
        Field::text(FieldId::Description, "Description", &d.description),
        Field::text(FieldId::Alarm, "Alarm (min)", &d.alarm),
    ];
    if series {
        let repeat = if d.repeat.is_empty() {
            "none"
        } else {
            &d.repeat
        };
        f.push(Field::choice(FieldId::Repeat, "Repeat", REPEATS, repeat));
        f.push(Field::text(FieldId::Interval, "Every", &d.interval));
        f.push(Field::text(FieldId::Until, "Until", &d.until));
        f.push(Field::text(FieldId::Count, "or Count", &d.count));
    }
    f
}

/// The status field's choices: "—" is no STATUS.
const STATUS_CHOICES: &[&str] = &["—", STATUSES[0], STATUSES[1], STATUSES[2], STATUSES[3]];

pub(super) fn todo_fields(d: &TodoDraft) -> Vec<Field> {
    let status = if d.status.is_empty() {
        "—"
    } else {
        &d.status
    };
    vec![
        Field::text(FieldId::Summary, "Summary", &d.summary),
        Field::text(FieldId::Due, "Due", &d.due),
        Field::text(FieldId::Priority, "Priority 1-9", &d.priority),
        Field::choice(FieldId::Status, "Status", STATUS_CHOICES, status),
        Field::text(FieldId::Percent, "% done", &d.percent),
        Field::text(FieldId::Parent, "Parent", &d.parent),
    ]
}

/// What a field expects, shown under the form when it has the focus.
pub fn hint(f: &Field) -> &'static str {
    match f.id {
        FieldId::Birthday => "YYYY-MM-DD, or --MM-DD without the year",
        FieldId::Address => "street; city; region; postcode; country",
        FieldId::Start | FieldId::End => "YYYY-MM-DD HH:MM (all day: YYYY-MM-DD)",
        FieldId::Duration => "30m, 1h, 1h30m, 2d (or give an end)",
        FieldId::Tz => "IANA name, e.g. Europe/Berlin; empty: local time",
        FieldId::Alarm => "minutes before the start; empty: no alarm",
        FieldId::Interval => "every N days/weeks/… (empty: 1)",
        FieldId::Until => "last day YYYY-MM-DD (or give a count)",
        FieldId::Count => "how many times (or give an until date)",
        FieldId::Due => "YYYY-MM-DD or YYYY-MM-DD HH:MM",
        FieldId::Parent => "part of the parent to-do's summary, or its UID",
        _ => "",
    }
}
