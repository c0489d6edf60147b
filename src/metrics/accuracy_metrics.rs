//! The accuracy metrics (Keras's `keras/src/metrics/accuracy_metrics.py`): `Accuracy`,
//! `BinaryAccuracy`, `CategoricalAccuracy`, `SparseCategoricalAccuracy`,
//! `TopKCategoricalAccuracy`, `SparseTopKCategoricalAccuracy`, and their per-sample
//! functions. Every value is computed with tensor ops on the batch's device.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, TopKCategoricalAccuracy};
//! let mut m = TopKCategoricalAccuracy::new("top2").k(2)?;
//! let y = Tensor::new(&[[0f32, 0., 1.], [0., 1., 0.]], &Device::Cpu)?;
//! let p = Tensor::new(&[[0.5f32, 0.2, 0.3], [0.6, 0.1, 0.3]], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert_eq!(m.result(), 0.5);
//! # Ok::<(), keras::Error>(())
//! ```

use super::mean_metric::{MeanMetric, MeanOf, SampleFn};
use super::reduction_metrics::Mean;
use super::sample_values::{
    broadcast_pair, check_broadcast, float, mismatch, same_rank, truncated,
};
use super::state::{args, read_dtype};
use super::Direction;
use crate::ops::{DType, Tensor};
use crate::serialization::{json, Cfg, Config};
use crate::{Error, Result};

fn last_axis(t: &Tensor, what: &str) -> Result<usize> {
    t.rank().checked_sub(1).ok_or_else(|| {
        Error::shape(format!(
            "{what} expects predictions of rank >= 1; received a scalar"
        ))
    })
}

/// Keras's `accuracy`: 1 where `y_true == y_pred` (ranks aligned), else 0.
pub fn accuracy(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = same_rank(y_true, y_pred)?;
    let (t, p) = broadcast_pair(t, p)?;
    Ok(t.eq(&p)?.to_dtype(DType::F32)?)
}

/// Keras's `binary_accuracy`: 1 where `y_true` equals `y_pred > threshold`.
pub fn binary_accuracy(y_true: &Tensor, y_pred: &Tensor, threshold: f64) -> Result<Tensor> {
    let (t, p) = same_rank(y_true, y_pred)?;
    let p = p.gt(threshold)?.to_dtype(t.dtype())?;
    let (t, p) = broadcast_pair(t, p)?;
    Ok(t.eq(&p)?.to_dtype(DType::F32)?)
}

/// Whether `a` and `b` (one value per row) agree, reshaped to `shape` when given.
fn matches(a: Tensor, b: Tensor, yt: &[usize], yp: &[usize]) -> Result<Tensor> {
    check_broadcast(&a, &b).map_err(|_| mismatch(yt, yp))?;
    let (a, b) = broadcast_pair(a, b)?;
    Ok(a.eq(&b)?.to_dtype(DType::F32)?)
}

/// Keras's `categorical_accuracy`: 1 where the arg-max of `y_pred` is the arg-max of the
/// one-hot `y_true`.
pub fn categorical_accuracy(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let p = float(y_pred)?;
    let pl = last_axis(&p, "categorical_accuracy")?;
    let t = y_true.to_device(p.device())?;
    let tl = last_axis(&t, "categorical_accuracy")?;
    let mut ti = t.argmax(tl)?.to_dtype(p.dtype())?;
    let org = ti.dims().to_vec();
    let reshape = ti.rank() == p.rank();
    if reshape {
        if ti.dims().last() != Some(&1) {
            return Err(mismatch(y_true.dims(), y_pred.dims()));
        }
        ti = ti.squeeze(ti.rank() - 1)?;
    }
    let pi = p.argmax(pl)?.to_dtype(p.dtype())?;
    let m = matches(ti, pi, y_true.dims(), y_pred.dims())?;
    Ok(if reshape { m.reshape(org)? } else { m })
}

/// Keras's `sparse_categorical_accuracy`: 1 where the arg-max of `y_pred` is the integer
/// label (labels of shape `(batch,)` or `(batch, 1)`).
pub fn sparse_categorical_accuracy(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let p = float(y_pred)?;
    let pl = last_axis(&p, "sparse_categorical_accuracy")?;
    let mut t = y_true.to_dtype(p.dtype())?.to_device(p.device())?;
    let org = t.dims().to_vec();
    let reshape = t.rank() == p.rank() && t.dims().last() == Some(&1);
    if reshape {
        t = t.squeeze(t.rank() - 1)?;
    }
    let pi = p.argmax(pl)?.to_dtype(p.dtype())?;
    let mut m = matches(t, pi, y_true.dims(), y_pred.dims())?;
    if reshape {
        m = m.reshape(org)?;
    }
    if m.rank() > 1 && m.dims().last() == Some(&1) {
        m = m.squeeze(m.rank() - 1)?;
    }
    Ok(m)
}

/// Keras's `in_top_k`: whether each row's entry at `targets` (one per row, any float dtype)
/// ranks among the `k` largest of its row (labels out of range never do).
fn in_top_k(targets: &Tensor, predictions: &Tensor, k: usize) -> Result<Tensor> {
    let (n, c) = predictions.dims2()?;
    let classes = Tensor::arange(0u32, c as u32, predictions.device())?
        .to_dtype(targets.dtype())?
        .reshape((1, c))?;
    let onehot = classes.broadcast_eq(&targets.reshape((n, 1))?)?;
    let neg_inf = predictions.ones_like()?.affine(0.0, f64::NEG_INFINITY)?;
    let at = onehot.where_cond(predictions, &neg_inf)?.max_keepdim(1)?;
    // A NaN prediction at the label ranks last, as Keras's.
    let at = at.eq(&at)?.where_cond(&at, &neg_inf.narrow(1, 0, 1)?)?;
    let above = predictions
        .broadcast_gt(&at)?
        .to_dtype(DType::F32)?
        .sum(1)?;
    Ok(above.lt(k as f64)?.to_dtype(DType::F32)?)
}

fn rows_of(p: &Tensor) -> Result<Tensor> {
    Ok(if p.rank() > 2 {
        let c = p.dims()[p.rank() - 1];
        p.reshape(((), c))?
    } else {
        p.clone()
    })
}

fn check_k(k: usize, class: &str) -> Result<usize> {
    if k == 0 {
        return Err(Error::value(format!(
            "{class}: `k` must be a positive integer; received k=0"
        )));
    }
    Ok(k)
}

/// Keras's `top_k_categorical_accuracy`: 1 where the one-hot label's class is among the `k`
/// largest predictions.
pub fn top_k_categorical_accuracy(y_true: &Tensor, y_pred: &Tensor, k: usize) -> Result<Tensor> {
    check_k(k, "top_k_categorical_accuracy")?;
    let p = float(y_pred)?;
    let t = y_true.to_device(p.device())?;
    let tl = last_axis(&t, "top_k_categorical_accuracy")?;
    last_axis(&p, "top_k_categorical_accuracy")?;
    let ti = t.argmax(tl)?.to_dtype(p.dtype())?;
    let org = ti.dims().to_vec();
    let p2 = rows_of(&p)?;
    if p2.rank() != 2 || ti.elem_count() != p2.dims()[0] {
        return Err(mismatch(y_true.dims(), y_pred.dims()));
    }
    let m = in_top_k(&ti.flatten_all()?, &p2, k)?;
    Ok(if org.len() > 1 { m.reshape(org)? } else { m })
}

/// Keras's `sparse_top_k_categorical_accuracy`: 1 where the integer label is among the `k`
/// largest predictions, or (`from_sorted_ids`) among the first `k` ids of `y_pred`, which
/// then holds class ids sorted by score.
pub fn sparse_top_k_categorical_accuracy(
    y_true: &Tensor,
    y_pred: &Tensor,
    k: usize,
    from_sorted_ids: bool,
) -> Result<Tensor> {
    check_k(k, "sparse_top_k_categorical_accuracy")?;
    let p = float(y_pred)?;
    last_axis(&p, "sparse_top_k_categorical_accuracy")?;
    let t = y_true.to_device(p.device())?;
    let t = if from_sorted_ids {
        t.to_dtype(p.dtype())?
    } else {
        truncated(&t)?.to_dtype(p.dtype())?
    };
    let org = t.dims().to_vec();
    let p2 = rows_of(&p)?;
    if p2.rank() != 2 || t.elem_count() != p2.dims()[0] {
        return Err(mismatch(y_true.dims(), y_pred.dims()));
    }
    let t = t.flatten_all()?;
    let m = if from_sorted_ids {
        let (n, cols) = p2.dims2()?;
        let top = p2.narrow(1, 0, k.min(cols))?;
        top.broadcast_eq(&t.reshape((n, 1))?)?
            .max_keepdim(1)?
            .squeeze(1)?
            .to_dtype(DType::F32)?
    } else {
        in_top_k(&t, &p2, k)?
    };
    Ok(if org.len() > 1 { m.reshape(org)? } else { m })
}

/// The marker of [`Accuracy`].
#[derive(Clone, Copy, Debug)]
pub struct AccuracyFn;
impl SampleFn for AccuracyFn {
    const CLASS: &'static str = "Accuracy";
    const NAME: &'static str = "accuracy";
    const DIRECTION: Option<Direction> = Some(Direction::Up);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        accuracy(y_true, y_pred)
    }
}
/// Keras's `Accuracy`: how often predictions equal labels.
pub type Accuracy = MeanOf<AccuracyFn>;

/// The marker of [`CategoricalAccuracy`].
#[derive(Clone, Copy, Debug)]
pub struct CategoricalAccuracyFn;
impl SampleFn for CategoricalAccuracyFn {
    const CLASS: &'static str = "CategoricalAccuracy";
    const NAME: &'static str = "categorical_accuracy";
    const DIRECTION: Option<Direction> = Some(Direction::Up);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        categorical_accuracy(y_true, y_pred)
    }
}
/// Keras's `CategoricalAccuracy`: fraction of rows whose arg-max matches the one-hot
/// label's.
pub type CategoricalAccuracy = MeanOf<CategoricalAccuracyFn>;

/// The marker of [`SparseCategoricalAccuracy`].
#[derive(Clone, Copy, Debug)]
pub struct SparseCategoricalAccuracyFn;
impl SampleFn for SparseCategoricalAccuracyFn {
    const CLASS: &'static str = "SparseCategoricalAccuracy";
    const NAME: &'static str = "sparse_categorical_accuracy";
    const DIRECTION: Option<Direction> = Some(Direction::Up);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        sparse_categorical_accuracy(y_true, y_pred)
    }
}
/// Keras's `SparseCategoricalAccuracy`: fraction of rows whose arg-max is the integer label.
pub type SparseCategoricalAccuracy = MeanOf<SparseCategoricalAccuracyFn>;

/// Keras's `BinaryAccuracy`: how often `y_pred > threshold` equals the 0/1 label.
///
/// ```
/// use keras::prelude::*;
/// use keras::metrics::{BinaryAccuracy, Metric};
/// let mut m = BinaryAccuracy::default().threshold(0.7);
/// let y = Tensor::new(&[[1f32], [1.], [0.]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.9f32], [0.6], [0.2]], &Device::Cpu)?;
/// m.update_state(&y, &p, None)?;
/// assert!((m.result() - 2.0 / 3.0).abs() < 1e-7);
/// assert_eq!(m.get_config()["config"]["threshold"], 0.7);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BinaryAccuracy {
    mean: Mean,
    threshold: f64,
}

impl BinaryAccuracy {
    /// The metric named `name`, threshold 0.5.
    pub fn new(name: &str) -> Self {
        BinaryAccuracy {
            mean: Mean::new(name),
            threshold: 0.5,
        }
    }
    /// The threshold above which a prediction counts as 1.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }
    /// Keras's config: `name`, `dtype`, `threshold`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        Ok(BinaryAccuracy {
            mean: Mean::new(c.str_or("name", "binary_accuracy")?).with_dtype(read_dtype(c)?),
            threshold: c.f64_or("threshold", 0.5)?,
        })
    }
}

impl Default for BinaryAccuracy {
    fn default() -> Self {
        BinaryAccuracy::new("binary_accuracy")
    }
}

impl MeanMetric for BinaryAccuracy {
    fn class_name(&self) -> &'static str {
        "BinaryAccuracy"
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        binary_accuracy(y_true, y_pred, self.threshold)
    }
    fn config_args(&self) -> Config {
        args(json!({"threshold": self.threshold}))
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
}

fn read_k(c: &Cfg) -> Result<usize> {
    match c.get("k") {
        None => Ok(5),
        Some(v) => v
            .as_u64()
            .filter(|&k| k > 0)
            .map(|k| k as usize)
            .ok_or_else(|| c.bad("k", "a positive integer")),
    }
}

/// Keras's `TopKCategoricalAccuracy`: how often the one-hot label's class is among the `k`
/// (default 5) largest predictions.
#[derive(Clone, Debug)]
pub struct TopKCategoricalAccuracy {
    mean: Mean,
    k: usize,
}

impl TopKCategoricalAccuracy {
    /// The metric named `name`, `k` = 5.
    pub fn new(name: &str) -> Self {
        TopKCategoricalAccuracy {
            mean: Mean::new(name),
            k: 5,
        }
    }
    /// How many of the largest predictions count (an error for 0).
    pub fn k(mut self, k: usize) -> Result<Self> {
        self.k = check_k(k, "TopKCategoricalAccuracy")?;
        Ok(self)
    }
    /// Keras's config: `name`, `dtype`, `k`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        Ok(TopKCategoricalAccuracy {
            mean: Mean::new(c.str_or("name", "top_k_categorical_accuracy")?)
                .with_dtype(read_dtype(c)?),
            k: read_k(c)?,
        })
    }
}

impl Default for TopKCategoricalAccuracy {
    fn default() -> Self {
        TopKCategoricalAccuracy::new("top_k_categorical_accuracy")
    }
}

impl MeanMetric for TopKCategoricalAccuracy {
    fn class_name(&self) -> &'static str {
        "TopKCategoricalAccuracy"
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        top_k_categorical_accuracy(y_true, y_pred, self.k)
    }
    fn config_args(&self) -> Config {
        args(json!({"k": self.k}))
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
}

/// Keras's `SparseTopKCategoricalAccuracy`: how often the integer label is among the `k`
/// (default 5) largest predictions, or with `from_sorted_ids` among the first `k` of the
/// class ids `y_pred` lists.
#[derive(Clone, Debug)]
pub struct SparseTopKCategoricalAccuracy {
    mean: Mean,
    k: usize,
    from_sorted_ids: bool,
}

impl SparseTopKCategoricalAccuracy {
    /// The metric named `name`, `k` = 5.
    pub fn new(name: &str) -> Self {
        SparseTopKCategoricalAccuracy {
            mean: Mean::new(name),
            k: 5,
            from_sorted_ids: false,
        }
    }
    /// How many of the largest predictions count (an error for 0).
    pub fn k(mut self, k: usize) -> Result<Self> {
        self.k = check_k(k, "SparseTopKCategoricalAccuracy")?;
        Ok(self)
    }
    /// Whether `y_pred` holds class ids sorted by score instead of scores.
    pub fn from_sorted_ids(mut self, from_sorted_ids: bool) -> Self {
        self.from_sorted_ids = from_sorted_ids;
        self
    }
    /// Keras's config: `name`, `dtype`, `k`, `from_sorted_ids` (written only when true).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        Ok(SparseTopKCategoricalAccuracy {
            mean: Mean::new(c.str_or("name", "sparse_top_k_categorical_accuracy")?)
                .with_dtype(read_dtype(c)?),
            k: read_k(c)?,
            from_sorted_ids: c.bool_or("from_sorted_ids", false)?,
        })
    }
}

impl Default for SparseTopKCategoricalAccuracy {
    fn default() -> Self {
        SparseTopKCategoricalAccuracy::new("sparse_top_k_categorical_accuracy")
    }
}

impl MeanMetric for SparseTopKCategoricalAccuracy {
    fn class_name(&self) -> &'static str {
        "SparseTopKCategoricalAccuracy"
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        sparse_top_k_categorical_accuracy(y_true, y_pred, self.k, self.from_sorted_ids)
    }
    fn config_args(&self) -> Config {
        let mut c = args(json!({"k": self.k}));
        if self.from_sorted_ids {
            c.insert("from_sorted_ids".into(), json!(true));
        }
        c
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
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
    fn per_sample_accuracies() {
        let p = t(&[0.1, 0.6, 0.3, 0.8, 0.1, 0.1], &[2, 3]);
        assert_eq!(
            v(sparse_categorical_accuracy(&t(&[1., 1.], &[2]), &p)),
            [1., 0.]
        );
        assert_eq!(
            v(sparse_categorical_accuracy(&t(&[1., 0.], &[2, 1]), &p)),
            [1., 1.]
        );
        let oh = t(&[0., 0., 1., 1., 0., 0.], &[2, 3]);
        assert_eq!(v(categorical_accuracy(&oh, &p)), [0., 1.]);
        assert_eq!(v(top_k_categorical_accuracy(&oh, &p, 2)), [1., 1.]);
        assert_eq!(v(top_k_categorical_accuracy(&oh, &p, 1)), [0., 1.]);
        // Labels out of range never rank in the top k, as Keras's `in_top_k`.
        assert_eq!(
            v(sparse_top_k_categorical_accuracy(
                &t(&[7., 0.], &[2]),
                &p,
                3,
                false
            )),
            [0., 1.]
        );
        let ids = t(&[2., 0., 1., 1., 2., 0.], &[2, 3]);
        assert_eq!(
            v(sparse_top_k_categorical_accuracy(
                &t(&[0., 0.], &[2]),
                &ids,
                2,
                true
            )),
            [1., 0.]
        );
        assert_eq!(
            v(binary_accuracy(
                &t(&[1., 0.], &[2]),
                &t(&[0.6, 0.6], &[2, 1]),
                0.5
            )),
            [1., 0.]
        );
        assert_eq!(
            v(accuracy(&t(&[1., 2.], &[2, 1]), &t(&[1., 1.], &[2]))),
            [1., 0.]
        );
    }

    #[test]
    fn bad_shapes_and_arguments_are_errors() {
        let p = t(&[0.; 6], &[2, 3]);
        let e = sparse_categorical_accuracy(&t(&[0.; 3], &[3]), &p).unwrap_err();
        assert!(
            e.to_string()
                .contains("y_true.shape=(3,), y_pred.shape=(2, 3)"),
            "{e}"
        );
        assert!(top_k_categorical_accuracy(&p, &p, 0).is_err());
        assert!(TopKCategoricalAccuracy::default().k(0).is_err());
        let c = crate::serialization::config(json!({"k": 0}));
        let e = TopKCategoricalAccuracy::from_config(&Cfg::new("TopKCategoricalAccuracy", &c))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'k' should be a positive integer; received 0"),
            "{e}"
        );
        assert!(categorical_accuracy(&t(&[1.], &[]), &p).is_err());
    }
}
