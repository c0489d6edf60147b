//! Core layers: `Input` / `InputLayer` and `Dense`.

mod dense;
mod input_layer;

pub use dense::Dense;
pub use input_layer::{Input, InputBuilder, InputLayer};
