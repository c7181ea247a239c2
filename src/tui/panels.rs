//! The review panels' state and keys: conflicts (with the local and the server's version side
//! by side, property by property) and the contact card. Pure like `App::update`: keys become
//! state changes and `Effect`s; the runtime (`effects.rs`) reads the store.

use super::app::{App, Effect, Overlay, View};
use super::keymap::Action;
use crate::format::diff::PropertyDiff;
use crate::format::vcard::LabelledField;
use crate::store::StoredItem;

/// The conflicts panel: every flagged item, conflicts first, and the selected one's two sides.
#[derive(Debug, Clone, Default)]
pub struct ConflictPanel {
    pub items: Vec<StoredItem>,
    pub selected: usize,
    /// What is shown on the right, for the item it was loaded for.
    pub detail: Option<ConflictDetail>,
}

/// The selected item's two sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConflictDetail {
    pub id: i64,
    /// The server's revision and when it was kept (None: no server version in history).
    pub remote: Option<(i64, String)>,
    pub diff: Vec<PropertyDiff>,
    /// Problems of an unreadable item (flag `unparsable`).
    pub problems: Vec<String>,
    /// Still loading.
    pub loading: bool,
}

impl ConflictPanel {
    pub fn current(&self) -> Option<&StoredItem> {
        self.items.get(self.selected)
    }
}

/// A contact's labelled fields, for the detail pane or the card overlay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    pub id: i64,
    pub fields: Vec<LabelledField>,
    pub loading: bool,
    /// Photos linked to the contact (the first few, "caption · sha prefix"), and how many.
    pub photos: Vec<String>,
    pub photos_total: usize,
}

/// j/k, gg/G and Ctrl-d/Ctrl-u on an overlay's list of `len` rows; true when `a` was one.
pub(crate) fn list_motion(a: Action, selected: &mut usize, len: usize, page: usize) -> bool {
    let last = len.saturating_sub(1);
    *selected = match a {
        Action::Down => (*selected + 1).min(last),
        Action::Up => selected.saturating_sub(1),
        Action::Top => 0,
        Action::Bottom => last,
        Action::PageDown => (*selected + page.max(1)).min(last),
        Action::PageUp => selected.saturating_sub(page.max(1)),
        _ => return false,
    };
    true
}

impl App {
    /// Keys on the conflicts panel.
    pub(crate) fn conflicts_action(&mut self, a: Action) -> Vec<Effect> {
        let Some(Overlay::Conflicts(p)) = &mut self.overlay else {
            return Vec::new();
        };
        let page = (self.list_height / 2).max(1);
        if list_motion(a, &mut p.selected, p.items.len(), page) {
            return Vec::new();
        }
        match a {
            Action::KeepMine | Action::TakeServer => {
                let Some(item) = p.current() else {
                    return Vec::new();
                };
                if !item.flags.has(crate::model::Flags::CONFLICT) {
                    self.message = Some(
                        "not a conflict: an unreadable item is fixed with e (edit) or R (revert)"
                            .into(),
                    );
                    return Vec::new();
                }
                let server = a == Action::TakeServer;
                if server && p.detail.as_ref().is_some_and(|d| d.remote.is_none()) {
                    self.message = Some(
                        "the server's version is not in this item's history; M keeps yours".into(),
                    );
                    return Vec::new();
                }
                return vec![Effect::Resolve {
                    id: item.id,
                    theirs: server,
                }];
            }
            Action::History | Action::Open => {
                if let Some(item) = p.current() {
                    return vec![Effect::LoadHistory { id: item.id }];
                }
            }
            Action::Edit => {
                if let Some(item) = p.current() {
                    return vec![Effect::Edit { id: item.id }];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Loads that follow from what is on screen: the selected conflict's two sides, the
    /// selected contact's card. Asked for once per selection (marked loading meanwhile).
    pub(crate) fn wanted_loads(&mut self) -> Vec<Effect> {
        let mut fx = Vec::new();
        if let Some(Overlay::Conflicts(p)) = &mut self.overlay {
            if let Some(id) = p.current().map(|i| i.id) {
                if p.detail.as_ref().map(|d| d.id) != Some(id) {
                    p.detail = Some(ConflictDetail {
                        id,
                        loading: true,
                        ..ConflictDetail::default()
                    });
                    fx.push(Effect::LoadConflict { id });
                }
            }
        }
        let card_shown = (self.view == View::Contacts && self.size.0 >= 90)
            || matches!(self.overlay, Some(Overlay::Card));
        if card_shown {
            if let Some(id) = self.contacts.current().map(|c| c.id) {
                if self.card.as_ref().map(|c| c.id) != Some(id) {
                    self.card = Some(Card {
                        id,
                        loading: true,
                        ..Card::default()
                    });
                    fx.push(Effect::LoadCard { id });
                }
            }
        }
        fx
    }
}
