//! The two ways [`update_confusion_matrix_variables`](super::metrics_utils::update_confusion_matrix_variables)
//! counts a batch (Keras's `metrics_utils.py`): every prediction against every threshold, or,
//! for evenly spaced thresholds, one pass that buckets the predictions. Tensor ops only, on
//! the predictions' device.

use super::metrics_utils::{ConfusionMatrix, ConfusionOptions};
use crate::engine::tuple;
use crate::ops::{self, DType, Tensor};
use crate::{Error, Result};

/// Sample weights times label weights, flattened unless multi-label (`None`: all 1).
pub(super) fn weights(
    y_pred: &Tensor,
    sample_weight: Option<Tensor>,
    opts: &ConfusionOptions,
) -> Result<Option<Tensor>> {
    let label = match opts.label_weights {
        Some(lw) => {
            let n = y_pred.dims().last().copied().unwrap_or(1);
            if lw.len() != n && lw.len() != 1 {
                return Err(Error::shape(format!(
                    "label_weights has {} values but y_pred has {n} labels (shape {})",
                    lw.len(),
                    tuple(y_pred.dims())
                )));
            }
            let v: Vec<f32> = lw.iter().map(|&x| x as f32).collect();
            let t = Tensor::from_vec(v, lw.len(), y_pred.device())?;
            Some(t.broadcast_as(y_pred.dims())?.contiguous()?)
        }
        None => None,
    };
    let w = match (sample_weight, label) {
        (Some(s), Some(l)) => Some(s.mul(&l)?),
        (s, l) => s.or(l),
    };
    Ok(match w {
        Some(w) if !opts.multi_label => Some(w.flatten_all()?),
        w => w,
    })
}

/// The four cells' counts of one batch.
pub(super) struct Counts {
    tp: Tensor,
    fp: Tensor,
    tn: Tensor,
    fn_: Tensor,
}

impl Counts {
    pub(super) fn get(&self, cell: ConfusionMatrix) -> Result<&Tensor> {
        Ok(match cell {
            ConfusionMatrix::TruePositives => &self.tp,
            ConfusionMatrix::FalsePositives => &self.fp,
            ConfusionMatrix::TrueNegatives => &self.tn,
            ConfusionMatrix::FalseNegatives => &self.fn_,
        })
    }
}

/// `1.0` where `x != 0`, else `0.0`.
fn nonzero(x: &Tensor) -> Result<Tensor> {
    Ok(x.ne(0f32)?.to_dtype(DType::F32)?)
}

/// The general update: every prediction compared with every threshold (`(thresholds, N)`
/// or `(thresholds, N, labels)`), summed over the predictions.
pub(super) fn thresholded(
    y_true: &Tensor,
    y_pred: &Tensor,
    weights: Option<&Tensor>,
    thresholds: &[f64],
    multi_label: bool,
) -> Result<Counts> {
    let dev = y_pred.device();
    let t: Vec<f32> = thresholds.iter().map(|&x| x as f32).collect();
    let nt = t.len();
    let (pred, label, weight, thr) = if multi_label {
        let (n, l) = y_pred.dims2()?;
        (
            y_pred.reshape((1, n, l))?,
            nonzero(y_true)?.reshape((1, n, l))?,
            weights.map(|w| w.reshape((1, n, l))).transpose()?,
            Tensor::from_vec(t, (nt, 1, 1), dev)?,
        )
    } else {
        let n = y_pred.elem_count();
        (
            y_pred.reshape((1, n))?,
            nonzero(y_true)?.reshape((1, n))?,
            weights.map(|w| w.reshape((1, n))).transpose()?,
            Tensor::from_vec(t, (nt, 1), dev)?,
        )
    };
    let pos = pred.broadcast_gt(&thr)?.to_dtype(DType::F32)?;
    let neg = pos.affine(-1.0, 1.0)?;
    let (label_pos, label_neg) = match weight {
        Some(w) => (label.mul(&w)?, label.affine(-1.0, 1.0)?.mul(&w)?),
        None => (label.clone(), label.affine(-1.0, 1.0)?),
    };
    let count = |p: &Tensor, l: &Tensor| -> Result<Tensor> { Ok(p.broadcast_mul(l)?.sum(1)?) };
    Ok(Counts {
        tp: count(&pos, &label_pos)?,
        fp: count(&pos, &label_neg)?,
        tn: count(&neg, &label_neg)?,
        fn_: count(&neg, &label_pos)?,
    })
}

/// Keras's `_update_confusion_matrix_variables_optimized`: evenly spaced thresholds, so each
/// prediction falls in bucket `ceil(p * (n - 1)) - 1` (bucket -1 counts nowhere unless the end
/// thresholds carry an epsilon); a reversed cumulative sum of the bucket sums gives the
/// counts at every threshold.
pub(super) fn bucketed(
    y_true: &Tensor,
    y_pred: &Tensor,
    weights: Option<&Tensor>,
    nt: usize,
    multi_label: bool,
    with_epsilon: bool,
) -> Result<Counts> {
    let y_pred = y_pred.clamp(0f32, 1f32)?;
    let mut y_true = nonzero(y_true)?;
    let mut y_pred = y_pred;
    if !multi_label {
        y_true = y_true.flatten_all()?;
        y_pred = y_pred.flatten_all()?;
    }
    let (true_labels, false_labels) = match weights {
        Some(w) => (y_true.mul(w)?, y_true.affine(-1.0, 1.0)?.mul(w)?),
        None => (y_true.clone(), y_true.affine(-1.0, 1.0)?),
    };
    // The bucket index plus one: 0 is the dropped bucket -1.
    let mut shifted = y_pred.affine((nt - 1) as f64, 0.0)?.ceil()?;
    if with_epsilon {
        shifted = shifted.clamp(1f32, f32::MAX)?;
    }
    let labels = if multi_label { y_pred.dim(1)? } else { 1 };
    let index = if multi_label {
        // Bucket `b` of label `j` is slot `b * labels + j`.
        let cols = Tensor::arange(0u32, labels as u32, y_pred.device())?
            .to_dtype(DType::F32)?
            .unsqueeze(0)?;
        shifted
            .affine(labels as f64, 0.0)?
            .broadcast_add(&cols)?
            .flatten_all()?
    } else {
        shifted
    };
    let index = index.to_dtype(DType::U32)?;
    let segments = |data: &Tensor| -> Result<Tensor> {
        let zeros = Tensor::zeros(nt * labels, DType::F32, data.device())?;
        let sums = zeros
            .index_add(&index, &data.flatten_all()?, 0)?
            .reshape((nt, labels))?;
        // Drop bucket -1 (row 0) and append the empty last bucket.
        let tail = Tensor::zeros((1, labels), DType::F32, data.device())?;
        let buckets = Tensor::cat(&[sums.narrow(0, 1, nt - 1)?, tail], 0)?;
        let counts = ops::reverse(&ops::reverse(&buckets, 0)?.cumsum(0)?, 0)?;
        Ok(if multi_label {
            counts
        } else {
            counts.flatten_all()?
        })
    };
    let tp = segments(&true_labels)?;
    let fp = segments(&false_labels)?;
    let (total_true, total_false) = if multi_label {
        (true_labels.sum_keepdim(0)?, false_labels.sum_keepdim(0)?)
    } else {
        (true_labels.sum_all()?, false_labels.sum_all()?)
    };
    Ok(Counts {
        tn: total_false.broadcast_sub(&fp)?,
        fn_: total_true.broadcast_sub(&tp)?,
        tp,
        fp,
    })
}
