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
//! the file format by extension, PNG encoding, atomic writes) live in `drawing`.

mod drawing;
mod graph;
mod layout;
mod raster;
mod svg;

use crate::models::Model;
use crate::Result;
use graph::{build_graph, Graph};
use layout::{layout, Layout, RankDir};
use raster::png_of;
use std::path::Path;
use svg::svg;

pub(crate) use drawing::{drawing_error, encode_png, font, image_format, write_file, ImageFormat};

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

fn prepare(model: &Model, o: &PlotModelOptions) -> Result<(Graph, Layout)> {
    let dir = RankDir::parse(&o.rankdir)?;
    let graph = build_graph(model, o)?;
    let sizes: Vec<(f64, f64)> = graph.nodes.iter().map(|n| (n.w, n.h)).collect();
    let layout = layout(&sizes, &graph.edges, dir);
    Ok((graph, layout))
}
