//! Views are widgets over `App` state: nothing here reads the store or changes state.

use chrono::{Datelike, NaiveDate};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::app::{App, Overlay, Paged, SyncState, View};
use super::keymap::Action;
use super::theme::Theme;
use crate::store::StoredItem;

/// Draws the whole screen.
pub fn draw(f: &mut Frame<'_>, app: &App, theme: &Theme) {
    let area = f.area();
    let [tabs, body, message, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(f, tabs, app, theme);
    match app.view {
        View::Contacts => draw_contacts(f, body, app, theme),
        View::Calendar => super::calendar_view::draw_calendar(f, body, app, theme),
        View::Todos => draw_todos(f, body, app, theme),
        View::Photos => super::photos::draw_photos(f, body, app, theme),
    }
    draw_message(f, message, app, theme);
    draw_status(f, status, app, theme);
    if let Some(o) = &app.overlay {
        draw_overlay(f, area, app, o, theme);
    }
}

fn draw_tabs(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for (i, v) in View::ALL.iter().enumerate() {
        let label = format!("  {} {}  ", i + 1, v.title());
        let style = if *v == app.view {
            theme.tab_active()
        } else {
            theme.tab()
        };
        spans.push(Span::styled(label, style));
    }
    let help = format!("{} help ", app.keymap.keys_of(Action::Help));
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + help.width());
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(help, theme.dim()));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Cuts `s` to `w` display columns (wide characters counted as two), with an ellipsis.
pub fn fit(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    if w > 0 {
        out.push('…');
    }
    out
}

pub(super) fn text(v: &serde_json::Value, key: &str) -> String {
    match &v[key] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

fn list_title(p: &Paged, what: &str, extra: &str) -> String {
    let filter = if p.query.is_empty() {
        String::new()
    } else {
        format!(" /{}", p.query)
    };
    let plus = if p.more { "+" } else { "" };
    format!(" {what}{extra}{filter} — {}{plus} ", p.total)
}

pub(super) fn split_detail(area: Rect) -> (Rect, Option<Rect>) {
    if area.width >= 90 {
        let [l, r] = Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
            .areas(area);
        (l, Some(r))
    } else {
        (area, None)
    }
}

pub(super) fn flag_mark(i: &StoredItem) -> &'static str {
    if i.flags.has(crate::model::Flags::CONFLICT) {
        "⚠ "
    } else if i.flags.0 != 0 {
        "! "
    } else {
        ""
    }
}

fn draw_contacts(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let (list, detail) = split_detail(area);
    let p = &app.contacts;
    let w = list.width.saturating_sub(2) as usize;
    let widths = [
        Constraint::Percentage(34),
        Constraint::Percentage(22),
        Constraint::Percentage(28),
        Constraint::Percentage(16),
    ];
    let rows: Vec<Row> = p
        .rows
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let style = if p.offset + i == p.selected {
                theme.selected()
            } else {
                Style::new()
            };
            Row::new(vec![
                format!("{}{}", flag_mark(c), text(&c.data, "full_name")),
                text(&c.data, "org"),
                c.data["emails"][0].as_str().unwrap_or("").to_string(),
                c.data["phones"][0].as_str().unwrap_or("").to_string(),
            ])
            .style(style)
        })
        .collect();
    let header = Row::new(vec!["NAME", "ORG", "EMAIL", "PHONE"]).style(theme.label());
    let empty = p.rows.is_empty();
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::new().title(Span::styled(list_title(p, "Contacts", ""), theme.title())));
    f.render_widget(table, list);
    if empty {
        let hint = if p.query.is_empty() {
            "No contacts yet. Press n to add one, or run `holdfast import FILE.vcf`."
        } else {
            "Nothing matches. Esc clears the filter."
        };
        let r = Rect::new(list.x + 1, list.y + 2, list.width.saturating_sub(2), 2);
        f.render_widget(Paragraph::new(fit(hint, w)).style(theme.dim()), r);
    }
    if let Some(d) = detail {
        let body = match p.current() {
            Some(c) => super::panel_views::card_text(c, app.card.as_ref(), theme),
            None => Text::raw(""),
        };
        f.render_widget(
            Paragraph::new(body)
                .wrap(Wrap { trim: false })
                .block(Block::new().borders(Borders::LEFT).title(" Details ")),
            d,
        );
    }
}

pub(super) fn field<'a>(out: &mut Vec<Line<'a>>, label: &'a str, value: String, theme: &Theme) {
    if !value.is_empty() {
        out.push(Line::from(vec![
            Span::styled(format!("{label:<10} "), theme.label()),
            Span::raw(value),
        ]));
    }
}

fn draw_todos(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let (list, detail) = split_detail(area);
    let p = &app.todos;
    let today = app.calendar.today.to_string();
    let rows: Vec<Row> = p
        .rows
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let d = &t.data;
            let status = text(d, "status");
            let done = status == "COMPLETED" || status == "CANCELLED";
            let due = text(d, "due");
            let due_day = due.get(..10).unwrap_or(&due).to_string();
            let overdue = !done && !due_day.is_empty() && due_day < today;
            let mut style = if done {
                theme.done()
            } else if overdue {
                theme.overdue()
            } else {
                Style::new()
            };
            if p.offset + i == p.selected {
                style = style.patch(theme.selected());
            }
            // Subtasks sit under their parent, two columns deeper per level.
            let indent = match p.depths.get(i).copied().unwrap_or(0) {
                0 => String::new(),
                n => format!("{}↳ ", "  ".repeat(n)),
            };
            Row::new(vec![
                if done {
                    "[x]".to_string()
                } else {
                    "[ ]".to_string()
                },
                format!("{indent}{}{}", flag_mark(t), text(d, "summary")),
                due_day,
                match d["priority"].as_u64() {
                    Some(n) if n > 0 => n.to_string(),
                    _ => String::new(),
                },
            ])
            .style(style)
        })
        .collect();
    let header = Row::new(vec!["", "SUMMARY", "DUE", "PRI"]).style(theme.label());
    let extra = format!(" ({}; f changes)", app.todo_filter.label());
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Min(10),
            Constraint::Length(10),
            Constraint::Length(3),
        ],
    )
    .header(header)
    .block(Block::new().title(Span::styled(list_title(p, "To-dos", &extra), theme.title())));
    f.render_widget(table, list);
    if p.rows.is_empty() {
        let r = Rect::new(list.x + 1, list.y + 2, list.width.saturating_sub(2), 1);
        f.render_widget(
            Paragraph::new(fit(
                "Nothing here. n adds a to-do; f shows open / all / today / overdue.",
                r.width as usize,
            ))
            .style(theme.dim()),
            r,
        );
    }
    if let Some(d) = detail {
        let body = match p.current() {
            Some(t) => {
                let v = &t.data;
                let mut out = vec![Line::styled(text(v, "summary"), theme.title())];
                field(&mut out, "status", text(v, "status"), theme);
                field(&mut out, "due", text(v, "due"), theme);
                field(&mut out, "priority", text(v, "priority"), theme);
                field(&mut out, "done %", text(v, "percent_complete"), theme);
                field(&mut out, "completed", text(v, "completed"), theme);
                field(&mut out, "parent", text(v, "parent"), theme);
                field(&mut out, "categories", text(v, "categories"), theme);
                field(&mut out, "notes", text(v, "description"), theme);
                field(&mut out, "collection", t.collection.clone(), theme);
                Text::from(out)
            }
            None => Text::raw(""),
        };
        f.render_widget(
            Paragraph::new(body)
                .wrap(Wrap { trim: false })
                .block(Block::new().borders(Borders::LEFT).title(" Details ")),
            d,
        );
    }
}

fn draw_message(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let line = if app.searching {
        let q = match app.view {
            View::Todos => &app.todos.query,
            View::Photos => &app.photos.query,
            _ => &app.contacts.query,
        };
        Line::from(vec![
            Span::styled("/", theme.label()),
            Span::raw(q.clone()),
            Span::styled("▏", theme.label()),
            Span::styled("  (Enter keeps, Esc clears)", theme.dim()),
        ])
    } else if let Some(m) = &app.message {
        Line::raw(fit(m, area.width as usize))
    } else {
        Line::styled(
            fit(
                "j/k move · / filter · n new · e edit · d delete · u undo · T trash · S sync · q quit",
                area.width as usize,
            ),
            theme.dim(),
        )
    };
    f.render_widget(Paragraph::new(line), area);
}

/// "2 min ago", "just now", "3 h ago".
pub fn ago(now: i64, then: i64) -> String {
    let s = (now - then).max(0);
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

fn draw_status(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    if app.sync.is_empty() {
        spans.push(Span::raw(" local only (no account) "));
    }
    for (name, s) in &app.sync {
        let (text, style) = match s {
            SyncState::Idle => (format!(" {name}: idle "), theme.status()),
            SyncState::Syncing { done, total } => {
                (format!(" {name}: syncing {done}/{total} "), theme.status())
            }
            SyncState::Ok { at } => (
                format!(" {name}: synced {} ", ago(app.now, *at)),
                theme.status(),
            ),
            SyncState::Unreachable { next, .. } => (
                format!(
                    " {name}: offline, retry in {} ",
                    ago(*next, app.now).replace(" ago", "")
                ),
                theme.warn(),
            ),
            SyncState::Failed { reason, .. } => (
                format!(" {name}: failed: {} ", fit(reason, 40)),
                theme.warn(),
            ),
            SyncState::Guard { .. } => (
                format!(" {name}: deletions held back (S to decide) "),
                theme.warn(),
            ),
        };
        spans.push(Span::styled(text, style));
        // The photos folder is synced beside the collections and can fail on its own.
        if let Some(note) = app.photo_sync.get(name) {
            spans.push(Span::styled(format!("· {} ", fit(note, 40)), theme.warn()));
        }
        spans.push(Span::raw(" "));
    }
    if app.pending_changes > 0 {
        spans.push(Span::styled(
            format!(" {} not yet on the server ", app.pending_changes),
            theme.status(),
        ));
        spans.push(Span::raw(" "));
    }
    if app.flagged > 0 {
        spans.push(Span::styled(
            format!(" {} flagged (C) ", app.flagged),
            theme.warn(),
        ));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status()),
        area,
    );
}

pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn draw_overlay(f: &mut Frame<'_>, area: Rect, app: &App, o: &Overlay, theme: &Theme) {
    match o {
        Overlay::Help { scroll } => {
            let entries: Vec<Line> = Action::ALL
                .iter()
                .map(|a| {
                    Line::from(vec![
                        Span::styled(format!("{:<17} ", app.keymap.keys_of(*a)), theme.label()),
                        Span::raw(a.help()),
                    ])
                })
                .collect();
            // One column when it fits, else two side by side.
            let room = area.height.saturating_sub(4) as usize;
            let widest = entries.iter().map(|l| l.width()).max().unwrap_or(40) as u16 + 2;
            let columns = if entries.len() <= room || area.width < widest * 2 + 2 {
                1
            } else {
                2
            };
            let per = entries.len().div_ceil(columns);
            let width = (widest * columns as u16 + 2).min(area.width);
            let r = centered(area, width, per as u16 + 4);
            f.render_widget(Clear, r);
            let block = Block::bordered()
                .title(" Help · j/k scroll · Esc closes · keys: [keys] in config.toml ");
            let inner = block.inner(r);
            f.render_widget(block, r);
            let cols = Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns])
                .split(inner);
            for (i, chunk) in entries.chunks(per.max(1)).enumerate() {
                if let Some(c) = cols.get(i) {
                    // Short screens scroll with j/k.
                    let max = (chunk.len() as u16).saturating_sub(c.height);
                    f.render_widget(
                        Paragraph::new(chunk.to_vec()).scroll(((*scroll).min(max), 0)),
                        *c,
                    );
                }
            }
        }
        Overlay::Items {
            title,
            items,
            selected,
            ..
        } => {
            let r = centered(
                area,
                area.width.saturating_sub(8),
                area.height.saturating_sub(4),
            );
            let mut lines = Vec::new();
            if items.is_empty() {
                lines.push(Line::styled("empty", theme.dim()));
            }
            let room = r.height.saturating_sub(2) as usize;
            let first = selected.saturating_sub(room.saturating_sub(1));
            for (i, it) in items.iter().enumerate().skip(first).take(room) {
                let name = item_name(it);
                let st = if i == *selected {
                    theme.selected()
                } else {
                    Style::new()
                };
                lines.push(Line::styled(
                    fit(
                        &format!(
                            "{:<8} {} {}  [{}]",
                            it.kind.as_str(),
                            flag_mark(it),
                            name,
                            it.collection
                        ),
                        r.width.saturating_sub(2) as usize,
                    ),
                    st,
                ));
            }
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines)
                    .block(Block::bordered().title(format!(" {title} · Esc closes "))),
                r,
            );
        }
        Overlay::History {
            item,
            revisions,
            selected,
        } => {
            let r = centered(
                area,
                area.width.saturating_sub(6),
                area.height.saturating_sub(2),
            );
            let [list, body] = Layout::vertical([
                Constraint::Length(8.min(revisions.len() as u16 + 2)),
                Constraint::Min(1),
            ])
            .areas(r);
            let lines: Vec<Line> = revisions
                .iter()
                .enumerate()
                .map(|(i, rv)| {
                    let current = if rv.rev == item.rev {
                        "  (current)"
                    } else {
                        ""
                    };
                    let st = if i == *selected {
                        theme.selected()
                    } else {
                        Style::new()
                    };
                    Line::styled(
                        format!(
                            "rev {:<3} {}  {}{}{}",
                            rv.rev,
                            rv.time,
                            rv.origin,
                            if rv.deleted { "  (in trash)" } else { "" },
                            current
                        ),
                        st,
                    )
                })
                .collect();
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(format!(
                    " History of {} · Enter reverts to it · Esc closes ",
                    item.uid
                ))),
                list,
            );
            let text = revisions
                .get(*selected)
                .map(|r| r.text.replace('\r', ""))
                .unwrap_or_default();
            f.render_widget(
                Paragraph::new(text).block(Block::bordered().title(" Text ")),
                body,
            );
        }
        Overlay::Guard {
            account,
            text,
            selected,
        } => {
            let choices = [
                "Restore the server from my copy (upload what it lost)",
                "Accept the deletions (they go to the trash; undelete any time)",
                "Decide later (nothing is removed)",
            ];
            let mut lines = vec![
                Line::styled(
                    format!("The server of “{account}” removed items; nothing was deleted here."),
                    theme.warn(),
                ),
                Line::raw(""),
            ];
            for l in text.lines() {
                lines.push(Line::raw(l.to_string()));
            }
            lines.push(Line::raw(""));
            for (i, c) in choices.iter().enumerate() {
                let st = if i == *selected {
                    theme.selected()
                } else {
                    Style::new()
                };
                lines.push(Line::styled(format!("  {c}"), st));
            }
            lines.push(Line::styled("j/k choose · Enter confirm", theme.dim()));
            // Height after wrapping, so the choices are never cut off on a small screen.
            let w = 76.min(area.width);
            let inner = w.saturating_sub(2).max(1) as usize;
            let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
            let r = centered(area, w, rows as u16 + 2);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(Block::bordered().title(" Deletion guard ")),
                r,
            );
        }
        Overlay::Conflicts(p) => super::panel_views::draw_conflicts(f, area, app, p, theme),
        Overlay::Search(p) => super::panel_views::draw_search(f, area, p, theme),
        Overlay::Link(p) => super::link::draw(f, area, p, theme),
        Overlay::Card => super::panel_views::draw_card(f, area, app, theme),
        Overlay::Form(form) => super::form::draw(f, area, form, theme),
    }
}

/// An item's name as lists show it: a contact's full name, else the summary.
pub(super) fn item_name(it: &StoredItem) -> String {
    match it.kind {
        crate::model::Kind::Contact => text(&it.data, "full_name"),
        _ => text(&it.data, "summary"),
    }
}

/// Month day helper for tests.
pub fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}
