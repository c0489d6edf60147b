//! `BatchNormalization`: normalize with batch statistics while training, moving averages at
//! inference (`keras/src/layers/normalization/batch_normalization.py`).

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{ONES, ZEROS};
use crate::layers::data_format::{move_axis_last, move_last_to};
use crate::ops::{self, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Normalizes the feature axis `axis` (default -1, the last; any axis, negative counting from
/// the end, e.g. `axis(1)` after a `channels_first` convolution):
/// `gamma * (x - mean) / sqrt(var + epsilon) + beta`, with the
/// batch's mean and variance while training (updating the moving averages) and the moving
/// averages otherwise. `moving_mean` and `moving_variance` are non-trainable weights. A frozen
/// layer (`trainable(false)`) always runs in inference mode, as in Keras 3.
///
/// Defaults as Keras: axis -1, momentum 0.99, epsilon 1e-3, center and scale. Another axis
/// than the last is moved last once per call (one transpose in, one out) and normalized there.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::BatchNormalization;
/// let y = BatchNormalization::new().call(&Input::new([32]))?;
/// let bn = y.layer();
/// assert_eq!(bn.count_params(), 4 * 32);
/// assert_eq!(bn.trainable_weights().len(), 2);
/// assert_eq!(bn.non_trainable_weights().len(), 2);
/// let y = BatchNormalization::new().axis(1).call(&Input::new([3, 8, 8]))?;
/// assert_eq!(y.layer().count_params(), 4 * 3);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct BatchNormalization {
    args: LayerArgs,
    momentum: f64,
    epsilon: f64,
    center: bool,
    scale: bool,
    axis: isize,
    synchronized: bool,
    /// `axis` counted from the front, and the input rank, once built.
    resolved: Option<(usize, usize)>,
    channels: Option<usize>,
    gamma: Option<Weight>,
    beta: Option<Weight>,
    moving_mean: Option<Weight>,
    moving_variance: Option<Weight>,
}

impl Default for BatchNormalization {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchNormalization {
    /// Keras's defaults.
    pub fn new() -> Self {
        BatchNormalization {
            args: LayerArgs::default(),
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
            axis: -1,
            synchronized: false,
            resolved: None,
            channels: None,
            gamma: None,
            beta: None,
            moving_mean: None,
            moving_variance: None,
        }
    }
    /// Momentum of the moving averages.
    pub fn momentum(mut self, m: f64) -> Self {
        self.momentum = m;
        self
    }
    /// Added to the variance.
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
    /// The feature axis (default -1, the last; 1 for `channels_first` images).
    pub fn axis(mut self, a: isize) -> Self {
        self.axis = a;
        self
    }
    /// In a data-parallel job ([`crate::distribution`]), normalize each training batch with
    /// the statistics of the global batch (every process's rows) instead of this process's
    /// slice, so the step and the moving statistics are those of one process on the whole
    /// batch, the same on every process. Default `false`: each process's own statistics (and
    /// own moving averages), as Keras's on TensorFlow. Keras accepts `true` on TensorFlow
    /// only; here it works with any launcher, and outside such a job it changes nothing.
    ///
    /// ```
    /// use keras::layers::BatchNormalization;
    /// use keras::prelude::*;
    /// let y = BatchNormalization::new().synchronized(true).call(&Input::new([8]))?;
    /// assert_eq!(y.layer().serialize()?["config"]["synchronized"], true);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn synchronized(mut self, s: bool) -> Self {
        self.synchronized = s;
        self
    }
}

impl BatchNormalization {
    /// A `BatchNormalization` from its Keras config (`renorm=True` is refused).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        if c.bool_or("renorm", false)? {
            return Err(Error::value(
                "BatchNormalization: renorm=True is not supported",
            ));
        }
        let l = BatchNormalization::new()
            .axis(c.isize_or("axis", -1)?)
            .momentum(c.f64_or("momentum", 0.99)?)
            .epsilon(c.f64_or("epsilon", 1e-3)?)
            .center(c.bool_or("center", true)?)
            .scale(c.bool_or("scale", true)?)
            .synchronized(c.bool_or("synchronized", false)?);
        apply_base_config(l, c)
    }
}

impl BatchNormalization {
    /// `axis` counted from the front for an input of shape `s`, or Keras's error.
    fn resolve_axis(&self, s: &Shape) -> Result<usize> {
        ops::normalize_axis(self.axis, s.rank()).map_err(|_| {
            Error::value(format!(
                "Axis {} is out of bounds for input shape {s}. Received: axis={}",
                self.axis, self.axis
            ))
        })
    }
}

impl Layer for BatchNormalization {
    /// Statistics in float32 under a mixed policy, as Keras's.
    fn compute_in_float32(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "BatchNormalization"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(
            json!({"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "synchronized": self.synchronized, "renorm": false, "renorm_clipping": null, "renorm_momentum": 0.99}),
        ))
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        match (self.channels, self.resolved) {
            (Some(c), Some((axis, rank))) => {
                vec![InputSpec::new().ndim(rank).axis(axis as isize, c)]
            }
            _ => vec![InputSpec::new().min_ndim(2)],
        }
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        let axis = self.resolve_axis(&s[0])?;
        let c = s[0].0[axis].ok_or_else(|| Error::value(format!("Axis {} of input tensor should have a defined dimension but the layer received an input with shape {}.", self.axis, s[0])))?;
        if self.scale {
            self.gamma = Some(w.add("gamma", &[c], &ONES, None, true)?);
        }
        if self.center {
            self.beta = Some(w.add("beta", &[c], &ZEROS, None, true)?);
        }
        self.moving_mean = Some(w.add("moving_mean", &[c], &ZEROS, None, false)?);
        self.moving_variance = Some(w.add("moving_variance", &[c], &ONES, None, false)?);
        self.channels = Some(c);
        self.resolved = Some((axis, s[0].rank()));
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        self.resolve_axis(&s[0])?;
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let (mm, mv) = match (&self.moving_mean, &self.moving_variance) {
            (Some(m), Some(v)) => (m, v),
            _ => return Err(Error::runtime("BatchNormalization called before build")),
        };
        let axis = match self.resolved {
            Some((a, _)) => a,
            None => ops::normalize_axis(self.axis, inputs[0].rank())?,
        };
        // The feature axis last (a no-op for the default axis -1).
        let x = &move_axis_last(&inputs[0], axis)?;
        let c = *x.dims().last().unwrap_or(&1);
        // Channels last, every other axis rows: no reshape (each would be one more node for
        // the backward pass to fill and add into).
        let x2 = ops::cast(x, mm.dtype())?;
        // A frozen layer runs in inference mode (Keras 3).
        let frozen = self
            .gamma
            .as_ref()
            .or(self.beta.as_ref())
            .is_some_and(|w| !w.trainable());
        let stats = if ctx.training && !frozen {
            let sum = if self.synchronized {
                crate::distribution::cross_process_sum()
            } else {
                None
            };
            let batch = ops::batch_moments(&x2, sum)?;
            let m = self.momentum;
            let upd = |w: &Weight, batch: &[f64]| -> Result<()> {
                let old = ops::to_vec_f64(&w.numpy()?)?;
                let new: Vec<f64> = old
                    .iter()
                    .zip(batch)
                    .map(|(o, b)| o * m + b * (1.0 - m))
                    .collect();
                w.assign(&ops::from_vec(new, &[c])?)
            };
            upd(mm, &batch.mean)?;
            upd(mv, &batch.var)?;
            ops::BnStats::Batch(batch)
        } else {
            ops::BnStats::Given(
                ops::to_vec_f64(&mm.numpy()?)?,
                ops::to_vec_f64(&mv.numpy()?)?,
            )
        };
        let ones = || Tensor::ones(c, x2.dtype(), x2.device());
        let gamma = match &self.gamma {
            Some(g) => g.value(),
            None => ones()?,
        };
        let beta = match &self.beta {
            Some(b) => b.value(),
            None => ones()?.zeros_like()?,
        };
        let y = ops::batch_norm(&x2, &gamma, &beta, self.epsilon, stats)?;
        Ok(vec![move_last_to(&y, axis)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{context, LayerExt};
    use crate::testing::check_gradient;

    #[test]
    fn training_normalizes_and_updates_moving_stats() {
        let bn = BatchNormalization::new().momentum(0.5).into_layer();
        let x = ((crate::random::normal(&[64, 3]).unwrap() * 2.0).unwrap() + 5.0).unwrap();
        let y = {
            let _t = context::set_training(true);
            bn.apply(&x).unwrap()
        };
        let mean = y.mean(0).unwrap().to_vec1::<f32>().unwrap();
        assert!(mean.iter().all(|m| m.abs() < 1e-4), "{mean:?}");
        let w = bn.get_weights().unwrap();
        let mm = w[2].to_vec1::<f32>().unwrap();
        let bm = x.mean(0).unwrap().to_vec1::<f32>().unwrap();
        for (a, b) in mm.iter().zip(&bm) {
            assert!((a - 0.5 * b).abs() < 1e-4);
        }
        // Inference uses the moving statistics, so it does not centre the batch.
        let yi = bn.apply(&x).unwrap();
        assert!(yi.mean(0).unwrap().to_vec1::<f32>().unwrap()[0] > 1.0);
    }

    #[test]
    fn gradient_through_batch_statistics() {
        let bn = BatchNormalization::new()
            .dtype(crate::ops::DType::F64)
            .into_layer();
        bn.build(&[Shape::batched([3])]).unwrap();
        let x = crate::random::normal(&[5, 3])
            .unwrap()
            .to_dtype(crate::ops::DType::F64)
            .unwrap();
        let r = crate::random::normal(&[5, 3])
            .unwrap()
            .to_dtype(crate::ops::DType::F64)
            .unwrap();
        let _t = context::set_training(true);
        check_gradient(
            &[x],
            |v| Ok(bn.apply(&v[0])?.mul(&r)?.sum_all()?),
            1e-6,
            1e-5,
        )
        .unwrap();
    }
}
