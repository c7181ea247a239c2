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

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};

use self::http::{Http, Reply, Retry};
use self::multistatus::Multistatus;
use self::xml::{escape, CALDAV, CARDDAV, DAV};

mod discover;
mod http;
mod multistatus;
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

/// sync-collection rounds followed after 507 before giving up: a server that keeps saying
/// "more" forever is broken, and the caller can fall back to a listing.
const MAX_SYNC_ROUNDS: usize = 10_000;

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
        discover::discover(self)
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

    /// RFC 6578 sync-collection from `token` (None = initial), following 507 truncation until
    /// complete. `TokenRejected` when the server refuses the token or does not support it.
    pub fn sync_collection(&self, href: &str, token: Option<&str>) -> Result<Delta> {
        let url = self.url(href)?;
        // Later rounds override earlier ones: true = changed (with etag), false = removed.
        let mut state: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut token = token.map(str::to_string);
        for _ in 0..MAX_SYNC_ROUNDS {
            let (ms, truncated, target) = self.sync_round(&url, token.as_deref())?;
            for (href, etag) in ms {
                state.insert(href, etag);
            }
            let new_token = target.ok_or_else(|| DavError::Protocol {
                url: url.to_string(),
                reason: "sync-collection answer without a sync-token".into(),
            })?;
            if truncated {
                if token.as_deref() == Some(new_token.as_str()) {
                    return Err(DavError::Protocol {
                        url: url.to_string(),
                        reason:
                            "server reported more results (507) but did not advance the sync-token"
                                .into(),
                    });
                }
                token = Some(new_token);
                continue;
            }
            let mut delta = Delta {
                token: new_token,
                ..Delta::default()
            };
            for (href, etag) in state {
                match etag {
                    Some(etag) => delta.changed.push(Member { href, etag }),
                    None => delta.removed.push(href),
                }
            }
            return Ok(delta);
        }
        Err(DavError::Protocol {
            url: url.to_string(),
            reason: format!("sync-collection still truncated after {MAX_SYNC_ROUNDS} rounds"),
        })
    }

    /// One sync-collection request: (href → Some(etag) | None for removed, truncated?, token).
    #[allow(clippy::type_complexity)]
    fn sync_round(
        &self,
        url: &Url,
        token: Option<&str>,
    ) -> Result<(Vec<(String, Option<String>)>, bool, Option<String>)> {
        let body = format!(
            concat!(
                r#"<?xml version="1.0" encoding="utf-8"?>"#,
                r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{}</d:sync-token>"#,
                r#"<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop>"#,
                r#"</d:sync-collection>"#
            ),
            escape(token.unwrap_or(""))
        );
        let reply = self.report(url, None, &body)?;
        if reply.status.as_u16() != 207 {
            return Err(self.sync_error(url, &reply));
        }
        let ms = self.multistatus(&reply)?;
        self.check_not_gone(&reply, &ms)?;
        let mut out = Vec::new();
        let mut truncated = false;
        for response in &ms.responses {
            let (target, href) = self.response_url(&reply, response)?;
            if same_path(&target, &reply.url) {
                if response.status == Some(507) {
                    truncated = true;
                }
                continue;
            }
            match response.status {
                Some(404 | 410) => out.push((href, None)),
                Some(status) if !(200..300).contains(&status) => {}
                _ => {
                    if multistatus::is_collection(response) {
                        continue;
                    }
                    if let Some(etag) = response.prop(DAV, "getetag") {
                        out.push((href, Some(etag.text().trim().to_string())));
                    } else if response.prop_status(DAV, "getetag") == Some(404) {
                        // RFC 6578 lets a removed member carry its 404 inside the propstat.
                        out.push((href, None));
                    }
                }
            }
        }
        Ok((out, truncated, ms.sync_token))
    }

    fn sync_error(&self, url: &Url, reply: &Reply) -> DavError {
        let status = reply.status.as_u16();
        let error = xml::parse(&reply.body).ok();
        let names = |p: &str| multistatus::has_precondition(error.as_ref(), p);
        match status {
            // Xandikos answers 412 and Radicale 403 for an unknown token; RFC 6578 says 403
            // or 409. Whatever the status, the precondition names the case.
            400..=499
                if names("valid-sync-token")
                    || names("supported-report")
                    || names("sync-collection") =>
            {
                DavError::TokenRejected {
                    url: url.to_string(),
                }
            }
            400 | 501 => DavError::TokenRejected {
                url: url.to_string(),
            },
            _ => status_error(url, reply),
        }
    }

    /// Every member with its etag (PROPFIND Depth 1 getetag), sub-collections left out.
    /// A member the server gives no etag for is listed with an empty etag.
    pub fn list(&self, href: &str) -> Result<Vec<Member>> {
        let url = self.url(href)?;
        let body = concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop>"#,
            r#"</d:propfind>"#
        );
        let (reply, ms) = self.propfind(&url, "1", body)?;
        let mut members = Vec::new();
        for response in &ms.responses {
            let (target, href) = self.response_url(&reply, response)?;
            if same_path(&target, &reply.url) || multistatus::is_collection(response) {
                continue;
            }
            if response.status.is_some_and(|s| !(200..300).contains(&s)) {
                continue;
            }
            let etag = response
                .prop(DAV, "getetag")
                .map(|e| e.text().trim().to_string())
                .unwrap_or_default();
            members.push(Member { href, etag });
        }
        Ok(members)
    }

    /// calendar-multiget or addressbook-multiget (by `kind`) of `hrefs`, in batches of
    /// `Options::multiget_batch`.
    pub fn multiget(
        &self,
        collection: &str,
        kind: &CollectionKind,
        hrefs: &[String],
    ) -> Result<Multiget> {
        let url = self.url(collection)?;
        let mut result = Multiget::default();
        let batch = self.http.options().multiget_batch.max(1);
        for chunk in hrefs.chunks(batch) {
            self.multiget_batch(&url, kind, chunk, &mut result)?;
        }
        Ok(result)
    }

    fn multiget_batch(
        &self,
        url: &Url,
        kind: &CollectionKind,
        hrefs: &[String],
        result: &mut Multiget,
    ) -> Result<()> {
        let (report, ns, data) = match kind {
            CollectionKind::Addressbook => ("addressbook-multiget", CARDDAV, "address-data"),
            CollectionKind::Calendar { .. } => ("calendar-multiget", CALDAV, "calendar-data"),
        };
        // Requested hrefs by their decoded path, to match whatever spelling comes back.
        let mut wanted: BTreeMap<String, (String, bool)> = BTreeMap::new();
        let mut body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><x:{report} xmlns:d="DAV:" xmlns:x="{ns}"><d:prop><d:getetag/><x:{data}/></d:prop>"#
        );
        for href in hrefs {
            let target = self.url(href)?;
            wanted.insert(path_key(&target), (href.clone(), false));
            body.push_str(&format!("<d:href>{}</d:href>", escape(target.path())));
        }
        body.push_str(&format!("</x:{report}>"));
        let reply = self.report(url, Some("1"), &body)?;
        if reply.status.as_u16() != 207 {
            return Err(expect_207(url, &reply));
        }
        let ms = self.multistatus(&reply)?;
        for response in &ms.responses {
            for raw in &response.hrefs {
                let target = self.http.resolve(&reply.url, raw)?;
                let Some((href, seen)) = wanted.get_mut(&path_key(&target)) else {
                    continue;
                };
                if *seen {
                    continue;
                }
                *seen = true;
                let status = response.status.unwrap_or(200);
                match response.prop(ns, data) {
                    Some(element) if (200..300).contains(&status) => result.found.push(Fetched {
                        href: href.clone(),
                        etag: response
                            .prop(DAV, "getetag")
                            .map(|e| e.text().trim().to_string())
                            .filter(|e| !e.is_empty()),
                        body: element.text().into_bytes(),
                    }),
                    _ => {
                        let status = if (200..300).contains(&status) {
                            response.prop_status(ns, data).unwrap_or(404)
                        } else {
                            status
                        };
                        result.missing.push((href.clone(), status));
                    }
                }
            }
        }
        for (href, seen) in wanted.into_values() {
            if !seen {
                result.missing.push((href, 404));
            }
        }
        Ok(())
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

    /// PUT with a precondition; returns the new etag when the server sends one.
    /// 412 → `PreconditionFailed`.
    pub fn put(
        &self,
        href: &str,
        body: &[u8],
        content_type: &str,
        precondition: &Precondition,
    ) -> Result<Option<String>> {
        let url = self.url(href)?;
        let condition = match precondition {
            Precondition::Create => ("If-None-Match", "*".to_string()),
            Precondition::Match(etag) => ("If-Match", etag.clone()),
        };
        let headers = [("Content-Type", content_type.to_string()), condition];
        let reply = self
            .http
            .send(&Method::PUT, &url, &headers, Some(body), Retry::ConnectOnly)?;
        if !reply.status.is_success() {
            return Err(status_error(&url, &reply));
        }
        Ok(reply.header("etag").filter(|e| !e.trim().is_empty()))
    }

    /// DELETE with `If-Match: etag`. 404/410 counts as done; 412 → `PreconditionFailed`.
    pub fn delete(&self, href: &str, etag: &str) -> Result<()> {
        let url = self.url(href)?;
        let headers = [("If-Match", etag.to_string())];
        let reply = self
            .http
            .send(&Method::DELETE, &url, &headers, None, Retry::ConnectOnly)?;
        match reply.status.as_u16() {
            200..=299 | 404 | 410 => Ok(()),
            _ => Err(status_error(&url, &reply)),
        }
    }

    /// Creates a collection (MKCALENDAR with the component set, or extended MKCOL for an
    /// addressbook) at `href`.
    pub fn create_collection(
        &self,
        href: &str,
        kind: &CollectionKind,
        displayname: &str,
    ) -> Result<()> {
        let mut url = self.url(href)?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let name = escape(displayname);
        let (method, body) = match kind {
            CollectionKind::Addressbook => (
                Method::from_bytes(b"MKCOL"),
                format!(
                    concat!(
                        r#"<?xml version="1.0" encoding="utf-8"?>"#,
                        r#"<d:mkcol xmlns:d="DAV:" xmlns:card="{}"><d:set><d:prop>"#,
                        r#"<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>"#,
                        r#"<d:displayname>{}</d:displayname></d:prop></d:set></d:mkcol>"#
                    ),
                    CARDDAV, name
                ),
            ),
            CollectionKind::Calendar { components } => {
                let comps: String = components
                    .iter()
                    .map(|c| format!(r#"<c:comp name="{}"/>"#, escape(c)))
                    .collect();
                let set = if comps.is_empty() {
                    String::new()
                } else {
                    format!("<c:supported-calendar-component-set>{comps}</c:supported-calendar-component-set>")
                };
                (
                    Method::from_bytes(b"MKCALENDAR"),
                    format!(
                        concat!(
                            r#"<?xml version="1.0" encoding="utf-8"?>"#,
                            r#"<c:mkcalendar xmlns:d="DAV:" xmlns:c="{}"><d:set><d:prop>"#,
                            r#"<d:displayname>{}</d:displayname>{}</d:prop></d:set></c:mkcalendar>"#
                        ),
                        CALDAV, name, set
                    ),
                )
            }
        };
        let method = method.map_err(|_| DavError::Protocol {
            url: url.to_string(),
            reason: "invalid method".into(),
        })?;
        let headers = [("Content-Type", "application/xml; charset=utf-8".to_string())];
        let reply = self.http.send(
            &method,
            &url,
            &headers,
            Some(body.as_bytes()),
            Retry::ConnectOnly,
        )?;
        if !reply.status.is_success() {
            return Err(status_error(&url, &reply));
        }
        Ok(())
    }

    /// DELETE of a whole collection (used by tests and never by sync).
    pub fn delete_collection(&self, href: &str) -> Result<()> {
        let url = self.url(href)?;
        let reply = self
            .http
            .send(&Method::DELETE, &url, &[], None, Retry::ConnectOnly)?;
        match reply.status.as_u16() {
            200..=299 | 404 | 410 => Ok(()),
            _ => Err(status_error(&url, &reply)),
        }
    }

    /// Requests sent so far (every attempt counts), for tests and the sync summary.
    pub fn requests(&self) -> u64 {
        self.http.requests()
    }

    /// A warning to show when the account speaks plain HTTP to a host that is not this machine
    /// (I10): the password and every item cross the network readable.
    pub fn insecure_warning(&self) -> Option<String> {
        let base = self.http.base();
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
                "{base}: plain HTTP to another machine; the password and your data travel \
                 unencrypted (use https)"
            )
        })
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
