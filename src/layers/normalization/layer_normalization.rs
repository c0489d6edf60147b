//! `LayerNormalization` (`keras/src/layers/normalization/layer_normalization.py`).

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{ONES, ZEROS};
use crate::ops::{self, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Normalizes each sample over `axis` (default the last): `gamma * (x - mean) /
/// sqrt(var + epsilon) + beta`, with `gamma` and `beta` learned per feature of those axes.
/// Keras's defaults: epsilon 1e-3, center and scale on.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::LayerNormalization;
/// let y = LayerNormalization::new().call(&Input::new([10, 64]))?;
/// assert_eq!(y.layer().count_params(), 128);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct LayerNormalization {
    args: LayerArgs,
    axes: Vec<isize>,
    epsilon: f64,
    center: bool,
    scale: bool,
    resolved: Vec<usize>,
    gamma: Option<Weight>,
    beta: Option<Weight>,
}

impl Default for LayerNormalization {
    fn default() -> Self {
        LayerNormalization {
            args: LayerArgs::default(),
            axes: vec![-1],
            epsilon: 1e-3,
            center: true,
            scale: true,
            resolved: vec![],
            gamma: None,
            beta: None,
        }
    }
}

impl LayerNormalization {
    /// Over the last axis.
    pub fn new() -> Self {
        Self::default()
    }
    /// The axis to normalize over.
    pub fn axis(mut self, a: isize) -> Self {
        self.axes = vec![a];
        self
    }
    /// Several axes to normalize over together.
    pub fn axes(mut self, a: &[isize]) -> Self {
        self.axes = a.to_vec();
        self
    }
    /// Added to the variance (default 1e-3).
    pub fn epsilon(mut self, e: f64) -> Self {
        self.epsilon = e;
        self
    }
    /// Learn an offset `beta`.
    pub fn center(mut self, c: bool) -> Self {
        self.center = c;
        self
    }
    /// Learn a scale `gamma`.
    pub fn scale(mut self, s: bool) -> Self {
        self.scale = s;
        self
    }
}

impl LayerNormalization {
    /// A `LayerNormalization` from its Keras config (`axis`: one axis or a list).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let axes = match c.get("axis") {
            None => vec![-1],
            Some(_) => c.isizes("axis")?,
        };
        let l = LayerNormalization::new()
            .axes(&axes)
            .epsilon(c.f64_or("epsilon", 1e-3)?)
            .center(c.bool_or("center", true)?)
            .scale(c.bool_or("scale", true)?);
        apply_base_config(l, c)
    }
}

impl Layer for LayerNormalization {
    /// Statistics in float32 under a mixed policy, as Keras's.
    fn compute_in_float32(&self) -> bool {
        true
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "LayerNormalization"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        // As Keras: one axis is written as an int until the layer is built, then (as Keras's
        // build turns it into one) as a sorted list.
        let axis = if self.axes.len() == 1 && self.resolved.is_empty() {
            json!(self.axes[0])
        } else {
            let mut a = self.axes.clone();
            a.sort_unstable();
            json!(a)
        };
        Ok(config(
            json!({"axis": axis, "epsilon": self.epsilon, "center": self.center, "scale": self.scale}),
        ))
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        let rank = s[0].rank();
        let mut axes = vec![];
        for &a in &self.axes {
            let r = ops::normalize_axis(a, rank).map_err(|_| {
                Error::value(format!(
                    "Axis {a} is out of bounds for input shape {}. Received: axis={:?}",
                    s[0], self.axes
                ))
            })?;
            if r == 0 {
                return Err(Error::value(
                    "LayerNormalization cannot normalize over the batch axis",
                ));
            }
            axes.push(r);
        }
        axes.sort_unstable();
        axes.dedup();
        let mut shape = vec![];
        for &a in &axes {
            shape.push(s[0].0[a].ok_or_else(|| {
                Error::value(format!(
                    "LayerNormalization: axis {a} of the input {} must be defined",
                    s[0]
                ))
            })?);
        }
        if self.scale {
            self.gamma = Some(w.add("gamma", &shape, &ONES, None, true)?);
        }
        if self.center {
            self.beta = Some(w.add("beta", &shape, &ZEROS, None, true)?);
        }
        self.resolved = axes;
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        // gamma / beta reshaped to broadcast: their sizes on the normalized axes, 1 elsewhere.
        let mut bshape = vec![1; x.rank()];
        for &a in &self.resolved {
            bshape[a] = x.dim(a)?;
        }
        let shape = |w: &Option<Weight>| -> Result<Option<Tensor>> {
            w.as_ref()
                .map(|w| Ok(ops::cast(&w.value(), x.dtype())?.reshape(bshape.as_slice())?))
                .transpose()
        };
        let (g, b) = (shape(&self.gamma)?, shape(&self.beta)?);
        Ok(vec![ops::normalize(
            x,
            &self.resolved,
            g.as_ref(),
            b.as_ref(),
            self.epsilon,
        )?])
    }
}
