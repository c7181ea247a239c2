//! The runtime's side of the review panels and global search: the store calls behind their
//! `Effect`s, each answered with a `Loaded` for `App::update`.

use chrono::{Local, TimeZone};

use super::app::{App, Effect, Loaded, View};
use super::panels::{Card, ConflictDetail};
use super::search::{Located, PER_KIND};
use crate::format::{diff, vcard};
use crate::model::{Flags, Kind};
use crate::store::{Resolution, Store};

/// Conflicts listed at most (the status bar counts them all).
const CONFLICTS_SHOWN: usize = 500;

/// Carries out a panel effect; None when `e` is not one of them.
pub(super) fn load(store: &mut Store, app: &App, e: &Effect) -> Option<anyhow::Result<Loaded>> {
    Some(match e {
        Effect::LoadConflicts => store
            .flagged_for_review(CONFLICTS_SHOWN)
            .map(|items| Loaded::Conflicts { items })
            .map_err(Into::into),
        Effect::LoadConflict { id } => conflict_detail(store, *id),
        Effect::Resolve { id, theirs } => resolve(store, *id, *theirs),
        Effect::Reopen { id, rev } => store
            .reopen_conflict(*id, *rev)
            .map(|_| Loaded::Changed {
                message: "flagged as a conflict again".into(),
                undo: None,
            })
            .map_err(Into::into),
        Effect::GlobalSearch { query } => store
            .search_all(query, PER_KIND)
            .map(|groups| Loaded::SearchResults {
                query: query.clone(),
                groups,
            })
            .map_err(Into::into),
        Effect::Locate { id, kind } => locate(store, app, *id, *kind),
        Effect::LoadCard { id } => card(store, *id),
        Effect::LoadLinkedPhotos { uid } => {
            linked_photos(store, uid).map(|(lines, total)| Loaded::LinkedPhotos {
                uid: uid.clone(),
                lines,
                total,
            })
        }
        _ => return None,
    })
}

fn conflict_detail(store: &Store, id: i64) -> anyhow::Result<Loaded> {
    let item = store.get(id)?;
    let mut d = ConflictDetail {
        id,
        problems: item
            .problems
            .iter()
            .map(|p| format!("line {}: {}", p.line, p.reason))
            .collect(),
        ..ConflictDetail::default()
    };
    if item.flags.has(Flags::CONFLICT) {
        if let Some(v) = store.conflict_versions(id)? {
            d.diff = diff::properties(&v.item.raw, &v.remote);
            d.remote = Some((v.remote_rev, v.remote_at));
        }
    }
    Ok(Loaded::ConflictDetail(d))
}

fn resolve(store: &mut Store, id: i64, theirs: bool) -> anyhow::Result<Loaded> {
    let how = if theirs {
        Resolution::TakeServer
    } else {
        Resolution::KeepMine
    };
    let before = store.resolve_conflict(id, how)?;
    tracing::info!(item = id, theirs, "conflict resolved");
    Ok(Loaded::Changed {
        message: if theirs {
            "took the server's version; the next sync uploads it (u undoes)".into()
        } else {
            "kept your version; conflict cleared (u undoes)".into()
        },
        undo: Some(Effect::Reopen {
            id,
            rev: theirs.then_some(before),
        }),
    })
}

fn locate(store: &mut Store, app: &App, id: i64, kind: Kind) -> anyhow::Result<Loaded> {
    let gone = || {
        Loaded::Located(Located::NotFound(
            "that item is no longer in the list".into(),
        ))
    };
    Ok(match kind {
        Kind::Contact => match store.contact_position(id)? {
            Some(position) => Loaded::Located(Located::Row {
                view: View::Contacts,
                position,
            }),
            None => gone(),
        },
        Kind::Todo => match store.todo_position(&super::todo_filter(app), id)? {
            Some(position) => Loaded::Located(Located::Row {
                view: View::Todos,
                position,
            }),
            None => gone(),
        },
        _ => {
            let item = store.get(id)?;
            let from = super::local_midnight(app.calendar.today);
            match store.event_start_near(id, from)? {
                Some(ts) => {
                    let date = Local
                        .timestamp_opt(ts, 0)
                        .single()
                        .map(|t| t.date_naive())
                        .unwrap_or(app.calendar.today);
                    Loaded::Located(Located::Day {
                        date,
                        uid: item.uid,
                    })
                }
                None => gone(),
            }
        }
    })
}

fn card(store: &Store, id: i64) -> anyhow::Result<Loaded> {
    let item = store.get(id)?;
    let (photos, photos_total) = linked_photos(store, &item.uid)?;
    Ok(Loaded::Card(Card {
        id,
        fields: vcard::labelled_fields(&item.raw).unwrap_or_default(),
        loading: false,
        photos,
        photos_total,
    }))
}

/// Linked photos listed in a card or an event's detail at most (the count covers the rest).
const LINKED_SHOWN: usize = 5;

/// The photos linked to `uid`: the first few as "caption · sha prefix", and how many in all.
pub(super) fn linked_photos(store: &Store, uid: &str) -> anyhow::Result<(Vec<String>, usize)> {
    let ids = store.photos_linked_to(uid)?;
    let mut lines = Vec::new();
    for id in ids.iter().take(LINKED_SHOWN) {
        if let Ok(sp) = store.photo(id) {
            let p = &sp.photo;
            let caption = p
                .caption
                .clone()
                .or_else(|| p.original_name.clone())
                .unwrap_or_else(|| "(no caption)".into());
            lines.push(format!("{caption} · {}", p.sha256.get(..8).unwrap_or("")));
        }
    }
    Ok((lines, ids.len()))
}
