//! Losses as a registry kind (`keras.losses.get` / `deserialize`): every built-in class
//! registered once, Keras's function names and aliases mapped to their classes, and the
//! loss a name or a config describes.

use super::builtin::{make, Builtin};
use super::*;
use crate::saving::object_registration::{
    closest, deserialize, deserialize_object, registered_names, Builtins, Registrable,
};
use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};
use std::sync::Arc;

fn add<L: Builtin>(r: &mut Builtins<Arc<dyn Loss>>) {
    r.add(L::CLASS, make::<L>);
}

impl Registrable for Arc<dyn Loss> {
    const KIND: &'static str = "loss";
    fn register_builtins(r: &mut Builtins<Self>) {
        add::<BinaryCrossentropy>(r);
        add::<BinaryFocalCrossentropy>(r);
        add::<CategoricalCrossentropy>(r);
        add::<CategoricalFocalCrossentropy>(r);
        add::<CategoricalGeneralizedCrossEntropy>(r);
        add::<CategoricalHinge>(r);
        add::<Circle>(r);
        add::<CosineSimilarity>(r);
        add::<CTC>(r);
        add::<Dice>(r);
        add::<Hinge>(r);
        add::<Huber>(r);
        add::<KLDivergence>(r);
        add::<LogCosh>(r);
        add::<MeanAbsoluteError>(r);
        add::<MeanAbsolutePercentageError>(r);
        add::<MeanSquaredError>(r);
        add::<MeanSquaredLogarithmicError>(r);
        add::<Poisson>(r);
        add::<SparseCategoricalCrossentropy>(r);
        add::<SquaredHinge>(r);
        add::<Tversky>(r);
        r.add("LossFunctionWrapper", function_wrapper);
    }
}

/// Keras's loss functions, their aliases (`keras.losses.ALL_OBJECTS_DICT`) and the legacy
/// tf.keras names, each with the class that computes it.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("binary_crossentropy", "BinaryCrossentropy"),
    ("bce", "BinaryCrossentropy"),
    ("BCE", "BinaryCrossentropy"),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy"),
    ("categorical_crossentropy", "CategoricalCrossentropy"),
    (
        "categorical_focal_crossentropy",
        "CategoricalFocalCrossentropy",
    ),
    (
        "categorical_generalized_cross_entropy",
        "CategoricalGeneralizedCrossEntropy",
    ),
    ("categorical_hinge", "CategoricalHinge"),
    ("circle", "Circle"),
    ("cosine_similarity", "CosineSimilarity"),
    ("ctc", "CTC"),
    ("dice", "Dice"),
    ("hinge", "Hinge"),
    ("huber", "Huber"),
    ("huber_loss", "Huber"),
    ("kl_divergence", "KLDivergence"),
    ("kld", "KLDivergence"),
    ("KLD", "KLDivergence"),
    ("kullback_leibler_divergence", "KLDivergence"),
    ("log_cosh", "LogCosh"),
    ("logcosh", "LogCosh"),
    ("mean_absolute_error", "MeanAbsoluteError"),
    ("mae", "MeanAbsoluteError"),
    ("MAE", "MeanAbsoluteError"),
    (
        "mean_absolute_percentage_error",
        "MeanAbsolutePercentageError",
    ),
    ("mape", "MeanAbsolutePercentageError"),
    ("MAPE", "MeanAbsolutePercentageError"),
    ("mean_squared_error", "MeanSquaredError"),
    ("mse", "MeanSquaredError"),
    ("MSE", "MeanSquaredError"),
    (
        "mean_squared_logarithmic_error",
        "MeanSquaredLogarithmicError",
    ),
    ("msle", "MeanSquaredLogarithmicError"),
    ("MSLE", "MeanSquaredLogarithmicError"),
    ("poisson", "Poisson"),
    (
        "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy",
    ),
    ("squared_hinge", "SquaredHinge"),
    ("tversky", "Tversky"),
];

/// Every name [`get`] knows: the function names and aliases, then the registered classes
/// (built-in and user), sorted.
///
/// ```
/// let names = keras::losses::names();
/// assert!(names.iter().any(|n| n == "mse") && names.iter().any(|n| n == "Tversky"));
/// ```
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = FUNCTIONS.iter().map(|(n, _)| n.to_string()).collect();
    v.extend(registered_names::<Arc<dyn Loss>>());
    v.sort();
    v.dedup();
    v
}

/// A loss known by name, keeping the name as its config (as Keras's `compile_config` keeps a
/// loss given by name).
struct ByName {
    id: String,
    loss: Arc<dyn Loss>,
}

impl Loss for ByName {
    fn name(&self) -> &str {
        self.loss.name()
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        self.loss.values(y_true, y_pred)
    }
    fn get_reduction(&self) -> Reduction {
        self.loss.get_reduction()
    }
    fn call_weighted(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.loss.call_weighted(y_true, y_pred, sample_weight)
    }
    fn get_config(&self) -> Value {
        Value::String(self.id.clone())
    }
}

/// The class a function name or alias stands for.
fn function_class(name: &str) -> Option<&'static str> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// A loss by Keras name (`keras.losses.get`): a function name or alias (`mse`,
/// `binary_crossentropy`, `kld`, `logcosh`, ...) or a class name (built-in or registered),
/// with default options. Its config is the name. An unknown name is refused with the known
/// names closest to it.
///
/// ```
/// use keras::losses::{self, Loss};
/// let l = losses::get("mse")?;
/// assert_eq!(l.name(), "mean_squared_error");
/// assert_eq!(l.get_config(), "mse");
/// let e = losses::get("binary_crossentropyy").err().unwrap().to_string();
/// assert!(e.contains("'binary_crossentropy'"), "{e}");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn get(name: &str) -> Result<Arc<dyn Loss>> {
    let class = function_class(name).unwrap_or(name);
    let loss = match deserialize::<Arc<dyn Loss>>(class, &Config::new()) {
        Ok(l) => l,
        Err(_)
            if !registered_names::<Arc<dyn Loss>>()
                .iter()
                .any(|n| n == class) =>
        {
            let near = closest(name, &names(), 3);
            let hint = if near.is_empty() {
                String::new()
            } else {
                let q: Vec<String> = near.iter().map(|n| format!("'{n}'")).collect();
                format!(" Did you mean {}?", q.join(", "))
            };
            let mut valid: Vec<&str> = FUNCTIONS
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| !n.chars().any(|c| c.is_ascii_uppercase()))
                .collect();
            valid.sort_unstable();
            return Err(Error::value(format!(
                "Could not interpret loss identifier: {name}.{hint} Valid losses are: {} (and \
                 their class names, keras::losses::names()).",
                valid.join(", ")
            )));
        }
        Err(e) => return Err(e),
    };
    Ok(Arc::new(ByName {
        id: name.to_string(),
        loss,
    }))
}

/// Keras's `LossFunctionWrapper` config: the function it wraps (`fn`, a name or Keras's
/// `{class_name: "function", config: name}`) made as its class, with the config's other
/// keys (name, reduction, the function's arguments) as that class's options.
fn function_wrapper(c: &Cfg) -> Result<Arc<dyn Loss>> {
    let f = match c.get("fn") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(m)) => m
            .get("config")
            .and_then(Value::as_str)
            .ok_or_else(|| c.bad("fn", "a serialized function"))?,
        _ => return Err(c.bad("fn", "a loss function")),
    };
    let mut config = c.map.clone();
    config.remove("fn");
    deserialize::<Arc<dyn Loss>>(function_class(f).unwrap_or(f), &config)
}

/// The loss a Keras config describes: a name, Keras's serialized function (`{class_name:
/// "function", config: name}`) or a serialized class `{class_name, config}` (built-in or
/// registered, with its `reduction`, `name` and options).
///
/// ```
/// use keras::losses;
/// use serde_json::json;
/// let v = json!({"module": "keras.losses", "class_name": "BinaryFocalCrossentropy",
///     "config": {"name": "binary_focal_crossentropy", "reduction": "sum", "gamma": 3.0},
///     "registered_name": null});
/// let l = losses::from_config(&v)?.resolve()?;
/// assert_eq!(l.get_config()["config"]["gamma"], 3.0);
/// assert_eq!(l.get_config()["config"]["reduction"], "sum");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_config(v: &Value) -> Result<LossArg> {
    match v {
        Value::String(name) => Ok(LossArg::from(name.as_str())),
        Value::Object(m) if m.get("class_name").and_then(Value::as_str) == Some("function") => {
            match m.get("config").and_then(Value::as_str) {
                Some(name) => Ok(LossArg::from(name)),
                None => Err(Error::value(format!(
                    "Could not interpret loss identifier: {v}"
                ))),
            }
        }
        Value::Object(_) => Ok(LossArg(Ok(deserialize_object::<Arc<dyn Loss>>(v)?))),
        other => Err(Error::value(format!(
            "Could not interpret loss identifier: {other}"
        ))),
    }
}

/// A loss given by name or by value (for `compile`).
#[derive(Clone)]
pub struct LossArg(pub(crate) std::result::Result<Arc<dyn Loss>, String>);

impl LossArg {
    /// The loss, or the error for an unknown name.
    pub fn resolve(&self) -> Result<Arc<dyn Loss>> {
        match &self.0 {
            Ok(l) => Ok(l.clone()),
            Err(n) => get(n),
        }
    }
}

impl From<&str> for LossArg {
    fn from(s: &str) -> Self {
        LossArg(get(s).map_err(|_| s.to_string()))
    }
}

impl<L: Loss + 'static> From<L> for LossArg {
    fn from(l: L) -> Self {
        LossArg(Ok(Arc::new(l)))
    }
}

impl From<Arc<dyn Loss>> for LossArg {
    fn from(l: Arc<dyn Loss>) -> Self {
        LossArg(Ok(l))
    }
}
