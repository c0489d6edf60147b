//! The engine: layers, weights, symbolic tensors and nodes.
//!
//! Everything above (`layers`, `models`, `trainers`) is built from these pieces:
//! - [`Layer`]: what a layer type implements (`build`, `compute_output_shape`, `forward`);
//! - [`LayerRef`]: the shared handle that gives a layer its name, weights and nodes;
//! - [`KerasTensor`] and [`Node`]: the symbolic graph a functional model is made of;
//! - [`Weight`]: a named variable with its trainable flag and regularizer.

mod call_inputs;
pub mod config;
pub mod context;
mod input_spec;
mod layer;
pub mod naming;
mod node;
pub mod op_layer;
mod shape;
pub mod store;
mod tensor_ops;
pub mod trace;
pub mod tracker;
mod var_group;
pub(crate) mod weight;

pub use crate::initializers::Initialize;
pub use crate::ops::dtype_name;
pub use call_inputs::CallInputs;
pub use input_spec::InputSpec;
pub use layer::{CallCtx, Layer, LayerArgs, LayerExt, LayerRef};
pub use node::{KerasTensor, Node};
pub use shape::{tuple, Dim, IntoDims, Shape};
pub use var_group::VarGroup;
pub use weight::{device_of, gradients, OptionalWeight, Penalize, Weight, WeightBuilder};
