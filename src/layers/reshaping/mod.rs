//! Reshaping layers.

mod flatten;
mod reshape;

pub use flatten::Flatten;
pub use reshape::Reshape;
