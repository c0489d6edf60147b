//! Elementwise merges (`Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum`), with
//! Keras's broadcasting and shape checks (`keras/src/layers/merging/base_merge.py`).

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{self, Merge, Tensor};
use crate::serialization::{Cfg, Config};
use crate::{Error, Result};

/// An elementwise merge of two or more inputs. Made by [`Add::new`], [`Subtract::new`], ...
pub struct ElementwiseMerge {
    args: LayerArgs,
    how: Merge,
}

impl ElementwiseMerge {
    fn new(how: Merge) -> Self {
        ElementwiseMerge {
            args: LayerArgs::default(),
            how,
        }
    }
}

macro_rules! merge_class {
    ($(#[$doc:meta])* $name:ident, $how:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl $name {
            /// The layer.
            #[allow(clippy::new_ret_no_self)]
            pub fn new() -> ElementwiseMerge {
                ElementwiseMerge::new($how)
            }
            /// The layer from its Keras config (base keys only).
            pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
                apply_base_config(Self::new(), c)
            }
        }
    };
}

merge_class!(
    /// `keras.layers.Add`: sums its inputs.
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::layers::Add;
    /// let y = Add::new().call(&[Input::new(&[4]), Input::new(&[4])])?;
    /// assert_eq!(y.shape().to_string(), "(None, 4)");
    /// # Ok::<(), keras::Error>(())
    /// ```
    Add,
    Merge::Add
);
merge_class!(
    /// `keras.layers.Subtract`: the first input minus the second (exactly two inputs).
    Subtract,
    Merge::Subtract
);
merge_class!(
    /// `keras.layers.Multiply`: the elementwise product.
    Multiply,
    Merge::Multiply
);
merge_class!(
    /// `keras.layers.Average`: the elementwise mean.
    Average,
    Merge::Average
);
merge_class!(
    /// `keras.layers.Maximum`: the elementwise maximum.
    Maximum,
    Merge::Maximum
);
merge_class!(
    /// `keras.layers.Minimum`: the elementwise minimum.
    Minimum,
    Merge::Minimum
);

/// Keras's `_compute_elemwise_op_output_shape` for two shapes without their batch axis.
fn elemwise_shape(a: &[Option<usize>], b: &[Option<usize>]) -> Result<Vec<Option<usize>>> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut out: Vec<Option<usize>> = long[..long.len() - short.len()].to_vec();
    for (&i, &j) in long[long.len() - short.len()..].iter().zip(short) {
        out.push(match (i, j) {
            (None, _) | (_, None) => None,
            (Some(1), j) => j,
            (i, Some(1)) => i,
            (Some(i), Some(j)) if i == j => Some(i),
            _ => {
                return Err(Error::shape(format!(
                    "Inputs have incompatible shapes. Received shapes {} and {}",
                    Shape(long.to_vec()),
                    Shape(short.to_vec())
                )))
            }
        });
    }
    Ok(out)
}

impl Layer for ElementwiseMerge {
    fn class_name(&self) -> &str {
        match self.how {
            Merge::Add => "Add",
            Merge::Subtract => "Subtract",
            Merge::Multiply => "Multiply",
            Merge::Average => "Average",
            Merge::Maximum => "Maximum",
            Merge::Minimum => "Minimum",
        }
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(Config::new())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        if s.is_empty() {
            return Err(Error::value(
                "A merge layer should be called on a list of at least 1 input.",
            ));
        }
        if self.how == Merge::Subtract && s.len() != 2 {
            return Err(Error::value(format!(
                "A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape={:?}",
                s.iter().map(|x| x.to_string()).collect::<Vec<_>>()
            )));
        }
        let batch = s.iter().find_map(|x| x.0.first().copied().flatten());
        let mut out: Vec<Option<usize>> = s[0].0.get(1..).unwrap_or(&[]).to_vec();
        for x in &s[1..] {
            out = elemwise_shape(&out, x.0.get(1..).unwrap_or(&[]))?;
        }
        let mut full = vec![batch];
        full.extend(out);
        Ok(vec![Shape(full)])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        Ok(vec![ops::elementwise(inputs, self.how)?])
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn compute_mask(&self, _: &[Tensor], masks: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![all_masks(masks)?])
    }
}

/// The steps every input keeps (the product of the masks present), as Keras's merge layers.
pub(crate) fn all_masks(masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
    let mut out: Option<Tensor> = None;
    for m in masks.iter().flatten() {
        out = Some(match out {
            None => m.clone(),
            Some(o) => o.broadcast_mul(m)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;
    use crate::ops::Device;

    #[test]
    fn shapes_broadcast_and_mismatch_errors() {
        let y = Add::new()
            .call_many(&[Input::new([3, 4]), Input::new([1, 4])])
            .unwrap();
        assert_eq!(y[0].shape().to_string(), "(None, 3, 4)");
        let e = Add::new()
            .call_many(&[Input::new([3]), Input::new([4])])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "Inputs have incompatible shapes. Received shapes (3,) and (4,)"
        );
        assert!(Subtract::new()
            .call_many(&[Input::new([3]), Input::new([3]), Input::new([3])])
            .is_err());
        assert_eq!(y[0].layer().count_params(), 0);
    }

    #[test]
    fn every_merge_computes_the_right_values() {
        let a = Tensor::new(&[[1f32, 5.0]], &Device::Cpu).unwrap();
        let b = Tensor::new(&[[3f32, 2.0]], &Device::Cpu).unwrap();
        let cases = [
            (Add::new(), [4.0, 7.0]),
            (Subtract::new(), [-2.0, 3.0]),
            (Multiply::new(), [3.0, 10.0]),
            (Average::new(), [2.0, 3.5]),
            (Maximum::new(), [3.0, 5.0]),
            (Minimum::new(), [1.0, 2.0]),
        ];
        for (layer, want) in cases {
            let l = layer.into_layer();
            let y = l.apply_many(&[a.clone(), b.clone()]).unwrap().remove(0);
            assert_eq!(
                y.to_vec2::<f32>().unwrap(),
                vec![want.to_vec()],
                "{}",
                l.class_name()
            );
        }
    }
}
