//! The local database: the authoritative copy of every item (DESIGN.md §3).
//!
//! Owns: schema and ordered migrations, items with their exact bytes and parsed columns,
//! revisions (every write keeps the previous version), the trash, flags, FTS5 search, the
//! occurrence table and its day cache, birthdays, snapshots. This is the only module that writes SQL; it never
//! talks to the network or the terminal.
//!
//! Durability: WAL with `synchronous=FULL`, every batch one transaction, so killing the process
//! at any instant leaves a consistent database (I4). The data directory is 0700 and every file
//! in it 0600 (I10).

mod blobs;
mod columns;
mod day_pack;
mod day_read;
mod days;
mod health;
mod items;
mod occurrences;
mod photos;
mod query;
mod review;
mod snapshot;
mod sync;

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

pub use blobs::{hash_reader, hex, BlobHealth, Blobs, Ingested, Staged, PHOTOS_DIR};
pub use columns::{fold_for_search, Columns};
pub use day_read::{DayWidths, EventWindow};
pub use items::{prepare, ImportOutcome, Incoming, PhotoNote, Prepared, StoredItem};
pub use occurrences::{day_bounds, overlaps_window, ListedOccurrence, OccurrenceView};
pub use photos::{BlobRef, StoredPhoto, PHOTOS_REMOTE_KIND};
pub use query::{ContactView, Filter, RawRef, DENSE};
pub use review::{ConflictVersions, Resolution, SearchGroup, TreeRow, CONFLICT_REMOTE_ORIGIN};
pub use snapshot::Backup;
pub use sync::{Applied, BoundCollection, SyncItem, SyncWrite};

/// How much of the database file is read through mmap (SQLite's default maximum, 2 GB).
const MMAP_BYTES: i64 = 0x7fff_0000;

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "holdfast.db";

/// Ordered schema migrations; each runs in its own transaction and bumps `user_version`.
/// Never edit a released step: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: items, revisions, collections, occurrences, FTS.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        color TEXT,
        account TEXT,
        href TEXT,
        sync_token TEXT,
        ctag TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        kind TEXT NOT NULL,
        uid TEXT NOT NULL,
        rev INTEGER NOT NULL,
        origin TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        edited INTEGER NOT NULL DEFAULT 0,
        deleted_at TEXT,
        flags INTEGER NOT NULL DEFAULT 0,
        problems TEXT,
        title TEXT NOT NULL,
        sort_key TEXT NOT NULL,
        data TEXT NOT NULL,
        start_ts INTEGER,
        end_ts INTEGER,
        all_day INTEGER NOT NULL DEFAULT 0,
        recurring INTEGER NOT NULL DEFAULT 0,
        due_ts INTEGER,
        priority INTEGER,
        status TEXT,
        completed_ts INTEGER,
        parent TEXT,
        bday_md TEXT,
        UNIQUE (uid, collection_id)
    );
    CREATE INDEX items_kind_sort ON items(kind, sort_key);
    -- The exact bytes live apart from the columns lists read, so list scans stay small.
    CREATE TABLE item_raw (
        item_id INTEGER PRIMARY KEY REFERENCES items(id),
        raw BLOB NOT NULL
    );
    CREATE INDEX items_bday ON items(bday_md) WHERE bday_md IS NOT NULL;
    CREATE INDEX items_recurring ON items(recurring) WHERE recurring = 1;
    CREATE INDEX items_flagged ON items(flags) WHERE flags != 0;
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        rev INTEGER NOT NULL,
        raw BLOB NOT NULL,
        origin TEXT NOT NULL,
        at TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        UNIQUE (item_id, rev)
    );
    -- Clustered by start, with what a list shows, so a window is one sequential range scan.
    -- rid is the RECURRENCE-ID instant, or the start for a single event (recurring = 0).
    CREATE TABLE occurrences (
        start INTEGER NOT NULL,
        item_id INTEGER NOT NULL, -- derived data: no foreign-key check per row (items(id))
        rid INTEGER NOT NULL,
        end INTEGER NOT NULL,
        all_day INTEGER NOT NULL,
        recurring INTEGER NOT NULL,
        summary TEXT NOT NULL,
        location TEXT,
        uid TEXT NOT NULL,
        flags INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        collection_id INTEGER NOT NULL,
        PRIMARY KEY (start, item_id, rid)
    ) WITHOUT ROWID;
    CREATE INDEX occurrences_item ON occurrences(item_id);
    CREATE VIRTUAL TABLE items_fts USING fts5(
        body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
    );
    "#,
    // 2: sync state (DESIGN.md §3): per item the server's href and etag, the local rev last
    // confirmed there, and the text both sides agreed on (the base of three-way merges); per
    // collection what the server calls it.
    r#"
    CREATE TABLE sync_state (
        item_id INTEGER PRIMARY KEY REFERENCES items(id),
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        href TEXT NOT NULL,
        etag TEXT,
        synced_rev INTEGER NOT NULL,
        base BLOB NOT NULL,
        UNIQUE (collection_id, href)
    );
    ALTER TABLE collections ADD COLUMN remote_kind TEXT;
    ALTER TABLE collections ADD COLUMN synced_at TEXT;
    "#,
    // 3: to-dos in list order straight from an index (open first, by due date, priority,
    // name), so a screenful of 100,000 to-dos is read without sorting them all.
    r#"
    CREATE INDEX items_todo_order ON items(
        (status IN ('COMPLETED', 'CANCELLED')),
        due_ts IS NULL,
        due_ts,
        coalesce(nullif(priority, 0), 10),
        sort_key,
        deleted_at,
        collection_id
    ) WHERE kind = 'todo';
    -- Counting a kind's live items from the index alone.
    CREATE INDEX items_count ON items(kind, deleted_at, collection_id, flags);
    "#,
    // 4: what a contact list line shows, by id: a search's hits are looked up here (a few
    // hundred bytes of index per contact) rather than in the table rows, which are spread
    // over the whole file with each contact's full fields.
    r#"
    CREATE INDEX items_contact_line ON items(
        id, sort_key, title, uid, flags, collection_id, deleted_at,
        json_extract(data, '$.org'), json_extract(data, '$.emails[0]'),
        json_extract(data, '$.phones[0]')
    ) WHERE kind = 'contact';
    "#,
    // 5: a to-do's subtasks by its UID, so the to-do tree reads only the children of the
    // parents on screen.
    r#"
    CREATE INDEX items_todo_parent ON items(parent) WHERE kind = 'todo' AND parent IS NOT NULL;
    "#,
    // 6: a calendar day's birthdays, in name order, from the index alone: a month view asks
    // for the first few of each of 42 days, and `items_bday` made each ask read and sort
    // every live contact born that day (~140 a day with 50,000 birthdays).
    r#"
    CREATE INDEX items_bday_names ON items(bday_md, sort_key, uid, title)
        WHERE bday_md IS NOT NULL AND deleted_at IS NULL AND kind = 'contact';
    -- The occurrences longer than an hour (all-day ones included; a few percent of a
    -- calendar): what is still running at an instant is found here and in the last hour of
    -- the table, instead of in every row of the longest event's span. The 3600 is
    -- `occurrences::LONG` and must stay written the same in the queries that use it.
    CREATE INDEX occurrences_long ON occurrences(start, end, all_day, deleted)
        WHERE end - start > 3600;
    -- The trash's occurrences (a handful): a day's live rows are counted as all its rows,
    -- which needs only the key, less these, instead of reading `deleted` from every row.
    CREATE INDEX occurrences_trashed ON occurrences(start) WHERE deleted = 1;
    "#,
    // 7: photo references (items of kind 'photo' whose text is the JSON sidecar): the blob
    // each needs, and the contacts, events and to-dos each is linked to, kept from the sidecar
    // by every write. Derived data, rebuilt by `doctor --repair`.
    r#"
    CREATE TABLE photo_refs (
        item_id INTEGER PRIMARY KEY REFERENCES items(id),
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL
    );
    CREATE INDEX photo_refs_sha ON photo_refs(sha256);
    CREATE TABLE photo_links (
        target_uid TEXT NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items(id),
        PRIMARY KEY (target_uid, item_id)
    ) WITHOUT ROWID;
    CREATE INDEX photo_links_item ON photo_links(item_id);
    "#,
    // 8: the occurrences' day cache (`days.rs`): per UTC day, its live occurrences packed in
    // one blob. Derived data, kept exact in the writer's transaction: these triggers delete
    // the day of a row deleted or updated (`start / 86400` is `days::day_of`); inserts are
    // all made by `items::insert_occ_rows`, which deletes the days it adds to (an insert
    // trigger cost seconds per import).
    r#"
    CREATE TABLE occurrence_days (
        day INTEGER PRIMARY KEY,
        rows INTEGER NOT NULL,
        summary_w INTEGER NOT NULL,
        location_w INTEGER NOT NULL,
        plain INTEGER NOT NULL,
        packed BLOB NOT NULL -- last: the columns before it are read without its pages
    );
    CREATE TRIGGER occurrence_days_delete AFTER DELETE ON occurrences BEGIN
        DELETE FROM occurrence_days WHERE day = OLD.start / 86400;
    END;
    CREATE TRIGGER occurrence_days_update AFTER UPDATE ON occurrences BEGIN
        DELETE FROM occurrence_days WHERE day IN (OLD.start / 86400, NEW.start / 86400);
    END;
    "#,
];

/// Indexes that serve lists and views and that an import never reads (`defer_list_indexes`).
/// Not the UID index (each imported item is looked up), nor `occurrences_item` (a changed
/// item's old occurrences are found by it), nor `items_recurring` (horizon extension).
const LIST_INDEXES: &[&str] = &[
    "items_kind_sort",
    "items_bday",
    "items_flagged",
    "items_todo_order",
    "items_count",
    "items_contact_line",
    "items_todo_parent",
    "items_bday_names",
    "occurrences_long",
    "occurrences_trashed",
];

/// The meta key holding the SQL of indexes a bulk import dropped and has yet to build.
const DEFERRED_INDEXES: &str = "deferred_indexes";

/// A second, read-only connection to a store's database, set as all of ours are, for reading
/// on another thread (no migration: the store's own connection has done it).
fn read_only_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    read_settings(&conn)?;
    Ok(conn)
}

/// How long a connection waits for another's write lock.
const BUSY_SECS: u64 = 10;

/// What every connection of ours is set to, the read-only ones too.
fn read_settings(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(BUSY_SECS))?;
    // The bundled SQLite has STAT4, which re-plans a statement whenever a bound value
    // changes; with hundreds of thousands of lookups per import that re-planning dominated.
    // A stable plan is what we want anyway.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // Read pages through mmap: a fresh process (every CLI call) skips a read() and a fresh
    // heap page per database page. The map must cover the whole file: past its end SQLite
    // falls back to read(), and a 400 MB database (220k items) had its occurrence pages
    // there. SQLite clamps this to its compile-time maximum (2 GB).
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    Ok(())
}

/// Errors of the store, worded for the person who will read them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database value error: {0}")]
    Value(#[from] rusqlite::types::FromSqlError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} was written by a newer Holdfast (schema {found}; this binary knows up to {known}). \
         Upgrade holdfast, or restore an older backup with `holdfast restore-backup FILE`"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "no item with UID {0:?} (see `holdfast list … --json` for UIDs; deleted items: `--trash`)"
    )]
    NotFound(String),
    #[error("UID {uid:?} exists in {count} collections; name one with --collection")]
    Ambiguous { uid: String, count: usize },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    data_dir: PathBuf,
    /// Windows past the stored horizon are read as stored and the wanted window kept here
    /// (`Store::defer_extension`), for the caller to extend elsewhere.
    defer_extension: bool,
    deferred: Option<(i64, i64)>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and parents) with mode 0700, and tightens it if it already exists.
pub fn private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

/// Makes a file readable by its owner only, if it exists.
pub fn private_file(path: &Path) -> Result<()> {
    match fs::metadata(path) {
        Ok(_) => fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io(path)),
        Err(_) => Ok(()),
    }
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, runs migrations and makes sure the
    /// default collections exist.
    pub fn open(data_dir: &Path) -> Result<Store> {
        private_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let store = Self::open_file(&path)?;
        for name in ["Contacts", "Calendar", "Tasks"] {
            store.collection_id(name)?;
        }
        Ok(store)
    }

    fn open_file(path: &Path) -> Result<Store> {
        if !path.exists() {
            // Create the file 0600 before SQLite does, so it is never readable by others.
            fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
                .map_err(io(path))?;
        }
        private_file(path)?;
        let mut conn = Connection::open(path)?;
        read_settings(&conn)?;
        // Write transactions take the write lock when they begin: a deferred one that read
        // first and then writes fails at once with SQLITE_BUSY (no busy wait) when another
        // connection wrote meanwhile, and the sync worker's threads and the UI each have one.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 64 MiB of page cache: index lookups during big imports stay in memory.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoint every ~64 MiB of WAL instead of 4 MiB: fewer rewrites of hot pages.
        conn.pragma_update(None, "wal_autocheckpoint", 16_000)?;
        let data_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            data_dir,
            defer_extension: false,
            deferred: None,
        };
        store.migrate()?;
        // An import that stopped before building the list indexes back (killed, a full disk).
        store.build_deferred_indexes()?;
        for ext in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(ext);
            private_file(Path::new(&p))?;
        }
        Ok(store)
    }

    /// For bulk writes (import): no mmap, so memory stays at the page cache plus the batch
    /// instead of growing with every page of the file touched.
    pub fn bulk_mode(&self) -> Result<()> {
        self.conn.pragma_update(None, "mmap_size", 0)?;
        Ok(())
    }

    /// Before a bulk import into a store that holds next to nothing: drops the indexes that
    /// serve lists and views (`LIST_INDEXES`; the import never reads them), keeping their SQL in
    /// the meta table in the same transaction. `build_deferred_indexes` builds each once at the
    /// end, from sorted keys, so its pages lie together in the file: maintained row by row
    /// through 100,000 inserts they were scattered, and a search for a common name touched
    /// twice the pages (33 ms against 17 ms). Every open builds indexes left deferred by an
    /// import that did not finish. False (nothing done) when the store is not nearly empty.
    pub fn defer_list_indexes(&mut self) -> Result<bool> {
        let items: i64 = self.conn.query_row(
            "SELECT count(*) FROM (SELECT 1 FROM items LIMIT 1000)",
            [],
            |r| r.get(0),
        )?;
        if items >= 1000 || self.meta(DEFERRED_INDEXES)?.is_some() {
            return Ok(false);
        }
        let tx = self.conn.transaction()?;
        let mut sqls = Vec::new();
        for name in LIST_INDEXES {
            let sql: Option<String> = tx
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(sql) = sql {
                sqls.push(sql);
                tx.execute_batch(&format!("DROP INDEX {name}"))?;
            }
        }
        let json = serde_json::to_string(&sqls)
            .map_err(|e| StoreError::Invalid(format!("cannot keep the index list: {e}")))?;
        Self::set_meta(&tx, DEFERRED_INDEXES, &json)?;
        tx.commit()?;
        Ok(true)
    }

    /// Whether a bulk import has the list indexes dropped right now (see `defer_list_indexes`).
    pub fn indexes_deferred(&self) -> Result<bool> {
        Ok(self.meta(DEFERRED_INDEXES)?.is_some())
    }

    /// Builds the indexes `defer_list_indexes` dropped, if any, in one transaction.
    pub fn build_deferred_indexes(&mut self) -> Result<()> {
        let Some(json) = self.meta(DEFERRED_INDEXES)? else {
            return Ok(());
        };
        let sqls: Vec<String> = serde_json::from_str(&json).map_err(|e| {
            StoreError::Invalid(format!(
                "the deferred index list in the database is damaged: {e}"
            ))
        })?;
        let tx = self.conn.transaction()?;
        for sql in &sqls {
            tx.execute_batch(sql)?;
        }
        tx.execute("DELETE FROM meta WHERE key = ?1", [DEFERRED_INDEXES])?;
        tx.commit()?;
        Ok(())
    }

    /// For a long-running UI: pages through a 16 MiB cache instead of mapping the file, so
    /// memory stays small however much of a big database a session has looked at.
    pub fn interactive_mode(&self) -> Result<()> {
        self.conn.pragma_update(None, "mmap_size", 0)?;
        self.conn.pragma_update(None, "cache_size", -16_384)?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Schema version this binary writes.
    pub fn latest_schema() -> i64 {
        MIGRATIONS.len() as i64
    }

    fn migrate(&mut self) -> Result<()> {
        let current: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = Self::latest_schema();
        if current > known {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: current,
                known,
            });
        }
        for (i, step) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(step)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The id of the collection called `name`, created (local-only) if missing.
    pub fn collection_id(&self, name: &str) -> Result<i64> {
        if let Some(id) = self
            .conn
            .query_row("SELECT id FROM collections WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?
        {
            return Ok(id);
        }
        self.conn.execute(
            "INSERT INTO collections (name, created_at) VALUES (?1, ?2)",
            rusqlite::params![name, now_text()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Collection names with live item counts.
    pub fn collections(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT c.name, (SELECT count(*) FROM items i WHERE i.collection_id = c.id AND i.deleted_at IS NULL)
             FROM collections c ORDER BY c.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        Self::meta_in(&self.conn, key)
    }

    fn meta_in(conn: &Connection, key: &str) -> Result<Option<String>> {
        Ok(conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

/// `f` over `items` on every core, results in the order of `items`. Parsing and recurrence
/// expansion are pure and dominate big imports; SQL stays on the calling thread.
pub(crate) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if threads == 1 || items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(v) => v,
                // Callers catch panics per item, so this is a bug: stop rather than drop results.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Now, as stored: RFC 3339 UTC with seconds.
pub fn now_text() -> String {
    // Not `format("%Y-…")`: that parses its pattern on every call, once per imported item.
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
