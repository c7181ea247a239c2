//! Plain domain types shared by every layer: no I/O, no parsing, no SQL.
//!
//! Vocabulary: an *item* is one contact, event (with its overrides) or to-do, identified by its
//! UID inside a *collection*; every write makes a new *revision*; deleted items sit in the *trash*.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What an item is. Stored as text in the database, so the names are part of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Contact,
    Event,
    Todo,
    /// VJOURNAL entries: kept and exported, not shown by any view yet.
    Journal,
    /// A photo reference: its text is the JSON sidecar (`PhotoRef`), its bytes a blob.
    Photo,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Event => "event",
            Kind::Todo => "todo",
            Kind::Journal => "journal",
            Kind::Photo => "photo",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "contact" => Kind::Contact,
            "event" => Kind::Event,
            "todo" => Kind::Todo,
            "journal" => Kind::Journal,
            "photo" => Kind::Photo,
            _ => return None,
        })
    }

    /// Name of the collection that receives this kind when none is given.
    pub fn default_collection(self) -> &'static str {
        match self {
            Kind::Contact => "Contacts",
            Kind::Event | Kind::Journal => "Calendar",
            Kind::Todo => "Tasks",
            Kind::Photo => PHOTOS_COLLECTION,
        }
    }

    /// File extension used for one item of this kind.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Contact => "vcf",
            Kind::Photo => "json",
            _ => "ics",
        }
    }
}

/// Item flags, a bit set stored as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u32);

impl Flags {
    /// The item's text could not be fully understood; it is kept verbatim.
    pub const UNPARSABLE: u32 = 1;
    /// Both sides changed the same property; the other version is kept as a revision.
    pub const CONFLICT: u32 = 2;

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    pub fn names(self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.has(Self::UNPARSABLE) {
            out.push("unparsable");
        }
        if self.has(Self::CONFLICT) {
            out.push("conflict");
        }
        out
    }
}

/// A point in time as a calendar shows it: a whole day, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Moment {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

impl Moment {
    /// Seconds since the epoch; a date counts from its midnight UTC.
    pub fn timestamp(self) -> i64 {
        match self {
            Moment::Date(d) => d
                .and_hms_opt(0, 0, 0)
                .map_or(0, |dt| dt.and_utc().timestamp()),
            Moment::Instant(t) => t.timestamp(),
        }
    }

    /// RFC 3339 in UTC (`2026-03-09T09:00:00Z`) or `YYYY-MM-DD` for a date.
    pub fn to_rfc3339(self) -> String {
        match self {
            Moment::Date(d) => d.format("%Y-%m-%d").to_string(),
            Moment::Instant(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }

    /// Parses what `to_rfc3339` writes.
    pub fn parse(s: &str) -> Option<Moment> {
        if s.len() == 10 {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(Moment::Date)
        } else {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| Moment::Instant(t.with_timezone(&Utc)))
        }
    }
}

/// What views need of a contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFields {
    pub full_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub org: Option<String>,
    pub title: Option<String>,
    pub nickname: Option<String>,
    /// (year if known, month, day)
    pub birthday: Option<(Option<i32>, u32, u32)>,
    pub addresses: Vec<String>,
    pub note: Option<String>,
    pub categories: Vec<String>,
    /// Number of PHOTO properties (inline or by URI).
    pub photos: usize,
}

/// What views need of an event's master component.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFields {
    pub summary: String,
    pub location: Option<String>,
    pub description: Option<String>,
    pub start: Option<Moment>,
    pub end: Option<Moment>,
    pub all_day: bool,
    /// The TZID of DTSTART as written, if any.
    pub tzid: Option<String>,
    pub rrule: Option<String>,
    /// True when the event has RRULE or RDATE, so its occurrences depend on the window.
    pub recurring: bool,
    pub categories: Vec<String>,
}

/// What views need of a to-do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TodoFields {
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub start: Option<Moment>,
    pub due: Option<Moment>,
    pub priority: Option<u8>,
    pub status: Option<String>,
    pub percent_complete: Option<u8>,
    pub completed: Option<Moment>,
    pub categories: Vec<String>,
    /// UID of the parent to-do (RELATED-TO with RELTYPE=PARENT or no RELTYPE).
    pub parent: Option<String>,
}

/// The parsed columns of an item, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Fields {
    Contact(ContactFields),
    Event(EventFields),
    Todo(TodoFields),
    Journal { summary: String },
}

impl Fields {
    pub fn kind(&self) -> Kind {
        match self {
            Fields::Contact(_) => Kind::Contact,
            Fields::Event(_) => Kind::Event,
            Fields::Todo(_) => Kind::Todo,
            Fields::Journal { .. } => Kind::Journal,
        }
    }

    /// The name a list shows: full name or summary.
    pub fn title(&self) -> &str {
        match self {
            Fields::Contact(c) => &c.full_name,
            Fields::Event(e) => &e.summary,
            Fields::Todo(t) => &t.summary,
            Fields::Journal { summary } => summary,
        }
    }
}

/// One occurrence of an event in UTC; overrides carry their own summary and location.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub start: Moment,
    pub end: Moment,
    /// The RECURRENCE-ID instant this occurrence stands for (seconds), for recurring events.
    pub recurrence_id: Option<i64>,
    pub summary: Option<String>,
    pub location: Option<String>,
}

/// A problem found in an item's text: the 1-based line (relative to the item's first line,
/// the importer adds the file offset) and a reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub reason: String,
}

/// One stored version of an item, as `history` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub rev: i64,
    /// RFC 3339, UTC.
    pub time: String,
    /// What made this version: `import:<file>`, `new`, `edit`, `done`, `delete`, `revert:<rev>` …
    pub origin: String,
    pub deleted: bool,
    pub text: String,
}

/// The local collection photo references live in.
pub const PHOTOS_COLLECTION: &str = "Photos";

/// A photo reference: what Holdfast knows of one photo whose bytes sit in the blob store under
/// their SHA-256. Stored (and synced, as `<id>.json`) as its JSON sidecar; every change is a
/// revision like any item's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// Marks the JSON as a Holdfast photo sidecar, and its version.
    pub format: String,
    /// The item UID (a UUID), also the sidecar's file name on the server.
    pub id: String,
    /// Lower-case hex SHA-256 of the photo's bytes: the blob's name.
    pub sha256: String,
    pub mime: String,
    pub size: u64,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    /// EXIF DateTimeOriginal as the camera wrote it (local wall time: `YYYY-MM-DDTHH:MM:SS`,
    /// with the EXIF offset appended when the camera recorded one).
    #[serde(default)]
    pub taken_at: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    /// The file name it was added from, used by `photos export`.
    #[serde(default)]
    pub original_name: Option<String>,
    /// Where it was added from (informative: the blob does not depend on it).
    #[serde(default)]
    pub original_path: Option<String>,
    /// UIDs of the contacts, events and to-dos it belongs to, sorted, no duplicates.
    #[serde(default)]
    pub links: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
}

impl PhotoRef {
    /// The value of `format` this version writes.
    pub const FORMAT: &'static str = "holdfast-photo/1";

    /// Adds a link (kept sorted); false when it was there already.
    pub fn link(&mut self, uid: &str) -> bool {
        match self.links.binary_search_by(|l| l.as_str().cmp(uid)) {
            Ok(_) => false,
            Err(pos) => {
                self.links.insert(pos, uid.to_string());
                true
            }
        }
    }

    /// Removes a link; false when it was not there.
    pub fn unlink(&mut self, uid: &str) -> bool {
        let before = self.links.len();
        self.links.retain(|l| l != uid);
        self.links.len() != before
    }

    /// File extension for the blob's name on the server and in exports.
    pub fn extension(&self) -> &'static str {
        extension_for_mime(&self.mime)
    }
}

/// `jpg`, `png` … for an image MIME type; `bin` for anything else.
pub fn extension_for_mime(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/tiff" => "tiff",
        "image/heic" => "heic",
        "image/heif" => "heif",
        _ => "bin",
    }
}
