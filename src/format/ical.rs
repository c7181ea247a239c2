//! iCalendar items: events, to-dos and journals, from one item's exact bytes.
//!
//! The text is unfolded on bytes, checked by calcard (a parse failure, or fewer components than
//! `BEGIN:` lines, is a problem the caller flags), then read into the model: dates with their
//! zones, text values unescaped, and, for events, the occurrences inside a window.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::lines::{self, decode, Line};
use super::tz::{CustomZone, Zone};
use crate::model::{EventFields, Fields, Kind, Moment, Problem, TodoFields};

pub use super::occur::overlaps;

/// A component and its sub-components, as logical lines.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub line: usize,
    pub props: Vec<Line>,
    pub children: Vec<Node>,
    /// All lines of the component including BEGIN/END (for VTIMEZONE rules).
    pub all: Vec<Line>,
}

impl Node {
    pub fn prop(&self, name: &str) -> Option<&Line> {
        self.props
            .iter()
            .find(|l| lines::is_prop(&l.text, name.as_bytes()))
    }

    pub fn props_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Line> + 'a {
        self.props
            .iter()
            .filter(move |l| lines::is_prop(&l.text, name.as_bytes()))
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.prop(name)
            .and_then(|l| l.value())
            .map(|v| unescape(&decode(v)))
            .filter(|s| !s.is_empty())
    }
}

/// Builds the component tree from logical lines. Returns the top-level nodes.
pub fn tree(lines: &[Line]) -> Vec<Node> {
    // `all` (every line, for evaluating a VTIMEZONE's rules) is kept for VTIMEZONE subtrees only.
    let mut stack: Vec<(Node, bool)> = Vec::new();
    let mut top = Vec::new();
    let close = |stack: &mut Vec<(Node, bool)>, top: &mut Vec<Node>| {
        if let Some((done, _)) = stack.pop() {
            match stack.last_mut() {
                Some((parent, _)) => parent.children.push(done),
                None => top.push(done),
            }
        }
    };
    for l in lines {
        let keep = |stack: &mut Vec<(Node, bool)>| {
            for (n, all) in stack.iter_mut() {
                if *all {
                    n.all.push(l.clone());
                }
            }
        };
        match l.marker() {
            Some((true, name)) => {
                keep(&mut stack);
                let all = name == "VTIMEZONE" || stack.last().is_some_and(|(_, a)| *a);
                stack.push((
                    Node {
                        all: if all { vec![l.clone()] } else { Vec::new() },
                        name,
                        line: l.number,
                        ..Node::default()
                    },
                    all,
                ));
            }
            Some((false, _)) => {
                keep(&mut stack);
                close(&mut stack, &mut top);
            }
            None => {
                keep(&mut stack);
                if let Some((n, _)) = stack.last_mut() {
                    n.props.push(l.clone());
                }
            }
        }
    }
    // Unterminated components are still returned (the splitter already reported them).
    while !stack.is_empty() {
        close(&mut stack, &mut top);
    }
    top
}

/// RFC 5545 TEXT unescaping.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a TEXT list on unescaped commas, unescaping each part.
pub fn split_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut esc = false;
    for c in s.chars() {
        if esc {
            cur.push('\\');
            cur.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == ',' {
            out.push(unescape(&cur));
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    out.push(unescape(&cur));
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `20250317T090000` or `20250317` (midnight); a trailing `Z` is ignored here.
pub fn parse_local(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim().trim_end_matches(['Z', 'z']);
    if s.len() == 8 {
        return NaiveDate::parse_from_str(s, "%Y%m%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0));
    }
    NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S").ok()
}

/// ISO 8601 durations as RFC 5545 writes them: `PT1H30M`, `P1D`, `-PT15M`, `P2W`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let s = s.strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut num = String::new();
    let mut seen = false;
    for c in s.chars() {
        match c {
            'T' => {}
            '0'..='9' => num.push(c),
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                seen = true;
                let part = match c {
                    'W' => Duration::try_weeks(n),
                    'D' => Duration::try_days(n),
                    'H' => Duration::try_hours(n),
                    'M' => Duration::try_minutes(n),
                    _ => Duration::try_seconds(n),
                }?;
                total = total.checked_add(&part)?;
            }
            _ => return None,
        }
    }
    // Nothing a calendar shows lasts a century; longer values would only overflow date maths.
    if !seen || !num.is_empty() || total > Duration::days(36_600) {
        return None;
    }
    Some(if neg { -total } else { total })
}

/// The item's zones by TZID.
pub struct Resolver {
    zones: HashMap<String, Zone>,
}

impl Resolver {
    pub fn new(vtimezones: &[&Node]) -> (Resolver, Vec<Problem>) {
        let mut zones = HashMap::new();
        let mut problems = Vec::new();
        for node in vtimezones {
            let Some(tzid) = node.text("TZID") else {
                problems.push(Problem {
                    line: node.line,
                    reason: "VTIMEZONE without TZID".into(),
                });
                continue;
            };
            let known = Zone::named(&tzid)
                .or_else(|| node.text("X-LIC-LOCATION").and_then(|n| Zone::named(&n)))
                .or_else(|| {
                    node.text("X-MICROSOFT-CDO-TZID").and_then(|id| {
                        match calcard::common::timezone::Tz::from_ms_cdo_zone_id(&id) {
                            Some(calcard::common::timezone::Tz::Tz(tz)) => Some(Zone::Iana(tz)),
                            _ => None,
                        }
                    })
                });
            let zone = match known {
                Some(z) => z,
                None => match CustomZone::from_lines(&node.all) {
                    Ok(c) => Zone::Custom(Arc::new(c)),
                    Err(e) => {
                        problems.push(Problem {
                            line: node.line,
                            reason: format!("VTIMEZONE {tzid:?} cannot be evaluated: {e}"),
                        });
                        continue;
                    }
                },
            };
            zones.insert(tzid, zone);
        }
        (Resolver { zones }, problems)
    }

    pub fn resolve(&self, tzid: &str) -> Result<Zone, String> {
        if let Some(z) = self.zones.get(tzid) {
            return Ok(z.clone());
        }
        Zone::named(tzid).ok_or_else(|| {
            format!("TZID {tzid:?} is neither a known zone nor defined by a VTIMEZONE in the item")
        })
    }
}

/// A date or date-time property, resolved.
#[derive(Debug, Clone)]
pub struct When {
    pub moment: Moment,
    /// Wall-clock time (midnight for dates) and the zone it is in.
    pub local: NaiveDateTime,
    pub zone: Zone,
    pub tzid: Option<String>,
}

impl When {
    pub fn is_date(&self) -> bool {
        matches!(self.moment, Moment::Date(_))
    }

    /// This time moved by `d` in wall-clock terms.
    pub fn shifted(&self, d: Duration) -> Moment {
        let local = self.local.checked_add_signed(d).unwrap_or(self.local);
        match self.moment {
            Moment::Date(_) => Moment::Date(local.date()),
            Moment::Instant(_) => Moment::Instant(self.zone.to_utc(local)),
        }
    }
}

/// Reads one value of a date/date-time property (`value` may be one of a comma list).
pub fn when_of(line: &Line, value: &str, res: &Resolver) -> Result<When, String> {
    let name = line.name();
    let value = value.trim();
    let value = value.split('/').next().unwrap_or(value); // PERIOD: its start
    let is_date = line
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
        || (value.len() == 8 && !value.contains('T'));
    let local = parse_local(value)
        .ok_or_else(|| format!("{name} value {value:?} is not a date or date-time"))?;
    if is_date {
        return Ok(When {
            moment: Moment::Date(local.date()),
            local,
            zone: Zone::Floating,
            tzid: None,
        });
    }
    if value.ends_with(['Z', 'z']) {
        return Ok(When {
            moment: Moment::Instant(local.and_utc()),
            local,
            zone: Zone::utc(),
            tzid: None,
        });
    }
    match line.param("TZID") {
        Some(tzid) => {
            // An unknown zone is reported by `when` (the item gets flagged); the time is read
            // as the user's local time meanwhile, never as UTC.
            let zone = res.resolve(&tzid).unwrap_or(Zone::Floating);
            Ok(When {
                moment: Moment::Instant(zone.to_utc(local)),
                local,
                zone,
                tzid: Some(tzid),
            })
        }
        None => Ok(When {
            moment: Moment::Instant(Zone::Floating.to_utc(local)),
            local,
            zone: Zone::Floating,
            tzid: None,
        }),
    }
}

pub(super) fn when(
    node: &Node,
    name: &str,
    res: &Resolver,
    problems: &mut Vec<Problem>,
) -> Option<When> {
    let line = node.prop(name)?;
    if let Some(tzid) = line.param("TZID") {
        if let Err(reason) = res.resolve(&tzid) {
            problems.push(Problem {
                line: line.number,
                reason: format!("{reason}; read as your local time"),
            });
        }
    }
    let value = decode(line.value().unwrap_or_default());
    match when_of(line, &value, res) {
        Ok(w) => Some(w),
        Err(reason) => {
            problems.push(Problem {
                line: line.number,
                reason,
            });
            None
        }
    }
}

/// Everything read from one calendar item.
pub struct Calendar {
    pub kind: Kind,
    pub fields: Fields,
    pub problems: Vec<Problem>,
    pub(super) roots: Vec<Node>,
}

/// Reads an iCalendar item. `lines` are its logical lines.
pub fn read(lines: &[Line]) -> Calendar {
    let mut problems = Vec::new();
    let roots = tree(lines);
    let comps: Vec<&Node> = components(&roots);
    let vtz: Vec<&Node> = all_named(&roots, "VTIMEZONE");
    let (res, tz_problems) = Resolver::new(&vtz);
    problems.extend(tz_problems);
    let master = comps
        .iter()
        .find(|c| c.prop("RECURRENCE-ID").is_none())
        .or_else(|| comps.first())
        .copied();
    let Some(master) = master else {
        problems.push(Problem {
            line: 1,
            reason: "no VEVENT, VTODO or VJOURNAL in the calendar".into(),
        });
        return Calendar {
            kind: Kind::Event,
            fields: Fields::Event(EventFields::default()),
            problems,
            roots,
        };
    };
    let (kind, fields) = match master.name.as_str() {
        "VTODO" => (
            Kind::Todo,
            Fields::Todo(todo_fields(master, &res, &mut problems)),
        ),
        "VJOURNAL" => (
            Kind::Journal,
            Fields::Journal {
                summary: master.text("SUMMARY").unwrap_or_default(),
            },
        ),
        _ => (
            Kind::Event,
            Fields::Event(event_fields(master, &res, &mut problems)),
        ),
    };
    // Check every override's dates too, so damage there is reported.
    for c in comps.iter().filter(|c| c.prop("RECURRENCE-ID").is_some()) {
        when(c, "RECURRENCE-ID", &res, &mut problems);
        when(c, "DTSTART", &res, &mut problems);
    }
    Calendar {
        kind,
        fields,
        problems,
        roots,
    }
}

pub(super) fn components(roots: &[Node]) -> Vec<&Node> {
    let mut out = Vec::new();
    for r in roots {
        if r.name == "VCALENDAR" {
            out.extend(
                r.children
                    .iter()
                    .filter(|c| matches!(c.name.as_str(), "VEVENT" | "VTODO" | "VJOURNAL")),
            );
        } else if matches!(r.name.as_str(), "VEVENT" | "VTODO" | "VJOURNAL") {
            out.push(r);
        }
    }
    out
}

pub(super) fn all_named<'a>(roots: &'a [Node], name: &str) -> Vec<&'a Node> {
    let mut out = Vec::new();
    for r in roots {
        if r.name == name {
            out.push(r);
        }
        out.extend(r.children.iter().filter(|c| c.name == name));
    }
    out
}

fn event_fields(node: &Node, res: &Resolver, problems: &mut Vec<Problem>) -> EventFields {
    let start = when(node, "DTSTART", res, problems);
    if start.is_none() && node.prop("DTSTART").is_none() {
        problems.push(Problem {
            line: node.line,
            reason: "VEVENT has no DTSTART".into(),
        });
    }
    let end = end_of(node, start.as_ref(), res, problems);
    let rrule = node
        .prop("RRULE")
        .and_then(|l| l.value())
        .map(|v| decode(v).trim().to_string());
    if let (Some(rule), Some(s), Some(line)) = (&rrule, &start, node.prop("RRULE")) {
        if let Err(reason) = super::recur::check_rule(s.local, rule) {
            problems.push(Problem {
                line: line.number,
                reason,
            });
        }
    }
    let recurring = rrule.is_some() || node.prop("RDATE").is_some();
    EventFields {
        summary: node.text("SUMMARY").unwrap_or_default(),
        location: node.text("LOCATION"),
        description: node.text("DESCRIPTION"),
        all_day: start.as_ref().is_some_and(When::is_date),
        tzid: start.as_ref().and_then(|s| s.tzid.clone()),
        start: start.map(|s| s.moment),
        end,
        rrule,
        recurring,
        categories: node
            .props_named("CATEGORIES")
            .flat_map(|l| split_list(&decode(l.value().unwrap_or_default())))
            .collect(),
    }
}

pub(super) fn end_of(
    node: &Node,
    start: Option<&When>,
    res: &Resolver,
    problems: &mut Vec<Problem>,
) -> Option<Moment> {
    if let Some(end) = when(node, "DTEND", res, problems) {
        // A day-long event whose DTEND is not after its DTSTART (producers write DTEND equal
        // to DTSTART) lasts its one day, as one without DTEND does: an empty span would show
        // on no day at all.
        match start {
            Some(s) if s.is_date() && end.moment.timestamp() <= s.moment.timestamp() => {}
            _ => return Some(end.moment),
        }
    }
    let start = start?;
    if let Some(line) = node.prop("DURATION") {
        let v = decode(line.value().unwrap_or_default());
        match parse_duration(&v) {
            Some(d) => return Some(start.shifted(d)),
            None => problems.push(Problem {
                line: line.number,
                reason: format!("DURATION value {v:?} is not a duration"),
            }),
        }
    }
    Some(if start.is_date() {
        start.shifted(Duration::days(1))
    } else {
        start.moment
    })
}

fn todo_fields(node: &Node, res: &Resolver, problems: &mut Vec<Problem>) -> TodoFields {
    let int = |name: &str, problems: &mut Vec<Problem>| -> Option<i64> {
        let line = node.prop(name)?;
        let v = decode(line.value().unwrap_or_default());
        match v.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(Problem {
                    line: line.number,
                    reason: format!("{name} value {v:?} is not an integer"),
                });
                None
            }
        }
    };
    let parent = node
        .props_named("RELATED-TO")
        .find(|l| {
            l.param("RELTYPE")
                .is_none_or(|t| t.eq_ignore_ascii_case("PARENT"))
        })
        .and_then(|l| l.value())
        .map(|v| unescape(decode(v).trim()));
    TodoFields {
        summary: node.text("SUMMARY").unwrap_or_default(),
        description: node.text("DESCRIPTION"),
        location: node.text("LOCATION"),
        start: when(node, "DTSTART", res, problems).map(|w| w.moment),
        due: when(node, "DUE", res, problems).map(|w| w.moment),
        priority: int("PRIORITY", problems)
            .filter(|p| (1..=9).contains(p))
            .map(|p| p as u8),
        status: node.text("STATUS").map(|s| s.to_ascii_uppercase()),
        percent_complete: int("PERCENT-COMPLETE", problems).map(|p| p.clamp(0, 100) as u8),
        completed: when(node, "COMPLETED", res, problems).map(|w| w.moment),
        categories: node
            .props_named("CATEGORIES")
            .flat_map(|l| split_list(&decode(l.value().unwrap_or_default())))
            .collect(),
        parent,
    }
}

/// Unfolds and reads an iCalendar item from its bytes.
pub fn read_bytes(raw: &[u8]) -> Calendar {
    read(&lines::logical_lines(raw))
}
