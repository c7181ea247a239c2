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

/// One field of a card as the contact detail shows it: what it is, its label (the TYPE
/// parameters, or an Apple `itemN.X-ABLabel`) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledField {
    /// `email`, `phone`, `address`, `url`, `birthday`, `org`, `title`, `nickname`, `note`,
    /// `categories`, `photo`, `impp`, `related`, `anniversary`.
    pub field: &'static str,
    /// `work`, `home, pref`, `cell`, `Mobile` …; empty when the card gives none.
    pub label: String,
    pub value: String,
}

/// Every field of a card a person reads, in the card's order, each with its label. Types are
/// read in every spelling: vCard 4.0/3.0 `TYPE=work,voice`, `TYPE=work;TYPE=cell`, vCard 2.1
/// bare `TEL;WORK;VOICE`, `PREF=1`, and Apple's grouped `item1.X-ABLabel:_$!<Mobile>!$_`.
/// None when calcard cannot read the card.
pub fn labelled_fields(raw: &[u8]) -> Option<Vec<LabelledField>> {
    let card = super::parse_card(raw)?;
    let mut out = Vec::new();
    for e in &card.entries {
        let field = match &e.name {
            VCardProperty::Email => "email",
            VCardProperty::Tel => "phone",
            VCardProperty::Adr => "address",
            VCardProperty::Url => "url",
            VCardProperty::Bday => "birthday",
            VCardProperty::Anniversary => "anniversary",
            VCardProperty::Org => "org",
            VCardProperty::Title => "title",
            VCardProperty::Role => "role",
            VCardProperty::Nickname => "nickname",
            VCardProperty::Note => "note",
            VCardProperty::Categories => "categories",
            VCardProperty::Impp => "impp",
            VCardProperty::Related => "related",
            VCardProperty::Photo => "photo",
            _ => continue,
        };
        let value = if field == "photo" {
            photo_ref(e)
        } else if field == "birthday" || field == "anniversary" {
            match e.values.first() {
                Some(VCardValue::PartialDateTime(dt)) => birthday(dt).map(|(y, m, d)| match y {
                    Some(y) => format!("{y:04}-{m:02}-{d:02}"),
                    None => format!("--{m:02}-{d:02}"),
                }),
                _ => entry_text(e),
            }
        } else if field == "address" {
            // Post office box; extended; street; locality; region; code; country.
            match e.values.first() {
                Some(VCardValue::Component(parts)) => Some(
                    parts
                        .iter()
                        .map(|p| p.trim())
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
                .filter(|s| !s.is_empty()),
                _ => entry_text(e),
            }
        } else {
            entry_text(e)
        };
        let Some(value) = value else { continue };
        out.push(LabelledField {
            field,
            label: label_of(&card, e),
            value,
        });
    }
    Some(out)
}

/// An inline photo's size or a photo URI.
fn photo_ref(e: &VCardEntry) -> Option<String> {
    match e.values.first() {
        Some(VCardValue::Binary(b)) => Some(format!("inline, {} bytes", b.data.len())),
        Some(VCardValue::Text(t)) if t.starts_with("data:") => {
            Some(format!("inline, {} characters", t.len()))
        }
        Some(VCardValue::Text(t)) => Some(t.clone()),
        _ => Some("inline".into()),
    }
}

/// Words of TYPE (and vCard 2.1 bare parameters) a label shows; `internet`, `x400` and the
/// like say nothing to a person.
const LABEL_NOISE: &[&str] = &["internet", "x400", "x-internet", "pref"];

fn label_of(card: &VCard, e: &VCardEntry) -> String {
    use calcard::common::IanaString;
    use calcard::vcard::{VCardParameterName, VCardParameterValue};
    let mut words: Vec<String> = Vec::new();
    let mut pref = false;
    for p in &e.params {
        match (&p.name, &p.value) {
            (VCardParameterName::Type, VCardParameterValue::Type(t)) => {
                words.push(t.as_str().to_ascii_lowercase())
            }
            (VCardParameterName::Type, VCardParameterValue::Text(t)) => words.extend(
                t.split(',')
                    .map(|w| w.trim().trim_matches('"').to_ascii_lowercase())
                    .filter(|w| !w.is_empty()),
            ),
            (VCardParameterName::Pref, _) => pref = true,
            // vCard 2.1: `TEL;WORK;VOICE:` has bare parameter names.
            (VCardParameterName::Other(n), VCardParameterValue::Null) => {
                words.push(n.to_ascii_lowercase())
            }
            _ => {}
        }
    }
    if words.iter().any(|w| w == "pref") {
        pref = true;
    }
    words.retain(|w| !LABEL_NOISE.contains(&w.as_str()));
    // A phone is a voice line unless it says otherwise: "voice" alone is worth showing.
    if words.len() > 1 {
        words.retain(|w| w != "voice");
    }
    words.dedup();
    // Apple: `item1.TEL:…` with `item1.X-ABLabel:_$!<Mobile>!$_` (or a custom text).
    if let Some(g) = &e.group {
        let custom = card.entries.iter().find(|x| {
            x.group
                .as_deref()
                .is_some_and(|xg| xg.eq_ignore_ascii_case(g))
                && matches!(&x.name, VCardProperty::Other(n) if n.eq_ignore_ascii_case("X-ABLABEL"))
        });
        if let Some(text) = custom.and_then(entry_text) {
            let t = text
                .trim_start_matches("_$!<")
                .trim_end_matches(">!$_")
                .to_string();
            words.retain(|w| w != &t.to_ascii_lowercase());
            words.insert(0, t);
        }
    }
    if pref {
        words.push("pref".into());
    }
    words.join(", ")
}
