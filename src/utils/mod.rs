//! Utilities, as `keras.utils`: seeding, one-hot labels, NumPy files.

mod dataset_utils;
mod directory_dataset;
mod directory_index;
mod image_dataset;
mod image_utils;
mod model_visualization;
mod numerical_utils;
pub(crate) mod random_state;
mod sequence_utils;
mod text_dataset;
mod timeseries_dataset;

use crate::ops;

pub(crate) use random_state::{draw_seed, RandomState};

pub use crate::ops::npy::{read_npy, read_npz, write_npy, write_npz};
pub use dataset_utils::{split_dataset, split_dataset_of, SplitDatasetArgs, SplitSize};
pub use directory_index::{DirectoryDataset, Labels};
pub use image_dataset::{
    image_dataset_from_directory, image_dataset_from_directory_both,
    image_dataset_from_directory_unlabeled, ImageDataset, ImageDatasetArgs, ALLOWLIST_FORMATS,
};
pub use image_utils::smart_resize;
pub(crate) use model_visualization::{
    drawing_error, encode_png, font, image_format, write_file, ImageFormat,
};
pub use model_visualization::{model_to_svg, plot_model, plot_model_with, PlotModelOptions};
pub use numerical_utils::{normalize, to_categorical};
pub use sequence_utils::{pad_sequences, PadSequencesArgs};
pub use text_dataset::{
    text_dataset_from_directory, text_dataset_from_directory_both,
    text_dataset_from_directory_unlabeled, TextDataset, TextDatasetArgs,
};
pub use timeseries_dataset::{
    timeseries_dataset_from_array, timeseries_dataset_from_array_unlabeled, TimeseriesArgs,
};

/// Seeds every random draw of keras-rs (initializers, dropout, shuffling): two runs with one
/// seed give identical weights and losses on the CPU.
///
/// ```
/// use keras::prelude::*;
/// keras::utils::set_random_seed(42);
/// let a = Dense::new(3).into_layer();
/// a.build(&[Shape::batched(&[2])])?;
/// keras::utils::set_random_seed(42);
/// let b = Dense::new(3).into_layer();
/// b.build(&[Shape::batched(&[2])])?;
/// assert_eq!(a.get_weights()?[0].to_vec2::<f32>()?, b.get_weights()?[0].to_vec2::<f32>()?);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn set_random_seed(seed: u64) {
    ops::random::set_seed(seed);
}

/// Clears the global name counters, so new layers are named `dense`, `dense_1`, ... again
/// (as Keras's `clear_session`).
pub fn clear_session() {
    crate::engine::naming::reset();
}
