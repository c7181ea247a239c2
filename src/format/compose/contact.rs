//! A contact as the form shows it, read from a vCard and written back into it line by line.

use chrono::{DateTime, NaiveDate, Utc};

use super::patch::{components, retype, scan, Comp, Patch, Prop};
use super::{text_prop, FieldError, FieldId, Row};
use crate::format::write::{escape, stamp};

/// Types the form offers for an email, a phone, an address.
pub const EMAIL_TYPES: &[&str] = &["home", "work", "other"];
pub const PHONE_TYPES: &[&str] = &["cell", "home", "work", "other"];
pub const ADDRESS_TYPES: &[&str] = &["home", "work", "other"];

/// Written types that read as "cell".
const CELL_ALIASES: &[&str] = &["cell", "mobile", "iphone"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactDraft {
    pub full_name: String,
    pub org: String,
    pub title: String,
    pub emails: Vec<Row>,
    pub phones: Vec<Row>,
    /// "street; city; region; postcode; country".
    pub addresses: Vec<Row>,
    /// `YYYY-MM-DD` or `--MM-DD`.
    pub birthday: String,
    pub note: String,
}

fn card(raw: &[u8]) -> Option<Comp> {
    scan(raw).into_iter().find(|c| c.name == "VCARD")
}

fn kind_of(p: &Prop, options: &[&str]) -> String {
    let types = p.types();
    for t in &types {
        if options.contains(&"cell") && CELL_ALIASES.contains(&t.as_str()) {
            return "cell".into();
        }
        if options.contains(&t.as_str()) {
            return t.clone();
        }
    }
    "other".into()
}

fn address_text(p: &Prop) -> String {
    let parts = components(&p.raw_value());
    let shown: Vec<String> = parts
        .iter()
        .skip(2)
        .take(5)
        .map(|s| s.trim().to_string())
        .collect();
    let last = shown
        .iter()
        .rposition(|s| !s.is_empty())
        .map_or(0, |i| i + 1);
    shown[..last].join("; ")
}

/// `1980-03-10`, `19800310`, `--0310`, `--03-10` -> `1980-03-10` / `--03-10`.
fn birthday_text(s: &str) -> String {
    let s = s.trim();
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if s.starts_with("--") && digits.len() == 4 {
        format!("--{}-{}", &digits[0..2], &digits[2..4])
    } else if digits.len() >= 8 && !s.starts_with("--") {
        format!("{}-{}-{}", &digits[0..4], &digits[4..6], &digits[6..8])
    } else {
        s.to_string()
    }
}

pub fn read(raw: &[u8]) -> ContactDraft {
    let Some(c) = card(raw) else {
        return ContactDraft::default();
    };
    let rows = |name: &str, options: &[&str], text: &dyn Fn(&Prop) -> String| -> Vec<Row> {
        c.all(name)
            .enumerate()
            .map(|(i, p)| Row {
                kind: kind_of(p, options),
                value: text(p),
                origin: Some(i),
            })
            .collect()
    };
    ContactDraft {
        full_name: c.text("FN"),
        org: c
            .prop("ORG")
            .map(|p| components(&p.raw_value()).swap_remove(0))
            .unwrap_or_default(),
        title: c.text("TITLE"),
        emails: rows("EMAIL", EMAIL_TYPES, &Prop::text),
        phones: rows("TEL", PHONE_TYPES, &Prop::text),
        addresses: rows("ADR", ADDRESS_TYPES, &address_text),
        birthday: c
            .prop("BDAY")
            .map_or(String::new(), |p| birthday_text(&p.text())),
        note: c.text("NOTE"),
    }
}

/// `N` as `new contact` derives it from the full name.
fn derived_n(full_name: &str) -> String {
    let mut words: Vec<&str> = full_name.split_whitespace().collect();
    let family = if words.len() > 1 {
        words.pop().unwrap_or("")
    } else {
        ""
    };
    format!("{};{};;;", escape(family), escape(&words.join(" ")))
}

pub fn check(d: &ContactDraft) -> Vec<FieldError> {
    let mut out = Vec::new();
    if d.full_name.trim().is_empty() {
        out.push(FieldError::new(
            FieldId::FullName,
            0,
            "a contact needs a name",
        ));
    }
    for (i, r) in d.emails.iter().enumerate() {
        let v = r.value.trim();
        if !v.is_empty() && (!v.contains('@') || v.contains(char::is_whitespace)) {
            out.push(FieldError::new(
                FieldId::Email,
                i,
                "not an email address (name@example.org)",
            ));
        }
    }
    for (i, r) in d.phones.iter().enumerate() {
        let v = r.value.trim();
        if !v.is_empty() && !v.chars().any(|c| c.is_ascii_digit()) {
            out.push(FieldError::new(
                FieldId::Phone,
                i,
                "a phone number has digits",
            ));
        }
    }
    if !d.birthday.trim().is_empty() && parse_birthday(&d.birthday).is_none() {
        out.push(FieldError::new(
            FieldId::Birthday,
            0,
            "use YYYY-MM-DD, or --MM-DD without the year",
        ));
    }
    out
}

/// (year, month, day) of what the form accepts.
fn parse_birthday(s: &str) -> Option<(Option<i32>, u32, u32)> {
    let s = s.trim();
    if let Some(md) = s.strip_prefix("--") {
        let (m, d) = md.split_once('-')?;
        let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
        // 2000 is a leap year: 29 February is a birthday.
        NaiveDate::from_ymd_opt(2000, m, d)?;
        return Some((None, m, d));
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    use chrono::Datelike;
    Some((Some(date.year()), date.month(), date.day()))
}

/// Writes `after` into the card, changing only what differs from `before`.
pub fn apply(
    raw: &[u8],
    before: &ContactDraft,
    after: &ContactDraft,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let c = card(raw).ok_or("the text holds no vCard")?;
    let v4 = c.text("VERSION").trim() == "4.0";
    let mut p = Patch::new(raw);
    if before.full_name != after.full_name {
        text_prop(&mut p, &c, "FN", after.full_name.trim());
        // N follows the name when it was derived from it (or is missing: 3.0 requires it).
        match c.prop("N") {
            Some(n) if n.raw_value().trim() == derived_n(&before.full_name) => {
                p.replace(
                    n,
                    &format!("{}:{}", n.head(), derived_n(after.full_name.trim())),
                );
            }
            None => p.insert_line(
                c.props_end(),
                &format!("N:{}", derived_n(after.full_name.trim())),
            ),
            _ => {}
        }
    }
    if before.org != after.org {
        let org = after.org.trim();
        match c.prop("ORG") {
            Some(o) => {
                let mut parts: Vec<String> = components(&o.raw_value())
                    .iter()
                    .map(|s| escape(s))
                    .collect();
                parts[0] = escape(org);
                if parts.iter().all(String::is_empty) {
                    p.remove(o.start, o.end);
                } else {
                    p.replace(o, &format!("{}:{}", o.head(), parts.join(";")));
                }
            }
            None if !org.is_empty() => {
                p.insert_line(c.props_end(), &format!("ORG:{}", escape(org)))
            }
            None => {}
        }
    }
    if before.title != after.title {
        text_prop(&mut p, &c, "TITLE", after.title.trim());
    }
    if before.note != after.note {
        text_prop(&mut p, &c, "NOTE", after.note.trim());
    }
    if before.birthday != after.birthday {
        let value = match parse_birthday(&after.birthday) {
            Some((Some(y), m, d)) if v4 => format!("{y:04}{m:02}{d:02}"),
            Some((Some(y), m, d)) => format!("{y:04}-{m:02}-{d:02}"),
            Some((None, m, d)) => format!("--{m:02}{d:02}"),
            None => String::new(),
        };
        match c.prop("BDAY") {
            Some(b) if value.is_empty() => p.remove(b.start, b.end),
            Some(b) => p.replace(b, &format!("{}:{value}", b.head())),
            None if !value.is_empty() => p.insert_line(c.props_end(), &format!("BDAY:{value}")),
            None => {}
        }
    }
    let escape_value = |r: &Row| escape(r.value.trim());
    rows_with(
        &mut p,
        &c,
        "EMAIL",
        EMAIL_TYPES,
        &before.emails,
        &after.emails,
        &escape_value,
    );
    rows_with(
        &mut p,
        &c,
        "TEL",
        PHONE_TYPES,
        &before.phones,
        &after.phones,
        &escape_value,
    );
    let adr_lines: Vec<&Prop> = c.all("ADR").collect();
    let adr = |r: &Row| {
        let origin = r.origin.and_then(|i| adr_lines.get(i).copied());
        let mut parts: Vec<String> = origin
            .map(|o| components(&o.raw_value()))
            .unwrap_or_default()
            .into_iter()
            .map(|s| escape(&s))
            .collect();
        parts.resize(7, String::new());
        let typed: Vec<&str> = r.value.split(';').map(str::trim).collect();
        for (i, slot) in parts.iter_mut().skip(2).enumerate() {
            *slot = escape(typed.get(i).copied().unwrap_or(""));
        }
        parts.join(";")
    };
    rows_with(
        &mut p,
        &c,
        "ADR",
        ADDRESS_TYPES,
        &before.addresses,
        &after.addresses,
        &adr,
    );
    if p.is_empty() {
        return Ok(raw.to_vec());
    }
    if let Some(rev) = c.prop("REV") {
        p.replace(rev, &format!("REV:{}", stamp(now)));
    }
    Ok(p.finish())
}

/// A multi-valued property: rows keep the line they came from (`origin`); an unchanged row
/// keeps its bytes, a changed one keeps its group and parameters, a removed one goes, a new one
/// is added after the last line of its kind.
fn rows_with(
    p: &mut Patch<'_>,
    c: &Comp,
    name: &str,
    types: &[&str],
    before: &[Row],
    after: &[Row],
    value: &dyn Fn(&Row) -> String,
) {
    let lines: Vec<&Prop> = c.all(name).collect();
    let known: Vec<&str> = if name == "TEL" {
        types.iter().chain(CELL_ALIASES).copied().collect()
    } else {
        types.to_vec()
    };
    let type_of = |kind: &str| if kind == "other" { "" } else { kind }.to_string();
    for (i, line) in lines.iter().enumerate() {
        let now = after.iter().find(|r| r.origin == Some(i));
        let was = before.iter().find(|r| r.origin == Some(i));
        match now {
            None => p.remove(line.start, line.end),
            Some(r) if r.value.trim().is_empty() => p.remove(line.start, line.end),
            Some(r) if Some(r) == was => {}
            Some(r) => {
                let head = if was.map(|w| &w.kind) != Some(&r.kind) {
                    retype(&line.head(), &known, &type_of(&r.kind))
                } else {
                    line.head()
                };
                let v = if was.map(|w| w.value.trim()) != Some(r.value.trim()) {
                    value(r)
                } else {
                    line.raw_value()
                };
                p.replace(line, &format!("{head}:{v}"));
            }
        }
    }
    let at = lines.last().map_or(c.props_end(), |l| l.end);
    for r in after
        .iter()
        .filter(|r| r.origin.is_none() && !r.value.trim().is_empty())
    {
        let t = type_of(&r.kind);
        let head = if t.is_empty() {
            name.to_string()
        } else {
            format!("{name};TYPE={t}")
        };
        p.insert_line(at, &format!("{head}:{}", value(r)));
    }
}
