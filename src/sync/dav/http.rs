//! The transport under the DAV client: one reqwest blocking client (keep-alive pool, rustls),
//! preemptive Basic auth, manual redirects that keep the method and never leave the origin,
//! retries with exponential backoff for retryable failures only, a cap on response size, and a
//! count of every attempt.
//!
//! Owns the origin rule: every URL we send to is resolved against the base URL and must have its
//! scheme, host and port. Never puts the password into an error, a log line or a URL.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::blocking::Client as ReqwestClient;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode, Url};
use sha2::{Digest, Sha256};

use super::{DavError, Options, Result};

/// Redirect hops followed per request; more is a loop or a misconfigured server.
const MAX_REDIRECTS: usize = 5;

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads (PROPFIND, REPORT, GET): retried on connect errors, timeouts, broken connections
    /// and 429/502/503/504.
    Idempotent,
    /// Writes (PUT, DELETE, MKCOL …): retried only when the connection could not be made, so
    /// the request cannot have reached the server.
    ConnectOnly,
}

/// A complete response: the URL that answered (after redirects), status, headers, whole body.
pub(crate) struct Reply {
    pub url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub(crate) struct Http {
    client: ReqwestClient,
    base: Url,
    username: Option<String>,
    password: Option<String>,
    options: Options,
    requests: AtomicU64,
}

impl Http {
    pub fn new(
        base_url: &str,
        username: Option<&str>,
        password: Option<String>,
        options: Options,
    ) -> Result<Http> {
        let mut base = Url::parse(base_url).map_err(|e| DavError::Protocol {
            url: redact(base_url),
            reason: format!("not a valid URL: {e}"),
        })?;
        if base.scheme() != "http" && base.scheme() != "https" {
            return Err(DavError::Protocol {
                url: redact(base_url),
                reason: "only http and https URLs are supported".into(),
            });
        }
        if base.host_str().is_none() {
            return Err(DavError::Protocol {
                url: redact(base_url),
                reason: "the URL has no host".into(),
            });
        }
        // Credentials belong in the account settings, never in a URL we would print.
        let _ = base.set_username("");
        let _ = base.set_password(None);
        base.set_fragment(None);
        let client = ReqwestClient::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.timeout)
            .timeout(options.timeout)
            .user_agent(concat!("holdfast/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DavError::Protocol {
                url: base.to_string(),
                reason: format!("cannot set up the HTTP client: {}", chain(&e)),
            })?;
        Ok(Http {
            client,
            base,
            username: username.map(str::to_string),
            password,
            options,
            requests: AtomicU64::new(0),
        })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Resolves `href` (a path or an absolute URL) against `against` and refuses it if it leaves
    /// the account's origin.
    pub fn resolve(&self, against: &Url, href: &str) -> Result<Url> {
        let url = against.join(href.trim()).map_err(|e| DavError::Protocol {
            url: against.to_string(),
            reason: format!("invalid href {href:?}: {e}"),
        })?;
        self.check_origin(against, url)
    }

    fn check_origin(&self, against: &Url, mut url: Url) -> Result<Url> {
        if !same_origin(&url, &self.base) {
            return Err(DavError::Protocol {
                url: against.to_string(),
                reason: format!(
                    "refusing {}: it is not on the account's server {}",
                    redact(url.as_str()),
                    origin(&self.base)
                ),
            });
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        Ok(url)
    }

    /// Sends one request, following same-origin redirects (method and body kept) and retrying
    /// as `retry` allows. Any status comes back as a `Reply`; transport failures as errors.
    pub fn send(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
        retry: Retry,
    ) -> Result<Reply> {
        let mut url = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let reply = self.send_with_retries(method, &url, headers, body, retry)?;
            if !reply.status.is_redirection() || reply.status == StatusCode::NOT_MODIFIED {
                return Ok(reply);
            }
            let location = reply
                .header(LOCATION.as_str())
                .ok_or_else(|| DavError::Protocol {
                    url: url.to_string(),
                    reason: format!(
                        "redirect (HTTP {}) without a Location",
                        reply.status.as_u16()
                    ),
                })?;
            let next = url.join(location.trim()).map_err(|e| DavError::Protocol {
                url: url.to_string(),
                reason: format!("redirect to an invalid Location {location:?}: {e}"),
            })?;
            // A redirect to another server is refused like any other href off the origin.
            url = self.check_origin(&url, next)?;
        }
        Err(DavError::Protocol {
            url: url.to_string(),
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    fn send_with_retries(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
        retry: Retry,
    ) -> Result<Reply> {
        let mut attempt: u32 = 0;
        loop {
            let outcome = self.attempt(method, url, headers, body);
            let retryable = match &outcome {
                Ok(reply) => {
                    retry == Retry::Idempotent
                        && matches!(reply.status.as_u16(), 429 | 502 | 503 | 504)
                }
                Err(Failure::Connect(_)) => true,
                Err(Failure::Transport(_)) => retry == Retry::Idempotent,
                Err(Failure::Final(_)) => false,
            };
            if !retryable || attempt >= self.options.retries {
                return outcome.map_err(Failure::into_error);
            }
            let wait = self
                .options
                .backoff
                .saturating_mul(2u32.saturating_pow(attempt))
                .min(Duration::from_secs(60));
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    /// One attempt, counted. The body is read whole, up to `max_body`.
    fn attempt(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Reply, Failure> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = self.build(method, url, headers)?;
        if let Some(body) = body {
            request = request.body(body.to_vec());
        }
        let response = request.send().map_err(|e| Self::send_error(url, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let max = self.options.max_body;
        if let Some(length) = response.content_length() {
            if length > max {
                return Err(Failure::Final(too_big(url, max)));
            }
        }
        let mut buf = Vec::new();
        let read = response.take(max.saturating_add(1)).read_to_end(&mut buf);
        if let Err(e) = read {
            let reason = io_chain(&e);
            return Err(if is_timeout(&e) {
                Failure::Transport(DavError::Unreachable {
                    url: url.to_string(),
                    reason: format!("timed out reading the response: {reason}"),
                })
            } else {
                Failure::Final(DavError::Protocol {
                    url: url.to_string(),
                    reason: format!("response body truncated or unreadable: {reason}"),
                })
            });
        }
        if buf.len() as u64 > max {
            return Err(Failure::Final(too_big(url, max)));
        }
        Ok(Reply {
            url: url.clone(),
            status,
            headers,
            body: buf,
        })
    }
}

/// What a streamed request ended with: the URL that answered, status and headers; the body
/// went to the caller's sink (for a 2xx) or is here, capped, for an error.
pub(crate) struct Streamed {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Bytes written to the sink.
    pub written: u64,
    /// SHA-256 (lower-case hex) of those bytes, computed as they streamed by.
    pub sha256: String,
}

impl Streamed {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// Time allowed for moving `bytes` of a blob: the usual timeout, plus a second per 256 KiB so a
/// big photo over a slow link is not cut off while a dead server is still noticed.
pub(crate) fn transfer_timeout(base: Duration, bytes: u64) -> Duration {
    base + Duration::from_secs(bytes / (256 * 1024))
}

impl Http {
    fn build(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(&str, String)],
    ) -> Result<reqwest::blocking::RequestBuilder, Failure> {
        let mut request = self.client.request(method.clone(), url.clone());
        if let Some(user) = &self.username {
            request = request.basic_auth(user, self.password.as_deref());
        }
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes());
            let value = HeaderValue::from_str(value);
            if let (Ok(name), Ok(value)) = (name, value) {
                map.insert(name, value);
            } else {
                return Err(Failure::Final(DavError::Protocol {
                    url: url.to_string(),
                    reason: "a request header could not be encoded".into(),
                }));
            }
        }
        Ok(request.headers(map))
    }

    fn send_error(url: &Url, e: reqwest::Error) -> Failure {
        let error = DavError::Unreachable {
            url: url.to_string(),
            reason: chain(&e),
        };
        if e.is_connect() {
            Failure::Connect(error)
        } else if e.is_builder() || e.is_redirect() {
            Failure::Final(DavError::Protocol {
                url: url.to_string(),
                reason: chain(&e),
            })
        } else {
            Failure::Transport(error)
        }
    }

    /// PUT of a file's bytes, streamed from disk (a photo is never held in memory whole).
    /// Retried only when no connection could be made; no redirects (a write is not replayed
    /// somewhere else). Any status comes back; transport failures as errors.
    pub fn put_file(
        &self,
        url: &Url,
        headers: &[(&str, String)],
        path: &std::path::Path,
    ) -> Result<Reply> {
        let mut attempt: u32 = 0;
        loop {
            let outcome = (|| -> Result<Reply, Failure> {
                let file = std::fs::File::open(path).map_err(|e| {
                    Failure::Final(DavError::Protocol {
                        url: url.to_string(),
                        reason: format!("cannot read {}: {e}", path.display()),
                    })
                })?;
                let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                self.requests.fetch_add(1, Ordering::Relaxed);
                let request = self
                    .build(&Method::PUT, url, headers)?
                    .timeout(transfer_timeout(self.options.timeout, len))
                    .body(reqwest::blocking::Body::sized(file, len));
                let response = request.send().map_err(|e| Self::send_error(url, e))?;
                let status = response.status();
                let headers = response.headers().clone();
                let mut body = Vec::new();
                let _ = response.take(64 * 1024).read_to_end(&mut body);
                Ok(Reply {
                    url: url.clone(),
                    status,
                    headers,
                    body,
                })
            })();
            match outcome {
                Err(Failure::Connect(_)) if attempt < self.options.retries => {
                    std::thread::sleep(self.options.backoff.saturating_mul(2u32.pow(attempt)));
                    attempt += 1;
                }
                other => return other.map_err(Failure::into_error),
            }
        }
    }

    /// GET streamed into `sink` (truncated and rewritten on a retry), at most `max` bytes:
    /// a longer body fails the request. `expected` (the size the listing gave) sets the
    /// transfer timeout. A non-2xx status comes back with nothing written.
    pub fn get_to_file(
        &self,
        url: &Url,
        sink: &mut std::fs::File,
        max: u64,
        expected: u64,
    ) -> Result<Streamed> {
        use std::io::{Seek, Write};
        let mut attempt: u32 = 0;
        loop {
            let outcome = (|| -> Result<Streamed, Failure> {
                sink.set_len(0)
                    .and_then(|_| sink.seek(std::io::SeekFrom::Start(0)).map(|_| ()))
                    .map_err(|e| {
                        Failure::Final(DavError::Protocol {
                            url: url.to_string(),
                            reason: format!("cannot write the download: {e}"),
                        })
                    })?;
                self.requests.fetch_add(1, Ordering::Relaxed);
                let response = self
                    .build(&Method::GET, url, &[])?
                    .timeout(transfer_timeout(self.options.timeout, expected))
                    .send()
                    .map_err(|e| Self::send_error(url, e))?;
                let status = response.status();
                let headers = response.headers().clone();
                if !status.is_success() {
                    return Ok(Streamed {
                        status,
                        headers,
                        written: 0,
                        sha256: String::new(),
                    });
                }
                if response.content_length().is_some_and(|l| l > max) {
                    return Err(Failure::Final(too_big(url, max)));
                }
                let mut reader = response.take(max.saturating_add(1));
                let mut buf = vec![0u8; 256 * 1024];
                let mut written = 0u64;
                let mut hasher = Sha256::new();
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let reason = io_chain(&e);
                            return Err(if is_timeout(&e) {
                                Failure::Transport(DavError::Unreachable {
                                    url: url.to_string(),
                                    reason: format!("timed out reading the response: {reason}"),
                                })
                            } else {
                                Failure::Final(DavError::Protocol {
                                    url: url.to_string(),
                                    reason: format!(
                                        "response body truncated or unreadable: {reason}"
                                    ),
                                })
                            });
                        }
                    };
                    written += n as u64;
                    if written > max {
                        return Err(Failure::Final(too_big(url, max)));
                    }
                    hasher.update(&buf[..n]);
                    sink.write_all(&buf[..n]).map_err(|e| {
                        Failure::Final(DavError::Protocol {
                            url: url.to_string(),
                            reason: format!("cannot write the download: {e}"),
                        })
                    })?;
                }
                let sha256 = hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                Ok(Streamed {
                    status,
                    headers,
                    written,
                    sha256,
                })
            })();
            let retryable = matches!(outcome, Err(Failure::Connect(_) | Failure::Transport(_)));
            if !retryable || attempt >= self.options.retries {
                return outcome.map_err(Failure::into_error);
            }
            std::thread::sleep(self.options.backoff.saturating_mul(2u32.pow(attempt)));
            attempt += 1;
        }
    }
}

/// How an attempt failed, for the retry decision.
enum Failure {
    /// No connection could be made: the request never left.
    Connect(DavError),
    /// Timed out or broke after the request may have been sent.
    Transport(DavError),
    /// Not worth retrying.
    Final(DavError),
}

impl Failure {
    fn into_error(self) -> DavError {
        match self {
            Failure::Connect(e) | Failure::Transport(e) | Failure::Final(e) => e,
        }
    }
}

fn too_big(url: &Url, max: u64) -> DavError {
    DavError::Protocol {
        url: url.to_string(),
        reason: format!("response larger than the {max}-byte limit"),
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A URL for messages: without user info (a password may hide there).
pub(crate) fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}{}", &url[..scheme + 3], &url[at + 1..])
            }
            _ => url.to_string(),
        },
    }
}

/// What went wrong, without the URL (we name it ourselves): a label and the innermost cause,
/// which is the one that says something ("Connection refused", "failed to lookup address").
fn chain(error: &reqwest::Error) -> String {
    let mut innermost = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    let label = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    match innermost {
        Some(cause) if cause.contains("timed out") => cause,
        Some(cause) => format!("{label}: {cause}"),
        None => label.to_string(),
    }
}

fn io_chain(error: &std::io::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

fn is_timeout(error: &std::io::Error) -> bool {
    if error.kind() == std::io::ErrorKind::TimedOut {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(e) = cause.downcast_ref::<reqwest::Error>() {
            if e.is_timeout() {
                return true;
            }
        }
        if let Some(e) = cause.downcast_ref::<std::io::Error>() {
            if e.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
        }
        source = cause.source();
    }
    false
}
