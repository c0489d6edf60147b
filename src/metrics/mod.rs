//! Metrics, as `keras.metrics`: stateful averages over the samples seen since the last reset.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, SparseCategoricalAccuracy};
//! let mut m = SparseCategoricalAccuracy::new("accuracy");
//! let y = Tensor::new(&[2u32, 0], &Device::Cpu)?;
//! let p = Tensor::new(&[[0.1f32, 0.2, 0.7], [0.3, 0.6, 0.1]], &Device::Cpu)?;
//! m.update_state(&y, &p)?;
//! assert_eq!(m.result(), 0.5);
//! # Ok::<(), keras::Error>(())
//! ```

use crate::ops::{self, Tensor};
use crate::{Error, Result};

/// A metric: accumulate with `update_state`, read with `result`, clear with `reset_state`.
pub trait Metric: Send {
    /// The name shown in logs and History (`accuracy`, `mae`, ...).
    fn name(&self) -> &str;
    /// Accumulates a batch.
    fn update_state(&mut self, y_true: &Tensor, y_pred: &Tensor) -> Result<()>;
    /// The current value.
    fn result(&self) -> f64;
    /// Clears the state.
    fn reset_state(&mut self);
    /// Whether a larger value is better (`Up`, accuracy) or worse (`Down`, errors), as Keras's
    /// `_direction`; callbacks in `mode="auto"` read it.
    fn direction(&self) -> Option<Direction> {
        None
    }
}

/// Which way a metric improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Larger is better.
    Up,
    /// Smaller is better.
    Down,
}

/// A running, sample-weighted mean of values (Keras's `Mean`; the loss tracker).
#[derive(Clone, Debug, Default)]
pub struct Mean {
    name: String,
    total: f64,
    count: f64,
}

impl Mean {
    /// A mean called `name`.
    pub fn new(name: &str) -> Self {
        Mean {
            name: name.to_string(),
            total: 0.0,
            count: 0.0,
        }
    }

    /// Adds `value` with weight `weight` (e.g. a batch loss with the batch size).
    pub fn add(&mut self, value: f64, weight: f64) {
        self.total += value * weight;
        self.count += weight;
    }

    /// The mean so far (0 before any value).
    pub fn value(&self) -> f64 {
        if self.count == 0.0 {
            0.0
        } else {
            self.total / self.count
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.total = 0.0;
        self.count = 0.0;
    }
}

/// Rows of the last axis of `t` as f32 values: (values, rows, row length).
fn rows(t: &Tensor) -> Result<(Vec<f32>, usize, usize)> {
    let v = ops::to_vec_f32(t)?;
    let n = t.dims().last().copied().unwrap_or(1).max(1);
    let r = if t.rank() == 0 { 1 } else { v.len() / n };
    Ok((v, r, n))
}

fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

macro_rules! mean_metric {
    ($(#[$doc:meta])* $name:ident, $default:expr, $dir:ident, |$yt:ident, $yp:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(Mean);
        impl $name {
            /// The metric, shown in logs as `name`.
            pub fn new(name: &str) -> Self {
                $name(Mean::new(name))
            }
        }
        impl Default for $name {
            fn default() -> Self {
                Self::new($default)
            }
        }
        impl Metric for $name {
            fn name(&self) -> &str {
                self.0.name()
            }
            fn update_state(&mut self, $yt: &Tensor, $yp: &Tensor) -> Result<()> {
                let (sum, n): (f64, usize) = $body?;
                self.0.add(if n == 0 { 0.0 } else { sum / n as f64 }, n as f64);
                Ok(())
            }
            fn result(&self) -> f64 {
                self.0.value()
            }
            fn reset_state(&mut self) {
                self.0.reset()
            }
            fn direction(&self) -> Option<Direction> {
                Some(Direction::$dir)
            }
        }
    };
}

fn same_count(a: &[f32], b: &[f32], what: &str) -> Result<()> {
    if a.len() != b.len() {
        return Err(Error::shape(format!(
            "{what}: y_true has {} values but y_pred has {}",
            a.len(),
            b.len()
        )));
    }
    Ok(())
}

mean_metric!(
    /// Fraction of rows whose arg-max matches the integer label.
    SparseCategoricalAccuracy, "sparse_categorical_accuracy", Up, |y_true, y_pred| {
        let (p, r, n) = rows(y_pred)?;
        let t = ops::to_vec_f32(y_true)?;
        if t.len() != r {
            return Err(Error::shape(format!(
                "sparse_categorical_accuracy: {} labels for {r} predictions",
                t.len()
            )));
        }
        let hits = p.chunks_exact(n).zip(&t).filter(|(row, &l)| argmax(row) as f32 == l).count();
        Ok::<_, Error>((hits as f64, r))
    }
);

mean_metric!(
    /// Fraction of rows whose arg-max matches the one-hot label's.
    CategoricalAccuracy, "categorical_accuracy", Up, |y_true, y_pred| {
        let (p, r, n) = rows(y_pred)?;
        let t = ops::to_vec_f32(y_true)?;
        same_count(&t, &p, "categorical_accuracy")?;
        let hits = p.chunks_exact(n).zip(t.chunks_exact(n)).filter(|(a, b)| argmax(a) == argmax(b)).count();
        Ok::<_, Error>((hits as f64, r))
    }
);

mean_metric!(
    /// Fraction of predictions on the right side of 0.5.
    BinaryAccuracy, "binary_accuracy", Up, |y_true, y_pred| {
        let p = ops::to_vec_f32(y_pred)?;
        let t = ops::to_vec_f32(y_true)?;
        same_count(&t, &p, "binary_accuracy")?;
        let hits = p.iter().zip(&t).filter(|(&a, &b)| ((a > 0.5) as i32 as f32) == b).count();
        Ok::<_, Error>((hits as f64, p.len()))
    }
);

mean_metric!(
    /// Mean absolute error.
    MeanAbsoluteError, "mean_absolute_error", Down, |y_true, y_pred| {
        let p = ops::to_vec_f32(y_pred)?;
        let t = ops::to_vec_f32(y_true)?;
        same_count(&t, &p, "mean_absolute_error")?;
        let s: f64 = p.iter().zip(&t).map(|(&a, &b)| (a as f64 - b as f64).abs()).sum();
        Ok::<_, Error>((s, p.len()))
    }
);

mean_metric!(
    /// Mean squared error.
    MeanSquaredError, "mean_squared_error", Down, |y_true, y_pred| {
        let p = ops::to_vec_f32(y_pred)?;
        let t = ops::to_vec_f32(y_true)?;
        same_count(&t, &p, "mean_squared_error")?;
        let s: f64 = p.iter().zip(&t).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
        Ok::<_, Error>((s, p.len()))
    }
);

/// Every name [`get`] knows (`accuracy` / `acc` are resolved from the shapes, see
/// [`resolve_accuracy`]).
pub const NAMES: &[&str] = &[
    "acc",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "sparse_categorical_accuracy",
];

/// A metric by Keras name; the name given is the name shown in logs. `accuracy` needs the
/// shapes: use [`resolve_accuracy`].
pub fn get(name: &str) -> Result<Box<dyn Metric>> {
    Ok(match name {
        "mae" | "mean_absolute_error" => Box::new(MeanAbsoluteError::new(name)),
        "mse" | "mean_squared_error" => Box::new(MeanSquaredError::new(name)),
        "binary_accuracy" => Box::new(BinaryAccuracy::new(name)),
        "categorical_accuracy" => Box::new(CategoricalAccuracy::new(name)),
        "sparse_categorical_accuracy" => Box::new(SparseCategoricalAccuracy::new(name)),
        "accuracy" | "acc" => {
            return Err(Error::value(
                "'accuracy' depends on the shapes: use metrics::resolve_accuracy",
            ))
        }
        _ => {
            return Err(Error::value(format!(
                "Could not interpret metric identifier: {name}. Valid metrics are: {}",
                NAMES.join(", ")
            )))
        }
    })
}

/// Keras's resolution of `"accuracy"` / `"acc"`: binary if predictions have one column,
/// sparse-categorical if the labels have one axis less (or one column against several),
/// categorical otherwise. The metric keeps the name given.
pub fn resolve_accuracy(
    name: &str,
    y_true_dims: &[usize],
    y_pred_dims: &[usize],
) -> Box<dyn Metric> {
    let last = y_pred_dims.last().copied().unwrap_or(1);
    let sparse = last != 1
        && (y_true_dims.len() + 1 == y_pred_dims.len()
            || (y_true_dims.len() == y_pred_dims.len() && y_true_dims.last() == Some(&1)));
    if last == 1 {
        Box::new(BinaryAccuracy::new(name))
    } else if sparse {
        Box::new(SparseCategoricalAccuracy::new(name))
    } else {
        Box::new(CategoricalAccuracy::new(name))
    }
}

/// A metric given by name or value (for `compile`).
pub enum MetricArg {
    /// By Keras name.
    Name(String),
    /// A metric object.
    Value(Box<dyn Metric>),
}

impl From<&str> for MetricArg {
    fn from(s: &str) -> Self {
        MetricArg::Name(s.to_string())
    }
}

impl<M: Metric + 'static> From<M> for MetricArg {
    fn from(m: M) -> Self {
        MetricArg::Value(Box::new(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    #[test]
    fn accuracy_resolution_like_keras() {
        assert!(resolve_accuracy("acc", &[8], &[8, 10])
            .update_state(
                &Tensor::zeros(8, ops::DType::F32, &Device::Cpu).unwrap(),
                &Tensor::zeros((8, 10), ops::DType::F32, &Device::Cpu).unwrap()
            )
            .is_ok());
        let mut b = resolve_accuracy("accuracy", &[4, 1], &[4, 1]);
        b.update_state(
            &Tensor::new(&[[1f32], [0.], [1.], [0.]], &Device::Cpu).unwrap(),
            &Tensor::new(&[[0.9f32], [0.2], [0.3], [0.6]], &Device::Cpu).unwrap(),
        )
        .unwrap();
        assert_eq!(b.result(), 0.5);
        let mut c = resolve_accuracy("accuracy", &[2, 3], &[2, 3]);
        c.update_state(
            &Tensor::new(&[[0f32, 0., 1.], [1., 0., 0.]], &Device::Cpu).unwrap(),
            &Tensor::new(&[[0.1f32, 0.2, 0.7], [0.1, 0.8, 0.1]], &Device::Cpu).unwrap(),
        )
        .unwrap();
        assert_eq!(c.result(), 0.5);
        assert_eq!(c.name(), "accuracy");
    }

    #[test]
    fn mean_weights_by_samples() {
        let mut m = MeanAbsoluteError::default();
        m.update_state(
            &Tensor::new(&[0f32, 0.0], &Device::Cpu).unwrap(),
            &Tensor::new(&[1f32, 1.0], &Device::Cpu).unwrap(),
        )
        .unwrap();
        m.update_state(
            &Tensor::new(&[0f32], &Device::Cpu).unwrap(),
            &Tensor::new(&[4f32], &Device::Cpu).unwrap(),
        )
        .unwrap();
        assert!((m.result() - 2.0).abs() < 1e-12);
        m.reset_state();
        assert_eq!(m.result(), 0.0);
        assert!(get("accx").is_err());
    }
}
