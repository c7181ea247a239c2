//! Drawing a form: one line per field (label, value; a row's type in brackets), an error under
//! its field, the focused field's hint and the keys at the bottom. Fields scroll when the
//! screen is short; the terminal cursor sits in the focused field.

use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::{hint, Form, Stage};
use crate::tui::theme::Theme;

/// Columns of the label (right-aligned) before ": ".
const LABEL: usize = 12;

/// The widest a form gets: wider screens leave it centred.
const MAX_WIDTH: u16 = 78;

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Clears `r`, and a wide character just left of it whose second half `r` would cover (the
/// terminal would otherwise show half a character, or shift the border).
fn clear(f: &mut Frame<'_>, r: Rect) {
    f.render_widget(Clear, r);
    if r.x == 0 {
        return;
    }
    let buf = f.buffer_mut();
    for y in r.y..r.y + r.height {
        if let Some(c) = buf.cell_mut(Position::new(r.x - 1, y)) {
            if c.symbol().width() > 1 {
                c.set_symbol(" ");
            }
        }
    }
}

fn pad_label(label: &str) -> String {
    let w = label.width();
    format!("{}{label}: ", " ".repeat(LABEL.saturating_sub(w)))
}

pub fn draw(f: &mut Frame<'_>, area: Rect, form: &Form, theme: &Theme) {
    if let Stage::Scope(s) = &form.stage {
        draw_scope(f, area, s, theme);
        return;
    }
    let width = area.width.saturating_sub(2).clamp(20, MAX_WIDTH);
    let inner_w = width.saturating_sub(2) as usize;
    let value_w = inner_w.saturating_sub(LABEL + 2).max(4);
    // Field lines, each with the field it belongs to (errors take a line under their field).
    let mut lines: Vec<(Line<'static>, usize)> = Vec::new();
    let mut cursor: Option<(usize, u16)> = None;
    for (i, fl) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if focused {
            theme.selected()
        } else {
            theme.label()
        };
        let mut spans = vec![Span::styled(pad_label(fl.label), label_style)];
        let mut used = 0;
        if fl.is_row() {
            let t = format!("[{}] ", fl.type_name());
            used = t.width();
            spans.push(Span::styled(t, theme.dim()));
        }
        let room = value_w.saturating_sub(used).max(1);
        if !fl.choices.is_empty() {
            spans.push(Span::styled(
                format!("◂ {} ▸", fl.value()),
                if focused {
                    theme.selected()
                } else {
                    Style::new()
                },
            ));
        } else if focused {
            let (shown, col) = fl.input.view(room);
            cursor = Some((lines.len(), (LABEL + 2 + used + col) as u16));
            spans.push(Span::raw(shown));
        } else {
            let (shown, _) = {
                let mut start = fl.input.clone();
                start.home();
                start.view(room)
            };
            spans.push(Span::raw(shown));
        }
        lines.push((Line::from(spans), i));
        if let Some(e) = &fl.error {
            lines.push((
                Line::styled(format!("{}↳ {e}", " ".repeat(LABEL + 2)), theme.warn()),
                i,
            ));
        }
    }
    // Below the fields: the form's error, the focused field's hint, the keys.
    let mut foot: Vec<Line<'static>> = Vec::new();
    if let Some(e) = &form.error {
        foot.push(Line::styled(e.clone(), theme.warn()));
    }
    let focused = form.fields.get(form.focus);
    let h = focused.map(hint).unwrap_or("");
    if !h.is_empty() {
        foot.push(Line::styled(h.to_string(), theme.dim()));
    }
    let keys = match focused {
        Some(fl) if fl.is_row() => "Ctrl-N add · Ctrl-D remove · Ctrl-T type · Ctrl-S save",
        Some(fl) if !fl.choices.is_empty() => "←/→ change · Tab/↑↓ move · Ctrl-S save · Esc",
        _ => "Tab/↑↓ move · Ctrl-S save · Esc cancel",
    };
    foot.push(Line::styled(keys.to_string(), theme.dim()));
    // Lines the foot takes once wrapped.
    let foot_rows: usize = foot
        .iter()
        .map(|l| l.width().div_ceil(inner_w.max(1)).max(1))
        .sum();
    // Height: everything when it fits, else the fields scroll around the focus.
    let wanted = (lines.len() + foot_rows + 2) as u16;
    let r = centered(area, width, wanted.min(area.height));
    let room = (r.height as usize).saturating_sub(2 + foot_rows).max(1);
    let first_focus = lines
        .iter()
        .position(|(_, i)| *i == form.focus)
        .unwrap_or(0);
    let last_focus = lines
        .iter()
        .rposition(|(_, i)| *i == form.focus)
        .unwrap_or(0);
    let offset = if last_focus < room {
        0
    } else {
        (last_focus + 1 - room).min(first_focus)
    };
    let shown: Vec<Line<'static>> = lines
        .iter()
        .skip(offset)
        .take(room)
        .map(|(l, _)| l.clone())
        .collect();
    let more_above = offset > 0;
    let more_below = offset + room < lines.len();
    let mut block = Block::bordered().title(form.title());
    if more_above || more_below {
        let arrows = match (more_above, more_below) {
            (true, true) => " ↑↓ more ",
            (true, false) => " ↑ more ",
            _ => " ↓ more ",
        };
        block = block.title_bottom(Line::from(arrows).right_aligned());
    }
    let inner = block.inner(r);
    clear(f, r);
    f.render_widget(block, r);
    let body_h = (shown.len() as u16).min(inner.height);
    f.render_widget(
        Paragraph::new(shown),
        Rect::new(inner.x, inner.y, inner.width, body_h),
    );
    let foot_h = inner.height.saturating_sub(body_h);
    if foot_h > 0 {
        let y = inner.y + inner.height - (foot_rows as u16).min(foot_h);
        f.render_widget(
            Paragraph::new(foot).wrap(Wrap { trim: false }),
            Rect::new(inner.x, y, inner.width, inner.y + inner.height - y),
        );
    }
    if let (Stage::Editing, Some((line, col))) = (&form.stage, cursor) {
        if line >= offset && line < offset + room {
            let x = inner.x + col.min(inner.width.saturating_sub(1));
            f.set_cursor_position(Position::new(x, inner.y + (line - offset) as u16));
        }
    }
    if let Stage::Discard = form.stage {
        let lines = vec![
            Line::styled("Discard what you typed?", theme.warn()),
            Line::raw(""),
            Line::raw("y  discard and close"),
            Line::raw("n  keep editing"),
        ];
        let d = centered(area, 40, 6);
        clear(f, d);
        f.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Unsaved changes ")),
            d,
        );
    }
}

fn draw_scope(f: &mut Frame<'_>, area: Rect, s: &super::Scope, theme: &Theme) {
    let selected = s.selected;
    let choices = [
        format!("o  only this one ({})", s.occurrence.start),
        "s  the whole series".to_string(),
    ];
    let mut lines = vec![
        Line::raw(format!("“{}” repeats. Change", s.series.summary)),
        Line::raw(""),
    ];
    for (i, c) in choices.iter().enumerate() {
        let st = if i == selected {
            theme.selected()
        } else {
            Style::new()
        };
        lines.push(Line::styled(format!("  {c}"), st));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "j/k choose · Enter confirm · Esc cancel",
        theme.dim(),
    ));
    let r = centered(area, 46, lines.len() as u16 + 2);
    clear(f, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Edit a repeating event ")),
        r,
    );
}
