//! Models as a kind of the one registry ([`crate::serialization::registration`], Keras's
//! `model_from_config`): `Functional` (also written `Model`) and `Sequential` read their
//! configs in their own files; a subclassed model registers its class the same way
//! (`register::<Model>`, or `keras::saving::registry::register_model`). Nested models are
//! layers: the layer kind finds these classes too.
//!
//! ```
//! use keras::prelude::*;
//! let model = Sequential::from_layers([Input::new(&[3]).into(), Dense::new(1).into()])?;
//! let json = model.to_json()?;
//! let back = keras::models::model_from_json(&json)?;
//! assert_eq!(back.to_json()?, json);
//! let e = keras::models::model_from_json(r#"{"class_name": "Sequentail", "config": {}}"#);
//! assert!(e.err().unwrap().to_string().contains("'Sequential'"));
//! # Ok::<(), keras::Error>(())
//! ```

use super::functional::Functional;
use super::model::Model;
use super::sequential::Sequential;
use super::subclass::SubclassNet;
use crate::serialization::registration::{deserialize_object, Builtins, Registrable};
use crate::serialization::{Cfg, Value};
use crate::{Error, Result};

impl Registrable for Model {
    const KIND: &'static str = "model";

    fn register_builtins(r: &mut Builtins<Self>) {
        r.alias(&["Functional", "Model"], Functional::from_config);
        r.add("Sequential", Sequential::from_config);
    }
}

/// Gives a model read from config `c` the config's `trainable` flag.
pub(crate) fn apply_trainable(model: &Model, c: &Cfg) -> Result<()> {
    if !c.bool_or("trainable", true)? {
        model.net.set_trainable(false);
    }
    Ok(())
}

/// A model from its serialized config (`{class_name, config, build_config, ...}`, Keras's
/// `model_from_config`), weights freshly initialized. A subclassed model is built as it was
/// when saved (its `build_config`), so its weights exist before they are loaded.
///
/// ```
/// use keras::serialization::json;
/// let v = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
///     {"class_name": "InputLayer", "config": {"batch_shape": [null, 2]}},
///     {"class_name": "Dense", "config": {"units": 3}}]}});
/// let m = keras::models::model_from_config(&v)?;
/// assert_eq!((m.get_name().as_str(), m.count_params()), ("s", 9));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn model_from_config(v: &Value) -> Result<Model> {
    let model = deserialize_object::<Model>(v)?;
    if model.net.with(|_: &SubclassNet| ()).is_none() {
        return Ok(model);
    }
    let class = model.net.class_name().to_string();
    if let Some(Value::Object(c)) = v.get("config") {
        apply_trainable(&model, &Cfg::new(&class, c))?;
    }
    if let Some(Value::Object(b)) = v.get("build_config") {
        let c = Cfg::new(&class, b);
        // One input shape (a list of numbers and nulls); several inputs are not rebuilt.
        if let Some(Value::Array(dims)) = c.get("input_shape") {
            if !dims.is_empty() && !dims.iter().any(Value::is_array) {
                model.build(&c.shape("input_shape")?)?;
            }
        }
    }
    Ok(model)
}

/// Keras's `keras.models.model_from_json`: a model from the JSON [`Model::to_json`] (or
/// Keras's `model.to_json()`) wrote.
///
/// ```
/// let e = keras::models::model_from_json("{not json").err().unwrap();
/// assert!(e.to_string().contains("invalid JSON"));
/// ```
pub fn model_from_json(json: &str) -> Result<Model> {
    let v: Value =
        serde_json::from_str(json).map_err(|e| Error::value(format!("invalid JSON: {e}")))?;
    model_from_config(&v)
}

impl Model {
    /// Keras's `model.to_json()`: the model's config (its architecture, no weights).
    ///
    /// ```
    /// use keras::prelude::*;
    /// let x = Input::new(&[2]);
    /// let m = Model::new(&[x.clone()], &[Dense::new(1).call(&x)?])?;
    /// let v: serde_json::Value = serde_json::from_str(&m.to_json()?).unwrap();
    /// assert_eq!(v["class_name"], "Functional");
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        Ok(self.net.serialize()?.to_string())
    }
}
