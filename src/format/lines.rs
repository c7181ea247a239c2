//! Content lines at the byte level: unfolding, splitting a file into items, line-level edits.
//!
//! Folds are removed on bytes *before* UTF-8 decoding, because a producer may fold in the middle
//! of a multi-byte character (DESIGN.md format rule 1). Splitting keeps the exact bytes of every
//! item so that unedited items can be exported byte-identical (I7).

use std::collections::HashMap;

use crate::model::{Kind, Problem};

/// One logical (unfolded) line and the 1-based physical line it starts on.
#[derive(Debug, Clone)]
pub struct Line {
    pub number: usize,
    pub text: Vec<u8>,
}

impl Line {
    /// The property name without group and parameters, upper-cased (`item1.EMAIL;TYPE=x` -> EMAIL).
    pub fn name(&self) -> String {
        let head = self.head();
        let name = head.split(|&b| b == b';').next().unwrap_or(head);
        let name = match name.iter().rposition(|&b| b == b'.') {
            Some(dot) => &name[dot + 1..],
            None => name,
        };
        String::from_utf8_lossy(name).trim().to_ascii_uppercase()
    }

    /// Everything before the first colon outside double quotes (name and parameters).
    pub fn head(&self) -> &[u8] {
        match self.colon() {
            Some(i) => &self.text[..i],
            None => &self.text,
        }
    }

    /// The raw value after the first colon outside quotes, if the line has one.
    pub fn value(&self) -> Option<&[u8]> {
        self.colon().map(|i| &self.text[i + 1..])
    }

    pub fn colon(&self) -> Option<usize> {
        let mut quoted = false;
        for (i, &b) in self.text.iter().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                b':' if !quoted => return Some(i),
                _ => {}
            }
        }
        None
    }

    /// `BEGIN:X` / `END:X` -> ("BEGIN"|"END", "X" upper-cased).
    pub fn marker(&self) -> Option<(bool, String)> {
        let t = trim(&self.text);
        let t = t.strip_prefix("\u{feff}".as_bytes()).unwrap_or(t);
        let (begin, rest) = if t.len() > 6 && t[..6].eq_ignore_ascii_case(b"BEGIN:") {
            (true, &t[6..])
        } else if t.len() > 4 && t[..4].eq_ignore_ascii_case(b"END:") {
            (false, &t[4..])
        } else {
            return None;
        };
        Some((
            begin,
            String::from_utf8_lossy(trim(rest)).to_ascii_uppercase(),
        ))
    }

    /// A parameter's value (`TZID=...`), unquoted, if present.
    pub fn param(&self, name: &str) -> Option<String> {
        let head = String::from_utf8_lossy(self.head()).into_owned();
        let mut parts = split_outside_quotes(&head, ';').into_iter();
        parts.next();
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case(name) {
                    return Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
        None
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

pub fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut last = 0;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[last..i]);
            last = i + c.len_utf8();
        }
    }
    out.push(&s[last..]);
    out
}

/// Physical lines of `raw` as (1-based number, bytes without the line terminator, start offset,
/// end offset including the terminator).
fn physical(raw: &[u8]) -> impl Iterator<Item = (usize, &[u8], usize, usize)> {
    let mut pos = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if pos >= raw.len() {
            return None;
        }
        number += 1;
        let start = pos;
        let (content_end, next) = match memchr_lf(&raw[pos..]) {
            Some(i) => (pos + i, pos + i + 1),
            None => (raw.len(), raw.len()),
        };
        pos = next;
        let mut end = content_end;
        if end > start && raw[end - 1] == b'\r' {
            end -= 1;
        }
        Some((number, &raw[start..end], start, next))
    })
}

fn memchr_lf(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Whether a logical line uses quoted-printable and ends in a soft line break, so the next
/// physical line continues it (vCard 2.1).
fn qp_continues(text: &[u8]) -> bool {
    if text.last() != Some(&b'=') {
        return false;
    }
    let head_end = text.iter().position(|&b| b == b':').unwrap_or(text.len());
    let head = &text[..head_end];
    head.windows(16)
        .any(|w| w.eq_ignore_ascii_case(b"QUOTED-PRINTABLE"))
}

/// Unfolds `raw` into logical lines. Folds (a line break followed by a space or tab) are removed
/// on bytes; quoted-printable soft breaks are kept inside the logical line (as `=\r\n`) for the
/// vCard parser to decode. Empty lines are skipped.
pub fn logical_lines(raw: &[u8]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut qp_open = false;
    for (number, text, _, _) in physical(raw) {
        let folded = matches!(text.first(), Some(b' ' | b'\t'));
        if let Some(last) = out.last_mut() {
            if folded {
                last.text.extend_from_slice(&text[1..]);
                qp_open = qp_continues(&last.text);
                continue;
            }
            if qp_open {
                last.text.extend_from_slice(b"\r\n");
                last.text.extend_from_slice(text);
                qp_open = qp_continues(&last.text);
                continue;
            }
        }
        if text.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        out.push(Line {
            number,
            text: text.to_vec(),
        });
        qp_open = qp_continues(text);
    }
    out
}

/// Decodes unfolded bytes as UTF-8, or as Latin-1 when they are not valid UTF-8 (old Outlook and
/// phone exports); the original bytes are kept by the caller either way.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// Joins logical lines back into text for a parser, CRLF-terminated.
pub fn join(lines: &[Line]) -> String {
    let mut bytes = Vec::with_capacity(lines.iter().map(|l| l.text.len() + 2).sum());
    for l in lines {
        bytes.extend_from_slice(&l.text);
        bytes.extend_from_slice(b"\r\n");
    }
    decode(&bytes)
}

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
pub fn synthetic_uid(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(raw);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("holdfast-noid-{hex}")
}

/// Case-insensitive: does the property part of `text` start with `name` followed by `;` or `:`
/// (after an optional `group.`)? Cheap enough to run on every line.
pub fn is_prop(text: &[u8], name: &[u8]) -> bool {
    let head_end = text
        .iter()
        .position(|&b| b == b':' || b == b';')
        .unwrap_or(text.len());
    let head = &text[..head_end];
    let head = match head.iter().rposition(|&b| b == b'.') {
        Some(dot) => &head[dot + 1..],
        None => head,
    };
    head.eq_ignore_ascii_case(name)
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
    while let Some((line, span)) = cur.peek() {
        match line.marker() {
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

/// Counts `BEGIN:` lines per component name in unfolded text; used to catch parser recoveries.
pub fn count_begins(lines: &[Line]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for l in lines {
        if let Some((true, name)) = l.marker() {
            *counts.entry(name).or_insert(0) += 1;
        }
    }
    counts
}

/// Folds one logical line at 75 octets without splitting a UTF-8 sequence, CRLF-terminated.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for ch in line.chars() {
        let n = ch.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += n;
    }
    out.push_str("\r\n");
    out
}

/// A property line's name and byte range (folded continuation lines included).
type PropSpan = (String, usize, usize);

/// Line-level edit of one component's properties, keeping every other byte as it was.
/// `set` replaces the first line named `name` inside the first component `component` (or inserts
/// it before that component's END); `remove` drops every such line.
pub struct Editor {
    raw: Vec<u8>,
}

impl Editor {
    pub fn new(raw: &[u8]) -> Self {
        Editor { raw: raw.to_vec() }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.raw
    }

    /// Byte ranges of the top-level property lines of the first `component`, with the END span.
    fn locate(&self, component: &str) -> Option<(Vec<PropSpan>, usize)> {
        let mut props: Vec<(String, usize, usize)> = Vec::new();
        let mut inside = false;
        let mut depth = 0usize;
        let mut current: Option<(String, usize, usize)> = None;
        for (_, text, start, end) in physical(&self.raw) {
            let folded = matches!(text.first(), Some(b' ' | b'\t'));
            if folded {
                if let Some(c) = current.as_mut() {
                    c.2 = end;
                }
                continue;
            }
            if let Some(c) = current.take() {
                props.push(c);
            }
            let line = Line {
                number: 0,
                text: text.to_vec(),
            };
            match line.marker() {
                Some((true, name)) => {
                    if inside {
                        depth += 1;
                    } else if name == component {
                        inside = true;
                    }
                }
                Some((false, name)) => {
                    if inside {
                        if depth == 0 && name == component {
                            return Some((props, start));
                        }
                        depth = depth.saturating_sub(1);
                    }
                }
                None => {
                    if inside && depth == 0 {
                        current = Some((line.name(), start, end));
                    }
                }
            }
        }
        None
    }

    fn newline(&self) -> &'static str {
        if self.raw.windows(2).any(|w| w == b"\r\n") || !self.raw.contains(&b'\n') {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Sets `NAME[;params]:value` (the full unfolded line is given) in the first `component`.
    pub fn set(&mut self, component: &str, name: &str, full_line: &str) -> bool {
        let Some((props, end_at)) = self.locate(component) else {
            return false;
        };
        let mut text = fold_line(full_line);
        if self.newline() == "\n" {
            text = text.replace("\r\n", "\n");
        }
        match props.iter().find(|(n, _, _)| n == name) {
            Some(&(_, s, e)) => {
                self.raw.splice(s..e, text.into_bytes());
            }
            None => {
                self.raw.splice(end_at..end_at, text.into_bytes());
            }
        }
        true
    }

    /// Removes every top-level `name` line of the first `component`.
    pub fn remove(&mut self, component: &str, name: &str) {
        while let Some((props, _)) = self.locate(component) {
            match props.iter().find(|(n, _, _)| n == name) {
                Some(&(_, s, e)) => {
                    self.raw.drain(s..e);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_inside_multibyte_character_is_joined_on_bytes() {
        // "ł" is C5 82; the fold falls between the two bytes.
        let raw = b"BEGIN:VCARD\r\nFN:Pawe\xc5\r\n \x82 Nowak\r\nEND:VCARD\r\n";
        let lines = logical_lines(raw);
        assert_eq!(decode(&lines[1].text), "FN:Paweł Nowak");
    }

    #[test]
    fn missing_end_is_reported_and_both_cards_kept() {
        let raw = b"BEGIN:VCARD\r\nUID:a\r\nFN:A\r\nBEGIN:VCARD\r\nUID:b\r\nFN:B\r\nEND:VCARD\r\n";
        let s = split(raw);
        assert_eq!(s.items.len(), 2);
        assert_eq!(s.items[0].uid, "a");
        assert!(s.items[0].problems[0].reason.contains("no END:VCARD"));
        assert!(s.items[1].problems.is_empty());
    }

    #[test]
    fn multi_uid_calendar_is_split_with_its_timezones() {
        let raw = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=X:20250101T100000\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:2\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
        let s = split(raw);
        assert_eq!(s.items.len(), 2);
        let one = String::from_utf8_lossy(&s.items[0].raw);
        assert!(one.contains("TZID:X") && one.contains("UID:1") && !one.contains("UID:2"));
        let two = String::from_utf8_lossy(&s.items[1].raw);
        assert!(!two.contains("TZID:X") && two.contains("UID:2"));
        assert_eq!(s.items[1].kind, Kind::Todo);
    }

    #[test]
    fn editor_replaces_only_the_named_line() {
        let raw = b"BEGIN:VTODO\r\nUID:1\r\nX-FOO;A=b:keep\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\n";
        let mut e = Editor::new(raw);
        e.set("VTODO", "STATUS", "STATUS:COMPLETED");
        e.set("VTODO", "PERCENT-COMPLETE", "PERCENT-COMPLETE:100");
        let out = String::from_utf8(e.into_bytes()).unwrap_or_default();
        assert_eq!(
            out,
            "BEGIN:VTODO\r\nUID:1\r\nX-FOO;A=b:keep\r\nSTATUS:COMPLETED\r\nPERCENT-COMPLETE:100\r\nEND:VTODO\r\n"
        );
    }
}

/// The verbatim parts of a calendar item: its VTIMEZONE blocks by TZID, its other top-level
/// components, and the TZIDs those components use. Each part ends with a line break.
#[derive(Debug, Default)]
pub struct CalendarParts {
    pub timezones: Vec<(String, Vec<u8>)>,
    pub components: Vec<Vec<u8>>,
    pub tzids: Vec<String>,
}

pub fn calendar_parts(raw: &[u8]) -> CalendarParts {
    let mut parts = CalendarParts::default();
    let mut depth = 0usize;
    let mut start: Option<(usize, bool)> = None; // (offset, is VTIMEZONE)
    let mut tzid: Option<String> = None;
    for (_, text, s, e) in physical(raw) {
        if matches!(text.first(), Some(b' ' | b'\t')) {
            continue;
        }
        let marker = quick_marker(text);
        match marker {
            Some((true, name)) => {
                if depth == 0 && name.eq_ignore_ascii_case(b"VCALENDAR") {
                    depth = 1;
                    continue;
                }
                if depth <= 1 && start.is_none() {
                    start = Some((s, name.eq_ignore_ascii_case(b"VTIMEZONE")));
                    depth = 1;
                }
                depth += 1;
            }
            Some((false, name)) => {
                if start.is_none() && name.eq_ignore_ascii_case(b"VCALENDAR") {
                    depth = 0;
                    continue;
                }
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    if let Some((from, is_tz)) = start.take() {
                        let mut bytes = raw[from..e].to_vec();
                        if bytes.last() != Some(&b'\n') {
                            bytes.extend_from_slice(b"\r\n");
                        }
                        if is_tz {
                            parts
                                .timezones
                                .push((tzid.take().unwrap_or_default(), bytes));
                        } else {
                            parts.components.push(bytes);
                        }
                    }
                }
            }
            None => {
                let Some((_, is_tz)) = start else { continue };
                // Only lines that mention TZID need a closer look (folded TZIDs are rare).
                if !text.windows(4).any(|w| w.eq_ignore_ascii_case(b"TZID")) {
                    continue;
                }
                let line = Line {
                    number: 0,
                    text: text.to_vec(),
                };
                if is_tz {
                    if depth == 2 && tzid.is_none() && line.name() == "TZID" {
                        tzid = line.value().map(|v| decode(v).trim().to_string());
                    }
                } else if let Some(t) = line.param("TZID") {
                    if !parts.tzids.contains(&t) {
                        parts.tzids.push(t);
                    }
                }
            }
        }
    }
    parts
}

/// `BEGIN:X` / `END:X` without allocating.
fn quick_marker(text: &[u8]) -> Option<(bool, &[u8])> {
    let t = trim(text);
    if t.len() > 6 && t[..6].eq_ignore_ascii_case(b"BEGIN:") {
        Some((true, trim(&t[6..])))
    } else if t.len() > 4 && t[..4].eq_ignore_ascii_case(b"END:") {
        Some((false, trim(&t[4..])))
    } else {
        None
    }
}
