//! Random tensors, as `keras.random`, drawn from the generator that
//! `keras::utils::set_random_seed` seeds.
//!
//! ```
//! keras::utils::set_random_seed(1);
//! let x = keras::random::normal(&[4, 3])?;
//! let ids = keras::random::randint(&[4, 10], 1, 500)?;
//! assert_eq!(x.dims(), &[4, 3]);
//! assert_eq!(ids.dtype(), keras::DType::I64);
//! # Ok::<(), keras::Error>(())
//! ```

use crate::ops::{self, random, Tensor};
use crate::Result;

/// Standard normal float32 values.
pub fn normal(dims: &[usize]) -> Result<Tensor> {
    let n = dims.iter().product();
    let v: Vec<f32> = random::with_rng(|r| (0..n).map(|_| r.normal() as f32).collect());
    ops::from_vec(v, dims)
}

/// Uniform float32 values in `[low, high)`.
pub fn uniform(dims: &[usize], low: f64, high: f64) -> Result<Tensor> {
    let n = dims.iter().product();
    let v: Vec<f32> = random::with_rng(|r| {
        (0..n)
            .map(|_| (low + (high - low) * r.uniform()) as f32)
            .collect()
    });
    ops::from_vec(v, dims)
}

/// Integers in `[low, high)` as int64 (`numpy.random.randint`).
pub fn randint(dims: &[usize], low: i64, high: i64) -> Result<Tensor> {
    let n = dims.iter().product();
    let span = (high - low).max(1) as usize;
    let v: Vec<i64> = random::with_rng(|r| (0..n).map(|_| low + r.below(span) as i64).collect());
    ops::from_vec(v, dims)
}
