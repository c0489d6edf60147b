//! `Adafactor`: factored second moments.

use super::{Builder, LearningRate, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::{self, DType, Tensor};
use crate::serialization::{json, Cfg, Config};
use crate::Result;

/// Adafactor (learning rate 0.001, beta_2_decay -0.8, epsilon_1 1e-30, epsilon_2 1e-3,
/// clip threshold 1, relative step), as `keras.optimizers.Adafactor`: the second moment of
/// a weight of rank >= 2 is kept as its row and column means (`r`, `c`) over the last two
/// axes; lower ranks keep placeholders there and the full moment in `velocity`.
///
/// ```
/// use keras::prelude::*;
/// let opt = Adafactor::new().relative_step(false);
/// assert_eq!(opt.get_config()["config"]["relative_step"], false);
/// ```
#[derive(Debug)]
pub struct Adafactor {
    base: OptimizerBase,
    beta_2_decay: f64,
    epsilon_1: f64,
    epsilon_2: f64,
    clip_threshold: f64,
    relative_step: bool,
}

impl Default for Adafactor {
    fn default() -> Self {
        Self::new()
    }
}

const KEYS: &[&str] = &[
    "beta_2_decay",
    "epsilon_1",
    "epsilon_2",
    "clip_threshold",
    "relative_step",
];

impl Adafactor {
    /// Keras's defaults.
    pub fn new() -> Self {
        Adafactor {
            base: OptimizerBase::new("Adafactor", 0.001),
            beta_2_decay: -0.8,
            epsilon_1: 1e-30,
            epsilon_2: 1e-3,
            clip_threshold: 1.0,
            relative_step: true,
        }
    }
    /// The second moment's decay is `1 - step ^ beta_2_decay`.
    pub fn beta_2_decay(mut self, v: f64) -> Self {
        self.beta_2_decay = v;
        self
    }
    /// Added to the squared gradient.
    pub fn epsilon_1(mut self, v: f64) -> Self {
        self.epsilon_1 = v;
        self
    }
    /// The smallest scale of a step, relative to the weight's RMS.
    pub fn epsilon_2(mut self, v: f64) -> Self {
        self.epsilon_2 = v;
        self
    }
    /// The unscaled step's RMS is clipped to this.
    pub fn clip_threshold(mut self, v: f64) -> Self {
        self.clip_threshold = v;
        self
    }
    /// Cap a float learning rate at `1 / sqrt(step)`.
    pub fn relative_step(mut self, v: bool) -> Self {
        self.relative_step = v;
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Self::new()
            .beta_2_decay(c.f64_or("beta_2_decay", -0.8)?)
            .epsilon_1(c.f64_or("epsilon_1", 1e-30)?)
            .epsilon_2(c.f64_or("epsilon_2", 1e-3)?)
            .clip_threshold(c.f64_or("clip_threshold", 1.0)?)
            .relative_step(c.bool_or("relative_step", true)?);
        o.base.read_config(c, KEYS)?;
        Ok(o)
    }
}

fn rms(x: &Tensor) -> Result<f64> {
    Ok(ops::scalar(&x.sqr()?.mean_all()?)?.sqrt())
}

impl Optimizer for Adafactor {
    fn class_name(&self) -> &str {
        "Adafactor"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        for w in weights {
            let shape = w.shape();
            let n = shape.len();
            if n < 2 {
                // Keras keeps two int32 placeholders for weights it does not factor.
                b.add_variable(Some(w), "r", &[], DType::I64, 0.0);
                b.add_variable(Some(w), "c", &[], DType::I64, 0.0);
            } else {
                let r: Vec<usize> = shape[..n - 1].to_vec();
                let mut c: Vec<usize> = shape[..n - 2].to_vec();
                c.push(shape[n - 1]);
                b.add_variable(Some(w), "r", &r, w.dtype(), 0.0);
                b.add_variable(Some(w), "c", &c, w.dtype(), 0.0);
            }
            b.add_variable_from_reference(w, "velocity", 0.0);
        }
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let step = (s.iterations() + 1) as f32;
        let inv_sqrt = (1.0 / step.sqrt()) as f64;
        // Keras caps a float rate only (a schedule is a callable there).
        let scheduled = matches!(self.base.learning_rate, LearningRate::Schedule(_));
        let lr = if !scheduled && self.relative_step {
            lr.min(inv_sqrt)
        } else {
            lr
        };
        let rho_t = lr.min(inv_sqrt);
        let alpha_t = self.epsilon_2.max(rms(var)?) * rho_t;
        let squared = (g.sqr()? + self.epsilon_1)?;
        let beta_2_t = 1.0 - (step.powf(self.beta_2_decay as f32)) as f64;
        let rank = var.rank();
        let v = if rank >= 2 {
            let r = ((s.get("r")? * beta_2_t)? + (squared.mean(rank - 1)? * (1.0 - beta_2_t))?)?;
            let c = ((s.get("c")? * beta_2_t)? + (squared.mean(rank - 2)? * (1.0 - beta_2_t))?)?;
            s.set("r", &r)?;
            s.set("c", &c)?;
            let r_norm = r.broadcast_div(&r.mean_keepdim(rank - 2)?)?;
            r_norm
                .unsqueeze(rank - 1)?
                .broadcast_mul(&c.unsqueeze(rank - 2)?)?
        } else {
            ((s.get("velocity")? * beta_2_t)? + (squared * (1.0 - beta_2_t))?)?
        };
        s.set("velocity", &v)?;
        let u = (g / v.sqrt()?)?;
        let u_hat = (&u / (rms(&u)? / self.clip_threshold).max(1.0))?;
        Ok((var - (u_hat * alpha_t)?)?)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("beta_2_decay".into(), json!(self.beta_2_decay));
        c.insert("epsilon_1".into(), json!(self.epsilon_1));
        c.insert("epsilon_2".into(), json!(self.epsilon_2));
        c.insert("clip_threshold".into(), json!(self.clip_threshold));
        c.insert("relative_step".into(), json!(self.relative_step));
        c
    }
}
