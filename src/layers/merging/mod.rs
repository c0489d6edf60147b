//! Merging layers: combine several tensors into one, as `keras.layers.Add`, `Concatenate`, ...
//!
//! ```
//! use keras::prelude::*;
//! use keras::layers;
//! let a = Input::new(&[32]);
//! let b = Input::new(&[32]);
//! let s = layers::add(&[a.clone(), b.clone()])?;
//! let c = layers::concatenate(&[a, b], -1)?;
//! assert_eq!(s.shape().to_string(), "(None, 32)");
//! assert_eq!(c.shape().to_string(), "(None, 64)");
//! # Ok::<(), keras::Error>(())
//! ```

mod base_merge;
mod concatenate;
mod dot;

pub use base_merge::{Add, Average, ElementwiseMerge, Maximum, Minimum, Multiply, Subtract};
pub use concatenate::Concatenate;
pub use dot::Dot;

use crate::engine::{KerasTensor, LayerExt};
use crate::Result;

fn one(mut v: Vec<KerasTensor>) -> KerasTensor {
    v.remove(0)
}

/// `keras.layers.add`: the sum of the inputs.
pub fn add(xs: &[KerasTensor]) -> Result<KerasTensor> {
    Add::new().call_many(xs).map(one)
}
/// `keras.layers.subtract`: the first input minus the second.
pub fn subtract(xs: &[KerasTensor]) -> Result<KerasTensor> {
    Subtract::new().call_many(xs).map(one)
}
/// `keras.layers.multiply`: the elementwise product.
pub fn multiply(xs: &[KerasTensor]) -> Result<KerasTensor> {
    Multiply::new().call_many(xs).map(one)
}
/// `keras.layers.average`: the elementwise mean.
pub fn average(xs: &[KerasTensor]) -> Result<KerasTensor> {
    Average::new().call_many(xs).map(one)
}
/// `keras.layers.maximum`: the elementwise maximum.
pub fn maximum(xs: &[KerasTensor]) -> Result<KerasTensor> {
    Maximum::new().call_many(xs).map(one)
}
/// `keras.layers.minimum`: the elementwise minimum.
pub fn minimum(xs: &[KerasTensor]) -> Result<KerasTensor> {
    Minimum::new().call_many(xs).map(one)
}
/// `keras.layers.concatenate`: joins the inputs along `axis`.
pub fn concatenate(xs: &[KerasTensor], axis: isize) -> Result<KerasTensor> {
    Concatenate::new(axis).call_many(xs).map(one)
}
/// `keras.layers.dot`: batched dot product over `axes`, optionally of L2-normalized inputs.
pub fn dot(xs: &[KerasTensor], axes: isize, normalize: bool) -> Result<KerasTensor> {
    Dot::new(axes).normalize(normalize).call_many(xs).map(one)
}
