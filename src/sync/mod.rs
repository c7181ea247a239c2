//! Sync with CalDAV/CardDAV servers (DESIGN.md §4–§5).
//!
//! - `dav/`     the HTTP client: discovery, listing, sync-collection, multiget, conditional writes.
//! - `plan`     pure decisions: what to fetch, push, delete or trash; how a fetched item lands.
//! - `engine`   runs a plan against a server and the store; the deletion guard; restore-remote.
//! - `photos`   the account's `photos_url` WebDAV folder: blobs and JSON sidecars, same guard.
//! - `worker`   the thread the TUI and `--sync` talk to over channels.

pub mod dav;
pub mod engine;
pub mod photos;
pub mod plan;
pub mod worker;
