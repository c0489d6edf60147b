//! Saving and loading models and weights in Keras 3's formats.

pub mod assets;
pub mod config;
pub mod h5;
pub mod keras_file;
pub mod legacy;
pub mod legacy_h5;
pub mod model_config;
mod model_files;
pub mod object_registration;
pub mod registry;
pub mod safetensors_io;
pub mod weights;

pub use keras_file::{
    list_archive, load_model, load_model_from_bytes, load_model_uncompiled, save_model,
};
pub use model_config::{model_from_json, to_json};
pub use safetensors_io::{load_safetensors, save_safetensors};
pub use weights::{load_weights, save_weights};
