//! Saving and loading models and weights in Keras 3's formats.

pub mod h5;
pub mod weights;

pub use weights::{load_weights, save_weights};
