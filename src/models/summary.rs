//! `model.summary()`: Keras 3's box-drawn table, laid out as `rich` lays it out.
//!
//! Keras (`keras/src/utils/summary_utils.py`) renders a `rich` table of width
//! `min(88, terminal_columns - 4)` (108 with the "Connected to" column), splits it by the
//! positions `[0.45, 0.80, 1.0]` (or `[0.3, 0.56, 0.74, 1.0]`), and lets rich shrink or pad the
//! columns. The same arithmetic here gives the same text, character for character.

use super::functional::Functional;
use super::model::Model;
use crate::engine::{LayerRef, Weight};
use std::fmt::Write;

/// Python's `round` (half to even).
fn py_round(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        let f = x.floor();
        if (f as i64) % 2 == 0 {
            f as i64
        } else {
            f as i64 + 1
        }
    } else {
        r as i64
    }
}

/// rich's `ratio_reduce`: take `total` away from `values` evenly.
fn ratio_reduce(total: i64, values: &[i64]) -> Vec<i64> {
    let mut total_ratio = values.len() as i64;
    let mut remaining = total;
    values
        .iter()
        .map(|&v| {
            let d = v.min(py_round(remaining as f64 / total_ratio as f64));
            remaining -= d;
            total_ratio -= 1;
            v - d
        })
        .collect()
}

/// rich's `ratio_distribute` with the widths as ratios.
fn ratio_distribute(total: i64, ratios: &[i64]) -> Vec<i64> {
    let mut total_ratio: i64 = ratios.iter().sum();
    let mut remaining = total;
    ratios
        .iter()
        .map(|&r| {
            let d = if total_ratio > 0 {
                ((r * remaining) as f64 / total_ratio as f64).ceil() as i64
            } else {
                remaining
            };
            total_ratio -= r;
            remaining -= d;
            d
        })
        .collect()
}

/// Content widths of the columns for a table `line_length` wide.
fn column_widths(line_length: usize, positions: &[f64]) -> Vec<usize> {
    let mut widths = vec![];
    let mut current = 0i64;
    for p in positions {
        let w = (p * line_length as f64) as i64 - current;
        widths.push(w + 2); // plus padding
        current += w;
    }
    let max_width = line_length as i64 - (positions.len() as i64 + 1);
    let sum: i64 = widths.iter().sum();
    if sum > max_width {
        widths = ratio_reduce(sum - max_width, &widths);
    } else if sum < max_width {
        let pads = ratio_distribute(max_width - sum, &widths);
        widths = widths.iter().zip(pads).map(|(w, p)| w + p).collect();
    }
    widths.iter().map(|w| (w - 2).max(1) as usize).collect()
}

/// Word-wraps `text` to `width` columns as rich does in Keras's table: a word too long for
/// a line gets a line of its own, cut to `width` with an ellipsis.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    let mut line = String::new();
    for word in text.split(' ') {
        let wl = word.chars().count();
        let ll = line.chars().count();
        if ll > 0 && ll + 1 + wl <= width {
            line.push(' ');
            line.push_str(word);
            continue;
        }
        if ll > 0 {
            lines.push(std::mem::take(&mut line));
        }
        line = word.to_string();
    }
    lines.push(line);
    lines
        .into_iter()
        .map(|l| {
            if l.chars().count() > width {
                let mut cut: String = l.chars().take(width.saturating_sub(1)).collect();
                cut.push('…');
                cut
            } else {
                l
            }
        })
        .collect()
}

fn pad(s: &str, width: usize, right: bool) -> String {
    let n = s.chars().count();
    let fill = " ".repeat(width.saturating_sub(n));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

fn rule(widths: &[usize], l: char, h: char, m: char, r: char) -> String {
    let mut s = String::new();
    s.push(l);
    for (i, w) in widths.iter().enumerate() {
        s.push_str(&h.to_string().repeat(w + 2));
        s.push(if i + 1 == widths.len() { r } else { m });
    }
    s.push('\n');
    s
}

fn row(cells: &[String], widths: &[usize], right: &[bool], bar: char) -> String {
    let wrapped: Vec<Vec<String>> = cells.iter().zip(widths).map(|(c, &w)| wrap(c, w)).collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    let mut s = String::new();
    for i in 0..height {
        s.push(bar);
        for (j, lines) in wrapped.iter().enumerate() {
            let text = lines.get(i).map(String::as_str).unwrap_or("");
            s.push(' ');
            s.push_str(&pad(text, widths[j], right[j]));
            s.push(' ');
            s.push(bar);
        }
        s.push('\n');
    }
    s
}

/// Keras's `readable_memory_size`.
fn readable_size(bytes: f64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut v = bytes;
    for u in units {
        if v / 1024.0 < 1.0 {
            return format!("{v:.2} {u}");
        }
        v /= 1024.0;
    }
    format!("{v:.2} PB")
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn count(ws: &[Weight]) -> (usize, f64) {
    (
        ws.iter().map(Weight::numel).sum(),
        ws.iter().fold(0.0, |b, w| {
            b + (w.numel() * w.dtype().size_in_bytes()) as f64
        }),
    )
}

fn output_shape(layer: &LayerRef) -> String {
    match layer.output_shape() {
        None => "?".into(),
        Some(shapes) if shapes.len() == 1 => shapes[0].summary_string(),
        Some(shapes) => format!(
            "[{}]",
            shapes
                .iter()
                .map(|s| s.summary_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn params(layer: &LayerRef) -> String {
    if layer.built() {
        thousands(layer.count_params())
    } else {
        "0 (unbuilt)".into()
    }
}

/// Terminal width as Python's `shutil.get_terminal_size` sees it (80 when not a terminal).
fn terminal_columns() -> usize {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return c;
    }
    let term = console::Term::stdout();
    if term.is_term() {
        if let Some((_, cols)) = term.size_checked() {
            return cols as usize;
        }
    }
    80
}

/// Whether Keras would print this functional graph as a plain stack (no "Connected to").
fn sequential_like(g: &Functional) -> bool {
    let mut nodes = vec![];
    for group in &g.nodes_by_depth {
        if group.len() > 1 || (group.len() == 1 && group[0].inputs().len() > 1) {
            return false;
        }
        nodes.extend(group.iter().cloned());
    }
    g.layers().iter().all(|l| {
        l.inbound_nodes()
            .iter()
            .filter(|n| nodes.iter().any(|m| std::sync::Arc::ptr_eq(m, n)))
            .count()
            <= 1
    })
}

fn connections(layer: &LayerRef, g: &Functional) -> String {
    let relevant: Vec<_> = g.nodes_by_depth.iter().flatten().cloned().collect();
    let mut parts = vec![];
    for node in layer.inbound_nodes() {
        if !relevant.iter().any(|m| std::sync::Arc::ptr_eq(m, &node)) {
            continue;
        }
        for kt in node.inputs() {
            let (l, ni, ti) = kt.history();
            parts.push(format!("{}[{ni}][{ti}]", l.name()));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The summary text of a model; `line_length` as Keras's argument (default from the terminal).
pub(crate) fn summary(model: &Model, line_length: Option<usize>) -> String {
    let graph_layers: Option<(Vec<LayerRef>, bool)> =
        model.functional(|g| (g.operations().to_vec(), sequential_like(g)));
    let is_sequential = model.layer().class_name() == "Sequential";
    let (layers, seq_like) = match (&graph_layers, is_sequential) {
        (_, true) | (None, _) => (model.layers(), true),
        (Some((l, s)), false) => (l.clone(), *s),
    };
    let (default_len, positions, header): (usize, Vec<f64>, Vec<&str>) = if seq_like {
        (
            88,
            vec![0.45, 0.80, 1.0],
            vec!["Layer (type)", "Output Shape", "Param #"],
        )
    } else {
        (
            108,
            vec![0.3, 0.56, 0.74, 1.0],
            vec!["Layer (type)", "Output Shape", "Param #", "Connected to"],
        )
    };
    let line_length =
        line_length.unwrap_or_else(|| default_len.min(terminal_columns().saturating_sub(4)));
    let widths = column_widths(line_length, &positions);
    let right: Vec<bool> = header.iter().map(|h| *h == "Param #").collect();

    let mut s = String::new();
    let _ = writeln!(s, "Model: \"{}\"", model.get_name());
    s.push_str(&rule(&widths, '┏', '━', '┳', '┓'));
    s.push_str(&row(
        &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        &widths,
        &right,
        '┃',
    ));
    s.push_str(&rule(&widths, '┡', '━', '╇', '┩'));
    for (i, layer) in layers.iter().enumerate() {
        let mut cells = vec![
            format!("{} ({})", layer.name(), layer.class_name()),
            output_shape(layer),
            params(layer),
        ];
        if !seq_like {
            let conn = model
                .functional(|g| connections(layer, g))
                .unwrap_or_else(|| "-".into());
            cells.push(conn);
        }
        s.push_str(&row(&cells, &widths, &right, '│'));
        if i + 1 < layers.len() {
            s.push_str(&rule(&widths, '├', '─', '┼', '┤'));
        }
    }
    s.push_str(&rule(&widths, '└', '─', '┴', '┘'));
    let (tc, tb) = count(&model.trainable_weights());
    let (nc, nb) = count(&model.non_trainable_weights());
    let (oc, ob) = model.trainer.optimizer_size();
    let _ = writeln!(
        s,
        " Total params: {} ({})",
        thousands(tc + nc + oc),
        readable_size(tb + nb + ob)
    );
    let _ = writeln!(
        s,
        " Trainable params: {} ({})",
        thousands(tc),
        readable_size(tb)
    );
    let _ = writeln!(
        s,
        " Non-trainable params: {} ({})",
        thousands(nc),
        readable_size(nb)
    );
    if oc > 0 {
        let _ = writeln!(
            s,
            " Optimizer params: {} ({})",
            thousands(oc),
            readable_size(ob)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_like_rich() {
        assert_eq!(column_widths(76, &[0.45, 0.80, 1.0]), vec![31, 22, 13]);
        assert_eq!(column_widths(88, &[0.45, 0.80, 1.0]), vec![36, 27, 15]);
        assert_eq!(
            column_widths(76, &[0.3, 0.56, 0.74, 1.0]),
            vec![19, 17, 10, 17]
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(thousands(52650), "52,650");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(readable_size(13864.0), "13.54 KB");
        assert_eq!(readable_size(0.0), "0.00 B");
        assert_eq!(
            wrap("batch_normalization (BatchNormalization)", 31),
            vec!["batch_normalization", "(BatchNormalization)"]
        );
        assert_eq!(py_round(3.5), 4);
        assert_eq!(py_round(2.5), 2);
    }
}
