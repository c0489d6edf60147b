//! Preprocessing layers, as Keras's `keras/src/layers/preprocessing`: they run inside the
//! model, so they save and load with it.

mod category_encoding;
mod center_crop;
mod discretization;
mod hashing;
pub mod image_preprocessing;
mod normalization;
mod rescaling;
pub(crate) mod resizing;

pub use category_encoding::CategoryEncoding;
pub use center_crop::CenterCrop;
pub use discretization::Discretization;
pub use hashing::{Hashing, MaskValue};
pub use image_preprocessing::{
    Factor, RandomContrast, RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
};
pub(crate) use normalization::Stat as NormStat;
pub use normalization::{adapt, adapt_batches, Normalization};
pub use rescaling::Rescaling;
pub use resizing::Resizing;
