//! `ZeroPadding1D/2D` and `Cropping1D/2D`.

use super::Sides;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, Shape};
use crate::ops::Tensor;
use crate::{Error, Result};

/// Zero padding or cropping of the spatial axes; made by [`ZeroPadding2D::new`],
/// [`Cropping1D::new`], ...
pub struct PadCrop {
    args: LayerArgs,
    rank: usize,
    pad: bool,
    sides: Sides,
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
        }
    }
}

impl PadCrop {
    fn axes(&self) -> Vec<(usize, (usize, usize))> {
        if self.rank == 1 {
            vec![(1, self.sides.0[1])]
        } else {
            vec![(1, self.sides.0[0]), (2, self.sides.0[1])]
        }
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
    fn get_config(&self) -> Result<crate::saving::config::Config> {
        use crate::saving::config::{config, json};
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
            v["data_format"] = json!("channels_last");
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
        for (axis, (a, b)) in self.axes() {
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
        for (axis, (a, b)) in self.axes() {
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
