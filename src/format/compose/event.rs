//! An event as the form shows it (the master, or one occurrence), read from a calendar and
//! written back into it line by line. One occurrence is written as an override VEVENT with
//! RECURRENCE-ID in the same text.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};

use super::patch::{remove_all, scan, set_line, Comp, Patch, Prop};
use super::{text_prop, FieldError, FieldId};
use crate::format::ical::parse_duration;
use crate::format::lines::logical_lines;
use crate::format::tz::{CustomZone, Zone};
use crate::format::write::{self, date_line, escape, is_utc, stamp, vtimezone, Start};
use crate::format::{input, parse};

/// What the form's repeat field offers.
pub const REPEATS: &[&str] = &["none", "daily", "weekly", "monthly", "yearly"];

/// Alarms further ahead than four weeks are refused (a typo, most likely).
const MAX_ALARM_MINUTES: u32 = 40_320;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventDraft {
    pub summary: String,
    /// `YYYY-MM-DD HH:MM`, or `YYYY-MM-DD` all day.
    pub start: String,
    /// Empty, or like `start` (all day: the last day, inclusive).
    pub end: String,
    /// `1h30m`, `PT90M` … (empty: none).
    pub duration: String,
    pub all_day: bool,
    /// IANA name; empty: floating (local) time.
    pub tz: String,
    pub location: String,
    pub description: String,
    /// Minutes before the start (empty: no alarm).
    pub alarm: String,
    /// One of `REPEATS` (or a frequency the form does not offer, as read).
    pub repeat: String,
    pub interval: String,
    /// `YYYY-MM-DD`, the last day of the series.
    pub until: String,
    pub count: String,
}

fn calendar(raw: &[u8]) -> Option<Comp> {
    scan(raw).into_iter().find(|c| c.name == "VCALENDAR")
}

fn master(cal: &Comp) -> Option<&Comp> {
    cal.child("VEVENT")
        .find(|e| e.prop("RECURRENCE-ID").is_none())
        .or_else(|| cal.child("VEVENT").next())
}

fn show(t: NaiveDateTime) -> String {
    if t.second() == 0 {
        t.format("%Y-%m-%d %H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// A date-time property as written: the date or local time, and its zone ("UTC" for `Z`, the
/// TZID, or "" floating).
enum When {
    Date(NaiveDate),
    Time(NaiveDateTime, String),
}

fn when(p: &Prop) -> Option<When> {
    let v = p.raw_value().trim().to_string();
    let is_date = p
        .param("VALUE")
        .is_some_and(|x| x.eq_ignore_ascii_case("DATE"))
        || (v.len() == 8 && !v.contains('T'));
    if is_date {
        return NaiveDate::parse_from_str(&v, "%Y%m%d").ok().map(When::Date);
    }
    let utc = v.ends_with('Z');
    let t = NaiveDateTime::parse_from_str(v.trim_end_matches('Z'), "%Y%m%dT%H%M%S").ok()?;
    let tz = if utc {
        "UTC".to_string()
    } else {
        p.param("TZID").unwrap_or_default()
    };
    Some(When::Time(t, tz))
}

/// The zone a TZID names: IANA (or Windows) names, else the calendar's own VTIMEZONE.
fn zone(cal: &Comp, raw: &[u8], tzid: &str) -> Zone {
    if tzid.is_empty() {
        return Zone::Floating;
    }
    if is_utc(tzid) {
        return Zone::utc();
    }
    if let Some(z) = Zone::named(tzid) {
        return z;
    }
    cal.child("VTIMEZONE")
        .find(|z| z.text("TZID").trim() == tzid)
        .and_then(|z| CustomZone::from_lines(&logical_lines(&raw[z.start..z.end])).ok())
        .map_or(Zone::Floating, |z| Zone::Custom(Arc::new(z)))
}

fn instant(cal: &Comp, raw: &[u8], w: &When) -> i64 {
    match w {
        When::Date(d) => d
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp()),
        When::Time(t, tz) => zone(cal, raw, tz).to_utc(*t).timestamp(),
    }
}

/// The VALARM the form shows: the first one triggered a relative time before the start.
fn form_alarm(c: &Comp) -> Option<(&Comp, i64)> {
    c.child("VALARM").find_map(|a| {
        let t = a.prop("TRIGGER")?;
        let related_end = t
            .param("RELATED")
            .is_some_and(|r| r.eq_ignore_ascii_case("END"));
        if related_end || t.param("VALUE").is_some() {
            return None;
        }
        let d = parse_duration(&t.raw_value())?;
        (d <= Duration::zero()).then(|| (a, -d.num_minutes()))
    })
}

fn read_comp(cal: &Comp, raw: &[u8], c: &Comp) -> EventDraft {
    let mut d = EventDraft {
        summary: c.text("SUMMARY"),
        location: c.text("LOCATION"),
        description: c.text("DESCRIPTION"),
        duration: c
            .prop("DURATION")
            .map(|p| p.raw_value())
            .unwrap_or_default(),
        alarm: form_alarm(c)
            .map(|(_, m)| m.to_string())
            .unwrap_or_default(),
        repeat: "none".into(),
        ..EventDraft::default()
    };
    let start = c.prop("DTSTART").and_then(when);
    match &start {
        Some(When::Date(s)) => {
            d.all_day = true;
            d.start = s.format("%Y-%m-%d").to_string();
        }
        Some(When::Time(t, tz)) => {
            d.start = show(*t);
            d.tz = tz.clone();
        }
        None => {}
    }
    match (c.prop("DTEND").and_then(when), &start) {
        // All day: the form shows the last day; a one-day event shows no end.
        (Some(When::Date(e)), Some(When::Date(s))) if e > *s + Duration::days(1) => {
            d.end = (e - Duration::days(1)).format("%Y-%m-%d").to_string();
        }
        (Some(When::Date(_)), Some(When::Date(_))) => {}
        (Some(When::Date(e)), _) => d.end = e.format("%Y-%m-%d").to_string(),
        (Some(When::Time(t, _)), _) => d.end = show(t),
        (None, _) => {}
    }
    if let Some(r) = c.prop("RRULE") {
        let z = zone(cal, raw, &d.tz);
        for part in r.raw_value().trim().split(';') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            match k.to_ascii_uppercase().as_str() {
                "FREQ" => d.repeat = v.to_ascii_lowercase(),
                "INTERVAL" => d.interval = v.to_string(),
                "COUNT" => d.count = v.to_string(),
                "UNTIL" => {
                    let v = v.trim();
                    d.until = if let Ok(day) = NaiveDate::parse_from_str(v, "%Y%m%d") {
                        day.to_string()
                    } else if let Ok(t) =
                        NaiveDateTime::parse_from_str(v.trim_end_matches('Z'), "%Y%m%dT%H%M%S")
                    {
                        let local = if v.ends_with('Z') {
                            z.to_local(t.and_utc())
                        } else {
                            t
                        };
                        local.date().to_string()
                    } else {
                        v.to_string()
                    };
                }
                _ => {}
            }
        }
    }
    d
}

/// The master event of a calendar text.
pub fn read(raw: &[u8]) -> Option<EventDraft> {
    let cal = calendar(raw)?;
    Some(read_comp(&cal, raw, master(&cal)?))
}

/// One occurrence (its RECURRENCE-ID instant): its override if there is one, else the master
/// moved to that occurrence.
pub fn read_occurrence(raw: &[u8], rid: i64) -> Option<EventDraft> {
    let text = with_override(raw, rid, DateTime::UNIX_EPOCH)?;
    let cal = calendar(&text)?;
    Some(read_comp(&cal, &text, find_override(&cal, &text, rid)?))
}

/// The RECURRENCE-ID instant of the occurrence of a recurring event that starts at `start`.
pub fn occurrence_rid(raw: &[u8], start: i64) -> Option<i64> {
    parse(raw)
        .occurrences(Some((start - 1, start + 1)))
        .ok()?
        .into_iter()
        .find(|o| o.start.timestamp() == start)
        .and_then(|o| o.recurrence_id)
}

fn find_override<'a>(cal: &'a Comp, raw: &[u8], rid: i64) -> Option<&'a Comp> {
    cal.child("VEVENT").find(|e| {
        e.prop("RECURRENCE-ID")
            .and_then(when)
            .is_some_and(|w| instant(cal, raw, &w) == rid)
    })
}

/// A date-time line in the form of `like` (date, UTC, TZID or floating) for instant `at`.
fn line_like(cal: &Comp, raw: &[u8], name: &str, like: &When, at: i64) -> String {
    let utc = DateTime::from_timestamp(at, 0).unwrap_or_default();
    match like {
        When::Date(_) => format!("{name};VALUE=DATE:{}", utc.format("%Y%m%d")),
        When::Time(_, tz) if is_utc(tz) => format!("{name}:{}", utc.format("%Y%m%dT%H%M%SZ")),
        When::Time(_, tz) => {
            let local = zone(cal, raw, tz).to_local(utc).format("%Y%m%dT%H%M%S");
            if tz.is_empty() {
                format!("{name}:{local}")
            } else {
                format!("{name};TZID={tz}:{local}")
            }
        }
    }
}

/// The text with an override for `rid` (made from the master when missing).
fn with_override(raw: &[u8], rid: i64, now: DateTime<Utc>) -> Option<Vec<u8>> {
    let cal = calendar(raw)?;
    if find_override(&cal, raw, rid).is_some() {
        return Some(raw.to_vec());
    }
    let m = master(&cal)?;
    let start = m.prop("DTSTART").and_then(when)?;
    let mut p = Patch::new(raw);
    let mut text = p.line("BEGIN:VEVENT");
    const NOT_COPIED: &[&str] = &[
        "RRULE",
        "RDATE",
        "EXDATE",
        "EXRULE",
        "DTSTART",
        "DTEND",
        "DURATION",
        "RECURRENCE-ID",
        "DTSTAMP",
    ];
    for prop in &m.props {
        if !NOT_COPIED.contains(&prop.name().as_str()) {
            text.push_str(&String::from_utf8_lossy(&raw[prop.start..prop.end]));
        }
    }
    text.push_str(&p.line(&line_like(&cal, raw, "RECURRENCE-ID", &start, rid)));
    text.push_str(&p.line(&line_like(&cal, raw, "DTSTART", &start, rid)));
    if let Some(d) = m.prop("DURATION") {
        text.push_str(&String::from_utf8_lossy(&raw[d.start..d.end]));
    } else if let Some(end) = m.prop("DTEND").and_then(when) {
        let length = instant(&cal, raw, &end) - instant(&cal, raw, &start);
        text.push_str(&p.line(&line_like(&cal, raw, "DTEND", &end, rid + length)));
    }
    text.push_str(&p.line(&format!("DTSTAMP:{}", stamp(now))));
    for c in &m.children {
        text.push_str(&String::from_utf8_lossy(&raw[c.start..c.end]));
    }
    text.push_str(&p.line("END:VEVENT"));
    p.insert(cal.end_at, text);
    Some(p.finish())
}

fn zone_opt(d: &EventDraft) -> Option<String> {
    let tz = d.tz.trim();
    (!d.all_day && !tz.is_empty()).then(|| tz.to_string())
}

fn start_of(d: &EventDraft) -> Result<Start, String> {
    input::parse_when(&d.start, d.all_day, &zone_opt(d))
}

/// A typed end as written: all day, the day after the last.
fn end_of(d: &EventDraft) -> Result<Start, String> {
    match input::parse_when(&d.end, d.all_day, &zone_opt(d))? {
        Start::Date(e) => Ok(Start::Date(e + Duration::days(1))),
        other => Ok(other),
    }
}

fn local(s: &Start) -> NaiveDateTime {
    match s {
        Start::Date(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default(),
        Start::Local(t, _) => *t,
    }
}

fn number(s: &str, min: u32, max: u32) -> Option<u32> {
    s.trim().parse().ok().filter(|n| (min..=max).contains(n))
}

pub fn check(d: &EventDraft, before: Option<&EventDraft>) -> Vec<FieldError> {
    let mut out = Vec::new();
    let mut err = |f, m: &str| out.push(FieldError::new(f, 0, m));
    if d.summary.trim().is_empty() {
        err(FieldId::Summary, "an event needs a summary");
    }
    let tz = d.tz.trim();
    let tz_known = before.is_some_and(|b| b.tz.trim() == tz);
    if !d.all_day && !tz.is_empty() && !tz_known && chrono_tz::Tz::from_str(tz).is_err() {
        err(
            FieldId::Tz,
            "not an IANA time zone (e.g. Europe/Berlin; empty: local time)",
        );
    }
    let start = match start_of(d) {
        Ok(s) => Some(s),
        Err(_) if d.all_day => {
            err(FieldId::Start, "all day: a date, YYYY-MM-DD");
            None
        }
        Err(_) => {
            err(FieldId::Start, "use YYYY-MM-DD HH:MM");
            None
        }
    };
    if !d.end.trim().is_empty() {
        match (end_of(d), &start) {
            (Err(_), _) => err(
                FieldId::End,
                if d.all_day {
                    "all day: the last day, YYYY-MM-DD"
                } else {
                    "use YYYY-MM-DD HH:MM"
                },
            ),
            (Ok(e), Some(s)) if local(&e) <= local(s) => err(FieldId::End, "ends before it starts"),
            _ => {}
        }
    }
    if !d.duration.trim().is_empty() {
        if input::parse_duration(&d.duration).is_none() {
            err(FieldId::Duration, "use 30m, 1h, 1h30m, 2d");
        } else if !d.end.trim().is_empty() {
            err(FieldId::Duration, "give an end or a duration, not both");
        }
    }
    if !d.alarm.trim().is_empty() && number(&d.alarm, 0, MAX_ALARM_MINUTES).is_none() {
        err(FieldId::Alarm, "minutes before the start (empty: no alarm)");
    }
    if !matches!(d.repeat.as_str(), "" | "none") {
        if !d.interval.trim().is_empty() && number(&d.interval, 1, 1000).is_none() {
            err(FieldId::Interval, "every N: a number from 1");
        }
        if !d.until.trim().is_empty() {
            match NaiveDate::parse_from_str(d.until.trim(), "%Y-%m-%d") {
                Err(_) => err(FieldId::Until, "the last day, YYYY-MM-DD"),
                Ok(u) if start.as_ref().is_some_and(|s| u < local(s).date()) => {
                    err(FieldId::Until, "ends before the first occurrence")
                }
                Ok(_) => {}
            }
        }
        if !d.count.trim().is_empty() {
            if number(&d.count, 1, 100_000).is_none() {
                err(FieldId::Count, "how many times: a number from 1");
            } else if !d.until.trim().is_empty() {
                err(FieldId::Count, "give an until date or a count, not both");
            }
        }
    }
    out
}

/// The RRULE the draft asks for (None: no repetition). `extras`: parts of the old rule the
/// form does not show (BYDAY …), kept while the frequency is the same.
fn rrule(d: &EventDraft, extras: &[String], zone: &Zone) -> Option<String> {
    if matches!(d.repeat.as_str(), "" | "none") {
        return None;
    }
    let mut parts = vec![format!("FREQ={}", d.repeat.to_ascii_uppercase())];
    if let Some(n) = number(&d.interval, 2, 1000) {
        parts.push(format!("INTERVAL={n}"));
    }
    if let Ok(u) = NaiveDate::parse_from_str(d.until.trim(), "%Y-%m-%d") {
        let last = u.and_hms_opt(23, 59, 59).unwrap_or_default();
        parts.push(match zone_opt(d) {
            _ if d.all_day => format!("UNTIL={}", u.format("%Y%m%d")),
            // RFC 5545: with a zoned start, UNTIL is in UTC; floating stays floating.
            Some(_) => format!("UNTIL={}", zone.to_utc(last).format("%Y%m%dT%H%M%SZ")),
            None => format!("UNTIL={}", last.format("%Y%m%dT%H%M%S")),
        });
    } else if let Some(n) = number(&d.count, 1, 100_000) {
        parts.push(format!("COUNT={n}"));
    }
    parts.extend(extras.iter().cloned());
    Some(parts.join(";"))
}

/// Writes the difference into the master (`rid` None) or the override for `rid`.
pub fn apply(
    raw: &[u8],
    rid: Option<i64>,
    before: &EventDraft,
    after: &EventDraft,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let base = match rid {
        Some(r) => with_override(raw, r, now).ok_or("the event has no such occurrence")?,
        None => raw.to_vec(),
    };
    let cal = calendar(&base).ok_or("the text holds no calendar")?;
    let c = match rid {
        Some(r) => find_override(&cal, &base, r),
        None => master(&cal),
    }
    .ok_or("the calendar holds no event")?;
    let mut p = Patch::new(&base);
    for (name, b, a) in [
        ("SUMMARY", &before.summary, &after.summary),
        ("LOCATION", &before.location, &after.location),
        ("DESCRIPTION", &before.description, &after.description),
    ] {
        if b != a {
            text_prop(&mut p, c, name, a.trim());
        }
    }
    let zone_changed = before.tz.trim() != after.tz.trim() || before.all_day != after.all_day;
    let start_changed = before.start != after.start || zone_changed;
    let end_typed = !after.end.trim().is_empty() || !after.duration.trim().is_empty();
    let end_changed = before.end != after.end || before.duration != after.duration;
    if start_changed {
        set_line(
            &mut p,
            c,
            "DTSTART",
            &date_line("DTSTART", &start_of(after)?),
        );
    }
    if end_changed || zone_changed || (start_changed && !end_typed) {
        if !after.end.trim().is_empty() {
            set_line(&mut p, c, "DTEND", &date_line("DTEND", &end_of(after)?));
            remove_all(&mut p, c, "DURATION");
        } else if let Some(d) = input::parse_duration(&after.duration) {
            set_line(&mut p, c, "DURATION", &format!("DURATION:{d}"));
            remove_all(&mut p, c, "DTEND");
        } else {
            remove_all(&mut p, c, "DTEND");
            remove_all(&mut p, c, "DURATION");
        }
    }
    if let Some(tz) = zone_opt(after).filter(|t| zone_changed && !is_utc(t)) {
        let has = cal.child("VTIMEZONE").any(|z| z.text("TZID").trim() == tz);
        let first_start = local(&start_of(after)?);
        let at = Zone::named(&tz)
            .map(|z| z.to_utc(first_start).timestamp())
            .unwrap_or(0);
        if let (false, Some(block)) = (has, vtimezone(&tz, at - 366 * 86_400, at + 3660 * 86_400)) {
            let first = cal
                .children
                .iter()
                .find(|k| k.name != "VTIMEZONE")
                .map_or(cal.end_at, |k| k.start);
            let block = p.block(&block);
            p.insert(first, block);
        }
    }
    if before.alarm.trim() != after.alarm.trim() {
        let minutes = after.alarm.trim();
        let trigger = |m: &str| {
            if m == "0" {
                "PT0M".to_string()
            } else {
                format!("-PT{m}M")
            }
        };
        match (form_alarm(c), minutes) {
            (Some((a, _)), "") => p.remove(a.start, a.end),
            (Some((a, _)), m) => {
                if let Some(t) = a.prop("TRIGGER") {
                    p.replace(t, &format!("{}:{}", t.head(), trigger(m)));
                }
            }
            (None, "") => {}
            (None, m) => {
                let summary = if after.summary.trim().is_empty() {
                    "Reminder"
                } else {
                    after.summary.trim()
                };
                let mut block = String::new();
                for l in [
                    "BEGIN:VALARM".to_string(),
                    "ACTION:DISPLAY".to_string(),
                    format!("DESCRIPTION:{}", escape(summary)),
                    format!("TRIGGER:{}", trigger(m)),
                    "END:VALARM".to_string(),
                ] {
                    block.push_str(&p.line(&l));
                }
                p.insert(c.end_at, block);
            }
        }
    }
    let rule_changed = before.repeat != after.repeat
        || before.interval.trim() != after.interval.trim()
        || before.until.trim() != after.until.trim()
        || before.count.trim() != after.count.trim()
        || (zone_changed && !after.until.trim().is_empty());
    if rid.is_none() && rule_changed {
        let old = c.prop("RRULE").map(|r| r.raw_value()).unwrap_or_default();
        let extras: Vec<String> = if before.repeat == after.repeat {
            old.trim()
                .split(';')
                .filter(|part| {
                    let key = part.split('=').next().unwrap_or("").to_ascii_uppercase();
                    !part.is_empty()
                        && !["FREQ", "INTERVAL", "UNTIL", "COUNT"].contains(&key.as_str())
                })
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        };
        let z = zone(&cal, &base, after.tz.trim());
        match rrule(after, &extras, &z) {
            Some(r) => set_line(&mut p, c, "RRULE", &format!("RRULE:{r}")),
            None => remove_all(&mut p, c, "RRULE"),
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

/// A new event: `write::new_event`'s skeleton (UID, DTSTAMP, VTIMEZONE) with the draft applied.
pub fn create(d: &EventDraft, uid: &str, now: DateTime<Utc>) -> Result<Vec<u8>, String> {
    let skeleton = write::new_event(
        &write::NewEvent {
            uid,
            summary: d.summary.trim(),
            start: start_of(d)?,
            end: None,
            duration: None,
            rrule: None,
            location: None,
        },
        now,
    );
    let before = read(skeleton.as_bytes()).ok_or("could not read the new event")?;
    apply(skeleton.as_bytes(), None, &before, d, now)
}
