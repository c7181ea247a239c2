//! Content lines at the byte level: unfolding, splitting a file into items, line-level edits.
//!
//! Folds are removed on bytes *before* UTF-8 decoding, because a producer may fold in the middle
//! of a multi-byte character (DESIGN.md format rule 1). Splitting keeps the exact bytes of every
//! item so that unedited items can be exported byte-identical (I7).

use std::collections::HashMap;

pub use super::edit::{calendar_parts, CalendarParts, Editor};
pub use super::split::{split, split_each, synthetic_uid, RawItem, Split};

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

pub(super) fn trim(b: &[u8]) -> &[u8] {
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
pub(super) fn physical(raw: &[u8]) -> impl Iterator<Item = (usize, &[u8], usize, usize)> {
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
pub(super) fn qp_continues(text: &[u8]) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::edit::Editor;
    use crate::format::split::split;
    use crate::model::Kind;

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
