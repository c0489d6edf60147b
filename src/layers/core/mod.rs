//! Core layers: `Input` / `InputLayer`, `Dense` and `Embedding`.

mod dense;
mod embedding;
mod input_layer;

pub use dense::Dense;
pub use embedding::Embedding;
pub use input_layer::{Input, InputBuilder, InputLayer};
