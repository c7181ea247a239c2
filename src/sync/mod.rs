//! Sync with CalDAV/CardDAV servers (DESIGN.md §4–§5).

pub mod dav;
