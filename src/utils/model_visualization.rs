//! `keras.utils.plot_model`: a model's layer graph as a picture (SVG or PNG), laid out here in
//! pure Rust, without Graphviz, and lettered with the bundled DejaVu Sans font.
//!
//! The boxes are Keras's: a black header with the layer's class (and name, with
//! `show_layer_names`), white cells below it with the input and output shapes, the dtype or
//! whether the layer trains. Layers are ranked top to bottom by their depth in the graph,
//! ordered in each rank to keep edges from crossing, and joined by right-angled arrows, as
//! Graphviz's `splines="ortho"` that Keras asks for.
//!
//! The drawing helpers shared with [`History::plot`](crate::callbacks::History::plot) (the font,
//! the file format by extension, PNG encoding, atomic writes) live here too.

use crate::engine::{dtype_name, LayerRef, Shape};
use crate::models::{Model, SequentialNet};
use crate::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Shared drawing helpers.

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The font family the pictures name. plotters' own default family, registered with the
/// bundled DejaVu Sans for PNGs; an SVG viewer uses its own sans-serif font.
pub(crate) const FAMILY: &str = "sans-serif";

/// The font stack written into `plot_model`'s SVG (widths are measured with DejaVu Sans, the
/// widest of these, so text fits whichever the viewer has).
const SVG_FONTS: &str = "DejaVu Sans,Verdana,Helvetica,Arial,sans-serif";

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

/// PNG bytes of an RGB image, its resolution recorded as `dpi`.
pub(crate) fn encode_png(rgb: &[u8], width: u32, height: u32, dpi: f64) -> Result<Vec<u8>> {
    let err = |e: png::EncodingError| Error::runtime(format!("cannot encode PNG: {e}"));
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let ppm = (dpi / 0.0254).round() as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: ppm,
        yppu: ppm,
        unit: png::Unit::Meter,
    }));
    let mut w = enc.write_header().map_err(err)?;
    w.write_image_data(rgb).map_err(err)?;
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

// ---------------------------------------------------------------------------------------------
// plot_model.

/// The options of [`plot_model_with`] and [`model_to_svg`]: Keras's keyword arguments of
/// `keras.utils.plot_model`, with its defaults.
///
/// ```
/// use keras::utils::PlotModelOptions;
/// let opts = PlotModelOptions { show_shapes: true, rankdir: "LR".into(), ..Default::default() };
/// assert!(!opts.show_layer_names && opts.dpi == 200);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PlotModelOptions {
    /// Show each layer's input and output shapes (default `false`).
    pub show_shapes: bool,
    /// Show each layer's output dtype (default `false`).
    pub show_dtype: bool,
    /// Show each layer's name beside its class (default `false`, as Keras 3's `plot_model`;
    /// the name is always in the SVG's tooltip).
    pub show_layer_names: bool,
    /// The direction of the graph: `"TB"` (top to bottom, the default), `"LR"` (left to right),
    /// `"BT"` or `"RL"`.
    pub rankdir: String,
    /// Resolution of a PNG in dots per inch (default 200): the picture is laid out in points
    /// (1/72 inch) and rasterized at `dpi / 72` pixels per point. SVGs are in points.
    pub dpi: u32,
    /// Show the activation of layers that have one (default `false`).
    pub show_layer_activations: bool,
    /// Show whether each layer with weights is trainable (default `false`).
    pub show_trainable: bool,
}

impl Default for PlotModelOptions {
    fn default() -> Self {
        PlotModelOptions {
            show_shapes: false,
            show_dtype: false,
            show_layer_names: false,
            rankdir: "TB".into(),
            dpi: 200,
            show_layer_activations: false,
            show_trainable: false,
        }
    }
}

/// Keras's `keras.utils.plot_model(model, to_file)` with the default options: draws the
/// model's layers and their connections into `path`, an `.svg` or `.png` file (a name without
/// an extension gets PNG, as in Keras), written atomically. A `Sequential` is drawn as its
/// stack of layers, a functional model as its graph (every input and output, a shared layer
/// as one box with all its connections, a nested model as one box), a subclassed model as one
/// box.
///
/// ```no_run
/// use keras::prelude::*;
/// let inputs = Input::new(&[784]);
/// let x = Dense::new(64).activation("relu").call(&inputs)?;
/// let outputs = Dense::new(10).activation("softmax").call(&x)?;
/// let model = Model::new(&[inputs], &[outputs])?;
/// keras::utils::plot_model(&model, "model.png")?;
/// # Ok::<(), keras::Error>(())
/// ```
pub fn plot_model(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    plot_model_with(model, path, PlotModelOptions::default())
}

/// [`plot_model`] with Keras's options (`show_shapes`, `show_layer_names`, `rankdir`, `dpi`,
/// ...).
///
/// ```no_run
/// use keras::prelude::*;
/// use keras::utils::{plot_model_with, PlotModelOptions};
/// # let model = Sequential::from_layers([Input::new(&[4]).into(), Dense::new(2).into()])?;
/// plot_model_with(&model, "model.svg", PlotModelOptions {
///     show_shapes: true,
///     show_layer_names: true,
///     ..Default::default()
/// })?;
/// # Ok::<(), keras::Error>(())
/// ```
pub fn plot_model_with(
    model: &Model,
    path: impl AsRef<Path>,
    options: PlotModelOptions,
) -> Result<()> {
    let path = path.as_ref();
    let format = image_format(path, "plot_model", Some(ImageFormat::Png))?;
    let (graph, layout) = prepare(model, &options)?;
    let bytes = match format {
        ImageFormat::Svg => svg(&graph, &layout, &model.get_name()).into_bytes(),
        ImageFormat::Png => png_of(&graph, &layout, options.dpi, path)?,
    };
    write_file(path, &bytes)
}

/// The SVG text of [`plot_model_with`]'s picture, without writing a file. Each layer is a
/// `<g class="node">` group titled with its name, each connection a `<g class="edge">` group
/// with one `<path>` and its arrowhead.
///
/// ```
/// use keras::prelude::*;
/// use keras::utils::{model_to_svg, PlotModelOptions};
/// let inputs = Input::new(&[8]);
/// let x = Dense::new(4).name("hidden").call(&inputs)?;
/// let outputs = Dense::new(1).name("head").call(&x)?;
/// let model = Model::new(&[inputs], &[outputs])?;
/// let svg = model_to_svg(&model, &PlotModelOptions { show_layer_names: true, ..Default::default() })?;
/// assert_eq!(svg.matches("<g class=\"node\"").count(), 3);
/// assert_eq!(svg.matches("<g class=\"edge\"").count(), 2);
/// assert!(svg.contains("<title>hidden</title>"));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn model_to_svg(model: &Model, options: &PlotModelOptions) -> Result<String> {
    let (graph, layout) = prepare(model, options)?;
    Ok(svg(&graph, &layout, &model.get_name()))
}

/// A piece of a label: text, bold or not.
#[derive(Clone, Debug, PartialEq)]
struct Run {
    text: String,
    bold: bool,
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
struct Cell {
    runs: Vec<Run>,
    /// Font size in points (16 for the header, 14 below, as Keras's label).
    size: f64,
    fill: &'static str,
    color: &'static str,
    /// Position in the box (points, relative to its top-left corner).
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// One box of the picture: a layer.
#[derive(Clone, Debug)]
struct GraphNode {
    name: String,
    cells: Vec<Cell>,
    w: f64,
    h: f64,
}

/// The layers to draw and the connections between them (`(from, to)`, no duplicates).
struct Graph {
    nodes: Vec<GraphNode>,
    edges: Vec<(usize, usize)>,
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
        let layers = g.layers().to_vec();
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

fn build_graph(model: &Model, o: &PlotModelOptions) -> Result<Graph> {
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

fn prepare(model: &Model, o: &PlotModelOptions) -> Result<(Graph, Layout)> {
    let dir = RankDir::parse(&o.rankdir)?;
    let graph = build_graph(model, o)?;
    let sizes: Vec<(f64, f64)> = graph.nodes.iter().map(|n| (n.w, n.h)).collect();
    let layout = layout(&sizes, &graph.edges, dir);
    Ok((graph, layout))
}

// ---------------------------------------------------------------------------------------------
// Layout: ranks, order in each rank, positions, right-angled edges.

/// Graphviz's `rankdir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RankDir {
    TB,
    BT,
    LR,
    RL,
}

impl RankDir {
    fn parse(s: &str) -> Result<RankDir> {
        match s.to_ascii_uppercase().as_str() {
            "TB" => Ok(RankDir::TB),
            "BT" => Ok(RankDir::BT),
            "LR" => Ok(RankDir::LR),
            "RL" => Ok(RankDir::RL),
            _ => Err(Error::value(format!(
                "plot_model: rankdir must be \"TB\", \"LR\", \"BT\" or \"RL\"; received \"{s}\""
            ))),
        }
    }
    fn vertical(self) -> bool {
        matches!(self, RankDir::TB | RankDir::BT)
    }
}

/// Where everything goes, in points.
#[derive(Debug)]
struct Layout {
    width: f64,
    height: f64,
    /// Top-left corner of each box.
    boxes: Vec<(f64, f64)>,
    edges: Vec<EdgePath>,
}

/// A drawn connection: a polyline ending at the base of its arrowhead.
#[derive(Debug)]
struct EdgePath {
    from: usize,
    to: usize,
    points: Vec<(f64, f64)>,
    arrow: [(f64, f64); 3],
}

const MARGIN: f64 = 8.0;
const NODE_SEP: f64 = 18.0; // Graphviz's nodesep, 0.25 inch
const RANK_SEP: f64 = 36.0; // Graphviz's ranksep, 0.5 inch
const CHANNEL_SEP: f64 = 9.0; // between the horizontal runs of edges in one gap
const DUMMY_SIZE: f64 = 8.0; // room for an edge passing through a rank
const ARROW_LEN: f64 = 10.0;
const ARROW_WIDTH: f64 = 7.0;
const LOOP: f64 = 20.0; // how far a self-loop reaches out of its box

/// Isotonic fit with minimum gaps: the positions closest (least squares) to `desired` that keep
/// their order and at least `gaps[i]` between item `i` and `i + 1`.
fn pack(desired: &[f64], gaps: &[f64]) -> Vec<f64> {
    let mut offsets = vec![0.0; desired.len()];
    for i in 1..desired.len() {
        offsets[i] = offsets[i - 1] + gaps[i - 1];
    }
    // Pool adjacent violators on desired - offset.
    let mut blocks: Vec<(f64, usize)> = vec![]; // (sum, count)
    for (d, o) in desired.iter().zip(&offsets) {
        blocks.push((d - o, 1));
        while blocks.len() >= 2 {
            let (s2, c2) = blocks[blocks.len() - 1];
            let (s1, c1) = blocks[blocks.len() - 2];
            if s1 / c1 as f64 > s2 / c2 as f64 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (s1 + s2, c1 + c2);
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (s, c) in blocks {
        for _ in 0..c {
            out.push(s / c as f64);
        }
    }
    out.iter().zip(&offsets).map(|(y, o)| y + o).collect()
}

/// Edge crossings between two adjacent ranks, for segments given as (position above,
/// position below).
fn crossings(segs: &[(usize, usize)]) -> usize {
    let mut n = 0;
    for (i, a) in segs.iter().enumerate() {
        for b in &segs[i + 1..] {
            if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) {
                n += 1;
            }
        }
    }
    n
}

/// Lays out boxes of `sizes` (width, height) joined by `edges`.
fn layout(sizes: &[(f64, f64)], edges: &[(usize, usize)], dir: RankDir) -> Layout {
    let n = sizes.len();
    // Sizes across the ranks and along them.
    let across_of = |(w, h): (f64, f64)| if dir.vertical() { w } else { h };
    let along_of = |(w, h): (f64, f64)| if dir.vertical() { h } else { w };

    let loops: Vec<usize> = edges
        .iter()
        .filter(|(a, b)| a == b)
        .map(|(a, _)| *a)
        .collect();
    let real: Vec<(usize, usize, usize)> = edges
        .iter()
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, &(a, b))| (i, a, b))
        .collect();

    // 1. Break cycles (a shared layer fed by its own descendants): a depth-first walk from the
    //    sources turns back edges around.
    let mut out: Vec<Vec<(usize, usize)>> = vec![vec![]; n]; // (edge index in `real`, target)
    let mut has_pred = vec![false; n];
    for (k, &(_, a, b)) in real.iter().enumerate() {
        out[a].push((k, b));
        has_pred[b] = true;
    }
    let mut reversed = vec![false; real.len()];
    let mut state = vec![0u8; n]; // 0 unseen, 1 on the walk, 2 done
    let starts: Vec<usize> = (0..n).filter(|&v| !has_pred[v]).chain(0..n).collect();
    for s in starts {
        if state[s] != 0 {
            continue;
        }
        let mut stack = vec![(s, 0usize)];
        state[s] = 1;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if let Some(&(k, w)) = out[v].get(*i) {
                *i += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[k] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let dag: Vec<(usize, usize)> = real
        .iter()
        .zip(&reversed)
        .map(|(&(_, a, b), &r)| if r { (b, a) } else { (a, b) })
        .collect();

    // 2. Ranks: longest path from the sources; sources then sit just above their first user.
    let mut indeg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![vec![]; n];
    for &(a, b) in &dag {
        indeg[b] += 1;
        succ[a].push(b);
    }
    let mut rank = vec![0usize; n];
    let mut queue: Vec<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    let mut head = 0;
    while head < queue.len() {
        let v = queue[head];
        head += 1;
        for &w in &succ[v] {
            rank[w] = rank[w].max(rank[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push(w);
            }
        }
    }
    let is_source: Vec<bool> = (0..n).map(|v| !dag.iter().any(|&(_, b)| b == v)).collect();
    for v in 0..n {
        if is_source[v] && !succ[v].is_empty() {
            rank[v] = succ[v].iter().map(|&w| rank[w]).min().unwrap_or(1) - 1;
        }
    }
    let n_ranks = rank.iter().max().map_or(0, |r| r + 1);

    // 3. Chains: an edge over several ranks passes through one dummy node per rank between.
    let mut node_rank = rank.clone();
    let mut across: Vec<f64> = sizes.iter().map(|&s| across_of(s)).collect();
    let mut along: Vec<f64> = sizes.iter().map(|&s| along_of(s)).collect();
    let mut right_extra = vec![0.0; n];
    for &v in &loops {
        right_extra[v] = LOOP + 4.0;
    }
    let mut chains: Vec<Vec<usize>> = vec![];
    for &(a, b) in &dag {
        let mut chain = vec![a];
        for r in rank[a] + 1..rank[b] {
            node_rank.push(r);
            across.push(DUMMY_SIZE);
            along.push(0.0);
            right_extra.push(0.0);
            chain.push(node_rank.len() - 1);
        }
        chain.push(b);
        chains.push(chain);
    }
    let total = node_rank.len();
    let mut preds: Vec<Vec<usize>> = vec![vec![]; total];
    let mut succs: Vec<Vec<usize>> = vec![vec![]; total];
    for c in &chains {
        for w in c.windows(2) {
            succs[w[0]].push(w[1]);
            preds[w[1]].push(w[0]);
        }
    }

    // 4. Order in each rank: barycenters, sweeping down and up, keeping the best.
    let mut ranks: Vec<Vec<usize>> = vec![vec![]; n_ranks];
    for v in 0..total {
        ranks[node_rank[v]].push(v);
    }
    let mut index = vec![0usize; total];
    let reindex = |ranks: &Vec<Vec<usize>>, index: &mut Vec<usize>| {
        for r in ranks {
            for (i, &v) in r.iter().enumerate() {
                index[v] = i;
            }
        }
    };
    reindex(&ranks, &mut index);
    let count = |index: &Vec<usize>| -> usize {
        (0..n_ranks.saturating_sub(1))
            .map(|r| {
                let segs: Vec<(usize, usize)> = (0..total)
                    .filter(|&v| node_rank[v] == r)
                    .flat_map(|v| succs[v].iter().map(move |&w| (v, w)))
                    .map(|(v, w)| (index[v], index[w]))
                    .collect();
                crossings(&segs)
            })
            .sum()
    };
    let mut best = (count(&index), ranks.clone());
    for it in 0..24 {
        if best.0 == 0 {
            break;
        }
        let down = it % 2 == 0;
        let order: Vec<usize> = if down {
            (1..n_ranks).collect()
        } else {
            (0..n_ranks.saturating_sub(1)).rev().collect()
        };
        for r in order {
            let key = |v: usize| -> f64 {
                let nb = if down { &preds[v] } else { &succs[v] };
                if nb.is_empty() {
                    index[v] as f64
                } else {
                    nb.iter().map(|&u| index[u] as f64).sum::<f64>() / nb.len() as f64
                }
            };
            let mut keyed: Vec<(f64, usize)> = ranks[r].iter().map(|&v| (key(v), v)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            ranks[r] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in ranks[r].iter().enumerate() {
                index[v] = i;
            }
        }
        let c = count(&index);
        if c < best.0 {
            best = (c, ranks.clone());
        }
    }
    let ranks = best.1;
    reindex(&ranks, &mut index);

    // 5. Positions across the ranks: each box near the mean of its neighbours, boxes of a rank
    //    kept in order and apart.
    let gaps = |r: &Vec<usize>| -> Vec<f64> {
        r.windows(2)
            .map(|w| (across[w[0]] + across[w[1]]) / 2.0 + right_extra[w[0]] + NODE_SEP)
            .collect()
    };
    let mut x = vec![0.0; total];
    for r in &ranks {
        let p = pack(&vec![0.0; r.len()], &gaps(r));
        for (&v, p) in r.iter().zip(p) {
            x[v] = p;
        }
    }
    let place = |x: &mut Vec<f64>, r: &Vec<usize>, nbs: &dyn Fn(usize) -> Vec<usize>| {
        let desired: Vec<f64> = r
            .iter()
            .map(|&v| {
                let nb = nbs(v);
                if nb.is_empty() {
                    x[v]
                } else {
                    nb.iter().map(|&u| x[u]).sum::<f64>() / nb.len() as f64
                }
            })
            .collect();
        for (&v, p) in r.iter().zip(pack(&desired, &gaps(r))) {
            x[v] = p;
        }
    };
    for _ in 0..12 {
        for r in ranks.iter().skip(1) {
            place(&mut x, r, &|v| preds[v].clone());
        }
        for r in ranks.iter().rev().skip(1) {
            place(&mut x, r, &|v| succs[v].clone());
        }
    }
    for r in &ranks {
        place(&mut x, r, &|v| {
            let mut nb = preds[v].clone();
            nb.extend(&succs[v]);
            nb
        });
    }
    // Straighten runs of single links (a box with one successor feeding a box with one
    // predecessor, and long edges through their dummies): one column for the whole run where
    // the neighbours in each rank leave room.
    let mut index_in_rank = vec![0usize; total];
    for r in &ranks {
        for (i, &v) in r.iter().enumerate() {
            index_in_rank[v] = i;
        }
    }
    let tight = |a: usize, b: usize| succs[a].len() == 1 && preds[b].len() == 1 && succs[a][0] == b;
    let mut runs: Vec<Vec<usize>> = vec![];
    for v in 0..total {
        let starts_run = preds[v].len() != 1 || !tight(preds[v][0], v);
        if !starts_run || succs[v].len() != 1 || !tight(v, succs[v][0]) {
            continue;
        }
        let mut run = vec![v];
        let mut cur = v;
        while succs[cur].len() == 1 && tight(cur, succs[cur][0]) {
            cur = succs[cur][0];
            run.push(cur);
        }
        runs.push(run);
    }
    // Long edges first, then longer runs.
    runs.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.iter().filter(|&&v| v >= n).count()),
            std::cmp::Reverse(r.len()),
        )
    });
    for run in &runs {
        let fits = |x: &Vec<f64>, v: usize, c: f64| -> bool {
            let r = &ranks[node_rank[v]];
            let i = index_in_rank[v];
            let left_ok = i == 0 || {
                let u = r[i - 1];
                c - x[u] >= (across[u] + across[v]) / 2.0 + right_extra[u] + NODE_SEP - 1e-6
            };
            let right_ok = i + 1 == r.len() || {
                let w = r[i + 1];
                x[w] - c >= (across[v] + across[w]) / 2.0 + right_extra[v] + NODE_SEP - 1e-6
            };
            left_ok && right_ok
        };
        let cost = |c: f64| run.iter().map(|&v| (x[v] - c).abs()).sum::<f64>();
        let mut best: Option<(f64, f64)> = None;
        for &cand in run.iter() {
            let c = x[cand];
            if run.iter().all(|&v| fits(&x, v, c)) {
                let k = cost(c);
                if best.is_none_or(|(_, bk)| k < bk) {
                    best = Some((c, k));
                }
            }
        }
        if let Some((c, _)) = best {
            for &v in run {
                x[v] = c;
            }
        }
    }
    let min_x = (0..total)
        .map(|v| x[v] - across[v] / 2.0)
        .fold(f64::INFINITY, f64::min);
    for xv in x.iter_mut() {
        *xv += MARGIN - min_x;
    }
    let extent_across = (0..total)
        .map(|v| x[v] + across[v] / 2.0 + right_extra[v])
        .fold(0.0, f64::max)
        + MARGIN;

    // 6. Ports: edges leave a box's far side and enter its near side, spread in the order of
    //    the boxes at their other ends.
    let spread = |v: usize, k: usize, i: usize| -> f64 {
        if k <= 1 {
            return x[v];
        }
        let step = (across[v] * 0.7 / (k - 1) as f64).min(14.0);
        x[v] + (i as f64 - (k - 1) as f64 / 2.0) * step
    };
    let mut out_port = vec![0.0; chains.len()];
    let mut in_port = vec![0.0; chains.len()];
    for v in 0..n {
        let mut outs: Vec<usize> = (0..chains.len()).filter(|&c| chains[c][0] == v).collect();
        outs.sort_by(|&a, &b| x[chains[a][1]].total_cmp(&x[chains[b][1]]));
        for (i, &c) in outs.iter().enumerate() {
            out_port[c] = spread(v, outs.len(), i);
        }
        let mut ins: Vec<usize> = (0..chains.len())
            .filter(|&c| *chains[c].last().expect("two ends") == v)
            .collect();
        ins.sort_by(|&a, &b| {
            let pa = chains[a][chains[a].len() - 2];
            let pb = chains[b][chains[b].len() - 2];
            x[pa].total_cmp(&x[pb])
        });
        for (i, &c) in ins.iter().enumerate() {
            in_port[c] = spread(v, ins.len(), i);
        }
    }
    // The across position where chain `c` leaves its `j`-th node and enters its `j+1`-th.
    let leave = |c: usize, j: usize| {
        if j == 0 {
            out_port[c]
        } else {
            x[chains[c][j]]
        }
    };
    let enter = |c: usize, j: usize| {
        if j + 1 == chains[c].len() - 1 {
            in_port[c]
        } else {
            x[chains[c][j + 1]]
        }
    };

    // 7. Positions along the ranks; each gap gets one channel per edge that turns in it.
    let mut turning: Vec<Vec<(usize, usize)>> = vec![vec![]; n_ranks]; // per gap: (chain, step)
    for (c, chain) in chains.iter().enumerate() {
        for j in 0..chain.len() - 1 {
            if (leave(c, j) - enter(c, j)).abs() > 0.5 {
                turning[node_rank[chain[j]]].push((c, j));
            }
        }
    }
    let thickness: Vec<f64> = ranks
        .iter()
        .map(|r| r.iter().map(|&v| along[v]).fold(0.0, f64::max))
        .collect();
    let mut band_start = vec![0.0; n_ranks];
    let mut gap_size = vec![0.0; n_ranks];
    let mut pos = MARGIN;
    for r in 0..n_ranks {
        band_start[r] = pos;
        pos += thickness[r];
        gap_size[r] = RANK_SEP.max(CHANNEL_SEP * (turning[r].len() as f64 + 1.0));
        if r + 1 < n_ranks {
            pos += gap_size[r];
        }
    }
    let extent_along = pos + MARGIN;
    let center = |v: usize| band_start[node_rank[v]] + thickness[node_rank[v]] / 2.0;
    let mut channel: std::collections::HashMap<(usize, usize), f64> = Default::default();
    for (r, t) in turning.iter_mut().enumerate() {
        // Edges heading the same way in order of their start, so their runs nest.
        t.sort_by(|&(c1, j1), &(c2, j2)| {
            let (a1, b1) = (leave(c1, j1), enter(c1, j1));
            let (a2, b2) = (leave(c2, j2), enter(c2, j2));
            (b1 > a1).cmp(&(b2 > a2)).then(if b1 > a1 {
                a2.total_cmp(&a1)
            } else {
                a1.total_cmp(&a2)
            })
        });
        let start = band_start[r] + thickness[r];
        let m = t.len() as f64;
        for (i, &k) in t.iter().enumerate() {
            channel.insert(k, start + gap_size[r] * (i as f64 + 1.0) / (m + 1.0));
        }
    }

    // Abstract (across, along) to picture coordinates.
    let (width, height) = if dir.vertical() {
        (extent_across, extent_along)
    } else {
        (extent_along, extent_across)
    };
    let to_xy = |a: f64, l: f64| -> (f64, f64) {
        match dir {
            RankDir::TB => (a, l),
            RankDir::BT => (a, extent_along - l),
            RankDir::LR => (l, a),
            RankDir::RL => (extent_along - l, a),
        }
    };
    let boxes: Vec<(f64, f64)> = (0..n)
        .map(|v| {
            let (cx, cy) = to_xy(x[v], center(v));
            (cx - sizes[v].0 / 2.0, cy - sizes[v].1 / 2.0)
        })
        .collect();

    let finish = |from: usize, to: usize, mut pts: Vec<(f64, f64)>| -> EdgePath {
        pts.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9);
        let tip = pts[pts.len() - 1];
        let prev = pts[pts.len() - 2];
        let (dx, dy) = (tip.0 - prev.0, tip.1 - prev.1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let base = (tip.0 - ux * ARROW_LEN, tip.1 - uy * ARROW_LEN);
        let (px, py) = (-uy * ARROW_WIDTH / 2.0, ux * ARROW_WIDTH / 2.0);
        let last = pts.len() - 1;
        pts[last] = base;
        EdgePath {
            from,
            to,
            points: pts,
            arrow: [tip, (base.0 + px, base.1 + py), (base.0 - px, base.1 - py)],
        }
    };

    let mut paths = vec![];
    for (c, chain) in chains.iter().enumerate() {
        let first = chain[0];
        let mut pts = vec![to_xy(out_port[c], center(first) + along[first] / 2.0)];
        for j in 0..chain.len() - 1 {
            let (a, b) = (leave(c, j), enter(c, j));
            if let Some(&ch) = channel.get(&(c, j)) {
                pts.push(to_xy(a, ch));
                pts.push(to_xy(b, ch));
            }
            let next = chain[j + 1];
            if next >= n {
                continue; // a dummy: the edge runs straight on through its rank
            }
            pts.push(to_xy(b, center(next) - along[next] / 2.0));
        }
        let (_, a, b) = real[c];
        if reversed[c] {
            pts.reverse();
        }
        paths.push(finish(a, b, pts));
    }
    for &v in &loops {
        let side = x[v] + across[v] / 2.0;
        let c = center(v);
        let d = (along[v] / 4.0).min(8.0);
        let pts = vec![
            to_xy(side, c - d),
            to_xy(side + LOOP, c - d),
            to_xy(side + LOOP, c + d),
            to_xy(side, c + d),
        ];
        paths.push(finish(v, v, pts));
    }
    // Edges in the order they were given.
    let order: Vec<(usize, usize)> = edges.to_vec();
    paths.sort_by_key(|p| {
        order
            .iter()
            .position(|&e| e == (p.from, p.to))
            .unwrap_or(usize::MAX)
    });

    Layout {
        width: width.ceil(),
        height: height.ceil(),
        boxes,
        edges: paths,
    }
}

// ---------------------------------------------------------------------------------------------
// Output.

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

/// Where a cell's text starts (left end) and its baseline, in points.
fn text_origin(c: &Cell, bx: f64, by: f64) -> (f64, f64) {
    let w = runs_width(&c.runs, c.size);
    (
        bx + c.x + (c.w - w) / 2.0,
        // DejaVu's capitals are 0.73 em tall: centre them.
        by + c.y + c.h / 2.0 + 0.36 * c.size,
    )
}

fn svg(graph: &Graph, layout: &Layout, title: &str) -> String {
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

fn color_of(name: &str) -> RGBColor {
    match name {
        "black" => RGBColor(0, 0, 0),
        "forestgreen" => RGBColor(34, 139, 34),
        "firebrick" => RGBColor(178, 34, 34),
        _ => RGBColor(255, 255, 255),
    }
}

/// The picture rasterized at `dpi`, as PNG bytes.
fn png_of(graph: &Graph, layout: &Layout, dpi: u32, path: &Path) -> Result<Vec<u8>> {
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
    encode_png(&buf, w, h, dpi as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_keeps_order_and_gaps() {
        assert_eq!(pack(&[0.0, 0.0], &[10.0]), vec![-5.0, 5.0]);
        assert_eq!(pack(&[0.0, 50.0], &[10.0]), vec![0.0, 50.0]);
        let p = pack(&[5.0, 0.0, 20.0], &[4.0, 4.0]);
        assert!(p[1] - p[0] >= 4.0 - 1e-9 && p[2] - p[1] >= 4.0 - 1e-9);
    }

    #[test]
    fn chain_is_one_straight_column() {
        let sizes = vec![(100.0, 40.0); 3];
        let l = layout(&sizes, &[(0, 1), (1, 2)], RankDir::TB);
        assert_eq!(l.edges.len(), 2);
        let xs: Vec<f64> = l.boxes.iter().map(|b| b.0).collect();
        assert!(xs.iter().all(|x| (x - xs[0]).abs() < 1e-6), "{xs:?}");
        assert!(l.boxes[0].1 < l.boxes[1].1 && l.boxes[1].1 < l.boxes[2].1);
        // Straight edges: two points each, from one box's bottom to the next box's top.
        for e in &l.edges {
            assert_eq!(e.points.len(), 2);
            let (tip, from) = (e.arrow[0], l.boxes[e.from]);
            assert!((tip.1 - l.boxes[e.to].1).abs() < 1e-6);
            assert!((e.points[0].1 - (from.1 + 40.0)).abs() < 1e-6);
        }
    }

    #[test]
    fn left_to_right_and_long_edges() {
        // 0 -> 1 -> 2 and a skip 0 -> 2: the skip goes around box 1.
        let sizes = vec![(60.0, 30.0); 3];
        let l = layout(&sizes, &[(0, 1), (1, 2), (0, 2)], RankDir::LR);
        assert!(l.boxes[0].0 < l.boxes[1].0 && l.boxes[1].0 < l.boxes[2].0);
        let skip = &l.edges[2];
        let b1 = l.boxes[1];
        for w in skip.points.windows(2) {
            // No segment passes through box 1.
            let (x0, x1) = (w[0].0.min(w[1].0), w[0].0.max(w[1].0));
            let (y0, y1) = (w[0].1.min(w[1].1), w[0].1.max(w[1].1));
            let overlap = x1 > b1.0 && x0 < b1.0 + 60.0 && y1 > b1.1 && y0 < b1.1 + 30.0;
            assert!(!overlap, "{:?} crosses box 1 at {b1:?}", w);
        }
    }

    #[test]
    fn cycles_and_self_loops_lay_out() {
        let sizes = vec![(50.0, 20.0); 3];
        let l = layout(&sizes, &[(0, 1), (1, 2), (2, 1), (1, 1)], RankDir::TB);
        assert_eq!(l.edges.len(), 4);
        assert_eq!((l.edges[2].from, l.edges[2].to), (2, 1));
        // The back edge's arrow points up, into box 1's bottom.
        let tip = l.edges[2].arrow[0];
        assert!((tip.1 - (l.boxes[1].1 + 20.0)).abs() < 1e-6, "{tip:?}");
    }

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
