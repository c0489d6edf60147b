//! The confusion-matrix machinery of the threshold metrics, as Keras's
//! `keras/src/metrics/metrics_utils.py`: threshold parsing and checks, the `ConfusionMatrix`
//! conditions, the AUC curve and summation names, and [`update_confusion_matrix_variables`],
//! which adds a batch's true/false positives/negatives at every threshold to the metric's
//! state tensors with tensor ops on `y_pred`'s device (no host copy of the batch).
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::metrics_utils::{update_confusion_matrix_variables, ConfusionMatrix, ConfusionOptions};
//! let dev = Device::Cpu;
//! let mut tp = Tensor::zeros(2, DType::F32, &dev)?;
//! let y = Tensor::new(&[1f32, 0., 1., 1.], &dev)?;
//! let p = Tensor::new(&[0.9f32, 0.8, 0.4, 0.6], &dev)?;
//! let opts = ConfusionOptions::new(&[0.5, 0.7]);
//! update_confusion_matrix_variables(&mut [(ConfusionMatrix::TruePositives, &mut tp)], &y, &p, None, &opts)?;
//! assert_eq!(tp.to_vec1::<f32>()?, [2.0, 1.0]);
//! # Ok::<(), keras::Error>(())
//! ```

use super::confusion_counts::{bucketed, thresholded, weights};
use crate::engine::tuple;
use crate::losses::squeeze_or_expand_to_same_rank;
use crate::ops::{self, DType, Tensor};
use crate::{Error, Result};

/// The threshold that keeps every top-k prediction and no other (Keras's `NEG_INF`).
pub const NEG_INF: f64 = -1e10;

/// Keras's `backend.epsilon()`.
pub const EPSILON: f64 = 1e-7;

/// One cell of the binary confusion matrix (Keras's `ConfusionMatrix`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfusionMatrix {
    /// Label positive, prediction above the threshold (`"tp"`).
    TruePositives,
    /// Label negative, prediction above the threshold (`"fp"`).
    FalsePositives,
    /// Label negative, prediction at or below the threshold (`"tn"`).
    TrueNegatives,
    /// Label positive, prediction at or below the threshold (`"fn"`).
    FalseNegatives,
}

impl ConfusionMatrix {
    /// The variable name Keras gives the cell's counts (`true_positives`, ...).
    pub fn variable_name(self) -> &'static str {
        match self {
            ConfusionMatrix::TruePositives => "true_positives",
            ConfusionMatrix::FalsePositives => "false_positives",
            ConfusionMatrix::TrueNegatives => "true_negatives",
            ConfusionMatrix::FalseNegatives => "false_negatives",
        }
    }
}

/// Keras's `assert_thresholds_range`: every threshold in `[0, 1]`.
///
/// ```
/// use keras::metrics::metrics_utils::assert_thresholds_range;
/// let e = assert_thresholds_range(&[0.5, 1.5]).unwrap_err().to_string();
/// assert_eq!(e, "Threshold values must be in [0, 1]. Received: [1.5]");
/// ```
pub fn assert_thresholds_range(thresholds: &[f64]) -> Result<()> {
    let bad: Vec<String> = thresholds
        .iter()
        .filter(|t| !(0.0..=1.0).contains(*t))
        .map(|t| format!("{t:?}"))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Error::value(format!(
            "Threshold values must be in [0, 1]. Received: [{}]",
            bad.join(", ")
        )))
    }
}

/// Keras's `parse_init_thresholds`: the given thresholds (checked), or `[default]`.
pub fn parse_init_thresholds(thresholds: Option<&[f64]>, default: f64) -> Result<Vec<f64>> {
    match thresholds {
        Some(t) => {
            assert_thresholds_range(t)?;
            Ok(t.to_vec())
        }
        None => Ok(vec![default]),
    }
}

/// Keras's `is_evenly_distributed_thresholds`: at least 3 thresholds equal (`np.allclose`,
/// `atol=1e-7`) to `i / (n - 1)`, which lets the update bucket the predictions in one pass.
pub fn is_evenly_distributed_thresholds(thresholds: &[f64]) -> bool {
    let n = thresholds.len();
    if n < 3 {
        return false;
    }
    thresholds.iter().enumerate().all(|(i, &t)| {
        let even = (i as f32 / (n - 1) as f32) as f64;
        (t - even).abs() <= EPSILON + 1e-5 * even.abs()
    })
}

/// The curve an `AUC` integrates (Keras's `AUCCurve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AucCurve {
    /// Receiver operating characteristic: recall against the false-positive rate.
    Roc,
    /// Precision against recall.
    Pr,
    /// Precision gain against recall gain.
    PrGain,
}

impl AucCurve {
    /// Keras's `AUCCurve.from_str`: `ROC` / `roc`, `PR` / `pr`, `PRGAIN` / `prgain`.
    pub fn parse(key: &str) -> Result<Self> {
        Ok(match key {
            "roc" | "ROC" => AucCurve::Roc,
            "pr" | "PR" => AucCurve::Pr,
            "prgain" | "PRGAIN" => AucCurve::PrGain,
            _ => {
                return Err(Error::value(format!(
                    "Invalid AUC curve value: \"{key}\". Expected values are [\"PR\", \"ROC\", \
                     \"PRGAIN\"]"
                )))
            }
        })
    }

    /// The name Keras writes in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            AucCurve::Roc => "ROC",
            AucCurve::Pr => "PR",
            AucCurve::PrGain => "PRGAIN",
        }
    }
}

/// How an `AUC` sums the rectangles under its curve (Keras's `AUCSummationMethod`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AucSummationMethod {
    /// Mid-point sums (for PR, interpolated true/false positives).
    Interpolation,
    /// Right sums on increasing intervals, left sums on decreasing ones.
    Majoring,
    /// Left sums on increasing intervals, right sums on decreasing ones.
    Minoring,
}

impl AucSummationMethod {
    /// Keras's `AUCSummationMethod.from_str`.
    pub fn parse(key: &str) -> Result<Self> {
        Ok(match key {
            "interpolation" | "Interpolation" => AucSummationMethod::Interpolation,
            "majoring" | "Majoring" => AucSummationMethod::Majoring,
            "minoring" | "Minoring" => AucSummationMethod::Minoring,
            _ => {
                return Err(Error::value(format!(
                    "Invalid AUC summation method value: \"{key}\". Expected values are \
                     [\"interpolation\", \"majoring\", \"minoring\"]"
                )))
            }
        })
    }

    /// The name Keras writes in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            AucSummationMethod::Interpolation => "interpolation",
            AucSummationMethod::Majoring => "majoring",
            AucSummationMethod::Minoring => "minoring",
        }
    }
}

/// The arguments of [`update_confusion_matrix_variables`] besides the data (Keras's keyword
/// arguments of the same names).
#[derive(Clone, Debug)]
pub struct ConfusionOptions<'a> {
    /// The thresholds (a prediction above one counts as positive there).
    pub thresholds: &'a [f64],
    /// Only the `top_k` largest predictions of each row count as positive.
    pub top_k: Option<usize>,
    /// Only this class (last axis index) is counted.
    pub class_id: Option<usize>,
    /// Each label (column of a rank-2 `y_pred`) counted apart: the state is
    /// `(thresholds, labels)`.
    pub multi_label: bool,
    /// Per-label weights (only when `multi_label` is false).
    pub label_weights: Option<&'a [f64]>,
    /// The thresholds are `i / (n - 1)` (up to an epsilon at both ends): the one-pass bucket
    /// update is used, as Keras does.
    pub thresholds_distributed_evenly: bool,
}

impl<'a> ConfusionOptions<'a> {
    /// Plain thresholds: no top-k, class id, multi-label or label weights.
    pub fn new(thresholds: &'a [f64]) -> Self {
        ConfusionOptions {
            thresholds,
            top_k: None,
            class_id: None,
            multi_label: false,
            label_weights: None,
            thresholds_distributed_evenly: false,
        }
    }
}

/// Keras's `update_confusion_matrix_variables`: adds the batch's (sample-weighted) counts of
/// each requested cell, one per threshold (`(thresholds,)`, or `(thresholds, labels)` when
/// `multi_label`), to its tensor. `y_true` is read as booleans (non-zero is positive);
/// `y_pred` and `y_true` must have the same shape once a trailing 1 is squeezed.
pub fn update_confusion_matrix_variables(
    variables: &mut [(ConfusionMatrix, &mut Tensor)],
    y_true: &Tensor,
    y_pred: &Tensor,
    sample_weight: Option<&Tensor>,
    opts: &ConfusionOptions,
) -> Result<()> {
    if opts.multi_label && opts.label_weights.is_some() {
        return Err(Error::value(
            "`label_weights` for multilabel data should be handled outside of \
             `update_confusion_matrix_variables` when `multi_label` is True.",
        ));
    }
    if variables.is_empty() {
        return Ok(());
    }
    let (true_dims, pred_dims) = (y_true.dims(), y_pred.dims());
    let weight_dims = sample_weight.map(|w| w.dims());
    let y_true = ops::cast(y_true, DType::F32)?;
    let y_pred = ops::cast(y_pred, DType::F32)?;
    let (mut y_pred, mut y_true) = squeeze_or_expand_to_same_rank(&y_pred, &y_true, true)?;
    if y_pred.dims() != y_true.dims() {
        return Err(Error::shape(format!(
            "y_true and y_pred should have the same shape; received y_true.shape={} and \
             y_pred.shape={}",
            tuple(true_dims),
            tuple(pred_dims)
        )));
    }
    let mut sample_weight = match sample_weight {
        Some(w) => {
            let w = ops::cast(w, DType::F32)?.unsqueeze(w.rank())?;
            Some(squeeze_or_expand_to_same_rank(&y_true, &w, false)?.1)
        }
        None => None,
    };
    if let Some(k) = opts.top_k {
        y_pred = filter_top_k(&y_pred, k)?;
    }
    if let Some(id) = opts.class_id {
        if y_pred.rank() < 2 {
            return Err(Error::value(format!(
                "When class_id is provided, y_pred must be a 2D array with shape \
                 (num_samples, num_classes), found shape: {}",
                tuple(y_pred.dims())
            )));
        }
        let last = y_pred.rank() - 1;
        let n = y_pred.dim(last)?;
        if id >= n {
            return Err(Error::value(format!(
                "class_id={id} is out of range for y_pred of shape {} ({n} classes)",
                tuple(y_pred.dims())
            )));
        }
        y_true = y_true.narrow(last, id, 1)?;
        y_pred = y_pred.narrow(last, id, 1)?;
    }
    if let Some(w) = sample_weight.take() {
        let w = w.broadcast_as(y_pred.dims()).map_err(|_| {
            Error::shape(format!(
                "sample_weight of shape {} does not broadcast to y_pred's shape {}",
                tuple(weight_dims.unwrap_or_default()),
                tuple(y_pred.dims())
            ))
        })?;
        sample_weight = Some(w.contiguous()?);
    }
    if opts.multi_label && y_pred.rank() != 2 {
        return Err(Error::value(format!(
            "`y_pred` must have rank 2 when `multi_label=True`. Found rank {}. Full shape \
             received for `y_pred`: {}",
            y_pred.rank(),
            tuple(y_pred.dims())
        )));
    }
    let weights = weights(&y_pred, sample_weight, opts)?;
    let counts = if opts.thresholds_distributed_evenly {
        let t = opts.thresholds;
        let with_epsilon = t[0] < 0.0 || t[t.len() - 1] > 1.0;
        bucketed(
            &y_true,
            &y_pred,
            weights.as_ref(),
            t.len(),
            opts.multi_label,
            with_epsilon,
        )?
    } else {
        thresholded(
            &y_true,
            &y_pred,
            weights.as_ref(),
            opts.thresholds,
            opts.multi_label,
        )?
    };
    for (cell, var) in variables.iter_mut() {
        let add = counts.get(*cell)?;
        if var.dims() != add.dims() {
            return Err(Error::shape(format!(
                "the {} variable has shape {} but the batch gives counts of shape {}",
                cell.variable_name(),
                tuple(var.dims()),
                tuple(add.dims())
            )));
        }
        let add = add.to_device(var.device())?;
        **var = var.add(&add)?;
    }
    Ok(())
}

/// Keras's `_filter_top_k`: the `k` largest values of each row of the last axis kept, the
/// others set to [`NEG_INF`].
pub fn filter_top_k(x: &Tensor, k: usize) -> Result<Tensor> {
    let last = x.rank().checked_sub(1).ok_or_else(|| {
        Error::value("top_k needs predictions with at least one axis; received a scalar")
    })?;
    let n = x.dim(last)?;
    if k == 0 || k > n {
        return Err(Error::value(format!(
            "top_k={k} should be between 1 and the size of y_pred's last axis ({n}); y_pred \
             has shape {}",
            tuple(x.dims())
        )));
    }
    let order = x.contiguous()?.arg_sort_last_dim(false)?;
    let top = order.narrow(last, 0, k)?.contiguous()?;
    let ones = Tensor::ones(top.dims(), DType::F32, x.device())?;
    let mask = x.zeros_like()?.scatter_add(&top, &ones, last)?;
    let keep = x.mul(&mask)?;
    Ok(keep.add(&mask.affine(-NEG_INF, NEG_INF)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    fn counts(
        opts: &ConfusionOptions,
        y: &Tensor,
        p: &Tensor,
        w: Option<&Tensor>,
    ) -> Vec<Vec<f32>> {
        let n = opts.thresholds.len();
        let mut v: Vec<Tensor> = (0..4)
            .map(|_| Tensor::zeros(n, DType::F32, &crate::ops::Device::Cpu).unwrap())
            .collect();
        let (a, rest) = v.split_at_mut(1);
        let (b, rest) = rest.split_at_mut(1);
        let (c, d) = rest.split_at_mut(1);
        update_confusion_matrix_variables(
            &mut [
                (ConfusionMatrix::TruePositives, &mut a[0]),
                (ConfusionMatrix::FalsePositives, &mut b[0]),
                (ConfusionMatrix::TrueNegatives, &mut c[0]),
                (ConfusionMatrix::FalseNegatives, &mut d[0]),
            ],
            y,
            p,
            w,
            opts,
        )
        .unwrap();
        v.iter().map(|x| x.to_vec1::<f32>().unwrap()).collect()
    }

    /// The bucketed update equals the general one (Keras's docstring example and weights).
    #[test]
    fn bucketed_equals_thresholded() {
        let y = t(&[0., 0., 1., 1., 1.], &[5]);
        let p = t(&[0.1, 0.5, 0.3, 0.9, 0.0], &[5]);
        let w = t(&[1., 2., 0.5, 1., 3.], &[5]);
        let th = [0.0, 0.5, 1.0];
        let mut even = ConfusionOptions::new(&th);
        even.thresholds_distributed_evenly = true;
        let plain = ConfusionOptions::new(&th);
        assert_eq!(counts(&even, &y, &p, None), counts(&plain, &y, &p, None));
        assert_eq!(
            counts(&even, &y, &p, Some(&w)),
            counts(&plain, &y, &p, Some(&w))
        );
        assert_eq!(counts(&plain, &y, &p, None)[0], [2.0, 1.0, 0.0]);
    }

    #[test]
    fn thresholds_and_shapes_are_checked() {
        assert!(parse_init_thresholds(Some(&[-0.1]), 0.5).is_err());
        assert_eq!(parse_init_thresholds(None, 0.5).unwrap(), [0.5]);
        assert!(is_evenly_distributed_thresholds(&[0.0, 0.5, 1.0]));
        assert!(!is_evenly_distributed_thresholds(&[0.0, 1.0]));
        assert!(!is_evenly_distributed_thresholds(&[0.0, 0.4, 1.0]));
        let mut v = Tensor::zeros(1, DType::F32, &crate::ops::Device::Cpu).unwrap();
        let e = update_confusion_matrix_variables(
            &mut [(ConfusionMatrix::TruePositives, &mut v)],
            &t(&[1., 0., 1.], &[3]),
            &t(&[0.5, 0.2, 0.1, 0.3], &[2, 2]),
            None,
            &ConfusionOptions::new(&[0.5]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("y_true.shape=(3,)") && e.contains("y_pred.shape=(2, 2)"),
            "{e}"
        );
    }

    #[test]
    fn top_k_keeps_the_largest() {
        let x = t(&[0.1, 0.7, 0.3, 0.9, 0.2, 0.4], &[2, 3]);
        let v = filter_top_k(&x, 2).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(v[0][1..], [0.7, 0.3]);
        assert_eq!(v[0][0], NEG_INF as f32);
        assert_eq!(v[1], [0.9, NEG_INF as f32, 0.4]);
        assert!(filter_top_k(&x, 4).is_err());
    }
}
