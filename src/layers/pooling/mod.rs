//! Pooling layers: `MaxPooling1D/2D`, `AveragePooling1D/2D`, their global forms, and the Keras
//! aliases (`MaxPool2D`, `GlobalMaxPool1D`, ...).
//!
//! ```
//! use keras::prelude::*;
//! use keras::layers::{GlobalMaxPooling2D, MaxPooling2D};
//! let x = MaxPooling2D::new(2).call(&Input::new([28, 28, 8]))?;
//! assert_eq!(x.shape().to_string(), "(None, 14, 14, 8)");
//! let g = GlobalMaxPooling2D::new().call(&x)?;
//! assert_eq!(g.shape().to_string(), "(None, 8)");
//! # Ok::<(), keras::Error>(())
//! ```

mod base_pooling;
mod global_pooling;

pub use base_pooling::{AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D, Pooling};
pub use global_pooling::{
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
    GlobalPooling,
};

/// Alias of [`MaxPooling1D`].
pub type MaxPool1D = MaxPooling1D;
/// Alias of [`MaxPooling2D`].
pub type MaxPool2D = MaxPooling2D;
/// Alias of [`AveragePooling1D`].
pub type AvgPool1D = AveragePooling1D;
/// Alias of [`AveragePooling2D`].
pub type AvgPool2D = AveragePooling2D;
/// Alias of [`GlobalMaxPooling1D`].
pub type GlobalMaxPool1D = GlobalMaxPooling1D;
/// Alias of [`GlobalMaxPooling2D`].
pub type GlobalMaxPool2D = GlobalMaxPooling2D;
/// Alias of [`GlobalAveragePooling1D`].
pub type GlobalAvgPool1D = GlobalAveragePooling1D;
/// Alias of [`GlobalAveragePooling2D`].
pub type GlobalAvgPool2D = GlobalAveragePooling2D;
