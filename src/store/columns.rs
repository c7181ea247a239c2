//! Parsed columns: what the store keeps beside an item's bytes so views can query it.
//! Derived from `model::Fields` only, so `doctor` can recompute and compare them.

use serde_json::{json, Value};

use crate::model::{Fields, Moment};

/// The derived columns of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub title: String,
    pub sort_key: String,
    /// Display fields as JSON (the `list --json` fields of DESIGN.md §6 and a few more).
    pub data: String,
    pub start_ts: Option<i64>,
    pub end_ts: Option<i64>,
    pub all_day: bool,
    pub recurring: bool,
    pub due_ts: Option<i64>,
    pub priority: Option<i64>,
    pub status: Option<String>,
    pub completed_ts: Option<i64>,
    pub parent: Option<String>,
    /// `MM-DD` of a contact's birthday.
    pub bday_md: Option<String>,
    /// Text indexed by FTS5 (already folded).
    pub search: String,
    /// An event's LOCATION, copied into its occurrences.
    pub location: Option<String>,
}

fn moment(m: Option<Moment>) -> Value {
    m.map_or(Value::Null, |m| Value::String(m.to_rfc3339()))
}

/// Folds what `unicode61 remove_diacritics 2` does not: letters that are not a base letter plus
/// a combining mark (ł, ø, ß, æ …), so `lecki` finds Łęcki and `oster` finds Øster.
pub fn fold_for_search(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ł' | 'Ł' => out.push('l'),
            'ø' | 'Ø' => out.push('o'),
            'đ' | 'Đ' => out.push('d'),
            'ı' => out.push('i'),
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'þ' | 'Þ' => out.push_str("th"),
            _ => out.push(c),
        }
    }
    out
}

/// Lower case without accents, so "Bäckerei" sorts with "Backhaus", not after "Bob".
fn sort_key(title: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    fold_for_search(title)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

impl Columns {
    pub fn of(fields: &Fields) -> Columns {
        let title = fields.title().to_string();
        let mut c = Columns {
            sort_key: sort_key(&title),
            title,
            data: String::new(),
            start_ts: None,
            end_ts: None,
            all_day: false,
            recurring: false,
            due_ts: None,
            priority: None,
            status: None,
            completed_ts: None,
            parent: None,
            bday_md: None,
            search: String::new(),
            location: None,
        };
        let mut search: Vec<String> = vec![c.title.clone()];
        let data = match fields {
            Fields::Contact(f) => {
                c.bday_md = f.birthday.map(|(_, m, d)| format!("{m:02}-{d:02}"));
                search.extend(f.emails.iter().cloned());
                for p in &f.phones {
                    search.push(p.clone());
                    search.push(p.chars().filter(char::is_ascii_digit).collect());
                }
                search.extend(f.org.iter().cloned());
                search.extend(f.nickname.iter().cloned());
                search.extend(f.note.iter().cloned());
                search.extend(f.categories.iter().cloned());
                search.extend(f.addresses.iter().cloned());
                json!({
                    "full_name": f.full_name,
                    "emails": f.emails,
                    "phones": f.phones,
                    "org": f.org,
                    "title": f.title,
                    "nickname": f.nickname,
                    "birthday": f.birthday.map(|(y, m, d)| match y {
                        Some(y) => format!("{y:04}-{m:02}-{d:02}"),
                        None => format!("--{m:02}-{d:02}"),
                    }),
                    "addresses": f.addresses,
                    "note": f.note,
                    "categories": f.categories,
                    "photos": f.photos,
                })
            }
            Fields::Event(f) => {
                c.start_ts = f.start.map(Moment::timestamp);
                c.end_ts = f.end.map(Moment::timestamp);
                c.all_day = f.all_day;
                c.recurring = f.recurring;
                c.location = f.location.clone();
                search.extend(f.location.iter().cloned());
                search.extend(f.description.iter().cloned());
                search.extend(f.categories.iter().cloned());
                json!({
                    "summary": f.summary,
                    "start": moment(f.start),
                    "end": moment(f.end),
                    "all_day": f.all_day,
                    "location": f.location,
                    "rrule": f.rrule,
                    "tzid": f.tzid,
                    "description": f.description,
                    "categories": f.categories,
                })
            }
            Fields::Todo(f) => {
                c.due_ts = f.due.map(Moment::timestamp);
                c.priority = f.priority.map(i64::from);
                c.status = f.status.clone();
                c.completed_ts = f.completed.map(Moment::timestamp);
                c.parent = f.parent.clone();
                search.extend(f.description.iter().cloned());
                search.extend(f.location.iter().cloned());
                search.extend(f.categories.iter().cloned());
                json!({
                    "summary": f.summary,
                    "due": moment(f.due),
                    "start": moment(f.start),
                    "priority": f.priority,
                    "status": f.status,
                    "percent_complete": f.percent_complete,
                    "completed": moment(f.completed),
                    "parent": f.parent,
                    "description": f.description,
                    "categories": f.categories,
                })
            }
            Fields::Journal { summary } => json!({ "summary": summary }),
        };
        c.data = data.to_string();
        c.search = fold_for_search(&search.join(" "));
        c
    }
}
