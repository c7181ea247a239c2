//! Sync with CalDAV/CardDAV servers (DESIGN.md §4–§5).

pub mod dav;
pub mod engine;
pub mod plan;
