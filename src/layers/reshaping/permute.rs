//! `Permute` and `RepeatVector`.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::Tensor;
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Reorders the non-batch axes; `dims` are 1-based, as in Keras (`Permute((2, 1))` swaps the
/// first two).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Permute;
/// let y = Permute::new(&[2, 1]).call(&Input::new([10, 64]))?;
/// assert_eq!(y.shape().to_string(), "(None, 64, 10)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Permute {
    args: LayerArgs,
    dims: Vec<usize>,
}

impl Permute {
    /// The new order of the axes (1-based).
    pub fn new(dims: &[usize]) -> Self {
        Permute {
            args: LayerArgs::default(),
            dims: dims.to_vec(),
        }
    }
}

impl Permute {
    /// A `Permute` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(Permute::new(&c.usizes("dims")?), c)
    }
}

impl Layer for Permute {
    fn class_name(&self) -> &str {
        "Permute"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"dims": self.dims})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        let mut sorted = self.dims.clone();
        sorted.sort();
        if sorted != (1..=self.dims.len()).collect::<Vec<_>>() || self.dims.len() + 1 != s[0].rank()
        {
            return Err(Error::value(format!(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be consecutive and start from 1, one per non-batch axis of {}. Received dims={:?}",
                s[0], self.dims
            )));
        }
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let d = &s[0].0;
        let mut out = vec![d[0]];
        for &i in &self.dims {
            out.push(*d.get(i).ok_or_else(|| {
                Error::value(format!("Permute: axis {i} out of range for {}", s[0]))
            })?);
        }
        Ok(vec![Shape(out)])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let mut perm = vec![0];
        perm.extend(&self.dims);
        Ok(vec![inputs[0].permute(perm)?])
    }
}

/// Repeats a vector `n` times: `(batch, features)` becomes `(batch, n, features)`.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::RepeatVector;
/// let y = RepeatVector::new(3).call(&Input::new([32]))?;
/// assert_eq!(y.shape().to_string(), "(None, 3, 32)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct RepeatVector {
    args: LayerArgs,
    n: usize,
}

impl RepeatVector {
    /// `n` repetitions.
    pub fn new(n: usize) -> Self {
        RepeatVector {
            args: LayerArgs::default(),
            n,
        }
    }
}

impl RepeatVector {
    /// A `RepeatVector` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(RepeatVector::new(c.usize("n")?), c)
    }
}

impl Layer for RepeatVector {
    fn class_name(&self) -> &str {
        "RepeatVector"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"n": self.n})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![InputSpec::new().ndim(2)]
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![Shape(vec![s[0].0[0], Some(self.n), s[0].0[1]])])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let (b, d) = inputs[0].dims2()?;
        Ok(vec![inputs[0]
            .unsqueeze(1)?
            .broadcast_as((b, self.n, d))?
            .contiguous()?])
    }
}
