//! vCard and iCalendar: bytes in, model out, bytes back.
//!
//! Owns: unfolding and splitting (`lines`), time zones (`tz`), recurrence (`recur`), reading items
//! (`vcard`, `ical`) and writing new or edited items (`write`). Never touches the database or the
//! terminal. Every function here takes bytes that came from outside: it must not panic on them.

pub mod compose;
pub mod diff;
pub mod edit;
pub mod ical;
pub mod input;
pub mod lines;
pub mod merge;
pub mod occur;
pub mod photo;
pub mod recur;
pub mod split;
pub mod tz;
pub mod vcard;
pub mod width;
pub mod write;

use calcard::{Entry, Parser};

use crate::model::{Fields, Kind, Occurrence, Problem};

/// An item read from its bytes.
pub struct Parsed {
    pub kind: Kind,
    pub fields: Fields,
    /// Damage found: any entry here flags the item `unparsable` (it is still kept verbatim).
    pub problems: Vec<Problem>,
    calendar: Option<ical::Calendar>,
}

impl Parsed {
    /// Occurrences overlapping the window (see `ical::Calendar::occurrences`).
    pub fn occurrences(&self, window: Option<(i64, i64)>) -> Result<Vec<Occurrence>, String> {
        match &self.calendar {
            Some(c) => c.occurrences(window),
            None => Ok(Vec::new()),
        }
    }
}

fn entry_problem(entry: &Entry) -> Option<String> {
    match entry {
        Entry::VCard(_) | Entry::ICalendar(_) | Entry::Eof => None,
        Entry::InvalidLine(l) => Some(format!("calcard could not read the line {l:?}")),
        Entry::UnexpectedComponentEnd { expected, found } => Some(format!(
            "END:{} where END:{} was expected",
            found.as_str(),
            expected.as_str()
        )),
        Entry::UnterminatedComponent(c) => Some(format!("BEGIN:{c} is never ended")),
        Entry::TooManyComponents => Some("too many components".into()),
        _ => Some("unreadable content".into()),
    }
}

/// Parses one item (as cut by `lines::split`, or as stored). Never fails: problems are returned
/// for the caller to flag and report.
pub fn parse(raw: &[u8]) -> Parsed {
    let lines = lines::logical_lines(raw);
    let text = lines::join(&lines);
    let begins: usize = lines::count_begins(&lines).values().sum();
    let mut problems = Vec::new();
    let mut parser = Parser::new(&text);
    let entry = parser.entry();
    let is_card = lines
        .first()
        .and_then(|l| l.marker())
        .is_some_and(|(_, n)| n == "VCARD");
    match entry {
        Entry::VCard(card) => {
            if begins != 1 {
                problems.push(Problem {
                    line: 1,
                    reason: format!(
                        "{begins} BEGIN lines in one vCard (nested or unterminated card)"
                    ),
                });
            }
            let fields = vcard::fields(&card);
            if fields.full_name.is_empty() {
                problems.push(Problem {
                    line: 1,
                    reason: "the card has neither FN nor N nor ORG".into(),
                });
            }
            Parsed {
                kind: Kind::Contact,
                fields: Fields::Contact(fields),
                problems,
                calendar: None,
            }
        }
        Entry::ICalendar(cal) => {
            let parsed_components = cal.components.len();
            if parsed_components != begins {
                problems.push(Problem {
                    line: 1,
                    reason: format!(
                        "{begins} BEGIN lines but {parsed_components} components read: some component is damaged (missing END, stray line)"
                    ),
                });
            }
            calendar(&lines, problems)
        }
        other => {
            let reason = entry_problem(&other).unwrap_or_else(|| "empty item".into());
            problems.push(Problem { line: 1, reason });
            if is_card {
                Parsed {
                    kind: Kind::Contact,
                    fields: Fields::Contact(Default::default()),
                    problems,
                    calendar: None,
                }
            } else {
                // Still read what we can, so the item shows with its summary.
                calendar(&lines, problems)
            }
        }
    }
}

/// Reads a calendar item's lines, adding what it finds to `problems`.
fn calendar(lines: &[lines::Line], mut problems: Vec<Problem>) -> Parsed {
    let calendar = ical::read(lines);
    problems.extend(calendar.problems.iter().cloned());
    Parsed {
        kind: calendar.kind,
        fields: calendar.fields.clone(),
        problems,
        calendar: Some(calendar),
    }
}

/// Parses a vCard for conversion to another version.
pub(crate) fn parse_card(raw: &[u8]) -> Option<calcard::vcard::VCard> {
    let text = lines::join(&lines::logical_lines(raw));
    match Parser::new(&text).entry() {
        Entry::VCard(card) => Some(card),
        _ => None,
    }
}
