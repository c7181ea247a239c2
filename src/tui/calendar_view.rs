//! The calendar view: month grid, week columns and agenda list, with the event detail pane on
//! wide screens. Widgets over `App` state, like `views.rs`.

use chrono::{Datelike, Duration};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, CalMode};
use super::theme::Theme;
use super::views::{field, fit, split_detail, text};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub(super) fn draw_calendar(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let cal = &app.calendar;
    // Grids need the width: the detail pane joins them only on wide screens.
    let (main, detail) = if cal.mode == CalMode::Agenda || area.width >= 150 {
        split_detail(area)
    } else {
        (area, None)
    };
    let title = match cal.mode {
        CalMode::Month => format!(" {} ", cal.cursor.format("%B %Y")),
        CalMode::Week => format!(
            " Week {} of {} ",
            cal.cursor.iso_week().week(),
            cal.cursor.year()
        ),
        CalMode::Agenda => format!(" Agenda from {} ", cal.cursor.format("%a %e %b %Y")),
    };
    let block = Block::new().title(Span::styled(
        format!("{title}(m month · w week · a agenda · t today)"),
        theme.title(),
    ));
    let inner = block.inner(main);
    f.render_widget(block, main);
    match cal.mode {
        CalMode::Month => draw_month(f, inner, app, theme),
        CalMode::Week => draw_week(f, inner, app, theme),
        CalMode::Agenda => draw_agenda(f, inner, app, theme),
    }
    if let Some(d) = detail {
        let body = match (&cal.detail, cal.selected_entry()) {
            (_, Some(e)) if e.birthday => Text::from(vec![
                Line::styled(e.summary.clone(), theme.title()),
                Line::raw("birthday (from the contact's BDAY)"),
            ]),
            (Some(ev), _) => {
                let v = &ev.data;
                let mut out = vec![Line::styled(text(v, "summary"), theme.title())];
                if let Some(e) = cal.selected_entry() {
                    let when = match (&e.time, &e.end) {
                        (Some(t), Some(end)) => format!("{} {t}–{end}", cal.cursor),
                        (Some(t), None) => format!("{} {t}", cal.cursor),
                        _ => format!("{} (all day)", cal.cursor),
                    };
                    field(&mut out, "when", when, theme);
                }
                field(&mut out, "location", text(v, "location"), theme);
                field(&mut out, "repeats", text(v, "rrule"), theme);
                field(&mut out, "time zone", text(v, "tzid"), theme);
                field(&mut out, "calendar", ev.collection.clone(), theme);
                field(&mut out, "notes", text(v, "description"), theme);
                if let Some((_, lines, total)) = cal
                    .detail_photos
                    .as_ref()
                    .filter(|(uid, _, n)| *uid == ev.uid && *n > 0)
                {
                    field(&mut out, "photos", format!("{total} linked"), theme);
                    for l in lines {
                        out.push(Line::raw(format!("  {l}")));
                    }
                }
                Text::from(out)
            }
            _ => Text::styled(
                format!("{}: nothing selected", cal.cursor.format("%a %e %b")),
                theme.dim(),
            ),
        };
        f.render_widget(
            Paragraph::new(body)
                .wrap(Wrap { trim: false })
                .block(Block::new().borders(Borders::LEFT).title(" Event ")),
            d,
        );
    }
}

fn entry_line(e: &super::app::Entry, width: usize) -> String {
    let t = e
        .time
        .as_deref()
        .unwrap_or(if e.birthday { "🎂" } else { "all" });
    fit(&format!("{t} {}", e.summary), width)
}

/// Height of a month cell (its day line and entries) in a grid `height` rows high.
fn month_row_height(height: u16) -> u16 {
    (height.saturating_sub(1) / 6).max(1)
}

/// Entries a month cell shows on a terminal `height` rows high (tabs, the calendar's title,
/// the message line and the status bar above and below the grid): the loader reads no more
/// for a day the cursor is not on.
pub fn month_cell_entries(height: u16) -> usize {
    month_row_height(height.saturating_sub(4)).saturating_sub(1) as usize
}

fn draw_month(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let cal = &app.calendar;
    let (start, _) = cal.period();
    if area.height < 3 || area.width < 14 {
        return;
    }
    let col_w = area.width / 7;
    let row_h = month_row_height(area.height);
    for (i, name) in WEEKDAYS.iter().enumerate() {
        let r = Rect::new(area.x + i as u16 * col_w, area.y, col_w, 1);
        f.render_widget(
            Paragraph::new(fit(name, col_w as usize)).style(theme.label()),
            r,
        );
    }
    for week in 0..6u16 {
        for wd in 0..7u16 {
            let day = start + Duration::days((week * 7 + wd) as i64);
            let r = Rect::new(
                area.x + wd * col_w,
                area.y + 1 + week * row_h,
                col_w.saturating_sub(1),
                row_h,
            );
            if r.bottom() > area.bottom() {
                continue;
            }
            let mut lines = Vec::new();
            let mut head = Style::new();
            if day.month() != cal.cursor.month() {
                head = theme.dim();
            }
            if day == cal.today {
                head = theme.today();
            }
            if day == cal.cursor {
                head = head.patch(theme.selected());
            }
            let count = cal.days.get(&day).map_or(0, |d| d.count);
            let capped = cal.days.get(&day).is_some_and(|d| d.capped);
            let label = if capped {
                format!("{:>2} ·99+", day.day())
            } else if count > 0 {
                format!("{:>2} ·{count}", day.day())
            } else {
                format!("{:>2}", day.day())
            };
            lines.push(Line::styled(fit(&label, r.width as usize), head));
            if let Some(d) = cal.days.get(&day) {
                let room = (r.height as usize).saturating_sub(1);
                for (i, e) in d.entries.iter().take(room).enumerate() {
                    let mut st = theme.calendar(e.color.as_deref());
                    if day == cal.cursor && i == cal.entry {
                        st = st.patch(theme.selected());
                    }
                    lines.push(Line::styled(entry_line(e, r.width as usize), st));
                }
            }
            f.render_widget(Paragraph::new(lines), r);
        }
    }
}

fn draw_week(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let cal = &app.calendar;
    let (start, _) = cal.period();
    if area.width < 14 || area.height < 2 {
        return;
    }
    let col_w = area.width / 7;
    for wd in 0..7u16 {
        let day = start + Duration::days(wd as i64);
        let r = Rect::new(
            area.x + wd * col_w,
            area.y,
            col_w.saturating_sub(1),
            area.height,
        );
        let mut head = theme.label();
        if day == cal.today {
            head = theme.today();
        }
        if day == cal.cursor {
            head = head.patch(theme.selected());
        }
        let mut lines = vec![Line::styled(
            fit(
                &format!("{} {}", WEEKDAYS[wd as usize], day.format("%e %b")),
                r.width as usize,
            ),
            head,
        )];
        if let Some(d) = cal.days.get(&day) {
            for (i, e) in d.entries.iter().enumerate() {
                let mut st = theme.calendar(e.color.as_deref());
                if day == cal.cursor && i == cal.entry {
                    st = st.patch(theme.selected());
                }
                lines.push(Line::styled(entry_line(e, r.width as usize), st));
            }
            if d.count > d.entries.len() {
                lines.push(Line::styled(
                    format!("+{} more", d.count - d.entries.len()),
                    theme.dim(),
                ));
            }
        }
        f.render_widget(Paragraph::new(lines), r);
    }
}

fn draw_agenda(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let cal = &app.calendar;
    let (start, end) = cal.period();
    let mut lines = Vec::new();
    let w = area.width as usize;
    let mut day = start;
    while day < end && lines.len() < area.height as usize {
        let mut head = theme.label();
        if day == cal.today {
            head = theme.today();
        }
        if day == cal.cursor {
            head = head.patch(theme.selected());
        }
        let d = cal.days.get(&day);
        lines.push(Line::styled(
            fit(&format!("{}", day.format("%A %e %B %Y")), w),
            head,
        ));
        match d {
            Some(d) => {
                for (i, e) in d.entries.iter().enumerate() {
                    let mut st = theme.calendar(e.color.as_deref());
                    if day == cal.cursor && i == cal.entry {
                        st = st.patch(theme.selected());
                    }
                    let when = match (&e.time, &e.end) {
                        (Some(t), Some(end)) => format!("{t}–{end}"),
                        (Some(t), None) => t.clone(),
                        _ if e.birthday => "birthday".into(),
                        _ => "all day".into(),
                    };
                    let loc = if e.location.is_empty() {
                        String::new()
                    } else {
                        format!("  @ {}", e.location)
                    };
                    lines.push(Line::styled(
                        fit(&format!("  {when:<11} {}{loc}", e.summary), w),
                        st,
                    ));
                }
                if d.count > d.entries.len() {
                    let more = d.count - d.entries.len();
                    let plus = if d.capped { "+" } else { "" };
                    lines.push(Line::styled(format!("  +{more}{plus} more"), theme.dim()));
                }
            }
            None => lines.push(Line::styled("  —", theme.dim())),
        }
        day += Duration::days(1);
    }
    f.render_widget(Paragraph::new(lines), area);
}
