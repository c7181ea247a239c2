//! The pure half of sync (DESIGN.md §4): from the local items with their sync state and what
//! the server says changed, decide what to do. No I/O here, so every case is a table test.
//!
//! Two steps. `plan` compares etags and revs and says what to fetch, push, delete or trash.
//! `resolve` runs once a fetched body is in hand and says how it lands: pulled, confirmed,
//! merged, or a conflict (local wins on the server, the server's version kept as a revision).

use std::collections::{HashMap, HashSet};

use crate::format::merge::{merge, Merged};
use crate::store::SyncItem;

/// What the server reports for a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteView {
    /// Every member with its etag (an initial sync-collection or a PROPFIND listing).
    Full(Vec<(String, String)>),
    /// Changes since the stored token.
    Delta {
        changed: Vec<(String, String)>,
        removed: Vec<String>,
    },
}

/// One step decided by `plan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fetch this href and `resolve` it; `item` is the local item bound to it, if any.
    Fetch {
        href: String,
        etag: String,
        item: Option<i64>,
    },
    /// Changed locally, unchanged on the server: PUT If-Match.
    Push {
        item: i64,
        href: String,
        etag: Option<String>,
    },
    /// Never on the server: PUT If-None-Match: * under a new href.
    Create { item: i64 },
    /// Removed on the server while edited locally: put back at the same href (If-None-Match).
    Recreate { item: i64, href: String },
    /// Deleted locally, unchanged on the server: DELETE If-Match.
    Delete {
        item: i64,
        href: String,
        etag: Option<String>,
    },
    /// Removed on the server, unchanged locally: to the local trash (counted by the guard).
    Trash { item: i64 },
    /// Gone on both sides: forget the sync state.
    Forget { item: i64 },
}

/// The plan for one collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Items on the server at the last sync (the guard's denominator).
    pub synced: usize,
    /// True when a full listing came back empty while we had synced items.
    pub emptied: bool,
}

impl Plan {
    pub fn trashes(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::Trash { .. }))
            .count()
    }

    /// The deletion guard (I3): would this plan remove more than `fraction` of the synced items
    /// (and more than `min`), or was the collection emptied?
    pub fn guard_trips(&self, fraction: f64, min: u64) -> bool {
        let n = self.trashes();
        if n == 0 {
            return false;
        }
        self.emptied || (n as u64 > min && n as f64 > fraction * self.synced as f64)
    }
}

/// Decides, item by item, what a sync does (DESIGN.md §4 step 3).
pub fn plan(local: &[SyncItem], remote: &RemoteView) -> Plan {
    let by_href: HashMap<&str, &SyncItem> = local
        .iter()
        .filter_map(|i| i.href.as_deref().map(|h| (h, i)))
        .collect();
    let synced = by_href.len();
    // What the server says of each href it mentions: Some(etag) = present, None = removed.
    let mut said: HashMap<&str, Option<&str>> = HashMap::new();
    let full = matches!(remote, RemoteView::Full(_));
    match remote {
        RemoteView::Full(members) => {
            for (h, e) in members {
                said.insert(h, Some(e));
            }
        }
        RemoteView::Delta { changed, removed } => {
            for h in removed {
                said.insert(h, None);
            }
            for (h, e) in changed {
                said.insert(h, Some(e));
            }
        }
    }
    let mut actions = Vec::new();
    for item in local {
        let Some(href) = item.href.as_deref() else {
            if !item.deleted {
                actions.push(Action::Create { item: item.id });
            }
            continue;
        };
        let remote_state = match said.get(href) {
            Some(Some(etag)) if item.etag.as_deref() == Some(*etag) => Remote::Same,
            Some(Some(etag)) => Remote::Changed(etag),
            Some(None) => Remote::Gone,
            None if full => Remote::Gone,
            None => Remote::Same,
        };
        match remote_state {
            Remote::Same if item.deleted => actions.push(Action::Delete {
                item: item.id,
                href: href.into(),
                etag: item.etag.clone(),
            }),
            Remote::Same if item.locally_changed() => actions.push(Action::Push {
                item: item.id,
                href: href.into(),
                etag: item.etag.clone(),
            }),
            Remote::Same => {}
            Remote::Changed(etag) => actions.push(Action::Fetch {
                href: href.into(),
                etag: etag.into(),
                item: Some(item.id),
            }),
            Remote::Gone if item.deleted => actions.push(Action::Forget { item: item.id }),
            Remote::Gone if item.locally_changed() => actions.push(Action::Recreate {
                item: item.id,
                href: href.into(),
            }),
            Remote::Gone => actions.push(Action::Trash { item: item.id }),
        }
    }
    // Members nobody here is bound to: new on the server.
    let mut seen = HashSet::new();
    let mut fresh: Vec<(&str, &str)> = said
        .iter()
        .filter_map(|(h, e)| e.map(|e| (*h, e)))
        .filter(|(h, _)| !by_href.contains_key(h) && seen.insert(*h))
        .collect();
    fresh.sort();
    for (h, e) in fresh {
        actions.push(Action::Fetch {
            href: h.into(),
            etag: e.into(),
            item: None,
        });
    }
    let emptied = full && synced > 0 && said.is_empty();
    Plan {
        actions,
        synced,
        emptied,
    }
}

enum Remote<'a> {
    Same,
    Changed(&'a str),
    Gone,
}

/// What is known locally about a fetched href.
pub struct Local<'a> {
    pub item: &'a SyncItem,
    pub raw: &'a [u8],
    /// The last agreed text (None when the item was never confirmed on the server).
    pub base: Option<&'a [u8]>,
}

/// How a fetched body lands (DESIGN.md §4 step 3, §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The server's text becomes the local one. `undelete` + `conflict` for an item deleted
    /// here and edited there: it comes back, flagged.
    Pull { undelete: bool, conflict: bool },
    /// Both sides already hold the same text: record the etag.
    Confirm,
    /// The server's copy did not really change (it equals the base): push the local edit.
    Push,
    /// The server's copy did not really change, and the item was deleted here: DELETE it.
    Delete,
    /// Disjoint edits: this text becomes the local version and is pushed.
    Merge(Vec<u8>),
    /// Same property edited on both sides: local wins on the server, the server's version is
    /// kept as a revision and the item flagged.
    Conflict { properties: Vec<String> },
}

/// Decides how a fetched `remote` body lands, given what is known locally (None: nothing).
pub fn resolve(local: Option<Local<'_>>, remote: &[u8]) -> Resolution {
    let Some(l) = local else {
        return Resolution::Pull {
            undelete: false,
            conflict: false,
        };
    };
    let changed_here = l.item.locally_changed();
    if l.item.deleted {
        if l.base == Some(remote) {
            return Resolution::Delete;
        }
        if changed_here {
            return Resolution::Pull {
                undelete: true,
                conflict: true,
            };
        }
        // Trashed here before it was ever synced, or trashed by a server removal: the server's
        // new text simply comes back.
        return Resolution::Pull {
            undelete: true,
            conflict: false,
        };
    }
    if l.raw == remote {
        return Resolution::Confirm;
    }
    if !changed_here {
        return Resolution::Pull {
            undelete: false,
            conflict: false,
        };
    }
    if l.base == Some(remote) {
        return Resolution::Push;
    }
    // Never confirmed, and the server holds the same item in its own spelling (servers such as
    // Radicale and Xandikos re-serialize what they store): an upload whose confirmation was
    // lost, or the same item added on both sides. Same meaning: they agree.
    if l.base.is_none() && same_meaning(l.raw, remote) {
        return Resolution::Confirm;
    }
    match merge(l.base, l.raw, remote) {
        Merged::Clean(m) if m == remote => Resolution::Pull {
            undelete: false,
            conflict: false,
        },
        Merged::Clean(m) if m == l.raw => Resolution::Push,
        Merged::Clean(m) => Resolution::Merge(m),
        Merged::Conflict { properties } => Resolution::Conflict { properties },
    }
}

/// True when both texts parse cleanly to the same fields.
pub fn same_meaning(a: &[u8], b: &[u8]) -> bool {
    let (pa, pb) = (crate::format::parse(a), crate::format::parse(b));
    pa.problems.is_empty() && pb.problems.is_empty() && pa.kind == pb.kind && pa.fields == pb.fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Flags, Kind};

    fn item(
        id: i64,
        href: Option<&str>,
        etag: Option<&str>,
        rev: i64,
        synced: Option<i64>,
    ) -> SyncItem {
        SyncItem {
            id,
            uid: format!("u{id}"),
            kind: Kind::Contact,
            rev,
            deleted: false,
            flags: Flags(0),
            href: href.map(Into::into),
            etag: etag.map(Into::into),
            synced_rev: synced,
        }
    }

    fn deleted(mut i: SyncItem) -> SyncItem {
        i.deleted = true;
        i
    }

    fn full(m: &[(&str, &str)]) -> RemoteView {
        RemoteView::Full(
            m.iter()
                .map(|(h, e)| (h.to_string(), e.to_string()))
                .collect(),
        )
    }

    fn delta(c: &[(&str, &str)], r: &[&str]) -> RemoteView {
        RemoteView::Delta {
            changed: c
                .iter()
                .map(|(h, e)| (h.to_string(), e.to_string()))
                .collect(),
            removed: r.iter().map(|h| h.to_string()).collect(),
        }
    }

    #[test]
    fn plan_cases() {
        let a = || item(1, Some("/c/a"), Some("e1"), 3, Some(3));
        let cases: Vec<(&str, Vec<SyncItem>, RemoteView, Vec<Action>)> = vec![
            (
                "nothing changed",
                vec![a()],
                full(&[("/c/a", "e1")]),
                vec![],
            ),
            (
                "nothing changed (delta)",
                vec![a()],
                delta(&[], &[]),
                vec![],
            ),
            (
                "remote changed",
                vec![a()],
                full(&[("/c/a", "e2")]),
                vec![Action::Fetch {
                    href: "/c/a".into(),
                    etag: "e2".into(),
                    item: Some(1),
                }],
            ),
            (
                "local changed",
                vec![item(1, Some("/c/a"), Some("e1"), 4, Some(3))],
                delta(&[], &[]),
                vec![Action::Push {
                    item: 1,
                    href: "/c/a".into(),
                    etag: Some("e1".into()),
                }],
            ),
            (
                "both changed: fetch, then resolve merges",
                vec![item(1, Some("/c/a"), Some("e1"), 4, Some(3))],
                delta(&[("/c/a", "e2")], &[]),
                vec![Action::Fetch {
                    href: "/c/a".into(),
                    etag: "e2".into(),
                    item: Some(1),
                }],
            ),
            (
                "remote deleted, local unchanged: trash",
                vec![a()],
                delta(&[], &["/c/a"]),
                vec![Action::Trash { item: 1 }],
            ),
            (
                "remote deleted (missing from full listing)",
                vec![a(), item(2, Some("/c/b"), Some("e"), 1, Some(1))],
                full(&[("/c/b", "e")]),
                vec![Action::Trash { item: 1 }],
            ),
            (
                "remote deleted, local edited: re-create",
                vec![item(1, Some("/c/a"), Some("e1"), 4, Some(3))],
                delta(&[], &["/c/a"]),
                vec![Action::Recreate {
                    item: 1,
                    href: "/c/a".into(),
                }],
            ),
            (
                "local deleted, remote unchanged: delete",
                vec![deleted(item(1, Some("/c/a"), Some("e1"), 4, Some(3)))],
                delta(&[], &[]),
                vec![Action::Delete {
                    item: 1,
                    href: "/c/a".into(),
                    etag: Some("e1".into()),
                }],
            ),
            (
                "local deleted, remote edited: fetch (resolve restores)",
                vec![deleted(item(1, Some("/c/a"), Some("e1"), 4, Some(3)))],
                delta(&[("/c/a", "e2")], &[]),
                vec![Action::Fetch {
                    href: "/c/a".into(),
                    etag: "e2".into(),
                    item: Some(1),
                }],
            ),
            (
                "deleted on both sides: forget",
                vec![deleted(item(1, Some("/c/a"), Some("e1"), 4, Some(3)))],
                delta(&[], &["/c/a"]),
                vec![Action::Forget { item: 1 }],
            ),
            (
                "new local item: create",
                vec![item(1, None, None, 1, None)],
                delta(&[], &[]),
                vec![Action::Create { item: 1 }],
            ),
            (
                "new local item already trashed: nothing",
                vec![deleted(item(1, None, None, 2, None))],
                delta(&[], &[]),
                vec![],
            ),
            (
                "new remote item: fetch",
                vec![],
                full(&[("/c/n", "e9")]),
                vec![Action::Fetch {
                    href: "/c/n".into(),
                    etag: "e9".into(),
                    item: None,
                }],
            ),
            (
                "our own upload reported back with the same etag: nothing",
                vec![a()],
                delta(&[("/c/a", "e1")], &[]),
                vec![],
            ),
            (
                "removed then re-added in one delta: changed wins",
                vec![a()],
                delta(&[("/c/a", "e5")], &["/c/a"]),
                vec![Action::Fetch {
                    href: "/c/a".into(),
                    etag: "e5".into(),
                    item: Some(1),
                }],
            ),
        ];
        for (name, local, remote, want) in cases {
            assert_eq!(plan(&local, &remote).actions, want, "case: {name}");
        }
    }

    #[test]
    fn guard_counts_partial_wipes() {
        let local: Vec<SyncItem> = (0..1000)
            .map(|i| item(i, Some(&format!("/c/{i}")), Some("e"), 1, Some(1)))
            .collect();
        // 999 of 1000 removed: vdirsyncer deletes them silently; we hold.
        let p = plan(&local, &full(&[("/c/7", "e")]));
        assert_eq!(p.trashes(), 999);
        assert!(p.guard_trips(0.2, 5));
        // Emptied completely.
        let p = plan(&local, &full(&[]));
        assert!(p.emptied && p.guard_trips(0.2, 5));
        // A few removals are normal.
        let removed: Vec<String> = (0..5).map(|i| format!("/c/{i}")).collect();
        let p = plan(
            &local,
            &RemoteView::Delta {
                changed: vec![],
                removed,
            },
        );
        assert_eq!(p.trashes(), 5);
        assert!(!p.guard_trips(0.2, 5));
        // Small collections: more than guard_min and more than the fraction.
        let small: Vec<SyncItem> = local[..10].to_vec();
        let removed: Vec<String> = (0..6).map(|i| format!("/c/{i}")).collect();
        assert!(plan(
            &small,
            &RemoteView::Delta {
                changed: vec![],
                removed
            }
        )
        .guard_trips(0.2, 5));
        // An emptied collection with one synced item still trips.
        assert!(plan(&small[..1], &full(&[])).guard_trips(0.2, 5));
    }

    #[test]
    fn resolve_cases() {
        let synced = item(1, Some("/c/a"), Some("e1"), 3, Some(3));
        let edited = item(1, Some("/c/a"), Some("e1"), 4, Some(3));
        let gone = deleted(item(1, Some("/c/a"), Some("e1"), 4, Some(3)));
        let pull = Resolution::Pull {
            undelete: false,
            conflict: false,
        };
        let l = |item: &'static SyncItem, raw: &'static [u8], base: Option<&'static [u8]>| {
            Some(Local { item, raw, base })
        };
        let synced: &'static SyncItem = Box::leak(Box::new(synced));
        let edited: &'static SyncItem = Box::leak(Box::new(edited));
        let gone: &'static SyncItem = Box::leak(Box::new(gone));
        let cases: Vec<(&str, Option<Local<'static>>, &[u8], Resolution)> = vec![
            ("new on the server", None, b"R", pull.clone()),
            (
                "remote changed, local not",
                l(synced, b"B", Some(b"B")),
                b"R",
                pull.clone(),
            ),
            (
                "same text both sides",
                l(edited, b"X", Some(b"B")),
                b"X",
                Resolution::Confirm,
            ),
            (
                "remote equals base: push ours",
                l(edited, b"L", Some(b"B")),
                b"B",
                Resolution::Push,
            ),
            (
                "deleted here, edited there: restore, flag",
                l(gone, b"B", Some(b"B")),
                b"R",
                Resolution::Pull {
                    undelete: true,
                    conflict: true,
                },
            ),
            (
                "deleted here, unchanged there: delete",
                l(gone, b"B", Some(b"B")),
                b"B",
                Resolution::Delete,
            ),
        ];
        for (name, local, remote, want) in cases {
            assert_eq!(resolve(local, remote), want, "case: {name}");
        }
        // Never confirmed; the server holds the same card in its own spelling (re-ordered,
        // LF): the same item, only recorded. A different card is not.
        let fresh: &'static SyncItem = Box::leak(Box::new(item(1, None, None, 1, None)));
        let ours: &'static [u8] =
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Ann Lee\r\nEMAIL:a@x.org\r\nEND:VCARD\r\n";
        let theirs: &'static [u8] =
            b"BEGIN:VCARD\nVERSION:3.0\nEMAIL:a@x.org\nFN:Ann Lee\nUID:u1\nEND:VCARD\n";
        let other: &'static [u8] =
            b"BEGIN:VCARD\nVERSION:3.0\nEMAIL:b@x.org\nFN:Ann Lee\nUID:u1\nEND:VCARD\n";
        assert_eq!(resolve(l(fresh, ours, None), theirs), Resolution::Confirm);
        assert!(matches!(
            resolve(l(fresh, ours, None), other),
            Resolution::Conflict { .. } | Resolution::Merge(_)
        ));
        // Both edited the whole text differently: a conflict (the merge decides the rest).
        assert!(matches!(
            resolve(l(edited, b"L", Some(b"B")), b"R"),
            Resolution::Conflict { .. }
        ));
    }
}
