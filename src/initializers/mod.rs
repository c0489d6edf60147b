//! Weight initializers, as `keras.initializers`, with Keras 3's formulas and defaults.
//!
//! Values come from the global generator, so `keras::utils::set_random_seed` makes them
//! repeatable. (The numbers differ from Python Keras's, whose generator is JAX's; the
//! distributions are the same.)
//!
//! ```
//! use keras::initializers::{self, Initialize};
//! use keras::DType;
//! let w = initializers::get("he_normal")?.init(&[784, 64], DType::F32)?;
//! assert_eq!(w.dims(), &[784, 64]);
//! # Ok::<(), keras::Error>(())
//! ```

use crate::ops::{self, random, DType, Tensor};
use crate::{Error, Result};
use std::sync::Arc;

mod initializer;

pub use initializer::{Initialize, InitializerArg};

/// Keras's `compute_fans`: (fan_in, fan_out) of a weight shape.
pub fn compute_fans(shape: &[usize]) -> (f64, f64) {
    match shape {
        [] => (1.0, 1.0),
        [n] => (*n as f64, *n as f64),
        [a, b] => (*a as f64, *b as f64),
        _ => {
            let rf: usize = shape[..shape.len() - 2].iter().product();
            (
                (shape[shape.len() - 2] * rf) as f64,
                (shape[shape.len() - 1] * rf) as f64,
            )
        }
    }
}

fn tensor(values: Vec<f64>, shape: &[usize], dtype: DType) -> Result<Tensor> {
    ops::cast(&ops::from_vec(values, shape)?, dtype)
}

fn n(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Normal values redrawn until within two standard deviations (as `truncated_normal`).
fn truncated(rng: &mut random::Rng, count: usize, mean: f64, stddev: f64) -> Vec<f64> {
    (0..count)
        .map(|_| loop {
            let z = rng.normal();
            if z.abs() <= 2.0 {
                break mean + stddev * z;
            }
        })
        .collect()
}

/// How [`VarianceScaling`] counts the fan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FanMode {
    /// Number of inputs.
    FanIn,
    /// Number of outputs.
    FanOut,
    /// Their average.
    FanAvg,
}

/// The distribution of [`VarianceScaling`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    /// Normal truncated at two standard deviations (rescaled to keep the variance).
    TruncatedNormal,
    /// Plain normal.
    UntruncatedNormal,
    /// Uniform in `[-limit, limit]`.
    Uniform,
}

/// Keras's `VarianceScaling`: the family behind glorot / he / lecun.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarianceScaling {
    /// Scaling factor.
    pub scale: f64,
    /// Which fan divides the scale.
    pub mode: FanMode,
    /// The distribution.
    pub distribution: Distribution,
}

impl Initialize for VarianceScaling {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let (fan_in, fan_out) = compute_fans(shape);
        let fan = match self.mode {
            FanMode::FanIn => fan_in,
            FanMode::FanOut => fan_out,
            FanMode::FanAvg => (fan_in + fan_out) / 2.0,
        };
        let scale = self.scale / fan.max(1.0);
        let mut rng = random::fork();
        let v = match self.distribution {
            Distribution::TruncatedNormal => truncated(
                &mut rng,
                n(shape),
                0.0,
                scale.sqrt() / 0.879_625_661_034_239_8,
            ),
            Distribution::UntruncatedNormal => {
                (0..n(shape)).map(|_| scale.sqrt() * rng.normal()).collect()
            }
            Distribution::Uniform => {
                let limit = (3.0 * scale).sqrt();
                (0..n(shape))
                    .map(|_| (rng.uniform() * 2.0 - 1.0) * limit)
                    .collect()
            }
        };
        tensor(v, shape, dtype)
    }
    fn class_name(&self) -> String {
        "VarianceScaling".into()
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        let mode = match self.mode {
            FanMode::FanIn => "fan_in",
            FanMode::FanOut => "fan_out",
            FanMode::FanAvg => "fan_avg",
        };
        let distribution = match self.distribution {
            Distribution::TruncatedNormal => "truncated_normal",
            Distribution::UntruncatedNormal => "untruncated_normal",
            Distribution::Uniform => "uniform",
        };
        as_map(serde_json::json!({
            "scale": self.scale,
            "mode": mode,
            "distribution": distribution,
            "seed": null,
        }))
    }
}

/// A named preset of [`VarianceScaling`] (`GlorotUniform`, `HeNormal`, ...).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preset {
    name: &'static str,
    vs: VarianceScaling,
}

impl Initialize for Preset {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        self.vs.init(shape, dtype)
    }
    fn class_name(&self) -> String {
        self.name.into()
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        as_map(serde_json::json!({"seed": null}))
    }
}

const fn preset(
    name: &'static str,
    scale: f64,
    mode: FanMode,
    distribution: Distribution,
) -> Preset {
    Preset {
        name,
        vs: VarianceScaling {
            scale,
            mode,
            distribution,
        },
    }
}

/// Glorot (Xavier) uniform: the default kernel initializer.
pub const GLOROT_UNIFORM: Preset =
    preset("GlorotUniform", 1.0, FanMode::FanAvg, Distribution::Uniform);
/// Glorot (Xavier) normal.
pub const GLOROT_NORMAL: Preset = preset(
    "GlorotNormal",
    1.0,
    FanMode::FanAvg,
    Distribution::TruncatedNormal,
);
/// He normal.
pub const HE_NORMAL: Preset = preset(
    "HeNormal",
    2.0,
    FanMode::FanIn,
    Distribution::TruncatedNormal,
);
/// He uniform.
pub const HE_UNIFORM: Preset = preset("HeUniform", 2.0, FanMode::FanIn, Distribution::Uniform);
/// LeCun normal.
pub const LECUN_NORMAL: Preset = preset(
    "LecunNormal",
    1.0,
    FanMode::FanIn,
    Distribution::TruncatedNormal,
);
/// LeCun uniform.
pub const LECUN_UNIFORM: Preset =
    preset("LecunUniform", 1.0, FanMode::FanIn, Distribution::Uniform);

/// Normal values (`mean` 0, `stddev` 0.05 by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomNormal {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub stddev: f64,
}
impl Default for RandomNormal {
    fn default() -> Self {
        RandomNormal {
            mean: 0.0,
            stddev: 0.05,
        }
    }
}
impl Initialize for RandomNormal {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let mut rng = random::fork();
        tensor(
            (0..n(shape))
                .map(|_| self.mean + self.stddev * rng.normal())
                .collect(),
            shape,
            dtype,
        )
    }
    fn class_name(&self) -> String {
        "RandomNormal".into()
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        as_map(serde_json::json!({"mean": self.mean, "stddev": self.stddev, "seed": null}))
    }
}

/// Normal values within two standard deviations (`mean` 0, `stddev` 0.05 by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TruncatedNormal {
    /// Mean.
    pub mean: f64,
    /// Standard deviation before truncation.
    pub stddev: f64,
}
impl Default for TruncatedNormal {
    fn default() -> Self {
        TruncatedNormal {
            mean: 0.0,
            stddev: 0.05,
        }
    }
}
impl Initialize for TruncatedNormal {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        tensor(
            truncated(&mut random::fork(), n(shape), self.mean, self.stddev),
            shape,
            dtype,
        )
    }
    fn class_name(&self) -> String {
        "TruncatedNormal".into()
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        as_map(serde_json::json!({"mean": self.mean, "stddev": self.stddev, "seed": null}))
    }
}

/// Uniform values in `[minval, maxval)` (-0.05, 0.05 by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomUniform {
    /// Lower bound.
    pub minval: f64,
    /// Upper bound.
    pub maxval: f64,
}
impl Default for RandomUniform {
    fn default() -> Self {
        RandomUniform {
            minval: -0.05,
            maxval: 0.05,
        }
    }
}
impl Initialize for RandomUniform {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let mut rng = random::fork();
        let w = self.maxval - self.minval;
        tensor(
            (0..n(shape))
                .map(|_| self.minval + w * rng.uniform())
                .collect(),
            shape,
            dtype,
        )
    }
    fn class_name(&self) -> String {
        "RandomUniform".into()
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        as_map(serde_json::json!({"minval": self.minval, "maxval": self.maxval, "seed": null}))
    }
}

/// A constant value (`Zeros`, `Ones` and `Constant`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Constant {
    /// The value.
    pub value: f64,
}
impl Initialize for Constant {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        tensor(vec![self.value; n(shape)], shape, dtype)
    }
    fn class_name(&self) -> String {
        match self.value {
            0.0 => "Zeros".into(),
            1.0 => "Ones".into(),
            _ => "Constant".into(),
        }
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        match self.value {
            v if v == 0.0 || v == 1.0 => serde_json::Map::new(),
            v => as_map(serde_json::json!({ "value": v })),
        }
    }
}

/// All zeros: the default bias initializer.
pub const ZEROS: Constant = Constant { value: 0.0 };
/// All ones.
pub const ONES: Constant = Constant { value: 1.0 };

/// An orthogonal matrix (rows or columns orthonormal), times `gain` (1 by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Orthogonal {
    /// Multiplies the matrix.
    pub gain: f64,
}
impl Default for Orthogonal {
    fn default() -> Self {
        Orthogonal { gain: 1.0 }
    }
}
impl Initialize for Orthogonal {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        if shape.len() < 2 {
            return Err(Error::value(format!(
                "The tensor to initialize must be at least two-dimensional. Received: shape={shape:?} of rank {}.",
                shape.len()
            )));
        }
        let cols = shape[shape.len() - 1];
        let rows: usize = shape[..shape.len() - 1].iter().product();
        let (r, c) = (rows.max(cols), rows.min(cols));
        let mut rng = random::fork();
        // Columns of an r x c normal matrix, orthonormalized (reduced QR, positive diagonal).
        let mut q: Vec<Vec<f64>> = (0..c)
            .map(|_| (0..r).map(|_| rng.normal()).collect())
            .collect();
        #[allow(clippy::needless_range_loop)]
        for j in 0..c {
            for _ in 0..2 {
                for k in 0..j {
                    let d: f64 = (0..r).map(|i| q[j][i] * q[k][i]).sum();
                    for i in 0..r {
                        q[j][i] -= d * q[k][i];
                    }
                }
            }
            let norm = q[j].iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
            q[j].iter_mut().for_each(|v| *v /= norm);
        }
        // Row-major `rows x cols`: column-orthonormal when rows >= cols, else its transpose.
        let mut out = vec![0.0; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                out[i * cols + j] = self.gain * if rows >= cols { q[j][i] } else { q[i][j] };
            }
        }
        tensor(out, shape, dtype)
    }
    fn class_name(&self) -> String {
        "Orthogonal".into()
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        as_map(serde_json::json!({"gain": self.gain, "seed": null}))
    }
}

/// The identity matrix times `gain` (Keras's `Identity`, for 2D weights; a rectangular shape
/// gets ones on its main diagonal).
///
/// ```
/// use keras::initializers::{Identity, Initialize};
/// let w = Identity { gain: 2.0 }.init(&[2, 3], keras::DType::F32)?;
/// assert_eq!(w.to_vec2::<f32>()?, vec![vec![2.0, 0.0, 0.0], vec![0.0, 2.0, 0.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Identity {
    /// The diagonal value.
    pub gain: f64,
}
impl Initialize for Identity {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        if shape.len() != 2 {
            return Err(Error::value(format!(
                "Identity matrix initializer can only be used for 2D matrices. Received: shape={shape:?} of rank {}.",
                shape.len()
            )));
        }
        let (r, c) = (shape[0], shape[1]);
        let v = (0..r * c)
            .map(|i| if i / c == i % c { self.gain } else { 0.0 })
            .collect();
        tensor(v, shape, dtype)
    }
    fn class_name(&self) -> String {
        "IdentityInitializer".into()
    }
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        as_map(serde_json::json!({"gain": self.gain}))
    }
}

/// Every name [`get`] knows.
pub const NAMES: &[&str] = &[
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "zeros",
];

/// An initializer by Keras name, with Keras's default arguments.
pub fn get(name: &str) -> Result<Arc<dyn Initialize>> {
    Ok(match name {
        "glorot_uniform" | "GlorotUniform" => Arc::new(GLOROT_UNIFORM),
        "glorot_normal" | "GlorotNormal" => Arc::new(GLOROT_NORMAL),
        "he_normal" | "HeNormal" => Arc::new(HE_NORMAL),
        "he_uniform" | "HeUniform" => Arc::new(HE_UNIFORM),
        "lecun_normal" | "LecunNormal" => Arc::new(LECUN_NORMAL),
        "lecun_uniform" | "LecunUniform" => Arc::new(LECUN_UNIFORM),
        "random_normal" | "RandomNormal" => Arc::new(RandomNormal::default()),
        "random_uniform" | "RandomUniform" => Arc::new(RandomUniform::default()),
        "truncated_normal" | "TruncatedNormal" => Arc::new(TruncatedNormal::default()),
        "orthogonal" | "Orthogonal" => Arc::new(Orthogonal::default()),
        "zeros" | "Zeros" => Arc::new(ZEROS),
        "ones" | "Ones" => Arc::new(ONES),
        "identity" | "Identity" | "IdentityInitializer" => Arc::new(Identity { gain: 1.0 }),
        "constant" | "Constant" => Arc::new(Constant { value: 0.0 }),
        _ => {
            return Err(Error::value(format!(
                "Could not interpret initializer identifier: {name}. Valid initializers are: {}",
                NAMES.join(", ")
            )))
        }
    })
}

fn as_map(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// An initializer as Keras serializes it (`{"module": "keras.initializers", "class_name":
/// "GlorotUniform", "config": {"seed": null}, "registered_name": null}`).
///
/// ```
/// let v = keras::initializers::serialize(&keras::initializers::HE_NORMAL);
/// assert_eq!(v["class_name"], "HeNormal");
/// let back = keras::initializers::from_config(&v)?;
/// assert_eq!(back.class_name(), "HeNormal");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn serialize(i: &dyn Initialize) -> serde_json::Value {
    serde_json::json!({
        "module": "keras.initializers",
        "class_name": i.class_name(),
        "config": i.config(),
        "registered_name": null,
    })
}

/// The initializer a Keras config describes: a name (`"he_normal"`) or a serialized object.
pub fn from_config(v: &serde_json::Value) -> Result<Arc<dyn Initialize>> {
    if let Some(name) = v.as_str() {
        return get(name);
    }
    let class = v.get("class_name").and_then(|c| c.as_str()).unwrap_or("");
    let empty = serde_json::Map::new();
    let map = v
        .get("config")
        .and_then(|c| c.as_object())
        .unwrap_or(&empty);
    let c = crate::serialization::Cfg::new(class, map);
    let enum_arg =
        |key: &str, default: &str| -> Result<String> { Ok(c.str_or(key, default)?.to_string()) };
    Ok(match class {
        "VarianceScaling" => Arc::new(VarianceScaling {
            scale: c.f64_or("scale", 1.0)?,
            mode: match enum_arg("mode", "fan_in")?.as_str() {
                "fan_in" => FanMode::FanIn,
                "fan_out" => FanMode::FanOut,
                "fan_avg" => FanMode::FanAvg,
                m => return Err(Error::value(format!("VarianceScaling: unknown mode {m:?}"))),
            },
            distribution: match enum_arg("distribution", "truncated_normal")?.as_str() {
                "truncated_normal" => Distribution::TruncatedNormal,
                "untruncated_normal" | "normal" => Distribution::UntruncatedNormal,
                "uniform" => Distribution::Uniform,
                d => {
                    return Err(Error::value(format!(
                        "VarianceScaling: unknown distribution {d:?}"
                    )))
                }
            },
        }),
        "RandomNormal" => Arc::new(RandomNormal {
            mean: c.f64_or("mean", 0.0)?,
            stddev: c.f64_or("stddev", 0.05)?,
        }),
        "TruncatedNormal" => Arc::new(TruncatedNormal {
            mean: c.f64_or("mean", 0.0)?,
            stddev: c.f64_or("stddev", 0.05)?,
        }),
        "RandomUniform" => Arc::new(RandomUniform {
            minval: c.f64_or("minval", -0.05)?,
            maxval: c.f64_or("maxval", 0.05)?,
        }),
        "Constant" => Arc::new(Constant {
            value: c.f64_or("value", 0.0)?,
        }),
        "Orthogonal" => Arc::new(Orthogonal {
            gain: c.f64_or("gain", 1.0)?,
        }),
        "Identity" | "IdentityInitializer" => Arc::new(Identity {
            gain: c.f64_or("gain", 1.0)?,
        }),
        other => get(other)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(t: &Tensor) -> (f64, f64, f64) {
        let v = ops::to_vec_f64(t).unwrap();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
        let max = v.iter().fold(0f64, |a, b| a.max(b.abs()));
        (m, var, max)
    }

    #[test]
    fn fans_like_keras() {
        assert_eq!(compute_fans(&[784, 64]), (784.0, 64.0));
        assert_eq!(compute_fans(&[3, 3, 16, 32]), (144.0, 288.0));
        assert_eq!(compute_fans(&[5]), (5.0, 5.0));
    }

    #[test]
    fn variances_match_the_formulas() {
        let shape = [400, 300];
        let cases: [(&str, f64); 6] = [
            ("glorot_uniform", 2.0 / 700.0),
            ("glorot_normal", 2.0 / 700.0),
            ("he_normal", 2.0 / 400.0),
            ("he_uniform", 2.0 / 400.0),
            ("lecun_normal", 1.0 / 400.0),
            ("lecun_uniform", 1.0 / 400.0),
        ];
        for (name, var) in cases {
            let t = get(name).unwrap().init(&shape, DType::F32).unwrap();
            let (m, v, _) = stats(&t);
            assert!(m.abs() < 0.002, "{name} mean {m}");
            assert!((v / var - 1.0).abs() < 0.05, "{name}: var {v} vs {var}");
        }
        let limit = (6.0f64 / 700.0).sqrt();
        let (_, _, max) = stats(&GLOROT_UNIFORM.init(&shape, DType::F32).unwrap());
        assert!(max <= limit + 1e-6);
        let (_, _, max) = stats(&TruncatedNormal::default().init(&shape, DType::F32).unwrap());
        assert!(max <= 0.1 + 1e-6);
    }

    #[test]
    fn orthogonal_is_orthonormal() {
        for shape in [[6usize, 4], [4, 6]] {
            let t = Orthogonal::default().init(&shape, DType::F64).unwrap();
            let g = if shape[0] >= shape[1] {
                t.t().unwrap().matmul(&t).unwrap()
            } else {
                t.matmul(&t.t().unwrap()).unwrap()
            };
            let g = g.to_vec2::<f64>().unwrap();
            for (i, row) in g.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((v - want).abs() < 1e-9, "{shape:?} {i} {j} {v}");
                }
            }
        }
    }

    #[test]
    fn constants_and_unknown_names() {
        let t = ONES.init(&[2, 3], DType::F32).unwrap();
        assert_eq!(ops::to_vec_f32(&t).unwrap(), vec![1.0; 6]);
        let e = get("glorot_unifrom").err().unwrap().to_string();
        assert!(e.contains("glorot_unifrom") && e.contains("glorot_uniform"));
    }
}
