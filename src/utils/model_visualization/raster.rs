//! The PNG of `plot_model`: the picture rasterized with plotters.

use super::drawing::{drawing_error, encode_png, font, text_width, EM_TO_PX};
use super::graph::{text_origin, Graph};
use super::layout::Layout;
use crate::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

fn color_of(name: &str) -> RGBColor {
    match name {
        "black" => RGBColor(0, 0, 0),
        "forestgreen" => RGBColor(34, 139, 34),
        "firebrick" => RGBColor(178, 34, 34),
        _ => RGBColor(255, 255, 255),
    }
}

/// The picture rasterized at `dpi`, as PNG bytes.
pub(super) fn png_of(graph: &Graph, layout: &Layout, dpi: u32, path: &Path) -> Result<Vec<u8>> {
    let k = dpi.max(1) as f64 / 72.0;
    let (w, h) = (
        (layout.width * k).ceil() as u32,
        (layout.height * k).ceil() as u32,
    );
    if (w as u64) * (h as u64) > 400_000_000 {
        return Err(Error::value(format!(
            "plot_model: a {w}x{h} picture is too large; lower dpi or write an SVG"
        )));
    }
    let err = |e: DrawingAreaErrorKind<_>| drawing_error(path, e);
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let p = |x: f64, y: f64| ((x * k).round() as i32, (y * k).round() as i32);
        for (node, &(bx, by)) in graph.nodes.iter().zip(&layout.boxes) {
            root.draw(&Rectangle::new(
                [p(bx, by), p(bx + node.w, by + node.h)],
                BLACK.filled(),
            ))
            .map_err(&err)?;
            for c in &node.cells {
                let (x0, y0) = (bx + c.x, by + c.y);
                if c.fill != "black" {
                    root.draw(&Rectangle::new(
                        [p(x0, y0), p(x0 + c.w, y0 + c.h)],
                        color_of(c.fill).filled(),
                    ))
                    .map_err(&err)?;
                    root.draw(&Rectangle::new(
                        [p(x0, y0), p(x0 + c.w, y0 + c.h)],
                        BLACK.stroke_width(k.round().max(1.0) as u32),
                    ))
                    .map_err(&err)?;
                }
                let (mut tx, ty) = text_origin(c, bx, by);
                let px = c.size * EM_TO_PX * k;
                for r in &c.runs {
                    // plotters puts the baseline half a font height below a top-anchored point.
                    let color = color_of(c.color);
                    let style = TextStyle::from(font(px, r.bold))
                        .color(&color)
                        .pos(Pos::new(HPos::Left, VPos::Top));
                    root.draw_text(&r.text, &style, p(tx, ty - px / 2.0 / k))
                        .map_err(&err)?;
                    tx += text_width(&r.text, c.size, r.bold);
                }
            }
        }
        let stroke = BLACK.stroke_width((2.0 * k).round().max(1.0) as u32);
        for e in &layout.edges {
            let pts: Vec<(i32, i32)> = e.points.iter().map(|&(x, y)| p(x, y)).collect();
            root.draw(&PathElement::new(pts, stroke)).map_err(&err)?;
            let tri: Vec<(i32, i32)> = e.arrow.iter().map(|&(x, y)| p(x, y)).collect();
            root.draw(&Polygon::new(tri, BLACK.filled()))
                .map_err(&err)?;
        }
        root.present().map_err(&err)?;
    }
    encode_png(&buf, w, h, 3, Some(dpi as f64))
}
