//! A compact, property-level comparison of two versions of an item (the conflicts panel shows
//! the local text against the server's). Works on unfolded content lines, so it needs no parse
//! and says something useful even about a malformed item.

use std::collections::BTreeMap;

use super::lines::{decode, logical_lines, Line};

/// One property whose values differ between the two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyDiff {
    /// Component path and property name: `VEVENT/SUMMARY`, `EMAIL`.
    pub name: String,
    /// The lines as written (parameters included), one per occurrence; empty: absent.
    pub local: Vec<String>,
    pub remote: Vec<String>,
}

/// Properties that change on every save and say nothing about the content.
const NOISE: &[&str] = &["DTSTAMP", "REV", "PRODID", "LAST-MODIFIED", "SEQUENCE"];

fn props(raw: &[u8]) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut order = Vec::new();
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut path: Vec<String> = Vec::new();
    for line in logical_lines(raw) {
        if let Some((begin, comp)) = line.marker() {
            if begin {
                path.push(comp);
            } else {
                path.pop();
            }
            continue;
        }
        let name = prop_name(&path, &line);
        if name.is_empty() {
            continue;
        }
        let text = decode(&line.text).trim_end().to_string();
        let entry = map.entry(name.clone()).or_default();
        if entry.is_empty() {
            order.push(name);
        }
        entry.push(text);
    }
    (order, map)
}

fn prop_name(path: &[String], line: &Line) -> String {
    let name = line.name();
    // VCALENDAR and VCARD wrap everything: leave them out of the label.
    let inner: Vec<&str> = path
        .iter()
        .map(String::as_str)
        .filter(|c| *c != "VCALENDAR" && *c != "VCARD")
        .collect();
    if inner.is_empty() {
        name
    } else {
        format!("{}/{name}", inner.join("/"))
    }
}

/// The properties whose values differ, in the order they appear (local first, then what only
/// the server has). Timestamps that change on every save (DTSTAMP, REV …) are left out.
pub fn properties(local: &[u8], remote: &[u8]) -> Vec<PropertyDiff> {
    let (lo, lmap) = props(local);
    let (ro, rmap) = props(remote);
    let mut names = lo;
    for n in ro {
        if !lmap.contains_key(&n) {
            names.push(n);
        }
    }
    names
        .into_iter()
        .filter(|n| !NOISE.contains(&n.rsplit('/').next().unwrap_or(n)))
        .filter_map(|n| {
            let l = lmap.get(&n).cloned().unwrap_or_default();
            let r = rmap.get(&n).cloned().unwrap_or_default();
            (l != r).then_some(PropertyDiff {
                name: n,
                local: l,
                remote: r,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_properties_are_listed() {
        let a = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEMAIL:a@x\r\nREV:1\r\nEND:VCARD\r\n";
        let b = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann B\r\nEMAIL:a@x\r\nREV:2\r\nTEL:1\r\nEND:VCARD\r\n";
        let d = properties(a, b);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].name, "FN");
        assert_eq!(d[0].local, vec!["FN:Ann"]);
        assert_eq!(d[0].remote, vec!["FN:Ann B"]);
        assert_eq!(d[1].name, "TEL");
        assert!(d[1].local.is_empty());
    }
}
