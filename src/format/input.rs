//! What people type into `new` and the UI's forms: times, durations, the local zone.

use chrono::{NaiveDate, NaiveDateTime};

use super::{tz::Zone, write};

/// The user's IANA zone: `TZ`, then /etc/timezone, then the /etc/localtime link. None means
/// floating time (still the user's local zone, just unnamed).
pub fn local_zone_name() -> Option<String> {
    let candidates = [
        std::env::var("TZ")
            .ok()
            .map(|t| t.trim_start_matches(':').to_string()),
        std::fs::read_to_string("/etc/timezone")
            .ok()
            .map(|s| s.trim().to_string()),
        std::fs::read_link("/etc/localtime").ok().and_then(|p| {
            let s = p.to_string_lossy().into_owned();
            s.split_once("zoneinfo/").map(|(_, z)| z.to_string())
        }),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|n| n.contains('/') || n == "UTC")
        .filter(|n| matches!(Zone::named(n), Some(Zone::Iana(_))))
}

/// A start or due time as people type it: `2026-12-01`, `2026-12-01 10:00` (or with `T`).
pub fn parse_when(s: &str, all_day: bool, tz: &Option<String>) -> Result<write::Start, String> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(if all_day {
            write::Start::Date(d)
        } else {
            write::Start::Local(d.and_hms_opt(0, 0, 0).unwrap_or_default(), tz.clone())
        });
    }
    if all_day {
        return Err(format!("{s:?}: an all-day event takes a date (YYYY-MM-DD)"));
    }
    for fmt in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(write::Start::Local(t, tz.clone()));
        }
    }
    Err(format!(
        "{s:?}: use \"YYYY-MM-DD HH:MM\" (or a date with --all-day)"
    ))
}

/// `1h`, `30m`, `1h30m`, `2d`, or an ISO 8601 duration, into ISO 8601.
/// `30m`, `1h`, `1h30m`, `2d`, or an iCalendar duration, as an iCalendar duration.
pub fn parse_duration(s: &str) -> Option<String> {
    let s = s.trim();
    if s.starts_with('P') {
        return super::ical::parse_duration(s).map(|_| s.to_string());
    }
    let (mut days, mut hours, mut minutes) = (0, 0, 0);
    let mut num = String::new();
    for c in s.chars() {
        match c {
            '0'..='9' => num.push(c),
            'd' | 'h' | 'm' => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                match c {
                    'd' => days += n,
                    'h' => hours += n,
                    _ => minutes += n,
                }
            }
            _ => return None,
        }
    }
    if !num.is_empty() || days + hours + minutes == 0 {
        return None;
    }
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours + minutes > 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
    }
    Some(out)
}
