//! Regularization layers.

mod activity_regularization;
mod dropout;
mod gaussian;
mod spatial_dropout;

pub use activity_regularization::ActivityRegularization;
pub use dropout::Dropout;
pub use gaussian::{GaussianDropout, GaussianNoise};
pub(crate) use spatial_dropout::check_rate;
pub use spatial_dropout::{SpatialDropout, SpatialDropout1D, SpatialDropout2D};
