//! Editing an item's text without touching what is not edited (I7): line-level property
//! edits, and the verbatim parts of a calendar item for export.

use super::lines::{decode, fold_line, physical, trim, Line};

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

/// The verbatim parts of a calendar item: its VTIMEZONE blocks by TZID, its other top-level
/// components, and the TZIDs those components use. Each part ends with a line break.
#[derive(Debug, Default)]
pub struct CalendarParts {
    pub timezones: Vec<(String, Vec<u8>)>,
    pub components: Vec<Vec<u8>>,
    pub tzids: Vec<String>,
    /// A component is not terminated (its END is missing): written into a shared calendar file
    /// it would swallow what follows it.
    pub broken: bool,
}

impl CalendarParts {
    /// Files one finished top-level component: a VTIMEZONE under its TZID, anything else as is.
    fn push(&mut self, is_tz: bool, tzid: &mut Option<String>, bytes: Vec<u8>) {
        if is_tz {
            self.timezones
                .push((tzid.take().unwrap_or_default(), bytes));
        } else {
            self.components.push(bytes);
        }
    }
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
            Some((false, name)) if start.is_some() && name.eq_ignore_ascii_case(b"VCALENDAR") => {
                // The calendar ends inside a component: that component has no END.
                parts.broken = true;
                if let Some((from, is_tz)) = start.take() {
                    parts.push(is_tz, &mut tzid, raw[from..s].to_vec());
                }
                depth = 0;
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
                        parts.push(is_tz, &mut tzid, bytes);
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

/// The same text with every reference to time zone `old` (a VTIMEZONE's TZID and TZID=
/// parameters) renamed to `new`. Lines that do not mention it keep their exact bytes.
pub fn rename_tzid(raw: &[u8], old: &str, new: &str) -> Vec<u8> {
    let newline = if raw.windows(2).any(|w| w == b"\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let quoted = if new.contains([':', ';', ',']) {
        format!("\"{new}\"")
    } else {
        new.to_string()
    };
    let mut out = Vec::with_capacity(raw.len() + 64);
    // Logical lines as (start of first physical line, end of last, unfolded text).
    let mut pending: Option<(usize, usize, Vec<u8>)> = None;
    let flush = |p: Option<(usize, usize, Vec<u8>)>, out: &mut Vec<u8>| {
        let Some((s, e, text)) = p else { return };
        let line = Line { number: 0, text };
        let renamed = if line.name() == "TZID"
            && line
                .value()
                .map(|v| decode(v).trim().to_string())
                .as_deref()
                == Some(old)
        {
            Some(format!("TZID:{new}"))
        } else if line.param("TZID").as_deref() == Some(old) {
            let head = decode(line.head());
            let parts = super::lines::split_outside_quotes(&head, ';');
            let head: Vec<String> = parts
                .iter()
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.trim().eq_ignore_ascii_case("TZID") => {
                        format!("TZID={quoted}")
                    }
                    _ => p.to_string(),
                })
                .collect();
            Some(format!(
                "{}:{}",
                head.join(";"),
                decode(line.value().unwrap_or_default())
            ))
        } else {
            None
        };
        match renamed {
            Some(text) => {
                let folded = fold_line(&text);
                if newline == "\n" {
                    out.extend_from_slice(folded.replace("\r\n", "\n").as_bytes());
                } else {
                    out.extend_from_slice(folded.as_bytes());
                }
            }
            None => out.extend_from_slice(&raw[s..e]),
        }
    };
    for (_, text, s, e) in physical(raw) {
        if matches!(text.first(), Some(b' ' | b'\t')) {
            if let Some((_, end, t)) = pending.as_mut() {
                *end = e;
                t.extend_from_slice(&text[1..]);
                continue;
            }
        }
        flush(pending.take(), &mut out);
        pending = Some((s, e, text.to_vec()));
    }
    flush(pending.take(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn rename_tzid_touches_only_the_lines_that_use_it() {
        let raw = b"BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Custom\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nX-KEEP;A=b:same\r\nDTSTART;TZID=Custom:20250101T100000\r\nDTEND;TZID=Other:20250101T110000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let out =
            String::from_utf8(super::rename_tzid(raw, "Custom", "Custom (2)")).unwrap_or_default();
        assert!(out.contains("TZID:Custom (2)\r\n"), "{out}");
        assert!(
            out.contains("DTSTART;TZID=Custom (2):20250101T100000\r\n"),
            "{out}"
        );
        assert!(
            out.contains("DTEND;TZID=Other:20250101T110000\r\n"),
            "{out}"
        );
        assert!(out.contains("X-KEEP;A=b:same\r\n"), "{out}");
    }
}
