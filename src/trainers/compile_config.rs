//! Keras's `compile_config` (`Trainer.get_compile_config` / `compile_from_config`): the
//! optimizer, losses and metrics a model was compiled with, each written as its own
//! `get_config` gives it (`{module, class_name, config}`, or a name where one was given, as
//! `"accuracy"`) and read back into the same objects through their registries.

use super::compile::{CompileArgs, LossSpec, LossWeights, MetricsSpec};
use crate::metrics::MetricArg;
use crate::optimizers::{Optimizer, OptimizerArg};
use crate::{Error, Result};
use serde_json::{json, Value};

/// Keras's `compile_config` from the compiled parts (their `get_config`s).
pub(crate) fn compile_config(
    optimizer: &dyn Optimizer,
    loss: (Value, Value),
    metrics: (Value, Value),
) -> Value {
    json!({
        "optimizer": optimizer.get_config(),
        "loss": loss.0,
        "loss_weights": loss.1,
        "metrics": metrics.0,
        "weighted_metrics": metrics.1,
        "run_eagerly": false,
        "steps_per_execution": 1,
        "jit_compile": false,
    })
}

impl CompileArgs {
    /// The `compile` arguments a Keras `compile_config` describes (Keras's
    /// `compile_from_config`): the optimizer (with its learning-rate schedule), the loss or
    /// losses, their weights, and the metrics as objects (`Precision(thresholds=0.3)`) or
    /// names (`"accuracy"`).
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::serialization::json;
    /// let args = CompileArgs::from_config(&json!({
    ///     "optimizer": {"module": "keras.optimizers", "class_name": "Adam",
    ///                   "config": {"learning_rate": 0.01}},
    ///     "loss": "mse",
    ///     "metrics": ["mae"],
    /// }))?;
    /// let mut model = Sequential::from_layers([Input::new([2]).into(), Dense::new(1).into()])?;
    /// model.compile_with(args)?;
    /// assert!(model.compiled());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn from_config(c: &Value) -> Result<CompileArgs> {
        let optimizer =
            crate::optimizers::from_config(c.get("optimizer").unwrap_or(&json!("rmsprop")))?;
        let loss = match c.get("loss") {
            Some(Value::Array(v)) => LossSpec::List(
                v.iter()
                    .map(crate::losses::from_config)
                    .collect::<Result<_>>()?,
            ),
            Some(Value::Object(m)) if !m.contains_key("class_name") => LossSpec::Map(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), crate::losses::from_config(v)?)))
                    .collect::<Result<_>>()?,
            ),
            Some(v) if !v.is_null() => LossSpec::One(crate::losses::from_config(v)?),
            _ => {
                return Err(Error::value(
                    "compile_config has no loss: keras-rs trains with a loss given at compile",
                ))
            }
        };
        let weight = |w: &Value| {
            w.as_f64().ok_or_else(|| {
                Error::value(format!(
                    "compile_config: a loss weight should be a number; received {w}"
                ))
            })
        };
        let loss_weights = match c.get("loss_weights") {
            Some(Value::Array(v)) => Some(LossWeights::List(
                v.iter().map(weight).collect::<Result<_>>()?,
            )),
            Some(Value::Object(m)) => Some(LossWeights::Map(
                m.iter()
                    .map(|(k, w)| Ok((k.clone(), weight(w)?)))
                    .collect::<Result<_>>()?,
            )),
            _ => None,
        };
        Ok(CompileArgs {
            optimizer: OptimizerArg::Value(optimizer),
            loss,
            loss_weights,
            metrics: metrics_spec(c.get("metrics"))?,
            weighted_metrics: metrics_spec(c.get("weighted_metrics"))?,
        })
    }
}

/// `metrics` / `weighted_metrics` of a `compile_config`: one list, one list per output, or
/// lists by output name.
fn metrics_spec(v: Option<&Value>) -> Result<MetricsSpec> {
    Ok(match v {
        Some(Value::Array(v)) if v.iter().any(Value::is_array) => {
            MetricsSpec::PerOutput(v.iter().map(metric_list).collect::<Result<_>>()?)
        }
        Some(v @ Value::Array(_)) => MetricsSpec::All(metric_list(v)?),
        Some(Value::Object(m)) if !m.contains_key("class_name") => MetricsSpec::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), metric_list(v)?)))
                .collect::<Result<_>>()?,
        ),
        Some(v @ Value::Object(_)) => MetricsSpec::All(metric_list(v)?),
        _ => MetricsSpec::default(),
    })
}

/// A serialized metric list (or a single metric).
fn metric_list(v: &Value) -> Result<Vec<MetricArg>> {
    match v {
        Value::Array(v) => v.iter().map(metric_from_config).collect(),
        Value::Null => Ok(vec![]),
        m => Ok(vec![metric_from_config(m)?]),
    }
}

/// One serialized metric: a name stays a name (resolved at the first batch, as `"accuracy"`
/// is); an object is rebuilt by its class.
fn metric_from_config(m: &Value) -> Result<MetricArg> {
    if let Some(name) = m.as_str() {
        return Ok(MetricArg::Name(name.to_string()));
    }
    if m.get("class_name").is_none() {
        return Err(Error::value(format!(
            "cannot read metric {m} from compile_config: a metric is a name or a serialized \
             object with a `class_name`"
        )));
    }
    crate::metrics::deserialize(m).map(MetricArg::Value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configs_are_refused() {
        let e = CompileArgs::from_config(&json!({"optimizer": "adam"}))
            .err()
            .unwrap();
        assert!(e.to_string().contains("has no loss"), "{e}");
        let e = CompileArgs::from_config(&json!({"loss": ["mse"], "loss_weights": ["x"]}))
            .err()
            .unwrap();
        assert!(e.to_string().contains("received \"x\""), "{e}");
        let e = CompileArgs::from_config(&json!({"loss": "mse", "metrics": [{"config": {}}]}))
            .err()
            .unwrap();
        assert!(e.to_string().contains("class_name"), "{e}");
    }

    #[test]
    fn metric_lists_by_output() {
        let c = json!({"loss": "mse", "metrics": {"a": ["mae"], "b": "mse"},
                       "weighted_metrics": [["mae"], []]});
        let args = CompileArgs::from_config(&c).unwrap();
        match args.metrics {
            MetricsSpec::Map(m) => {
                assert_eq!(m.len(), 2);
                assert_eq!(m[1].1.len(), 1);
            }
            _ => panic!("a map by output"),
        }
        assert!(matches!(args.weighted_metrics, MetricsSpec::PerOutput(v) if v.len() == 2));
    }
}
