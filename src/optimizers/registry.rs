//! Optimizers as a registry kind (built-in classes one line each, users' classes through
//! `register`), and Keras's `optimizers.get` / `deserialize` on top of it.

use super::*;
use crate::saving::object_registration::{
    closest, deserialize, deserialize_object, registered_names, Builtins, Registrable,
};
use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};

impl Registrable for Box<dyn Optimizer> {
    const KIND: &'static str = "optimizer";
    fn register_builtins(r: &mut Builtins<Self>) {
        r.add("Adadelta", boxed(Adadelta::from_config));
        r.add("Adafactor", boxed(Adafactor::from_config));
        r.add("Adagrad", boxed(Adagrad::from_config));
        r.add("Adam", boxed(Adam::from_config));
        r.add("AdamW", boxed(AdamW::from_config));
        r.add("Adamax", boxed(Adamax::from_config));
        r.add("Ftrl", boxed(Ftrl::from_config));
        r.add("Lamb", boxed(Lamb::from_config));
        r.add("Lion", boxed(Lion::from_config));
        r.add("LossScaleOptimizer", boxed(LossScaleOptimizer::from_config));
        r.add("Muon", boxed(Muon::from_config));
        r.add("Nadam", boxed(Nadam::from_config));
        r.add("RMSprop", boxed(RMSprop::from_config));
        r.add("SGD", boxed(SGD::from_config));
    }
}

fn boxed<O: Optimizer + 'static>(
    f: fn(&Cfg) -> Result<O>,
) -> impl Fn(&Cfg) -> Result<Box<dyn Optimizer>> {
    move |c| {
        let o = f(c)?;
        o.validate()?;
        Ok(Box::new(o))
    }
}

/// The registered class a name means, case-insensitively (Keras's `optimizers.get` and
/// `deserialize` accept `"adam"` for `Adam`).
fn resolve_class(name: &str) -> Option<String> {
    let names = registered_names::<Box<dyn Optimizer>>();
    if names.iter().any(|n| n == name) {
        return Some(name.to_string());
    }
    names.into_iter().find(|n| n.eq_ignore_ascii_case(name))
}

/// The optimizer a Keras config describes (`{class_name, config}`, as in a `.keras` file's
/// `compile_config`; built-in or registered class), or a name.
///
/// ```
/// use keras::serialization::json;
/// let opt = keras::optimizers::from_config(&json!({
///     "class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}}))?;
/// assert_eq!(opt.get_config()["config"]["momentum"], 0.9);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_config(v: &Value) -> Result<Box<dyn Optimizer>> {
    if let Some(name) = v.as_str() {
        return get(name);
    }
    let class = v.get("class_name").and_then(Value::as_str).unwrap_or("");
    let registered = v.get("registered_name").and_then(Value::as_str);
    match resolve_class(class) {
        Some(c) if c != class && registered.is_none() => {
            let mut v = v.clone();
            v["class_name"] = Value::String(c);
            deserialize_object::<Box<dyn Optimizer>>(&v)
        }
        _ => deserialize_object::<Box<dyn Optimizer>>(v),
    }
}

/// An optimizer by name (case-insensitive class name: `"adam"`, `"rmsprop"`, `"nadam"`), with
/// Keras's defaults (Keras's `optimizers.get`).
///
/// ```
/// let opt = keras::optimizers::get("Adafactor")?;
/// assert_eq!(opt.class_name(), "Adafactor");
/// let e = keras::optimizers::get("nadm").err().unwrap().to_string();
/// assert!(e.contains("Did you mean 'nadam'") && e.contains("rmsprop, sgd"), "{e}");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn get(name: &str) -> Result<Box<dyn Optimizer>> {
    match resolve_class(name) {
        Some(class) => deserialize::<Box<dyn Optimizer>>(&class, &Config::new()),
        None => {
            let valid: Vec<String> = names().iter().map(|n| n.to_lowercase()).collect();
            let near = closest(name, &valid, 3);
            let hint = if near.is_empty() {
                String::new()
            } else {
                let q: Vec<String> = near.iter().map(|n| format!("'{n}'")).collect();
                format!(" Did you mean {}?", q.join(", "))
            };
            Err(Error::value(format!(
                "Could not interpret optimizer identifier: {name}.{hint} Valid optimizers are: {}",
                valid.join(", ")
            )))
        }
    }
}

/// Every optimizer class name [`get`] and [`from_config`] know (built-in and registered).
pub fn names() -> Vec<String> {
    registered_names::<Box<dyn Optimizer>>()
}

/// An optimizer given by name or value (for `compile`).
pub enum OptimizerArg {
    /// By Keras name.
    Name(String),
    /// An optimizer object.
    Value(Box<dyn Optimizer>),
}

impl OptimizerArg {
    /// The optimizer (its arguments checked), or the error for an unknown name or a bad
    /// argument.
    pub fn resolve(self) -> Result<Box<dyn Optimizer>> {
        let o = match self {
            OptimizerArg::Name(n) => get(&n)?,
            OptimizerArg::Value(o) => o,
        };
        o.validate()?;
        Ok(o)
    }
}

impl From<&str> for OptimizerArg {
    fn from(s: &str) -> Self {
        OptimizerArg::Name(s.to_string())
    }
}

impl<O: Optimizer + 'static> From<O> for OptimizerArg {
    fn from(o: O) -> Self {
        OptimizerArg::Value(Box::new(o))
    }
}

impl From<Box<dyn Optimizer>> for OptimizerArg {
    fn from(o: Box<dyn Optimizer>) -> Self {
        OptimizerArg::Value(o)
    }
}
