//! `LossScaleOptimizer`: dynamic loss scaling around another optimizer.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::{self, DType, Device, Tensor};
use crate::serialization::{json, Cfg, Config, Value};
use crate::{Error, Result};

/// Wraps an optimizer with dynamic loss scaling, as `keras.optimizers.LossScaleOptimizer`:
/// the loss is multiplied by the scale ([`Optimizer::scale_loss`]), gradients divided by it;
/// a step with a non-finite gradient is skipped and halves the scale, and every
/// `dynamic_growth_steps` finite steps double it.
///
/// ```
/// use keras::prelude::*;
/// use keras::optimizers::LossScaleOptimizer;
/// let opt = LossScaleOptimizer::new(SGD::new().momentum(0.5)).initial_scale(8.0);
/// assert_eq!(opt.get_config()["config"]["inner_optimizer"]["class_name"], "SGD");
/// assert_eq!(opt.get_learning_rate(), 0.01);
/// ```
pub struct LossScaleOptimizer {
    base: OptimizerBase,
    inner: Box<dyn Optimizer>,
    initial_scale: f64,
    dynamic_growth_steps: u64,
    step_counter: u64,
    dynamic_scale: f64,
}

impl LossScaleOptimizer {
    /// Wraps `inner` (initial scale 2^15, doubling after 2000 finite steps).
    pub fn new(inner: impl Optimizer + 'static) -> Self {
        Self::wrap(Box::new(inner))
    }

    /// Wraps a boxed optimizer.
    pub fn wrap(mut inner: Box<dyn Optimizer>) -> Self {
        // Keras: the inner optimizer's own loss scaling is disabled.
        inner.base_mut().loss_scale_factor = None;
        LossScaleOptimizer {
            base: OptimizerBase::new("LossScaleOptimizer", 0.0),
            inner,
            initial_scale: 32768.0,
            dynamic_growth_steps: 2000,
            step_counter: 0,
            dynamic_scale: 32768.0,
        }
    }

    /// The starting loss scale.
    pub fn initial_scale(mut self, v: f64) -> Self {
        self.initial_scale = v;
        self.dynamic_scale = v as f32 as f64;
        self
    }

    /// Double the scale after this many finite steps.
    pub fn dynamic_growth_steps(mut self, n: u64) -> Self {
        self.dynamic_growth_steps = n;
        self
    }

    /// The current loss scale.
    pub fn dynamic_scale(&self) -> f64 {
        self.dynamic_scale
    }

    /// Reads Keras's config (`inner_optimizer` a serialized optimizer).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let inner = c
            .get("inner_optimizer")
            .ok_or_else(|| c.bad("inner_optimizer", "a serialized optimizer"))?;
        let mut o = Self::wrap(super::from_config(inner)?)
            .initial_scale(c.f64_or("initial_scale", 32768.0)?)
            .dynamic_growth_steps(c.usize_or("dynamic_growth_steps", 2000)? as u64);
        if let Some(n) = c.opt_str("name")? {
            o.base.name = n.to_string();
        }
        if c.get("dynamic") == Some(&Value::Bool(false)) {
            return Err(Error::value(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set `loss_scale_factor` directly on the `inner_optimizer`.",
            ));
        }
        // Older configs carry the base arguments at their defaults; anything else is refused.
        let defaults = [
            ("weight_decay", Value::Null),
            ("clipnorm", Value::Null),
            ("global_clipnorm", Value::Null),
            ("clipvalue", Value::Null),
            ("use_ema", json!(false)),
            ("ema_momentum", json!(0.99)),
            ("ema_overwrite_frequency", Value::Null),
            ("loss_scale_factor", Value::Null),
            ("gradient_accumulation_steps", Value::Null),
        ];
        for (k, v) in c.map {
            let known = [
                "name",
                "inner_optimizer",
                "initial_scale",
                "dynamic_growth_steps",
                "dynamic",
            ];
            match defaults.iter().find(|(d, _)| d == k) {
                Some((_, d)) if d == v || (d.is_number() && d.as_f64() == v.as_f64()) => {}
                Some(_) => {
                    return Err(Error::value(format!(
                        "LossScaleOptimizer does not support `{k}`. Instead, set `{k}` on the `inner_optimizer`."
                    )))
                }
                None if known.contains(&k.as_str()) => {}
                None => {
                    return Err(Error::value(format!(
                        "LossScaleOptimizer does not support arguments: `{k}`."
                    )))
                }
            }
        }
        Ok(o)
    }

    fn own_variables(&self) -> Result<Vec<Tensor>> {
        let s =
            |v: f64, d: DType| -> Result<Tensor> { Ok(Tensor::new(v, &Device::Cpu)?.to_dtype(d)?) };
        Ok(vec![
            s(self.base.iterations as f64, DType::I64)?,
            s(0.0, DType::F32)?,
            s(self.step_counter as f64, DType::I64)?,
            s(self.dynamic_scale, DType::F32)?,
        ])
    }
}

fn finite(g: &Tensor) -> Result<bool> {
    // inf * 0 and NaN * 0 are NaN.
    Ok(!ops::scalar(&(g * 0.0)?.sum_all()?.to_dtype(DType::F64)?)?.is_nan())
}

impl Optimizer for LossScaleOptimizer {
    fn class_name(&self) -> &str {
        "LossScaleOptimizer"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        self.inner.build(b, weights)
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        self.inner.update_step(s, g, var, lr)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("name".into(), json!(self.base.name));
        c.insert("inner_optimizer".into(), self.inner.get_config());
        c.insert("initial_scale".into(), json!(self.initial_scale));
        c.insert(
            "dynamic_growth_steps".into(),
            json!(self.dynamic_growth_steps),
        );
        c
    }
    fn get_config(&self) -> Value {
        crate::serialization::object(
            "keras.optimizers",
            "LossScaleOptimizer",
            Value::Object(self.own_config()),
        )
    }
    fn validate(&self) -> Result<()> {
        if self.initial_scale.is_nan()
            || self.initial_scale <= 0.0
            || self.dynamic_growth_steps == 0
        {
            return Err(Error::value(format!(
                "LossScaleOptimizer: `initial_scale` must be > 0 and `dynamic_growth_steps` >= 1. Received: initial_scale={}, dynamic_growth_steps={}",
                super::base::py_f64(self.initial_scale),
                self.dynamic_growth_steps
            )));
        }
        self.inner.validate()
    }
    fn get_learning_rate(&self) -> f64 {
        self.inner.get_learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.inner.set_learning_rate(lr)
    }
    fn try_set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.inner.try_set_learning_rate(lr)
    }
    fn iterations(&self) -> u64 {
        self.inner.iterations()
    }
    fn set_iterations(&mut self, n: u64) {
        self.inner.set_iterations(n)
    }
    fn apply_gradients(&mut self, grads_and_vars: &[(Tensor, Weight)]) -> Result<()> {
        if grads_and_vars.is_empty() {
            return Ok(());
        }
        self.validate()?;
        let mut all_finite = true;
        for (g, _) in grads_and_vars {
            all_finite &= finite(g)?;
        }
        if !all_finite {
            self.step_counter = 0;
            self.dynamic_scale = (self.dynamic_scale * 0.5) as f32 as f64;
            return Ok(());
        }
        let unscaled: Vec<(Tensor, Weight)> = grads_and_vars
            .iter()
            .map(|(g, w)| Ok(((g / self.dynamic_scale)?, w.clone())))
            .collect::<Result<_>>()?;
        self.inner.apply_gradients(&unscaled)?;
        if self.step_counter + 1 == self.dynamic_growth_steps {
            self.step_counter = 0;
            self.dynamic_scale = (self.dynamic_scale * 2.0) as f32 as f64;
        } else {
            self.step_counter += 1;
        }
        Ok(())
    }
    fn scale_loss(&self, loss: &Tensor) -> Result<Tensor> {
        Ok((loss * self.dynamic_scale)?)
    }
    fn finalize_variable_values(&mut self, weights: &[Weight]) -> Result<()> {
        self.inner.finalize_variable_values(weights)
    }
    fn inner_optimizer(&self) -> Option<&dyn Optimizer> {
        Some(self.inner.as_ref())
    }
    fn variables_for(&self, w: &Weight) -> Result<Vec<Tensor>> {
        self.inner.variables_for(w)
    }
    fn set_variables_for(&mut self, w: &Weight, values: &[Tensor]) -> Result<()> {
        self.inner.set_variables_for(w, values)
    }
    fn save_own_variables(&self, weights: &[Weight]) -> Result<Vec<Tensor>> {
        let mut v = self.own_variables()?;
        v.extend(self.inner.save_own_variables(weights)?);
        Ok(v)
    }
    fn load_own_variables(&mut self, weights: &[Weight], values: &[Tensor]) -> Result<()> {
        if values.len() < 4 {
            eprintln!(
                "WARNING: Skipping variable loading for optimizer '{}', because the saved optimizer has {} variables.",
                self.base.name,
                values.len()
            );
            return Ok(());
        }
        let num = |i: usize| -> Result<f64> {
            Ok(ops::to_vec_f64(&values[i])?.first().copied().unwrap_or(0.0))
        };
        self.base.iterations = num(0)?.max(0.0) as u64;
        self.step_counter = num(2)?.max(0.0) as u64;
        self.dynamic_scale = num(3)?;
        self.inner.load_own_variables(weights, &values[4..])
    }
    fn state_size(&self) -> (usize, f64) {
        let (n, b) = self.inner.state_size();
        (n + 4, b + 16.0)
    }
}
