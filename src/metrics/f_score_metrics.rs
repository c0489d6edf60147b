//! `FBetaScore` and `F1Score` (Keras's `keras/src/metrics/f_score_metrics.py`): the
//! weighted harmonic mean of precision and recall, per class or averaged (`micro`, `macro`,
//! `weighted`).
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{F1Score, Metric};
//! let mut m = F1Score::new().threshold(0.5)?;
//! let y = Tensor::new(&[[1f32, 1., 1.], [1., 0., 0.], [1., 1., 0.]], &Device::Cpu)?;
//! let p = Tensor::new(&[[0.2f32, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! let v = m.result_values();
//! assert!((v[0] - 0.5).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6 && (v[2] - 0.6666667).abs() < 1e-6);
//! # Ok::<(), keras::Error>(())
//! ```

use super::confusion_metrics::{in_metric, mean, metric_object, read_dtype};
use super::metrics_utils::EPSILON;
use super::{Direction, Metric};
use crate::engine::tuple;
use crate::ops::{self, DType, Device, Tensor};
use crate::serialization::{json, Cfg, Value};
use crate::{Error, Result};

/// How the per-class scores are combined (Keras's `average`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Average {
    /// One score per class (`average=None`).
    None,
    /// Counts summed over classes first (`"micro"`).
    Micro,
    /// Mean of the per-class scores (`"macro"`).
    Macro,
    /// Mean weighted by each class's number of true labels (`"weighted"`).
    Weighted,
}

impl Average {
    /// Keras's names: `None` (JSON `null`), `"micro"`, `"macro"`, `"weighted"`.
    pub fn parse(v: Option<&str>) -> Result<Self> {
        Ok(match v {
            None => Average::None,
            Some("micro") => Average::Micro,
            Some("macro") => Average::Macro,
            Some("weighted") => Average::Weighted,
            Some(o) => {
                return Err(Error::value(format!(
                    "Invalid `average` argument value. Expected one of: {{None, 'micro', \
                     'macro', 'weighted'}}. Received: average={o}"
                )))
            }
        })
    }

    fn value(self) -> Value {
        match self {
            Average::None => Value::Null,
            Average::Micro => json!("micro"),
            Average::Macro => json!("macro"),
            Average::Weighted => json!("weighted"),
        }
    }
}

/// Keras's `FBetaScore(average=None, beta=1.0, threshold=None, name="fbeta_score")`.
/// `y_true` and `y_pred` are `(batch, classes)`; without a `threshold` each row's largest
/// (non-zero) prediction counts as positive. With `average=None` the result is one score per
/// class ([`Metric::result_values`]; [`Metric::result`] is their mean).
#[derive(Clone, Debug)]
pub struct FBetaScore {
    name: String,
    average: Average,
    beta: f64,
    threshold: Option<f64>,
    /// `true_positives`, `false_positives`, `false_negatives`, `intermediate_weights`, once
    /// the number of classes is known.
    state: Option<[Tensor; 4]>,
}

impl FBetaScore {
    /// The metric with Keras's defaults (`average=None`, `beta=1`, no threshold).
    pub fn new() -> Self {
        FBetaScore {
            name: "fbeta_score".into(),
            average: Average::None,
            beta: 1.0,
            threshold: None,
            state: None,
        }
    }

    /// Sets `average`: `None`, `Some("micro")`, `Some("macro")` or `Some("weighted")`.
    pub fn average(mut self, average: Option<&str>) -> Result<Self> {
        self.average = Average::parse(average)?;
        Ok(self)
    }

    /// Sets `beta` (> 0): recall counts `beta` times as much as precision.
    pub fn beta(mut self, beta: f64) -> Result<Self> {
        if beta.is_nan() || beta <= 0.0 {
            return Err(Error::value(format!(
                "Invalid `beta` argument value. It should be > 0. Received: beta={beta:?}"
            )));
        }
        self.beta = beta;
        Ok(self)
    }

    /// Predictions above `threshold` (in `(0, 1]`) count as positive.
    pub fn threshold(mut self, threshold: f64) -> Result<Self> {
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(Error::value(format!(
                "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. \
                 Received: threshold={threshold:?}"
            )));
        }
        self.threshold = Some(threshold);
        Ok(self)
    }

    /// Renames the metric (the name shown in logs).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The metric a Keras config describes (`average`, `beta`, `threshold`, `name`).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        read_dtype(c, &["float32"])?;
        let mut m = FBetaScore::new()
            .name(c.str_or("name", "fbeta_score")?)
            .average(c.opt_str("average")?)?
            .beta(c.f64_or("beta", 1.0)?)?;
        if let Some(t) = c.opt_f64("threshold")? {
            m = m.threshold(t)?;
        }
        Ok(m)
    }

    fn config(&self, class: &str, with_beta: bool) -> Value {
        let mut extra = json!({"average": self.average.value(), "threshold": self.threshold});
        if with_beta {
            extra["beta"] = json!(self.beta);
        }
        metric_object(class, &self.name, "float32", extra)
    }

    fn update(
        &mut self,
        class: &str,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let (yt, yp) = (y_true.dims(), y_pred.dims());
        if yp.len() != 2 || yt.len() != 2 || yt != yp {
            return Err(in_metric(
                Error::shape(format!(
                    "{class} expects 2D inputs with shape (batch_size, output_dim). Received \
                     input shapes: y_pred.shape={} and y_true.shape={}.",
                    tuple(yp),
                    tuple(yt)
                )),
                class,
                &self.name,
            ));
        }
        let (n, classes) = (yp[0], yp[1]);
        let shape: &[usize] = if self.average == Average::Micro {
            &[]
        } else {
            &[classes]
        };
        let dev = y_pred.device();
        match &mut self.state {
            None => {
                let z = Tensor::zeros(shape, DType::F32, dev)?;
                self.state = Some([z.clone(), z.clone(), z.clone(), z]);
            }
            Some(s) if self.average != Average::Micro && s[0].dims() != shape => {
                return Err(in_metric(
                    Error::shape(format!(
                        "the metric was built for {} classes; received y_pred.shape={}",
                        s[0].dims()[0],
                        tuple(yp)
                    )),
                    class,
                    &self.name,
                ))
            }
            Some(s) if !s[0].device().same_device(dev) => {
                for v in s.iter_mut() {
                    *v = v.to_device(dev)?;
                }
            }
            Some(_) => {}
        }
        let y_pred = ops::cast(y_pred, DType::F32)?;
        let y_true = ops::cast(y_true, DType::F32)?;
        let pred = match self.threshold {
            None => {
                let top = y_pred.max_keepdim(1)?;
                let is_max = y_pred.broadcast_ge(&top)?;
                let nonzero = y_pred.abs()?.gt(1e-9f32)?;
                is_max.mul(&nonzero)?.to_dtype(DType::F32)?
            }
            Some(t) => y_pred.gt(t as f32)?.to_dtype(DType::F32)?,
        };
        let w = match sample_weight {
            Some(w) if w.elem_count() == n => Some(ops::cast(w, DType::F32)?.reshape((n, 1))?),
            Some(w) => {
                return Err(in_metric(
                    Error::shape(format!(
                        "sample_weight should hold one weight per sample ({n}); received shape {}",
                        tuple(w.dims())
                    )),
                    class,
                    &self.name,
                ))
            }
            None => None,
        };
        let micro = self.average == Average::Micro;
        let sum = |v: Tensor| -> Result<Tensor> {
            let v = match &w {
                Some(w) => v.broadcast_mul(w)?,
                None => v,
            };
            Ok(if micro { v.sum_all()? } else { v.sum(0)? })
        };
        let not_pred = pred.affine(-1.0, 1.0)?;
        let not_true = y_true.affine(-1.0, 1.0)?;
        let adds = [
            sum(pred.mul(&y_true)?)?,
            sum(pred.mul(&not_true)?)?,
            sum(not_pred.mul(&y_true)?)?,
            sum(y_true.clone())?,
        ];
        let state = self.state.as_mut().expect("built above");
        for (v, a) in state.iter_mut().zip(adds) {
            *v = v.add(&a)?;
        }
        Ok(())
    }

    fn scores(&self) -> Vec<f64> {
        let Some(s) = &self.state else {
            return vec![0.0];
        };
        let host: Result<Vec<Vec<f32>>> = s.iter().map(ops::to_vec_f32).collect();
        let Ok(h) = host else {
            return vec![f64::NAN];
        };
        let (tp, fp, fn_, iw) = (&h[0], &h[1], &h[2], &h[3]);
        let eps = EPSILON as f32;
        let b2 = (self.beta * self.beta) as f32;
        let f: Vec<f32> = (0..tp.len())
            .map(|i| {
                let p = tp[i] / (tp[i] + fp[i] + eps);
                let r = tp[i] / (tp[i] + fn_[i] + eps);
                (p * r) / (b2 * p + r + eps) * (1.0 + b2)
            })
            .collect();
        match self.average {
            Average::None => f.iter().map(|&x| x as f64).collect(),
            Average::Micro | Average::Macro => {
                vec![f.iter().map(|&x| x as f64).sum::<f64>() / f.len() as f64]
            }
            Average::Weighted => {
                let total: f32 = iw.iter().sum::<f32>() + eps;
                vec![f
                    .iter()
                    .zip(iw)
                    .map(|(&a, &b)| (a * (b / total)) as f64)
                    .sum()]
            }
        }
    }
}

impl Default for FBetaScore {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for FBetaScore {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        self.update("FBetaScore", y_true, y_pred, sample_weight)
    }
    /// The score (the mean of the per-class scores with `average=None`).
    fn result(&self) -> f64 {
        mean(&self.scores())
    }
    fn result_values(&self) -> Vec<f64> {
        self.scores()
    }
    fn reset_state(&mut self) {
        if let Some(s) = &mut self.state {
            for v in s.iter_mut() {
                if let Ok(z) = v.zeros_like() {
                    *v = z;
                }
            }
        }
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
    fn get_config(&self) -> Value {
        self.config("FBetaScore", true)
    }
    fn variables(&self) -> Vec<Tensor> {
        self.state.as_ref().map(|s| s.to_vec()).unwrap_or_default()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        match values {
            [] => Ok(()),
            [a, b, c, d] => {
                let shape = a.dims();
                if [b, c, d].iter().any(|t| t.dims() != shape)
                    || (self.average == Average::Micro) != shape.is_empty()
                {
                    return Err(Error::shape(format!(
                        "FBetaScore: state variables of shapes {}, {}, {}, {} do not fit \
                         average={:?}",
                        tuple(a.dims()),
                        tuple(b.dims()),
                        tuple(c.dims()),
                        tuple(d.dims()),
                        self.average
                    )));
                }
                let dev = self
                    .state
                    .as_ref()
                    .map(|s| s[0].device().clone())
                    .unwrap_or(Device::Cpu);
                let mv = |t: &Tensor| -> Result<Tensor> {
                    Ok(ops::cast(t, DType::F32)?.to_device(&dev)?)
                };
                self.state = Some([mv(a)?, mv(b)?, mv(c)?, mv(d)?]);
                Ok(())
            }
            _ => Err(Error::value(format!(
                "FBetaScore has 4 state variables (true_positives, false_positives, \
                 false_negatives, intermediate_weights); received {} values",
                values.len()
            ))),
        }
    }
}

/// Keras's `F1Score(average=None, threshold=None, name="f1_score")`: [`FBetaScore`] with
/// `beta = 1` (its config has no `beta`).
#[derive(Clone, Debug)]
pub struct F1Score(FBetaScore);

impl F1Score {
    /// The metric with Keras's defaults.
    pub fn new() -> Self {
        F1Score(FBetaScore::new().name("f1_score"))
    }

    /// Sets `average` (see [`FBetaScore::average`]).
    pub fn average(self, average: Option<&str>) -> Result<Self> {
        Ok(F1Score(self.0.average(average)?))
    }

    /// Predictions above `threshold` (in `(0, 1]`) count as positive.
    pub fn threshold(self, threshold: f64) -> Result<Self> {
        Ok(F1Score(self.0.threshold(threshold)?))
    }

    /// Renames the metric.
    pub fn name(self, name: &str) -> Self {
        F1Score(self.0.name(name))
    }

    /// The metric a Keras config describes (`average`, `threshold`, `name`).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        if c.get("beta").is_some() {
            return Err(c.bad("beta", "absent (F1Score has beta = 1)"));
        }
        let m = FBetaScore::from_config(c)?;
        let name = c.str_or("name", "f1_score")?;
        Ok(F1Score(m.name(name)))
    }
}

impl Default for F1Score {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for F1Score {
    fn name(&self) -> &str {
        &self.0.name
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        self.0.update("F1Score", y_true, y_pred, sample_weight)
    }
    /// The score (the mean of the per-class scores with `average=None`).
    fn result(&self) -> f64 {
        self.0.result()
    }
    fn result_values(&self) -> Vec<f64> {
        self.0.result_values()
    }
    fn reset_state(&mut self) {
        self.0.reset_state()
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
    fn get_config(&self) -> Value {
        self.0.config("F1Score", false)
    }
    fn variables(&self) -> Vec<Tensor> {
        self.0.variables()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        self.0.set_variables(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    #[test]
    fn averages_and_checks() {
        let y = t(&[1., 1., 1., 1., 0., 0., 1., 1., 0.], &[3, 3]);
        let p = t(&[0.2, 0.6, 0.7, 0.2, 0.6, 0.6, 0.6, 0.8, 0.0], &[3, 3]);
        let mut m = FBetaScore::new().beta(2.0).unwrap().threshold(0.5).unwrap();
        m.update_state(&y, &p, None).unwrap();
        let v = m.result_values();
        // Keras's docstring: [0.3846154 , 0.90909094, 0.8333334 ].
        for (a, b) in v.iter().zip([0.3846154, 0.90909094, 0.8333334]) {
            assert!((a - b).abs() < 1e-6, "{v:?}");
        }
        let e = m
            .update_state(&t(&[1., 0.], &[2]), &t(&[1., 0.], &[2]), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expects 2D inputs") && e.contains("y_pred.shape=(2,)"),
            "{e}"
        );
        assert!(FBetaScore::new().beta(0.0).is_err());
        assert!(FBetaScore::new().threshold(0.0).is_err());
        assert!(FBetaScore::new().average(Some("mean")).is_err());
        let f1 = F1Score::new().average(Some("macro")).unwrap();
        let c = f1.get_config();
        assert_eq!(c["class_name"], "F1Score");
        assert!(c["config"].get("beta").is_none());
        assert_eq!(c["config"]["average"], "macro");
    }
}
