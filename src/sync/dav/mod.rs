//! The CalDAV/CardDAV client (RFC 4918, 4791, 6352, 6578, 6764): blocking reqwest with rustls,
//! XML read with quick-xml's `NsReader` whatever the prefixes.
//!
//! Owns: discovery, collection listing, sync-collection with 507 continuation and an etag-listing
//! fallback, multiget in batches, conditional PUT/DELETE, MKCOL/MKCALENDAR, retries with backoff
//! for retryable errors only, timeouts, a cap on response size. Every href the server sends is
//! resolved against the URL it answered for, and refused if it points at another scheme, host or
//! port: a server cannot make us read or write anywhere else.
//!
//! Knows nothing of the store: it moves bytes and etags. Passwords are held here only, never put
//! into an error message or a log line.

use std::time::Duration;

/// What kind of collection a server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionKind {
    /// CardDAV addressbook.
    Addressbook,
    /// CalDAV calendar; `components` from supported-calendar-component-set, upper case
    /// ("VEVENT", "VTODO"); empty when the server did not say (then it takes everything).
    Calendar { components: Vec<String> },
}

/// One remote collection as listed by PROPFIND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCollection {
    /// Absolute path on the server, percent-encoded as the server sent it, ending in '/'.
    pub href: String,
    pub kind: CollectionKind,
    pub displayname: Option<String>,
    /// `#RRGGBB` or `#RRGGBBAA` (Apple calendar-color), as sent.
    pub color: Option<String>,
    pub ctag: Option<String>,
    pub sync_token: Option<String>,
}

/// One member of a collection: its href (absolute path) and etag (quotes kept, as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub href: String,
    pub etag: String,
}

/// The changes since a sync token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// Changed or new members.
    pub changed: Vec<Member>,
    /// Hrefs reported gone (404 in the sync-collection response).
    pub removed: Vec<String>,
    /// The token to store for next time.
    pub token: String,
}

/// One resource fetched by multiget or GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub href: String,
    /// Etag if the server gave one.
    pub etag: Option<String>,
    /// The exact bytes of calendar-data / address-data / the GET body.
    pub body: Vec<u8>,
}

/// The result of a multiget: what came back, and hrefs the server said it could not give
/// (404, 403 …) with their status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multiget {
    pub found: Vec<Fetched>,
    pub missing: Vec<(String, u16)>,
}

/// The precondition of a write (I5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `If-None-Match: *`: create only.
    Create,
    /// `If-Match: <etag>`: replace only this version.
    Match(String),
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connect and whole-request timeout.
    pub timeout: Duration,
    /// Retries for retryable failures (connect errors, timeouts, 429/502/503/504), with
    /// exponential backoff starting at `backoff`.
    pub retries: u32,
    pub backoff: Duration,
    /// Largest response body read; a bigger one fails that request.
    pub max_body: u64,
    /// Hrefs per multiget request.
    pub multiget_batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(30),
            retries: 2,
            backoff: Duration::from_millis(200),
            max_body: 256 << 20,
            multiget_batch: 500,
        }
    }
}

/// Errors of the DAV client; never containing the password.
#[derive(Debug, thiserror::Error)]
pub enum DavError {
    /// Could not connect, or the connection broke, or it timed out (exit 5 territory).
    #[error("{url}: server unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// 401/403 on a request that needs the account.
    #[error(
        "{url}: authentication failed (HTTP {status}); check the account's username and password"
    )]
    Auth { url: String, status: u16 },
    /// 412 on a conditional write: someone else changed (or created) the resource.
    #[error("{url}: the server's copy changed since we last saw it (HTTP 412)")]
    PreconditionFailed { url: String },
    /// 404/410 on the collection or resource asked for.
    #[error("{url}: not found on the server (HTTP {status})")]
    NotFound { url: String, status: u16 },
    /// The sync token is no longer valid or the server does not support sync-collection;
    /// the caller falls back to an etag listing.
    #[error("{url}: sync token not accepted; a full listing is needed")]
    TokenRejected { url: String },
    /// A response that is not what the protocol says: wrong status, invalid XML, truncated,
    /// too big, an href on another host …
    #[error("{url}: bad response: {reason}")]
    Protocol { url: String, reason: String },
    /// Any other HTTP status.
    #[error("{url}: HTTP {status} {reason}")]
    Status {
        url: String,
        status: u16,
        reason: String,
    },
}

impl DavError {
    /// True when the server could not be reached at all (as opposed to answering badly).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DavError::Unreachable { .. })
    }
}

pub type Result<T, E = DavError> = std::result::Result<T, E>;

/// A connection to one account's server. Cheap to share by reference; keeps a keep-alive pool.
pub struct Client {
    _private: (),
}

impl Client {
    /// A client for `base_url` (http or https). `password` is used for Basic auth with
    /// `username`.
    pub fn new(
        base_url: &str,
        username: Option<&str>,
        password: Option<String>,
        options: Options,
    ) -> Result<Client> {
        let _ = (base_url, username, password, options);
        todo!("issue 3: dav client")
    }

    /// Finds every addressbook and calendar of the account: `.well-known/carddav|caldav`
    /// (RFC 6764), current-user-principal, calendar-home-set and addressbook-home-set, then a
    /// Depth 1 PROPFIND of each home. If the base URL is itself a collection, that collection
    /// alone is returned.
    pub fn discover(&self) -> Result<Vec<RemoteCollection>> {
        todo!("issue 3: dav client")
    }

    /// The collection's current properties (Depth 0): kind, displayname, color, ctag, token.
    pub fn collection(&self, href: &str) -> Result<RemoteCollection> {
        let _ = href;
        todo!("issue 3: dav client")
    }

    /// RFC 6578 sync-collection from `token` (None = initial), following 507 truncation until
    /// complete. `TokenRejected` when the server refuses the token or does not support it.
    pub fn sync_collection(&self, href: &str, token: Option<&str>) -> Result<Delta> {
        let _ = (href, token);
        todo!("issue 3: dav client")
    }

    /// Every member with its etag (PROPFIND Depth 1 getetag), sub-collections left out.
    pub fn list(&self, href: &str) -> Result<Vec<Member>> {
        let _ = href;
        todo!("issue 3: dav client")
    }

    /// calendar-multiget or addressbook-multiget (by `kind`) of `hrefs`, in batches of
    /// `Options::multiget_batch`.
    pub fn multiget(
        &self,
        collection: &str,
        kind: &CollectionKind,
        hrefs: &[String],
    ) -> Result<Multiget> {
        let _ = (collection, kind, hrefs);
        todo!("issue 3: dav client")
    }

    /// GET one resource.
    pub fn get(&self, href: &str) -> Result<Fetched> {
        let _ = href;
        todo!("issue 3: dav client")
    }

    /// PUT with a precondition; returns the new etag when the server sends one.
    /// 412 → `PreconditionFailed`.
    pub fn put(
        &self,
        href: &str,
        body: &[u8],
        content_type: &str,
        precondition: &Precondition,
    ) -> Result<Option<String>> {
        let _ = (href, body, content_type, precondition);
        todo!("issue 3: dav client")
    }

    /// DELETE with `If-Match: etag`. 404/410 counts as done; 412 → `PreconditionFailed`.
    pub fn delete(&self, href: &str, etag: &str) -> Result<()> {
        let _ = (href, etag);
        todo!("issue 3: dav client")
    }

    /// Creates a collection (MKCALENDAR with the component set, or extended MKCOL for an
    /// addressbook) at `href`.
    pub fn create_collection(
        &self,
        href: &str,
        kind: &CollectionKind,
        displayname: &str,
    ) -> Result<()> {
        let _ = (href, kind, displayname);
        todo!("issue 3: dav client")
    }

    /// DELETE of a whole collection (used by tests and never by sync).
    pub fn delete_collection(&self, href: &str) -> Result<()> {
        let _ = href;
        todo!("issue 3: dav client")
    }

    /// Requests sent so far (every attempt counts), for tests and the sync summary.
    pub fn requests(&self) -> u64 {
        todo!("issue 3: dav client")
    }
}
