//! Helpers for testing layers and ops: a finite-difference gradient check.
//!
//! ```
//! use keras::ops::{Tensor, Device};
//! let x = Tensor::new(&[[0.3f64, -1.2], [2.0, 0.5]], &Device::Cpu)?;
//! keras::testing::check_gradient(&[x], |v| Ok(v[0].sqr()?.sum_all()?), 1e-6, 1e-6)?;
//! # Ok::<(), keras::Error>(())
//! ```

use crate::ops::{Tensor, Var};
use crate::{Error, Result};

/// Compares the gradients candle's backward gives for `f(inputs)` (a scalar) with central
/// finite differences of step `eps`, for every element of every input.
///
/// Use f64 inputs. Fails with a message naming the input, the element and both values when
/// `|analytic - numeric| > tol * (1 + |numeric|)`.
pub fn check_gradient(
    inputs: &[Tensor],
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    eps: f64,
    tol: f64,
) -> Result<()> {
    let vars: Vec<Var> = inputs
        .iter()
        .map(Var::from_tensor)
        .collect::<candle_core::Result<_>>()?;
    let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
    let out = f(&ts)?;
    if out.elem_count() != 1 {
        return Err(Error::shape(format!(
            "check_gradient: f must return a scalar, got {:?}",
            out.dims()
        )));
    }
    let grads = out.backward()?;
    for (vi, v) in vars.iter().enumerate() {
        let analytic = match grads.get(v.as_tensor()) {
            Some(g) => crate::ops::to_vec_f64(g)?,
            None => vec![0.0; v.elem_count()],
        };
        let base = crate::ops::to_vec_f64(v.as_tensor())?;
        for i in 0..base.len() {
            let eval = |delta: f64| -> Result<f64> {
                let mut xs: Vec<Tensor> = inputs.to_vec();
                let mut data = base.clone();
                data[i] += delta;
                xs[vi] = Tensor::from_vec(data, v.shape(), v.device())?.to_dtype(v.dtype())?;
                crate::ops::scalar(&f(&xs)?)
            };
            let numeric = (eval(eps)? - eval(-eps)?) / (2.0 * eps);
            let a = analytic[i];
            let ok = (a - numeric).abs() <= tol * (1.0 + numeric.abs());
            if !ok || a.is_nan() {
                return Err(Error::value(format!(
                    "gradient mismatch for input {vi}, element {i}: analytic {a}, numeric {numeric}"
                )));
            }
        }
    }
    Ok(())
}
