//! `Dot`: batched dot product of two inputs.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{self, Tensor};
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

/// The dot product of two batches of vectors (or matrices) over `axes`; with `normalize`, of
/// their L2-normalized versions (cosine similarity).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Dot;
/// let y = Dot::new(1).normalize(true).call(&[Input::new(&[8]), Input::new(&[8])])?;
/// assert_eq!(y.shape().to_string(), "(None, 1)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Dot {
    args: LayerArgs,
    axes: (isize, isize),
    normalize: bool,
}

impl Dot {
    /// The same axis for both inputs.
    pub fn new(axes: isize) -> Self {
        Dot {
            args: LayerArgs::default(),
            axes: (axes, axes),
            normalize: false,
        }
    }
    /// One axis per input.
    pub fn with_axes(a: isize, b: isize) -> Self {
        Dot {
            args: LayerArgs::default(),
            axes: (a, b),
            normalize: false,
        }
    }
    /// Normalize both inputs along the dot axes first.
    pub fn normalize(mut self, n: bool) -> Self {
        self.normalize = n;
        self
    }

    fn axes_for(&self, ra: usize, rb: usize) -> Result<(usize, usize)> {
        Ok((
            ops::normalize_axis(self.axes.0, ra)?,
            ops::normalize_axis(self.axes.1, rb)?,
        ))
    }
}

impl Dot {
    /// A `Dot` from its Keras config (`axes`: one axis, or one per input).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = match c.get("axes") {
            Some(Value::Array(a)) => match a.as_slice() {
                [x, y] => match (x.as_i64(), y.as_i64()) {
                    (Some(x), Some(y)) => Dot::with_axes(x as isize, y as isize),
                    _ => return Err(c.bad("axes", "an integer or two integers")),
                },
                _ => return Err(c.bad("axes", "an integer or two integers")),
            },
            _ => Dot::new(c.isize_or("axes", -1)?),
        };
        apply_base_config(l.normalize(c.bool_or("normalize", false)?), c)
    }
}

impl Layer for Dot {
    fn class_name(&self) -> &str {
        "Dot"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "axes": if self.axes.0 == self.axes.1 { json!(self.axes.0) } else { json!([self.axes.0, self.axes.1]) },
            "normalize": self.normalize,
        })))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        if s.len() != 2 {
            return Err(Error::value(format!(
                "A `Dot` layer should be called on a list of 2 inputs. Received: {} inputs",
                s.len()
            )));
        }
        let (a, b) = self.axes_for(s[0].rank(), s[1].rank())?;
        if let (Some(x), Some(y)) = (s[0].0[a], s[1].0[b]) {
            if x != y {
                return Err(Error::shape(format!(
                    "Incompatible input shapes: axis values {x} (at axis {a}) != {y} (at axis {b}). Full input shapes: {}, {}",
                    s[0], s[1]
                )));
            }
        }
        let mut s1 = s[0].0.clone();
        let mut s2 = s[1].0.clone();
        s1.remove(a);
        s2.remove(b);
        s2.remove(0);
        s1.extend(s2);
        if s1.len() == 1 {
            s1.push(Some(1));
        }
        Ok(vec![Shape(s1)])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let (a, b) = self.axes_for(inputs[0].rank(), inputs[1].rank())?;
        let (x, y) = if self.normalize {
            (
                ops::l2_normalize(&inputs[0], a)?,
                ops::l2_normalize(&inputs[1], b)?,
            )
        } else {
            (inputs[0].clone(), inputs[1].clone())
        };
        Ok(vec![ops::batch_dot(&x, &y, (a, b))?])
    }
}
