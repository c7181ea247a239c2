//! Holdfast: a terminal PIM client whose local SQLite database is the authoritative copy.
//!
//! Crate map (dependencies point one way, down this list; nothing lower imports anything higher,
//! and `tests/architecture.rs` fails the build if that erodes):
//!
//! - `tui/`     the terminal UI (ratatui): App state and update, views, keymap, theme; talks to the
//!   store and to the sync worker over channels.
//! - `sync/`    CalDAV/CardDAV: `dav/` (reqwest + quick-xml client) and the engine (plan, apply,
//!   merge, deletion guard).
//! - `cli/`     headless commands (import, export, list, new, edit, history, backup, doctor …).
//! - `store/`   rusqlite: schema and migrations, items, revisions, trash, FTS5 search, occurrences,
//!   snapshots. The only module that writes SQL.
//! - `format/`  vCard and iCalendar: byte-level unfolding, splitting files into items, calcard-based
//!   parsing into model fields, time zones, recurrence expansion, writers.
//! - `model/`   plain domain types: kinds, flags, parsed fields, occurrences, revisions.
//! - `config`   TOML config and paths; used by `cli/` only.
//! - `logging`  `tracing` to a size-rotated file under the data directory (never the terminal).
//!
//! The invariants (DESIGN.md §1) decided here: local is authoritative (nothing but the user purges),
//! every write keeps the previous version, each item keeps the exact bytes it arrived as, and bad
//! input is kept verbatim, flagged and reported, never dropped.

pub mod cli;
pub mod config;
pub mod format;
pub mod logging;
pub mod model;
pub mod store;
pub mod sync;
pub mod tui;
