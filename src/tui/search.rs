//! Global search: a box over contacts, events and to-dos at once (the store's FTS, accents
//! folded), results grouped by kind as you type, Enter jumps to the hit in its view. Pure: the
//! query goes out as `Effect::GlobalSearch`, hits come back as `Loaded::SearchResults`.

use chrono::NaiveDate;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Effect, Overlay, TodoFilter, View};
use crate::model::Kind;
use crate::store::{SearchGroup, StoredItem};

/// Hits shown per kind at most (three kinds: about 50 rows in all).
pub const PER_KIND: usize = 17;

#[derive(Debug, Clone, Default)]
pub struct SearchPanel {
    pub query: String,
    pub groups: Vec<SearchGroup>,
    /// Index into the hits of every group, in order.
    pub selected: usize,
    /// The query the shown hits are for (results of an older query are dropped).
    pub shown_for: String,
}

impl SearchPanel {
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.rows.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn current(&self) -> Option<&StoredItem> {
        self.groups
            .iter()
            .flat_map(|g| g.rows.iter())
            .nth(self.selected)
    }
}

/// Where a hit is, as the runtime found it.
#[derive(Debug, Clone, PartialEq)]
pub enum Located {
    /// A row of the contact or to-do list (index in the whole list).
    Row {
        view: View,
        position: usize,
    },
    /// An event: the day it next shows on, and its UID.
    Day {
        date: NaiveDate,
        uid: String,
    },
    NotFound(String),
}

impl App {
    pub(crate) fn open_global_search(&mut self) -> Vec<Effect> {
        self.overlay = Some(Overlay::Search(SearchPanel::default()));
        Vec::new()
    }

    /// Keys typed into the search box.
    pub(crate) fn global_search_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let Some(Overlay::Search(p)) = &mut self.overlay else {
            return Vec::new();
        };
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let n = p.len();
        match k.code {
            KeyCode::Esc => self.overlay = None,
            KeyCode::Down | KeyCode::Tab => p.selected = (p.selected + 1).min(n.saturating_sub(1)),
            KeyCode::Char('n') if ctrl => p.selected = (p.selected + 1).min(n.saturating_sub(1)),
            KeyCode::Up | KeyCode::BackTab => p.selected = p.selected.saturating_sub(1),
            KeyCode::Char('p') if ctrl => p.selected = p.selected.saturating_sub(1),
            KeyCode::Char('c') if ctrl => self.overlay = None,
            KeyCode::Enter => {
                let Some(hit) = p.current() else {
                    return Vec::new();
                };
                let (id, kind) = (hit.id, hit.kind);
                let done = matches!(
                    hit.data["status"].as_str(),
                    Some("COMPLETED") | Some("CANCELLED")
                );
                self.overlay = None;
                // The hit must be in the list it jumps to: no filter that hides it.
                match kind {
                    Kind::Contact => self.contacts.query.clear(),
                    Kind::Todo => {
                        self.todos.query.clear();
                        if done || self.todo_filter != TodoFilter::Open {
                            self.todo_filter = if done {
                                TodoFilter::All
                            } else {
                                TodoFilter::Open
                            };
                        }
                    }
                    _ => {}
                }
                return vec![Effect::Locate { id, kind }];
            }
            KeyCode::Backspace => {
                p.query.pop();
                p.selected = 0;
                return vec![Effect::GlobalSearch {
                    query: p.query.clone(),
                }];
            }
            KeyCode::Char(c) if !ctrl => {
                p.query.push(c);
                p.selected = 0;
                return vec![Effect::GlobalSearch {
                    query: p.query.clone(),
                }];
            }
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn search_results(&mut self, query: String, groups: Vec<SearchGroup>) {
        if let Some(Overlay::Search(p)) = &mut self.overlay {
            // Typing ran ahead of this answer: a newer one is on its way.
            if p.query != query {
                return;
            }
            p.groups = groups;
            p.shown_for = query;
            p.selected = p.selected.min(p.len().saturating_sub(1));
        }
    }

    /// Shows a located hit: its view, the row selected and on screen (or the day, with the
    /// event selected once the calendar has loaded).
    pub(crate) fn show_located(&mut self, l: Located) -> Vec<Effect> {
        match l {
            Located::Row { view, position } => {
                let h = self.list_height.max(1);
                let p = if view == View::Todos {
                    &mut self.todos
                } else {
                    &mut self.contacts
                };
                p.selected = position;
                // The hit a few rows from the top, so what surrounds it shows too.
                p.offset = position.saturating_sub(h / 3);
                p.rows.clear();
                self.switch_view(view)
            }
            Located::Day { date, uid } => {
                self.calendar.cursor = date;
                self.calendar.entry = 0;
                self.calendar.detail = None;
                self.calendar.want = Some(uid);
                self.switch_view(View::Calendar)
            }
            Located::NotFound(what) => {
                self.message = Some(what);
                Vec::new()
            }
        }
    }
}
