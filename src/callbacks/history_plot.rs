//! `History::plot`: the training curves as a picture (PNG or SVG), one subplot per metric with
//! its validation twin, as the seeds draw them with matplotlib:
//!
//! ```python
//! plt.subplot(1, 2, 1)
//! plt.plot(history.history['loss'], label='train')
//! plt.plot(history.history['val_loss'], label='val')
//! plt.title('Loss'); plt.legend()
//! ```

use super::History;
use crate::utils::{drawing_error, encode_png, font, image_format, write_file, ImageFormat};
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// matplotlib's first two colors (`tab:blue`, `tab:orange`).
const TRAIN_COLOR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const VAL_COLOR: RGBColor = RGBColor(0xff, 0x7f, 0x0e);
/// One subplot's size in pixels.
const PANEL: (u32, u32) = (600, 450);
/// Resolution recorded in the PNG (matplotlib's default figure dpi).
const DPI: f64 = 100.0;

/// One subplot: a metric and its `val_` twin, each as (epoch, value) points.
struct Panel {
    name: String,
    train: Option<Vec<(f64, f64)>>,
    val: Option<Vec<(f64, f64)>>,
}

/// "sparse_categorical_accuracy" -> "Sparse categorical accuracy".
fn title(name: &str) -> String {
    let acronyms = ["mae", "mse", "mape", "msle", "rmse", "auc", "iou", "lr"];
    let text = name
        .split('_')
        .map(|w| {
            if acronyms.contains(&w) {
                w.to_uppercase()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => text,
    }
}

/// Runs of consecutive finite points (a NaN or an infinity breaks the line).
fn finite_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![];
    let mut run = vec![];
    for &p in points {
        if p.0.is_finite() && p.1.is_finite() {
            run.push(p);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// An axis range around `lo..hi` with a margin (a single value gets a unit-sized one).
fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let d = (lo.abs() * 0.05).max(0.05);
        return (lo - d, hi + d);
    }
    let d = (hi - lo) * frac;
    (lo - d, hi + d)
}

/// matplotlib's `loc="best"`, roughly: the corner the curves pass through least.
fn legend_corner(
    series: &[&Vec<(f64, f64)>],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::UpperRight, (0.55, 1.0), (0.7, 1.0)),
        (SeriesLabelPosition::UpperLeft, (0.0, 0.45), (0.7, 1.0)),
        (SeriesLabelPosition::LowerRight, (0.55, 1.0), (0.0, 0.3)),
        (SeriesLabelPosition::LowerLeft, (0.0, 0.45), (0.0, 0.3)),
    ];
    let mut samples = vec![];
    for s in series {
        for run in finite_runs(s) {
            for w in run.windows(2) {
                for k in 0..10 {
                    let t = k as f64 / 10.0;
                    samples.push((
                        w[0].0 + (w[1].0 - w[0].0) * t,
                        w[0].1 + (w[1].1 - w[0].1) * t,
                    ));
                }
            }
            samples.extend(run.last().copied());
        }
    }
    let norm: Vec<(f64, f64)> = samples
        .iter()
        .map(|&(x, y)| ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0)))
        .collect();
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for (pos, (ax, bx), (ay, by)) in corners {
        let n = norm
            .iter()
            .filter(|&&(x, y)| x >= ax && x <= bx && y >= ay && y <= by)
            .count();
        if n < best.0 {
            best = (n, pos);
        }
    }
    best.1
}

/// Tick labels of the epoch axis: whole numbers as such.
fn epoch_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A curve to draw: its points, color and legend label.
type Series<'a> = (&'a Vec<(f64, f64)>, RGBColor, &'static str);

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let series: Vec<Series> = [
        (panel.train.as_ref(), TRAIN_COLOR, "train"),
        (panel.val.as_ref(), VAL_COLOR, "val"),
    ]
    .into_iter()
    .filter_map(|(s, c, l)| s.map(|s| (s, c, l)))
    .collect();
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|(s, _, _)| s.iter().copied())
        .collect();
    let range = |vals: &mut dyn Iterator<Item = f64>| {
        vals.filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    // Every epoch is on the x axis, even one whose value is NaN.
    let (xl, xh) = range(&mut points.iter().map(|p| p.0));
    let (yl, yh) = range(&mut points.iter().filter(|p| p.0.is_finite()).map(|p| p.1));
    let xr = padded(xl, xh, 0.04);
    let yr = padded(yl, yh, 0.06);
    let epochs = series.iter().map(|(s, _, _)| s.len()).max().unwrap_or(1);

    let mut chart = ChartBuilder::on(area)
        .caption(title(&panel.name), font(22.0, false))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(68)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    chart
        .configure_mesh()
        .x_desc("Epoch")
        .y_desc(&panel.name)
        .x_labels(epochs.clamp(2, 10))
        .y_labels(8)
        .x_label_formatter(&epoch_label)
        .label_style(font(14.0, false))
        .axis_desc_style(font(16.0, false))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(TRANSPARENT)
        .draw()?;
    for &(points, color, label) in &series {
        let style = ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: 2,
        };
        let runs = finite_runs(points);
        for (i, run) in runs.iter().enumerate() {
            let drawn = chart.draw_series(LineSeries::new(run.iter().copied(), style))?;
            if i == 0 {
                drawn
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x - 2, y), (x + 18, y)], style));
            }
            if points.len() <= 60 {
                chart.draw_series(run.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            }
        }
    }
    let drawn: Vec<&Vec<(f64, f64)>> = series.iter().map(|(s, _, _)| *s).collect();
    chart
        .configure_series_labels()
        .position(legend_corner(&drawn, xr, yr))
        .margin(12)
        .legend_area_size(26)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(font(15.0, false))
        .draw()?;
    Ok(())
}

impl History {
    /// The curves as subplots side by side, one per metric (`loss`, `accuracy`, ...), each
    /// with its `val_` twin when there is one: x is the epoch (from 1), the training curve
    /// blue and labelled "train", the validation curve orange and labelled "val" (the seeds'
    /// matplotlib figure). A NaN breaks its curve. Written atomically to `path`, a `.png` (600
    /// by 450 pixels per subplot) or an `.svg`; any other extension, or an empty History, is
    /// an error.
    ///
    /// ```no_run
    /// # use keras::prelude::*;
    /// # fn f(model: &mut Model, x: &Tensor, y: &Tensor) -> keras::Result<()> {
    /// let history = model.fit(x, y, FitArgs { epochs: 10, validation_split: 0.2, ..Default::default() })?;
    /// history.plot("training.png")?;
    /// # Ok(()) }
    /// ```
    ///
    /// ```
    /// use keras::callbacks::History;
    /// let mut h = History::default();
    /// h.history.push("loss", 0.7);
    /// h.history.push("loss", 0.4);
    /// let dir = std::env::temp_dir().join(format!("keras_doc_plot_{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// h.plot(dir.join("loss.svg"))?;
    /// assert!(h.plot(dir.join("loss.pdf")).is_err());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let format = image_format(path, "History::plot", None)?;
        let panels = self.panels();
        if panels.is_empty() {
            return Err(Error::value(format!(
                "History::plot: cannot draw \"{}\": the History is empty (no epoch was recorded)",
                path.display()
            )));
        }
        let (w, h) = (PANEL.0 * panels.len() as u32, PANEL.1);
        let bytes = match format {
            ImageFormat::Png => {
                let mut buf = vec![255u8; w as usize * h as usize * 3];
                {
                    let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
                    for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(&panels) {
                        draw_panel(area, panel).map_err(|e| drawing_error(path, e))?;
                    }
                    root.present().map_err(|e| drawing_error(path, e))?;
                }
                encode_png(&buf, w, h, 3, Some(DPI))?
            }
            ImageFormat::Svg => {
                let mut text = String::new();
                {
                    let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
                    root.fill(&WHITE).map_err(|e| drawing_error(path, e))?;
                    for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(&panels) {
                        draw_panel(area, panel).map_err(|e| drawing_error(path, e))?;
                    }
                    root.present().map_err(|e| drawing_error(path, e))?;
                }
                text.into_bytes()
            }
        };
        write_file(path, &bytes)
    }

    /// The subplots: one per metric name with the `val_` prefix taken off, in arrival order.
    fn panels(&self) -> Vec<Panel> {
        let longest = self.history.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        // Epoch numbers (from 1) of a full-length series: the recorded ones when they match.
        let full: Vec<f64> = if self.epoch.len() == longest {
            self.epoch.iter().map(|&e| e as f64 + 1.0).collect()
        } else {
            (1..=longest).map(|e| e as f64).collect()
        };
        let xs = |n: usize| -> Vec<f64> {
            if n == longest {
                full.clone()
            } else if n > 0 && longest % n == 0 {
                // Validated every k-th epoch (validation_freq = k).
                let k = longest / n;
                (1..=n).map(|i| full[i * k - 1]).collect()
            } else {
                (1..=n).map(|e| e as f64).collect()
            }
        };
        let mut panels: Vec<Panel> = vec![];
        for (key, values) in self.history.iter() {
            let (base, is_val) = match key.strip_prefix("val_") {
                Some(b) if !b.is_empty() => (b, true),
                _ => (key.as_str(), false),
            };
            let points: Vec<(f64, f64)> = xs(values.len())
                .into_iter()
                .zip(values.iter().copied())
                .collect();
            let i = match panels.iter().position(|p| p.name == base) {
                Some(i) => i,
                None => {
                    panels.push(Panel {
                        name: base.to_string(),
                        train: None,
                        val: None,
                    });
                    panels.len() - 1
                }
            };
            if is_val {
                panels[i].val = Some(points);
            } else {
                panels[i].train = Some(points);
            }
        }
        panels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        let mut h = History::default();
        for (i, (l, a)) in [(0.9, 0.6), (0.6, 0.75), (0.45, 0.82), (0.4, 0.85)]
            .iter()
            .enumerate()
        {
            h.history.push("loss", *l);
            h.history.push("accuracy", *a);
            h.history.push("val_loss", l + 0.1);
            h.history.push("val_accuracy", a - 0.05);
            h.history.push("learning_rate", 0.001);
            h.epoch.push(i);
        }
        h
    }

    #[test]
    fn one_panel_per_metric_with_its_val_twin() {
        let p = history().panels();
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["loss", "accuracy", "learning_rate"]);
        assert_eq!(
            p[0].train.as_ref().unwrap()[0],
            (1.0, 0.9),
            "epochs count from 1"
        );
        assert_eq!(p[1].val.as_ref().unwrap()[3], (4.0, 0.85 - 0.05));
        assert!(p[2].val.is_none());
    }

    #[test]
    fn validation_every_other_epoch_sits_at_its_epochs() {
        let mut h = History::default();
        for e in 0..4 {
            h.history.push("loss", 1.0 / (e + 1) as f64);
            h.epoch.push(e);
        }
        h.history.push("val_loss", 0.6);
        h.history.push("val_loss", 0.3);
        let p = h.panels();
        let xs: Vec<f64> = p[0].val.as_ref().unwrap().iter().map(|p| p.0).collect();
        assert_eq!(xs, [2.0, 4.0]);
    }

    #[test]
    fn helpers() {
        assert_eq!(title("loss"), "Loss");
        assert_eq!(
            title("sparse_categorical_accuracy"),
            "Sparse categorical accuracy"
        );
        assert_eq!(title("val_mae"), "Val MAE");
        assert_eq!(epoch_label(&3.0), "3");
        assert_eq!(epoch_label(&2.5), "2.5");
        assert_eq!(padded(1.0, 1.0, 0.1), (0.95, 1.05));
        let runs = finite_runs(&[(1.0, 1.0), (2.0, f64::NAN), (3.0, 2.0), (4.0, 3.0)]);
        assert_eq!(runs, vec![vec![(1.0, 1.0)], vec![(3.0, 2.0), (4.0, 3.0)]]);
        // A falling curve leaves the upper right corner free, a rising one the upper left.
        let falling = vec![(1.0, 1.0), (2.0, 0.5), (3.0, 0.0)];
        let pos = legend_corner(&[&falling], (1.0, 3.0), (0.0, 1.0));
        assert!(matches!(pos, SeriesLabelPosition::UpperRight));
        let rising = vec![(1.0, 0.0), (2.0, 0.5), (3.0, 1.0)];
        let pos = legend_corner(&[&rising], (1.0, 3.0), (0.0, 1.0));
        assert!(matches!(pos, SeriesLabelPosition::UpperLeft));
    }

    #[test]
    fn errors_name_the_path() {
        let e = History::default()
            .plot("nothing.png")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nothing.png") && e.contains("empty"), "{e}");
        let e = history().plot("curves.jpg").unwrap_err().to_string();
        assert!(e.contains("curves.jpg"), "{e}");
    }
}
