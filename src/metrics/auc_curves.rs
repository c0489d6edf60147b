//! The areas `AUC` sums from its confusion counts (Keras's `AUC.result` and
//! `interpolate_pr_auc`), in `float32` as Keras computes them.

use super::confusion_metrics::divide_no_nan;
use super::metrics_utils::{AucCurve, AucSummationMethod};

/// The Riemann sum of `curve` over the thresholds (one label's counts), with rectangle
/// heights by `method` (Keras's `AUC.result` for every case but PR with interpolation).
pub(super) fn riemann(
    curve: AucCurve,
    method: AucSummationMethod,
    tp: &[f32],
    fp: &[f32],
    tn: &[f32],
    fn_: &[f32],
) -> f64 {
    let n = tp.len();
    let recall: Vec<f32> = (0..n)
        .map(|i| divide_no_nan(tp[i], tp[i] + fn_[i]))
        .collect();
    let (x, y): (Vec<f32>, Vec<f32>) = match curve {
        AucCurve::Roc => (
            (0..n)
                .map(|i| divide_no_nan(fp[i], fp[i] + tn[i]))
                .collect(),
            recall,
        ),
        AucCurve::Pr => (
            recall,
            (0..n)
                .map(|i| divide_no_nan(tp[i], tp[i] + fp[i]))
                .collect(),
        ),
        AucCurve::PrGain => (0..n)
            .map(|i| {
                let scale = divide_no_nan(tp[i] + fn_[i], tn[i] + fp[i]);
                let rg = 1.0 - scale * divide_no_nan(fn_[i], tp[i]);
                let pg = 1.0 - scale * divide_no_nan(fp[i], tp[i]);
                if tp[i] == 0.0 {
                    (0.0, 1.0)
                } else {
                    (rg.max(0.0), pg)
                }
            })
            .unzip(),
    };
    (0..n - 1)
        .map(|i| {
            let h = match method {
                AucSummationMethod::Interpolation => (y[i] + y[i + 1]) / 2.0,
                AucSummationMethod::Minoring => y[i].min(y[i + 1]),
                AucSummationMethod::Majoring => y[i].max(y[i + 1]),
            };
            ((x[i] - x[i + 1]) * h) as f64
        })
        .sum()
}

/// Keras's `interpolate_pr_auc` (Davis & Goadrich 2006) for one label's counts.
pub(super) fn interpolate_pr_auc(tp: &[f32], fp: &[f32], fn_: &[f32]) -> f64 {
    let p: Vec<f32> = tp.iter().zip(fp).map(|(a, b)| a + b).collect();
    (0..tp.len() - 1)
        .map(|i| {
            let dtp = tp[i] - tp[i + 1];
            let dp = p[i] - p[i + 1];
            let slope = divide_no_nan(dtp, dp.max(0.0));
            let intercept = tp[i + 1] - slope * p[i + 1];
            let ratio = if p[i] > 0.0 && p[i + 1] > 0.0 {
                divide_no_nan(p[i], p[i + 1].max(0.0))
            } else {
                1.0
            };
            let num = slope * (dtp + intercept * ratio.ln());
            divide_no_nan(num, (tp[i + 1] + fn_[i + 1]).max(0.0)) as f64
        })
        .sum()
}
