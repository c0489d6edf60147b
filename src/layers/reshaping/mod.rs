//! Reshaping layers: `Flatten`, `Reshape`, `Permute`, `RepeatVector`, `UpSampling1D/2D`,
//! `ZeroPadding1D/2D`, `Cropping1D/2D`.
//!
//! ```
//! use keras::prelude::*;
//! use keras::layers::{UpSampling2D, ZeroPadding2D};
//! let x = UpSampling2D::new(3).call(&Input::new([4, 4, 16]))?;
//! assert_eq!(x.shape().to_string(), "(None, 12, 12, 16)");
//! let x = ZeroPadding2D::new(1).call(&x)?;
//! assert_eq!(x.shape().to_string(), "(None, 14, 14, 16)");
//! # Ok::<(), keras::Error>(())
//! ```

mod flatten;
mod padding_cropping;
mod permute;
mod reshape;
mod upsampling;

pub use flatten::Flatten;
pub use padding_cropping::{Cropping1D, Cropping2D, PadCrop, ZeroPadding1D, ZeroPadding2D};
pub use permute::{Permute, RepeatVector};
pub use reshape::Reshape;
pub use upsampling::{UpSampling, UpSampling1D, UpSampling2D};

/// Amounts before and after, per spatial axis: an int (all sides), `(a, b)` (symmetric per
/// axis) or `((top, bottom), (left, right))`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sides(pub [(usize, usize); 2]);

impl From<usize> for Sides {
    fn from(v: usize) -> Self {
        Sides([(v, v), (v, v)])
    }
}
impl From<(usize, usize)> for Sides {
    fn from(v: (usize, usize)) -> Self {
        Sides([(v.0, v.0), (v.1, v.1)])
    }
}
impl From<((usize, usize), (usize, usize))> for Sides {
    fn from(v: ((usize, usize), (usize, usize))) -> Self {
        Sides([v.0, v.1])
    }
}
