//! What the image preprocessing layers share (Keras's `BaseImagePreprocessingLayer`): the
//! `factor` argument, per-layer seeded randomness, image-rank checks and the fill mode /
//! interpolation arguments.

use crate::engine::config::apply_base_config;
use crate::engine::{LayerExt, LayerRef, Shape};
use crate::ops::image::{FillMode, Interpolation};
use crate::ops::random::{self, Rng};
use crate::serialization::{json, Cfg, Value};
use crate::{Error, Result};
use std::sync::Mutex;

/// A `factor` argument: one number `f` (a range symmetric about 0, `[-f, f]`, clipped to
/// the layer's bounds) or a `(lower, upper)` pair.
///
/// ```
/// use keras::layers::preprocessing::Factor;
/// assert_eq!(Factor::from(0.2), Factor::Symmetric(0.2));
/// assert_eq!(Factor::from((0.1, 0.3)), Factor::Range(0.1, 0.3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Factor {
    /// One number.
    Symmetric(f64),
    /// A `(lower, upper)` pair (sorted when used, as Keras does).
    Range(f64, f64),
}

impl From<f64> for Factor {
    fn from(f: f64) -> Self {
        Factor::Symmetric(f)
    }
}

impl From<f32> for Factor {
    fn from(f: f32) -> Self {
        Factor::Symmetric(f as f64)
    }
}

impl From<(f64, f64)> for Factor {
    fn from((a, b): (f64, f64)) -> Self {
        Factor::Range(a, b)
    }
}

impl From<[f64; 2]> for Factor {
    fn from([a, b]: [f64; 2]) -> Self {
        Factor::Range(a, b)
    }
}

impl Factor {
    /// The factor as Keras writes it in a config: the number, or `[lower, upper]`.
    pub fn to_json(self) -> Value {
        match self {
            Factor::Symmetric(f) => json!(f),
            Factor::Range(a, b) => json!([a, b]),
        }
    }

    /// Reads a config value: a number or a list of two numbers.
    pub fn from_json(v: &Value, layer: &str, key: &str) -> Result<Factor> {
        match v {
            Value::Number(n) => Ok(Factor::Symmetric(n.as_f64().unwrap_or(f64::NAN))),
            Value::Array(a) => {
                let nums: Option<Vec<f64>> = a.iter().map(Value::as_f64).collect();
                match nums.as_deref() {
                    Some([lo, hi]) => Ok(Factor::Range(*lo, *hi)),
                    _ => Err(Error::value(format!(
                        "{layer}: `{key}` should be a number or a list of two numbers. Received: {key}={v}"
                    ))),
                }
            }
            _ => Err(Error::value(format!(
                "{layer}: `{key}` should be a number or a list of two numbers. Received: {key}={v}"
            ))),
        }
    }

    fn show(self) -> String {
        match self {
            Factor::Symmetric(f) => format!("{f:?}"),
            Factor::Range(a, b) => format!("({a:?}, {b:?})"),
        }
    }

    /// Keras's `BaseImagePreprocessingLayer._set_factor`: the `(lower, upper)` range within
    /// `bounds` (a number `f` gives `(max(-f, bounds.0), f)`).
    pub(crate) fn base_range(self, bounds: (f64, f64)) -> Result<(f64, f64)> {
        let err = || {
            Error::value(format!(
                "The `factor` argument should be a number (or a list of two numbers) in the \
                 range [{}, {}]. Received: factor={}",
                bounds.0,
                bounds.1,
                self.show()
            ))
        };
        match self {
            Factor::Range(a, b) => {
                if a > bounds.1 || b < bounds.0 || a.is_nan() || b.is_nan() {
                    return Err(err());
                }
                Ok((a.min(b), a.max(b)))
            }
            Factor::Symmetric(f) => {
                if !(f >= bounds.0 && f <= bounds.1) {
                    return Err(err());
                }
                let f = f.abs();
                Ok(((-f).max(bounds.0), f))
            }
        }
    }

    /// `RandomZoom` / `RandomTranslation`'s `_set_factor`: each number within `[-1, 1]`
    /// (zoom: `(-1, 1]`), a number `f` giving `(-|f|, |f|)`.
    pub(crate) fn symmetric_range(self, open_low: bool, msg: &str) -> Result<(f64, f64)> {
        let check = |x: f64| {
            let low_bad = if open_low { x <= -1.0 } else { x < -1.0 };
            if x > 1.0 || low_bad || x.is_nan() {
                Err(Error::value(format!("{msg}Received: input_number={x:?}")))
            } else {
                Ok(())
            }
        };
        match self {
            Factor::Range(a, b) => {
                check(a)?;
                check(b)?;
                Ok((a.min(b), a.max(b)))
            }
            Factor::Symmetric(f) => {
                check(f)?;
                Ok((-f.abs(), f.abs()))
            }
        }
    }
}

/// Where a random layer draws its numbers: its own generator when it was given a `seed`
/// (the same seed repeats the same draws), else the global one that
/// `keras::utils::set_random_seed` seeds.
pub(crate) struct SeedRng {
    seed: Option<u64>,
    rng: Mutex<Option<Rng>>,
}

impl SeedRng {
    pub fn new(seed: Option<u64>) -> Self {
        SeedRng {
            seed,
            rng: Mutex::new(None),
        }
    }

    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Runs `f` with the generator to draw from.
    pub fn with<R>(&self, f: impl FnOnce(&mut Rng) -> R) -> R {
        match self.seed {
            Some(s) => {
                let mut g = self.rng.lock().unwrap_or_else(|e| e.into_inner());
                f(g.get_or_insert_with(|| Rng::new(s)))
            }
            None => random::with_rng(f),
        }
    }

    /// `n` uniform numbers in `[lo, hi)` (exactly `lo` when `lo == hi`).
    pub fn uniform(&self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        self.with(|r| (0..n).map(|_| lo + (hi - lo) * r.uniform()).collect())
    }
}

/// A random image layer from its config: `layer`, given the config's `seed` (through its
/// `seed` builder) when there is one, then the base keys. Its `data_format` must be
/// `channels_last`.
pub(crate) fn apply_seeded_config<L: LayerExt>(
    layer: L,
    with_seed: fn(L, u64) -> L,
    c: &Cfg,
) -> Result<LayerRef> {
    c.channels_last()?;
    let layer = match c.opt_usize("seed")? {
        Some(s) => with_seed(layer, s as u64),
        None => layer,
    };
    apply_base_config(layer, c)
}

/// The factor at `key` of a config (required).
pub(crate) fn config_factor(c: &Cfg, key: &str) -> Result<Factor> {
    match c.get(key) {
        Some(v) => Factor::from_json(v, c.class, key),
        None => Err(Error::value(format!("{}: config needs `{key}`", c.class))),
    }
}

/// The seed as a config value.
pub(crate) fn seed_json(seed: Option<u64>) -> Value {
    match seed {
        Some(s) => json!(s),
        None => Value::Null,
    }
}

/// `(height, width)` of a rank-3 `(h, w, c)` or rank-4 `(b, h, w, c)` image shape, with its
/// axes; an error naming the layer otherwise.
pub(crate) fn image_axes(layer: &str, s: &Shape) -> Result<(usize, usize)> {
    match s.rank() {
        3 => Ok((0, 1)),
        4 => Ok((1, 2)),
        _ => Err(Error::value(format!(
            "{layer}: Expected image tensor to have rank 3 (single image) or 4 (batch of \
             images). Received: data.shape={s}"
        ))),
    }
}

/// The output shape of a layer that keeps the image's shape: the input's, once checked to
/// be an image shape.
pub(crate) fn same_image_shape(layer: &str, s: &[Shape]) -> Result<Vec<Shape>> {
    image_axes(layer, &s[0])?;
    Ok(vec![s[0].clone()])
}

/// Checks `fill_mode` and `interpolation` against the four fill modes and two
/// interpolations the affine layers take.
pub(crate) fn affine_options(
    fill_mode: &str,
    interpolation: &str,
) -> Result<(FillMode, Interpolation)> {
    let fm = match fill_mode {
        "reflect" | "wrap" | "constant" | "nearest" => FillMode::parse(fill_mode)?,
        other => {
            return Err(Error::value(format!(
                "Unknown `fill_mode` {other}. Expected of one ('reflect', 'wrap', 'constant', \
                 'nearest')."
            )))
        }
    };
    let ip = match interpolation {
        "nearest" | "bilinear" => Interpolation::parse(interpolation)?,
        other => {
            return Err(Error::value(format!(
                "Unknown `interpolation` {other}. Expected of one ('nearest', 'bilinear')."
            )))
        }
    };
    Ok((fm, ip))
}

/// Number of images in a rank-3 (one image) or rank-4 tensor.
pub(crate) fn batch_size(dims: &[usize]) -> usize {
    if dims.len() == 4 {
        dims[0]
    } else {
        1
    }
}

/// `(height, width)` of a real rank-3 or rank-4 image tensor.
pub(crate) fn hw(layer: &str, dims: &[usize]) -> Result<(usize, usize)> {
    match *dims {
        [_, h, w, _] | [h, w, _] => Ok((h, w)),
        _ => Err(Error::value(format!(
            "{layer}: Expected image tensor to have rank 3 (single image) or 4 (batch of \
             images). Received: data.shape={dims:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_ranges_follow_keras() {
        assert_eq!(
            Factor::from(0.2).base_range((-1.0, 1.0)).unwrap(),
            (-0.2, 0.2)
        );
        assert_eq!(
            Factor::from(0.2).base_range((0.0, 1.0)).unwrap(),
            (0.0, 0.2)
        );
        assert_eq!(
            Factor::from((0.3, -0.1)).base_range((-1.0, 1.0)).unwrap(),
            (-0.1, 0.3)
        );
        let e = Factor::from(1.5).base_range((-1.0, 1.0)).unwrap_err();
        assert!(
            e.to_string().contains("[-1, 1]. Received: factor=1.5"),
            "{e}"
        );
        assert!(Factor::from(-1.0).symmetric_range(true, "").is_err());
        assert_eq!(
            Factor::from(-0.5).symmetric_range(true, "").unwrap(),
            (-0.5, 0.5)
        );
    }

    #[test]
    fn seeded_draws_repeat() {
        let a = SeedRng::new(Some(3)).uniform(4, 0.0, 1.0);
        let b = SeedRng::new(Some(3)).uniform(4, 0.0, 1.0);
        let c = SeedRng::new(Some(4)).uniform(4, 0.0, 1.0);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(SeedRng::new(None).uniform(2, 0.5, 0.5), vec![0.5, 0.5]);
    }
}
