//! Drawing of the review panels (conflicts), global search and the contact card. Widgets over
//! `App` state like `views.rs`: nothing here reads the store or changes state.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::app::App;
use super::keymap::Action;
use super::panels::{Card, ConflictPanel};
use super::search::SearchPanel;
use super::theme::Theme;
use super::views::{centered, fit, flag_mark, item_name};
use crate::format::vcard::LabelledField;
use crate::model::{Flags, Kind};
use crate::store::StoredItem;

fn keys(app: &App, a: Action) -> String {
    app.keymap.keys_of(a)
}

/// The conflicts panel: the flagged items on the left (on top when narrow), the selected one's
/// two sides compared property by property on the right.
pub fn draw_conflicts(f: &mut Frame<'_>, area: Rect, app: &App, p: &ConflictPanel, theme: &Theme) {
    let r = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    let (mine, server, history) = (
        keys(app, Action::KeepMine),
        keys(app, Action::TakeServer),
        keys(app, Action::History),
    );
    let title = if r.width >= 90 {
        format!(
            " Conflicts & flagged ({}) · {mine} keep mine · {server} take server's · {history} history · Esc ",
            p.items.len()
        )
    } else {
        format!(
            " Conflicts ({}) · {mine} mine · {server} server's · {history} history ",
            p.items.len()
        )
    };
    let block = Block::bordered().title(title);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let (list, detail) = if inner.width >= 100 {
        let [l, d] = Layout::horizontal([Constraint::Percentage(35), Constraint::Percentage(65)])
            .areas(inner);
        (l, d)
    } else {
        let rows = (p.items.len() as u16 + 1).clamp(2, inner.height / 3 + 1);
        let [l, d] = Layout::vertical([Constraint::Length(rows), Constraint::Min(1)]).areas(inner);
        (l, d)
    };
    let w = list.width as usize;
    let room = list.height as usize;
    let first = p.selected.saturating_sub(room.saturating_sub(1));
    let mut lines = Vec::new();
    if p.items.is_empty() {
        lines.push(Line::styled("No conflicts, nothing flagged.", theme.dim()));
    }
    for (i, it) in p.items.iter().enumerate().skip(first).take(room) {
        let st = if i == p.selected {
            theme.selected()
        } else {
            Style::new()
        };
        lines.push(Line::styled(
            fit(
                &format!("{}{:<7} {}", flag_mark(it), it.kind.as_str(), item_name(it)),
                w,
            ),
            st,
        ));
    }
    f.render_widget(Paragraph::new(lines), list);
    let body = match (p.current(), &p.detail) {
        (Some(it), Some(d)) if d.id == it.id => conflict_text(it, d, detail.width, theme),
        (Some(_), _) => Text::styled("loading…", theme.dim()),
        _ => Text::raw(""),
    };
    let border = if inner.width >= 100 {
        Borders::LEFT
    } else {
        Borders::TOP
    };
    f.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .block(Block::new().borders(border)),
        detail,
    );
}

fn conflict_text<'a>(
    it: &StoredItem,
    d: &super::panels::ConflictDetail,
    width: u16,
    theme: &Theme,
) -> Text<'a> {
    let mut out = vec![Line::styled(
        format!("{} [{}]", item_name(it), it.collection),
        theme.title().add_modifier(Modifier::BOLD),
    )];
    if !it.flags.has(Flags::CONFLICT) {
        out.push(Line::styled(
            format!("flagged {}: kept verbatim", it.flags.names().join(", ")),
            theme.warn(),
        ));
        for p in &d.problems {
            out.push(Line::raw(p.clone()));
        }
        out.push(Line::styled(
            "e edits the text; R shows its history",
            theme.dim(),
        ));
        return Text::from(out);
    }
    match &d.remote {
        None => out.push(Line::styled(
            "The server's version is not in the history (M clears the flag).",
            theme.dim(),
        )),
        Some((rev, at)) => {
            out.push(Line::styled(
                format!(
                    "yours: current (rev {}) · server's: rev {rev}, {at}",
                    it.rev
                ),
                theme.dim(),
            ));
            if d.diff.is_empty() {
                out.push(Line::raw("The two versions differ only in timestamps."));
            }
            let w = (width as usize).saturating_sub(8).max(8);
            for p in &d.diff {
                out.push(Line::styled(p.name.clone(), theme.label()));
                // Only the lines one side has; the ones both have are counted.
                let mine: Vec<&String> = p.local.iter().filter(|l| !p.remote.contains(l)).collect();
                let theirs: Vec<&String> =
                    p.remote.iter().filter(|l| !p.local.contains(l)).collect();
                let same = p.local.len() - mine.len();
                let side = |out: &mut Vec<Line<'a>>, tag: &str, lines: &[&String], st: Style| {
                    if lines.is_empty() {
                        out.push(Line::styled(format!("  {tag} (none)"), st));
                    }
                    for l in lines {
                        out.push(Line::styled(format!("  {tag} {}", fit(l, w)), st));
                    }
                };
                side(&mut out, "mine  ", &mine, Style::new());
                side(&mut out, "server", &theirs, theme.warn());
                if same > 0 {
                    out.push(Line::styled(
                        format!("  ({same} more the same on both)"),
                        theme.dim(),
                    ));
                }
            }
        }
    }
    Text::from(out)
}

/// The global search box and its hits, grouped by kind.
pub fn draw_search(f: &mut Frame<'_>, area: Rect, p: &SearchPanel, theme: &Theme) {
    let w = area.width.saturating_sub(4).min(100);
    let r = centered(area, w, area.height.saturating_sub(2));
    f.render_widget(Clear, r);
    let block =
        Block::bordered().title(" Search everything · ↑/↓ choose · Enter jump · Esc close ");
    let inner = block.inner(r);
    f.render_widget(block, r);
    let [input, list] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled("search: ", theme.label()),
                Span::raw(p.query.clone()),
                Span::styled("▏", theme.label()),
            ]),
            Line::styled(
                fit(
                    "names, emails, phones, summaries, notes; accents ignored",
                    input.width as usize,
                ),
                theme.dim(),
            ),
        ]),
        input,
    );
    let width = list.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_line = 0;
    let mut index = 0;
    for g in &p.groups {
        let label = match g.kind {
            Kind::Contact => "Contacts",
            Kind::Event => "Events",
            Kind::Todo => "To-dos",
            Kind::Journal => "Journal",
            Kind::Photo => "Photos",
        };
        let plus = if g.more { "+" } else { "" };
        let shown = if g.total > g.rows.len() {
            format!(" (first {} of {}{plus})", g.rows.len(), g.total)
        } else {
            format!(" ({})", g.total)
        };
        lines.push(Line::styled(format!("{label}{shown}"), theme.title()));
        for it in &g.rows {
            let st = if index == p.selected {
                selected_line = lines.len();
                theme.selected()
            } else {
                Style::new()
            };
            lines.push(Line::styled(fit(&format!("  {}", hit_line(it)), width), st));
            index += 1;
        }
    }
    if p.groups.iter().any(|g| g.more) {
        lines.push(Line::styled(
            fit("More match than are shown: type more to narrow.", width),
            theme.dim(),
        ));
    }
    if lines.is_empty() {
        let hint = if p.query.trim().is_empty() {
            "Type to search contacts, events and to-dos."
        } else if p.shown_for != p.query {
            "searching…"
        } else {
            "Nothing matches."
        };
        lines.push(Line::styled(hint, theme.dim()));
    }
    // Scroll so the selected hit stays on screen.
    let room = list.height as usize;
    let scroll = (selected_line + 1).saturating_sub(room);
    f.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), list);
}

fn hit_line(it: &StoredItem) -> String {
    let d = &it.data;
    let s = |k: &str| d[k].as_str().unwrap_or("").to_string();
    match it.kind {
        Kind::Contact => {
            let mut extra: Vec<String> = Vec::new();
            if let Some(e) = d["emails"][0].as_str() {
                extra.push(e.to_string());
            }
            if let Some(o) = d["org"].as_str() {
                extra.push(o.to_string());
            }
            if extra.is_empty() {
                s("full_name")
            } else {
                format!("{}  · {}", s("full_name"), extra.join(" · "))
            }
        }
        Kind::Event => {
            let when = s("start");
            let when = when.get(..16).unwrap_or(&when).replace('T', " ");
            format!("{when}  {}", s("summary"))
        }
        _ => {
            let status = s("status");
            let done = status == "COMPLETED" || status == "CANCELLED";
            let due = s("due");
            let due = due.get(..10).unwrap_or(&due).to_string();
            format!(
                "[{}] {}{}",
                if done { "x" } else { " " },
                s("summary"),
                if due.is_empty() {
                    String::new()
                } else {
                    format!("  due {due}")
                }
            )
        }
    }
}

/// A contact's card: every labelled field (emails, phones, addresses with their types …).
pub fn card_text<'a>(c: &StoredItem, card: Option<&Card>, theme: &Theme) -> Text<'a> {
    let mut out = vec![Line::styled(
        item_name(c),
        theme.title().add_modifier(Modifier::BOLD),
    )];
    let Some(card) = card.filter(|k| k.id == c.id && !k.loading) else {
        out.push(Line::styled("…", theme.dim()));
        return Text::from(out);
    };
    // A card calcard cannot read: what the list knows of it (kept verbatim, flagged).
    let fallback: Vec<LabelledField>;
    let fields = if card.fields.is_empty() {
        let d = &c.data;
        let mut v = Vec::new();
        for (field, key) in [
            ("org", "org"),
            ("email", "emails"),
            ("phone", "phones"),
            ("address", "addresses"),
            ("note", "note"),
        ] {
            let values: Vec<String> = match &d[key] {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .map(String::from)
                    .collect(),
                serde_json::Value::String(x) => vec![x.clone()],
                _ => Vec::new(),
            };
            for value in values {
                v.push(LabelledField {
                    field,
                    label: String::new(),
                    value,
                });
            }
        }
        fallback = v;
        &fallback
    } else {
        &card.fields
    };
    // Label column as wide as the widest "field (label)" up to a limit.
    let heads: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.label.is_empty() {
                f.field.to_string()
            } else {
                format!("{} ({})", f.field, f.label)
            }
        })
        .collect();
    let w = heads.iter().map(|h| h.width()).max().unwrap_or(8).min(22);
    let mut photos = 0;
    for (field, head) in fields.iter().zip(heads) {
        if field.field == "photo" {
            photos += 1;
        }
        let head = fit(&head, w);
        let pad = w.saturating_sub(head.width());
        for (i, part) in field.value.split('\n').enumerate() {
            let label = if i == 0 {
                format!("{head}{} ", " ".repeat(pad))
            } else {
                " ".repeat(w + 1)
            };
            out.push(Line::from(vec![
                Span::styled(label, theme.label()),
                Span::raw(part.to_string()),
            ]));
        }
    }
    if photos > 0 {
        out.push(Line::styled(
            format!("{photos} photo(s) in the card"),
            theme.dim(),
        ));
    }
    if card.photos_total > 0 {
        out.push(Line::from(vec![
            Span::styled(format!("{:<w$} ", "photos"), theme.label()),
            Span::raw(format!("{} linked", card.photos_total)),
        ]));
        for p in &card.photos {
            out.push(Line::raw(format!("{:<w$} {p}", "")));
        }
    }
    out.push(Line::from(vec![
        Span::styled(format!("{:<w$} ", "collection"), theme.label()),
        Span::raw(c.collection.clone()),
    ]));
    if c.flags.0 != 0 {
        out.push(Line::styled(
            format!("flagged: {} (C reviews)", c.flags.names().join(", ")),
            theme.warn(),
        ));
    }
    Text::from(out)
}

/// The card as an overlay (Enter on a contact; narrow screens have no detail pane).
pub fn draw_card(f: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let Some(c) = app.contacts.current() else {
        return;
    };
    let r = centered(
        area,
        area.width.saturating_sub(4).min(90),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(card_text(c, app.card.as_ref(), theme))
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Contact · Esc closes ")),
        r,
    );
}
