//! Photo previews for the Photos view: kitty, sixel or iTerm2 graphics where the terminal has
//! them, half-blocks elsewhere (`ratatui-image`).
//!
//! Decoding happens on a thread of its own: the UI thread only asks for "this blob at this
//! many cells" and draws what comes back as `Loaded::Preview`, so a 50-megapixel photo never
//! holds up a key (I8). Only the latest request is decoded (a fast `j j j` skips the photos in
//! between), the image is downscaled to the pane before the graphics protocol sees it, and a
//! few results are cached. Nothing here runs with `NO_COLOR` or on a screen too small for a
//! pane: the view says why instead.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use ratatui::layout::Size;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::Protocol;
use ratatui_image::Resize;

use super::app::{Loaded, Msg};

/// Decoded previews kept (a few `j`/`k` back and forth never decode twice).
const CACHED: usize = 16;

/// Pixels decoded at most: a bigger file is refused, not decoded (a 16k × 16k PNG would want
/// a gigabyte of memory for a preview a few dozen cells wide).
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// A decoded preview, ready to draw at `cells`.
#[derive(Clone)]
pub struct PreviewImage {
    pub sha256: String,
    pub cells: (u16, u16),
    /// The image, or why there is none ("the file is not here yet" …).
    pub image: Result<Arc<Protocol>, String>,
}

impl std::fmt::Debug for PreviewImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviewImage")
            .field("sha256", &self.sha256)
            .field("cells", &self.cells)
            .field("ok", &self.image.is_ok())
            .finish()
    }
}

/// Which graphics the terminal speaks, from the environment; None when previews are off
/// (`NO_COLOR`, or `HOLDFAST_PREVIEW=off`). Terminals known for kitty, sixel or iTerm2
/// graphics are asked for their cell size (`query` true: must run before anything else
/// reads stdin); everything else gets half-blocks without a query, which always works.
pub fn picker_from_env(query: bool) -> Option<Picker> {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let forced = var("HOLDFAST_PREVIEW");
    let want = match forced.as_str() {
        "off" | "none" => return None,
        "halfblocks" => None,
        "kitty" => Some(ProtocolType::Kitty),
        "sixel" => Some(ProtocolType::Sixel),
        "iterm2" => Some(ProtocolType::Iterm2),
        _ => {
            let term = var("TERM");
            let program = var("TERM_PROGRAM");
            if term.contains("kitty") || !var("KITTY_WINDOW_ID").is_empty() || program == "ghostty"
            {
                Some(ProtocolType::Kitty)
            } else if program == "iTerm.app"
                || program == "WezTerm"
                || var("LC_TERMINAL") == "iTerm2"
            {
                Some(ProtocolType::Iterm2)
            } else if term.starts_with("foot") || term.contains("mlterm") {
                Some(ProtocolType::Sixel)
            } else {
                None
            }
        }
    };
    match want {
        Some(p) if query => match Picker::from_query_stdio() {
            // The query knows best; a terminal that did not answer gets what its name says.
            Ok(mut picker) => {
                if picker.protocol_type() == ProtocolType::Halfblocks {
                    picker.set_protocol_type(p);
                }
                Some(picker)
            }
            Err(_) => Some(Picker::halfblocks()),
        },
        _ => Some(Picker::halfblocks()),
    }
}

/// Decodes the image at `path` and fits it into `cells` (columns, rows).
pub fn decode(path: &Path, cells: (u16, u16), picker: &Picker) -> Result<Protocol, String> {
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "the photo's file is not here yet (a sync fetches it)".to_string()
            }
            _ => format!("cannot read the photo: {e}"),
        })?
        .with_guessed_format()
        .map_err(|e| format!("cannot read the photo: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| format!("no preview: {e}"))?;
    // Downscaled to the pane's pixels before the protocol encodes it.
    let font = picker.font_size();
    let (w, h) = (
        u32::from(cells.0) * u32::from(font.width.max(1)),
        u32::from(cells.1) * u32::from(font.height.max(1)),
    );
    let img = if img.width() > w || img.height() > h {
        img.thumbnail(w.max(1), h.max(1))
    } else {
        img
    };
    picker
        .new_protocol(img, Size::new(cells.0, cells.1), Resize::Fit(None))
        .map_err(|e| format!("no preview: {e}"))
}

/// The preview thread.
pub struct Previewer {
    requests: Sender<(String, PathBuf, (u16, u16))>,
}

impl Previewer {
    /// Starts the thread; results come back as `Msg::Loaded(Loaded::Preview)` on `tx`.
    pub fn start(picker: Picker, tx: Sender<Msg>) -> Previewer {
        let (requests, rx) = channel::<(String, PathBuf, (u16, u16))>();
        std::thread::Builder::new()
            .name("holdfast-preview".into())
            .spawn(move || {
                let mut cache: VecDeque<PreviewImage> = VecDeque::new();
                while let Ok(mut req) = rx.recv() {
                    // Only the newest request matters: the selection has moved on.
                    while let Ok(newer) = rx.try_recv() {
                        req = newer;
                    }
                    let (sha256, path, cells) = req;
                    let hit = cache
                        .iter()
                        .find(|p| p.sha256 == sha256 && p.cells == cells)
                        .cloned();
                    let preview = hit.unwrap_or_else(|| {
                        let p = PreviewImage {
                            image: decode(&path, cells, &picker).map(Arc::new),
                            sha256,
                            cells,
                        };
                        // Failures are not kept: a sync may fetch the file a minute later.
                        if p.image.is_ok() {
                            if cache.len() >= CACHED {
                                cache.pop_front();
                            }
                            cache.push_back(p.clone());
                        }
                        p
                    });
                    if tx.send(Msg::Loaded(Loaded::Preview(preview))).is_err() {
                        return;
                    }
                }
            })
            .ok();
        Previewer { requests }
    }

    /// Asks for a preview; returns at once.
    pub fn request(&self, sha256: &str, path: PathBuf, cells: (u16, u16)) {
        let _ = self.requests.send((sha256.to_string(), path, cells));
    }
}
