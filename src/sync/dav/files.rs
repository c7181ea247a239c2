//! Plain WebDAV files (the photos folder): one-request folder listing with etags and sizes,
//! MKCOL, streamed PUT from a file, streamed GET into a file with a size cap and hashing.
//! Same origin rule, auth, retries and error wording as the rest of the client.

use std::path::Path;

use reqwest::Method;

use super::http::Retry;
use super::xml::{CALSERVER, DAV};
use super::{multistatus, same_path, status_error, Client, DavError, Precondition, Result};

/// One file of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMember {
    /// Absolute path on the server, as sent (percent-encoded).
    pub href: String,
    /// The last path segment, percent-decoded.
    pub name: String,
    /// Etag without quotes or `W/` (servers differ: wsgidav quotes it in headers and not in
    /// PROPFIND); empty when none was given.
    pub etag: String,
    /// getcontentlength, if sent.
    pub size: Option<u64>,
}

/// A folder's files and, where the server offers them, its ctag and sync token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folder {
    pub files: Vec<FileMember>,
    pub ctag: Option<String>,
    pub sync_token: Option<String>,
}

/// A file fetched into a local file by `get_to_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub size: u64,
    pub sha256: String,
    pub etag: Option<String>,
}

/// Etags compared as the opaque strings they are: no quotes, no weakness marker.
pub fn normalize_etag(etag: &str) -> String {
    let e = etag.trim();
    let e = e.strip_prefix("W/").unwrap_or(e);
    e.trim_matches('"').to_string()
}

/// The form an `If-Match` header needs (quoted; `*` stays the wildcard).
fn quoted(etag: &str) -> String {
    if etag.trim() == "*" {
        return "*".into();
    }
    format!("\"{}\"", normalize_etag(etag))
}

const FOLDER_PROPFIND: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop>"#,
    r#"<d:resourcetype/><d:getetag/><d:getcontentlength/><cs:getctag/><d:sync-token/>"#,
    r#"</d:prop></d:propfind>"#
);

impl Client {
    /// The folder's files with etags and sizes (PROPFIND Depth 1: one request). A missing
    /// folder is `NotFound`, never an empty listing (the deletion guard relies on it).
    pub fn propfind_folder(&self, href: &str) -> Result<Folder> {
        let url = self.url(href)?;
        let (reply, ms) = self.propfind(&url, "1", FOLDER_PROPFIND)?;
        let mut folder = Folder::default();
        for response in &ms.responses {
            let (target, path) = self.response_url(&reply, response)?;
            if same_path(&target, &reply.url) {
                folder.ctag = multistatus::text_prop(response, CALSERVER, "getctag")
                    .filter(|s| !s.is_empty());
                folder.sync_token =
                    multistatus::text_prop(response, DAV, "sync-token").filter(|s| !s.is_empty());
                continue;
            }
            if multistatus::is_collection(response)
                || response.status.is_some_and(|s| !(200..300).contains(&s))
            {
                continue;
            }
            let etag = response
                .prop(DAV, "getetag")
                .map(|e| normalize_etag(&e.text()))
                .unwrap_or_default();
            let size = response
                .prop(DAV, "getcontentlength")
                .and_then(|e| e.text().trim().parse::<u64>().ok());
            let name = target
                .path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
                .map(|n| percent_decode(&n))
                .unwrap_or_default();
            folder.files.push(FileMember {
                href: path,
                name,
                etag,
                size,
            });
        }
        Ok(folder)
    }

    /// MKCOL: creates the folder (its parent must exist). 405 (it exists) counts as done.
    pub fn mkcol(&self, href: &str) -> Result<()> {
        let mut url = self.url(href)?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let method = Method::from_bytes(b"MKCOL").map_err(|_| DavError::Protocol {
            url: url.to_string(),
            reason: "invalid method".into(),
        })?;
        let reply = self
            .http
            .send(&method, &url, &[], None, Retry::ConnectOnly)?;
        match reply.status.as_u16() {
            200..=299 | 405 => Ok(()),
            _ => Err(status_error(&url, &reply)),
        }
    }

    /// PUT of a local file, streamed, with a precondition; returns the new etag (normalized)
    /// when the server sends one. 412 → `PreconditionFailed`.
    pub fn put_file(
        &self,
        href: &str,
        path: &Path,
        content_type: &str,
        precondition: &Precondition,
    ) -> Result<Option<String>> {
        let url = self.url(href)?;
        let condition = match precondition {
            Precondition::Create => ("If-None-Match", "*".to_string()),
            Precondition::Match(etag) => ("If-Match", quoted(etag)),
        };
        let headers = [("Content-Type", content_type.to_string()), condition];
        let reply = self.http.put_file(&url, &headers, path)?;
        if !reply.status.is_success() {
            return Err(status_error(&url, &reply));
        }
        Ok(reply
            .header("etag")
            .map(|e| normalize_etag(&e))
            .filter(|e| !e.is_empty()))
    }

    /// PUT of bytes (a sidecar) with a precondition; the etag normalized.
    pub fn put_small(
        &self,
        href: &str,
        body: &[u8],
        content_type: &str,
        precondition: &Precondition,
    ) -> Result<Option<String>> {
        let pre = match precondition {
            Precondition::Create => Precondition::Create,
            Precondition::Match(e) => Precondition::Match(quoted(e)),
        };
        Ok(self
            .put(href, body, content_type, &pre)?
            .map(|e| normalize_etag(&e)))
    }

    /// DELETE with `If-Match` (quoted as needed). 404/410 counts as done.
    pub fn delete_file(&self, href: &str, etag: &str) -> Result<()> {
        self.delete(href, &quoted(etag))
    }

    /// GET streamed into `file`, hashing on the way; more than `max` bytes fails the request.
    /// `expected` is the size the listing gave (for the transfer timeout).
    pub fn get_to_file(
        &self,
        href: &str,
        file: &mut std::fs::File,
        max: u64,
        expected: u64,
    ) -> Result<Downloaded> {
        let url = self.url(href)?;
        let got = self.http.get_to_file(&url, file, max, expected)?;
        if !got.status.is_success() {
            let url = url.to_string();
            return Err(match got.status.as_u16() {
                status @ (401 | 403) => DavError::Auth { url, status },
                status @ (404 | 410) => DavError::NotFound { url, status },
                status => DavError::Status {
                    url,
                    status,
                    reason: got
                        .status
                        .canonical_reason()
                        .unwrap_or("unexpected status")
                        .to_string(),
                },
            });
        }
        Ok(Downloaded {
            size: got.written,
            sha256: got.sha256.clone(),
            etag: got.header("etag").map(|e| normalize_etag(&e)),
        })
    }

    /// The folder URL joined with a file name (percent-encoded as needed), as an href.
    pub fn child_href(&self, folder: &str, name: &str) -> Result<String> {
        let mut base = self.url(folder)?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let url = self.http.resolve(&base, &percent_encode(name))?;
        Ok(url.path().to_string())
    }

    /// The folder's absolute path (as the base URL names it), ending in '/'.
    pub fn folder_path(&self, folder: &str) -> Result<String> {
        let url = self.url(folder)?;
        let mut p = url.path().to_string();
        if !p.ends_with('/') {
            p.push('/');
        }
        Ok(p)
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_without_quotes_and_go_out_quoted() {
        assert_eq!(normalize_etag("\"10-20-5\""), "10-20-5");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert_eq!(normalize_etag("10-20-5"), "10-20-5");
        assert_eq!(quoted("10-20-5"), "\"10-20-5\"");
        assert_eq!(quoted("\"x\""), "\"x\"");
        assert_eq!(quoted("*"), "*");
    }

    #[test]
    fn names_round_trip_through_percent_encoding() {
        assert_eq!(percent_decode(&percent_encode("a b%ü.json")), "a b%ü.json");
        assert_eq!(percent_decode("%E2%82"), "\u{fffd}");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
