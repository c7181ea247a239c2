//! Two Holdfast homes making random edits and syncing through one real server converge (the
//! approach of taskchampion's syncing proptest): after a final round of syncs both homes hold
//! the same live items with the same bytes, and no item that was ever created is lost (it is
//! live, or in the trash with its text).

#[path = "common/servers.rs"]
mod servers;

use std::collections::BTreeMap;

use holdfast::store::Store;
use holdfast::sync::engine::{sync_account, Settings};
use proptest::prelude::*;
use servers::DavServer;

#[derive(Debug, Clone)]
enum Op {
    Create {
        side: usize,
        n: usize,
    },
    Edit {
        side: usize,
        n: usize,
        summary: bool,
        v: u8,
    },
    Delete {
        side: usize,
        n: usize,
    },
    Undelete {
        side: usize,
        n: usize,
    },
    Sync {
        side: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 0..6usize).prop_map(|(side, n)| Op::Create { side, n }),
        (0..2usize, 0..6usize, any::<bool>(), any::<u8>()).prop_map(|(side, n, summary, v)| {
            Op::Edit {
                side,
                n,
                summary,
                v,
            }
        }),
        (0..2usize, 0..6usize).prop_map(|(side, n)| Op::Delete { side, n }),
        (0..2usize, 0..6usize).prop_map(|(side, n)| Op::Undelete { side, n }),
        (0..2usize).prop_map(|side| Op::Sync { side }),
        (0..2usize).prop_map(|side| Op::Sync { side }),
    ]
}

fn event(uid: &str, side: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nSUMMARY:made by {side}\r\n\
         LOCATION:nowhere\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn sync(store: &mut Store, server: &DavServer) {
    let settings = Settings {
        guard_fraction: 1.0,
        guard_min: 1000,
        keep_backups: 2,
        accept_remote_deletions: false,
        discover_secs: 3600,
    };
    let r = sync_account(store, &server.client(), "acct", &settings, &mut |_| {});
    assert!(r.error.is_none(), "sync failed: {r:?}");
}

/// Live items by UID with their parsed fields (the servers re-serialize what they store, so
/// the bytes of one item can differ between homes while its meaning is the same).
fn live(store: &Store) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for n in 0..6 {
        let uid = format!("u{n}");
        if let Ok(item) = store.find(&uid, None) {
            if !item.deleted {
                out.insert(uid, item.data);
            }
        }
    }
    out
}

fn apply(stores: &mut [Store; 2], server: &DavServer, op: &Op, created: &mut Vec<String>) {
    match *op {
        Op::Create { side, n } => {
            let uid = format!("u{n}");
            if stores[side].find(&uid, None).is_err() {
                stores[side]
                    .create("Calendar", &uid, event(&uid, side).as_bytes(), "test")
                    .expect("create");
                created.push(uid);
            }
        }
        Op::Edit {
            side,
            n,
            summary,
            v,
        } => {
            if let Ok(item) = stores[side].find(&format!("u{n}"), None) {
                if !item.deleted {
                    let text = String::from_utf8_lossy(&item.raw).into_owned();
                    let prop = if summary { "SUMMARY:" } else { "LOCATION:" };
                    let edited: String = text
                        .split_inclusive("\r\n")
                        .map(|l| {
                            if l.starts_with(prop) {
                                format!("{prop}edit {v} by {side}\r\n")
                            } else {
                                l.to_string()
                            }
                        })
                        .collect();
                    if edited != text {
                        stores[side]
                            .update(&item, edited.as_bytes(), "edit", false)
                            .expect("update");
                    }
                }
            }
        }
        Op::Delete { side, n } => {
            if let Ok(item) = stores[side].find(&format!("u{n}"), None) {
                if !item.deleted {
                    stores[side].delete(&item).expect("delete");
                }
            }
        }
        Op::Undelete { side, n } => {
            if let Ok(item) = stores[side].find(&format!("u{n}"), None) {
                if item.deleted {
                    stores[side].undelete(&item).expect("undelete");
                }
            }
        }
        Op::Sync { side } => sync(&mut stores[side], server),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        // 8 cases in CI (each starts a server); SYNC_PROPTEST_CASES=200 for a longer hunt.
        cases: std::env::var("SYNC_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(8),
        max_shrink_iters: 40,
        ..ProptestConfig::default()
    })]

    #[test]
    fn two_homes_converge_through_one_server(ops in proptest::collection::vec(op(), 4..24)) {
        let server = DavServer::radicale();
        server.create_event_calendar("Calendar");
        let dirs = [tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp")];
        let mut stores = [
            Store::open(dirs[0].path()).expect("open"),
            Store::open(dirs[1].path()).expect("open"),
        ];
        let mut created = Vec::new();
        for op in &ops {
            apply(&mut stores, &server, op, &mut created);
        }
        for side in [0, 1, 0, 1] {
            sync(&mut stores[side], &server);
        }
        let a = live(&stores[0]);
        let b = live(&stores[1]);
        prop_assert_eq!(&a, &b, "live items differ after converging");
        // Nothing ever created is gone: live, or in the trash, on each side that knew it.
        for uid in &created {
            prop_assert!(
                stores.iter().any(|s| s.find(uid, None).is_ok()),
                "{} was lost", uid
            );
        }
    }
}
