//! Discovery (RFC 6764, RFC 4791 §6, RFC 6352 §7): from the account URL to its calendars and
//! addressbooks. The base URL may be the server root, a principal, a home set or a collection.
//! Never leaves the account's origin (the transport refuses it).

use reqwest::Url;

use super::multistatus::{self, CHECK_PROPFIND, COLLECTION_PROPFIND, HOME_PROPFIND};
use super::xml::{CALDAV, CARDDAV, DAV};
use super::{same_path, Client, DavError, RemoteCollection, Result};

/// Body of a PROPFIND for the principal only (well-known URLs).
const PRINCIPAL_PROPFIND: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#
);

/// Body of a PROPFIND for the home sets of a principal.
const HOMES_PROPFIND: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" "#,
    r#"xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop>"#,
    r#"<c:calendar-home-set/><card:addressbook-home-set/></d:prop></d:propfind>"#
);

/// Errors that end discovery at once: trying other URLs would not help.
fn fatal(error: &DavError) -> bool {
    matches!(error, DavError::Unreachable { .. } | DavError::Auth { .. })
}

fn push_unique(list: &mut Vec<Url>, url: Url) {
    if !list.iter().any(|u| same_path(u, &url)) {
        list.push(url);
    }
}

/// The account's collections, and the home sets they were listed from (empty when the base
/// URL is itself a collection).
pub(super) fn discover(client: &Client) -> Result<(Vec<String>, Vec<RemoteCollection>)> {
    let base = client.http.base().clone();
    let mut principals: Vec<Url> = Vec::new();
    let mut homes: Vec<Url> = Vec::new();
    let mut base_error = None;

    match client.propfind(&base, "0", COLLECTION_PROPFIND) {
        Ok((reply, ms)) => {
            for response in &ms.responses {
                let (target, _) = client.response_url(&reply, response)?;
                if !same_path(&target, &reply.url) {
                    continue;
                }
                if let Some(collection) = client.remote_collection(&target, response) {
                    return Ok((Vec::new(), vec![collection]));
                }
                for (ns, name) in [
                    (CALDAV, "calendar-home-set"),
                    (CARDDAV, "addressbook-home-set"),
                ] {
                    for href in multistatus::href_prop(response, ns, name) {
                        push_unique(&mut homes, client.http.resolve(&reply.url, &href)?);
                    }
                }
                for href in multistatus::href_prop(response, DAV, "current-user-principal") {
                    push_unique(&mut principals, client.http.resolve(&reply.url, &href)?);
                }
            }
        }
        Err(e) if fatal(&e) => return Err(e),
        Err(e) => base_error = Some(e),
    }

    if homes.is_empty() && principals.is_empty() {
        for well_known in ["/.well-known/caldav", "/.well-known/carddav"] {
            let url = client.url(well_known)?;
            match client.propfind(&url, "0", PRINCIPAL_PROPFIND) {
                Ok((reply, ms)) => {
                    for response in &ms.responses {
                        for href in multistatus::href_prop(response, DAV, "current-user-principal")
                        {
                            push_unique(&mut principals, client.http.resolve(&reply.url, &href)?);
                        }
                    }
                }
                Err(e) if fatal(&e) => return Err(e),
                Err(_) => {}
            }
        }
    }

    for principal in &principals {
        let (reply, ms) = client.propfind(principal, "0", HOMES_PROPFIND)?;
        for response in &ms.responses {
            for (ns, name) in [
                (CALDAV, "calendar-home-set"),
                (CARDDAV, "addressbook-home-set"),
            ] {
                for href in multistatus::href_prop(response, ns, name) {
                    push_unique(&mut homes, client.http.resolve(&reply.url, &href)?);
                }
            }
        }
    }

    if homes.is_empty() {
        if let Some(error) = base_error {
            return Err(error);
        }
        // No principal anywhere: the base may be a home set itself.
        homes.push(base);
    }

    let mut found: Vec<RemoteCollection> = Vec::new();
    for home in &homes {
        let (reply, ms) = client.propfind(home, "1", HOME_PROPFIND)?;
        for response in &ms.responses {
            let (target, _) = client.response_url(&reply, response)?;
            if same_path(&target, &reply.url) {
                continue;
            }
            if let Some(collection) = client.remote_collection(&target, response) {
                if !found.iter().any(|c| c.href == collection.href) {
                    found.push(collection);
                }
            }
        }
    }
    Ok((homes.iter().map(|h| h.path().to_string()).collect(), found))
}

/// The collections directly inside `home` (PROPFIND Depth 1).
pub(super) fn collections_in(client: &Client, home: &str) -> Result<Vec<RemoteCollection>> {
    let url = client.url(home)?;
    let (reply, ms) = client.propfind(&url, "1", CHECK_PROPFIND)?;
    let mut found: Vec<RemoteCollection> = Vec::new();
    for response in &ms.responses {
        let (target, _) = client.response_url(&reply, response)?;
        if same_path(&target, &reply.url) {
            continue;
        }
        if let Some(collection) = client.remote_collection(&target, response) {
            if !found.iter().any(|c| c.href == collection.href) {
                found.push(collection);
            }
        }
    }
    Ok(found)
}
