//! Display width of text in a terminal: what aligns a table's columns.

use unicode_width::UnicodeWidthStr;

/// Display width: ASCII (most cells) is its length; so is text whose every character is
/// printable ASCII or one of the one-column ranges below (accented Latin letters, dashes and
/// quotes: most names and summaries). Anything else asks unicode-width, whose per-character
/// tables and contextual rules (emoji sequences, ligatures) cost ten times more.
pub fn width(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    // The UTF-8 of the one-column characters, byte by byte: cheaper than decoding each char.
    let b = s.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < b.len() {
        let step = match b[i] {
            0x20..=0x7e => 1,
            // U+0080..U+027F: two bytes, checked as a code point.
            lead @ 0xc2..=0xc9 => {
                let cp = b.get(i + 1).map_or(0, |&c| {
                    (u32::from(lead) & 0x1f) << 6 | (u32::from(c) & 0x3f)
                });
                if !char::from_u32(cp).is_some_and(one_column) {
                    return s.width();
                }
                2
            }
            // U+2010..U+2027: E2 80 90..A7.
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0x90..=0xa7)) => 3,
            _ => return s.width(),
        };
        i += step;
        n += 1;
    }
    n
}

/// Characters unicode-width gives one column whatever surrounds them (checked for every one of
/// them by a test): printable ASCII, Latin-1 and Latin Extended-A/B letters (not the soft
/// hyphen), and the dashes, quotes, bullets and ellipsis of General Punctuation.
fn one_column(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{ac}' | '\u{ae}'..='\u{24f}' | '\u{2010}'..='\u{2027}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_column_characters_are_one_column_for_unicode_width() {
        use unicode_width::UnicodeWidthStr;
        for c in (0..=0x2fff_u32).filter_map(char::from_u32) {
            if super::one_column(c) {
                let alone = c.to_string();
                assert_eq!(alone.width(), 1, "{c:?} alone");
                // No contextual rule touches them: beside ASCII and beside each other.
                let mixed = format!("a{c}é{c}–z");
                assert_eq!(mixed.width(), 6, "{mixed:?}");
            }
        }
    }

    #[test]
    fn width_matches_unicode_width() {
        use unicode_width::UnicodeWidthStr;
        for s in [
            "",
            "Ann",
            "Retro train #2991 – Åsa",
            "Müller, Łęcki; Øster",
            "山田 明",
            "café\u{301}",
            "👩\u{200d}💻 pair",
            "tab\there é",
            "line\r\nbreak é",
            "\u{ad}soft",
            "لا",
        ] {
            assert_eq!(super::width(s), s.width(), "{s:?}");
        }
    }
}
