//! Aligned plain-text tables for human output.

use unicode_width::UnicodeWidthStr;

/// Formats rows under headers, columns padded to their widest cell (by display width, so CJK
/// and accented names line up). The last column is not padded.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let n = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    let mut bytes = 0;
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            widths[i] = widths[i].max(width(c));
            bytes += c.len() + 2;
        }
    }
    let mut out = String::with_capacity(bytes + rows.len() * widths.iter().sum::<usize>() / 2);
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let start = out.len();
        let mut pad = 0;
        for (i, c) in cells.enumerate() {
            if i > 0 {
                // Padding is written lazily, so trailing blanks never reach the line's end.
                if !c.is_empty() {
                    push_spaces(&mut out, pad);
                    pad = 0;
                }
            }
            out.push_str(c);
            // An empty cell writes nothing: its pad carries over to the next non-empty cell.
            pad += widths[i].saturating_sub(width(c)) + 2;
        }
        let trimmed = out[start..].trim_end().len();
        out.truncate(start + trimmed);
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

/// Display width: ASCII (most cells) is its length; anything else asks unicode-width.
fn width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.width()
    }
}

fn push_spaces(out: &mut String, n: usize) {
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
