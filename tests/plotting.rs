//! Pictures: `History::plot` (training curves, PNG / SVG) and `keras::utils::plot_model` (the
//! layer graph, SVG / PNG). Set `KERAS_PLOT_DIR` to keep the pictures there for a look.

use keras::callbacks::History;
use keras::layers;
use keras::prelude::*;
use keras::utils::{model_to_svg, plot_model, plot_model_with, PlotModelOptions};
use std::path::{Path, PathBuf};

/// A folder for one test's files, removed afterwards unless `KERAS_PLOT_DIR` is set (then the
/// pictures stay in `$KERAS_PLOT_DIR/<test>/` to look at).
struct OutDir {
    path: PathBuf,
    keep: bool,
}

impl std::ops::Deref for OutDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
            // The shared parent goes with the last test's folder.
            if let Some(parent) = self.path.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
    }
}

fn out_dir(test: &str) -> OutDir {
    let keep = std::env::var_os("KERAS_PLOT_DIR");
    let base = keep.clone().map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("keras_plotting_{}", std::process::id()))
    });
    let path = base.join(test);
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    OutDir {
        path,
        keep: keep.is_some(),
    }
}

/// Nothing but `names` in `dir` (no temporary files left behind).
fn only_files(dir: &Path, names: &[&str]) {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    found.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(found, want);
}

fn training_history() -> History {
    let mut h = History::default();
    let loss = [1.2, 0.8, 0.55, 0.42, 0.35, 0.31, 0.29, 0.27];
    let val_loss = [1.0, 0.75, 0.6, 0.52, 0.5, 0.49, 0.5, 0.52];
    let acc = [0.55, 0.7, 0.8, 0.85, 0.88, 0.9, 0.91, 0.92];
    let val_acc = [0.6, 0.72, 0.78, 0.81, 0.82, 0.83, 0.83, 0.82];
    for i in 0..loss.len() {
        h.history.push("loss", loss[i]);
        h.history.push("accuracy", acc[i]);
        h.history.push("val_loss", val_loss[i]);
        h.history.push("val_accuracy", val_acc[i]);
        h.epoch.push(i);
    }
    h
}

fn near(p: &image::Rgb<u8>, c: [u8; 3], tol: i32) -> bool {
    p.0.iter()
        .zip(c)
        .all(|(&a, b)| (a as i32 - b as i32).abs() <= tol)
}

#[test]
fn history_png_has_both_curves_in_both_subplots() {
    let dir = out_dir("history_png");
    let path = dir.join("history.png");
    training_history().plot(&path).unwrap();
    only_files(&dir, &["history.png"]);

    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(
        img.dimensions(),
        (1200, 450),
        "two 600x450 subplots side by side"
    );
    let (w, h) = img.dimensions();
    let blue = [0x1f, 0x77, 0xb4];
    let orange = [0xff, 0x7f, 0x0e];
    for (half, x0) in [("left", 0), ("right", w / 2)] {
        let mut ink = 0;
        let mut blues = 0;
        let mut oranges = 0;
        for y in 0..h {
            for x in x0..x0 + w / 2 {
                let p = img.get_pixel(x, y);
                if p.0 != [255, 255, 255] {
                    ink += 1;
                }
                if near(p, blue, 10) {
                    blues += 1;
                }
                if near(p, orange, 10) {
                    oranges += 1;
                }
            }
        }
        assert!(
            ink > 5_000,
            "{half} subplot is nearly blank: {ink} drawn pixels"
        );
        assert!(
            blues > 300,
            "{half} subplot: {blues} pixels of the train curve"
        );
        assert!(
            oranges > 300,
            "{half} subplot: {oranges} pixels of the val curve"
        );
    }
}

#[test]
fn history_svg_has_titles_legends_and_lines() {
    let dir = out_dir("history_svg");
    let path = dir.join("history.svg");
    training_history().plot(&path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    // The text of every <text> element.
    let texts: Vec<&str> = svg
        .split("</text>")
        .filter_map(|part| part.rsplit('>').next())
        .map(str::trim)
        .collect();
    for (text, want) in [
        ("Loss", 1),
        ("Accuracy", 1),
        ("loss", 1),
        ("accuracy", 1),
        ("Epoch", 2),
        ("train", 2),
        ("val", 2),
    ] {
        let n = texts.iter().filter(|t| **t == text).count();
        assert_eq!(n, want, "{text} in the SVG's texts {texts:?}");
    }
    let lower = svg.to_lowercase();
    // Two curves per subplot, plus the two legends' samples.
    assert!(lower.matches("#1f77b4").count() >= 4);
    assert!(lower.matches("#ff7f0e").count() >= 4);
    assert!(svg.matches("<polyline").count() >= 4);
}

#[test]
fn history_plot_errors() {
    let dir = out_dir("history_errors");
    let e = training_history()
        .plot(dir.join("curves.pdf"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("curves.pdf") && e.contains(".png"), "{e}");
    let e = History::default()
        .plot(dir.join("empty.png"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty.png"), "{e}");
    only_files(&dir, &[]);
    // A metric without a val twin, a val metric alone, a NaN and one epoch all draw.
    let mut h = History::default();
    h.history.push("loss", f64::NAN);
    h.history.push("loss", 0.5);
    h.history.push("val_mae", 0.3);
    h.history.push("val_mae", 0.2);
    h.plot(dir.join("odd.png")).unwrap();
    let mut one = History::default();
    one.history.push("loss", 0.5);
    one.plot(dir.join("one.svg")).unwrap();
    only_files(&dir, &["odd.png", "one.svg"]);
}

fn mlp() -> Sequential {
    Sequential::from_layers([
        Input::new([784]).into(),
        Dense::new(64).activation("relu").name("hidden_1").into(),
        Dense::new(64).activation("relu").name("hidden_2").into(),
        Dense::new(10)
            .activation("softmax")
            .name("predictions")
            .into(),
    ])
    .unwrap()
    .name("mlp")
}

/// Two inputs through one shared layer, a nested Sequential, merges, two outputs.
fn two_tower() -> Model {
    let a = Input::shape([6]).name("left").build();
    let b = Input::shape([6]).name("right").build();
    let shared = Dense::new(5).activation("tanh").name("shared").into_layer();
    let (ha, hb) = (shared.call(&a).unwrap(), shared.call(&b).unwrap());
    let inner = Sequential::from_layers([
        Input::new([5]).into(),
        Dense::new(4).activation("relu").name("inner_dense").into(),
    ])
    .unwrap()
    .name("inner");
    let ia = inner.call(&ha).unwrap();
    let m = layers::concatenate(&[ia, hb]).unwrap();
    let proj = Dense::new(9).name("proj").call(&m).unwrap();
    let m2 = layers::add(&[proj, m]).unwrap();
    let out1 = Dense::new(3)
        .activation("softmax")
        .name("cls")
        .call(&m2)
        .unwrap();
    let sq = layers::multiply(&[m2.clone(), m2]).unwrap();
    let out2 = Dense::new(1).name("reg").call(&sq).unwrap();
    Model::new(&[a, b], &[out1, out2])
        .unwrap()
        .name("two_tower")
}

fn names_on() -> PlotModelOptions {
    PlotModelOptions {
        show_layer_names: true,
        show_shapes: true,
        ..Default::default()
    }
}

#[test]
fn sequential_mlp_svg() {
    let m = mlp();
    let dir = out_dir("plot_model_mlp");
    let path = dir.join("mlp.svg");
    plot_model_with(&m, &path, names_on()).unwrap();
    only_files(&dir, &["mlp.svg"]);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    // Keras draws a Sequential's layers without its InputLayer.
    assert_eq!(svg.matches("<g class=\"node\"").count(), 3);
    assert_eq!(svg.matches("<g class=\"edge\"").count(), 2);
    assert_eq!(svg.matches("<path ").count(), 2);
    for name in ["hidden_1", "hidden_2", "predictions"] {
        assert_eq!(
            svg.matches(&format!("<title>{name}</title>")).count(),
            1,
            "{name}"
        );
        assert_eq!(
            svg.matches(&format!(
                "<tspan font-weight=\"bold\">{name}</tspan> (Dense)"
            ))
            .count(),
            1,
            "{name}"
        );
    }
    assert!(svg.contains("<title>hidden_1&#45;&gt;hidden_2</title>"));
    assert!(svg.contains("<title>hidden_2&#45;&gt;predictions</title>"));
    assert!(svg.contains("Input shape: <tspan font-weight=\"bold\">(None, 784)</tspan>"));
    assert!(svg.contains("Output shape: <tspan font-weight=\"bold\">(None, 10)</tspan>"));
    // Keras 3's defaults: only the class.
    let plain = model_to_svg(&m, &PlotModelOptions::default()).unwrap();
    assert!(!plain.contains("(Dense)") && !plain.contains("Output shape"));
    assert_eq!(
        plain
            .matches("<tspan font-weight=\"bold\">Dense</tspan>")
            .count(),
        3
    );
}

#[test]
fn two_inputs_two_outputs_shared_and_nested_svg() {
    let m = two_tower();
    let dir = out_dir("plot_model_two_tower");
    let path = dir.join("two_tower.svg");
    plot_model_with(&m, &path, names_on()).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    // Merge layers are named by Keras's counters (`add`, `add_1`, ... in this process).
    let names: Vec<String> = m.layers().iter().map(|l| l.name()).collect();
    let name = |prefix: &str| -> String {
        names
            .iter()
            .find(|n| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {names:?}"))
            .clone()
    };
    assert_eq!(names.len(), 10, "{names:?}");
    assert_eq!(svg.matches("<g class=\"node\"").count(), names.len());
    for name in &names {
        assert_eq!(
            svg.matches(&format!("<title>{name}</title>")).count(),
            1,
            "{name}"
        );
    }
    // The nested model is one box; its layers are not drawn.
    assert!(!svg.contains("inner_dense"));
    assert!(svg.contains("<tspan font-weight=\"bold\">inner</tspan> (Sequential)"));
    let edges = [
        ("left", "shared"),
        ("right", "shared"),
        ("shared", "inner"),
        ("shared", "concatenate"),
        ("inner", "concatenate"),
        ("concatenate", "proj"),
        ("concatenate", "add"),
        ("proj", "add"),
        ("add", "cls"),
        ("add", "multiply"), // called on (m2, m2): one edge
        ("multiply", "reg"),
    ];
    assert_eq!(svg.matches("<g class=\"edge\"").count(), edges.len());
    assert_eq!(svg.matches("<path ").count(), edges.len());
    assert_eq!(svg.matches("<polygon ").count(), edges.len());
    for (a, b) in edges {
        let (a, b) = (name(a), name(b));
        assert_eq!(
            svg.matches(&format!("<title>{a}&#45;&gt;{b}</title>"))
                .count(),
            1,
            "{a} -> {b}"
        );
    }
    // The shared layer is called on both inputs: the shapes of its first call, as Keras.
    assert!(svg.contains("Input shape: <tspan font-weight=\"bold\">(None, 6)</tspan>"));
}

#[test]
fn plot_model_png_and_options() {
    let m = two_tower();
    let dir = out_dir("plot_model_png");
    let path = dir.join("two_tower.png");
    plot_model_with(&m, &path, names_on()).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    assert!(h > w, "top to bottom: {w}x{h}");
    let black = img.pixels().filter(|p| p.0 == [0, 0, 0]).count();
    let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
    assert!(
        black > 10_000 && white > black,
        "{black} black, {white} white pixels"
    );
    // dpi scales the raster: 72 dpi is one pixel per point, 144 two.
    let small = dir.join("small.png");
    let large = dir.join("large.png");
    for (p, dpi) in [(&small, 72), (&large, 144)] {
        plot_model_with(&m, p, PlotModelOptions { dpi, ..names_on() }).unwrap();
    }
    let (ws, hs) = image::open(&small).unwrap().to_rgb8().dimensions();
    let (wl, hl) = image::open(&large).unwrap().to_rgb8().dimensions();
    assert!((wl as i64 - 2 * ws as i64).abs() <= 2 && (hl as i64 - 2 * hs as i64).abs() <= 2);
    // Left to right: wider than high; a file without an extension is a PNG, as in Keras.
    let lr = dir.join("lr");
    plot_model_with(
        &m,
        &lr,
        PlotModelOptions {
            rankdir: "LR".into(),
            ..names_on()
        },
    )
    .unwrap();
    let (wr, hr) = image::load_from_memory(&std::fs::read(&lr).unwrap())
        .unwrap()
        .to_rgb8()
        .dimensions();
    assert!(wr > hr, "left to right: {wr}x{hr}");
    plot_model(&mlp(), dir.join("mlp.png")).unwrap();
    // All of Keras's label options at once.
    let all = PlotModelOptions {
        show_dtype: true,
        show_layer_activations: true,
        show_trainable: true,
        ..names_on()
    };
    let svg = model_to_svg(&m, &all).unwrap();
    assert!(svg.contains("Activation: <tspan font-weight=\"bold\">tanh</tspan>"));
    assert!(svg.contains("Output dtype: <tspan font-weight=\"bold\">float32</tspan>"));
    assert!(svg.contains("forestgreen"));
    plot_model_with(&m, dir.join("all.png"), all).unwrap();
    only_files(
        &dir,
        &[
            "two_tower.png",
            "small.png",
            "large.png",
            "lr",
            "mlp.png",
            "all.png",
        ],
    );
}

#[test]
fn plot_model_errors() {
    let dir = out_dir("plot_model_errors");
    let e = plot_model(&mlp(), dir.join("m.pdf"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("m.pdf"), "{e}");
    let bad = PlotModelOptions {
        rankdir: "XY".into(),
        ..Default::default()
    };
    assert!(plot_model_with(&mlp(), dir.join("m.svg"), bad).is_err());
    let mut unbuilt = Sequential::new();
    unbuilt.add(Dense::new(3)).unwrap();
    let e = plot_model(&unbuilt, dir.join("u.svg"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not yet been built"), "{e}");
    only_files(&dir, &[]);
}

#[test]
fn big_application_graph() {
    let m = keras::applications::ResNet50::default().build().unwrap();
    let svg = model_to_svg(&m, &names_on()).unwrap();
    assert_eq!(svg.matches("<g class=\"node\"").count(), 177);
    // A chain plus one shortcut per residual block (16 of them).
    assert_eq!(svg.matches("<g class=\"edge\"").count(), 176 + 16);
    let dir = out_dir("plot_model_resnet");
    std::fs::write(dir.join("resnet50.svg"), &svg).unwrap();
    plot_model_with(
        &m,
        dir.join("resnet50.png"),
        PlotModelOptions {
            dpi: 36,
            ..names_on()
        },
    )
    .unwrap();
}

/// A subclassed model has no graph to draw: one box, as Keras.
struct Mlp {
    dense: LayerRef,
}

impl keras::models::Subclass for Mlp {
    fn call(&self, x: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
        Ok(vec![self.dense.apply(&x[0])?])
    }
    fn layers(&self) -> Vec<LayerRef> {
        vec![self.dense.clone()]
    }
}

#[test]
fn subclassed_model_is_one_box() {
    let m = Model::subclass(Mlp {
        dense: Dense::new(3).into_layer(),
    });
    m.build([None, Some(4)]).unwrap();
    let svg = model_to_svg(&m, &PlotModelOptions::default()).unwrap();
    assert_eq!(svg.matches("<g class=\"node\"").count(), 1);
    assert_eq!(svg.matches("<g class=\"edge\"").count(), 0);
}
