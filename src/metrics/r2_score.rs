//! `R2Score`, the coefficient of determination (Keras's `R2Score` in
//! `keras/src/metrics/regression_metrics.py`): per-output sums kept as tensors on the
//! batch's device, aggregated over outputs (`uniform_average`, `variance_weighted_average`,
//! or one score per output) and optionally adjusted for `num_regressors`.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, R2Score};
//! let mut m = R2Score::default();
//! let y = Tensor::new(&[[1f32], [4.], [3.]], &Device::Cpu)?;
//! let p = Tensor::new(&[[2f32], [4.], [4.]], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert!((m.result() - 0.57142854).abs() < 1e-6);
//! # Ok::<(), keras::Error>(())
//! ```

use super::sample_values::{float, same_rank};
use super::state::{args, in_metric, metric_object, read_dtype, wrong_count, Total};
use super::{Direction, Metric};
use crate::losses::squeeze_or_expand_to_same_rank;
use crate::ops::{self, DType, Tensor};
use crate::serialization::{json, Cfg, Value};
use crate::{Error, Result};

/// How [`R2Score`] aggregates the scores of several outputs (Keras's `class_aggregation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassAggregation {
    /// The mean of the outputs' scores (`"uniform_average"`, the default).
    UniformAverage,
    /// The outputs' scores weighted by their variances (`"variance_weighted_average"`).
    VarianceWeightedAverage,
    /// One score per output (`None`): [`Metric::result_values`].
    None,
}

impl ClassAggregation {
    fn as_value(self) -> Value {
        match self {
            ClassAggregation::UniformAverage => json!("uniform_average"),
            ClassAggregation::VarianceWeightedAverage => json!("variance_weighted_average"),
            ClassAggregation::None => Value::Null,
        }
    }
}

/// Keras's `R2Score` metric.
#[derive(Clone, Debug)]
pub struct R2Score {
    name: String,
    dtype: DType,
    class_aggregation: ClassAggregation,
    num_regressors: usize,
    /// `num_samples`, `squared_sum`, `sum`, `residual`, `count` (Keras's variable order).
    num_samples: Total,
    sums: Option<[Total; 4]>,
    num_classes: usize,
}

impl R2Score {
    /// The metric named `name` (uniform average, no regressors).
    pub fn new(name: &str) -> Self {
        R2Score {
            name: name.to_string(),
            dtype: DType::F32,
            class_aggregation: ClassAggregation::UniformAverage,
            num_regressors: 0,
            num_samples: Total::default(),
            sums: None,
            num_classes: 0,
        }
    }

    /// How the scores of several outputs are aggregated.
    pub fn class_aggregation(mut self, a: ClassAggregation) -> Self {
        self.class_aggregation = a;
        self
    }

    /// The number of independent regressors, for the adjusted R2 score (0: not adjusted).
    pub fn num_regressors(mut self, n: usize) -> Self {
        self.num_regressors = n;
        self
    }

    /// Keras's config: `name`, `dtype`, `class_aggregation` (`"uniform_average"`,
    /// `"variance_weighted_average"` or null), `num_regressors` (>= 0), with Keras's errors.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let agg = match c.map.get("class_aggregation") {
            None => ClassAggregation::UniformAverage,
            Some(Value::Null) => ClassAggregation::None,
            Some(Value::String(s)) if s == "uniform_average" => ClassAggregation::UniformAverage,
            Some(Value::String(s)) if s == "variance_weighted_average" => {
                ClassAggregation::VarianceWeightedAverage
            }
            Some(other) => {
                return Err(Error::value(format!(
                    "Invalid value for argument `class_aggregation`. Expected one of (None, \
                     'uniform_average', 'variance_weighted_average'). Received: \
                     class_aggregation={other}"
                )))
            }
        };
        let n = match c.get("num_regressors") {
            None => 0,
            Some(v) => match (v.as_u64(), v.as_i64()) {
                (Some(n), _) => n as usize,
                (None, Some(n)) => {
                    return Err(Error::value(format!(
                        "Invalid value for argument `num_regressors`. Expected a value >= 0. \
                         Received: num_regressors={n}"
                    )))
                }
                _ => return Err(c.bad("num_regressors", "a non-negative integer")),
            },
        };
        let mut m = R2Score::new(c.str_or("name", "r2_score")?)
            .class_aggregation(agg)
            .num_regressors(n);
        m.dtype = read_dtype(c)?;
        Ok(m)
    }

    fn update(&mut self, y_true: &Tensor, y_pred: &Tensor, w: Option<&Tensor>) -> Result<()> {
        let (t, p) = same_rank(y_true, y_pred)?;
        let (t, p) = (t.to_dtype(self.dtype)?, p.to_dtype(self.dtype)?);
        if p.rank() != 2 || t.rank() != 2 {
            return Err(Error::value(format!(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input \
                 shapes: y_pred.shape={} and y_true.shape={}.",
                ops::shape_str(p.dims()),
                ops::shape_str(t.dims())
            )));
        }
        let classes = p.dims()[1];
        if self.sums.is_some() && classes != self.num_classes {
            return Err(Error::shape(format!(
                "R2Score was built for {} outputs; received y_pred.shape={}",
                self.num_classes,
                ops::shape_str(p.dims())
            )));
        }
        let (t, p) = super::sample_values::broadcast_pair(t, p)?;
        let w = match w {
            None => t.ones_like()?,
            Some(w) => {
                let w = float(w)?.to_dtype(self.dtype)?.to_device(t.device())?;
                let w = if w.rank() == 1 { w.unsqueeze(1)? } else { w };
                let (w, _) = squeeze_or_expand_to_same_rank(&w, &t, false)?;
                super::sample_values::check_broadcast(&w, &t)?;
                w.broadcast_as(t.dims())?
            }
        };
        let weighted = (&t * &w)?;
        let sums = self.sums.get_or_insert_with(Default::default);
        self.num_classes = classes;
        sums[0].add(&(&t * &weighted)?.sum(0)?)?;
        sums[1].add(&weighted.sum(0)?)?;
        sums[2].add(&((t - p)?.sqr()? * &w)?.sum(0)?)?;
        sums[3].add(&w.sum(0)?)?;
        self.num_samples
            .add_number(weighted.elem_count() as f64, &weighted.sum_all()?)
    }

    /// The per-output scores and their variances (`total`).
    fn raw_scores(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        let s = self.sums.as_ref()?;
        // A reset total is zeros (Keras keeps the built variables).
        let host = |t: &Total| t.host().unwrap_or_else(|| vec![0.0; self.num_classes]);
        let (sq, sum, res, count) = (host(&s[0]), host(&s[1]), host(&s[2]), host(&s[3]));
        // In float32, as Keras computes them.
        let f = |x: f64| x as f32;
        let mut scores = vec![];
        let mut totals = vec![];
        for i in 0..sum.len() {
            let mean = f(sum[i]) / f(count[i]);
            let total = f(sq[i]) - f(sum[i]) * mean;
            let raw = 1.0 - f(res[i]) / total;
            scores.push(if raw.is_infinite() { 0.0 } else { raw as f64 });
            totals.push(total as f64);
        }
        Some((scores, totals))
    }

    fn adjusted(&self, r2: f64) -> f64 {
        let p = self.num_regressors as f64;
        let n = self.num_samples.scalar();
        if self.num_regressors == 0 || p >= n - 1.0 {
            // Keras warns and falls back to the plain score.
            return r2;
        }
        1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0)
    }
}

impl Default for R2Score {
    fn default() -> Self {
        R2Score::new("r2_score")
    }
}

impl Metric for R2Score {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        self.update(y_true, y_pred, sample_weight)
            .map_err(|e| in_metric(e, "R2Score", &self.name))
    }
    fn result(&self) -> f64 {
        let v = self.result_values();
        if v.len() == 1 {
            v[0]
        } else {
            v.iter().sum::<f64>() / v.len().max(1) as f64
        }
    }
    fn result_values(&self) -> Vec<f64> {
        let Some((scores, totals)) = self.raw_scores() else {
            return vec![f64::NAN];
        };
        match self.class_aggregation {
            ClassAggregation::UniformAverage => {
                let r2 = scores.iter().sum::<f64>() / scores.len() as f64;
                vec![self.adjusted(r2)]
            }
            ClassAggregation::VarianceWeightedAverage => {
                let num: f64 = totals.iter().zip(&scores).map(|(t, s)| t * s).sum();
                vec![self.adjusted(num / totals.iter().sum::<f64>())]
            }
            ClassAggregation::None => scores.into_iter().map(|s| self.adjusted(s)).collect(),
        }
    }
    fn reset_state(&mut self) {
        self.num_samples.reset();
        if let Some(s) = &mut self.sums {
            s.iter_mut().for_each(Total::reset);
        }
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
    fn get_config(&self) -> Value {
        let extra = args(json!({
            "class_aggregation": self.class_aggregation.as_value(),
            "num_regressors": self.num_regressors,
        }));
        metric_object("R2Score", &self.name, self.dtype, extra)
    }
    /// `num_samples`, then (once built by a first batch) `squared_sum`, `sum`, `residual`,
    /// `count`, as Keras's `R2Score.variables`.
    fn variables(&self) -> Vec<Tensor> {
        let mut v = vec![self.num_samples.tensor(&[], self.dtype)];
        if let Some(s) = &self.sums {
            v.extend(s.iter().map(|t| t.tensor(&[self.num_classes], self.dtype)));
        }
        v
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        match values {
            [n] => self.num_samples.set(n, &[], self.dtype, &self.name),
            [n, rest @ ..] if rest.len() == 4 => {
                self.num_samples.set(n, &[], self.dtype, &self.name)?;
                let classes = rest[0].elem_count();
                let mut sums: [Total; 4] = Default::default();
                for (s, v) in sums.iter_mut().zip(rest) {
                    s.set(v, &[classes], self.dtype, &self.name)?;
                }
                self.sums = Some(sums);
                self.num_classes = classes;
                Ok(())
            }
            _ => Err(wrong_count("R2Score", &self.name, 5, values.len())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::serialization::config;

    #[test]
    fn scores_and_errors() {
        let mut m = R2Score::default().class_aggregation(ClassAggregation::None);
        let y = t(&[1., 2., 4., 3., 3., 5.], &[3, 2]);
        let p = t(&[2., 2., 4., 4., 4., 5.], &[3, 2]);
        m.update_state(&y, &p, None).unwrap();
        let v = m.result_values();
        assert!(
            (v[0] - 0.5714285).abs() < 1e-6 && (v[1] - 0.7857143).abs() < 1e-6,
            "{v:?}"
        );
        assert_eq!(m.variables().len(), 5);
        let e = m
            .update_state(&t(&[1.; 3], &[3]), &t(&[1.; 3], &[3]), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("R2Score metric 'r2_score'") && e.contains("y_pred.shape=(3,)"),
            "{e}"
        );
        let bad = |v| {
            R2Score::from_config(&Cfg::new("R2Score", &config(v)))
                .unwrap_err()
                .to_string()
        };
        assert!(bad(json!({"class_aggregation": "median"}))
            .contains("Received: class_aggregation=\"median\""));
        assert!(bad(json!({"num_regressors": -1})).contains("Received: num_regressors=-1"));
    }
}
