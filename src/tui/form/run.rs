//! The runtime's half of a form (called from `tui/mod.rs`, never from `App::update`): resolve
//! the parent a to-do names, write the item through the store as a revision (origin "tui"),
//! and say how `u` takes it back.

use chrono::Utc;

use super::{Save, Target};
use crate::format::compose::{self, Draft, FieldId};
use crate::format::write;
use crate::model::Kind;
use crate::store::{Filter, Store};
use crate::tui::app::{Effect, Loaded};

/// The revision origin of what the forms write.
const ORIGIN: &str = "tui";

/// How far up a parent chain is followed looking for a loop.
const MAX_DEPTH: usize = 64;

/// Carries out a save: the result is `Changed` (closes the form), or an error the form shows.
pub fn save(store: &mut Store, s: &Save) -> anyhow::Result<Loaded> {
    let now = Utc::now();
    let mut after = s.after.clone();
    let own_uid = match s.target {
        Target::New => None,
        Target::Edit { id } | Target::Occurrence { id, .. } => Some(store.get(id)?.uid),
    };
    if let (Draft::Todo(a), Draft::Todo(b)) = (&mut after, &s.before) {
        if a.parent.trim() != b.parent.trim() && !a.parent.trim().is_empty() {
            match parent(store, a.parent.trim(), own_uid.as_deref()) {
                Ok(uid) => a.parent = uid,
                Err(message) => {
                    return Ok(Loaded::FieldError {
                        field: FieldId::Parent,
                        row: 0,
                        message,
                    })
                }
            }
        }
    }
    match s.target {
        Target::New => {
            let uid = write::new_uid();
            let text = match compose::create(&after, &uid, now) {
                Ok(t) => t,
                Err(e) => return Ok(Loaded::FormError(format!("not saved: {e}"))),
            };
            let kind = match after {
                Draft::Contact(_) => Kind::Contact,
                Draft::Event(_) => Kind::Event,
                Draft::Todo(_) => Kind::Todo,
            };
            let collection = kind.default_collection();
            store.create(collection, &uid, text.as_bytes(), ORIGIN)?;
            let id = store.find(&uid, Some(collection))?.id;
            Ok(Loaded::Changed {
                message: format!("created “{}” (u undoes)", title(&after)),
                undo: Some(Effect::Delete { id }),
            })
        }
        Target::Edit { id } | Target::Occurrence { id, .. } => {
            let item = store.get(id)?;
            let new = match (s.target, &s.before, &after) {
                (Target::Occurrence { rid, .. }, Draft::Event(b), Draft::Event(a)) => {
                    compose::apply_occurrence(&item.raw, rid, b, a, now)
                }
                _ => compose::apply(&item.raw, &s.before, &after, now),
            };
            let new = match new {
                Ok(n) => n,
                Err(e) => return Ok(Loaded::FormError(format!("not saved: {e}"))),
            };
            if new == item.raw {
                return Ok(Loaded::Changed {
                    message: "no changes".into(),
                    undo: None,
                });
            }
            store.update(&item, &new, ORIGIN, false)?;
            // Editing a conflicted item is the user's decision on it (as `holdfast edit`).
            store.clear_conflict(id)?;
            Ok(Loaded::Changed {
                message: format!("saved “{}” as a new revision (u undoes)", title(&after)),
                undo: Some(Effect::Revert { id, rev: item.rev }),
            })
        }
    }
}

fn title(d: &Draft) -> String {
    match d {
        Draft::Contact(c) => c.full_name.trim().to_string(),
        Draft::Event(e) => e.summary.trim().to_string(),
        Draft::Todo(t) => t.summary.trim().to_string(),
    }
}

/// The UID of the to-do `typed` names: its UID, or the one to-do whose summary matches.
fn parent(store: &Store, typed: &str, own: Option<&str>) -> Result<String, String> {
    let uid = match store.find(typed, None) {
        Ok(item) if item.kind == Kind::Todo && !item.deleted => item.uid,
        _ => {
            let found = store
                .list(&Filter {
                    kind: Some(Kind::Todo),
                    query: Some(typed.to_string()),
                    ..Filter::default()
                })
                .map_err(|e| e.to_string())?;
            let found: Vec<_> = found
                .into_iter()
                .filter(|t| Some(t.uid.as_str()) != own && !t.deleted)
                .collect();
            let summary =
                |t: &crate::store::StoredItem| t.data["summary"].as_str().unwrap_or("").to_string();
            let exact: Vec<_> = found
                .iter()
                .filter(|t| summary(t).eq_ignore_ascii_case(typed))
                .collect();
            match (found.as_slice(), exact.as_slice()) {
                ([one], _) => one.uid.clone(),
                (_, [one]) => one.uid.clone(),
                ([], _) => return Err(format!("no to-do matches “{typed}”")),
                (many, _) => {
                    let names: Vec<String> = many.iter().take(3).map(summary).collect();
                    return Err(format!(
                        "{} to-dos match ({}…): type more",
                        many.len(),
                        names.join(", ")
                    ));
                }
            }
        }
    };
    if Some(uid.as_str()) == own {
        return Err("a to-do cannot be its own parent".into());
    }
    // The parent must not be one of this to-do's own sub-tasks (a loop).
    let mut at = uid.clone();
    for _ in 0..MAX_DEPTH {
        let Ok(item) = store.find(&at, None) else {
            break;
        };
        match item.data["parent"].as_str() {
            Some(p) if Some(p) == own => {
                return Err("that to-do is a sub-task of this one (a loop)".into())
            }
            Some(p) => at = p.to_string(),
            None => break,
        }
    }
    Ok(uid)
}
