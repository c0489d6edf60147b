//! The tutorials' user metric: an `F1Score` written as a `Metric` that holds a `Precision` and
//! a `Recall` (result `2pr / (p + r)`), compiled beside the built-in Precision, Recall and AUC
//! on a small binary task. The progress bar and History show all four.
//!
//! ```text
//! cargo run --release --example custom_metric
//! ```
//!
//! The Keras version:
//!
//! ```python
//! class F1Score(keras.metrics.Metric):
//!     def __init__(self, name="f1_score", **kwargs):
//!         super().__init__(name=name, **kwargs)
//!         self.precision = keras.metrics.Precision()
//!         self.recall = keras.metrics.Recall()
//!     def update_state(self, y_true, y_pred, sample_weight=None):
//!         self.precision.update_state(y_true, y_pred, sample_weight)
//!         self.recall.update_state(y_true, y_pred, sample_weight)
//!     def result(self):
//!         p, r = self.precision.result(), self.recall.result()
//!         return 2 * ((p * r) / (p + r + keras.backend.epsilon()))
//!     def reset_state(self):
//!         self.precision.reset_state()
//!         self.recall.reset_state()
//!
//! model.compile(optimizer="adam", loss="binary_crossentropy",
//!               metrics=[F1Score(), Precision(), Recall(), AUC()])
//! ```

use keras::metrics::{Direction, Metric, MetricArg, Precision, Recall, AUC};
use keras::prelude::*;

/// The tutorials' F1 score: the harmonic mean of a Precision and a Recall it holds.
struct F1Score {
    name: String,
    precision: Precision,
    recall: Recall,
}

impl F1Score {
    fn new(name: &str) -> Self {
        F1Score {
            name: name.to_string(),
            precision: Precision::new(),
            recall: Recall::new(),
        }
    }
}

impl Metric for F1Score {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> keras::Result<()> {
        self.precision.update_state(y_true, y_pred, sample_weight)?;
        self.recall.update_state(y_true, y_pred, sample_weight)
    }
    fn result(&self) -> f64 {
        let (p, r) = (self.precision.result(), self.recall.result());
        2.0 * ((p * r) / (p + r + 1e-7))
    }
    fn reset_state(&mut self) {
        self.precision.reset_state();
        self.recall.reset_state();
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
    /// The state saved with the model: both inner metrics' counts.
    fn variables(&self) -> Vec<Tensor> {
        [self.precision.variables(), self.recall.variables()].concat()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> keras::Result<()> {
        let n = self.precision.variables().len();
        if values.len() < n {
            return Err(keras::Error::value(format!(
                "F1Score has {} state variables; received {}",
                n + self.recall.variables().len(),
                values.len()
            )));
        }
        self.precision.set_variables(&values[..n])?;
        self.recall.set_variables(&values[n..])
    }
}

/// A reproducible binary task: 8 features, label 1 when a fixed linear score plus noise is
/// positive (about 40% positives).
fn synthetic(n: usize, seed: u64) -> keras::Result<(Tensor, Tensor)> {
    let mut state = seed;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) as f32
    };
    let w = [0.9f32, -0.6, 0.4, 0.0, 1.2, -0.3, 0.0, 0.5];
    let (mut x, mut y) = (Vec::with_capacity(n * 8), Vec::with_capacity(n));
    for _ in 0..n {
        let row: Vec<f32> = (0..8).map(|_| uniform() * 2.0 - 1.0).collect();
        let score: f32 = row.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>() - 0.2;
        let noise = (uniform() - 0.5) * 0.6;
        y.push(if score + noise > 0.0 { 1f32 } else { 0.0 });
        x.extend(row);
    }
    Ok((
        Tensor::from_vec(x, (n, 8), &Device::Cpu)?,
        Tensor::from_vec(y, (n, 1), &Device::Cpu)?,
    ))
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(7);
    let (x, y) = synthetic(2048, 42)?;

    let mut model = Sequential::from_layers([
        Dense::new(16).activation("relu").input_shape([8]).into(),
        Dense::new(8).activation("relu").into(),
        Dense::new(1).activation("sigmoid").into(),
    ])?;
    model.compile(
        "adam",
        "binary_crossentropy",
        vec![
            MetricArg::from(F1Score::new("f1_score")),
            Precision::new().into(),
            Recall::new().into(),
            AUC::new().into(),
        ],
    )?;
    let history = model.fit(
        &x,
        &y,
        FitArgs::new()
            .epochs(8)
            .batch_size(64)
            .validation_split(0.2),
    )?;

    let keys: Vec<&String> = history.history.keys().collect();
    println!("History keys: {keys:?}");
    for key in ["f1_score", "precision", "recall", "auc"] {
        for k in [key.to_string(), format!("val_{key}")] {
            let v = history.history.get(&k).ok_or_else(|| {
                keras::Error::runtime(format!("History has no '{k}' (keys: {keys:?})"))
            })?;
            println!(
                "{k:>14}: {:?}",
                v.iter()
                    .map(|x| (x * 1e4).round() / 1e4)
                    .collect::<Vec<_>>()
            );
        }
    }
    let auc = history
        .history
        .get("val_auc")
        .and_then(|v| v.last().copied())
        .unwrap_or(0.0);
    if auc < 0.9 {
        return Err(keras::Error::runtime(format!(
            "validation AUC {auc:.4} is below 0.9: the model did not learn the task"
        )));
    }
    Ok(())
}
