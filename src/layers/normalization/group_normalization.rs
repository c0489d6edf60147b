//! `GroupNormalization` (`keras/src/layers/normalization/group_normalization.py`).

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{self, ONES, ZEROS};
use crate::ops::{self, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Splits the channels (`axis`, default the last) into `groups` and normalizes each sample
/// over every other axis within each group, then scales and shifts per channel. `groups(-1)`
/// is instance normalization (one channel per group). Keras's defaults: 32 groups, epsilon
/// 1e-3.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::GroupNormalization;
/// let y = GroupNormalization::new().groups(4).call(&Input::new([8, 8, 16]))?;
/// assert_eq!(y.layer().count_params(), 32);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct GroupNormalization {
    args: LayerArgs,
    groups: isize,
    axis: isize,
    epsilon: f64,
    center: bool,
    scale: bool,
    resolved: (usize, usize),
    gamma: Option<Weight>,
    beta: Option<Weight>,
}

impl Default for GroupNormalization {
    fn default() -> Self {
        GroupNormalization {
            args: LayerArgs::default(),
            groups: 32,
            axis: -1,
            epsilon: 1e-3,
            center: true,
            scale: true,
            resolved: (0, 0),
            gamma: None,
            beta: None,
        }
    }
}

impl GroupNormalization {
    /// 32 groups over the last axis.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of groups; must divide the channels (-1: one per channel).
    pub fn groups(mut self, g: isize) -> Self {
        self.groups = g;
        self
    }
    /// The channel axis.
    pub fn axis(mut self, a: isize) -> Self {
        self.axis = a;
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

impl GroupNormalization {
    /// A `GroupNormalization` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = GroupNormalization::new()
            .groups(c.isize_or("groups", 32)?)
            .axis(c.isize_or("axis", -1)?)
            .epsilon(c.f64_or("epsilon", 1e-3)?)
            .center(c.bool_or("center", true)?)
            .scale(c.bool_or("scale", true)?);
        apply_base_config(l, c)
    }
}

impl Layer for GroupNormalization {
    /// Statistics in float32 under a mixed policy, as Keras's.
    fn compute_in_float32(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "GroupNormalization"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "beta_initializer": initializers::serialize(&ZEROS), "gamma_initializer": initializers::serialize(&ONES),
            "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null,
        })))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        if self.groups == 0 || self.groups < -1 {
            return Err(Error::value(format!(
                "Received an invalid value for argument `groups`, expected a positive integer (or `-1` for instance normalization). Received: groups={}",
                self.groups
            )));
        }
        let axis = ops::normalize_axis(self.axis, s[0].rank())?;
        let c = s[0].0[axis].ok_or_else(|| {
            Error::value(format!(
                "Axis {} of input tensor should have a defined dimension but the layer received an input with shape {}.",
                self.axis, s[0]
            ))
        })?;
        let groups = if self.groups == -1 {
            c
        } else {
            self.groups as usize
        };
        if groups > c {
            return Err(Error::value(format!(
                "Number of groups ({groups}) cannot be more than the number of channels ({c})."
            )));
        }
        if c % groups != 0 {
            return Err(Error::value(format!(
                "Number of groups ({groups}) must be a multiple of the number of channels ({c})."
            )));
        }
        if self.scale {
            self.gamma = Some(w.add("gamma", &[c], &ONES, None, true)?);
        }
        if self.center {
            self.beta = Some(w.add("beta", &[c], &ZEROS, None, true)?);
        }
        self.resolved = (axis, groups);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        let (axis, groups) = self.resolved;
        let dims = x.dims().to_vec();
        let c = dims[axis];
        // (..., C, ...) -> (..., G, C / G, ...): statistics over all but batch and group axes.
        let mut split = dims[..axis].to_vec();
        split.extend([groups, c / groups]);
        split.extend_from_slice(&dims[axis + 1..]);
        let xs = x.reshape(split.as_slice())?;
        let reduce: Vec<usize> = (1..split.len()).filter(|&a| a != axis).collect();
        let mut bshape = vec![1; split.len()];
        bshape[axis] = groups;
        bshape[axis + 1] = c / groups;
        let shape = |w: &Option<Weight>| -> Result<Option<Tensor>> {
            w.as_ref()
                .map(|w| Ok(ops::cast(&w.value(), x.dtype())?.reshape(bshape.as_slice())?))
                .transpose()
        };
        let (g, b) = (shape(&self.gamma)?, shape(&self.beta)?);
        let y = ops::normalize(&xs, &reduce, g.as_ref(), b.as_ref(), self.epsilon)?;
        Ok(vec![y.reshape(dims.as_slice())?])
    }
}
