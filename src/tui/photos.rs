//! The Photos view's list: one page of photo references (date, size, pixels, caption, links)
//! read from SQL with LIMIT/OFFSET, so the first frame costs the same with 10 or 10,000 photos.
//!
//! The app keeps the page as a `Paged` of the references' items (`Effect::LoadPhotos`, the
//! same paging, `/` filter and motions as contacts); `draw_photos` turns the rows on screen
//! into `PhotoRow`s for `PhotosList` and draws the detail pane with the selected photo's
//! preview (`tui/preview.rs` decodes it off the UI thread).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Widget, Wrap};
use ratatui::Frame;

use super::app::{App, View};
use super::theme::Theme;
use super::views::fit;
use crate::model::{Kind, PhotoRef};
use crate::store::{Filter, Store, StoredPhoto};
use crate::sync::engine::AccountReport;

/// Below this width the list takes the whole screen (no detail pane).
const DETAIL_MIN_WIDTH: u16 = 60;

/// Lines of text above the preview in the detail pane.
const DETAIL_LINES: u16 = 9;

/// The smallest preview worth drawing (cells); smaller panes show the text only.
const PREVIEW_MIN: (u16, u16) = (10, 4);

/// The list and, on screens wide enough, the detail pane, within the view's `area`.
pub fn layout(area: Rect) -> (Rect, Option<Rect>) {
    if area.width >= DETAIL_MIN_WIDTH {
        let [l, r] = Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
            .areas(area);
        (l, Some(r))
    } else {
        (area, None)
    }
}

/// Where the preview goes in the detail pane (inside its border), if there is room.
pub fn preview_area(detail: Rect) -> Option<Rect> {
    let inner = Rect {
        x: detail.x + 1,
        y: detail.y + 1 + DETAIL_LINES,
        width: detail.width.saturating_sub(2),
        height: detail.height.saturating_sub(1 + DETAIL_LINES),
    };
    (inner.width >= PREVIEW_MIN.0 && inner.height >= PREVIEW_MIN.1).then_some(inner)
}

/// The view's area for a screen of `size`: below the tabs, above the message and status lines.
fn body(size: (u16, u16)) -> Rect {
    Rect::new(0, 1, size.0, size.1.saturating_sub(3))
}

impl App {
    /// The selected photo reference, if its row is loaded.
    pub fn selected_photo(&self) -> Option<PhotoRef> {
        self.photos
            .current()
            .and_then(|i| StoredPhoto::from_item(i.clone()))
            .map(|sp| sp.photo)
    }

    /// The preview the screen wants now, (sha256, cells), when it is not the one it has: the
    /// runtime hands it to the preview thread. Pure: reads state only.
    pub fn preview_wanted(&self) -> Option<(String, (u16, u16))> {
        if self.view != View::Photos || self.preview_off.is_some() || self.overlay.is_some() {
            return None;
        }
        let (_, detail) = layout(body(self.size));
        let area = preview_area(detail?)?;
        let sha = self.selected_photo()?.sha256;
        let cells = (area.width, area.height);
        match &self.preview {
            Some(p) if p.sha256 == sha && p.cells == cells => None,
            _ => Some((sha, cells)),
        }
    }

    /// The photos part of an account's sync report, for the status bar and the message line.
    pub(crate) fn photos_done(&mut self, r: &AccountReport) {
        let Some(p) = &r.photos else {
            self.photo_sync.remove(&r.account);
            return;
        };
        // A file the preview missed may have arrived: it is decoded again.
        if p.blobs_fetched > 0 && self.preview.as_ref().is_some_and(|x| x.image.is_err()) {
            self.preview = None;
        }
        let note = if p.unreachable {
            Some("photos offline".to_string())
        } else if p.guard.is_some() {
            Some("photo deletions held back (S)".to_string())
        } else if let Some(e) = &p.error {
            Some(format!("photos failed: {e}"))
        } else if !p.errors.is_empty() {
            Some(format!("{} photo problem(s)", p.errors.len()))
        } else {
            None
        };
        if let Some(first) = p.errors.first() {
            self.message = Some(format!(
                "{}: {} photo(s) not synced: {first}",
                r.account,
                p.errors.len()
            ));
        }
        if p.conflicts > 0 {
            self.message = Some(format!(
                "{}: {} photo conflict(s) — press C to review",
                r.account, p.conflicts
            ));
        }
        match note {
            Some(n) => self.photo_sync.insert(r.account.clone(), n),
            None => self.photo_sync.remove(&r.account),
        };
    }
}

/// The Photos view: the list, and the selected photo's details and preview beside it.
pub fn draw_photos(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let p = &app.photos;
    // Nothing to show in a detail pane: the list (and how to add photos) takes the width.
    let (list, detail) = if p.rows.is_empty() {
        (area, None)
    } else {
        layout(area)
    };
    let page = PhotosPage {
        offset: p.offset,
        rows: p
            .rows
            .iter()
            .filter_map(|i| StoredPhoto::from_item(i.clone()))
            .map(|sp| {
                let mut row = PhotoRow::of(&sp);
                for l in &mut row.links {
                    if let Some(name) = app.photo_link_names.get(l.as_str()) {
                        *l = name.clone();
                    }
                }
                row
            })
            .collect(),
        total: p.total,
        selected: p.selected,
    };
    f.render_widget(
        PhotosList {
            page: &page,
            theme,
            query: &p.query,
            more: p.more,
        },
        list,
    );
    if let Some(d) = detail {
        draw_detail(f, d, app, theme);
    }
}

fn draw_detail(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let block = Block::new()
        .borders(Borders::TOP | Borders::LEFT)
        .title(Line::styled(" Photo ", theme.title()));
    let Some(photo) = app.selected_photo() else {
        f.render_widget(block, area);
        return;
    };
    let w = area.width.saturating_sub(2) as usize;
    let field = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<8}"), theme.label()),
            Span::raw(fit(&value, w.saturating_sub(8))),
        ])
    };
    let mut lines = vec![
        Line::styled(
            fit(&PhotoRow::of_photo(&photo, false).caption, w),
            theme.title(),
        ),
        field(
            "taken",
            photo
                .taken_at
                .clone()
                .unwrap_or_else(|| "(unknown)".into())
                .replace('T', " "),
        ),
        field("added", photo.created_at.replace('T', " ")),
        field(
            "size",
            match (photo.width, photo.height) {
                (Some(x), Some(y)) => {
                    format!("{} · {x}×{y} · {}", human_size(photo.size), photo.mime)
                }
                _ => format!("{} · {}", human_size(photo.size), photo.mime),
            },
        ),
        field("id", photo.id.clone()),
        field("sha256", photo.sha256.get(..16).unwrap_or("").to_string()),
    ];
    match photo.links.len() {
        0 => lines.push(field("links", "none".into())),
        n => {
            let named: Vec<String> = photo
                .links
                .iter()
                .map(|uid| match app.photo_link_names.get(uid) {
                    Some(name) => format!("{name} ({uid})"),
                    None => uid.clone(),
                })
                .collect();
            lines.push(field("links", format!("{n}: {}", named.join(", "))));
        }
    }
    let preview = preview_area(area);
    let note = if let Some(off) = &app.preview_off {
        Some(off.clone())
    } else if preview.is_none() {
        Some("(no room for a preview)".into())
    } else {
        match &app.preview {
            Some(p) if p.sha256 == photo.sha256 => p.image.as_ref().err().cloned(),
            _ => Some("preview: loading…".into()),
        }
    };
    if let Some(n) = note {
        lines.push(Line::raw(""));
        lines.push(Line::styled(fit(&n, w), theme.dim()));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
    if let (Some(rect), Some(p)) = (preview, &app.preview) {
        if p.sha256 == photo.sha256 && app.preview_off.is_none() {
            if let Ok(img) = &p.image {
                f.render_widget(ratatui_image::Image::new(img), rect);
            }
        }
    }
}

/// One row as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRow {
    pub id: String,
    /// EXIF capture time, or when it was added.
    pub date: String,
    pub size: String,
    pub pixels: String,
    pub caption: String,
    pub links: Vec<String>,
    pub flagged: bool,
}

impl PhotoRow {
    pub fn of(sp: &StoredPhoto) -> PhotoRow {
        PhotoRow::of_photo(&sp.photo, sp.item.flags.0 != 0)
    }

    pub fn of_photo(p: &PhotoRef, flagged: bool) -> PhotoRow {
        let date = p.taken_at.clone().unwrap_or_else(|| p.created_at.clone());
        PhotoRow {
            id: p.id.clone(),
            date: date.get(..16).unwrap_or(&date).replace('T', " "),
            size: human_size(p.size),
            pixels: match (p.width, p.height) {
                (Some(w), Some(h)) => format!("{w}×{h}"),
                _ => String::new(),
            },
            caption: p
                .caption
                .clone()
                .or_else(|| p.original_name.clone())
                .unwrap_or_default(),
            links: p.links.clone(),
            flagged,
        }
    }
}

/// A window onto the photo list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotosPage {
    /// Index of `rows[0]` in the whole list.
    pub offset: usize,
    pub rows: Vec<PhotoRow>,
    /// Live references in all.
    pub total: usize,
    /// Index of the selected row in the whole list.
    pub selected: usize,
}

impl PhotosPage {
    /// Reads `limit` rows starting at `offset` (and the count, from an index).
    pub fn load(store: &Store, offset: usize, limit: usize) -> crate::store::Result<PhotosPage> {
        let filter = Filter {
            kind: Some(Kind::Photo),
            ..Filter::default()
        };
        let rows = store
            .page(&filter, offset, limit)?
            .into_iter()
            .filter_map(StoredPhoto::from_item)
            .map(|sp| PhotoRow::of(&sp))
            .collect();
        Ok(PhotosPage {
            offset,
            rows,
            total: store.count(&filter)?,
            selected: offset,
        })
    }

    /// The selected row, if it is on this page.
    pub fn selected_row(&self) -> Option<&PhotoRow> {
        self.selected
            .checked_sub(self.offset)
            .and_then(|i| self.rows.get(i))
    }
}

/// The list widget.
pub struct PhotosList<'a> {
    pub page: &'a PhotosPage,
    pub theme: &'a Theme,
    /// The `/` filter (empty: none), shown in the title.
    pub query: &'a str,
    /// The total is a lower bound (a search matched more than was counted).
    pub more: bool,
}

impl Widget for PhotosList<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let filter = if self.query.is_empty() {
            String::new()
        } else {
            format!(" /{}", self.query)
        };
        let title = format!(
            " Photos ({} of {}{}){filter} ",
            if self.page.total == 0 {
                0
            } else {
                self.page.selected + 1
            },
            self.page.total,
            if self.more { "+" } else { "" }
        );
        let block = Block::new()
            .borders(Borders::TOP)
            .title(Line::styled(title, t.title()));
        if self.page.rows.is_empty() && !self.query.is_empty() {
            Paragraph::new(vec![
                Line::raw(""),
                Line::styled(" No photo matches the filter (Esc clears it).", t.dim()),
            ])
            .block(block)
            .render(area, buf);
            return;
        }
        if self.page.rows.is_empty() {
            Paragraph::new(vec![
                Line::raw(""),
                Line::styled(
                    " No photos. `holdfast photos add PATH...` adds some; contact photos appear \
                     here when their cards are imported or synced.",
                    t.dim(),
                ),
            ])
            .block(block)
            .render(area, buf);
            return;
        }
        // Narrow lists keep the date, caption and links (the detail pane has the rest).
        let (pixels, size) = (area.width >= 78, area.width >= 50);
        let pick = |cells: [String; 5]| -> Vec<String> {
            let [date, sz, px, caption, links] = cells;
            let mut v = vec![date];
            if size {
                v.push(sz);
            }
            if pixels {
                v.push(px);
            }
            v.extend([caption, links]);
            v
        };
        let header = Row::new(pick([
            "TAKEN/ADDED".into(),
            "SIZE".into(),
            "PIXELS".into(),
            "CAPTION".into(),
            "LINKS".into(),
        ]))
        .style(t.label());
        let rows = self.page.rows.iter().enumerate().map(|(i, r)| {
            let links = match r.links.len() {
                0 => String::new(),
                1 => r.links[0].clone(),
                n => format!("{} +{}", r.links[0], n - 1),
            };
            let caption = if r.flagged {
                format!("! {}", r.caption)
            } else {
                r.caption.clone()
            };
            let row = Row::new(pick([
                r.date.clone(),
                r.size.clone(),
                r.pixels.clone(),
                caption,
                links,
            ]));
            if self.page.offset + i == self.page.selected {
                row.style(t.selected())
            } else {
                row
            }
        });
        let mut widths = vec![Constraint::Length(16)];
        if size {
            widths.push(Constraint::Length(8));
        }
        if pixels {
            widths.push(Constraint::Length(11));
        }
        widths.extend([Constraint::Fill(2), Constraint::Fill(1)]);
        Table::new(rows, widths)
            .header(header)
            .block(block)
            .render(area, buf);
    }
}

fn human_size(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1} MB", n as f64 / 1e6)
    } else if n >= 1000 {
        format!("{} KB", n / 1000)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use crate::model::PhotoRef;

    fn photo(i: usize) -> PhotoRef {
        PhotoRef {
            format: PhotoRef::FORMAT.into(),
            id: format!("photo-{i:05}"),
            sha256: format!("{:064x}", i),
            mime: "image/jpeg".into(),
            size: 300_000 + i as u64,
            width: Some(4000),
            height: Some(3000),
            taken_at: Some(format!("2025-01-01T00:{:02}:00", i % 60)),
            caption: Some(format!("Caption {i}")),
            original_name: None,
            original_path: None,
            links: if i % 2 == 0 {
                vec!["contact-1".into()]
            } else {
                Vec::new()
            },
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn render(page: &PhotosPage) -> String {
        let mut term = Terminal::new(TestBackend::new(80, 8)).expect("terminal");
        let theme = Theme::from_env();
        term.draw(|f| {
            f.render_widget(
                PhotosList {
                    page,
                    theme: &theme,
                    query: "",
                    more: false,
                },
                f.area(),
            )
        })
        .expect("draw");
        let buf = term.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_page_comes_from_sql_and_draws_caption_date_size_links() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = Store::open(dir.path()).expect("store");
        let photos: Vec<PhotoRef> = (0..250).map(photo).collect();
        store.create_photos(&photos, "test").expect("create");
        let page = PhotosPage::load(&store, 0, 5).expect("page");
        assert_eq!(page.total, 250);
        assert_eq!(page.rows.len(), 5);
        let screen = render(&page);
        assert!(screen.contains("Photos (1 of 250)"), "{screen}");
        assert!(screen.contains("Caption 0"), "{screen}");
        assert!(screen.contains("2025-01-01 00:00"), "{screen}");
        assert!(screen.contains("300 KB"), "{screen}");
        assert!(screen.contains("contact-1"), "{screen}");
        let later = PhotosPage::load(&store, 245, 5).expect("last page");
        assert_eq!(later.rows.len(), 5);
        assert_eq!(
            later.selected_row().map(|r| r.id.as_str()),
            Some(later.rows[0].id.as_str())
        );
    }

    #[test]
    fn empty_list_says_how_to_add() {
        let screen = render(&PhotosPage::default());
        assert!(screen.contains("photos add"), "{screen}");
    }
}
