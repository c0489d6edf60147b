//! The probabilistic metrics (Keras's `keras/src/metrics/probabilistic_metrics.py`):
//! `KLDivergence`, `Poisson`, and the cross-entropy metrics `BinaryCrossentropy`,
//! `CategoricalCrossentropy`, `SparseCategoricalCrossentropy` (`from_logits`,
//! `label_smoothing`, `axis`, `ignore_class`), with their per-sample functions written as
//! Keras's JAX backend computes them, as tensor ops on the batch's device.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, SparseCategoricalCrossentropy};
//! let mut m = SparseCategoricalCrossentropy::default().from_logits(true);
//! let y = Tensor::new(&[1f32, 0.], &Device::Cpu)?;
//! let p = Tensor::new(&[[0f32, 0.], [0., 0.]], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert!((m.result() - 2f64.ln()).abs() < 1e-6);
//! # Ok::<(), keras::Error>(())
//! ```

use super::mean_metric::{MeanMetric, MeanOf, SampleFn};
use super::reduction_metrics::Mean;
use super::sample_values::{
    axis_index, cast_pair, float, mean_last, mismatch, softplus, sum_last, truncated, EPSILON,
};
use super::state::{args, read_dtype};
use super::Direction;
use crate::ops::{DType, Tensor};
use crate::serialization::{json, Cfg, Config, Value};
use crate::{Error, Result};

/// Keras's `kl_divergence`: `sum(y_true * log(y_true / y_pred), axis=-1)`, both clipped to
/// `[epsilon, 1]`.
pub fn kl_divergence(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = cast_pair(y_true, y_pred)?;
    let t = t.clamp(EPSILON, 1.0)?;
    let p = p.clamp(EPSILON, 1.0)?;
    sum_last(&(&t * (&t / p)?.log()?)?)
}

/// Keras's `poisson`: `mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)`.
pub fn poisson(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = cast_pair(y_true, y_pred)?;
    let logp = (&p + EPSILON)?.log()?;
    mean_last(&(p - (t * logp)?)?)
}

/// Labels in the predictions' dtype and device, of exactly their shape (Keras's backend
/// cross-entropies refuse any other).
fn same_shape(y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Tensor)> {
    let p = float(y_pred)?;
    let t = y_true.to_dtype(p.dtype())?.to_device(p.device())?;
    if t.dims() != p.dims() || p.rank() == 0 {
        return Err(mismatch(y_true.dims(), y_pred.dims()));
    }
    Ok((t, p))
}

fn check_smoothing(label_smoothing: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&label_smoothing) {
        return Err(Error::value(format!(
            "`label_smoothing` must be in [0, 1]; received label_smoothing={label_smoothing}"
        )));
    }
    Ok(label_smoothing)
}

/// Keras's `binary_crossentropy(y_true, y_pred, from_logits, label_smoothing)`: the
/// element-wise binary cross-entropy averaged over the last axis (labels smoothed toward 0.5).
pub fn binary_crossentropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
    label_smoothing: f64,
) -> Result<Tensor> {
    let (t, p) = same_shape(y_true, y_pred)?;
    let ls = check_smoothing(label_smoothing)?;
    let t = if ls != 0.0 {
        t.affine(1.0 - ls, 0.5 * ls)?
    } else {
        t
    };
    let not_t = t.affine(-1.0, 1.0)?;
    let bce = if from_logits {
        // -t * log_sigmoid(p) - (1 - t) * log_sigmoid(-p), log_sigmoid(x) = -softplus(-x).
        ((t * softplus(&p.neg()?)?)? + (not_t * softplus(&p)?)?)?
    } else {
        let p = p.clamp(EPSILON, 1.0 - EPSILON)?;
        let pos = (t * p.log()?)?;
        let neg = (not_t * p.affine(-1.0, 1.0)?.log()?)?;
        (pos + neg)?.neg()?
    };
    mean_last(&bce)
}

/// `log(softmax(x))` along `axis`, computed stably.
fn log_softmax(x: &Tensor, axis: usize) -> Result<Tensor> {
    let z = x.broadcast_sub(&x.max_keepdim(axis)?)?;
    Ok(z.broadcast_sub(&z.exp()?.sum_keepdim(axis)?.log()?)?)
}

/// The log-probabilities along `axis`: `log_softmax` of logits, or the log of probabilities
/// renormalized to sum to 1 and clipped to `[epsilon, 1 - epsilon]` (Keras's backend).
fn log_probs(p: &Tensor, axis: usize, from_logits: bool) -> Result<Tensor> {
    if from_logits {
        log_softmax(p, axis)
    } else {
        let p = p.broadcast_div(&p.sum_keepdim(axis)?)?;
        Ok(p.clamp(EPSILON, 1.0 - EPSILON)?.log()?)
    }
}

/// Keras's `categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)`:
/// `-sum(y_true * log(p), axis)` for one-hot (or soft) labels; `label_smoothing` spreads
/// that much of each label over the classes.
pub fn categorical_crossentropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
    label_smoothing: f64,
    axis: isize,
) -> Result<Tensor> {
    let (t, p) = same_shape(y_true, y_pred)?;
    let ls = check_smoothing(label_smoothing)?;
    let a = axis_index(axis, p.rank())?;
    let t = if ls != 0.0 {
        let classes = t.dims()[t.rank() - 1] as f64;
        t.affine(1.0 - ls, ls / classes)?
    } else {
        t
    };
    Ok((t * log_probs(&p, a, from_logits)?)?.sum(a)?.neg()?)
}

/// Keras's `sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class,
/// axis)`: the cross-entropy of integer labels (the class axis last, as Keras's JAX backend
/// requires), with the mask of the labels that count when `ignore_class` is given (ignored
/// labels have the value 0). Labels out of range have the value 0, as Keras's one-hot.
pub fn sparse_categorical_crossentropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
    ignore_class: Option<i64>,
    axis: isize,
) -> Result<(Tensor, Option<Tensor>)> {
    let p = float(y_pred)?;
    let a = axis_index(axis, p.rank().max(1))?;
    let last = p.rank().saturating_sub(1);
    let mut t = y_true.to_device(p.device())?;
    if t.rank() == p.rank() && t.rank() > a && t.dims()[a] == 1 {
        t = t.squeeze(a)?;
    }
    if t.rank() == p.rank() && t.dims().last() == Some(&1) {
        t = t.squeeze(t.rank() - 1)?;
    }
    if p.rank() == 0 || t.dims() != &p.dims()[..last] {
        return Err(mismatch(y_true.dims(), y_pred.dims()));
    }
    if a != last {
        return Err(Error::value(format!(
            "sparse_categorical_crossentropy: the class axis must be the last one (Keras's \
             JAX backend takes labels of shape y_pred.shape[:-1]); received axis={axis} for \
             y_pred.shape={}",
            crate::ops::shape_str(p.dims())
        )));
    }
    let mut t = truncated(&t)?.to_dtype(p.dtype())?;
    let mut p = p;
    let mask = match ignore_class {
        None => None,
        Some(c) => {
            let valid = t.ne(c as f64)?;
            t = valid.where_cond(&t, &t.zeros_like()?)?;
            let vp = valid.unsqueeze(last)?.broadcast_as(p.dims())?;
            p = vp.where_cond(&p, &p.zeros_like()?)?;
            Some(valid)
        }
    };
    let classes = p.dims()[last];
    let mut shape = vec![1; p.rank()];
    shape[last] = classes;
    let ids = Tensor::arange(0u32, classes as u32, p.device())?
        .to_dtype(p.dtype())?
        .reshape(shape)?;
    let onehot = ids.broadcast_eq(&t.unsqueeze(last)?)?;
    let logp = log_probs(&p, last, from_logits)?;
    // Where the one-hot row is 0 the product is 0 (also against a NaN log-probability of an
    // ignored row, made 0 below).
    let picked = onehot.where_cond(&logp, &logp.zeros_like()?)?;
    let mut res = picked.sum(last)?.neg()?;
    if let Some(valid) = &mask {
        res = valid.where_cond(&res, &res.zeros_like()?)?;
    }
    Ok((res, mask.map(|m| m.to_dtype(DType::F32)).transpose()?))
}

/// The marker of [`KLDivergence`].
#[derive(Clone, Copy, Debug)]
pub struct KLDivergenceFn;
impl SampleFn for KLDivergenceFn {
    const CLASS: &'static str = "KLDivergence";
    const NAME: &'static str = "kl_divergence";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        kl_divergence(y_true, y_pred)
    }
}
/// Keras's `KLDivergence` metric (Kullback-Leibler divergence of labels and predictions).
pub type KLDivergence = MeanOf<KLDivergenceFn>;

/// The marker of [`Poisson`].
#[derive(Clone, Copy, Debug)]
pub struct PoissonFn;
impl SampleFn for PoissonFn {
    const CLASS: &'static str = "Poisson";
    const NAME: &'static str = "poisson";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        poisson(y_true, y_pred)
    }
}
/// Keras's `Poisson` metric.
pub type Poisson = MeanOf<PoissonFn>;

/// Keras's `BinaryCrossentropy` metric (`from_logits`, `label_smoothing`).
#[derive(Clone, Debug)]
pub struct BinaryCrossentropy {
    mean: Mean,
    from_logits: bool,
    label_smoothing: f64,
}

impl BinaryCrossentropy {
    /// The metric named `name`, on probabilities, no smoothing.
    pub fn new(name: &str) -> Self {
        BinaryCrossentropy {
            mean: Mean::new(name),
            from_logits: false,
            label_smoothing: 0.0,
        }
    }
    /// Whether predictions are logits.
    pub fn from_logits(mut self, from_logits: bool) -> Self {
        self.from_logits = from_logits;
        self
    }
    /// Labels smoothed toward 0.5 by this much (in [0, 1]).
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Result<Self> {
        self.label_smoothing = check_smoothing(label_smoothing)?;
        Ok(self)
    }
    /// Keras's config: `name`, `dtype`, `from_logits`, `label_smoothing`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        BinaryCrossentropy::new(c.str_or("name", "binary_crossentropy")?)
            .with_dtype(read_dtype(c)?)
            .from_logits(c.bool_or("from_logits", false)?)
            .label_smoothing(c.f64_or("label_smoothing", 0.0)?)
    }
    fn with_dtype(mut self, dtype: DType) -> Self {
        self.mean = self.mean.with_dtype(dtype);
        self
    }
}

impl Default for BinaryCrossentropy {
    fn default() -> Self {
        BinaryCrossentropy::new("binary_crossentropy")
    }
}

/// `label_smoothing` as Keras writes it: `0` (an integer) by default.
fn smoothing_value(ls: f64) -> Value {
    if ls == 0.0 {
        json!(0)
    } else {
        json!(ls)
    }
}

impl MeanMetric for BinaryCrossentropy {
    fn class_name(&self) -> &'static str {
        "BinaryCrossentropy"
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)
    }
    fn config_args(&self) -> Config {
        args(json!({"from_logits": self.from_logits,
                    "label_smoothing": smoothing_value(self.label_smoothing)}))
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Down)
    }
}

/// Keras's `CategoricalCrossentropy` metric (`from_logits`, `label_smoothing`, `axis`).
#[derive(Clone, Debug)]
pub struct CategoricalCrossentropy {
    mean: Mean,
    from_logits: bool,
    label_smoothing: f64,
    axis: isize,
}

impl CategoricalCrossentropy {
    /// The metric named `name`, on probabilities, no smoothing, classes on the last axis.
    pub fn new(name: &str) -> Self {
        CategoricalCrossentropy {
            mean: Mean::new(name),
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
        }
    }
    /// Whether predictions are logits.
    pub fn from_logits(mut self, from_logits: bool) -> Self {
        self.from_logits = from_logits;
        self
    }
    /// Labels smoothed by this much (in [0, 1]).
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Result<Self> {
        self.label_smoothing = check_smoothing(label_smoothing)?;
        Ok(self)
    }
    /// The class axis (Python-style).
    pub fn axis(mut self, axis: isize) -> Self {
        self.axis = axis;
        self
    }
    /// Keras's config: `name`, `dtype`, `from_logits`, `label_smoothing`, `axis`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut m = CategoricalCrossentropy::new(c.str_or("name", "categorical_crossentropy")?)
            .from_logits(c.bool_or("from_logits", false)?)
            .label_smoothing(c.f64_or("label_smoothing", 0.0)?)?
            .axis(c.isize_or("axis", -1)?);
        m.mean = m.mean.with_dtype(read_dtype(c)?);
        Ok(m)
    }
}

impl Default for CategoricalCrossentropy {
    fn default() -> Self {
        CategoricalCrossentropy::new("categorical_crossentropy")
    }
}

impl MeanMetric for CategoricalCrossentropy {
    fn class_name(&self) -> &'static str {
        "CategoricalCrossentropy"
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        categorical_crossentropy(
            y_true,
            y_pred,
            self.from_logits,
            self.label_smoothing,
            self.axis,
        )
    }
    fn config_args(&self) -> Config {
        args(json!({"from_logits": self.from_logits,
                    "label_smoothing": smoothing_value(self.label_smoothing),
                    "axis": self.axis}))
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Down)
    }
}

/// Keras's `SparseCategoricalCrossentropy` metric (`from_logits`, `ignore_class`, `axis`).
#[derive(Clone, Debug)]
pub struct SparseCategoricalCrossentropy {
    mean: Mean,
    from_logits: bool,
    ignore_class: Option<i64>,
    axis: isize,
}

impl SparseCategoricalCrossentropy {
    /// The metric named `name`, on probabilities, no ignored class.
    pub fn new(name: &str) -> Self {
        SparseCategoricalCrossentropy {
            mean: Mean::new(name),
            from_logits: false,
            ignore_class: None,
            axis: -1,
        }
    }
    /// Whether predictions are logits.
    pub fn from_logits(mut self, from_logits: bool) -> Self {
        self.from_logits = from_logits;
        self
    }
    /// A label value whose samples have the value 0 (and, with sample weights, weight 0).
    pub fn ignore_class(mut self, ignore_class: Option<i64>) -> Self {
        self.ignore_class = ignore_class;
        self
    }
    /// The class axis (Python-style; only the last works, as in Keras's JAX backend).
    pub fn axis(mut self, axis: isize) -> Self {
        self.axis = axis;
        self
    }
    /// Keras's config: `name`, `dtype`, `from_logits`, `ignore_class`, `axis`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let ignore = match c.get("ignore_class") {
            None => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| c.bad("ignore_class", "an integer"))?,
            ),
        };
        let mut m = SparseCategoricalCrossentropy::new(
            c.str_or("name", "sparse_categorical_crossentropy")?,
        )
        .from_logits(c.bool_or("from_logits", false)?)
        .ignore_class(ignore)
        .axis(c.isize_or("axis", -1)?);
        m.mean = m.mean.with_dtype(read_dtype(c)?);
        Ok(m)
    }
}

impl Default for SparseCategoricalCrossentropy {
    fn default() -> Self {
        SparseCategoricalCrossentropy::new("sparse_categorical_crossentropy")
    }
}

impl MeanMetric for SparseCategoricalCrossentropy {
    fn class_name(&self) -> &'static str {
        "SparseCategoricalCrossentropy"
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        Ok(self.masked_values(y_true, y_pred)?.0)
    }
    fn masked_values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        sparse_categorical_crossentropy(
            y_true,
            y_pred,
            self.from_logits,
            self.ignore_class,
            self.axis,
        )
    }
    fn config_args(&self) -> Config {
        args(
            json!({"from_logits": self.from_logits, "ignore_class": self.ignore_class,
                    "axis": self.axis}),
        )
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Down)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::ops;

    fn v(x: Result<Tensor>) -> Vec<f32> {
        ops::to_vec_f32(&x.unwrap()).unwrap()
    }

    #[test]
    fn cross_entropies() {
        let p = t(&[0.25, 0.75, 0.5, 0.5], &[2, 2]);
        let oh = t(&[0., 1., 1., 0.], &[2, 2]);
        let c = v(categorical_crossentropy(&oh, &p, false, 0.0, -1));
        assert!((c[0] + 0.75f32.ln()).abs() < 1e-6 && (c[1] + 0.5f32.ln()).abs() < 1e-6);
        let (s, mask) =
            sparse_categorical_crossentropy(&t(&[1., 0.], &[2, 1]), &p, false, None, -1).unwrap();
        assert_eq!(ops::to_vec_f32(&s).unwrap(), c);
        assert!(mask.is_none());
        // An ignored label: value 0, mask 0; a label out of range: 0 as Keras's one-hot.
        let (s, mask) =
            sparse_categorical_crossentropy(&t(&[1., 5.], &[2]), &p, false, Some(1), -1).unwrap();
        assert_eq!(ops::to_vec_f32(&s).unwrap(), [0., 0.]);
        assert_eq!(ops::to_vec_f32(&mask.unwrap()).unwrap(), [0., 1.]);
        let b = v(binary_crossentropy(
            &t(&[1.], &[1, 1]),
            &t(&[0.], &[1, 1]),
            true,
            0.0,
        ));
        assert!((b[0] - 2f32.ln()).abs() < 1e-6);
        let e = binary_crossentropy(&t(&[1., 0.], &[2]), &t(&[0.5, 0.5], &[2, 1]), false, 0.0)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("y_true.shape=(2,), y_pred.shape=(2, 1)"),
            "{e}"
        );
        assert!(BinaryCrossentropy::default().label_smoothing(1.5).is_err());
        let e =
            sparse_categorical_crossentropy(&t(&[0.; 3], &[3]), &p, false, None, -1).unwrap_err();
        assert!(
            e.to_string()
                .contains("y_true.shape=(3,), y_pred.shape=(2, 2)"),
            "{e}"
        );
    }
}
