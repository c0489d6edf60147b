//! Preprocessing layers, as Keras's `keras/src/layers/preprocessing`: they run inside the
//! model, so they save and load with it.

mod adapt;
mod category_encoding;
mod center_crop;
mod discretization;
mod hashing;
pub mod image_preprocessing;
pub mod index_lookup;
mod integer_lookup;
mod lookup_encode;
mod lookup_layer;
mod lookup_token;
mod normalization;
mod rescaling;
pub(crate) mod resizing;
mod string_lookup;
mod text_data;
pub mod text_fns;
mod text_ops;
mod text_vectorization;

pub use adapt::{adapt, adapt_batches, adapt_dataset, AdaptBatch};
pub use category_encoding::CategoryEncoding;
pub use center_crop::CenterCrop;
pub use discretization::Discretization;
pub use hashing::{Hashing, MaskValue};
pub use image_preprocessing::{
    Factor, RandomContrast, RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
};
pub use index_lookup::{IndexLookup, OutputMode, Token};
pub use integer_lookup::IntegerLookup;
pub use normalization::Normalization;
pub use rescaling::Rescaling;
pub use resizing::Resizing;
pub use string_lookup::StringLookup;
pub use text_data::{IntoInts, IntoStrings, StringArray};
pub use text_fns::{register_split, register_standardize};
pub use text_ops::{ngrams, Split, Standardize};
pub use text_vectorization::TextVectorization;
