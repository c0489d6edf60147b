//! Models and layers as Keras 3 configs, under the names programs written before each class
//! read its own config use: thin wrappers over [`LayerRef::serialize`] (each layer's
//! `get_config`, a model's whole config), the registry's
//! [`deserialize_object`] and
//! [`crate::models::model_from_config`]. `Functional` and `Sequential` read and write their
//! configs in `src/models/`.
//!
//! ```
//! use keras::prelude::*;
//! use keras::saving::model_config::{deserialize_layer, serialize_layer};
//! let v = serialize_layer(&Dense::new(3).into_layer())?;
//! assert_eq!(deserialize_layer(&v)?.class_name(), "Dense");
//! # Ok::<(), keras::Error>(())
//! ```

use crate::engine::LayerRef;
use crate::models::Model;
use crate::serialization::registration::deserialize_object;
use crate::serialization::Value;
use crate::Result;

pub use crate::models::{model_from_config as deserialize_model, model_from_json};

/// A layer (or nested model) as Keras serializes it: [`LayerRef::serialize`].
pub fn serialize_layer(l: &LayerRef) -> Result<Value> {
    l.serialize()
}

/// A model's net (functional, `Sequential` or subclassed) as Keras serializes it.
pub fn serialize_model(net: &LayerRef) -> Result<Value> {
    net.serialize()
}

/// The layer (or nested model) a serialized entry describes.
pub fn deserialize_layer(v: &Value) -> Result<LayerRef> {
    deserialize_object::<LayerRef>(v)
}

/// Keras's `model.to_json()`: [`Model::to_json`].
pub fn to_json(model: &Model) -> Result<String> {
    model.to_json()
}
