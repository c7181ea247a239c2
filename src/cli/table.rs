//! Aligned plain-text tables for human output.

pub use crate::format::width::width;

/// Formats rows under headers, columns padded to their widest cell (by display width, so CJK
/// and accented names line up). The last column is not padded.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let n = headers.len();
    let last = n.saturating_sub(1);
    // Each cell's width is measured once (the last column is never padded, so never measured).
    let measure = |cells: &mut dyn Iterator<Item = &str>| -> Vec<usize> {
        cells.take(last).map(width).collect::<Vec<_>>()
    };
    let head_w = measure(&mut headers.iter().copied());
    let row_w: Vec<Vec<usize>> = rows
        .iter()
        .map(|r| measure(&mut r.iter().map(String::as_str)))
        .collect();
    let mut widths = head_w.clone();
    let mut bytes = 0;
    for (r, w) in rows.iter().zip(&row_w) {
        for (i, cw) in w.iter().enumerate() {
            widths[i] = widths[i].max(*cw);
        }
        bytes += r.iter().map(|c| c.len() + 2).sum::<usize>();
    }
    let mut out = String::with_capacity(bytes + rows.len() * widths.iter().sum::<usize>() / 2);
    let mut line = |cells: &mut dyn Iterator<Item = &str>, w: &[usize]| {
        let start = out.len();
        let mut pad = 0;
        for (i, c) in cells.enumerate() {
            // Padding is written lazily, so trailing blanks never reach the line's end; an empty
            // cell writes nothing and its pad carries over to the next non-empty cell.
            if i > 0 && !c.is_empty() {
                push_spaces(&mut out, pad);
                pad = 0;
            }
            out.push_str(c);
            if i < last {
                pad += widths[i].saturating_sub(w.get(i).copied().unwrap_or(0)) + 2;
            }
        }
        let trimmed = out[start..].trim_end().len();
        out.truncate(start + trimmed);
        out.push('\n');
    };
    line(&mut headers.iter().copied(), &head_w);
    for (r, w) in rows.iter().zip(&row_w) {
        line(&mut r.iter().map(String::as_str), w);
    }
    out
}

/// Appends one row to `out` with the columns padded to `widths` (one per column but the last,
/// which is never padded). For lists streamed in two passes: widths first, then rows.
pub fn push_row(out: &mut String, cells: &[&str], widths: &[usize]) {
    push_measured_row(out, cells, |_, c| width(c), widths);
}

/// `push_row` for cells whose display widths are already known (`cell_width(i, cell)`), so a
/// long list measures each cell once.
pub fn push_measured_row(
    out: &mut String,
    cells: &[&str],
    cell_width: impl Fn(usize, &str) -> usize,
    widths: &[usize],
) {
    let start = out.len();
    let mut pad = 0;
    for (i, c) in cells.iter().enumerate() {
        if i > 0 && !c.is_empty() {
            push_spaces(out, pad);
            pad = 0;
        }
        out.push_str(c);
        if let Some(w) = widths.get(i) {
            pad += w.saturating_sub(cell_width(i, c)) + 2;
        }
    }
    let trimmed = out[start..].trim_end().len();
    out.truncate(start + trimmed);
    out.push('\n');
}

/// Appends `n` spaces.
pub fn push_spaces(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        left -= k;
    }
}

pub fn print(headers: &[&str], rows: &[Vec<String>]) {
    super::emit(&render(headers, rows));
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_align_by_display_width() {
        let t = super::render(
            &["NAME", "ORG"],
            &[
                vec!["山田 明".into(), "x".into()],
                vec!["Ann".into(), "y".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[1], "山田 明  x");
        assert_eq!(lines[2], "Ann      y");
    }
}
