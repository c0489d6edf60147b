//! # keras-rs
//!
//! Keras 3's API in Rust: define networks the Keras way (Sequential, the functional API),
//! then `compile` / `fit` / `evaluate` / `predict`, with Keras's defaults, names, shapes,
//! progress bar and `summary()` table.
//!
//! ```no_run
//! use keras::prelude::*;
//!
//! let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
//! let (x_train, x_test) = ((x_train.to_dtype(DType::F32)? / 255.0)?, (x_test.to_dtype(DType::F32)? / 255.0)?);
//! let mut model = Sequential::from_layers([
//!     Flatten::new().input_shape(&[28, 28]).into(),
//!     Dense::new(128).activation("relu").into(),
//!     Dropout::new(0.2).into(),
//!     Dense::new(10).into(),
//! ])?;
//! model.summary();
//! model.compile("adam", keras::losses::SparseCategoricalCrossentropy::new().from_logits(true), ["accuracy"])?;
//! let history = model.fit(&x_train, &y_train, FitArgs { epochs: 5, ..Default::default() })?;
//! let logs = model.evaluate(&x_test, &y_test, EvalArgs::default())?;
//! println!("{history}\ntest accuracy: {:.4}", logs.get("accuracy").unwrap());
//! # Ok::<(), keras::Error>(())
//! ```
//!
//! The crate follows Keras's source layout: [`engine`] (layers, weights, the symbolic graph),
//! [`layers`], [`models`], [`trainers`], [`losses`], [`metrics`], [`optimizers`],
//! [`initializers`], [`regularizers`], [`activations`], [`callbacks`], [`datasets`],
//! [`utils`]. Tensors are candle's ([`Tensor`]); [`ops`] is the one module that calls candle.
#![warn(missing_docs)]
// Kernels take storages, layouts and geometry: long argument lists are their nature.
#![allow(clippy::too_many_arguments)]

// `#[keras::layer]` names `::keras::...`; this lets the crate use it on its own types.
extern crate self as keras;

pub mod activations;
pub mod applications;
pub mod callbacks;
pub mod config;
pub mod data;
pub mod datasets;
pub mod distribution;
pub mod engine;
pub mod error;
pub mod initializers;
pub mod layers;
pub mod losses;
pub mod metrics;
pub mod mixed_precision;
pub mod models;
pub mod ops;
pub mod optimizers;
pub mod prelude;
pub mod random;
pub mod regularizers;
pub mod saving;
pub mod serialization;
pub mod testing;
pub mod trainers;
pub mod tuner;
pub mod utils;

/// The README's example, compiled as a doc test so it stays correct.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctest;

pub use engine::Shape;
pub use error::{Error, Result};
pub use keras_macros::layer;
pub use ops::{DType, Device, Tensor};
