//! Core layers: `Input` / `InputLayer`, `Dense` and `Embedding`.

mod dense;
mod embedding;
mod input_layer;
mod masking;

pub use dense::Dense;
pub use embedding::Embedding;
pub(crate) use input_layer::prepare_string_input;
pub use input_layer::{Input, InputBuilder, InputLayer};
pub use masking::Masking;
