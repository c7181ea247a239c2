//! Writers for items Holdfast creates or changes: new contacts, events and to-dos, marking a
//! to-do done. Existing text is edited line by line (`lines::Editor`), so every property,
//! parameter and group we do not touch keeps its exact bytes (I7).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::lines::{fold_line, Editor};
use super::tz::Zone;

pub const PRODID: &str = "-//Holdfast//Holdfast 0.1//EN";

/// RFC 5545 / 6350 TEXT escaping.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

pub(super) fn stamp(now: DateTime<Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A new vCard 3.0 (the version every server and peer tool reads).
pub fn new_contact(
    uid: &str,
    full_name: &str,
    emails: &[String],
    phones: &[String],
    org: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let mut words: Vec<&str> = full_name.split_whitespace().collect();
    let family = if words.len() > 1 {
        words.pop().unwrap_or("")
    } else {
        ""
    };
    let given = words.join(" ");
    let mut out = String::new();
    for line in [
        "BEGIN:VCARD".to_string(),
        "VERSION:3.0".to_string(),
        format!("PRODID:{PRODID}"),
        format!("UID:{}", escape(uid)),
        format!("FN:{}", escape(full_name)),
        format!("N:{};{};;;", escape(family), escape(&given)),
    ] {
        out.push_str(&fold_line(&line));
    }
    for e in emails {
        out.push_str(&fold_line(&format!("EMAIL;TYPE=INTERNET:{}", escape(e))));
    }
    for p in phones {
        out.push_str(&fold_line(&format!("TEL:{}", escape(p))));
    }
    if let Some(o) = org {
        out.push_str(&fold_line(&format!("ORG:{}", escape(o))));
    }
    out.push_str(&fold_line(&format!("REV:{}", stamp(now))));
    out.push_str("END:VCARD\r\n");
    out
}

/// A VTIMEZONE block for an IANA zone, covering `from`..`to` (seconds), by calcard.
pub fn vtimezone(tzid: &str, from: i64, to: i64) -> Option<String> {
    use calcard::icalendar::{ICalendar, ICalendarComponent, ICalendarComponentType};
    let mut cal = ICalendar {
        components: vec![ICalendarComponent {
            component_type: ICalendarComponentType::VCalendar,
            entries: Vec::new(),
            component_ids: Vec::new(),
        }],
    };
    cal.add_timezone(tzid, from, to)?;
    let mut text = String::new();
    cal.write_to(&mut text).ok()?;
    let start = text.find("BEGIN:VTIMEZONE")?;
    let end = text.rfind("END:VTIMEZONE")? + "END:VTIMEZONE\r\n".len();
    text.get(start..end).map(str::to_string)
}

/// When a new event or to-do happens, as the user gave it.
#[derive(Debug, Clone)]
pub enum Start {
    Date(NaiveDate),
    /// Wall-clock time in the named IANA zone, or floating when None.
    Local(NaiveDateTime, Option<String>),
}

/// UTC needs no VTIMEZONE: its times are written with `Z`.
pub(super) fn is_utc(tz: &str) -> bool {
    matches!(
        tz,
        "UTC" | "Etc/UTC" | "Etc/Universal" | "Universal" | "Zulu" | "Etc/Zulu" | "GMT" | "Etc/GMT"
    )
}

pub(super) fn date_line(name: &str, s: &Start) -> String {
    match s {
        Start::Date(d) => format!("{name};VALUE=DATE:{}", d.format("%Y%m%d")),
        Start::Local(t, Some(tz)) if is_utc(tz) => format!("{name}:{}Z", t.format("%Y%m%dT%H%M%S")),
        Start::Local(t, Some(tz)) => format!("{name};TZID={tz}:{}", t.format("%Y%m%dT%H%M%S")),
        Start::Local(t, None) => format!("{name}:{}", t.format("%Y%m%dT%H%M%S")),
    }
}

fn calendar(body: &[String], tz: Option<(&str, i64)>) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        &format!("PRODID:{PRODID}"),
    ] {
        out.push_str(&fold_line(l));
    }
    if let Some((tzid, at)) = tz {
        // Cover the year around the item; recurring items get ten more years of rules.
        if let Some(block) = vtimezone(tzid, at - 366 * 86_400, at + 10 * 366 * 86_400) {
            out.push_str(&block);
        }
    }
    for l in body {
        out.push_str(&fold_line(l));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

pub(super) fn tz_of(s: &Start) -> Option<(&str, i64)> {
    match s {
        Start::Local(_, Some(tz)) if is_utc(tz) => None,
        Start::Local(t, Some(tz)) => {
            let at = Zone::named(tz)
                .map(|z| z.to_utc(*t).timestamp())
                .unwrap_or(0);
            Some((tz.as_str(), at))
        }
        _ => None,
    }
}

/// The lines every new event or to-do starts with.
fn head(component: &str, uid: &str, summary: &str, now: DateTime<Utc>) -> Vec<String> {
    vec![
        format!("BEGIN:{component}"),
        format!("UID:{}", escape(uid)),
        format!("DTSTAMP:{}", stamp(now)),
        format!("CREATED:{}", stamp(now)),
        format!("SUMMARY:{}", escape(summary)),
    ]
}

/// Checks an item Holdfast built (`new`, a UI form) before it is stored: it must parse
/// cleanly and its recurrence expand (a bad RRULE typed by the user, say). Err: the reasons.
pub fn check_new(text: &str) -> Result<(), String> {
    let parsed = super::parse(text.as_bytes());
    let mut problems: Vec<String> = parsed.problems.iter().map(|p| p.reason.clone()).collect();
    if let Err(e) = parsed.occurrences(Some((0, 1))) {
        problems.push(e);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// What `holdfast new event` asks for.
pub struct NewEvent<'a> {
    pub uid: &'a str,
    pub summary: &'a str,
    pub start: Start,
    pub end: Option<Start>,
    pub duration: Option<&'a str>,
    pub rrule: Option<&'a str>,
    pub location: Option<&'a str>,
}

pub fn new_event(e: &NewEvent<'_>, now: DateTime<Utc>) -> String {
    let mut body = head("VEVENT", e.uid, e.summary, now);
    body.push(date_line("DTSTART", &e.start));
    if let Some(end) = &e.end {
        body.push(date_line("DTEND", end));
    } else if let Some(d) = e.duration {
        body.push(format!("DURATION:{d}"));
    }
    if let Some(r) = e.rrule {
        body.push(format!("RRULE:{r}"));
    }
    if let Some(l) = e.location {
        body.push(format!("LOCATION:{}", escape(l)));
    }
    body.push("END:VEVENT".to_string());
    calendar(&body, tz_of(&e.start))
}

/// What `holdfast new todo` asks for.
pub struct NewTodo<'a> {
    pub uid: &'a str,
    pub summary: &'a str,
    pub due: Option<Start>,
    pub priority: Option<u8>,
    pub parent: Option<&'a str>,
}

pub fn new_todo(t: &NewTodo<'_>, now: DateTime<Utc>) -> String {
    let mut body = head("VTODO", t.uid, t.summary, now);
    body.push("STATUS:NEEDS-ACTION".to_string());
    if let Some(d) = &t.due {
        body.push(date_line("DUE", d));
    }
    if let Some(p) = t.priority {
        body.push(format!("PRIORITY:{p}"));
    }
    if let Some(p) = t.parent {
        body.push(format!("RELATED-TO;RELTYPE=PARENT:{}", escape(p)));
    }
    body.push("END:VTODO".to_string());
    calendar(&body, t.due.as_ref().and_then(tz_of))
}

/// Marks a to-do completed, touching only STATUS, COMPLETED, PERCENT-COMPLETE, DTSTAMP and
/// LAST-MODIFIED.
pub fn mark_done(raw: &[u8], now: DateTime<Utc>) -> Vec<u8> {
    let mut e = Editor::new(raw);
    e.set("VTODO", "STATUS", "STATUS:COMPLETED");
    e.set("VTODO", "COMPLETED", &format!("COMPLETED:{}", stamp(now)));
    e.set("VTODO", "PERCENT-COMPLETE", "PERCENT-COMPLETE:100");
    e.set("VTODO", "DTSTAMP", &format!("DTSTAMP:{}", stamp(now)));
    e.set(
        "VTODO",
        "LAST-MODIFIED",
        &format!("LAST-MODIFIED:{}", stamp(now)),
    );
    e.into_bytes()
}

/// Re-opens a completed to-do.
pub fn mark_undone(raw: &[u8], now: DateTime<Utc>) -> Vec<u8> {
    let mut e = Editor::new(raw);
    e.set("VTODO", "STATUS", "STATUS:NEEDS-ACTION");
    e.remove("VTODO", "COMPLETED");
    e.remove("VTODO", "PERCENT-COMPLETE");
    e.set("VTODO", "DTSTAMP", &format!("DTSTAMP:{}", stamp(now)));
    e.set(
        "VTODO",
        "LAST-MODIFIED",
        &format!("LAST-MODIFIED:{}", stamp(now)),
    );
    e.into_bytes()
}
