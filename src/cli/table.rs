//! Aligned plain-text tables for human output.

use unicode_width::UnicodeWidthStr;

/// Formats rows under headers, columns padded to their widest cell (by display width, so CJK
/// and accented names line up). The last column is not padded.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let n = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            widths[i] = widths[i].max(c.width());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i].saturating_sub(c.width()) + 2));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
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
