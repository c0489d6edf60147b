//! The SVG writer of `plot_model`.

use super::graph::{text_origin, Graph};
use super::layout::Layout;
use std::fmt::Write as _;

/// The font stack written into `plot_model`'s SVG (widths are measured with DejaVu Sans, the
/// widest of these, so text fits whichever the viewer has).
const SVG_FONTS: &str = "DejaVu Sans,Verdana,Helvetica,Arial,sans-serif";

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn svg(graph: &Graph, layout: &Layout, title: &str) -> String {
    let mut s = String::new();
    let (w, h) = (layout.width, layout.height);
    let _ = writeln!(
        s,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}pt\" height=\"{h}pt\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"{SVG_FONTS}\">\n\
         <title>{}</title>\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>",
        xml_escape(title)
    );
    for (i, (node, &(bx, by))) in graph.nodes.iter().zip(&layout.boxes).enumerate() {
        let _ = writeln!(
            s,
            "<g class=\"node\" id=\"node{i}\">\n<title>{}</title>\n\
             <rect x=\"{bx:.2}\" y=\"{by:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"black\"/>",
            xml_escape(&node.name),
            node.w,
            node.h
        );
        for c in &node.cells {
            if c.fill != "black" {
                let _ = writeln!(
                    s,
                    "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{}\" \
                     stroke=\"black\"/>",
                    bx + c.x + 0.5,
                    by + c.y + 0.5,
                    c.w - 1.0,
                    c.h - 1.0,
                    c.fill
                );
            }
            let (_, ty) = text_origin(c, bx, by);
            let _ = write!(
                s,
                "<text x=\"{:.2}\" y=\"{ty:.2}\" text-anchor=\"middle\" font-size=\"{}\" \
                 fill=\"{}\" xml:space=\"preserve\">",
                bx + c.x + c.w / 2.0,
                c.size,
                c.color
            );
            for r in &c.runs {
                if r.bold {
                    let _ = write!(
                        s,
                        "<tspan font-weight=\"bold\">{}</tspan>",
                        xml_escape(&r.text)
                    );
                } else {
                    s.push_str(&xml_escape(&r.text));
                }
            }
            s.push_str("</text>\n");
        }
        s.push_str("</g>\n");
    }
    for (i, e) in layout.edges.iter().enumerate() {
        let d: Vec<String> = e
            .points
            .iter()
            .enumerate()
            .map(|(k, (x, y))| format!("{}{x:.2},{y:.2}", if k == 0 { "M" } else { "L" }))
            .collect();
        let arrow: Vec<String> = e
            .arrow
            .iter()
            .map(|(x, y)| format!("{x:.2},{y:.2}"))
            .collect();
        let _ = writeln!(
            s,
            "<g class=\"edge\" id=\"edge{i}\">\n<title>{}&#45;&gt;{}</title>\n\
             <path d=\"{}\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/>\n\
             <polygon points=\"{}\" fill=\"black\" stroke=\"black\" stroke-width=\"2\"/>\n</g>",
            xml_escape(&graph.nodes[e.from].name),
            xml_escape(&graph.nodes[e.to].name),
            d.join(" "),
            arrow.join(" ")
        );
    }
    s.push_str("</svg>\n");
    s
}
