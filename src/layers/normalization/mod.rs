//! Normalization layers.

mod batch_normalization;
mod group_normalization;
mod layer_normalization;

pub use batch_normalization::BatchNormalization;
pub use group_normalization::GroupNormalization;
pub use layer_normalization::LayerNormalization;
