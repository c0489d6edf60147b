//! keras-rs: Keras 3's API in Rust.
#![warn(missing_docs)]

pub mod error;
pub mod ops;
pub mod testing;

pub use error::{Error, Result};
pub use ops::{DType, Device, Tensor};
