//! WebDAV XML: a small element tree read with quick-xml's `NsReader` (so any namespace prefix
//! works), the multistatus shape on top of it, and the request bodies we send.
//!
//! Text is kept byte-exact: no end-of-line normalisation and no trimming, entity and character
//! references decoded, CDATA taken as is. calendar-data and address-data must come out as the
//! bytes that went in (I7), and an XML parser that turns CRLF into LF would break that.
//! Never does I/O; never sees a URL policy (the caller resolves and checks hrefs).

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use quick_xml::XmlVersion;

pub(crate) const DAV: &str = "DAV:";
pub(crate) const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub(crate) const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
pub(crate) const CALSERVER: &str = "http://calendarserver.org/ns/";
pub(crate) const APPLE_ICAL: &str = "http://apple.com/ns/ical/";

/// Deeper nesting than any multistatus needs; refusing it keeps recursive walks bounded.
const MAX_DEPTH: usize = 64;

/// One XML element: namespace URI (empty when unbound), local name, attributes by local name,
/// children in document order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub ns: String,
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, name))
    }

    /// The text directly inside this element, exactly as decoded (not trimmed).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for node in &self.children {
            if let Node::Text(t) = node {
                out.push_str(t);
            }
        }
        out
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a whole document into its root element. The error is a reason for a Protocol error.
pub(crate) fn parse(body: &[u8]) -> Result<Element, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("response is not UTF-8 XML ({e})"))?;
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let position = reader.buffer_position();
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("invalid XML after byte {position}: {e}"))?;
        let ns = match ns {
            ResolveResult::Bound(ns) => ns.into_inner().to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(format!("invalid XML: unknown namespace prefix {prefix:?}"))
            }
        };
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err("invalid XML: content after the root element".into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("XML nested deeper than {MAX_DEPTH} levels"));
                }
                stack.push(open(ns, &start)?);
            }
            Event::Empty(start) => {
                if root.is_some() {
                    return Err("invalid XML: content after the root element".into());
                }
                stack.push(open(ns, &start)?);
                close(&mut stack, &mut root);
            }
            Event::End(_) => close(&mut stack, &mut root),
            Event::Text(t) => push_text(&mut stack, &t.into_inner())?,
            Event::CData(t) => push_text(&mut stack, &t.into_inner())?,
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => match &*r {
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "amp" => "&".into(),
                        "apos" => "'".into(),
                        "quot" => "\"".into(),
                        other => return Err(format!("invalid XML: unknown entity &{other};")),
                    },
                    Err(e) => return Err(format!("invalid XML character reference: {e}")),
                };
                push_text(&mut stack, &ch)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "XML ends inside <{}> (truncated response?)",
            open.name
        ));
    }
    root.ok_or_else(|| "empty response where XML was expected".to_string())
}

fn open(ns: String, start: &BytesStart<'_>) -> Result<Element, String> {
    let mut element = Element {
        ns,
        name: start.local_name().into_inner().to_string(),
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("invalid XML attribute: {e}"))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("invalid XML attribute value: {e}"))?;
        element.attrs.push((
            attr.key.local_name().into_inner().to_string(),
            value.into_owned(),
        ));
    }
    Ok(element)
}

fn close(stack: &mut Vec<Element>, root: &mut Option<Element>) {
    if let Some(done) = stack.pop() {
        match stack.last_mut() {
            Some(parent) => parent.children.push(Node::Element(done)),
            None => *root = Some(done),
        }
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(current) => {
            if let Some(Node::Text(last)) = current.children.last_mut() {
                last.push_str(text);
            } else {
                current.children.push(Node::Text(text.to_string()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err("invalid XML: text outside the root element".into()),
    }
}

/// Escapes text for an XML element body.
pub(crate) fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_crlf_entities_and_cdata_exactly() {
        let doc = "<a:x xmlns:a=\"DAV:\"><a:t>one\r\n two &amp; &lt;&#13;&#10;<![CDATA[<raw> &amp;\r\n]]></a:t></a:x>";
        let root = parse(doc.as_bytes()).expect("parse");
        assert!(root.is(DAV, "x"));
        let t = root.child(DAV, "t").expect("t");
        assert_eq!(t.text(), "one\r\n two & <\r\n<raw> &amp;\r\n");
    }

    #[test]
    fn namespaces_resolve_whatever_the_prefix() {
        let doc = r#"<multistatus xmlns="DAV:"><q:calendar xmlns:q="urn:ietf:params:xml:ns:caldav"/></multistatus>"#;
        let root = parse(doc.as_bytes()).expect("parse");
        assert!(root.child(CALDAV, "calendar").is_some());
    }

    #[test]
    fn broken_documents_are_refused() {
        for doc in [
            "",
            "<a>",
            "<a></b>",
            "<a>&custom;</a>",
            "<p:a/>",
            "<a/><b/>",
            "text",
        ] {
            assert!(parse(doc.as_bytes()).is_err(), "{doc:?} accepted");
        }
        assert!(parse(b"<a>\xff</a>").is_err(), "not UTF-8");
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
