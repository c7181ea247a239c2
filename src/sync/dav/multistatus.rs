//! The 207 Multi-Status shape (RFC 4918 §13) read from an `xml::Element`, and the collection
//! properties we ask for in discovery. Hrefs stay raw here; `Client` resolves and checks them.

use super::xml::{Element, APPLE_ICAL, CALDAV, CALSERVER, CARDDAV, DAV};
use super::CollectionKind;

/// One `<response>`: its hrefs (raw, as sent), its own status if it has one, and the `<prop>`
/// of each propstat with that propstat's status.
#[derive(Debug, Default)]
pub(crate) struct Response {
    pub hrefs: Vec<String>,
    pub status: Option<u16>,
    pub propstats: Vec<(u16, Element)>,
}

impl Response {
    /// The first property `ns:name` inside a propstat with a 2xx status.
    pub fn prop(&self, ns: &str, name: &str) -> Option<&Element> {
        self.propstats
            .iter()
            .filter(|(status, _)| (200..300).contains(status))
            .find_map(|(_, prop)| prop.child(ns, name))
    }

    /// The status given for property `ns:name` (whatever propstat holds it).
    pub fn prop_status(&self, ns: &str, name: &str) -> Option<u16> {
        self.propstats
            .iter()
            .find(|(_, prop)| prop.child(ns, name).is_some())
            .map(|(status, _)| *status)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Multistatus {
    pub responses: Vec<Response>,
    pub sync_token: Option<String>,
}

/// Reads a multistatus document; the error is a reason for a Protocol error.
pub(crate) fn parse(root: &Element) -> Result<Multistatus, String> {
    if !root.is(DAV, "multistatus") {
        return Err(format!(
            "expected a DAV: multistatus document, got <{}> in namespace {:?}",
            root.name, root.ns
        ));
    }
    let mut out = Multistatus {
        sync_token: root
            .child(DAV, "sync-token")
            .map(|t| t.text().trim().to_string()),
        ..Multistatus::default()
    };
    for response in root.children_named(DAV, "response") {
        let mut item = Response {
            hrefs: response
                .children_named(DAV, "href")
                .map(|h| h.text().trim().to_string())
                .filter(|h| !h.is_empty())
                .collect(),
            status: match response.child(DAV, "status") {
                Some(s) => Some(status_code(&s.text())?),
                None => None,
            },
            ..Response::default()
        };
        if item.hrefs.is_empty() {
            return Err("a <response> without <href>".into());
        }
        for propstat in response.children_named(DAV, "propstat") {
            let status = match propstat.child(DAV, "status") {
                Some(s) => status_code(&s.text())?,
                None => return Err("a <propstat> without <status>".into()),
            };
            if let Some(prop) = propstat.child(DAV, "prop") {
                item.propstats.push((status, prop.clone()));
            }
        }
        out.responses.push(item);
    }
    Ok(out)
}

/// "HTTP/1.1 404 Not Found" → 404.
fn status_code(line: &str) -> Result<u16, String> {
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|code| (100..600).contains(code))
        .ok_or_else(|| format!("invalid status line {:?}", line.trim()))
}

/// Body of a PROPFIND for everything discovery and `collection()` want to know.
pub(crate) const COLLECTION_PROPFIND: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" "#,
    r#"xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/" "#,
    r#"xmlns:ic="http://apple.com/ns/ical/"><d:prop>"#,
    r#"<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/>"#,
    r#"<ic:calendar-color/><cs:getctag/><d:sync-token/>"#,
    r#"<d:current-user-principal/><c:calendar-home-set/><card:addressbook-home-set/>"#,
    r#"</d:prop></d:propfind>"#
);

/// A home set's collections for discovery: what they are, without the change markers (a
/// server such as Radicale computes a ctag or token by reading every item of a collection).
pub(crate) const HOME_PROPFIND: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" "#,
    r#"xmlns:ic="http://apple.com/ns/ical/"><d:prop>"#,
    r#"<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/>"#,
    r#"<ic:calendar-color/>"#,
    r#"</d:prop></d:propfind>"#
);

/// A home set's collections with their ctag, the cheapest "did anything change?" (on
/// Radicale 3.9 with 8,000 items: 0.33 s for the home, against 0.48 s for sync-token).
pub(crate) const CHECK_PROPFIND: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" "#,
    r#"xmlns:cs="http://calendarserver.org/ns/" xmlns:ic="http://apple.com/ns/ical/"><d:prop>"#,
    r#"<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/>"#,
    r#"<ic:calendar-color/><cs:getctag/>"#,
    r#"</d:prop></d:propfind>"#
);

/// The kind of collection a response describes, if it is a calendar or an addressbook.
pub(crate) fn kind(response: &Response) -> Option<CollectionKind> {
    let types = response.prop(DAV, "resourcetype")?;
    if types.child(CARDDAV, "addressbook").is_some() {
        return Some(CollectionKind::Addressbook);
    }
    types.child(CALDAV, "calendar")?;
    let components = response
        .prop(CALDAV, "supported-calendar-component-set")
        .map(|set| {
            set.children_named(CALDAV, "comp")
                .filter_map(|c| c.attr("name"))
                .map(|n| n.trim().to_ascii_uppercase())
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Some(CollectionKind::Calendar { components })
}

/// True when the resource is a collection of any kind.
pub(crate) fn is_collection(response: &Response) -> bool {
    response
        .prop(DAV, "resourcetype")
        .is_some_and(|t| t.child(DAV, "collection").is_some())
}

/// A text property, trimmed; None when absent or empty.
pub(crate) fn text_prop(response: &Response, ns: &str, name: &str) -> Option<String> {
    response
        .prop(ns, name)
        .map(|p| p.text().trim().to_string())
        .filter(|t| !t.is_empty())
}

pub(crate) fn displayname(response: &Response) -> Option<String> {
    text_prop(response, DAV, "displayname")
}

pub(crate) fn color(response: &Response) -> Option<String> {
    text_prop(response, APPLE_ICAL, "calendar-color")
}

pub(crate) fn ctag(response: &Response) -> Option<String> {
    text_prop(response, CALSERVER, "getctag")
}

pub(crate) fn sync_token(response: &Response) -> Option<String> {
    text_prop(response, DAV, "sync-token")
}

/// The hrefs inside a property such as current-user-principal or calendar-home-set.
pub(crate) fn href_prop(response: &Response, ns: &str, name: &str) -> Vec<String> {
    response
        .prop(ns, name)
        .map(|p| {
            p.children_named(DAV, "href")
                .map(|h| h.text().trim().to_string())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// True when an `<error>` element (response body or per-response) names `precondition`.
pub(crate) fn has_precondition(error: Option<&Element>, precondition: &str) -> bool {
    error.is_some_and(|e| e.elements().any(|c| c.name == precondition))
}
