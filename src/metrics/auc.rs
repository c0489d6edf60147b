//! `AUC` (Keras's `keras/src/metrics/confusion_metrics.py`): the area under the ROC or PR
//! curve, approximated by a Riemann sum over thresholds.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, AUC};
//! let mut m = AUC::new().num_thresholds(3)?;
//! let y = Tensor::new(&[0f32, 0., 1., 1.], &Device::Cpu)?;
//! let p = Tensor::new(&[0f32, 0.5, 0.3, 0.9], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert!((m.result() - 0.75).abs() < 1e-7);
//! assert!(AUC::new().curve("XY").is_err());
//! # Ok::<(), keras::Error>(())
//! ```

use super::auc_curves::{interpolate_pr_auc, riemann};
use super::confusion_metrics::{in_metric, metric_object, read_dtype, ConfusionState};
use super::metrics_utils::{
    assert_thresholds_range, is_evenly_distributed_thresholds, AucCurve, AucSummationMethod,
    ConfusionMatrix, ConfusionOptions, EPSILON,
};
use super::{Direction, Metric};
use crate::ops::{self, Act, DType, Tensor};
use crate::serialization::{json, Cfg, Value};
use crate::{Error, Result};

const CELLS: [ConfusionMatrix; 4] = [
    ConfusionMatrix::TruePositives,
    ConfusionMatrix::FalsePositives,
    ConfusionMatrix::TrueNegatives,
    ConfusionMatrix::FalseNegatives,
];

/// Keras's `AUC(num_thresholds=200, curve="ROC", summation_method="interpolation",
/// thresholds=None, multi_label=False, num_labels=None, label_weights=None,
/// from_logits=False)`. With `multi_label`, each column of a rank-2 `y_pred` gets its own
/// curve and the result is their (label-weighted) mean; otherwise every value is one sample
/// and `label_weights` weighs the columns.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Debug)]
pub struct AUC {
    name: String,
    num_thresholds: usize,
    curve: AucCurve,
    summation_method: AucSummationMethod,
    given_thresholds: Option<Vec<f64>>,
    multi_label: bool,
    num_labels: Option<usize>,
    label_weights: Option<Vec<f64>>,
    from_logits: bool,
    /// The thresholds with the endpoints `-epsilon` and `1 + epsilon`.
    thresholds: Vec<f64>,
    evenly: bool,
    /// `None` until the number of labels is known (multi-label without `num_labels`).
    state: Option<ConfusionState>,
}

impl AUC {
    /// The metric with Keras's defaults (ROC, 200 thresholds, interpolation).
    pub fn new() -> Self {
        AUC {
            name: "auc".into(),
            num_thresholds: 200,
            curve: AucCurve::Roc,
            summation_method: AucSummationMethod::Interpolation,
            given_thresholds: None,
            multi_label: false,
            num_labels: None,
            label_weights: None,
            from_logits: false,
            thresholds: vec![],
            evenly: true,
            state: None,
        }
        .rebuild()
        .expect("the defaults are valid")
    }

    /// Checks the arguments and makes the thresholds and (when the shape is known) the state.
    fn rebuild(mut self) -> Result<Self> {
        let inner = match &self.given_thresholds {
            Some(t) => {
                assert_thresholds_range(t)?;
                let mut t = t.clone();
                t.sort_by(f64::total_cmp);
                self.num_thresholds = t.len() + 2;
                let mut ends = vec![0.0];
                ends.extend(&t);
                ends.push(1.0);
                self.evenly = is_evenly_distributed_thresholds(&ends);
                t
            }
            None => {
                let n = self.num_thresholds;
                if n <= 1 {
                    return Err(Error::value(format!(
                        "Argument `num_thresholds` must be an integer > 1. Received: \
                         num_thresholds={n}"
                    )));
                }
                self.evenly = true;
                (0..n - 2)
                    .map(|i| (i + 1) as f64 / (n - 1) as f64)
                    .collect()
            }
        };
        let mut thresholds = vec![-EPSILON];
        thresholds.extend(inner);
        thresholds.push(1.0 + EPSILON);
        self.thresholds = thresholds;
        if let Some(w) = &self.label_weights {
            if let Some(n) = self.num_labels.filter(|_| self.multi_label) {
                if w.len() != n {
                    return Err(Error::value(format!(
                        "`label_weights` has {} values but `num_labels` is {n}",
                        w.len()
                    )));
                }
            }
        }
        self.state = if self.multi_label {
            match self.num_labels {
                Some(n) if n > 0 => Some(ConfusionState::new(&CELLS, &[self.num_thresholds, n])?),
                _ => None,
            }
        } else {
            if self.num_labels.is_some_and(|n| n > 0) {
                return Err(Error::value(
                    "`num_labels` is needed only when `multi_label` is True.",
                ));
            }
            Some(ConfusionState::new(&CELLS, &[self.num_thresholds])?)
        };
        Ok(self)
    }

    /// Uses `n` thresholds evenly spaced in `[0, 1]` (`n > 1`).
    pub fn num_thresholds(mut self, n: usize) -> Result<Self> {
        self.num_thresholds = n;
        self.given_thresholds = None;
        self.rebuild()
    }

    /// Uses these thresholds (each in `[0, 1]`) besides the endpoints below 0 and above 1.
    pub fn thresholds(mut self, thresholds: &[f64]) -> Result<Self> {
        self.given_thresholds = Some(thresholds.to_vec());
        self.rebuild()
    }

    /// The curve: `"ROC"`, `"PR"` or `"PRGAIN"` (lower case too).
    pub fn curve(mut self, curve: &str) -> Result<Self> {
        self.curve = AucCurve::parse(curve)?;
        Ok(self)
    }

    /// The summation: `"interpolation"`, `"minoring"` or `"majoring"`.
    pub fn summation_method(mut self, method: &str) -> Result<Self> {
        self.summation_method = AucSummationMethod::parse(method)?;
        Ok(self)
    }

    /// One curve per label (column of a rank-2 `y_pred`), averaged.
    pub fn multi_label(mut self, on: bool) -> Result<Self> {
        self.multi_label = on;
        self.rebuild()
    }

    /// The number of labels of a multi-label AUC, when known before the first batch.
    pub fn num_labels(mut self, n: usize) -> Result<Self> {
        self.num_labels = Some(n);
        self.rebuild()
    }

    /// Weights of the labels (non-negative, one per column).
    pub fn label_weights(mut self, weights: &[f64]) -> Result<Self> {
        if let Some(w) = weights.iter().find(|w| **w < 0.0) {
            return Err(Error::value(format!(
                "All values of `label_weights` must be non-negative. Received: {w:?}"
            )));
        }
        self.label_weights = Some(weights.to_vec());
        self.rebuild()
    }

    /// Predictions are logits (a sigmoid is applied first).
    pub fn from_logits(mut self, on: bool) -> Self {
        self.from_logits = on;
        self
    }

    /// Renames the metric (the name shown in logs).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The metric a Keras config describes (`label_weights` as a list or as Keras's
    /// `__tensor__` object).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        read_dtype(c, &["float32"])?;
        let label_weights = match c.get("label_weights") {
            None => None,
            Some(Value::Object(o)) => Some(
                o.get("config")
                    .and_then(|v| v.get("value"))
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| c.bad("label_weights", "a list of numbers"))?,
            ),
            Some(_) => c.opt_f64s("label_weights")?,
        };
        AUC {
            name: c.str_or("name", "auc")?.to_string(),
            num_thresholds: c.usize_or("num_thresholds", 200)?,
            curve: AucCurve::parse(c.str_or("curve", "ROC")?)?,
            summation_method: AucSummationMethod::parse(
                c.str_or("summation_method", "interpolation")?,
            )?,
            given_thresholds: c.opt_f64s("thresholds")?,
            multi_label: c.bool_or("multi_label", false)?,
            num_labels: c.opt_usize("num_labels")?,
            label_weights,
            from_logits: c.bool_or("from_logits", false)?,
            thresholds: vec![],
            evenly: true,
            state: None,
        }
        .rebuild()
    }

    fn counts(&self) -> Option<([Vec<f32>; 4], usize)> {
        let s = self.state.as_ref()?;
        let labels = if self.multi_label { s.shape()[1] } else { 1 };
        Some((CELLS.map(|c| s.host(c)), labels))
    }

    /// The area of each label's curve (one value unless multi-label).
    fn by_label(&self) -> Vec<f64> {
        let Some(([tp, fp, tn, fn_], labels)) = self.counts() else {
            return vec![0.0];
        };
        let nt = self.num_thresholds;
        (0..labels)
            .map(|l| {
                let at = |v: &[f32], i: usize| v[i * labels + l];
                let col = |v: &[f32]| (0..nt).map(|i| at(v, i)).collect::<Vec<f32>>();
                let (tp, fp, tn, fn_) = (col(&tp), col(&fp), col(&tn), col(&fn_));
                if self.curve == AucCurve::Pr
                    && self.summation_method == AucSummationMethod::Interpolation
                {
                    interpolate_pr_auc(&tp, &fp, &fn_)
                } else {
                    riemann(self.curve, self.summation_method, &tp, &fp, &tn, &fn_)
                }
            })
            .collect()
    }
}

impl Default for AUC {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for AUC {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let what = |e| in_metric(e, "AUC", &self.name);
        if self.state.is_none() {
            let labels = match y_pred.dims() {
                [_, l] => *l,
                d => {
                    return Err(what(Error::value(format!(
                        "`y_pred` must have rank 2 when `multi_label=True`. Found rank {}. \
                         Full shape received for `y_pred`: {}",
                        d.len(),
                        crate::engine::tuple(d)
                    ))))
                }
            };
            self.state = Some(ConfusionState::new(&CELLS, &[self.num_thresholds, labels])?);
        }
        let y_pred = if self.from_logits {
            ops::activation(&ops::cast(y_pred, DType::F32)?, Act::Sigmoid)?
        } else {
            y_pred.clone()
        };
        let mut opts = ConfusionOptions::new(&self.thresholds);
        opts.thresholds_distributed_evenly = self.evenly;
        opts.multi_label = self.multi_label;
        if !self.multi_label {
            opts.label_weights = self.label_weights.as_deref();
        }
        let name = self.name.clone();
        let state = self.state.as_mut().expect("built above");
        state
            .update(y_true, &y_pred, sample_weight, &opts)
            .map_err(|e| in_metric(e, "AUC", &name))
    }
    fn result(&self) -> f64 {
        let by_label = self.by_label();
        if !self.multi_label {
            return by_label[0];
        }
        match &self.label_weights {
            None => by_label.iter().sum::<f64>() / by_label.len() as f64,
            Some(w) => {
                let total: f64 = w.iter().map(|&x| x as f32 as f64).sum();
                let dot: f64 = by_label
                    .iter()
                    .zip(w)
                    .map(|(a, &b)| a * (b as f32 as f64))
                    .sum();
                if total == 0.0 {
                    0.0
                } else {
                    dot / total
                }
            }
        }
    }
    fn reset_state(&mut self) {
        if let Some(s) = &mut self.state {
            s.reset()
        }
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
    fn get_config(&self) -> Value {
        let label_weights = match &self.label_weights {
            Some(w) => json!({
                "class_name": "__tensor__",
                "config": {"value": w, "dtype": "float32"},
            }),
            None => Value::Null,
        };
        let mut extra = json!({
            "num_thresholds": self.num_thresholds,
            "curve": self.curve.as_str(),
            "summation_method": self.summation_method.as_str(),
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": label_weights,
            "from_logits": self.from_logits,
        });
        if self.given_thresholds.is_some() {
            extra["thresholds"] = json!(self.thresholds[1..self.thresholds.len() - 1]);
        }
        metric_object("AUC", &self.name, "float32", extra)
    }
    fn variables(&self) -> Vec<Tensor> {
        self.state
            .as_ref()
            .map(ConfusionState::variables)
            .unwrap_or_default()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        if self.state.is_none() {
            let shape = values
                .first()
                .map(|v| v.dims().to_vec())
                .unwrap_or_default();
            self.state = Some(ConfusionState::new(&CELLS, &shape)?);
        }
        self.state
            .as_mut()
            .expect("built above")
            .set_variables("AUC", values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    #[test]
    fn validation_and_config() {
        let e = AUC::new().num_thresholds(1).unwrap_err().to_string();
        assert!(e.contains("`num_thresholds` must be an integer > 1"), "{e}");
        let e = AUC::new().curve("ROCK").unwrap_err().to_string();
        assert!(e.contains("Invalid AUC curve value: \"ROCK\""), "{e}");
        assert!(AUC::new().summation_method("trapezoid").is_err());
        assert!(AUC::new().num_labels(3).is_err());
        assert!(AUC::new().thresholds(&[0.5, 1.5]).is_err());
        let m = AUC::new().thresholds(&[0.7, 0.2]).unwrap();
        assert_eq!(m.get_config()["config"]["thresholds"], json!([0.2, 0.7]));
        assert_eq!(m.get_config()["config"]["num_thresholds"], 4);
        let mut ml = AUC::new().multi_label(true).unwrap();
        assert!(ml.variables().is_empty());
        let e = ml
            .update_state(&t(&[1., 0.], &[2]), &t(&[0.3, 0.2], &[2]), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("must have rank 2") && e.contains("(2,)"), "{e}");
        ml.update_state(
            &t(&[1., 0., 0., 1.], &[2, 2]),
            &t(&[0.7, 0.2, 0.4, 0.9], &[2, 2]),
            None,
        )
        .unwrap();
        assert_eq!(ml.variables()[0].dims(), [200, 2]);
        assert!((ml.result() - 1.0).abs() < 1e-6);
    }
}
