//! `Reshape`: a new shape for each sample.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, IntoDims, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::Tensor;
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

/// Reshapes each sample to `target_shape` (batch axis excluded); one entry may be `-1`
/// (or `None`). The shape is written as Keras writes it: `Reshape::new((4, -1))`, or
/// `&[4, -1]`, `vec![4, -1]` (any [`IntoDims`](crate::engine::IntoDims)).
///
/// ```
/// use keras::prelude::*;
/// let y = Reshape::new((4, -1)).call(Input::new((16,)))?;
/// assert_eq!(y.shape().to_string(), "(None, 4, 4)");
/// let x = Input::new([16]);
/// let z = Reshape::new(&[2, 8]).call(&x)?;
/// assert_eq!(z.shape().to_string(), "(None, 2, 8)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Reshape {
    args: LayerArgs,
    target: Vec<i64>,
}

impl Reshape {
    /// A reshape to `target_shape` (`-1` or `None` for the one inferred dimension).
    pub fn new(target_shape: impl IntoDims) -> Self {
        Reshape {
            args: LayerArgs::default(),
            target: target_shape.into_signed_dims(),
        }
    }

    /// Keras's `compute_reshape_output_shape` on one sample's shape.
    fn sample_shape(&self, input: &[Option<usize>]) -> Result<Vec<Option<usize>>> {
        let fmt = |v: &[i64]| Shape(v.iter().map(|&d| Some(d as usize)).collect()).to_string();
        let unknown = self.target.iter().filter(|&&d| d == -1).count();
        if unknown > 1 || self.target.iter().any(|&d| d < -1 || d == 0) {
            return Err(Error::value(format!(
                "There must be at most one unknown dimension (-1) in target_shape, and every other \
                 dimension must be positive. Received: target_shape={:?}",
                self.target
            )));
        }
        let known_in: Option<Vec<usize>> = input.iter().copied().collect();
        let Some(known_in) = known_in else {
            return Ok(self
                .target
                .iter()
                .map(|&d| if d == -1 { None } else { Some(d as usize) })
                .collect());
        };
        let in_size: usize = known_in.iter().product();
        let in_str = Shape::known(&known_in).to_string();
        let known_out: usize = self
            .target
            .iter()
            .filter(|&&d| d != -1)
            .map(|&d| d as usize)
            .product();
        if unknown == 0 {
            if known_out != in_size {
                return Err(Error::value(format!(
                    "The total size of the tensor must be unchanged. Received: input_shape={in_str}, \
                     target_shape={}",
                    fmt(&self.target)
                )));
            }
            return Ok(self.target.iter().map(|&d| Some(d as usize)).collect());
        }
        if known_out == 0 || !in_size.is_multiple_of(known_out) {
            return Err(Error::value(format!(
                "The total size of the tensor must be unchanged, however, the input size cannot by \
                 divided by the specified dimensions in target_shape. Received: input_shape={in_str}, \
                 target_shape={:?}",
                self.target
            )));
        }
        Ok(self
            .target
            .iter()
            .map(|&d| {
                Some(if d == -1 {
                    in_size / known_out
                } else {
                    d as usize
                })
            })
            .collect())
    }
}

impl Reshape {
    /// A `Reshape` from its Keras config (`target_shape`: integers, `-1` for one unknown).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let target: Option<Vec<i64>> = match c.get("target_shape") {
            Some(Value::Array(a)) => a.iter().map(Value::as_i64).collect(),
            _ => None,
        };
        let target = target.ok_or_else(|| c.bad("target_shape", "a list of integers"))?;
        apply_base_config(Reshape::new(&target), c)
    }
}

impl Layer for Reshape {
    fn class_name(&self) -> &str {
        "Reshape"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"target_shape": self.target})))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.sample_shape(&s[0].0[1..]).map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let mut out = vec![s[0].0.first().copied().flatten()];
        out.extend(self.sample_shape(&s[0].0[1..])?);
        Ok(vec![Shape(out)])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        let sample: Vec<Option<usize>> = x.dims()[1..].iter().map(|&d| Some(d)).collect();
        let mut dims = vec![x.dims()[0]];
        dims.extend(
            self.sample_shape(&sample)?
                .into_iter()
                .map(|d| d.unwrap_or(0)),
        );
        Ok(vec![x.reshape(dims)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;

    #[test]
    fn infers_minus_one_and_rejects_bad_sizes() {
        let y = Reshape::new((-1, 2)).call(Input::new((3, 4))).unwrap();
        assert_eq!(y.shape().to_string(), "(None, 6, 2)");
        let e = Reshape::new((30, 30))
            .call(Input::new((784,)))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "The total size of the tensor must be unchanged. Received: input_shape=(784,), target_shape=(30, 30)");
        let e = Reshape::new((5, -1))
            .call(Input::new((12,)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot by divided"), "{e}");
        let y = Reshape::new((2, -1)).call(Input::new((None,))).unwrap();
        assert_eq!(y.shape().to_string(), "(None, 2, None)");
    }
}
