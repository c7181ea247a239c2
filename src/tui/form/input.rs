//! A one-line text editor with a cursor, measured in terminal columns so wide characters (CJK,
//! emoji) edit and scroll as whole cells.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    text: String,
    /// Byte offset of the cursor, always on a character boundary.
    cursor: usize,
}

impl Input {
    /// The text with the cursor at its end.
    pub fn new(text: &str) -> Input {
        Input {
            text: text.to_string(),
            cursor: text.len(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a character index.
    pub fn cursor(&self) -> usize {
        self.text[..self.cursor].chars().count()
    }

    pub fn set(&mut self, text: &str) {
        *self = Input::new(text);
    }

    pub fn insert(&mut self, c: char) {
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
    }

    pub fn backspace(&mut self) {
        if let Some(c) = self.text[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
            self.text.remove(self.cursor);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.text.len() {
            self.text.remove(self.cursor);
        }
    }

    pub fn left(&mut self) {
        if let Some(c) = self.text[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
        }
    }

    pub fn right(&mut self) {
        if let Some(c) = self.text[self.cursor..].chars().next() {
            self.cursor += c.len_utf8();
        }
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.text.len();
    }

    /// What fits in `width` columns around the cursor, and the cursor's column in it. The text
    /// scrolls so the cursor (and the cell after it) stays visible.
    pub fn view(&self, width: usize) -> (String, usize) {
        let width = width.max(1);
        let before = &self.text[..self.cursor];
        // Walk back from the cursor while the characters fit, keeping one cell for the cursor.
        let mut start = self.cursor;
        let mut used = 0;
        for c in before.chars().rev() {
            let w = c.width().unwrap_or(0);
            if used + w > width.saturating_sub(1) {
                break;
            }
            used += w;
            start -= c.len_utf8();
        }
        let mut shown = String::new();
        let mut cols = 0;
        for c in self.text[start..].chars() {
            let w = c.width().unwrap_or(0);
            if cols + w > width {
                break;
            }
            cols += w;
            shown.push(c);
        }
        (shown, self.text[start..self.cursor].width())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_move_and_delete_as_one() {
        let mut i = Input::new("山田");
        i.left();
        i.insert('x');
        assert_eq!(i.text(), "山x田");
        assert_eq!(i.view(10), ("山x田".to_string(), 3));
        i.backspace();
        i.backspace();
        assert_eq!(i.text(), "田");
        i.end();
        i.backspace();
        assert_eq!(i.text(), "");
    }

    #[test]
    fn a_long_text_scrolls_to_keep_the_cursor_visible() {
        let i = Input::new("東京商事株式会社本社");
        let (shown, col) = i.view(7);
        assert_eq!((shown.as_str(), col), ("社本社", 6));
        let mut j = i.clone();
        j.home();
        assert_eq!(j.view(7), ("東京商".to_string(), 0));
    }
}
