//! `data_format`: where the channels axis of an image-like tensor is, as Keras's
//! `channels_last` (`(batch, ..., channels)`, the default of `keras.config.image_data_format()`)
//! or `channels_first` (`(batch, channels, ...)`).
//!
//! keras-rs's kernels compute in `channels_last`; a layer given `channels_first` moves the
//! channels axis last once on the way in and back to axis 1 once on the way out (one transpose
//! each per call), and does the same to shapes. Weights are laid out the same for both formats,
//! as in Keras.
//!
//! ```
//! use keras::layers::data_format::DataFormat;
//! use keras::engine::Shape;
//! let f = DataFormat::parse("Channels_First")?;
//! assert_eq!(f, DataFormat::ChannelsFirst);
//! assert_eq!(f.as_str(), "channels_first");
//! let s = Shape(vec![None, Some(3), Some(8), Some(6)]);
//! assert_eq!(f.shape_to_last(&s).to_string(), "(None, 8, 6, 3)");
//! assert_eq!(f.shape_from_last(&f.shape_to_last(&s)), s);
//! let e = DataFormat::parse("nchw").unwrap_err().to_string();
//! assert!(e.contains("Received: data_format=nchw"), "{e}");
//! # Ok::<(), keras::Error>(())
//! ```

use crate::engine::Shape;
use crate::ops::Tensor;
use crate::serialization::Cfg;
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether [`set_image_data_format`] made `channels_first` the default.
static CHANNELS_FIRST: AtomicBool = AtomicBool::new(false);

/// `keras.config.image_data_format()`: the format layers take when given none
/// (`"channels_last"` unless [`set_image_data_format`] changed it). Read when a layer is made,
/// as Keras does.
///
/// ```
/// assert_eq!(keras::layers::data_format::image_data_format(), "channels_last");
/// ```
pub fn image_data_format() -> &'static str {
    if CHANNELS_FIRST.load(Ordering::Relaxed) {
        "channels_first"
    } else {
        "channels_last"
    }
}

/// `keras.config.set_image_data_format(...)`: the default format of the layers made after
/// it (for the whole process). Another value than the two names is Keras's error.
///
/// ```
/// use keras::layers::data_format::{image_data_format, set_image_data_format};
/// use keras::layers::Conv2D;
/// use keras::prelude::*;
/// set_image_data_format("channels_first")?;
/// let y = Conv2D::new(4, 3).call(&Input::new([2, 9, 8]))?;
/// assert_eq!(y.shape().to_string(), "(None, 4, 7, 6)");
/// set_image_data_format("channels_last")?;
/// assert_eq!(image_data_format(), "channels_last");
/// assert!(set_image_data_format("nhwc").is_err());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn set_image_data_format(f: &str) -> Result<()> {
    let first = DataFormat::parse(f)? == DataFormat::ChannelsFirst;
    CHANNELS_FIRST.store(first, Ordering::Relaxed);
    Ok(())
}

/// The two layouts of an image-like tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DataFormat {
    /// `(batch, spatial..., channels)`: Keras's default.
    #[default]
    ChannelsLast,
    /// `(batch, channels, spatial...)`.
    ChannelsFirst,
}

impl DataFormat {
    /// Reads a format as Keras's `standardize_data_format` does: case-insensitive, and
    /// anything else than the two names is an error quoting the received value.
    ///
    /// ```
    /// use keras::layers::data_format::DataFormat;
    /// assert_eq!(DataFormat::parse("channels_last")?, DataFormat::ChannelsLast);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_lowercase().as_str() {
            "channels_last" => Ok(DataFormat::ChannelsLast),
            "channels_first" => Ok(DataFormat::ChannelsFirst),
            other => Err(Error::value(format!(
                "The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. \
                 Received: data_format={other}"
            ))),
        }
    }

    /// The `data_format` key of a Keras config: missing or `null` is
    /// [`image_data_format`] (`channels_last`). Returns the name as written back.
    pub(crate) fn read(c: &Cfg) -> Result<String> {
        let f = c.opt_str("data_format")?.unwrap_or(image_data_format());
        Ok(DataFormat::parse(f)?.as_str().to_string())
    }

    /// The Keras name: `"channels_last"` or `"channels_first"`.
    ///
    /// ```
    /// use keras::layers::data_format::DataFormat;
    /// assert_eq!(DataFormat::default().as_str(), "channels_last");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            DataFormat::ChannelsLast => "channels_last",
            DataFormat::ChannelsFirst => "channels_first",
        }
    }

    /// The channels axis as an index from the front (1) or the back (-1).
    ///
    /// ```
    /// use keras::layers::data_format::DataFormat;
    /// assert_eq!(DataFormat::ChannelsFirst.channel_axis(), 1);
    /// ```
    pub fn channel_axis(self) -> isize {
        match self {
            DataFormat::ChannelsLast => -1,
            DataFormat::ChannelsFirst => 1,
        }
    }

    /// `(batch, c, d1, ..)` -> `(batch, d1, .., c)` for `channels_first` (a no-op otherwise or
    /// below rank 3).
    ///
    /// ```
    /// use keras::layers::data_format::DataFormat;
    /// use keras::engine::Shape;
    /// let s = Shape(vec![None, Some(2), Some(5)]);
    /// assert_eq!(DataFormat::ChannelsFirst.shape_to_last(&s).to_string(), "(None, 5, 2)");
    /// ```
    pub fn shape_to_last(self, s: &Shape) -> Shape {
        let mut d = s.0.clone();
        if self == DataFormat::ChannelsFirst && d.len() > 2 {
            let c = d.remove(1);
            d.push(c);
        }
        Shape(d)
    }

    /// The inverse of [`DataFormat::shape_to_last`]: the last axis back to axis 1.
    ///
    /// ```
    /// use keras::layers::data_format::DataFormat;
    /// use keras::engine::Shape;
    /// let s = Shape(vec![None, Some(5), Some(2)]);
    /// assert_eq!(DataFormat::ChannelsFirst.shape_from_last(&s).to_string(), "(None, 2, 5)");
    /// ```
    pub fn shape_from_last(self, s: &Shape) -> Shape {
        let mut d = s.0.clone();
        if self == DataFormat::ChannelsFirst && d.len() > 2 {
            let c = d.pop().flatten();
            d.insert(1, c);
        }
        Shape(d)
    }

    /// Moves the channels axis of a `channels_first` tensor last (one transpose, made
    /// contiguous); returns `x` itself for `channels_last`.
    pub(crate) fn to_last(self, x: &Tensor) -> Result<Tensor> {
        let r = x.rank();
        if self == DataFormat::ChannelsLast || r < 3 {
            return Ok(x.clone());
        }
        let mut perm: Vec<usize> = vec![0];
        perm.extend(2..r);
        perm.push(1);
        Ok(x.permute(perm)?.contiguous()?)
    }

    /// Moves the last axis of a `channels_last` result back to axis 1 for `channels_first`.
    pub(crate) fn back_from_last(self, y: &Tensor) -> Result<Tensor> {
        let r = y.rank();
        if self == DataFormat::ChannelsLast || r < 3 {
            return Ok(y.clone());
        }
        let mut perm: Vec<usize> = vec![0, r - 1];
        perm.extend(1..r - 1);
        Ok(y.permute(perm)?.contiguous()?)
    }
}

/// Moves axis `axis` of `x` last (one transpose, contiguous); a no-op when it is last already.
pub(crate) fn move_axis_last(x: &Tensor, axis: usize) -> Result<Tensor> {
    let r = x.rank();
    if axis + 1 >= r {
        return Ok(x.clone());
    }
    let mut perm: Vec<usize> = (0..r).filter(|&a| a != axis).collect();
    perm.push(axis);
    Ok(x.permute(perm)?.contiguous()?)
}

/// The inverse of [`move_axis_last`]: the last axis of `y` back to `axis`.
pub(crate) fn move_last_to(y: &Tensor, axis: usize) -> Result<Tensor> {
    let r = y.rank();
    if axis + 1 >= r {
        return Ok(y.clone());
    }
    let mut perm: Vec<usize> = (0..r - 1).collect();
    perm.insert(axis, r - 1);
    Ok(y.permute(perm)?.contiguous()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_move_and_come_back() {
        let x = crate::random::normal(&[2, 3, 4, 5]).unwrap();
        let f = DataFormat::ChannelsFirst;
        let l = f.to_last(&x).unwrap();
        assert_eq!(l.dims(), &[2, 4, 5, 3]);
        let back = f.back_from_last(&l).unwrap();
        let d = (back - &x).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
        let m = move_axis_last(&x, 1).unwrap();
        assert_eq!(m.dims(), &[2, 4, 5, 3]);
        let m2 = move_axis_last(&x, 2).unwrap();
        assert_eq!(m2.dims(), &[2, 3, 5, 4]);
        let b = move_last_to(&m2, 2).unwrap();
        let d = (b - &x).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
        assert_eq!(
            DataFormat::ChannelsLast.to_last(&x).unwrap().dims(),
            x.dims()
        );
    }
}
