//! Remote deltas (DESIGN.md §4 step 1): RFC 6578 sync-collection with 507 continuation, the
//! token-rejected signal, and the PROPFIND etag listing the caller falls back to.
//! Moves hrefs and etags only; deciding what they mean is the sync engine's job.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Url;

use super::http::Reply;
use super::xml::{self, escape, CALDAV, CARDDAV, DAV};
use super::{
    multistatus, same_path, status_error, Client, CollectionKind, DavError, Delta, Fetched, Member,
    Result,
};

/// sync-collection rounds followed after 507 before giving up: a server that keeps saying
/// "more" forever is broken, and the caller can fall back to a listing.
const MAX_SYNC_ROUNDS: usize = 10_000;

/// What one sync-collection request said.
struct Round {
    /// href → Some(etag) when changed, None when removed.
    entries: Vec<(String, Option<String>)>,
    /// Bodies, when asked for and given.
    bodies: Vec<Fetched>,
    /// A 507 for the request-URI: there is more; ask again with `token`.
    truncated: bool,
    token: Option<String>,
}

impl Client {
    /// RFC 6578 sync-collection from `token` (None = initial), following 507 truncation until
    /// complete. `TokenRejected` when the server refuses the token or does not support it.
    pub fn sync_collection(&self, href: &str, token: Option<&str>) -> Result<Delta> {
        Ok(self.sync_rounds(href, token, None)?.0)
    }

    /// `sync_collection` that also asks for each changed member's calendar-data or
    /// address-data (by `kind`), saving the multigets of an initial sync. Members the server
    /// gives no data for are left to the caller to fetch.
    pub fn sync_collection_with_data(
        &self,
        href: &str,
        token: Option<&str>,
        kind: &CollectionKind,
    ) -> Result<(Delta, Vec<Fetched>)> {
        self.sync_rounds(href, token, Some(kind))
    }

    fn sync_rounds(
        &self,
        href: &str,
        token: Option<&str>,
        kind: Option<&CollectionKind>,
    ) -> Result<(Delta, Vec<Fetched>)> {
        let url = self.url(href)?;
        let mut bodies: BTreeMap<String, Fetched> = BTreeMap::new();
        // Later rounds override earlier ones: Some(etag) = changed, None = removed.
        let mut state: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut token = token.map(str::to_string);
        let mut seen_tokens = BTreeSet::new();
        for _ in 0..MAX_SYNC_ROUNDS {
            let round = self.sync_round(&url, token.as_deref(), kind)?;
            for (href, etag) in round.entries {
                if etag.is_none() {
                    bodies.remove(&href);
                }
                state.insert(href, etag);
            }
            for f in round.bodies {
                bodies.insert(f.href.clone(), f);
            }
            let new_token = round.token.ok_or_else(|| DavError::Protocol {
                url: url.to_string(),
                reason: "sync-collection answer without a sync-token".into(),
            })?;
            if round.truncated {
                if !seen_tokens.insert(new_token.clone()) || token.as_deref() == Some(&new_token) {
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
            return Ok((delta, bodies.into_values().collect()));
        }
        Err(DavError::Protocol {
            url: url.to_string(),
            reason: format!("sync-collection still truncated after {MAX_SYNC_ROUNDS} rounds"),
        })
    }

    /// One sync-collection request.
    fn sync_round(
        &self,
        url: &Url,
        token: Option<&str>,
        kind: Option<&CollectionKind>,
    ) -> Result<Round> {
        let data = kind.map(|k| match k {
            CollectionKind::Addressbook => (CARDDAV, "address-data"),
            CollectionKind::Calendar { .. } => (CALDAV, "calendar-data"),
        });
        let data_prop = match data {
            Some((ns, name)) => format!(r#"<x:{name} xmlns:x="{ns}"/>"#),
            None => String::new(),
        };
        let body = format!(
            concat!(
                r#"<?xml version="1.0" encoding="utf-8"?>"#,
                r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{}</d:sync-token>"#,
                r#"<d:sync-level>1</d:sync-level><d:prop><d:getetag/>{}</d:prop>"#,
                r#"</d:sync-collection>"#
            ),
            escape(token.unwrap_or("")),
            data_prop
        );
        let reply = self.report(url, None, &body)?;
        if reply.status.as_u16() != 207 {
            return Err(self.sync_error(url, &reply));
        }
        let ms = self.multistatus(&reply)?;
        self.check_not_gone(&reply, &ms)?;
        let mut out = Vec::new();
        let mut bodies = Vec::new();
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
                Some(404 | 410) => {
                    out.push((href, None));
                    // A status-only response may carry several hrefs (RFC 4918 §14.24).
                    for raw in response.hrefs.iter().skip(1) {
                        let gone = self.http.resolve(&reply.url, raw)?;
                        out.push((gone.path().to_string(), None));
                    }
                }
                Some(status) if !(200..300).contains(&status) => {}
                _ => {
                    if multistatus::is_collection(response) {
                        continue;
                    }
                    if let Some(etag) = response.prop(DAV, "getetag") {
                        let etag = etag.text().trim().to_string();
                        if let Some(element) = data.and_then(|(ns, name)| response.prop(ns, name)) {
                            bodies.push(Fetched {
                                href: href.clone(),
                                etag: Some(etag.clone()).filter(|e| !e.is_empty()),
                                body: element.text().into_bytes(),
                            });
                        }
                        out.push((href, Some(etag)));
                    } else if response.prop_status(DAV, "getetag") == Some(404) {
                        // RFC 6578 lets a removed member carry its 404 inside the propstat.
                        out.push((href, None));
                    } else {
                        // No etag given: listed with an empty one, so it gets fetched.
                        out.push((href, Some(String::new())));
                    }
                }
            }
        }
        Ok(Round {
            entries: out,
            bodies,
            truncated,
            token: ms.sync_token,
        })
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
}
