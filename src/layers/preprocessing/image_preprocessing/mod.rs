//! Image augmentation layers, as Keras's `keras/src/layers/preprocessing/image_preprocessing`:
//! random transformations while training (`CallCtx::training`), the identity at inference.
//! Images are `channels_last`, a batch `(b, h, w, c)` or one image `(h, w, c)`.
//!
//! Each layer draws from the global generator (`keras::utils::set_random_seed`), or from its
//! own when given a `seed`. The transformations themselves equal Keras-JAX's: the same
//! matrices and resampling (see [`crate::ops::image`]).

pub(crate) mod affine;
pub(crate) mod base;
mod random_contrast;
mod random_crop;
mod random_flip;
mod random_rotation;
mod random_translation;
mod random_zoom;

pub use base::Factor;
pub use random_contrast::RandomContrast;
pub use random_crop::RandomCrop;
pub use random_flip::RandomFlip;
pub use random_rotation::RandomRotation;
pub use random_translation::RandomTranslation;
pub use random_zoom::RandomZoom;
