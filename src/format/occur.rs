//! Occurrences of an event in a window: RRULE/RDATE expanded in wall-clock time, EXDATEs
//! removed, RECURRENCE-ID overrides applied (moved, re-titled or cancelled instances).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::ical::{
    all_named, components, end_of, parse_duration, when, when_of, Calendar, Node, Resolver,
};
use super::lines::decode;
use super::recur;
use crate::model::{Kind, Moment, Occurrence};

impl Calendar {
    /// Occurrences of an event overlapping [from, to) (seconds, UTC). A single event yields its
    /// one occurrence whatever the window (`None` window: non-recurring only, recurring: none).
    pub fn occurrences(&self, window: Option<(i64, i64)>) -> Result<Vec<Occurrence>, String> {
        if self.kind != Kind::Event {
            return Ok(Vec::new());
        }
        let comps = components(&self.roots);
        let vtz: Vec<&Node> = all_named(&self.roots, "VTIMEZONE");
        let (res, _) = Resolver::new(&vtz);
        let mut scratch = Vec::new();
        let Some(master) = comps
            .iter()
            .find(|c| c.prop("RECURRENCE-ID").is_none())
            .copied()
        else {
            // Only overrides (an invitation to some instances): each stands alone.
            let mut out = Vec::new();
            for c in comps {
                if let Some(s) = when(c, "DTSTART", &res, &mut scratch) {
                    let end = end_of(c, Some(&s), &res, &mut scratch).unwrap_or(s.moment);
                    let rid =
                        when(c, "RECURRENCE-ID", &res, &mut scratch).map(|w| w.moment.timestamp());
                    out.push(Occurrence {
                        start: s.moment,
                        end,
                        recurrence_id: rid,
                        summary: c.text("SUMMARY"),
                        location: c.text("LOCATION"),
                    });
                }
            }
            return Ok(out);
        };
        let Some(start) = when(master, "DTSTART", &res, &mut scratch) else {
            return Ok(Vec::new());
        };
        let end = end_of(master, Some(&start), &res, &mut scratch).unwrap_or(start.moment);
        let recurring = master.prop("RRULE").is_some() || master.prop("RDATE").is_some();
        if !recurring {
            return Ok(vec![Occurrence {
                start: start.moment,
                end,
                recurrence_id: None,
                summary: None,
                location: None,
            }]);
        }
        let Some((from, to)) = window else {
            return Ok(Vec::new());
        };
        // Wall-clock length, so an 09:00-10:00 series stays one hour across DST.
        let length = match (start.moment, end) {
            (Moment::Date(s), Moment::Date(e)) => Duration::days((e - s).num_days()),
            _ => match master.prop("DTEND") {
                Some(_) => {
                    let e = when(master, "DTEND", &res, &mut scratch);
                    match e {
                        Some(e) if e.tzid == start.tzid => e.local - start.local,
                        _ => Duration::seconds(end.timestamp() - start.moment.timestamp()),
                    }
                }
                None => master
                    .prop("DURATION")
                    .and_then(|l| parse_duration(&decode(l.value().unwrap_or_default())))
                    .unwrap_or_else(Duration::zero),
            },
        };
        let margin = Duration::days(2) + length.abs();
        let lo = DateTime::<Utc>::from_timestamp(from, 0)
            .map(|t| t.naive_utc() - margin)
            .unwrap_or_default();
        let hi = DateTime::<Utc>::from_timestamp(to, 0)
            .map(|t| t.naive_utc() + Duration::days(2))
            .unwrap_or_default();

        let mut locals: Vec<NaiveDateTime> = Vec::new();
        let zone = if start.is_date() {
            None
        } else {
            Some(&start.zone)
        };
        for line in master.props_named("RRULE") {
            let rule = decode(line.value().unwrap_or_default());
            // A rule that cannot be expanded was reported (and the item flagged) when the item
            // was read; its DTSTART still shows, below.
            if let Ok(found) =
                recur::expand_rule_in(start.local, &rule, lo, hi, recur::MAX_OCCURRENCES, zone)
            {
                locals.extend(found);
            }
        }
        let mut extra: Vec<Moment> = Vec::new();
        for line in master.props_named("RDATE") {
            let v = decode(line.value().unwrap_or_default());
            for part in v.split(',') {
                if let Ok(w) = when_of(line, part, &res) {
                    extra.push(w.moment);
                }
            }
        }
        let mut exdates: HashSet<i64> = HashSet::new();
        for line in master.props_named("EXDATE") {
            let v = decode(line.value().unwrap_or_default());
            for part in v.split(',') {
                if let Ok(w) = when_of(line, part, &res) {
                    exdates.insert(w.moment.timestamp());
                    if let Moment::Instant(t) = w.moment {
                        // A DATE-TIME EXDATE on an all-day series names the day.
                        exdates.insert(Moment::Date(t.date_naive()).timestamp());
                    }
                }
            }
        }
        let mut overrides: HashMap<i64, &Node> = HashMap::new();
        for c in comps.iter().filter(|c| c.prop("RECURRENCE-ID").is_some()) {
            if let Some(rid) = when(c, "RECURRENCE-ID", &res, &mut scratch) {
                overrides.insert(rid.moment.timestamp(), c);
            }
        }

        let mut starts: Vec<(Moment, NaiveDateTime)> = locals
            .into_iter()
            .map(|l| {
                let m = if start.is_date() {
                    Moment::Date(l.date())
                } else {
                    Moment::Instant(start.zone.to_utc(l))
                };
                (m, l)
            })
            .collect();
        for m in extra {
            let local = match m {
                Moment::Date(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default(),
                Moment::Instant(t) => start.zone.to_local(t),
            };
            starts.push((m, local));
        }
        // DTSTART is always the first instance (RFC 5545), even when the rule does not match it.
        if !starts.iter().any(|(m, _)| *m == start.moment) {
            let s = start.moment.timestamp();
            if s < to + margin.num_seconds() && s > from - margin.num_seconds() {
                starts.push((start.moment, start.local));
            }
        }
        starts.sort_by_key(|(m, _)| m.timestamp());
        starts.dedup_by_key(|(m, _)| m.timestamp());

        let mut out = Vec::new();
        for (m, local) in starts {
            let ts = m.timestamp();
            if exdates.contains(&ts) || overrides.contains_key(&ts) {
                continue;
            }
            let end = match m {
                Moment::Date(d) => Moment::Date(d.checked_add_signed(length).unwrap_or(d)),
                Moment::Instant(t) => {
                    let end = start
                        .zone
                        .to_utc(local.checked_add_signed(length).unwrap_or(local));
                    // A start moved forward out of a DST gap keeps its length.
                    if end <= t && length > Duration::zero() {
                        Moment::Instant(t.checked_add_signed(length).unwrap_or(t))
                    } else {
                        Moment::Instant(end)
                    }
                }
            };
            out.push(Occurrence {
                start: m,
                end,
                recurrence_id: Some(ts),
                summary: None,
                location: None,
            });
        }
        for (rid, c) in overrides {
            if c.text("STATUS")
                .is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"))
            {
                continue;
            }
            let (s, e) = match when(c, "DTSTART", &res, &mut scratch) {
                Some(s) => {
                    let e = end_of(c, Some(&s), &res, &mut scratch).unwrap_or(s.moment);
                    (s.moment, e)
                }
                None => continue,
            };
            out.push(Occurrence {
                start: s,
                end: e,
                recurrence_id: Some(rid),
                summary: c.text("SUMMARY"),
                location: c.text("LOCATION"),
            });
        }
        out.retain(|o| overlaps(o, from, to));
        out.sort_by_key(|o| o.start.timestamp());
        Ok(out)
    }
}

/// Whether an occurrence overlaps [from, to); a zero-length one counts at its start.
pub fn overlaps(o: &Occurrence, from: i64, to: i64) -> bool {
    let s = o.start.timestamp();
    let e = o.end.timestamp();
    if e <= s {
        s >= from && s < to
    } else {
        s < to && e > from
    }
}
