//! Activation layers: `Activation`, `ReLU`, `LeakyReLU`, `PReLU`, `ELU`, `Softmax`.

mod activation;
mod relu_family;

pub use activation::Activation;
pub use relu_family::{LeakyReLU, PReLU, ReLU, Softmax, ELU};
