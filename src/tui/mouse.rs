//! The mouse: a click on the tab bar switches views, on a list row selects it, on a day of the
//! month or week grid selects that day (and the entry clicked); the wheel scrolls whatever is
//! on top (an overlay's list, else the view). Pure like `App::update`: the geometry here
//! mirrors the layout `views.rs` draws.

use chrono::Duration;
use ratatui::crossterm::event::{MouseEvent, MouseEventKind};

use super::app::{App, CalMode, Effect, Overlay, View};
use super::keymap::Action;

/// First screen row of a list's rows: the tabs, the list's title and its header come first.
const FIRST_ROW: u16 = 3;

impl App {
    pub(crate) fn mouse_event(&mut self, m: MouseEvent) -> Vec<Effect> {
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let a = if m.kind == MouseEventKind::ScrollDown {
                    Action::Down
                } else {
                    Action::Up
                };
                match &mut self.overlay {
                    Some(Overlay::Search(p)) => {
                        let n = p.len();
                        p.selected = if a == Action::Down {
                            (p.selected + 1).min(n.saturating_sub(1))
                        } else {
                            p.selected.saturating_sub(1)
                        };
                        Vec::new()
                    }
                    Some(Overlay::Form(_)) => Vec::new(),
                    Some(_) => self.overlay_key_action(a),
                    None => self.action(a),
                }
            }
            MouseEventKind::Down(_) if self.overlay.is_none() => self.click(m.column, m.row),
            _ => Vec::new(),
        }
    }

    fn click(&mut self, col: u16, row: u16) -> Vec<Effect> {
        if row == 0 {
            // "  1 Contacts  " and so on: each tab is its title and six columns.
            let mut x = 0u16;
            for v in View::ALL {
                let w = v.title().chars().count() as u16 + 6;
                if col < x + w {
                    return self.switch_view(v);
                }
                x += w;
            }
            return Vec::new();
        }
        let (width, height) = self.size;
        match self.view {
            View::Contacts | View::Todos | View::Photos => {
                // The detail pane (wide screens; photos from 60 columns) takes the right 42%.
                let split = if self.view == View::Photos { 60 } else { 90 };
                if width >= split && col >= list_width(width) {
                    return Vec::new();
                }
                if row < FIRST_ROW || row >= height.saturating_sub(2) {
                    return Vec::new();
                }
                let p = match self.view {
                    View::Todos => &mut self.todos,
                    View::Photos => &mut self.photos,
                    _ => &mut self.contacts,
                };
                let target = p.offset + (row - FIRST_ROW) as usize;
                if target >= p.total.min(p.offset + p.rows.len()) {
                    return Vec::new();
                }
                // The row is on screen and loaded: nothing to read.
                p.selected = target;
                Vec::new()
            }
            View::Calendar => self.calendar_click(col, row),
        }
    }

    fn calendar_click(&mut self, col: u16, row: u16) -> Vec<Effect> {
        let (width, height) = self.size;
        let main_w = if self.calendar.mode == CalMode::Agenda || width >= 150 {
            if width >= 90 {
                list_width(width)
            } else {
                width
            }
        } else {
            width
        };
        if col >= main_w {
            return Vec::new();
        }
        // Tabs, the calendar's title; the message line and the status bar below.
        let (top, inner_h) = (2u16, height.saturating_sub(4));
        let col_w = (main_w / 7).max(1);
        let wd = col / col_w;
        if wd >= 7 || row < top {
            return Vec::new();
        }
        let (start, _) = self.calendar.period();
        let (day, line) = match self.calendar.mode {
            CalMode::Month => {
                // A row of weekday names, then six weeks.
                let row_h = (inner_h.saturating_sub(1) / 6).max(1);
                if row < top + 1 {
                    return Vec::new();
                }
                let week = (row - top - 1) / row_h;
                if week >= 6 {
                    return Vec::new();
                }
                (
                    start + Duration::days((week * 7 + wd) as i64),
                    (row - top - 1) % row_h,
                )
            }
            CalMode::Week => (start + Duration::days(wd as i64), row - top),
            CalMode::Agenda => match self.agenda_line(row - top) {
                Some(hit) => hit,
                None => return Vec::new(),
            },
        };
        let entries = self.calendar.days.get(&day).map_or(0, |d| d.entries.len());
        let (from, to) = self.calendar.period();
        self.calendar.cursor = day;
        // The first line of a day is its date; the entries follow.
        self.calendar.entry = (line as usize)
            .checked_sub(1)
            .filter(|i| *i < entries)
            .unwrap_or(0);
        self.calendar.detail = None;
        if day < from || day >= to {
            vec![Effect::LoadCalendar]
        } else {
            self.calendar_detail()
        }
    }
}

impl App {
    /// The day and line within it (0: the day's heading) of agenda line `n`, laid out as
    /// `calendar_view::draw_agenda` draws it: a heading, the entries, a "+N more" or "—" line.
    fn agenda_line(&self, n: u16) -> Option<(chrono::NaiveDate, u16)> {
        let (start, end) = self.calendar.period();
        let mut day = start;
        let mut y = 0u16;
        while day < end {
            let lines = match self.calendar.days.get(&day) {
                Some(d) => 1 + d.entries.len() + usize::from(d.count > d.entries.len()),
                None => 2,
            } as u16;
            if n < y + lines {
                return Some((day, n - y));
            }
            y += lines;
            day += Duration::days(1);
        }
        None
    }
}

/// Width of a list beside the detail pane (58%, as `views::split_detail` lays it out).
fn list_width(width: u16) -> u16 {
    ((width as u32 * 58).div_ceil(100)) as u16
}
