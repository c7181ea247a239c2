//! The packed form of a day of the occurrence cache (`days.rs`): a row count, each row's fixed
//! part, then all the rows' texts as one UTF-8 run. Read back without a copy per row, and
//! checked whole before the first row is read.

use super::occurrences::OccurrenceView;
use crate::format::width::width;
use crate::model::Flags;

/// Where each field of a row's fixed part starts: start, end and collection id (i64), flags
/// (u32), all-day (u8), the display widths of summary and location (u32 each), the byte
/// lengths of summary, location and UID (u32 each). All little-endian.
const START_AT: usize = 0;
const END_AT: usize = START_AT + 8;
const COLLECTION_AT: usize = END_AT + 8;
const FLAGS_AT: usize = COLLECTION_AT + 8;
const ALL_DAY_AT: usize = FLAGS_AT + 4;
const WIDTHS_AT: usize = ALL_DAY_AT + 1;
const LENS_AT: usize = WIDTHS_AT + 2 * 4;
/// Bytes of one row's fixed part.
const HEAD: usize = LENS_AT + 3 * 4;

/// One day packed: the blob and what measuring its rows gives.
pub(super) struct PackedDay {
    pub blob: Vec<u8>,
    pub rows: usize,
    pub widths: [usize; 2],
    /// No row has flags, and every all-day row ends after it starts: a window that covers the
    /// whole day shows every row (`Bounds::covers`), and the day's widths are the window's.
    pub plain: bool,
}

/// Packs rows into a day blob: the row count, each row's fixed part, then all the rows' texts
/// (summary, location, UID of each row in turn) as one UTF-8 run.
pub(super) struct DayPacker {
    heads: Vec<u8>,
    text: String,
    rows: usize,
    widths: [usize; 2],
    plain: bool,
}

impl Default for DayPacker {
    fn default() -> Self {
        DayPacker {
            heads: Vec::new(),
            text: String::new(),
            rows: 0,
            widths: [0; 2],
            plain: true,
        }
    }
}

impl DayPacker {
    pub(super) fn push(&mut self, o: &OccurrenceView<'_>) {
        let widths = [width(o.summary), width(o.location)];
        let h = &mut self.heads;
        h.extend_from_slice(&o.start.to_le_bytes());
        h.extend_from_slice(&o.end.to_le_bytes());
        h.extend_from_slice(&o.collection_id.to_le_bytes());
        h.extend_from_slice(&o.flags.0.to_le_bytes());
        h.push(u8::from(o.all_day));
        for (w, most) in widths.into_iter().zip(&mut self.widths) {
            h.extend_from_slice(&(w as u32).to_le_bytes());
            *most = (*most).max(w);
        }
        for cell in [o.summary, o.location, o.uid] {
            h.extend_from_slice(&(cell.len() as u32).to_le_bytes());
            self.text.push_str(cell);
        }
        self.rows += 1;
        self.plain &= o.flags.0 == 0 && (!o.all_day || o.end > o.start);
    }

    /// The day packed, and the packer emptied for the next one.
    pub(super) fn take(&mut self) -> PackedDay {
        let mut blob = Vec::with_capacity(4 + self.heads.len() + self.text.len());
        blob.extend_from_slice(&(self.rows as u32).to_le_bytes());
        blob.append(&mut self.heads);
        blob.extend_from_slice(self.text.as_bytes());
        let done = std::mem::take(self);
        PackedDay {
            blob,
            rows: done.rows,
            widths: done.widths,
            plain: done.plain,
        }
    }
}

/// The rows of a day blob, checked whole before the first is read: a blob that does not hold
/// what `DayPacker` writes (a damaged file) is `None`, and its day is read from the table.
pub(super) struct DayRows<'a> {
    heads: &'a [u8],
    text: &'a str,
    text_at: usize,
}

impl<'a> DayRows<'a> {
    pub(super) fn parse(blob: &'a [u8]) -> Option<Self> {
        let (count, rest) = blob.split_first_chunk::<4>()?;
        let heads_len = (u32::from_le_bytes(*count) as usize).checked_mul(HEAD)?;
        let heads = rest.get(..heads_len)?;
        // A day's text is a few hundred kilobytes, checked on every read: simdutf8 checks it
        // several times faster than the standard library.
        let text = simdutf8::basic::from_utf8(rest.get(heads_len..)?).ok()?;
        // Every cell must end inside the text, on a character boundary, and the cells must
        // use the text up exactly.
        let mut at = 0usize;
        for head in heads.chunks_exact(HEAD) {
            for k in 0..3 {
                at = at.checked_add(u32_at(head, LENS_AT + 4 * k))?;
                if !text.is_char_boundary(at) {
                    return None;
                }
            }
        }
        (at == text.len()).then_some(DayRows {
            heads,
            text,
            text_at: 0,
        })
    }
}

fn i64_at(head: &[u8], at: usize) -> i64 {
    let mut b = [0; 8];
    b.copy_from_slice(&head[at..at + 8]);
    i64::from_le_bytes(b)
}

fn u32_at(head: &[u8], at: usize) -> usize {
    let mut b = [0; 4];
    b.copy_from_slice(&head[at..at + 4]);
    u32::from_le_bytes(b) as usize
}

impl<'a> Iterator for DayRows<'a> {
    type Item = OccurrenceView<'a>;

    fn next(&mut self) -> Option<OccurrenceView<'a>> {
        let (head, rest) = self.heads.split_at_checked(HEAD)?;
        self.heads = rest;
        let mut cells = [""; 3];
        for (k, cell) in cells.iter_mut().enumerate() {
            let end = self.text_at + u32_at(head, LENS_AT + 4 * k);
            // `parse` checked every boundary.
            *cell = self.text.get(self.text_at..end).unwrap_or_default();
            self.text_at = end;
        }
        let [summary, location, uid] = cells;
        Some(OccurrenceView {
            start: i64_at(head, START_AT),
            end: i64_at(head, END_AT),
            collection_id: i64_at(head, COLLECTION_AT),
            flags: Flags(u32_at(head, FLAGS_AT) as u32),
            all_day: head[ALL_DAY_AT] != 0,
            summary,
            location,
            uid,
            widths: Some([u32_at(head, WIDTHS_AT), u32_at(head, WIDTHS_AT + 4)]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(
        start: i64,
        summary: &'a str,
        location: &'a str,
        uid: &'a str,
    ) -> OccurrenceView<'a> {
        OccurrenceView {
            start,
            end: start + 3600,
            all_day: false,
            summary,
            location,
            flags: Flags(0),
            uid,
            collection_id: 2,
            widths: None,
        }
    }

    fn packed(rows: &[OccurrenceView<'_>]) -> PackedDay {
        let mut p = DayPacker::default();
        for o in rows {
            p.push(o);
        }
        p.take()
    }

    #[test]
    fn a_packed_day_reads_back_row_for_row_with_its_widths() {
        let mut flagged = view(100, "山田 明", "", "u-2");
        flagged.flags = Flags(1);
        flagged.all_day = true;
        flagged.end = 100;
        let rows = [view(10, "Standup – Åsa", "Kraków", "u-1"), flagged];
        let day = packed(&rows);
        assert_eq!(day.rows, 2);
        assert_eq!(day.widths, [13, 6]);
        assert!(
            !day.plain,
            "a flagged row and an all-day row ending at its start"
        );
        let back: Vec<_> = DayRows::parse(&day.blob).expect("parses").collect();
        assert_eq!(back.len(), 2);
        for (b, o) in back.iter().zip(&rows) {
            assert_eq!(
                (b.start, b.end, b.all_day, b.flags, b.collection_id),
                (o.start, o.end, o.all_day, o.flags, o.collection_id)
            );
            assert_eq!(
                (b.summary, b.location, b.uid),
                (o.summary, o.location, o.uid)
            );
        }
        assert_eq!(back[1].widths, Some([7, 0]));
        let plain = packed(&[view(10, "a", "b", "c")]);
        assert!(plain.plain);
        // The packer is empty again after `take`.
        let mut p = DayPacker::default();
        p.push(&rows[0]);
        let _ = p.take();
        assert_eq!(p.take().rows, 0);
    }

    #[test]
    fn a_damaged_day_is_refused_whole() {
        let blob = packed(&[view(10, "Łódź", "x", "u-1"), view(20, "b", "", "u-2")]).blob;
        assert!(DayRows::parse(&blob).is_some());
        // Cut short, one byte too many, a count past the heads, text that is not UTF-8, a
        // length that splits a character.
        assert!(DayRows::parse(&blob[..blob.len() - 1]).is_none());
        let mut longer = blob.clone();
        longer.push(b'x');
        assert!(DayRows::parse(&longer).is_none());
        let mut count = blob.clone();
        count[0] = 200;
        assert!(DayRows::parse(&count).is_none());
        let mut bad_text = blob.clone();
        let at = 4 + 2 * HEAD;
        bad_text[at] = 0xff;
        assert!(DayRows::parse(&bad_text).is_none());
        let mut split = blob.clone();
        split[4 + LENS_AT] = 1; // "Ł" is two bytes
        split[4 + LENS_AT + 4] = 7; // the total kept
        assert!(DayRows::parse(&split).is_none());
        assert!(DayRows::parse(&[]).is_none());
    }
}
