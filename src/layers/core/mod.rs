//! Core layers: `Input` / `InputLayer`, `Dense` and `Embedding`.

mod dense;
mod embedding;
mod input_layer;
mod lambda;
mod masking;

pub use dense::Dense;
pub use embedding::Embedding;
pub(crate) use input_layer::prepare_string_input;
pub use input_layer::{Input, InputBuilder, InputLayer};
pub use lambda::{
    register_lambda_function, register_lambda_function_many, Lambda, LambdaFn, NamedFunction,
};
pub use masking::Masking;
