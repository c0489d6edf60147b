//! `ZeroPadding1D/2D` and `Cropping1D/2D`.

use super::Sides;
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape};
use crate::layers::data_format::DataFormat;
use crate::ops::Tensor;
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

/// Zero padding or cropping of the spatial axes; made by [`ZeroPadding2D::new`],
/// [`Cropping1D::new`], ...
///
/// `data_format("channels_first")` (`ZeroPadding1D/2D`, `Cropping2D`, as Keras) pads or crops
/// the axes after the channels axis: `(batch, c, h, w)`.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::{Cropping2D, ZeroPadding2D};
/// let x = Input::new([3, 8, 6]);
/// let y = ZeroPadding2D::new((1, 2)).data_format("channels_first").call(&x)?;
/// assert_eq!(y.shape().to_string(), "(None, 3, 10, 10)");
/// let y = Cropping2D::new(((1, 0), (2, 1))).data_format("channels_first").call(&x)?;
/// assert_eq!(y.shape().to_string(), "(None, 3, 7, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct PadCrop {
    args: LayerArgs,
    rank: usize,
    pad: bool,
    sides: Sides,
    data_format: String,
}

/// `keras.layers.ZeroPadding2D`: zeros around the image.
pub struct ZeroPadding2D;
impl ZeroPadding2D {
    /// Padding of `p` (an int, `(h, w)` or `((top, bottom), (left, right))`).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(p: impl Into<Sides>) -> PadCrop {
        PadCrop {
            args: LayerArgs::default(),
            rank: 2,
            pad: true,
            sides: p.into(),
            data_format: crate::layers::data_format::image_data_format().into(),
        }
    }
}
/// `keras.layers.ZeroPadding1D`: zeros before and after the steps.
pub struct ZeroPadding1D;
impl ZeroPadding1D {
    /// Padding of `(before, after)` steps.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(before: usize, after: usize) -> PadCrop {
        PadCrop {
            args: LayerArgs::default(),
            rank: 1,
            pad: true,
            sides: Sides([(0, 0), (before, after)]),
            data_format: crate::layers::data_format::image_data_format().into(),
        }
    }
}
/// `keras.layers.Cropping2D`: removes rows and columns at the edges.
pub struct Cropping2D;
impl Cropping2D {
    /// Cropping of `c` (an int, `(h, w)` or `((top, bottom), (left, right))`).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(c: impl Into<Sides>) -> PadCrop {
        PadCrop {
            args: LayerArgs::default(),
            rank: 2,
            pad: false,
            sides: c.into(),
            data_format: crate::layers::data_format::image_data_format().into(),
        }
    }
}
/// `keras.layers.Cropping1D`: removes steps at both ends.
pub struct Cropping1D;
impl Cropping1D {
    /// Cropping of `(start, end)` steps.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(start: usize, end: usize) -> PadCrop {
        PadCrop {
            args: LayerArgs::default(),
            rank: 1,
            pad: false,
            sides: Sides([(0, 0), (start, end)]),
            data_format: "channels_last".into(),
        }
    }
}

impl ZeroPadding1D {
    /// A `ZeroPadding1D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let (a, b) = sides1(c, "padding", 1)?;
        let l = ZeroPadding1D::new(a, b).data_format(&DataFormat::read(c)?);
        apply_base_config(l, c)
    }
}

impl ZeroPadding2D {
    /// A `ZeroPadding2D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = ZeroPadding2D::new(sides2(c, "padding", 1)?).data_format(&DataFormat::read(c)?);
        apply_base_config(l, c)
    }
}

impl Cropping1D {
    /// A `Cropping1D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        // Keras's Cropping1D has no `data_format`: one written is refused unless channels_last.
        c.channels_last()?;
        let (a, b) = sides1(c, "cropping", 0)?;
        apply_base_config(Cropping1D::new(a, b), c)
    }
}

impl Cropping2D {
    /// A `Cropping2D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = Cropping2D::new(sides2(c, "cropping", 0)?).data_format(&DataFormat::read(c)?);
        apply_base_config(l, c)
    }
}

/// A 1D padding / cropping of a config: one number for both sides or a pair.
fn sides1(c: &Cfg, key: &str, default: usize) -> Result<(usize, usize)> {
    match c.get(key) {
        None => Ok((default, default)),
        Some(Value::Array(_)) => c.pair(key, (default, default)),
        Some(_) => c.usize(key).map(|n| (n, n)),
    }
}

/// A 2D padding / cropping of a config: a number, a pair (symmetric per axis), or a pair of
/// pairs.
fn sides2(c: &Cfg, key: &str, default: usize) -> Result<Sides> {
    let bad = || c.bad(key, "an integer, two integers or two pairs of integers");
    let num = |v: &Value| v.as_u64().map(|n| n as usize).ok_or_else(bad);
    match c.get(key) {
        None => Ok(Sides::from(default)),
        Some(Value::Array(a)) if a.len() == 2 => match (&a[0], &a[1]) {
            (Value::Array(h), Value::Array(w)) if h.len() == 2 && w.len() == 2 => Ok(Sides([
                (num(&h[0])?, num(&h[1])?),
                (num(&w[0])?, num(&w[1])?),
            ])),
            (h, w) => {
                let (h, w) = (num(h)?, num(w)?);
                Ok(Sides([(h, h), (w, w)]))
            }
        },
        Some(v) => num(v).map(Sides::from),
    }
}

impl PadCrop {
    /// `"channels_last"` (default) or `"channels_first"` (the spatial axes start at 2); another
    /// value is an error when the layer is called. `Cropping1D` has none in Keras.
    pub fn data_format(mut self, f: &str) -> Self {
        self.data_format = f.to_lowercase();
        self
    }

    /// The padded / cropped axes and their amounts.
    fn axes(&self) -> Result<Vec<(usize, (usize, usize))>> {
        let first = DataFormat::parse(&self.data_format)? == DataFormat::ChannelsFirst;
        let o = if first { 2 } else { 1 };
        Ok(if self.rank == 1 {
            vec![(o, self.sides.0[1])]
        } else {
            vec![(o, self.sides.0[0]), (o + 1, self.sides.0[1])]
        })
    }
}

impl Layer for PadCrop {
    fn class_name(&self) -> &str {
        match (self.pad, self.rank) {
            (true, 1) => "ZeroPadding1D",
            (true, _) => "ZeroPadding2D",
            (false, 1) => "Cropping1D",
            (false, _) => "Cropping2D",
        }
    }
    fn get_config(&self) -> Result<Config> {
        let [(t, b), (l, r)] = self.sides.0;
        let sides = if self.rank == 1 {
            json!([l, r])
        } else {
            json!([[t, b], [l, r]])
        };
        let mut v = if self.pad {
            json!({ "padding": sides })
        } else {
            json!({ "cropping": sides })
        };
        if self.rank == 2 || self.pad {
            v["data_format"] = json!(self.data_format);
        }
        Ok(config(v))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![InputSpec::new().ndim(self.rank + 2)]
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let mut out = s[0].0.clone();
        for (axis, (a, b)) in self.axes()? {
            out[axis] = match out[axis] {
                None => None,
                Some(d) if self.pad => Some(d + a + b),
                Some(d) if a + b < d => Some(d - a - b),
                Some(d) => {
                    return Err(Error::shape(format!(
                        "`cropping` parameter of `{}` layer must be smaller than the input size. Received: inputs.shape={}, cropping {:?} on an axis of size {d}",
                        self.class_name(),
                        s[0],
                        (a, b)
                    )))
                }
            };
        }
        Ok(vec![Shape(out)])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let mut x = inputs[0].clone();
        for (axis, (a, b)) in self.axes()? {
            x = if self.pad {
                x.pad_with_zeros(axis, a, b)?
            } else {
                let d = x.dim(axis)?;
                if a + b >= d {
                    return Err(Error::shape(format!(
                        "cropping {:?} leaves nothing of an axis of size {d}",
                        (a, b)
                    )));
                }
                x.narrow(axis, a, d - a - b)?
            };
        }
        Ok(vec![x])
    }
}
