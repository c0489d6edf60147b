//! Utilities, as `keras.utils`: seeding, one-hot labels, NumPy files.

mod model_visualization;

use crate::ops::{self, Tensor};
use crate::{Error, Result};

pub use crate::ops::npy::{read_npy, read_npz, write_npy, write_npz};
pub(crate) use model_visualization::{
    drawing_error, encode_png, font, image_format, write_file, ImageFormat,
};
pub use model_visualization::{model_to_svg, plot_model, plot_model_with, PlotModelOptions};

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

/// One-hot encodes integer class labels: shape `(n,)` becomes `(n, num_classes)` float32.
///
/// ```
/// use keras::prelude::*;
/// let y = Tensor::new(&[0u8, 2, 1], &Device::Cpu)?;
/// let oh = keras::utils::to_categorical(&y, Some(3))?;
/// assert_eq!(oh.to_vec2::<f32>()?, vec![vec![1., 0., 0.], vec![0., 0., 1.], vec![0., 1., 0.]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn to_categorical(y: &Tensor, num_classes: Option<usize>) -> Result<Tensor> {
    let mut dims = y.dims().to_vec();
    if dims.last() == Some(&1) && dims.len() > 1 {
        dims.pop();
    }
    let labels = ops::to_vec_f64(y)?;
    if let Some(bad) = labels.iter().find(|v| **v < 0.0 || v.fract() != 0.0) {
        return Err(Error::value(format!(
            "to_categorical: labels must be non-negative integers; received {bad}"
        )));
    }
    let max = labels.iter().fold(0.0f64, |m, &v| m.max(v)) as usize;
    let n = num_classes.unwrap_or(max + 1);
    if !labels.is_empty() && max >= n {
        return Err(Error::value(format!(
            "to_categorical: label {max} is out of range for num_classes={n}"
        )));
    }
    let mut out = vec![0f32; labels.len() * n];
    for (i, &l) in labels.iter().enumerate() {
        out[i * n + l as usize] = 1.0;
    }
    dims.push(n);
    ops::from_vec(out, &dims)
}

/// Clears the global name counters, so new layers are named `dense`, `dense_1`, ... again
/// (as Keras's `clear_session`).
pub fn clear_session() {
    crate::engine::naming::reset();
}
