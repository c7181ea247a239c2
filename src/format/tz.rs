//! Time zones: what a TZID means.
//!
//! Resolution order for a TZID: an IANA name or a Windows name (calcard's table, e.g.
//! "W. Europe Standard Time"), then the item's own VTIMEZONE if calcard maps it to a known zone
//! (X-LIC-LOCATION, X-MICROSOFT-CDO-TZID), then the VTIMEZONE's own STANDARD/DAYLIGHT rules.
//! A TZID that is none of these is an error for the caller to report: never silently UTC.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDateTime, Offset, TimeZone, Utc};

use super::lines::{decode, Line};

/// A resolved zone.
#[derive(Debug, Clone)]
pub enum Zone {
    /// No zone: the user's local zone (RFC 5545 floating time).
    Floating,
    Fixed(FixedOffset),
    Iana(chrono_tz::Tz),
    /// A VTIMEZONE evaluated from its own rules.
    Custom(Arc<CustomZone>),
}

impl Zone {
    pub fn utc() -> Zone {
        Zone::Fixed(FixedOffset::east_opt(0).unwrap_or_else(|| Utc.fix()))
    }

    /// Name of an IANA or Windows zone, if we know it.
    pub fn named(name: &str) -> Option<Zone> {
        let name = name.trim().trim_matches('"');
        let name = name.strip_prefix('/').unwrap_or(name);
        if let Ok(tz) = chrono_tz::Tz::from_str(name) {
            return Some(Zone::Iana(tz));
        }
        match calcard::common::timezone::Tz::from_str(name) {
            Ok(calcard::common::timezone::Tz::Tz(tz)) => Some(Zone::Iana(tz)),
            Ok(calcard::common::timezone::Tz::Fixed(off)) => Some(Zone::Fixed(off)),
            _ => None,
        }
    }

    /// The instant a local wall-clock time stands for. In a DST gap the time moves forward by
    /// the gap (as RFC 5545 §3.3.5 asks); an ambiguous time takes the first of the two.
    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        fn pick<T: TimeZone>(tz: &T, local: NaiveDateTime) -> DateTime<Utc> {
            for shift in [0, 1, 2] {
                if let Some(t) = tz
                    .from_local_datetime(&(local + Duration::hours(shift)))
                    .earliest()
                {
                    return t.with_timezone(&Utc);
                }
            }
            local.and_utc()
        }
        match self {
            Zone::Floating => pick(&Local, local),
            Zone::Fixed(off) => pick(off, local),
            Zone::Iana(tz) => pick(tz, local),
            Zone::Custom(z) => z.to_utc(local),
        }
    }

    /// Wall-clock time in this zone of an instant.
    pub fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Zone::Floating => t.with_timezone(&Local).naive_local(),
            Zone::Fixed(off) => t.with_timezone(off).naive_local(),
            Zone::Iana(tz) => t.with_timezone(tz).naive_local(),
            Zone::Custom(z) => z.to_local(t),
        }
    }
}

/// One onset of an observance: from `local` (wall time in the previous offset) on, `offset` applies.
#[derive(Debug, Clone, Copy)]
struct Transition {
    local: NaiveDateTime,
    utc: NaiveDateTime,
    offset: i32,
}

/// A VTIMEZONE's rules, expanded into a sorted list of transitions.
#[derive(Debug)]
pub struct CustomZone {
    pub tzid: String,
    transitions: Vec<Transition>,
    initial: i32,
}

/// Transitions are expanded up to this year; later times use the last known offset pattern.
const CUSTOM_ZONE_LAST_YEAR: i32 = 2200;

impl CustomZone {
    /// Builds a zone from a VTIMEZONE's logical lines (BEGIN:VTIMEZONE … END:VTIMEZONE).
    pub fn from_lines(lines: &[Line]) -> Result<CustomZone, String> {
        let mut tzid = String::new();
        let mut transitions = Vec::new();
        let mut initial = None;
        let mut obs: Option<Observance> = None;
        for l in lines {
            match l.marker() {
                Some((true, n)) if n == "STANDARD" || n == "DAYLIGHT" => {
                    obs = Some(Observance::default());
                }
                Some((false, n)) if n == "STANDARD" || n == "DAYLIGHT" => {
                    if let Some(o) = obs.take() {
                        let from = o.from.ok_or("observance without TZOFFSETFROM")?;
                        let to = o.to.ok_or("observance without TZOFFSETTO")?;
                        let start = o.start.ok_or("observance without DTSTART")?;
                        if initial.is_none() {
                            initial = Some(from);
                        }
                        let mut onsets = vec![start];
                        if let Some(rule) = &o.rrule {
                            onsets.extend(expand_observance(start, rule, from)?);
                        }
                        onsets.extend(o.rdates.iter().copied());
                        for local in onsets {
                            transitions.push(Transition {
                                local,
                                utc: local - Duration::seconds(i64::from(from)),
                                offset: to,
                            });
                        }
                    }
                }
                _ => {
                    let value = l.value().map(decode).unwrap_or_default();
                    let value = value.trim();
                    match (l.name().as_str(), obs.as_mut()) {
                        ("TZID", None) => tzid = value.to_string(),
                        ("DTSTART", Some(o)) => o.start = super::ical::parse_local(value),
                        ("TZOFFSETFROM", Some(o)) => o.from = parse_offset(value),
                        ("TZOFFSETTO", Some(o)) => o.to = parse_offset(value),
                        ("RRULE", Some(o)) => o.rrule = Some(value.to_string()),
                        ("RDATE", Some(o)) => o
                            .rdates
                            .extend(value.split(',').filter_map(super::ical::parse_local)),
                        _ => {}
                    }
                }
            }
        }
        if transitions.is_empty() {
            return Err(format!(
                "VTIMEZONE {tzid:?} has no STANDARD or DAYLIGHT rules"
            ));
        }
        transitions.sort_by_key(|t| t.utc);
        let initial = initial.unwrap_or(transitions[0].offset);
        Ok(CustomZone {
            tzid,
            transitions,
            initial,
        })
    }

    fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let idx = self.transitions.partition_point(|t| t.local <= local);
        let offset = if idx == 0 {
            self.initial
        } else {
            self.transitions[idx - 1].offset
        };
        (local - Duration::seconds(i64::from(offset))).and_utc()
    }

    fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        let naive = t.naive_utc();
        let idx = self.transitions.partition_point(|tr| tr.utc <= naive);
        let offset = if idx == 0 {
            self.initial
        } else {
            self.transitions[idx - 1].offset
        };
        naive + Duration::seconds(i64::from(offset))
    }
}

#[derive(Default)]
struct Observance {
    start: Option<NaiveDateTime>,
    from: Option<i32>,
    to: Option<i32>,
    rrule: Option<String>,
    rdates: Vec<NaiveDateTime>,
}

/// Onsets of an observance. Its local times are in the offset it starts from, so a UTC UNTIL
/// is converted with that offset.
fn expand_observance(
    start: NaiveDateTime,
    rule: &str,
    offset_from: i32,
) -> Result<Vec<NaiveDateTime>, String> {
    let limit = chrono::NaiveDate::from_ymd_opt(CUSTOM_ZONE_LAST_YEAR, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or("date out of range")?;
    let zone = FixedOffset::east_opt(offset_from).map(Zone::Fixed);
    super::recur::expand_rule_in(start, rule, start, limit, 2000, zone.as_ref())
}

/// `+0100`, `-0530`, `+013000` -> seconds east of UTC.
pub fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    if rest.len() < 4 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = rest[0..2].parse().ok()?;
    let m: i32 = rest[2..4].parse().ok()?;
    let sec: i32 = if rest.len() >= 6 {
        rest[4..6].parse().ok()?
    } else {
        0
    };
    Some(sign * (h * 3600 + m * 60 + sec))
}
