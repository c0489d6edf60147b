//! The model walked into boxes (a layer's label cells, sized with the font) and the edges
//! between them, as Keras's `model_to_dot`.

use super::drawing::text_width;
use super::PlotModelOptions;
use crate::engine::{dtype_name, LayerRef, Shape};
use crate::models::{Model, SequentialNet};
use crate::{Error, Result};

/// A piece of a label: text, bold or not.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Run {
    pub(super) text: String,
    pub(super) bold: bool,
}

fn plain(t: impl Into<String>) -> Run {
    Run {
        text: t.into(),
        bold: false,
    }
}

fn bold(t: impl Into<String>) -> Run {
    Run {
        text: t.into(),
        bold: true,
    }
}

/// One cell of a box (Keras's table cells).
#[derive(Clone, Debug)]
pub(super) struct Cell {
    pub(super) runs: Vec<Run>,
    /// Font size in points (16 for the header, 14 below, as Keras's label).
    pub(super) size: f64,
    pub(super) fill: &'static str,
    pub(super) color: &'static str,
    /// Position in the box (points, relative to its top-left corner).
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) w: f64,
    pub(super) h: f64,
}

/// One box of the picture: a layer.
#[derive(Clone, Debug)]
pub(super) struct GraphNode {
    pub(super) name: String,
    pub(super) cells: Vec<Cell>,
    pub(super) w: f64,
    pub(super) h: f64,
}

/// The layers to draw and the connections between them (`(from, to)`, no duplicates).
pub(super) struct Graph {
    pub(super) nodes: Vec<GraphNode>,
    pub(super) edges: Vec<(usize, usize)>,
}

const CELL_PAD: f64 = 10.0; // Keras's cellpadding
const CELL_SPACING: f64 = 2.0; // Graphviz's default cellspacing: the black frame between cells
const HEADER_SIZE: f64 = 16.0;
const CELL_SIZE: f64 = 14.0;

/// The layers and connections of `model`, as Keras's `model_to_dot` finds them.
fn layers_and_edges(model: &Model) -> (Vec<LayerRef>, Vec<(usize, usize)>) {
    let net = model.layer();
    let mut edges: Vec<(usize, usize)> = vec![];
    let mut add = |e: (usize, usize)| {
        if !edges.contains(&e) {
            edges.push(e);
        }
    };
    // A Sequential: its layers (no InputLayer), each feeding the next.
    if let Some(layers) = net.with(|s: &SequentialNet| s.layers().to_vec()) {
        for i in 1..layers.len() {
            add((i - 1, i));
        }
        return (layers, edges);
    }
    // A functional model: every layer of the graph, joined where a call of one takes an output
    // of another (only the calls that belong to this graph).
    let graph = model.functional(|g| {
        let nodes: Vec<_> = g.nodes_by_depth.iter().flatten().cloned().collect();
        let layers = g.operations().to_vec();
        let mut pairs = vec![];
        for (j, layer) in layers.iter().enumerate() {
            for node in layer.inbound_nodes() {
                if !nodes.iter().any(|m| std::sync::Arc::ptr_eq(m, &node)) {
                    continue;
                }
                for kt in node.inputs() {
                    if let Some(i) = layers.iter().position(|l| l.same(kt.layer())) {
                        pairs.push((i, j));
                    }
                }
            }
        }
        (layers, pairs)
    });
    match graph {
        Some((layers, pairs)) => {
            for p in pairs {
                add(p);
            }
            (layers, edges)
        }
        // A subclassed model: one box.
        None => (vec![net.clone()], edges),
    }
}

/// Keras's `format_shape`: a tuple, or a list of them.
fn format_shapes(shapes: &[Shape]) -> String {
    match shapes {
        [] => "?".into(),
        [s] => s.to_string(),
        many => format!(
            "[{}]",
            many.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The activation's name of a layer that has one.
fn activation_name(layer: &LayerRef) -> Option<String> {
    let config = layer.with_dyn(|l| l.get_config()).ok()?;
    match config.get("activation")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o
            .get("config")
            .and_then(|c| c.get("name"))
            .or_else(|| o.get("class_name"))
            .and_then(|v| v.as_str())
            .map(str::to_string),
        _ => None,
    }
}

/// The cells of a layer's box, as Keras's `make_layer_label`.
fn label(layer: &LayerRef, o: &PlotModelOptions) -> Vec<Vec<Cell>> {
    let cell = |runs: Vec<Run>, size: f64, fill: &'static str, color: &'static str| Cell {
        runs,
        size,
        fill,
        color,
        x: 0.0,
        y: 0.0,
        w: 0.0,
        h: 0.0,
    };
    let class = layer.class_name().to_string();
    let header = if o.show_layer_names {
        vec![bold(layer.name()), plain(format!(" ({class})"))]
    } else {
        vec![bold(class.clone())]
    };
    let mut rows = vec![vec![cell(header, HEADER_SIZE, "black", "white")]];
    if o.show_layer_activations {
        if let Some(a) = activation_name(layer) {
            rows.push(vec![cell(
                vec![plain("Activation: "), bold(a)],
                CELL_SIZE,
                "white",
                "black",
            )]);
        }
    }
    // Keras reads `layer.input` / `layer.output`: the layer's first call.
    let first = layer.inbound_nodes().into_iter().next();
    let mut cols = vec![];
    if o.show_shapes {
        let (ins, outs) = match &first {
            Some(n) => (
                format_shapes(
                    &n.inputs()
                        .iter()
                        .map(|t| t.shape().clone())
                        .collect::<Vec<_>>(),
                ),
                format_shapes(&n.output_shapes()),
            ),
            None => ("?".into(), "?".into()),
        };
        if class != "InputLayer" {
            cols.push(cell(
                vec![plain("Input shape: "), bold(ins)],
                CELL_SIZE,
                "white",
                "black",
            ));
        }
        cols.push(cell(
            vec![plain("Output shape: "), bold(outs)],
            CELL_SIZE,
            "white",
            "black",
        ));
    }
    if o.show_dtype {
        let dtype = match &first {
            Some(n) => {
                let names: Vec<&str> = n.outputs().iter().map(|t| dtype_name(t.dtype())).collect();
                match names.as_slice() {
                    [one] => one.to_string(),
                    [] => "?".into(),
                    many => format!(
                        "[{}]",
                        many.iter()
                            .map(|d| format!("'{d}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            }
            None => "?".into(),
        };
        cols.push(cell(
            vec![plain("Output dtype: "), bold(dtype)],
            CELL_SIZE,
            "white",
            "black",
        ));
    }
    if o.show_trainable && !layer.weights().is_empty() {
        let (text, fill) = if layer.trainable() {
            ("Trainable", "forestgreen")
        } else {
            ("Non-trainable", "firebrick")
        };
        cols.push(cell(vec![bold(text)], CELL_SIZE, fill, "white"));
    }
    if !cols.is_empty() {
        rows.push(cols);
    }
    rows
}

fn runs_width(runs: &[Run], size: f64) -> f64 {
    runs.iter().map(|r| text_width(&r.text, size, r.bold)).sum()
}

/// Sizes a box and places its cells: rows stacked, each row's cells side by side, all rows as
/// wide as the widest, inside a black frame `CELL_SPACING` thick.
fn make_box(name: String, rows: Vec<Vec<Cell>>) -> GraphNode {
    let s = CELL_SPACING;
    let natural = |row: &[Cell]| -> f64 {
        row.iter()
            .map(|c| runs_width(&c.runs, c.size) + 2.0 * CELL_PAD)
            .sum::<f64>()
            + s * (row.len() as f64 - 1.0)
    };
    let inner = rows.iter().map(|r| natural(r)).fold(0.0, f64::max).ceil();
    let mut cells = vec![];
    let mut y = s;
    for row in rows {
        let extra = (inner - natural(&row)) / row.len() as f64;
        let h = (row.iter().map(|c| c.size).fold(0.0, f64::max) * 1.2 + 2.0 * CELL_PAD).round();
        let mut x = s;
        for mut c in row {
            c.w = runs_width(&c.runs, c.size) + 2.0 * CELL_PAD + extra;
            c.h = h;
            c.x = x;
            c.y = y;
            x += c.w + s;
            cells.push(c);
        }
        y += h + s;
    }
    GraphNode {
        name,
        cells,
        w: inner + 2.0 * s,
        h: y,
    }
}

pub(super) fn build_graph(model: &Model, o: &PlotModelOptions) -> Result<Graph> {
    if !model.built() {
        return Err(Error::value(
            "This model has not yet been built. Build the model first by calling `build()` or \
             by calling the model on a batch of data.",
        ));
    }
    let (layers, edges) = layers_and_edges(model);
    let nodes = layers
        .iter()
        .map(|l| make_box(l.name(), label(l, o)))
        .collect();
    Ok(Graph { nodes, edges })
}

/// Where a cell's text starts (left end) and its baseline, in points.
pub(super) fn text_origin(c: &Cell, bx: f64, by: f64) -> (f64, f64) {
    let w = runs_width(&c.runs, c.size);
    (
        bx + c.x + (c.w - w) / 2.0,
        // DejaVu's capitals are 0.73 em tall: centre them.
        by + c.y + c.h / 2.0 + 0.36 * c.size,
    )
}
