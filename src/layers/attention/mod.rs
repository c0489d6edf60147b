//! Attention layers.

#[allow(clippy::module_inception)] // Keras's file name: layers/attention/attention.py
mod attention;
mod multi_head_attention;

pub use attention::Attention;
pub use multi_head_attention::MultiHeadAttention;
