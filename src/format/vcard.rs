//! vCard items (2.1, 3.0, 4.0), parsed with calcard: quoted-printable, CHARSET, groups and
//! inline photos are calcard's job; this module reads the fields views need.

use calcard::common::PartialDateTime;
use calcard::vcard::{VCard, VCardEntry, VCardProperty, VCardValue, VCardVersion};

use crate::model::ContactFields;

fn value_text(v: &VCardValue) -> Option<String> {
    match v {
        VCardValue::Text(t) => Some(t.clone()),
        VCardValue::Component(parts) => Some(
            parts
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        VCardValue::Integer(i) => Some(i.to_string()),
        VCardValue::Float(f) => Some(f.to_string()),
        _ => None,
    }
    .map(|s| s.trim().to_string())
    .filter(|s| !s.is_empty())
}

fn entry_text(e: &VCardEntry) -> Option<String> {
    let parts: Vec<String> = e.values.iter().filter_map(value_text).collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(", "))
    }
}

fn first_text(card: &VCard, prop: VCardProperty) -> Option<String> {
    card.entries
        .iter()
        .filter(|e| e.name == prop)
        .find_map(entry_text)
}

fn birthday(dt: &PartialDateTime) -> Option<(Option<i32>, u32, u32)> {
    let month = u32::from(dt.month?);
    let day = u32::from(dt.day?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some((dt.year.map(i32::from), month, day))
}

/// Text BDAY forms calcard leaves as text: `--0415`, `1980-04-15`, `19800415`.
fn birthday_text(s: &str) -> Option<(Option<i32>, u32, u32)> {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let (year, md) = if s.starts_with("--") && digits.len() == 4 {
        (None, digits.as_str())
    } else if digits.len() >= 8 {
        (digits[0..4].parse().ok(), &digits[4..8])
    } else {
        return None;
    };
    let month: u32 = md[0..2].parse().ok()?;
    let day: u32 = md[2..4].parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
}

/// The fields of a parsed card.
pub fn fields(card: &VCard) -> ContactFields {
    let mut c = ContactFields {
        full_name: first_text(card, VCardProperty::Fn).unwrap_or_default(),
        org: first_text(card, VCardProperty::Org),
        title: first_text(card, VCardProperty::Title),
        nickname: first_text(card, VCardProperty::Nickname),
        note: first_text(card, VCardProperty::Note),
        ..ContactFields::default()
    };
    if c.full_name.is_empty() {
        // No FN (vCard 2.1 allows it): build one from N (family; given; additional; prefix; suffix).
        if let Some(n) = card.entries.iter().find(|e| e.name == VCardProperty::N) {
            let parts: Vec<String> = match n.values.first() {
                Some(VCardValue::Component(p)) => p.clone(),
                _ => n.values.iter().filter_map(value_text).collect(),
            };
            let pick = |i: usize| {
                parts
                    .get(i)
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            };
            c.full_name = [pick(3), pick(1), pick(2), pick(0), pick(4)]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
        }
    }
    if c.full_name.is_empty() {
        c.full_name = c.org.clone().unwrap_or_default();
    }
    for e in &card.entries {
        match e.name {
            VCardProperty::Email => c.emails.extend(entry_text(e)),
            VCardProperty::Tel => c.phones.extend(entry_text(e)),
            VCardProperty::Adr => c.addresses.extend(entry_text(e)),
            VCardProperty::Categories => c.categories.extend(
                e.values
                    .iter()
                    .filter_map(value_text)
                    .flat_map(|s| {
                        s.split(',')
                            .map(|p| p.trim().to_string())
                            .collect::<Vec<_>>()
                    })
                    .filter(|s| !s.is_empty()),
            ),
            VCardProperty::Photo => c.photos += 1,
            VCardProperty::Bday if c.birthday.is_none() => {
                c.birthday = match e.values.first() {
                    Some(VCardValue::PartialDateTime(dt)) => birthday(dt),
                    Some(VCardValue::Text(t)) => birthday_text(t),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    c
}

/// The vCard versions Holdfast writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V3,
    V4,
}

impl Version {
    /// `3.0` or `4.0`.
    pub fn parse(s: &str) -> Option<Version> {
        match s {
            "3.0" => Some(Version::V3),
            "4.0" => Some(Version::V4),
            _ => None,
        }
    }
}

/// Re-writes a card's bytes in another vCard version with calcard's writer; None when calcard
/// cannot read the card.
pub fn convert(raw: &[u8], version: Version) -> Option<String> {
    let card = super::parse_card(raw)?;
    let mut out = String::new();
    let target = match version {
        Version::V3 => VCardVersion::V3_0,
        Version::V4 => VCardVersion::V4_0,
    };
    // Writing to a String cannot fail.
    let _ = card.write_to(&mut out, target);
    Some(out)
}

/// Whether a card's bytes end with its END:VCARD line (a card without one would swallow the
/// next card in a shared file).
pub fn is_terminated(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw);
    text.trim_end()
        .rsplit(['\n', '\r'])
        .next()
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("END:VCARD"))
}
