//! Recurrence: RRULE expansion in wall-clock time, then conversion to UTC per occurrence.
//!
//! RFC 5545 recurrences step in local time ("every Monday 09:00 Berlin" stays at 09:00 across a
//! DST change), so rules are expanded on naive local times (the rrule crate with UTC standing in
//! for "no zone") and every occurrence is then converted with its own zone. That is what makes
//! DST edges right, and it works the same for custom VTIMEZONEs.

use chrono::{DateTime, NaiveDateTime, TimeZone};
use rrule::{RRule, RRuleSet, Tz, Unvalidated};

use super::tz::Zone;

/// Upper bound on occurrences produced for one rule in one window.
pub const MAX_OCCURRENCES: u16 = u16::MAX;

fn fake(t: NaiveDateTime) -> DateTime<Tz> {
    Tz::UTC.from_utc_datetime(&t)
}

/// Rewrites UNTIL into the naive local time the expansion works in: a UTC UNTIL is converted to
/// the event's zone, a date UNTIL becomes the end of that day.
fn local_rule(rule: &str, zone: Option<&Zone>) -> String {
    rule.trim()
        .split(';')
        .map(|part| {
            let Some((k, v)) = part.split_once('=') else {
                return part.to_string();
            };
            if !k.trim().eq_ignore_ascii_case("UNTIL") {
                return part.to_string();
            }
            let v = v.trim();
            if v.len() == 8 {
                return format!("UNTIL={v}T235959Z");
            }
            if let Some(utc) = v.strip_suffix('Z').or_else(|| v.strip_suffix('z')) {
                if let (Some(zone), Some(t)) = (zone, super::ical::parse_local(utc)) {
                    let local = zone.to_local(t.and_utc());
                    return format!("UNTIL={}Z", local.format("%Y%m%dT%H%M%S"));
                }
                return format!("UNTIL={utc}Z");
            }
            format!("UNTIL={v}Z")
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Expands `rule` from `start` (naive local), returning the local times in [from, to].
/// `zone` converts a UTC UNTIL; pass None when `start` is itself UTC or floating-as-UTC.
pub fn expand_rule_in(
    start: NaiveDateTime,
    rule: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: u16,
    zone: Option<&Zone>,
) -> Result<Vec<NaiveDateTime>, String> {
    // The rrule crate slices rule text by bytes and panics inside a multi-byte character.
    if !rule.is_ascii() {
        return Err(format!(
            "RRULE:{rule} has characters outside ASCII; not a valid rule"
        ));
    }
    let upper = rule.to_ascii_uppercase();
    if upper.contains("FREQ=SECONDLY") || upper.contains("FREQ=MINUTELY") {
        return Err(format!(
            "RRULE:{rule} repeats every second or minute; Holdfast shows such an event once"
        ));
    }
    let text = local_rule(rule, zone);
    let parsed: RRule<Unvalidated> = text
        .parse()
        .map_err(|e| format!("RRULE:{rule} is not a valid rule: {e}"))?;
    let dtstart = fake(start);
    let valid = parsed
        .validate(dtstart)
        .map_err(|e| format!("RRULE:{rule} is not a valid rule: {e}"))?;
    let set = RRuleSet::new(dtstart)
        .rrule(valid)
        .after(fake(from))
        .before(fake(to));
    let result = set.all(limit);
    if result.limited && limit == MAX_OCCURRENCES && result.dates.len() >= usize::from(limit) {
        return Err(format!(
            "RRULE:{rule} gives more than {limit} occurrences in one window; not expanded"
        ));
    }
    Ok(result.dates.iter().map(|d| d.naive_utc()).collect())
}

/// Whether a rule can be expanded at all (checked once, when an item is read): the first few
/// occurrences from `start`.
pub fn check_rule(start: NaiveDateTime, rule: &str) -> Result<(), String> {
    let far = start
        .checked_add_signed(chrono::Duration::days(3660))
        .unwrap_or(start);
    expand_rule_in(start, rule, start, far, 3, None).map(|_| ())
}

/// Expansion for VTIMEZONE observances (no zone of their own).
pub fn expand_rule(
    start: NaiveDateTime,
    rule: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: u16,
) -> Result<Vec<NaiveDateTime>, String> {
    expand_rule_in(start, rule, from, to, limit, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap_or_default()
    }

    #[test]
    fn weekly_count_stays_at_wall_clock_time() {
        let got = expand_rule(
            at(2025, 3, 17, 9),
            "FREQ=WEEKLY;COUNT=4",
            at(2025, 1, 1, 0),
            at(2026, 1, 1, 0),
            100,
        )
        .unwrap_or_default();
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|t| t.format("%H").to_string() == "09"));
    }

    #[test]
    fn utc_until_is_converted_to_the_zone() {
        let berlin = Zone::named("Europe/Berlin").unwrap_or(Zone::Floating);
        // UNTIL 08:00Z on Mar 24 is 09:00 Berlin: the Mar 24 occurrence is included.
        let got = expand_rule_in(
            at(2025, 3, 17, 9),
            "FREQ=WEEKLY;UNTIL=20250324T080000Z",
            at(2025, 1, 1, 0),
            at(2026, 1, 1, 0),
            100,
            Some(&berlin),
        )
        .unwrap_or_default();
        assert_eq!(got.len(), 2);
    }
}
