//! The entry points programs written before the one registry use, kept as thin wrappers
//! over [`crate::serialization::registration`] (Keras's `register_keras_serializable` and
//! `deserialize_keras_object`): [`register_layer`], [`register_model`] and
//! [`layer_from_config`]. The built-in layers register themselves in `keras::layers`
//! (`src/layers/registry.rs`), each made by the `from_config` beside its `get_config`; the
//! built-in models in `keras::models`.

use crate::engine::LayerRef;
use crate::models::Model;
use crate::serialization::registration::{deserialize, register};
use crate::serialization::Config;
use crate::Result;

/// Makes a layer from its Keras `config` (base keys included).
pub type FromConfig = fn(&Config) -> Result<LayerRef>;

/// Makes a subclassed model from the config its `Subclass::get_config` gave.
pub type ModelFromConfig = fn(&Config) -> Result<Model>;

/// Registers a subclassed model class, so `load_model` / `model_from_json` can rebuild it
/// from the config its [`crate::models::Subclass::get_config`] wrote; `name` is its
/// `class_name`. The same as `register::<Model>(name, |c| f(c.map))`.
///
/// ```
/// use keras::prelude::*;
/// keras::saving::registry::register_model("Tiny", |_| {
///     Ok(Sequential::from_layers([Input::new(&[2]).into(), Dense::new(1).into()])?.into_model())
/// });
/// let m = keras::models::model_from_json(r#"{"class_name": "Tiny", "config": {}}"#)?;
/// assert_eq!(m.count_params(), 3);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn register_model(name: &str, f: ModelFromConfig) {
    register::<Model>(name, move |c| f(c.map));
}

/// Registers a layer class so models that use it can be loaded from a config or a `.keras`
/// file; `name` is the `class_name` (or `registered_name`) the file holds. The same as
/// `register::<LayerRef>(name, |c| f(c.map))`.
///
/// ```
/// use keras::prelude::*;
/// use keras::saving::registry::register_layer;
/// register_layer("MyDense", |cfg| {
///     let units = cfg.get("units").and_then(|v| v.as_u64()).unwrap_or(1) as usize;
///     Ok(Dense::new(units).into_layer())
/// });
/// ```
pub fn register_layer(name: &str, f: FromConfig) {
    register::<LayerRef>(name, move |c| f(c.map));
}

/// The layer a Keras config describes (`class_name` and its `config`): the registry's
/// [`deserialize`] for layers (an unknown
/// class is an error naming the registered classes closest to it).
///
/// ```
/// use keras::saving::registry::layer_from_config;
/// use keras::serialization::{config, json};
/// let l = layer_from_config("Dense", &config(json!({"units": 2})))?;
/// assert_eq!(l.class_name(), "Dense");
/// let e = layer_from_config("Dnse", &config(json!({}))).unwrap_err().to_string();
/// assert!(e.contains("'Dnse'") && e.contains("'Dense'"), "{e}");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn layer_from_config(class_name: &str, config: &Config) -> Result<LayerRef> {
    deserialize::<LayerRef>(class_name, config)
}
