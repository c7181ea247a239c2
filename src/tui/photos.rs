//! The Photos view's list: one page of photo references (date, size, pixels, caption, links)
//! read from SQL with LIMIT/OFFSET, so the first frame costs the same with 10 or 10,000 photos.
//!
//! `PhotosPage::load` reads the store (call it where the app runs its effects); `PhotosList`
//! only draws. Not wired into `App` yet: the integrator adds the page to the app state, loads
//! it when the view opens or the selection leaves the page, and renders `PhotosList` in place
//! of the placeholder in `views::draw_photos`.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Widget};

use super::theme::Theme;
use crate::model::Kind;
use crate::store::{Filter, Store, StoredPhoto};

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
        let p = &sp.photo;
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
            flagged: sp.item.flags.0 != 0,
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
}

impl Widget for PhotosList<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let title = format!(
            " Photos ({} of {}) ",
            if self.page.total == 0 {
                0
            } else {
                self.page.selected + 1
            },
            self.page.total
        );
        let block = Block::new()
            .borders(Borders::TOP)
            .title(Line::styled(title, t.title()));
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
        let header =
            Row::new(["TAKEN/ADDED", "SIZE", "PIXELS", "CAPTION", "LINKS"]).style(t.label());
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
            let row = Row::new([
                r.date.clone(),
                r.size.clone(),
                r.pixels.clone(),
                caption,
                links,
            ]);
            if self.page.offset + i == self.page.selected {
                row.style(t.selected())
            } else {
                row
            }
        });
        Table::new(
            rows,
            [
                Constraint::Length(16),
                Constraint::Length(8),
                Constraint::Length(11),
                Constraint::Fill(2),
                Constraint::Fill(1),
            ],
        )
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
