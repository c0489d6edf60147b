//! The `training_config` attribute of a `model.save("m.h5")` file (Keras 2's compile arguments:
//! `loss`, `metrics`, `weighted_metrics`, `loss_weights`, `optimizer_config`) to Keras 3's
//! `compile_config` and back, as Keras 3's `compile_args_from_training_config` and
//! `model_metadata` (`keras/src/legacy/saving/saving_utils.py`) read and write it.

use crate::{Error, Result};
use serde_json::{json, Map, Value};

/// Optimizer arguments written files leave out when they hold their defaults: Keras 3's own
/// (`loss_scale_factor`, ...), which tf.keras 2 refuses, and those of tf.keras 2.11's new
/// optimizers, which its legacy optimizers refuse. tf_keras reads an optimizer config without
/// `is_legacy_optimizer` as a legacy optimizer (Keras 3 refuses that key), so what is left is
/// what both read: the learning rate, the rule's own arguments and the clipping options.
const DEFAULT_OPTIMIZER_ARGS: &[(&str, Value)] = &[
    ("loss_scale_factor", Value::Null),
    ("gradient_accumulation_steps", Value::Null),
    ("weight_decay", Value::Null),
    ("use_ema", Value::Bool(false)),
    ("ema_overwrite_frequency", Value::Null),
];

/// tf.keras 2 optimizer arguments Keras 3's refuse, or ignores with a warning (`decay`).
const KERAS2_ONLY_OPTIMIZER_ARGS: &[&str] = &["decay", "is_legacy_optimizer", "jit_compile"];

/// A Keras 2 / tf.keras `training_config` as a Keras 3 `compile_config` (`optimizer`, `loss`,
/// `metrics`, ...), for a model with `outputs` outputs.
///
/// ```
/// use serde_json::json;
/// let tc = json!({"loss": "mse", "metrics": [["mae"]], "loss_weights": null,
///     "optimizer_config": {"class_name": "Custom>Adam", "config": {"name": "Adam", "lr": 0.01}}});
/// let c = keras::saving::legacy::training_config::to_compile_config(&tc, 1)?;
/// assert_eq!(c["optimizer"], json!({"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.01}}));
/// assert_eq!(c["metrics"], json!(["mae"]));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn to_compile_config(tc: &Value, outputs: usize) -> Result<Value> {
    let tc = tc.as_object().ok_or_else(|| {
        Error::value(format!(
            "training_config must be a JSON object; received {}",
            short(tc)
        ))
    })?;
    let opt = tc.get("optimizer_config").ok_or_else(|| {
        Error::value("training_config has no optimizer_config: Keras cannot compile from it")
    })?;
    let mut out = Map::new();
    out.insert("optimizer".into(), optimizer_from_keras2(opt)?);
    out.insert(
        "loss".into(),
        tc.get("loss").map(loss_from_keras2).unwrap_or(Value::Null),
    );
    out.insert(
        "loss_weights".into(),
        tc.get("loss_weights").cloned().unwrap_or(Value::Null),
    );
    for key in ["metrics", "weighted_metrics"] {
        let m = tc.get(key).cloned().unwrap_or(Value::Null);
        out.insert(key.into(), metrics_from_keras2(m, outputs));
    }
    Ok(Value::Object(out))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

fn optimizer_from_keras2(opt: &Value) -> Result<Value> {
    if opt.is_string() {
        return Ok(opt.clone());
    }
    let class = opt
        .get("class_name")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::value(format!(
                "training_config: optimizer_config needs a class_name; received {}",
                short(opt)
            ))
        })?;
    // tf.keras 2.11+ registers its optimizers as `Custom>Adam`.
    let class = class.strip_prefix("Custom>").unwrap_or(class);
    let mut config = opt
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(lr) = config.remove("lr") {
        config.entry("learning_rate").or_insert(lr);
    }
    if config.get("decay").and_then(Value::as_f64).unwrap_or(0.0) != 0.0 {
        eprintln!("WARNING: Argument `decay` is no longer supported and will be ignored.");
    }
    for key in KERAS2_ONLY_OPTIMIZER_ARGS {
        config.remove(*key);
    }
    Ok(json!({"class_name": class, "config": config}))
}

/// Keras 2's loss reduction `auto` is Keras 3's `sum_over_batch_size`.
fn loss_from_keras2(loss: &Value) -> Value {
    match loss {
        Value::Object(o) if o.contains_key("class_name") => {
            let mut l = loss.clone();
            if l["config"].get("reduction").and_then(Value::as_str) == Some("auto") {
                l["config"]["reduction"] = json!("sum_over_batch_size");
            }
            l
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), loss_from_keras2(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(loss_from_keras2).collect()),
        other => other.clone(),
    }
}

/// tf.keras writes one metric list per output (`[[...]]`, also for one output) and wraps
/// string metrics as `MeanMetricWrapper` objects; Keras 3 reads the name.
fn metrics_from_keras2(m: Value, outputs: usize) -> Value {
    let one = |x: &Value| -> Value {
        match x.get("class_name").and_then(Value::as_str) {
            Some("MeanMetricWrapper") => {
                let c = &x["config"];
                match (c.get("name").and_then(Value::as_str), c.get("fn")) {
                    (Some(n @ ("accuracy" | "acc" | "crossentropy" | "ce")), _) => json!(n),
                    (Some(n), Some(Value::String(f))) if n == f => json!(n),
                    (_, Some(Value::String(f))) => json!(f),
                    _ => x.clone(),
                }
            }
            _ => x.clone(),
        }
    };
    match m {
        Value::Array(a) if a.iter().all(Value::is_array) && !a.is_empty() => {
            let lists: Vec<Value> = a
                .iter()
                .map(|l| Value::Array(l.as_array().into_iter().flatten().map(one).collect()))
                .collect();
            if outputs == 1 && lists.len() == 1 {
                lists.into_iter().next().unwrap_or(Value::Null)
            } else {
                Value::Array(lists)
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(one).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, metrics_from_keras2(v, 1)))
                .collect(),
        ),
        other => other,
    }
}

/// A Keras 3 `compile_config` (ours) as the `training_config` Keras 3's legacy writer stores:
/// objects as `{class_name, config}`, the optimizer under `optimizer_config`, without the
/// optimizer arguments tf.keras 2 refuses when they hold their defaults.
///
/// ```
/// use serde_json::json;
/// let c = json!({"optimizer": {"module": "keras.optimizers", "class_name": "Adam",
///     "config": {"name": "adam", "learning_rate": 0.001, "loss_scale_factor": null},
///     "registered_name": null}, "loss": "mse", "metrics": ["mae"], "loss_weights": null});
/// let tc = keras::saving::legacy::training_config::from_compile_config(&c);
/// assert_eq!(tc["optimizer_config"], json!({"class_name": "Adam",
///     "config": {"name": "adam", "learning_rate": 0.001}}));
/// ```
pub fn from_compile_config(c: &Value) -> Value {
    let mut out = Map::new();
    for key in ["loss", "loss_weights", "metrics", "weighted_metrics"] {
        out.insert(
            key.into(),
            strip_modules(c.get(key).unwrap_or(&Value::Null)),
        );
    }
    let opt = strip_modules(c.get("optimizer").unwrap_or(&Value::Null));
    let opt = match opt {
        Value::String(name) => json!({"class_name": name, "config": {}}),
        mut o => {
            if let Some(Value::Object(cfg)) = o.get_mut("config") {
                for (key, default) in DEFAULT_OPTIMIZER_ARGS {
                    if cfg.get(*key).is_some_and(|v| v == default) {
                        cfg.remove(*key);
                    }
                }
                if cfg.get("ema_momentum").and_then(Value::as_f64) == Some(0.99)
                    && !cfg.contains_key("use_ema")
                {
                    cfg.remove("ema_momentum");
                }
            }
            o
        }
    };
    out.insert("optimizer_config".into(), opt);
    Value::Object(out)
}

/// Serialized objects as Keras's legacy serialization writes them: `{class_name, config}`.
fn strip_modules(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| {
                    !(o.contains_key("class_name")
                        && matches!(k.as_str(), "module" | "registered_name"))
                })
                .map(|(k, x)| (k.clone(), strip_modules(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_modules).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tf_keras_training_config_reads_as_compile_config() {
        // tests/fixtures/legacy_h5/tfkeras_two_input.h5's training_config.
        let tc = json!({"loss": "binary_crossentropy", "metrics": [[
            {"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32",
                                                            "fn": "binary_accuracy"}},
            {"class_name": "AUC", "config": {"name": "auc", "num_thresholds": 200}}]],
            "weighted_metrics": null, "loss_weights": null,
            "optimizer_config": {"class_name": "Custom>RMSprop", "config": {"name": "RMSprop",
                "is_legacy_optimizer": false, "jit_compile": false, "learning_rate": 0.005}}});
        let c = to_compile_config(&tc, 1).unwrap();
        assert_eq!(c["optimizer"]["class_name"], "RMSprop");
        assert!(c["optimizer"]["config"]
            .get("is_legacy_optimizer")
            .is_none());
        assert_eq!(c["metrics"][0], "accuracy");
        assert_eq!(c["metrics"][1]["class_name"], "AUC");
        // Two outputs keep their lists.
        let c = to_compile_config(&tc, 2).unwrap();
        assert!(c["metrics"][0].is_array());
        // A Keras 2 loss object with reduction "auto".
        let tc = json!({"loss": {"class_name": "MeanSquaredError",
                                 "config": {"reduction": "auto", "name": "mse"}},
                        "optimizer_config": {"class_name": "SGD", "config": {"lr": 0.1, "decay": 0.0}}});
        let c = to_compile_config(&tc, 1).unwrap();
        assert_eq!(c["loss"]["config"]["reduction"], "sum_over_batch_size");
        assert_eq!(c["optimizer"]["config"], json!({"learning_rate": 0.1}));
    }

    #[test]
    fn bad_training_configs_are_errors() {
        let e = to_compile_config(&json!([1]), 1).unwrap_err().to_string();
        assert!(e.contains("training_config"), "{e}");
        let e = to_compile_config(&json!({"loss": "mse"}), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("optimizer_config"), "{e}");
        let e = to_compile_config(&json!({"optimizer_config": {"config": {}}}), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("class_name"), "{e}");
    }
}
