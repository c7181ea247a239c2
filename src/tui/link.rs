//! Linking the selected photo to a contact, event or to-do (`+`), or unlinking it (`-`): a small
//! picker over the store's search (to link) or the photo's current links (to unlink). The
//! change goes through the same store calls as `holdfast photos link|unlink` and `u` undoes it.
//! On the Contacts view `P` uses the same picker over the photos linked to the contact to make
//! one the card's own photo: a ≤ 256 px JPEG thumbnail goes into the card, the full photo stays
//! in the blob store.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::app::{App, Effect, Loaded, Overlay, View};
use super::search::PER_KIND;
use super::theme::Theme;
use super::views::{centered, fit};
use crate::model::Kind;
use crate::store::{Store, StoreError, StoredItem};

/// The picker's state.
#[derive(Debug, Clone, Default)]
pub struct LinkPicker {
    /// The photo's id (its item UID).
    pub photo: String,
    /// Choosing a link to remove (else one to add).
    pub unlink: bool,
    /// Choosing the card photo of this contact (item id) among the photos linked to it.
    pub card: Option<i64>,
    pub query: String,
    pub options: Vec<LinkOption>,
    pub selected: usize,
}

/// Something the photo can be linked to (or is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOption {
    pub uid: String,
    pub label: String,
    pub kind: Option<Kind>,
}

impl App {
    /// `+` / `-` on the Photos view.
    pub(crate) fn open_link_picker(&mut self, unlink: bool) -> Vec<Effect> {
        if self.view != View::Photos {
            return Vec::new();
        }
        let Some(p) = self.selected_photo() else {
            return Vec::new();
        };
        if unlink && p.links.is_empty() {
            self.message = Some("this photo is not linked to anything (+ links it)".into());
            return Vec::new();
        }
        let options = p
            .links
            .iter()
            .map(|uid| LinkOption {
                uid: uid.clone(),
                label: uid.clone(),
                kind: None,
            })
            .collect();
        self.overlay = Some(Overlay::Link(LinkPicker {
            photo: p.id.clone(),
            unlink,
            options: if unlink { options } else { Vec::new() },
            ..LinkPicker::default()
        }));
        if unlink {
            vec![Effect::LoadLinks { photo: p.id }]
        } else {
            Vec::new()
        }
    }

    /// `P` on the Contacts view: the photos linked to the selected contact, to pick its photo.
    pub(crate) fn open_card_photo_picker(&mut self) -> Vec<Effect> {
        if self.view != View::Contacts {
            return Vec::new();
        }
        let Some(c) = self.contacts.current() else {
            return Vec::new();
        };
        let (id, uid) = (c.id, c.uid.clone());
        self.overlay = Some(Overlay::Link(LinkPicker {
            card: Some(id),
            ..LinkPicker::default()
        }));
        vec![Effect::LoadLinks { photo: uid }]
    }

    /// Keys while the picker is open: typing searches (link), arrows move, Enter picks.
    pub(crate) fn link_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let Some(Overlay::Link(p)) = &mut self.overlay else {
            return Vec::new();
        };
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let last = p.options.len().saturating_sub(1);
        // Typing searches only when linking; the other two lists move with j/k too.
        let listing = p.unlink || p.card.is_some();
        match k.code {
            KeyCode::Esc => self.overlay = None,
            KeyCode::Char('c') if ctrl => self.overlay = None,
            KeyCode::Down | KeyCode::Tab => p.selected = (p.selected + 1).min(last),
            KeyCode::Char('n') if ctrl => p.selected = (p.selected + 1).min(last),
            KeyCode::Char('j') if listing => p.selected = (p.selected + 1).min(last),
            KeyCode::Up | KeyCode::BackTab => p.selected = p.selected.saturating_sub(1),
            KeyCode::Char('p') if ctrl => p.selected = p.selected.saturating_sub(1),
            KeyCode::Char('k') if listing => p.selected = p.selected.saturating_sub(1),
            KeyCode::Enter => {
                let Some(o) = p.options.get(p.selected) else {
                    return Vec::new();
                };
                let e = match p.card {
                    Some(contact) => Effect::SetCardPhoto {
                        contact,
                        photo: o.uid.clone(),
                    },
                    None => Effect::Relink {
                        photo: p.photo.clone(),
                        uid: o.uid.clone(),
                        link: !p.unlink,
                    },
                };
                self.overlay = None;
                return vec![e];
            }
            KeyCode::Backspace if !listing => {
                p.query.pop();
                p.selected = 0;
                return vec![Effect::LinkSearch {
                    query: p.query.clone(),
                }];
            }
            KeyCode::Char(c) if !listing && !ctrl => {
                p.query.push(c);
                p.selected = 0;
                return vec![Effect::LinkSearch {
                    query: p.query.clone(),
                }];
            }
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn link_options(&mut self, query: Option<String>, options: Vec<LinkOption>) {
        if let Some(Overlay::Link(p)) = &mut self.overlay {
            // A late answer to an older query is dropped.
            if query.is_some_and(|q| q != p.query) {
                return;
            }
            p.selected = p.selected.min(options.len().saturating_sub(1));
            p.options = options;
        }
    }
}

fn label(i: &StoredItem) -> String {
    let s = |k: &str| i.data[k].as_str().unwrap_or("").to_string();
    match i.kind {
        Kind::Contact => s("full_name"),
        _ => s("summary"),
    }
}

fn kind_name(k: Option<Kind>) -> &'static str {
    match k {
        Some(Kind::Contact) => "contact",
        Some(Kind::Event) => "event",
        Some(Kind::Todo) => "to-do",
        Some(Kind::Photo) => "photo",
        Some(_) => "item",
        None => "",
    }
}

/// The runtime's side: the store calls behind the picker's effects.
pub(super) fn load(store: &mut Store, e: &Effect) -> Option<anyhow::Result<Loaded>> {
    Some(match e {
        Effect::LinkSearch { query } => search(store, query),
        // On the Contacts view the "photo" is the contact's UID: the photos linked to it.
        Effect::LoadLinks { photo } if app_card(store, photo) => linked_to(store, photo),
        Effect::LoadLinks { photo } => links(store, photo),
        Effect::SetCardPhoto { contact, photo } => card_photo(store, *contact, photo),
        Effect::Relink { photo, uid, link } => relink(store, photo, uid, *link),
        _ => return None,
    })
}

fn search(store: &Store, query: &str) -> anyhow::Result<Loaded> {
    let mut options = Vec::new();
    if !query.trim().is_empty() {
        for g in store.search_all(query, PER_KIND)? {
            if !matches!(g.kind, Kind::Contact | Kind::Event | Kind::Todo) {
                continue;
            }
            options.extend(g.rows.iter().map(|i| LinkOption {
                uid: i.uid.clone(),
                label: label(i),
                kind: Some(i.kind),
            }));
        }
    }
    Ok(Loaded::LinkOptions {
        query: Some(query.to_string()),
        options,
    })
}

/// Whether `uid` names a contact (the card-photo picker) rather than a photo.
fn app_card(store: &Store, uid: &str) -> bool {
    store.find(uid, None).is_ok_and(|i| i.kind == Kind::Contact)
}

/// The photos linked to a contact, for the card-photo picker.
fn linked_to(store: &Store, uid: &str) -> anyhow::Result<Loaded> {
    let options = store
        .photos_linked_to(uid)?
        .into_iter()
        .filter_map(|id| store.photo(&id).ok())
        .map(|sp| LinkOption {
            label: sp
                .photo
                .caption
                .clone()
                .or_else(|| sp.photo.original_name.clone())
                .unwrap_or_else(|| format!("photo {}", sp.photo.sha256.get(..12).unwrap_or(""))),
            uid: sp.photo.id,
            kind: Some(Kind::Photo),
        })
        .collect();
    Ok(Loaded::LinkOptions {
        query: None,
        options,
    })
}

/// Longest side of the thumbnail a card carries (the full photo stays in the blob store).
const CARD_THUMBNAIL_PX: u32 = 256;

/// The photo as a small JPEG for a card: at most 256 px, quality lowered until it fits.
pub fn card_thumbnail(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let img = image::ImageReader::open(path)
        .map_err(|e| format!("cannot read the photo's file ({}): {e}", path.display()))?
        .with_guessed_format()
        .map_err(|e| format!("cannot read the photo's file: {e}"))?
        .decode()
        .map_err(|e| format!("the photo cannot be decoded: {e}"))?;
    let small = img
        .thumbnail(CARD_THUMBNAIL_PX, CARD_THUMBNAIL_PX)
        .into_rgb8();
    for quality in [85u8, 70, 50, 30] {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&small)
            .map_err(|e| format!("the thumbnail cannot be written: {e}"))?;
        if out.len() <= crate::format::photo::CARD_THUMBNAIL_MAX {
            return Ok(out);
        }
    }
    Err("the thumbnail stays too large for a card".into())
}

/// `P` then Enter: the card's PHOTO becomes a thumbnail of the photo (one revision, undoable).
pub(super) fn card_photo(store: &mut Store, contact: i64, photo: &str) -> anyhow::Result<Loaded> {
    let item = store.get(contact)?;
    let sp = store.photo(photo)?;
    let path = crate::store::Blobs::new(store.data_dir()).path(&sp.photo.sha256);
    if !path.exists() {
        anyhow::bail!("the photo's file is not here yet: a sync fetches it");
    }
    let thumb = card_thumbnail(&path).map_err(|e| anyhow::anyhow!(e))?;
    let raw =
        crate::format::photo::set_card_photo(&item.raw, &thumb).map_err(|e| anyhow::anyhow!(e))?;
    let before = item.rev;
    store.update(&item, &raw, "photo", false)?;
    Ok(Loaded::Changed {
        message: format!(
            "{}: card photo set ({} KB thumbnail; u undoes)",
            label(&item),
            thumb.len().div_ceil(1000)
        ),
        undo: Some(Effect::Revert {
            id: contact,
            rev: before,
        }),
    })
}

fn links(store: &Store, photo: &str) -> anyhow::Result<Loaded> {
    let sp = store.photo(photo)?;
    let options = sp
        .photo
        .links
        .iter()
        .map(|uid| match store.find(uid, None) {
            Ok(i) => LinkOption {
                uid: uid.clone(),
                label: label(&i),
                kind: Some(i.kind),
            },
            Err(_) => LinkOption {
                uid: uid.clone(),
                label: format!("{uid} (not in this database)"),
                kind: None,
            },
        })
        .collect();
    Ok(Loaded::LinkOptions {
        query: None,
        options,
    })
}

/// `holdfast photos link|unlink`, from the UI: the same checks, one revision, undoable.
fn relink(store: &mut Store, photo: &str, uid: &str, link: bool) -> anyhow::Result<Loaded> {
    let sp = store.photo(photo)?;
    if sp.item.deleted {
        anyhow::bail!("this photo is in the trash (T restores it first)");
    }
    let name = match store.find(uid, None) {
        Ok(i) if i.kind == Kind::Photo => anyhow::bail!("a photo cannot be linked to a photo"),
        Ok(i) if link && i.deleted => {
            anyhow::bail!("{} is in the trash (T restores it first)", label(&i))
        }
        Ok(i) => label(&i),
        Err(StoreError::NotFound(_)) if !link => uid.to_string(),
        Err(e) => return Err(e.into()),
    };
    let mut p = sp.photo.clone();
    let changed = if link { p.link(uid) } else { p.unlink(uid) };
    if !changed {
        return Ok(Loaded::Message(if link {
            format!("the photo is already linked to {name}")
        } else {
            format!("the photo is not linked to {name}")
        }));
    }
    store.save_photo(&sp.item, &p, if link { "link" } else { "unlink" })?;
    Ok(Loaded::Changed {
        message: format!(
            "photo {} {name} (u undoes)",
            if link { "linked to" } else { "unlinked from" }
        ),
        undo: Some(Effect::Relink {
            photo: photo.to_string(),
            uid: uid.to_string(),
            link: !link,
        }),
    })
}

/// The picker, centred over the view.
pub fn draw(f: &mut Frame<'_>, area: Rect, p: &LinkPicker, theme: &Theme) {
    let rect = centered(area, 60, 14);
    f.render_widget(Clear, rect);
    let title = if p.card.is_some() {
        " The card's photo: one linked to the contact · Enter sets · Esc "
    } else if p.unlink {
        " Unlink the photo from… · Enter unlinks · Esc "
    } else {
        " Link the photo to… · type to search · Enter links · Esc "
    };
    let w = rect.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    if !p.unlink && p.card.is_none() {
        lines.push(Line::from(vec![
            Span::styled("> ", theme.label()),
            Span::raw(p.query.clone()),
            Span::styled("▏", theme.label()),
        ]));
    }
    if p.options.is_empty() {
        lines.push(Line::styled(
            if p.card.is_some() {
                "no photo is linked to this contact: + in the Photos view links one"
            } else if p.query.is_empty() {
                "a name, a summary: contacts, events and to-dos match"
            } else {
                "nothing matches"
            },
            theme.dim(),
        ));
    }
    let room = (rect.height as usize)
        .saturating_sub(2 + lines.len())
        .max(1);
    let start = p.selected.saturating_sub(room - 1);
    for (i, o) in p.options.iter().enumerate().skip(start).take(room) {
        let text = fit(&format!("{:<8} {}", kind_name(o.kind), o.label), w);
        lines.push(if i == p.selected {
            Line::styled(text, theme.selected())
        } else {
            Line::raw(text)
        });
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::new()
                .borders(Borders::ALL)
                .title(Line::styled(title, theme.title())),
        ),
        rect,
    );
}
