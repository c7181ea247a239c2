//! Photos as bytes: the JSON sidecar of a photo reference (read, write, three-way merge), what an
//! image's first bytes tell (type, dimensions, EXIF DateTimeOriginal) without decoding the
//! image, and the PHOTO properties of a vCard.
//!
//! Never touches the disk or the network; every function takes bytes from outside and must not
//! panic on them.

use std::collections::BTreeSet;
use std::io::Cursor;

use base64::Engine;

use super::lines::logical_lines;
use crate::model::PhotoRef;

/// Bytes of a file read up front for its type, size and EXIF: JPEG puts EXIF in its first
/// segments (APP1 is at most 64 KiB), PNG and GIF their size in the first bytes.
pub const HEAD_BYTES: usize = 128 * 1024;

/// What the start of an image says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    pub mime: Option<&'static str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub taken_at: Option<String>,
}

/// Extensions `photos add` takes, lower case.
pub const PHOTO_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "heic", "heif", "webp", "gif", "tif", "tiff",
];

/// The MIME type of an image from its magic bytes, for the formats Holdfast keeps.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Some("image/tiff")
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        match &head[8..12] {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => Some("image/heic"),
            b"mif1" | b"msf1" | b"avif" => Some("image/heif"),
            _ => None,
        }
    } else {
        None
    }
}

/// Type, dimensions and EXIF capture time from the first bytes of an image (`HEAD_BYTES` is
/// enough for the formats above). Missing pieces stay None; nothing is decoded.
pub fn probe(head: &[u8]) -> ImageInfo {
    let mime = sniff(head);
    let (width, height) = match imagesize::blob_size(head) {
        Ok(s) => (u32::try_from(s.width).ok(), u32::try_from(s.height).ok()),
        Err(_) => (None, None),
    };
    ImageInfo {
        mime,
        width,
        height,
        taken_at: mime.and_then(|_| taken_at(head)),
    }
}

/// EXIF DateTimeOriginal (and OffsetTimeOriginal when present) as `YYYY-MM-DDTHH:MM:SS[±HH:MM]`.
fn taken_at(head: &[u8]) -> Option<String> {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(head))
        .ok()?;
    let field = exif.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)?;
    let exif::Value::Ascii(ref parts) = field.value else {
        return None;
    };
    let dt = exif::DateTime::from_ascii(parts.first()?).ok()?;
    if !(1..=12).contains(&dt.month) || !(1..=31).contains(&dt.day) || dt.year < 1800 {
        return None;
    }
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
    );
    if let Some(off) = exif.get_field(exif::Tag::OffsetTimeOriginal, exif::In::PRIMARY) {
        if let exif::Value::Ascii(ref p) = off.value {
            let text = p
                .first()
                .map(|b| String::from_utf8_lossy(b).trim().to_string());
            if let Some(t) = text.filter(|t| {
                t.len() == 6 && (t.starts_with('+') || t.starts_with('-')) && &t[3..4] == ":"
            }) {
                out.push_str(&t);
            }
        }
    }
    Some(out)
}

/// The sidecar's bytes: pretty JSON with a final newline, fields in a fixed order, so the same
/// reference always gives the same bytes (and the same etag-free comparison).
pub fn to_sidecar(p: &PhotoRef) -> Vec<u8> {
    let mut p = p.clone();
    p.links.sort();
    p.links.dedup();
    let mut out = serde_json::to_vec_pretty(&p).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Reads a sidecar; the reason says what is wrong with one that is not.
pub fn from_sidecar(raw: &[u8]) -> Result<PhotoRef, String> {
    let p: PhotoRef =
        serde_json::from_slice(raw).map_err(|e| format!("not a photo sidecar: {e}"))?;
    if !p.format.starts_with("holdfast-photo/") {
        return Err(format!("unknown sidecar format {:?}", p.format));
    }
    if !is_sha256(&p.sha256) {
        return Err(format!("sha256 {:?} is not 64 hex digits", p.sha256));
    }
    if p.id.trim().is_empty() {
        return Err("the sidecar has no id".into());
    }
    Ok(p)
}

/// True for 64 lower-case hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True when the bytes look like a photo sidecar (a JSON object), not vCard/iCalendar text.
pub fn looks_like_sidecar(raw: &[u8]) -> bool {
    raw.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// The outcome of a three-way merge of two sidecars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub photo: PhotoRef,
    /// Both sides changed the same field differently: the local value was kept.
    pub conflict: bool,
}

/// Merges field by field against `base` (None: no common version known). Links merge as sets
/// (an addition on either side stays, a removal on one side of an unchanged link goes); any
/// other field changed on one side takes that side; changed differently on both is a conflict,
/// resolved for the local side.
pub fn merge(base: Option<&PhotoRef>, local: &PhotoRef, remote: &PhotoRef) -> Merged {
    let mut conflict = false;
    let mut out = local.clone();
    fn pick<T: Clone + PartialEq>(
        base: Option<&T>,
        local: &T,
        remote: &T,
        conflict: &mut bool,
    ) -> T {
        if local == remote || base == Some(remote) {
            local.clone()
        } else if base == Some(local) {
            remote.clone()
        } else {
            *conflict = true;
            local.clone()
        }
    }
    out.caption = pick(
        base.map(|b| &b.caption),
        &local.caption,
        &remote.caption,
        &mut conflict,
    );
    out.taken_at = pick(
        base.map(|b| &b.taken_at),
        &local.taken_at,
        &remote.taken_at,
        &mut conflict,
    );
    out.original_name = pick(
        base.map(|b| &b.original_name),
        &local.original_name,
        &remote.original_name,
        &mut conflict,
    );
    out.original_path = pick(
        base.map(|b| &b.original_path),
        &local.original_path,
        &remote.original_path,
        &mut conflict,
    );
    // The bytes themselves: a sidecar pointing at other bytes under the same id is a conflict
    // (the local blob stays the reference's).
    if (&local.sha256, local.size) != (&remote.sha256, remote.size) {
        let b = base.map(|b| (&b.sha256, b.size));
        if b == Some((&local.sha256, local.size)) {
            out.sha256 = remote.sha256.clone();
            out.size = remote.size;
            out.mime = remote.mime.clone();
            out.width = remote.width;
            out.height = remote.height;
        } else if b != Some((&remote.sha256, remote.size)) {
            conflict = true;
        }
    }
    let l: BTreeSet<&String> = local.links.iter().collect();
    let r: BTreeSet<&String> = remote.links.iter().collect();
    out.links = match base {
        None => l.union(&r).map(|s| (*s).clone()).collect(),
        Some(b) => {
            let b: BTreeSet<&String> = b.links.iter().collect();
            l.union(&r)
                .filter(|x| (l.contains(*x) && r.contains(*x)) || !b.contains(*x))
                .map(|s| (*s).clone())
                .collect()
        }
    };
    out.created_at = local.created_at.clone().min(remote.created_at.clone());
    out.updated_at = local.updated_at.clone().max(remote.updated_at.clone());
    Merged {
        photo: out,
        conflict,
    }
}

/// One PHOTO property of a vCard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardPhoto {
    /// Inline bytes (3.0 `ENCODING=b`, 2.1 `ENCODING=BASE64`, 4.0 `data:` URI).
    Inline { bytes: Vec<u8>, line: usize },
    /// A link to the photo elsewhere.
    Uri { uri: String, line: usize },
    /// A PHOTO whose value could not be decoded.
    Bad { reason: String, line: usize },
}

/// True when the bytes may hold a PHOTO property (a byte search, no parsing).
pub fn may_have_photo(raw: &[u8]) -> bool {
    raw.windows(5).any(|w| w.eq_ignore_ascii_case(b"PHOTO"))
}

/// Every PHOTO of a vCard, in order. Cheap for a card without one (a byte search first).
pub fn vcard_photos(raw: &[u8]) -> Vec<CardPhoto> {
    if !may_have_photo(raw) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in logical_lines(raw) {
        if line.name() != "PHOTO" {
            continue;
        }
        let Some(value) = line.value() else { continue };
        let value = String::from_utf8_lossy(value);
        let value = value.trim();
        let encoding = line.param("ENCODING").unwrap_or_default();
        let b64 = encoding.eq_ignore_ascii_case("b") || encoding.eq_ignore_ascii_case("base64");
        let n = line.number;
        if b64 {
            out.push(match decode_b64(value) {
                Ok(bytes) => CardPhoto::Inline { bytes, line: n },
                Err(reason) => CardPhoto::Bad { reason, line: n },
            });
        } else if value.len() > 5 && value[..5].eq_ignore_ascii_case("data:") {
            // Writers that treat the URI as text escape its comma (`;base64\,`); a data URI
            // holds no backslash of its own, so the escape is undone.
            let unescaped = value[5..].replace("\\,", ",");
            let rest = unescaped.as_str();
            out.push(match rest.split_once(',') {
                Some((meta, data)) if meta.to_ascii_lowercase().ends_with(";base64") => {
                    match decode_b64(data) {
                        Ok(bytes) => CardPhoto::Inline { bytes, line: n },
                        Err(reason) => CardPhoto::Bad { reason, line: n },
                    }
                }
                Some(_) => CardPhoto::Bad {
                    reason: "data: URI without ;base64".into(),
                    line: n,
                },
                None => CardPhoto::Bad {
                    reason: "data: URI without a comma".into(),
                    line: n,
                },
            });
        } else if !value.is_empty() {
            out.push(CardPhoto::Uri {
                uri: value.to_string(),
                line: n,
            });
        }
    }
    out
}

fn decode_b64(text: &str) -> Result<Vec<u8>, String> {
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&clean)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&clean))
        .map_err(|e| format!("PHOTO is not valid base64: {e}"))
}

/// Maximum size of the inline thumbnail `set_card_photo` writes: servers cap cards near 1 MB,
/// and a card is read whole by every client.
pub const CARD_THUMBNAIL_MAX: usize = 64 * 1024;

/// The card with its PHOTO properties replaced by one inline thumbnail (`thumbnail` must be a
/// small JPEG/PNG the caller made; the full photo goes in the blob store). Keeps every other
/// line byte-identical. vCard 4.0 gets a `data:` URI, earlier versions `ENCODING=b`.
pub fn set_card_photo(raw: &[u8], thumbnail: &[u8]) -> Result<Vec<u8>, String> {
    if thumbnail.len() > CARD_THUMBNAIL_MAX {
        return Err(format!(
            "the thumbnail is {} bytes; a card photo is at most {CARD_THUMBNAIL_MAX}",
            thumbnail.len()
        ));
    }
    let mime = sniff(thumbnail).ok_or("the thumbnail is not a JPEG, PNG or GIF image")?;
    let text = std::str::from_utf8(raw).map_err(|_| "the card is not UTF-8")?;
    let v4 = text
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case("VERSION:4.0"));
    let data = base64::engine::general_purpose::STANDARD.encode(thumbnail);
    let prop = if v4 {
        // The comma written `\,`, as calcard's 4.0 writer does: servers built on Python vobject
        // (Radicale) split an unescaped one as a list and keep `data:…;base64` without the
        // image. vobject, calcard and our reader all read the escaped form whole.
        format!("PHOTO:data:{mime};base64\\,{data}")
    } else {
        let ty = crate::model::extension_for_mime(mime).to_ascii_uppercase();
        let ty = if ty == "JPG" { "JPEG".to_string() } else { ty };
        format!("PHOTO;ENCODING=b;TYPE={ty}:{data}")
    };
    let folded = super::lines::fold_line(&prop);
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(raw.len() + folded.len());
    let mut skipping = false;
    let mut placed = false;
    for line in text.split_inclusive('\n') {
        let continuation = line.starts_with(' ') || line.starts_with('\t');
        if skipping && continuation {
            continue;
        }
        skipping = false;
        let name = line
            .split([':', ';'])
            .next()
            .unwrap_or_default()
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .trim();
        if name.eq_ignore_ascii_case("PHOTO") {
            skipping = true;
            continue;
        }
        if !placed && line.trim().eq_ignore_ascii_case("END:VCARD") {
            out.push_str(&folded.replace("\r\n", eol));
            if !folded.ends_with('\n') {
                out.push_str(eol);
            }
            placed = true;
        }
        out.push_str(line);
    }
    if !placed {
        return Err("the card has no END:VCARD".into());
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> PhotoRef {
        PhotoRef {
            format: PhotoRef::FORMAT.into(),
            id: "p1".into(),
            sha256: "a".repeat(64),
            mime: "image/png".into(),
            size: 10,
            width: Some(1),
            height: Some(1),
            taken_at: None,
            caption: Some("base".into()),
            original_name: Some("x.png".into()),
            original_path: None,
            links: vec!["a".into(), "b".into()],
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn merge_takes_each_sides_change() {
        let base = photo();
        let mut local = base.clone();
        local.caption = Some("local".into());
        local.links = vec!["a".into(), "b".into(), "c".into()];
        let mut remote = base.clone();
        remote.links = vec!["b".into(), "d".into()];
        let m = merge(Some(&base), &local, &remote);
        assert!(!m.conflict);
        assert_eq!(m.photo.caption.as_deref(), Some("local"));
        assert_eq!(m.photo.links, vec!["b", "c", "d"]);
    }

    #[test]
    fn merge_same_field_both_sides_is_a_conflict_local_wins() {
        let base = photo();
        let mut local = base.clone();
        local.caption = Some("mine".into());
        let mut remote = base.clone();
        remote.caption = Some("theirs".into());
        let m = merge(Some(&base), &local, &remote);
        assert!(m.conflict);
        assert_eq!(m.photo.caption.as_deref(), Some("mine"));
    }

    #[test]
    fn sidecar_round_trips_and_rejects_garbage() {
        let p = photo();
        assert_eq!(from_sidecar(&to_sidecar(&p)), Ok(p));
        assert!(from_sidecar(b"{\"format\":1}").is_err());
        assert!(from_sidecar(b"\x00\xff garbage").is_err());
    }

    #[test]
    fn vcard_photo_forms() {
        let card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nPHOTO;ENCODING=b;TYPE=JPEG:iVBO\r\n Rw==\r\nitem1.PHOTO:data:image/png;base64,AAEC\r\nPHOTO;VALUE=uri:https://example.org/a.jpg\r\nEND:VCARD\r\n";
        let p = vcard_photos(card);
        assert_eq!(p.len(), 3);
        assert!(matches!(&p[0], CardPhoto::Inline { bytes, .. } if bytes.len() == 4));
        assert!(matches!(&p[1], CardPhoto::Inline { bytes, .. } if bytes == &[0, 1, 2]));
        assert!(matches!(&p[2], CardPhoto::Uri { uri, .. } if uri == "https://example.org/a.jpg"));
    }

    #[test]
    fn set_card_photo_replaces_and_keeps_the_rest() {
        let card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nPHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n BBBB\r\nX-ODD:keep\r\nEND:VCARD\r\n";
        let png = b"\x89PNG\r\n\x1a\n0000";
        let out = String::from_utf8(set_card_photo(card, png).expect("set")).expect("utf-8");
        assert!(out.contains("X-ODD:keep\r\nPHOTO;ENCODING=b;TYPE=PNG:"));
        assert!(!out.contains("AAAA") && !out.contains("BBBB"));
        assert_eq!(vcard_photos(out.as_bytes()).len(), 1);
    }
}
