//! A to-do as the form shows it, read from a calendar text and written back line by line.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};

use super::patch::{remove_all, scan, set_line, Comp, Patch};
use super::{text_prop, FieldError, FieldId};
use crate::format::input;
use crate::format::write::{self, date_line, escape, stamp, vtimezone, Start};

/// What the form's status field offers ("" shows as "—": no STATUS line).
pub const STATUSES: &[&str] = &["NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodoDraft {
    pub summary: String,
    /// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM`.
    pub due: String,
    /// The zone of a due time: the one written, else the user's (not shown).
    pub tz: String,
    pub priority: String,
    pub status: String,
    pub percent: String,
    /// The parent's UID (the form resolves what was typed before saving).
    pub parent: String,
}

fn vtodo(cal: &Comp) -> Option<&Comp> {
    cal.child("VTODO").next()
}

fn parent_line(c: &Comp) -> Option<&super::patch::Prop> {
    c.all("RELATED-TO").find(|r| {
        r.param("RELTYPE")
            .is_none_or(|t| t.eq_ignore_ascii_case("PARENT"))
    })
}

/// The to-do's draft; `zone`: the user's zone for a due time typed later.
pub fn read_with_zone(raw: &[u8], zone: &str) -> Option<TodoDraft> {
    let cal = scan(raw).into_iter().find(|c| c.name == "VCALENDAR")?;
    let c = vtodo(&cal)?;
    let mut d = TodoDraft {
        summary: c.text("SUMMARY"),
        priority: c
            .prop("PRIORITY")
            .map(|p| p.raw_value().trim().to_string())
            .filter(|p| p != "0")
            .unwrap_or_default(),
        status: c.text("STATUS").trim().to_ascii_uppercase(),
        percent: c
            .prop("PERCENT-COMPLETE")
            .map(|p| p.raw_value().trim().to_string())
            .unwrap_or_default(),
        parent: parent_line(c).map(|p| p.text()).unwrap_or_default(),
        tz: zone.to_string(),
        ..TodoDraft::default()
    };
    if let Some(due) = c.prop("DUE") {
        let v = due.raw_value().trim().to_string();
        if let Ok(day) = NaiveDate::parse_from_str(&v, "%Y%m%d") {
            d.due = day.to_string();
        } else if let Ok(t) =
            NaiveDateTime::parse_from_str(v.trim_end_matches('Z'), "%Y%m%dT%H%M%S")
        {
            d.due = if t.second() == 0 {
                t.format("%Y-%m-%d %H:%M").to_string()
            } else {
                t.format("%Y-%m-%d %H:%M:%S").to_string()
            };
            d.tz = if v.ends_with('Z') {
                "UTC".into()
            } else {
                due.param("TZID").unwrap_or_default()
            };
        } else {
            d.due = v;
        }
    }
    Some(d)
}

pub fn read(raw: &[u8]) -> Option<TodoDraft> {
    read_with_zone(raw, "")
}

fn due_of(d: &TodoDraft) -> Result<Start, String> {
    let date_only = NaiveDate::parse_from_str(d.due.trim(), "%Y-%m-%d").is_ok();
    let tz = Some(d.tz.trim().to_string()).filter(|t| !t.is_empty());
    input::parse_when(&d.due, date_only, &tz)
}

pub fn check(d: &TodoDraft) -> Vec<FieldError> {
    let mut out = Vec::new();
    if d.summary.trim().is_empty() {
        out.push(FieldError::new(
            FieldId::Summary,
            0,
            "a to-do needs a summary",
        ));
    }
    if !d.due.trim().is_empty() && due_of(d).is_err() {
        out.push(FieldError::new(
            FieldId::Due,
            0,
            "use YYYY-MM-DD or YYYY-MM-DD HH:MM",
        ));
    }
    let p = d.priority.trim();
    if !p.is_empty() && !p.parse::<u8>().is_ok_and(|n| (1..=9).contains(&n)) {
        out.push(FieldError::new(
            FieldId::Priority,
            0,
            "1 (highest) to 9 (lowest); empty: none",
        ));
    }
    let pc = d.percent.trim();
    if !pc.is_empty() && !pc.parse::<u8>().is_ok_and(|n| n <= 100) {
        out.push(FieldError::new(FieldId::Percent, 0, "0 to 100"));
    }
    out
}

/// A plain value property: set, or removed when empty.
fn value_prop(p: &mut Patch<'_>, c: &Comp, name: &str, value: &str) {
    if value.is_empty() {
        remove_all(p, c, name);
    } else {
        set_line(p, c, name, &format!("{name}:{value}"));
    }
}

pub fn apply(
    raw: &[u8],
    before: &TodoDraft,
    after: &TodoDraft,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let cal = scan(raw)
        .into_iter()
        .find(|c| c.name == "VCALENDAR")
        .ok_or("the text holds no calendar")?;
    let c = vtodo(&cal).ok_or("the calendar holds no to-do")?;
    let mut p = Patch::new(raw);
    if before.summary != after.summary {
        text_prop(&mut p, c, "SUMMARY", after.summary.trim());
    }
    if before.due.trim() != after.due.trim() {
        if after.due.trim().is_empty() {
            remove_all(&mut p, c, "DUE");
        } else {
            let due = due_of(after)?;
            set_line(&mut p, c, "DUE", &date_line("DUE", &due));
            if let Some((tz, at)) = write::tz_of(&due) {
                let has = cal.child("VTIMEZONE").any(|z| z.text("TZID").trim() == tz);
                if let (false, Some(block)) =
                    (has, vtimezone(tz, at - 366 * 86_400, at + 366 * 86_400))
                {
                    let block = p.block(&block);
                    p.insert(c.start, block);
                }
            }
        }
    }
    if before.priority.trim() != after.priority.trim() {
        value_prop(&mut p, c, "PRIORITY", after.priority.trim());
    }
    if before.percent.trim() != after.percent.trim() {
        value_prop(&mut p, c, "PERCENT-COMPLETE", after.percent.trim());
    }
    if before.status != after.status {
        value_prop(&mut p, c, "STATUS", &after.status);
        if after.status == "COMPLETED" {
            if c.prop("COMPLETED").is_none() {
                p.insert_line(c.props_end(), &format!("COMPLETED:{}", stamp(now)));
            }
        } else {
            remove_all(&mut p, c, "COMPLETED");
        }
    }
    if before.parent.trim() != after.parent.trim() {
        let uid = after.parent.trim();
        match parent_line(c) {
            Some(old) if uid.is_empty() => p.remove(old.start, old.end),
            Some(old) => p.replace(old, &format!("{}:{}", old.head(), escape(uid))),
            None if !uid.is_empty() => p.insert_line(
                c.props_end(),
                &format!("RELATED-TO;RELTYPE=PARENT:{}", escape(uid)),
            ),
            None => {}
        }
    }
    if p.is_empty() {
        return Ok(raw.to_vec());
    }
    set_line(&mut p, c, "DTSTAMP", &format!("DTSTAMP:{}", stamp(now)));
    set_line(
        &mut p,
        c,
        "LAST-MODIFIED",
        &format!("LAST-MODIFIED:{}", stamp(now)),
    );
    Ok(p.finish())
}

/// A new to-do: `write::new_todo`'s skeleton with the draft applied.
pub fn create(d: &TodoDraft, uid: &str, now: DateTime<Utc>) -> Result<Vec<u8>, String> {
    let due = if d.due.trim().is_empty() {
        None
    } else {
        Some(due_of(d)?)
    };
    let skeleton = write::new_todo(
        &write::NewTodo {
            uid,
            summary: d.summary.trim(),
            due,
            priority: None,
            parent: None,
        },
        now,
    );
    let before =
        read_with_zone(skeleton.as_bytes(), &d.tz).ok_or("could not read the new to-do")?;
    apply(skeleton.as_bytes(), &before, d, now)
}
