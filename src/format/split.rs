//! Cutting a file into items: every vCard, and every VCALENDAR's components grouped by UID,
//! with the exact bytes each came with. Damage (a missing END, a line without a colon) becomes
//! a `Problem` on the item it belongs to; the item is still kept. Streams, so memory stays at the
//! file's size.

use std::collections::HashMap;

use super::lines::{decode, is_prop, physical, qp_continues, Line};
use crate::model::{Kind, Problem};

/// One item cut out of a file: its exact bytes and where it started.
#[derive(Debug, Clone)]
pub struct RawItem {
    pub kind: Kind,
    pub uid: String,
    /// The item's bytes exactly as in the file (for a multi-item VCALENDAR: the calendar's own
    /// header lines, the VTIMEZONEs the item uses and its components, each verbatim).
    pub raw: Vec<u8>,
    /// 1-based line in the source file where the item begins.
    pub line: usize,
    /// Structural damage found while splitting (missing END, a line without a colon …), with
    /// lines relative to `raw`.
    pub problems: Vec<Problem>,
    /// (first line in `raw`, its line in the file) for each verbatim segment, ascending.
    pub line_map: Vec<(usize, usize)>,
}

impl RawItem {
    /// The file line of a line of `raw` (1-based both).
    pub fn file_line(&self, line: usize) -> usize {
        match self.line_map.iter().rev().find(|(rel, _)| *rel <= line) {
            Some((rel, abs)) => abs + (line - rel),
            None => self.line + line.saturating_sub(1),
        }
    }
}

/// The result of splitting a file.
#[derive(Debug, Default)]
pub struct Split {
    pub items: Vec<RawItem>,
    /// Problems that belong to no item (text outside any BEGIN/END); line numbers are absolute.
    pub stray: Vec<Problem>,
}

/// Splits a whole .vcf or .ics file into items. Never fails: damage becomes a `Problem` on the
/// item it belongs to (its text is still kept) or in `stray`.
pub fn split(raw: &[u8]) -> Split {
    let mut out = Split::default();
    out.stray = split_each(raw, |item| out.items.push(item));
    out
}

/// Streams the items of a file to `emit` as they are cut, so memory stays at the file's size
/// (plus what the caller keeps). Returns the problems that belong to no item.
pub fn split_each(raw: &[u8], mut emit: impl FnMut(RawItem)) -> Vec<Problem> {
    // Several VCALENDARs in one file (calendars concatenated, or a CalDAV export where an
    // override sits in its own block): one UID's parts can be in different blocks. Calendar
    // items are then held until the end and each UID's parts joined into one item.
    if count_calendars(raw) > 1 {
        let mut held: Vec<RawItem> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let stray = split_all(raw, |item| {
            if item.kind == Kind::Contact {
                emit(item);
                return;
            }
            match index.get(&item.uid) {
                Some(&i) if joinable(&held[i], &item) => join(&mut held[i], item),
                _ => {
                    index.insert(item.uid.clone(), held.len());
                    held.push(item);
                }
            }
        });
        for item in held {
            emit(item);
        }
        return stray;
    }
    split_all(raw, emit)
}

/// Top-level `BEGIN:VCALENDAR` lines (a cheap byte scan).
fn count_calendars(raw: &[u8]) -> usize {
    let needle = b"BEGIN:VCALENDAR";
    raw.split(|&b| b == b'\n')
        .filter(|l| {
            let l = l.strip_prefix(b"\xef\xbb\xbf").unwrap_or(l);
            l.len() >= needle.len() && l[..needle.len()].eq_ignore_ascii_case(needle)
        })
        .count()
}

/// Whether `more` only adds to `first`: at most one of them holds the master component (the
/// one without RECURRENCE-ID). Two masters are two versions of the item, not parts of one.
fn joinable(first: &RawItem, more: &RawItem) -> bool {
    first.kind == more.kind && !(has_master(&first.raw) && has_master(&more.raw))
}

fn has_master(raw: &[u8]) -> bool {
    super::edit::calendar_parts(raw).components.iter().any(|c| {
        !super::lines::logical_lines(c)
            .iter()
            .any(|l| is_prop(&l.text, b"RECURRENCE-ID"))
    })
}

/// Moves `more`'s components, and the VTIMEZONEs `first` lacks, into `first`'s calendar.
fn join(first: &mut RawItem, more: RawItem) {
    let have = super::edit::calendar_parts(&first.raw);
    let add = super::edit::calendar_parts(&more.raw);
    let mut insert: Vec<u8> = Vec::new();
    for (id, bytes) in add.timezones {
        if !have.timezones.iter().any(|(h, _)| *h == id) {
            insert.extend_from_slice(&bytes);
        }
    }
    for c in add.components {
        insert.extend_from_slice(&c);
    }
    let end = first
        .raw
        .windows(13)
        .rposition(|w| w.eq_ignore_ascii_case(b"END:VCALENDAR"))
        .unwrap_or(first.raw.len());
    first.raw.splice(end..end, insert);
    for p in &more.problems {
        first.problems.push(Problem {
            line: 1,
            reason: format!(
                "{} (in the part at file line {})",
                p.reason,
                more.file_line(p.line)
            ),
        });
    }
}

/// Cuts every item and hands it to `emit` in file order.
fn split_all(raw: &[u8], mut emit: impl FnMut(RawItem)) -> Vec<Problem> {
    let mut stray = Vec::new();
    let mut cur = Cursor::new(raw);
    while let Some((line, span)) = cur.peek() {
        let marker = line.marker();
        match marker {
            Some((true, name)) if name == "VCARD" => split_vcard(raw, &mut cur, &mut emit),
            Some((true, name)) if name == "VCALENDAR" => {
                split_vcalendar(raw, &mut cur, &mut emit, &mut stray)
            }
            Some((true, name)) if matches!(name.as_str(), "VEVENT" | "VTODO" | "VJOURNAL") => {
                // A bare component without VCALENDAR (some exporters write these): its bytes
                // are the item.
                let first = span.line;
                let comp = read_component(&mut cur, &name);
                let uid = comp
                    .uid
                    .clone()
                    .unwrap_or_else(|| synthetic_uid(&raw[comp.span.start..comp.span.end]));
                let mut problems = comp.problems.clone();
                problems.push(Problem {
                    line: first,
                    reason: format!("{name} outside BEGIN:VCALENDAR"),
                });
                emit(RawItem {
                    kind: kind_of(&name),
                    uid,
                    raw: raw[comp.span.start..comp.span.end].to_vec(),
                    line: first,
                    problems: relative(problems, first),
                    line_map: vec![(1, first)],
                });
            }
            _ => {
                stray.push(Problem {
                    line: span.line,
                    reason: format!(
                        "text outside any BEGIN/END block: {:?}",
                        shorten(&decode(&line.text))
                    ),
                });
                cur.advance();
            }
        }
    }
    stray
}

/// One physical line: (1-based number, bytes without terminator, start, end with terminator).
type Physical<'a> = (usize, &'a [u8], usize, usize);

/// Logical lines of a file, produced one at a time with one line of lookahead.
struct Cursor<'a> {
    phys: std::iter::Peekable<Box<dyn Iterator<Item = Physical<'a>> + 'a>>,
    current: Option<(Line, Span)>,
}

impl<'a> Cursor<'a> {
    fn new(raw: &'a [u8]) -> Self {
        let it: Box<dyn Iterator<Item = Physical<'a>> + 'a> = Box::new(physical(raw));
        let mut c = Cursor {
            phys: it.peekable(),
            current: None,
        };
        c.advance();
        c
    }

    fn peek(&self) -> Option<(&Line, Span)> {
        self.current.as_ref().map(|(l, s)| (l, *s))
    }

    /// Moves to the next non-empty logical line (folds and quoted-printable soft breaks joined).
    fn advance(&mut self) {
        self.current = None;
        while let Some((number, text, start, end)) = self.phys.next() {
            if text.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let mut line = Line {
                number,
                text: text.to_vec(),
            };
            let mut span = Span {
                line: number,
                start,
                end,
            };
            let mut qp_open = qp_continues(&line.text);
            while let Some((_, next, _, next_end)) = self.phys.peek() {
                let folded = matches!(next.first(), Some(b' ' | b'\t'));
                if folded {
                    line.text.extend_from_slice(&next[1..]);
                } else if qp_open {
                    line.text.extend_from_slice(b"\r\n");
                    line.text.extend_from_slice(next);
                } else {
                    break;
                }
                span.end = *next_end;
                qp_open = qp_continues(&line.text);
                self.phys.next();
            }
            self.current = Some((line, span));
            return;
        }
    }
}

/// A span of physical lines with its first line number and byte range.
#[derive(Debug, Clone, Copy)]
struct Span {
    line: usize,
    start: usize,
    end: usize,
}

#[derive(Debug)]
struct Component {
    name: String,
    span: Span,
    uid: Option<String>,
    /// TZID of a VTIMEZONE (its own top-level TZID property).
    tzid: Option<String>,
    problems: Vec<Problem>,
    /// TZIDs the component's properties refer to.
    tzids: Vec<String>,
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

fn relative(problems: Vec<Problem>, first_line: usize) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| Problem {
            line: p.line + 1 - first_line,
            reason: p.reason,
        })
        .collect()
}

fn kind_of(component: &str) -> Kind {
    match component {
        "VTODO" => Kind::Todo,
        "VJOURNAL" => Kind::Journal,
        "VCARD" => Kind::Contact,
        _ => Kind::Event,
    }
}

/// A stable UID for an item that has none, derived from its bytes, so that importing the same
/// file twice still merges.
pub const NO_UID_PREFIX: &str = "holdfast-noid-";

pub fn synthetic_uid(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(raw);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{NO_UID_PREFIX}{hex}")
}

fn value_text(line: &Line) -> Option<String> {
    line.value()
        .map(|v| decode(v).trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Reads one component (and its sub-components) from the cursor, which is on `BEGIN:name`, and
/// leaves the cursor after it. A BEGIN of a sibling-level component before the END, or the end
/// of input, ends it with a "missing END" problem (that BEGIN is not consumed).
fn read_component(cur: &mut Cursor<'_>, name: &str) -> Component {
    let first = match cur.peek() {
        Some((_, s)) => s,
        None => Span {
            line: 0,
            start: 0,
            end: 0,
        },
    };
    let mut comp = Component {
        name: name.to_string(),
        span: first,
        uid: None,
        tzid: None,
        problems: Vec::new(),
        tzids: Vec::new(),
    };
    cur.advance();
    let mut depth = 0usize; // sub-component depth (VALARM …)
                            // vCard 2.1 embeds a card in AGENT: `AGENT:` then BEGIN:VCARD … END:VCARD.
    let mut after_agent = false;
    while let Some((line, span)) = cur.peek() {
        let agent_here = line.marker().is_none() && is_prop(&line.text, b"AGENT");
        match line.marker() {
            Some((true, sub)) if sub == "VCARD" && name == "VCARD" && after_agent => {
                depth += 1;
            }
            Some((true, sub)) => {
                if is_top_component(&sub) || (sub == "VCARD") {
                    comp.problems.push(Problem {
                        line: first.line,
                        reason: format!(
                            "BEGIN:{name} has no END:{name} (next BEGIN:{sub} on line {})",
                            span.line
                        ),
                    });
                    return comp;
                }
                depth += 1;
            }
            Some((false, end)) => {
                comp.span.end = span.end;
                cur.advance();
                if depth == 0 {
                    if end != *name {
                        comp.problems.push(Problem {
                            line: span.line,
                            reason: format!("END:{end} where END:{name} was expected"),
                        });
                    }
                    return comp;
                }
                depth -= 1;
                continue;
            }
            None => {
                if line.colon().is_none() {
                    comp.problems.push(Problem {
                        line: span.line,
                        reason: format!(
                            "line has no colon, not a property: {:?}",
                            shorten(&decode(&line.text))
                        ),
                    });
                } else if depth == 0 {
                    if comp.uid.is_none() && is_prop(&line.text, b"UID") {
                        comp.uid = value_text(line);
                    } else if comp.tzid.is_none() && is_prop(&line.text, b"TZID") {
                        comp.tzid = value_text(line);
                    }
                }
                if line
                    .head()
                    .windows(5)
                    .any(|w| w.eq_ignore_ascii_case(b"TZID="))
                {
                    if let Some(tz) = line.param("TZID") {
                        if !comp.tzids.contains(&tz) {
                            comp.tzids.push(tz);
                        }
                    }
                }
            }
        }
        after_agent = agent_here;
        comp.span.end = span.end;
        cur.advance();
    }
    comp.problems.push(Problem {
        line: first.line,
        reason: format!("BEGIN:{name} has no END:{name} before the end of the file"),
    });
    comp
}

fn is_top_component(name: &str) -> bool {
    matches!(
        name,
        "VEVENT" | "VTODO" | "VJOURNAL" | "VFREEBUSY" | "VTIMEZONE" | "VCALENDAR"
    )
}

fn split_vcard(raw: &[u8], cur: &mut Cursor<'_>, emit: &mut impl FnMut(RawItem)) {
    let comp = read_component(cur, "VCARD");
    let bytes = &raw[comp.span.start..comp.span.end];
    let uid = comp.uid.clone().unwrap_or_else(|| synthetic_uid(bytes));
    emit(RawItem {
        kind: Kind::Contact,
        uid,
        raw: bytes.to_vec(),
        line: comp.span.line,
        problems: relative(comp.problems, comp.span.line),
        line_map: vec![(1, comp.span.line)],
    });
}

fn split_vcalendar(
    raw: &[u8],
    cur: &mut Cursor<'_>,
    emit: &mut impl FnMut(RawItem),
    stray: &mut Vec<Problem>,
) {
    let Some((_, cal_span)) = cur.peek() else {
        return;
    };
    cur.advance();
    let mut header: Vec<Span> = vec![cal_span];
    let mut timezones: HashMap<String, Span> = HashMap::new();
    let mut tz_problems: Vec<Problem> = Vec::new();
    // Components grouped by UID, in first-seen order.
    let mut groups: Vec<(String, Vec<Component>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut end_line: Option<Span> = None;
    let mut last_end = cal_span.end;
    let mut cal_problems: Vec<Problem> = Vec::new();
    while let Some((line, span)) = cur.peek() {
        match line.marker() {
            Some((true, name)) if name == "VCALENDAR" || name == "VCARD" => {
                cal_problems.push(Problem {
                    line: cal_span.line,
                    reason: format!(
                        "BEGIN:VCALENDAR has no END:VCALENDAR (next BEGIN:{name} on line {})",
                        span.line
                    ),
                });
                break;
            }
            Some((true, name)) => {
                let comp = read_component(cur, &name);
                last_end = comp.span.end;
                if name == "VTIMEZONE" {
                    if let Some(id) = comp.tzid.clone() {
                        timezones.entry(id).or_insert(comp.span);
                    }
                    tz_problems.extend(comp.problems);
                    continue;
                }
                let bytes = &raw[comp.span.start..comp.span.end];
                let uid = comp.uid.clone().unwrap_or_else(|| synthetic_uid(bytes));
                match index.get(&uid) {
                    Some(&g) => groups[g].1.push(comp),
                    None => {
                        index.insert(uid.clone(), groups.len());
                        groups.push((uid, vec![comp]));
                    }
                }
                continue;
            }
            Some((false, name)) => {
                last_end = span.end;
                cur.advance();
                if name == "VCALENDAR" {
                    end_line = Some(span);
                    break;
                }
                cal_problems.push(Problem {
                    line: span.line,
                    reason: format!("END:{name} without a matching BEGIN"),
                });
                continue;
            }
            None => {
                if line.colon().is_none() {
                    cal_problems.push(Problem {
                        line: span.line,
                        reason: format!(
                            "line has no colon, not a property: {:?}",
                            shorten(&decode(&line.text))
                        ),
                    });
                } else {
                    header.push(span);
                }
                last_end = span.end;
            }
        }
        cur.advance();
    }
    if end_line.is_none() && cal_problems.is_empty() {
        cal_problems.push(Problem {
            line: cal_span.line,
            reason: "BEGIN:VCALENDAR has no END:VCALENDAR before the end of the file".into(),
        });
    }
    let whole_end = end_line.map_or(last_end, |s| s.end);
    let newline: &[u8] = if raw[cal_span.start..cal_span.end].ends_with(b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };

    if groups.len() == 1 {
        // The common case (a CalDAV resource, a single-event file): the whole calendar verbatim.
        let (uid, comps) = groups.remove(0);
        let kind = kind_of(&comps[0].name);
        let mut problems = cal_problems;
        problems.extend(tz_problems);
        for c in comps {
            problems.extend(c.problems);
        }
        emit(RawItem {
            kind,
            uid,
            raw: raw[cal_span.start..whole_end].to_vec(),
            line: cal_span.line,
            problems: relative(problems, cal_span.line),
            line_map: vec![(1, cal_span.line)],
        });
        return;
    }
    for (uid, comps) in groups {
        let kind = kind_of(&comps[0].name);
        let first_line = comps[0].span.line;
        let mut bytes = Vec::new();
        let mut line_map = Vec::new();
        let mut rel = 1;
        let append =
            |bytes: &mut Vec<u8>, line_map: &mut Vec<(usize, usize)>, rel: &mut usize, s: &Span| {
                line_map.push((*rel, s.line));
                bytes.extend_from_slice(&raw[s.start..s.end]);
                ensure_newline(bytes, newline);
                *rel += count_lines(&raw[s.start..s.end]);
            };
        for s in &header {
            append(&mut bytes, &mut line_map, &mut rel, s);
        }
        let mut used: Vec<&String> = comps.iter().flat_map(|c| c.tzids.iter()).collect();
        used.sort();
        used.dedup();
        for tz in used {
            if let Some(s) = timezones.get(tz) {
                append(&mut bytes, &mut line_map, &mut rel, s);
            }
        }
        let mut problems = Vec::new();
        for c in &comps {
            let first = rel;
            append(&mut bytes, &mut line_map, &mut rel, &c.span);
            for p in &c.problems {
                problems.push(Problem {
                    line: first + (p.line - c.span.line),
                    reason: p.reason.clone(),
                });
            }
        }
        bytes.extend_from_slice(b"END:VCALENDAR");
        bytes.extend_from_slice(newline);
        emit(RawItem {
            kind,
            uid,
            raw: bytes,
            line: first_line,
            problems,
            line_map,
        });
    }
    stray.extend(cal_problems);
    stray.extend(tz_problems);
}

fn count_lines(b: &[u8]) -> usize {
    let n = b.iter().filter(|&&c| c == b'\n').count();
    if b.last() == Some(&b'\n') {
        n
    } else {
        n + 1
    }
}

fn ensure_newline(bytes: &mut Vec<u8>, newline: &[u8]) {
    if bytes.last() != Some(&b'\n') {
        bytes.extend_from_slice(newline);
    }
}

/// One server resource (a .vcf or .ics the server holds) as one item: its exact bytes, whatever
/// they hold. A resource is one item by definition (RFC 4791 §4.1, RFC 6352 §5.1); a body with
/// no item or with several is still kept whole, verbatim, and flagged, never dropped (I9).
pub fn resource(body: &[u8]) -> RawItem {
    let split = split(body);
    let mut problems: Vec<Problem> = split.stray;
    let n = split.items.len();
    let (kind, uid) = match split.items.first() {
        Some(first) => (first.kind, first.uid.clone()),
        None => {
            let kind = if body
                .windows(11)
                .any(|w| w.eq_ignore_ascii_case(b"BEGIN:VCARD"))
            {
                Kind::Contact
            } else {
                Kind::Event
            };
            (kind, synthetic_uid(body))
        }
    };
    for item in &split.items {
        // Lines relative to the item become lines of the whole body.
        problems.extend(item.problems.iter().map(|p| Problem {
            line: item.file_line(p.line),
            reason: p.reason.clone(),
        }));
    }
    if n == 0 {
        problems.push(Problem {
            line: 1,
            reason: "no vCard or iCalendar item in this resource".into(),
        });
    } else if n > 1 && split.items.iter().any(|i| i.uid != uid) {
        problems.push(Problem {
            line: 1,
            reason: format!("this resource holds {n} items with different UIDs; kept whole"),
        });
    }
    problems.sort_by_key(|p| p.line);
    problems.dedup();
    RawItem {
        kind,
        uid,
        raw: body.to_vec(),
        line: 1,
        problems,
        line_map: vec![(1, 1)],
    }
}
