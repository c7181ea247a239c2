//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "holdfast",
    version,
    about = "Contacts, calendar and to-dos in a local database that is the authoritative copy",
    after_help = "Exit codes: 0 ok · 2 usage or config error · 3 finished with item errors · \
                  4 deletion guard held changes back · 5 server unreachable"
)]
pub struct Args {
    /// Data directory (default: the platform's data dir)
    #[arg(long, global = true, env = "HOLDFAST_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file (default: <config_dir>/holdfast/config.toml)
    #[arg(long, global = true, env = "HOLDFAST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Sync with the configured accounts, then exit
    #[arg(long)]
    pub sync: bool,
    /// Print one JSON document on stdout (for scripts)
    #[arg(long, global = true)]
    pub json: bool,
    /// With --sync: only this account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// With --sync: apply remote deletions the guard held back (they go to the trash)
    #[arg(long)]
    pub accept_remote_deletions: bool,
    /// Draw the UI's first complete frame and exit (for measuring start-up)
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload every live local item the server lacks (after the deletion guard held a sync)
    RestoreRemote {
        /// Only this account
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
    },
    /// Import .vcf / .ics files, merging by UID
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Put every item in this collection (default: Contacts, Calendar or Tasks by kind)
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
    /// Export items; unedited items are written byte-identical
    #[command(group = clap::ArgGroup::new("what").required(true).multiple(true))]
    Export {
        /// Every contact into one .vcf
        #[arg(long, value_name = "F.vcf", group = "what")]
        contacts: Option<PathBuf>,
        /// Convert contacts to this vCard version
        #[arg(long, value_name = "V", value_parser = ["3.0", "4.0"], requires = "contacts")]
        vcard_version: Option<String>,
        /// Every event into one .ics (with the VTIMEZONEs they use)
        #[arg(long, value_name = "F.ics", group = "what")]
        calendar: Option<PathBuf>,
        /// Every to-do into one .ics
        #[arg(long, value_name = "F.ics", group = "what")]
        todos: Option<PathBuf>,
        /// One file per item under DIR/<collection>/ (vdir layout)
        #[arg(long, value_name = "DIR", group = "what")]
        all: Option<PathBuf>,
    },
    /// List contacts, events, to-dos or photos
    List(ListArgs),
    /// Create a contact, event or to-do; prints its UID
    #[command(subcommand)]
    New(NewCommand),
    /// Edit an item's text in $EDITOR (validated, saved as a new revision)
    Edit {
        uid: String,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
    /// Mark a to-do completed
    Done {
        uid: String,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
        /// Re-open it instead
        #[arg(long)]
        undo: bool,
    },
    /// Move an item to the trash
    Delete {
        uid: String,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
    /// Bring an item back from the trash
    Undelete {
        uid: String,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
    /// Every revision of an item
    History {
        uid: String,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
    /// Make an earlier revision the current one (as a new revision)
    Revert {
        uid: String,
        rev: i64,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
    /// Snapshot the database under <data>/backups/
    Backup,
    /// Restore a snapshot (the current database is snapshotted first); no FILE lists them
    RestoreBackup { file: Option<PathBuf> },
    /// Check the database and the items; list flagged items; check every photo blob
    Doctor {
        /// Also re-expand every recurring event and compare occurrences, and re-hash the
        /// photo blobs on the server
        #[arg(long)]
        deep: bool,
        /// Rewrite derived columns that do not match the item text; fetch missing or corrupt
        /// photo blobs from the server
        #[arg(long)]
        repair: bool,
    },
    /// Photo references: add files, link them to contacts, events and to-dos, export them
    #[command(subcommand)]
    Photos(PhotosCommand),
}

#[derive(Debug, Subcommand)]
pub enum PhotosCommand {
    /// Copy photos (files, or folders recursively) into the blob store and add references
    Add {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Caption for every photo added
        #[arg(long, value_name = "T")]
        caption: Option<String>,
        /// Link every photo added to this contact, event or to-do (repeatable)
        #[arg(long, value_name = "UID")]
        link: Vec<String>,
    },
    /// Link a photo to a contact, event or to-do
    Link { id: String, uid: String },
    /// Remove a photo's link to a contact, event or to-do
    Unlink { id: String, uid: String },
    /// Set or clear (empty text) a photo's caption
    Caption { id: String, caption: String },
    /// Copy every live photo into DIR under its original file name
    Export {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListKind {
    Contacts,
    Events,
    Todos,
    Photos,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    pub kind: ListKind,
    /// Search names, emails, phones, orgs, summaries, locations and notes (accents ignored)
    #[arg(long, short, value_name = "Q")]
    pub query: Option<String>,
    /// Events from this date (or RFC 3339 time), expanded into occurrences
    #[arg(long, value_name = "D", requires = "to")]
    pub from: Option<String>,
    /// ... up to this date, exclusive
    #[arg(long, value_name = "D", requires = "from")]
    pub to: Option<String>,
    /// Only items flagged as conflicts
    #[arg(long)]
    pub conflicts: bool,
    /// Items in the trash instead of live ones
    #[arg(long)]
    pub trash: bool,
    /// Only this collection
    #[arg(long, value_name = "C")]
    pub collection: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// A contact
    Contact {
        full_name: String,
        #[arg(long, value_name = "E")]
        email: Vec<String>,
        #[arg(long, value_name = "P")]
        phone: Vec<String>,
        #[arg(long, value_name = "O")]
        org: Option<String>,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
    /// An event
    Event {
        summary: String,
        /// "2026-12-01 10:00", or a date with --all-day
        #[arg(long, value_name = "T")]
        start: String,
        #[arg(long, value_name = "T", conflicts_with = "duration")]
        end: Option<String>,
        /// 30m, 1h, 1h30m, 2d
        #[arg(long, value_name = "D")]
        duration: Option<String>,
        #[arg(long)]
        all_day: bool,
        /// IANA zone (default: the local zone)
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        /// e.g. "FREQ=WEEKLY;COUNT=10"
        #[arg(long, value_name = "RULE")]
        rrule: Option<String>,
        #[arg(long, value_name = "L")]
        location: Option<String>,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
    /// A to-do
    Todo {
        summary: String,
        /// A date, or "2026-12-01 17:00"
        #[arg(long, value_name = "D")]
        due: Option<String>,
        #[arg(long, value_name = "1-9", value_parser = clap::value_parser!(u8).range(1..=9))]
        priority: Option<u8>,
        /// UID of the parent to-do
        #[arg(long, value_name = "UID")]
        parent: Option<String>,
        #[arg(long, value_name = "C")]
        collection: Option<String>,
    },
}
