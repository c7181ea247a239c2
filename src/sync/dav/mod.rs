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
//!
//! Layout: this file has the public types and the `Client` methods for discovery, one
//! collection and GET; `delta` sync-collection and the etag listing; `multiget`; `write` PUT,
//! DELETE and collection create/delete; `discover` the discovery walk; `http` the transport
//! (auth, redirects, retries, origin rule, size cap); `multistatus` and `xml` the parsing.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};

use self::http::{Http, Reply, Retry};
use self::multistatus::Multistatus;
pub use files::{normalize_etag, Downloaded, FileMember, Folder};

mod delta;
mod discover;
mod files;
mod http;
mod multiget;
mod multistatus;
mod write;
mod xml;

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
    http: Http,
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
        Ok(Client {
            http: Http::new(base_url, username, password, options)?,
        })
    }

    /// Finds every addressbook and calendar of the account: `.well-known/carddav|caldav`
    /// (RFC 6764), current-user-principal, calendar-home-set and addressbook-home-set, then a
    /// Depth 1 PROPFIND of each home. If the base URL is itself a collection, that collection
    /// alone is returned.
    pub fn discover(&self) -> Result<Vec<RemoteCollection>> {
        Ok(discover::discover(self)?.1)
    }

    /// `discover`, with the home sets (absolute paths) the collections were found in; empty
    /// when the base URL is itself a collection.
    pub fn discover_homes(&self) -> Result<(Vec<String>, Vec<RemoteCollection>)> {
        discover::discover(self)
    }

    /// The collections in `home` (PROPFIND Depth 1 with the listing properties): one request
    /// that also brings each collection's ctag and sync token.
    pub fn collections_in(&self, home: &str) -> Result<Vec<RemoteCollection>> {
        discover::collections_in(self, home)
    }

    /// The collection's current properties (Depth 0): kind, displayname, color, ctag, token.
    pub fn collection(&self, href: &str) -> Result<RemoteCollection> {
        let url = self.url(href)?;
        let (reply, ms) = self.propfind(&url, "0", multistatus::COLLECTION_PROPFIND)?;
        for response in &ms.responses {
            let (target, _) = self.response_url(&reply, response)?;
            if !same_path(&target, &reply.url) {
                continue;
            }
            if let Some(status @ (404 | 410)) = response.status {
                return Err(DavError::NotFound {
                    url: url.to_string(),
                    status,
                });
            }
            return match self.remote_collection(&target, response) {
                Some(collection) => Ok(collection),
                None => Err(DavError::Protocol {
                    url: url.to_string(),
                    reason: "not a calendar or addressbook collection".into(),
                }),
            };
        }
        Err(DavError::Protocol {
            url: url.to_string(),
            reason: "the PROPFIND answer does not describe the collection asked for".into(),
        })
    }

    /// GET one resource.
    pub fn get(&self, href: &str) -> Result<Fetched> {
        let url = self.url(href)?;
        let reply = self
            .http
            .send(&Method::GET, &url, &[], None, Retry::Idempotent)?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&url, &reply));
        }
        Ok(Fetched {
            href: href.to_string(),
            etag: reply.header("etag"),
            body: reply.body,
        })
    }

    /// Requests sent so far (every attempt counts), for tests and the sync summary.
    pub fn requests(&self) -> u64 {
        self.http.requests()
    }

    /// A warning to show when the account speaks plain HTTP to a host that is not this machine
    /// (I10): the password and every item cross the network readable.
    pub fn insecure_warning(&self) -> Option<String> {
        insecure_warning(self.http.base().as_str())
    }

    // ---- helpers shared with discovery ----

    /// `href` (path or URL) resolved against the base URL, on the account's origin.
    fn url(&self, href: &str) -> Result<Url> {
        self.http.resolve(self.http.base(), href)
    }

    /// PROPFIND with `depth`; a 207 parsed, anything else an error.
    fn propfind(&self, url: &Url, depth: &str, body: &str) -> Result<(Reply, Multistatus)> {
        let headers = [
            ("Depth", depth.to_string()),
            ("Content-Type", "application/xml; charset=utf-8".to_string()),
        ];
        let method = dav_method(url, b"PROPFIND")?;
        let reply = self.http.send(
            &method,
            url,
            &headers,
            Some(body.as_bytes()),
            Retry::Idempotent,
        )?;
        if reply.status.as_u16() != 207 {
            return Err(expect_207(url, &reply));
        }
        let ms = self.multistatus(&reply)?;
        self.check_not_gone(&reply, &ms)?;
        Ok((reply, ms))
    }

    /// A 207 whose response for the request-URI itself says 404/410 (Xandikos does this for a
    /// missing collection) is NotFound, never an empty collection (I3 relies on the difference).
    fn check_not_gone(&self, reply: &Reply, ms: &Multistatus) -> Result<()> {
        for response in &ms.responses {
            if let Some(status @ (404 | 410)) = response.status {
                let (target, _) = self.response_url(reply, response)?;
                if same_path(&target, &reply.url) {
                    return Err(DavError::NotFound {
                        url: reply.url.to_string(),
                        status,
                    });
                }
            }
        }
        Ok(())
    }

    fn report(&self, url: &Url, depth: Option<&str>, body: &str) -> Result<Reply> {
        let mut headers = vec![("Content-Type", "application/xml; charset=utf-8".to_string())];
        if let Some(depth) = depth {
            headers.push(("Depth", depth.to_string()));
        }
        let method = dav_method(url, b"REPORT")?;
        self.http.send(
            &method,
            url,
            &headers,
            Some(body.as_bytes()),
            Retry::Idempotent,
        )
    }

    fn multistatus(&self, reply: &Reply) -> Result<Multistatus> {
        xml::parse(&reply.body)
            .and_then(|root| multistatus::parse(&root))
            .map_err(|reason| DavError::Protocol {
                url: reply.url.to_string(),
                reason,
            })
    }

    /// The first href of a response, resolved and checked: (URL, absolute path).
    fn response_url(
        &self,
        reply: &Reply,
        response: &multistatus::Response,
    ) -> Result<(Url, String)> {
        let raw = response
            .hrefs
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let url = self.http.resolve(&reply.url, raw)?;
        let path = url.path().to_string();
        Ok((url, path))
    }

    fn remote_collection(
        &self,
        url: &Url,
        response: &multistatus::Response,
    ) -> Option<RemoteCollection> {
        let kind = multistatus::kind(response)?;
        let mut href = url.path().to_string();
        if !href.ends_with('/') {
            href.push('/');
        }
        Some(RemoteCollection {
            href,
            kind,
            displayname: multistatus::displayname(response),
            color: multistatus::color(response),
            ctag: multistatus::ctag(response),
            sync_token: multistatus::sync_token(response),
        })
    }
}

/// A warning when `url` is plain HTTP to a host that is not this machine (I10): the password
/// and every item would cross the network readable. None for https, loopback, or no URL.
pub fn insecure_warning(url: &str) -> Option<String> {
    let base = Url::parse(url).ok()?;
    if base.scheme() != "http" {
        return None;
    }
    let host = base.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!(
            "{}: plain HTTP to another machine; the password and your data travel \
             unencrypted (use https)",
            http::redact(url)
        )
    })
}

impl std::fmt::Debug for Client {
    /// Base URL and username only: the password never appears, not even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.http.base().as_str())
            .field("username", &self.http.username())
            .field("requests", &self.http.requests())
            .finish_non_exhaustive()
    }
}

fn dav_method(url: &Url, name: &[u8]) -> Result<Method> {
    Method::from_bytes(name).map_err(|_| DavError::Protocol {
        url: url.to_string(),
        reason: "invalid method".into(),
    })
}

/// The error for a reply that should have been 207 Multi-Status.
fn expect_207(url: &Url, reply: &Reply) -> DavError {
    if reply.status.is_success() {
        DavError::Protocol {
            url: url.to_string(),
            reason: format!(
                "expected 207 Multi-Status, got HTTP {} ({})",
                reply.status.as_u16(),
                reply
                    .header("content-type")
                    .unwrap_or_else(|| "no content type".into())
            ),
        }
    } else {
        status_error(url, reply)
    }
}

/// The error for an unexpected status.
fn status_error(url: &Url, reply: &Reply) -> DavError {
    let url = url.to_string();
    match reply.status.as_u16() {
        status @ (401 | 403) => DavError::Auth { url, status },
        status @ (404 | 410) => DavError::NotFound { url, status },
        412 => DavError::PreconditionFailed { url },
        status => DavError::Status {
            url,
            status,
            reason: reply
                .status
                .canonical_reason()
                .unwrap_or("unexpected status")
                .to_string(),
        },
    }
}

/// Percent-decoded path without trailing slashes, to compare hrefs however they are spelled.
fn path_key(url: &Url) -> String {
    let path = url.path();
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(value);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    let decoded = String::from_utf8_lossy(&out).into_owned();
    decoded.trim_end_matches('/').to_string()
}

fn same_path(a: &Url, b: &Url) -> bool {
    path_key(a) == path_key(b)
}
