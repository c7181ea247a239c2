//! The item as a tree of components whose property lines know their byte ranges, and a patch
//! that replaces, removes or inserts whole lines. Bytes no edit touches are copied as they were
//! (I7): folding, line endings, groups, parameters, unknown properties.

use super::super::ical::unescape;
use super::super::lines::{decode, fold_line, physical, split_outside_quotes, Line};

/// One logical property line and the bytes it spans (folded continuation lines included).
#[derive(Debug, Clone)]
pub struct Prop {
    pub line: Line,
    pub start: usize,
    pub end: usize,
}

impl Prop {
    /// Upper-cased name without group or parameters.
    pub fn name(&self) -> String {
        self.line.name()
    }

    /// Name and parameters as written (group included).
    pub fn head(&self) -> String {
        decode(self.line.head())
    }

    /// The value as written (escapes kept).
    pub fn raw_value(&self) -> String {
        decode(self.line.value().unwrap_or_default())
    }

    /// The value with TEXT escapes removed.
    pub fn text(&self) -> String {
        unescape(self.raw_value().trim_end_matches(['\r', '\n']))
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.line.param(name)
    }

    /// Every TYPE value, lower-cased (`TYPE=work,voice;TYPE=pref` -> work, voice, pref).
    pub fn types(&self) -> Vec<String> {
        let head = self.head();
        let mut out = Vec::new();
        for p in split_outside_quotes(&head, ';').into_iter().skip(1) {
            match p.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("TYPE") => {
                    for t in v.trim_matches('"').split(',') {
                        out.push(t.trim().trim_matches('"').to_ascii_lowercase());
                    }
                }
                // vCard 2.1 writes bare types (`TEL;CELL:…`).
                None => out.push(p.trim().to_ascii_lowercase()),
                _ => {}
            }
        }
        out
    }
}

/// A component: where its BEGIN line starts, where its END line starts and ends, its own
/// property lines and its sub-components.
#[derive(Debug, Clone)]
pub struct Comp {
    pub name: String,
    pub start: usize,
    pub end_at: usize,
    pub end: usize,
    pub props: Vec<Prop>,
    pub children: Vec<Comp>,
}

impl Comp {
    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name() == name)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Prop> + 'a {
        self.props.iter().filter(move |p| p.name() == name)
    }

    /// Where a new property goes: after the last property line before the first
    /// sub-component (a VEVENT's own lines before its VALARMs).
    pub fn props_end(&self) -> usize {
        self.children.first().map_or(self.end_at, |c| c.start)
    }

    pub fn text(&self, name: &str) -> String {
        self.prop(name).map(Prop::text).unwrap_or_default()
    }

    pub fn child<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Comp> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// The top-level components of `raw` (a VCARD, or a VCALENDAR with its children).
pub fn scan(raw: &[u8]) -> Vec<Comp> {
    // Logical lines with their byte ranges.
    let mut logical: Vec<(Line, usize, usize)> = Vec::new();
    for (number, text, s, e) in physical(raw) {
        if matches!(text.first(), Some(b' ' | b'\t')) {
            if let Some(last) = logical.last_mut() {
                last.0.text.extend_from_slice(&text[1..]);
                last.2 = e;
                continue;
            }
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        logical.push((
            Line {
                number,
                text: text.to_vec(),
            },
            s,
            e,
        ));
    }
    let mut top: Vec<Comp> = Vec::new();
    let mut stack: Vec<Comp> = Vec::new();
    for (line, s, e) in logical {
        match line.marker() {
            Some((true, name)) => stack.push(Comp {
                name,
                start: s,
                end_at: raw.len(),
                end: raw.len(),
                props: Vec::new(),
                children: Vec::new(),
            }),
            Some((false, _)) => {
                if let Some(mut c) = stack.pop() {
                    c.end_at = s;
                    c.end = e;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(c),
                        None => top.push(c),
                    }
                }
            }
            None => {
                if let Some(c) = stack.last_mut() {
                    c.props.push(Prop {
                        line,
                        start: s,
                        end: e,
                    });
                }
            }
        }
    }
    // Unterminated components end with the text.
    while let Some(c) = stack.pop() {
        match stack.last_mut() {
            Some(parent) => parent.children.push(c),
            None => top.push(c),
        }
    }
    top
}

/// Line edits against the original bytes, applied in one pass.
pub struct Patch<'a> {
    raw: &'a [u8],
    edits: Vec<(usize, usize, Vec<u8>)>,
    lf_only: bool,
}

impl<'a> Patch<'a> {
    pub fn new(raw: &'a [u8]) -> Patch<'a> {
        let lf_only = raw.contains(&b'\n') && !raw.windows(2).any(|w| w == b"\r\n");
        Patch {
            raw,
            edits: Vec::new(),
            lf_only,
        }
    }

    /// One logical line, folded, with the text's own line ending.
    pub fn line(&self, logical: &str) -> String {
        let folded = fold_line(logical);
        if self.lf_only {
            folded.replace("\r\n", "\n")
        } else {
            folded
        }
    }

    /// Lines already ending in CRLF, converted to the text's line ending.
    pub fn block(&self, text: &str) -> String {
        if self.lf_only {
            text.replace("\r\n", "\n")
        } else {
            text.to_string()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    pub fn replace(&mut self, p: &Prop, logical: &str) {
        let text = self.line(logical);
        self.edits.push((p.start, p.end, text.into_bytes()));
    }

    pub fn remove(&mut self, start: usize, end: usize) {
        self.edits.push((start, end, Vec::new()));
    }

    /// Inserts text (already terminated lines) at `at`; inserts at one place keep their order.
    pub fn insert(&mut self, at: usize, text: String) {
        self.edits.push((at, at, text.into_bytes()));
    }

    pub fn insert_line(&mut self, at: usize, logical: &str) {
        let text = self.line(logical);
        self.insert(at, text);
    }

    pub fn finish(self) -> Vec<u8> {
        let mut edits = self.edits;
        // Stable: inserts at one offset stay in the order they were made.
        edits.sort_by_key(|e| e.0);
        let mut out = Vec::with_capacity(self.raw.len() + 256);
        let mut cursor = 0;
        for (s, e, text) in edits {
            if s < cursor {
                // Overlapping edits (a removed block and a line in it): the first one wins.
                continue;
            }
            out.extend_from_slice(&self.raw[cursor..s]);
            out.extend_from_slice(&text);
            cursor = e.max(s);
        }
        out.extend_from_slice(&self.raw[cursor.min(self.raw.len())..]);
        out
    }
}

/// Replaces the first `name` line of `c` with `line`, or adds it after `c`'s own lines.
pub fn set_line(p: &mut Patch<'_>, c: &Comp, name: &str, line: &str) {
    match c.prop(name) {
        Some(old) => p.replace(old, line),
        None => p.insert_line(c.props_end(), line),
    }
}

/// Removes every `name` line of `c`.
pub fn remove_all(p: &mut Patch<'_>, c: &Comp, name: &str) {
    for l in c.all(name) {
        p.remove(l.start, l.end);
    }
}

/// `head` with the TYPE values in `known` replaced by `new` (none for ""); other TYPE values
/// and every other parameter stay.
pub fn retype(head: &str, known: &[&str], new: &str) -> String {
    let parts = split_outside_quotes(head, ';');
    let mut out = vec![parts[0].to_string()];
    for p in parts.iter().skip(1) {
        let is_known = |t: &str| {
            known
                .iter()
                .any(|k| k.eq_ignore_ascii_case(t.trim().trim_matches('"')))
        };
        match p.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("TYPE") => {
                let keep: Vec<&str> = v
                    .trim_matches('"')
                    .split(',')
                    .filter(|t| !is_known(t))
                    .collect();
                if !keep.is_empty() {
                    out.push(format!("{k}={}", keep.join(",")));
                }
            }
            None if is_known(p) => {}
            _ => out.push(p.to_string()),
        }
    }
    if !new.is_empty() {
        out.push(format!("TYPE={new}"));
    }
    out.join(";")
}

/// A structured value's components, unescaped (`;` outside escapes separates them).
pub fn components(raw_value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = raw_value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => out.last_mut().map_or((), |s| s.push('\n')),
                Some(o) => out.last_mut().map_or((), |s| s.push(o)),
                None => {}
            },
            ';' => out.push(String::new()),
            _ => out.last_mut().map_or((), |s| s.push(c)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_nested_components_and_folded_lines() {
        let raw = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:a\r\n  b\r\nBEGIN:VALARM\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let top = scan(raw);
        let ev = &top[0].children[0];
        assert_eq!(ev.name, "VEVENT");
        assert_eq!(ev.text("SUMMARY"), "a b");
        assert_eq!(ev.children[0].text("TRIGGER"), "-PT5M");
        let mut p = Patch::new(raw);
        p.replace(ev.prop("SUMMARY").expect("summary"), "SUMMARY:c");
        let out = String::from_utf8(p.finish()).expect("utf-8");
        assert!(out.contains("SUMMARY:c\r\nBEGIN:VALARM"), "{out}");
    }

    #[test]
    fn retype_keeps_unknown_types_and_params() {
        assert_eq!(
            retype(
                "item1.EMAIL;TYPE=INTERNET,home;PREF=1",
                &["home", "work"],
                "work"
            ),
            "item1.EMAIL;TYPE=INTERNET;PREF=1;TYPE=work"
        );
        assert_eq!(retype("TEL;CELL", &["cell"], "home"), "TEL;TYPE=home");
    }
}
