//! Drawing helpers shared by [`plot_model`](super::plot_model) and
//! [`History::plot`](crate::callbacks::History::plot): the bundled font, the file format by
//! extension, PNG encoding, atomic writes.

use crate::{Error, Result};
use plotters::style::{FontDesc, FontFamily, FontStyle};
use std::io::Write as _;
use std::path::Path;

static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// The font family the pictures name. plotters' own default family, registered with the
/// bundled DejaVu Sans for PNGs; an SVG viewer uses its own sans-serif font.
pub(crate) const FAMILY: &str = "sans-serif";

/// ab_glyph scales a font by its height (ascent - descent), SVG and Graphviz by its em:
/// DejaVu Sans is 2384 units high on a 2048-unit em.
pub(crate) const EM_TO_PX: f64 = 2384.0 / 2048.0;

/// Registers the bundled fonts with plotters (once).
pub(crate) fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for name in [FAMILY, "DejaVu Sans"] {
            let _ = plotters::style::register_font(name, FontStyle::Normal, DEJAVU_SANS);
            let _ = plotters::style::register_font(name, FontStyle::Bold, DEJAVU_SANS_BOLD);
        }
    });
}

/// The bundled font at `px` (ab_glyph's scale: the font's height in pixels).
pub(crate) fn font(px: f64, bold: bool) -> FontDesc<'static> {
    register_fonts();
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::Name(FAMILY), px, style)
}

/// The advance width of `text` at `em` points (an SVG `font-size`), in points.
pub(crate) fn text_width(text: &str, em: f64, bold: bool) -> f64 {
    // Measured ten times larger: plotters rounds the width to whole pixels.
    match font(em * EM_TO_PX * 10.0, bold).box_size(text) {
        Ok((w, _)) => w as f64 / 10.0,
        Err(_) => text.chars().count() as f64 * em * 0.62,
    }
}

/// The file formats the pictures are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImageFormat {
    Png,
    Svg,
}

/// The format named by `path`'s extension (`.png` / `.svg`, any case); a path with none gets
/// `default` when there is one (Keras's `plot_model` writes PNG then).
pub(crate) fn image_format(
    path: &Path,
    what: &str,
    default: Option<ImageFormat>,
) -> Result<ImageFormat> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    match (ext.as_deref(), default) {
        (Some("png"), _) => Ok(ImageFormat::Png),
        (Some("svg"), _) => Ok(ImageFormat::Svg),
        (None, Some(d)) => Ok(d),
        (ext, _) => Err(Error::value(format!(
            "{what}: cannot write \"{}\": {} is not a supported image format; use a file name \
             ending in .png or .svg",
            path.display(),
            ext.map_or("a file name without an extension".to_string(), |e| format!(
                ".{e}"
            ))
        ))),
    }
}

/// PNG bytes of an 8-bit image with `channels` interleaved bytes per pixel (1 gray, 3 RGB,
/// 4 RGBA), rows top first; its resolution recorded as `dpi` when given.
pub(crate) fn encode_png(
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: usize,
    dpi: Option<f64>,
) -> Result<Vec<u8>> {
    let err = |e: png::EncodingError| Error::runtime(format!("cannot encode PNG: {e}"));
    let color = match channels {
        1 => png::ColorType::Grayscale,
        3 => png::ColorType::Rgb,
        4 => png::ColorType::Rgba,
        c => {
            return Err(Error::value(format!(
                "a PNG has 1, 3 or 4 channels; received {c}"
            )))
        }
    };
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    if let Some(dpi) = dpi {
        let ppm = (dpi / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
    }
    let mut w = enc.write_header().map_err(err)?;
    w.write_image_data(pixels).map_err(err)?;
    w.finish().map_err(err)?;
    Ok(out)
}

/// Writes `bytes` to `path` atomically (a temporary file beside it, then a rename).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::ops::npy::write_atomic(path, |f| {
        f.write_all(bytes)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    })
}

/// A plotters error as ours, naming the picture being drawn.
pub(crate) fn drawing_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::runtime(format!("cannot draw {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        let f = |p: &str| image_format(Path::new(p), "t", None);
        assert_eq!(f("a/b.PNG").unwrap(), ImageFormat::Png);
        assert_eq!(f("b.svg").unwrap(), ImageFormat::Svg);
        let e = f("b.pdf").unwrap_err().to_string();
        assert!(e.contains("b.pdf") && e.contains(".png"), "{e}");
        assert!(f("b").is_err());
        assert_eq!(
            image_format(Path::new("b"), "t", Some(ImageFormat::Png)).unwrap(),
            ImageFormat::Png
        );
    }

    #[test]
    fn text_is_measured_with_the_font() {
        let w = text_width("Dense", 16.0, false);
        let wb = text_width("Dense", 16.0, true);
        assert!(w > 40.0 && w < 60.0, "{w}");
        assert!(wb > w);
        assert!(text_width("iiii", 14.0, false) < text_width("WWWW", 14.0, false));
    }
}
