//! The hinge metrics (Keras's `keras/src/metrics/hinge_metrics.py`): `Hinge`,
//! `SquaredHinge`, `CategoricalHinge`, with Keras's per-sample functions (labels 0/1 are
//! read as -1/1, decided on the device: no copy of the labels to the host).
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Hinge, Metric};
//! let mut m = Hinge::default();
//! let y = Tensor::new(&[[0f32, 1.], [1., 1.]], &Device::Cpu)?;
//! let p = Tensor::new(&[[0.5f32, 0.5], [2., -1.]], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert_eq!(m.result(), 1.0); // rows: (1.5 + 0.5) / 2 and (0 + 2) / 2
//! # Ok::<(), keras::Error>(())
//! ```

use super::mean_metric::{MeanOf, SampleFn};
use super::sample_values::{cast_pair, mean_last, sum_last};
use super::Direction;
use crate::ops::{DType, Tensor};
use crate::Result;

/// Keras's `convert_binary_labels_to_hinge`: labels that are all 0 or 1 become -1 or 1;
/// other labels are kept. The test runs on the device (`t + all_binary * (t - 1)`).
fn hinge_labels(t: &Tensor) -> Result<Tensor> {
    let binary = (t.eq(0.0)?.to_dtype(DType::F32)? + t.eq(1.0)?.to_dtype(DType::F32)?)?
        .flatten_all()?
        .min(0)?
        .to_dtype(t.dtype())?;
    Ok((t + (t - 1.0)?.broadcast_mul(&binary)?)?)
}

/// `max(1 - y_true * y_pred, 0)` with hinge labels.
fn margins(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = cast_pair(y_true, y_pred)?;
    let t = if t.elem_count() == 0 {
        t
    } else {
        hinge_labels(&t)?
    };
    Ok((t * p)?.affine(-1.0, 1.0)?.relu()?)
}

/// Keras's `hinge`: `mean(max(1 - y_true * y_pred, 0), axis=-1)`, labels -1/1 (or 0/1).
pub fn hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    mean_last(&margins(y_true, y_pred)?)
}

/// Keras's `squared_hinge`: `mean(max(1 - y_true * y_pred, 0)^2, axis=-1)`.
pub fn squared_hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    mean_last(&margins(y_true, y_pred)?.sqr()?)
}

/// Keras's `categorical_hinge`: `max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1,
/// 0)` over the last axis, for one-hot labels.
pub fn categorical_hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = cast_pair(y_true, y_pred)?;
    let pos = sum_last(&(&t * &p)?)?;
    let others = (t.affine(-1.0, 1.0)? * &p)?;
    let neg = if others.rank() == 0 {
        others
    } else {
        others.max(others.rank() - 1)?
    };
    Ok(((neg - pos)? + 1.0)?.relu()?)
}

/// The marker of [`Hinge`].
#[derive(Clone, Copy, Debug)]
pub struct HingeFn;
impl SampleFn for HingeFn {
    const CLASS: &'static str = "Hinge";
    const NAME: &'static str = "hinge";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        hinge(y_true, y_pred)
    }
}
/// Keras's `Hinge` metric.
pub type Hinge = MeanOf<HingeFn>;

/// The marker of [`SquaredHinge`].
#[derive(Clone, Copy, Debug)]
pub struct SquaredHingeFn;
impl SampleFn for SquaredHingeFn {
    const CLASS: &'static str = "SquaredHinge";
    const NAME: &'static str = "squared_hinge";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        squared_hinge(y_true, y_pred)
    }
}
/// Keras's `SquaredHinge` metric.
pub type SquaredHinge = MeanOf<SquaredHingeFn>;

/// The marker of [`CategoricalHinge`].
#[derive(Clone, Copy, Debug)]
pub struct CategoricalHingeFn;
impl SampleFn for CategoricalHingeFn {
    const CLASS: &'static str = "CategoricalHinge";
    const NAME: &'static str = "categorical_hinge";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        categorical_hinge(y_true, y_pred)
    }
}
/// Keras's `CategoricalHinge` metric.
pub type CategoricalHinge = MeanOf<CategoricalHingeFn>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::ops;

    #[test]
    fn labels_converted_only_when_binary() {
        let p = t(&[0.5, -0.5], &[1, 2]);
        let h = |y: &[f32]| ops::to_vec_f32(&hinge(&t(y, &[1, 2]), &p).unwrap()).unwrap()[0];
        assert_eq!(h(&[1., 0.]), 0.5); // -> (1, -1): margins 0.5, 0.5
        assert_eq!(h(&[1., -1.]), 0.5);
        assert_eq!(h(&[2., 0.]), 0.5); // not binary: kept, margins 0, 1
        let c = categorical_hinge(&t(&[0., 1.], &[1, 2]), &t(&[0.3, 0.6], &[1, 2])).unwrap();
        assert!((ops::to_vec_f32(&c).unwrap()[0] - 0.7).abs() < 1e-6);
    }
}
