//! Convolution layers: `Conv1D`, `Conv2D`, `Conv1DTranspose`, `Conv2DTranspose`,
//! `DepthwiseConv2D`, `SeparableConv2D`, in Keras's `channels_last` layout (the default) or
//! `channels_first` (`.data_format("channels_first")`, moved to `channels_last` once per call).
//!
//! ```
//! use keras::prelude::*;
//! use keras::layers::Conv2D;
//! let img = Input::new([28, 28, 1]);
//! let x = Conv2D::new(32, 3).activation("relu").call(&img)?;
//! assert_eq!(x.shape().to_string(), "(None, 26, 26, 32)");
//! assert_eq!(x.layer().count_params(), 3 * 3 * 1 * 32 + 32);
//! # Ok::<(), keras::Error>(())
//! ```

mod base_conv;
mod conv2d_transpose;
mod separable;

pub use base_conv::{BaseConv, Conv1D, Conv2D};
pub use conv2d_transpose::{Conv1DTranspose, Conv2DTranspose};
pub use separable::{DepthwiseConv2D, SeparableConv2D};

use crate::serialization::{json, Value};

/// Keras's check of a size argument: every value must be positive.
pub(crate) fn check_positive(arg: &str, s: Size2, rank: usize) -> crate::Result<()> {
    let vals = if rank == 1 { vec![s.1] } else { vec![s.0, s.1] };
    if vals.contains(&0) {
        return Err(crate::Error::value(format!(
            "The `{arg}` argument must be a tuple of {rank} integers. Received {arg}={vals:?}, \
             including values {{0}} that do not satisfy `value > 0`"
        )));
    }
    Ok(())
}

/// A size per spatial axis: one number for every axis, or one each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size2(pub usize, pub usize);

impl Size2 {
    /// The size as a Keras config writes it for a layer over `rank` spatial axes: `[w]` for
    /// 1D (a 1D size is kept as `Size2(1, w)`), `[h, w]` for 2D.
    pub(crate) fn to_json(self, rank: usize) -> Value {
        if rank == 1 {
            json!([self.1])
        } else {
            json!([self.0, self.1])
        }
    }
}

impl From<usize> for Size2 {
    fn from(v: usize) -> Self {
        Size2(v, v)
    }
}
impl From<(usize, usize)> for Size2 {
    fn from(v: (usize, usize)) -> Self {
        Size2(v.0, v.1)
    }
}
impl From<[usize; 2]> for Size2 {
    fn from(v: [usize; 2]) -> Self {
        Size2(v[0], v[1])
    }
}
