//! `Concatenate`: joins inputs along an axis.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Concatenates its inputs along `axis` (default -1); other dimensions must match.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Concatenate;
/// let y = Concatenate::new(-1).call(&[Input::new(&[3]), Input::new(&[5])])?;
/// assert_eq!(y.shape().to_string(), "(None, 8)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Concatenate {
    args: LayerArgs,
    axis: isize,
}

impl Concatenate {
    /// Concatenation along `axis`.
    pub fn new(axis: isize) -> Self {
        Concatenate {
            args: LayerArgs::default(),
            axis,
        }
    }
}

impl Concatenate {
    /// A `Concatenate` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(Concatenate::new(c.isize_or("axis", -1)?), c)
    }
}

impl Layer for Concatenate {
    fn class_name(&self) -> &str {
        "Concatenate"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"axis": self.axis})))
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let mismatch = || {
            let shapes: Vec<String> = s.iter().map(|x| x.to_string()).collect();
            Error::shape(format!(
                "A `Concatenate` layer requires inputs with matching shapes except for the concatenation \
                 axis. Received: input_shape=[{}]",
                shapes.join(", ")
            ))
        };
        let first = s.first().ok_or_else(|| {
            Error::value("A `Concatenate` layer should be called on a list of at least 1 input.")
        })?;
        let rank = first.rank();
        let axis = ops::normalize_axis(self.axis, rank)?;
        if s.iter().any(|x| x.rank() != rank) {
            return Err(mismatch());
        }
        let mut out = first.0.clone();
        for x in &s[1..] {
            for (i, (o, &d)) in out.iter_mut().zip(&x.0).enumerate() {
                if i == axis {
                    *o = match (*o, d) {
                        (Some(a), Some(b)) => Some(a + b),
                        _ => None,
                    };
                } else {
                    *o = match (*o, d) {
                        (Some(a), Some(b)) if a != b => return Err(mismatch()),
                        (Some(a), _) | (_, Some(a)) => Some(a),
                        (None, None) => None,
                    };
                }
            }
        }
        Ok(vec![Shape(out)])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        Ok(vec![ops::concatenate(inputs, self.axis)?])
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn compute_mask(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        if masks.iter().all(Option::is_none) {
            return Ok(vec![None]);
        }
        let rank = inputs[0].rank();
        let axis = ops::normalize_axis(self.axis, rank)?;
        if axis + 1 == rank {
            // Features side by side: a step counts where every input's does.
            return Ok(vec![super::base_merge::all_masks(masks)?]);
        }
        // Along the steps (or another axis the masks have): join the masks, all-ones for
        // inputs without one.
        let parts: Vec<Tensor> = inputs
            .iter()
            .zip(masks.iter().chain(std::iter::repeat(&None)))
            .map(|(x, m)| match m {
                Some(m) => Ok(m.clone()),
                None => Ok(Tensor::ones(&x.dims()[..rank - 1], DType::F32, x.device())?),
            })
            .collect::<Result<_>>()?;
        Ok(vec![Some(Tensor::cat(&parts, axis)?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;

    #[test]
    fn shapes_and_errors() {
        let y = Concatenate::new(1)
            .call_many(&[Input::new([2, 3]), Input::new([4, 3])])
            .unwrap();
        assert_eq!(y[0].shape().to_string(), "(None, 6, 3)");
        let e = Concatenate::new(-1)
            .call_many(&[Input::new([2, 3]), Input::new([4, 3])])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("matching shapes except for the concatenation axis")
                && e.contains("(None, 4, 3)"),
            "{e}"
        );
        let y = Concatenate::new(-1)
            .call_many(&[Input::new([None]), Input::new([3])])
            .unwrap();
        assert_eq!(y[0].shape().to_string(), "(None, None)");
    }
}
