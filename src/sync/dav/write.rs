//! Writes: conditional PUT and DELETE (I5), MKCALENDAR / extended MKCOL, collection DELETE.
//! Retried only when the connection could not be made: a write that may have reached the
//! server is never sent twice.

use reqwest::Method;

use super::http::Retry;
use super::xml::{escape, CALDAV, CARDDAV};
use super::{status_error, Client, CollectionKind, DavError, Precondition, Result};

impl Client {
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
}
