//! Loss functions as fused ops: each returns the mean loss as a scalar and has a one-pass
//! backward. The formulas are Keras 3's (JAX backend), including its clipping of probabilities
//! to `[epsilon, 1 - epsilon]` with `epsilon = 1e-7`.

use super::{contiguous, dispatch_float, storage, Float};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Tensor};

/// Keras's fuzz factor `keras.config.epsilon()`.
pub const EPSILON: f64 = 1e-7;

/// Elementwise regression / binary losses, averaged over every element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ElementwiseLoss {
    /// `(pred - target)^2`
    MeanSquaredError,
    /// `|pred - target|`
    MeanAbsoluteError,
    /// Quadratic below `delta`, linear above.
    Huber(f64),
    /// Binary cross-entropy on probabilities (`from_logits = false`) or logits.
    BinaryCrossentropy {
        /// Whether predictions are logits.
        from_logits: bool,
    },
    /// `100 * |target - pred| / max(|target|, epsilon)`
    MeanAbsolutePercentageError,
    /// `(log(max(pred, epsilon) + 1) - log(max(target, epsilon) + 1))^2`
    MeanSquaredLogarithmicError,
    /// `log(cosh(pred - target))`, as `x + softplus(-2x) - log(2)`
    LogCosh,
    /// `pred - target * log(pred + epsilon)`
    Poisson,
    /// `max(1 - target * pred, 0)` (targets already in {-1, 1})
    Hinge,
    /// `max(1 - target * pred, 0)^2` (targets already in {-1, 1})
    SquaredHinge,
}

impl ElementwiseLoss {
    #[inline]
    fn value_grad<T: Float>(self, p: T, t: T) -> (f64, T) {
        let f = <T as Float>::c;
        let zero = T::zero();
        match self {
            ElementwiseLoss::MeanSquaredError => {
                let e = p - t;
                ((e * e).f64v(), f(2.0) * e)
            }
            ElementwiseLoss::MeanAbsoluteError => {
                let e = (p - t).f64v();
                (e.abs(), f(sign(e)))
            }
            ElementwiseLoss::Huber(delta) => {
                let e = (p - t).f64v();
                if e.abs() <= delta {
                    (0.5 * e * e, f(e))
                } else {
                    (delta * e.abs() - 0.5 * delta * delta, f(delta * e.signum()))
                }
            }
            ElementwiseLoss::BinaryCrossentropy { from_logits: true } => {
                let z = p.f64v();
                let t = t.f64v();
                // -t*log_sigmoid(z) - (1-t)*log_sigmoid(-z)
                let loss = -t * log_sigmoid(z) - (1.0 - t) * log_sigmoid(-z);
                (loss, f(sigmoid(z) - t))
            }
            ElementwiseLoss::BinaryCrossentropy { from_logits: false } => {
                let o = p.f64v();
                let t = t.f64v();
                let (lo, hi) = clip_bounds::<T>();
                let inside = o > lo && o < hi;
                let oc = o.clamp(lo, hi);
                let loss = -(t * oc.ln() + (1.0 - t) * (1.0 - oc).ln());
                let g = if inside {
                    -(t / oc - (1.0 - t) / (1.0 - oc))
                } else {
                    0.0
                };
                (loss, f(g))
            }
            ElementwiseLoss::MeanAbsolutePercentageError => {
                let (p, t) = (p.f64v(), t.f64v());
                let d = t.abs().max(eps::<T>());
                let e = p - t;
                (100.0 * e.abs() / d, f(100.0 * sign(e) / d))
            }
            ElementwiseLoss::MeanSquaredLogarithmicError => {
                let (p, t) = (p.f64v(), t.f64v());
                let e = eps::<T>();
                let a = p.max(e) + 1.0;
                let diff = a.ln() - (t.max(e) + 1.0).ln();
                let g = if p > e { 2.0 * diff / a } else { 0.0 };
                (diff * diff, f(g))
            }
            ElementwiseLoss::LogCosh => {
                let x = (p - t).f64v();
                // x + softplus(-2x) - log 2, written symmetrically for large |x|.
                let v = x.abs() + (-2.0 * x.abs()).exp().ln_1p() - std::f64::consts::LN_2;
                (v, f(x.tanh()))
            }
            ElementwiseLoss::Poisson => {
                let (p, t) = (p.f64v(), t.f64v());
                let q = p + eps::<T>();
                (p - t * q.ln(), f(1.0 - t / q))
            }
            ElementwiseLoss::Hinge => {
                let (p, t) = (p.f64v(), t.f64v());
                let m = 1.0 - t * p;
                if m > 0.0 {
                    (m, f(-t))
                } else {
                    (0.0, zero)
                }
            }
            ElementwiseLoss::SquaredHinge => {
                let (p, t) = (p.f64v(), t.f64v());
                let m = (1.0 - t * p).max(0.0);
                (m * m, f(-2.0 * t * m))
            }
        }
    }
}

/// Keras's epsilon in the tensor's dtype.
fn eps<T: Float>() -> f64 {
    T::c(EPSILON).f64v()
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `[epsilon, 1 - epsilon]` computed in the tensor's dtype, as Keras clips (in float32,
/// `1 - 1e-7` rounds to `0.99999988`, which matters for the loss of a saturated prediction).
fn clip_bounds<T: Float>() -> (f64, f64) {
    let e = T::c(EPSILON);
    (e.f64v(), (T::one() - e).f64v())
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn log_sigmoid(z: f64) -> f64 {
    // log(1/(1+exp(-z))) = -softplus(-z)
    -((-z).max(0.0) + (-z.abs()).exp().ln_1p())
}

fn same_dtype(target: &Tensor, pred: &Tensor) -> Result<Tensor> {
    Ok(if target.dtype() == pred.dtype() {
        target.clone()
    } else {
        target.to_dtype(pred.dtype())?
    })
}

fn check_float(op: &str, pred: &Tensor) -> Result<()> {
    if !matches!(pred.dtype(), DType::F32 | DType::F64) {
        return Err(Error::value(format!(
            "{op}: predictions must be float32 or float64, got {:?}",
            pred.dtype()
        )));
    }
    Ok(())
}

/// Mean of an elementwise loss over all elements; `target` must have `pred`'s shape.
pub fn elementwise_loss(pred: &Tensor, target: &Tensor, kind: ElementwiseLoss) -> Result<Tensor> {
    check_float("loss", pred)?;
    if pred.dims() != target.dims() {
        return Err(Error::shape(format!(
            "loss: y_true shape {} does not match y_pred shape {}",
            super::shape_str(target.dims()),
            super::shape_str(pred.dims())
        )));
    }
    let target = same_dtype(target, pred)?.contiguous()?.detach();
    if !pred.device().is_cpu() {
        return super::loss_composed::elementwise(pred, &target, kind);
    }
    Ok(pred.contiguous()?.apply_op2(&target, Elementwise(kind))?)
}

struct Elementwise(ElementwiseLoss);

impl CustomOp2 for Elementwise {
    fn name(&self) -> &'static str {
        "elementwise_loss"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            k: ElementwiseLoss,
            s1: &CpuStorage,
            l1: &Layout,
            s2: &CpuStorage,
            l2: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let p = contiguous::<T>("loss", s1, l1)?;
            let t = contiguous::<T>("loss", s2, l2)?;
            let sum: f64 = p.iter().zip(t).map(|(&a, &b)| k.value_grad(a, b).0).sum();
            Ok(storage(vec![T::c(sum / p.len().max(1) as f64)]))
        }
        Ok((
            dispatch_float!("loss", s1, run(self.0, s1, l1, s2, l2))?,
            Shape::from(()),
        ))
    }

    fn bwd(
        &self,
        pred: &Tensor,
        target: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let scale =
            grad.to_dtype(DType::F64)?.to_scalar::<f64>()? / pred.elem_count().max(1) as f64;
        let g = pred.apply_op2_no_bwd(target, &ElementwiseGrad(self.0, scale))?;
        Ok((Some(g), None))
    }
}

struct ElementwiseGrad(ElementwiseLoss, f64);

impl CustomOp2 for ElementwiseGrad {
    fn name(&self) -> &'static str {
        "elementwise_loss_grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            k: ElementwiseLoss,
            scale: f64,
            s1: &CpuStorage,
            l1: &Layout,
            s2: &CpuStorage,
            l2: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let p = contiguous::<T>("loss", s1, l1)?;
            let t = contiguous::<T>("loss", s2, l2)?;
            let sc = T::c(scale);
            Ok(storage(
                p.iter()
                    .zip(t)
                    .map(|(&a, &b)| k.value_grad(a, b).1 * sc)
                    .collect(),
            ))
        }
        Ok((
            dispatch_float!("loss", s1, run(self.0, self.1, s1, l1, s2, l2))?,
            l1.shape().clone(),
        ))
    }
}

/// Mean categorical cross-entropy over the rows of `pred` (classes on the last axis) against
/// one-hot (or soft) `target` of the same shape.
pub fn crossentropy(pred: &Tensor, target: &Tensor, from_logits: bool) -> Result<Tensor> {
    check_float("categorical_crossentropy", pred)?;
    if pred.dims() != target.dims() {
        return Err(Error::shape(format!(
            "categorical_crossentropy: y_true shape {} does not match y_pred shape {}",
            super::shape_str(target.dims()),
            super::shape_str(pred.dims())
        )));
    }
    let target = same_dtype(target, pred)?.contiguous()?.detach();
    if !pred.device().is_cpu() {
        return super::loss_composed::crossentropy(pred, &target, from_logits);
    }
    Ok(pred.contiguous()?.apply_op2(
        &target,
        Xent {
            from_logits,
            sparse: false,
        },
    )?)
}

/// Mean sparse categorical cross-entropy: `labels` holds class indices, one per row of `pred`
/// (shape `pred.dims()[..-1]`, or with a trailing 1).
pub fn sparse_crossentropy(pred: &Tensor, labels: &Tensor, from_logits: bool) -> Result<Tensor> {
    check_float("sparse_categorical_crossentropy", pred)?;
    let classes = *pred.dims().last().unwrap_or(&0);
    let rows = pred.elem_count() / classes.max(1);
    if labels.elem_count() != rows {
        return Err(Error::shape(format!(
            "sparse_categorical_crossentropy: y_true shape {} and y_pred shape {} do not fit: \
             expected one class index per row of y_pred",
            super::shape_str(labels.dims()),
            super::shape_str(pred.dims())
        )));
    }
    let shape = labels.dims().to_vec();
    let labels = same_dtype(&labels.flatten_all()?, pred)?
        .contiguous()?
        .detach();
    // Validate labels here so a bad one is an error, not a silent zero.
    let lv = super::to_vec_f64(&labels)?;
    if let Some(bad) = lv
        .iter()
        .find(|&&v| v < 0.0 || v >= classes as f64 || v.fract() != 0.0)
    {
        return Err(Error::value(format!(
            "sparse_categorical_crossentropy: received a label value of {bad} which is outside \
             the valid range of [0, {classes}) (y_true shape {}, y_pred shape {})",
            super::shape_str(&shape),
            super::shape_str(pred.dims())
        )));
    }
    if !pred.device().is_cpu() {
        return super::loss_composed::sparse_crossentropy(pred, &labels, from_logits);
    }
    Ok(pred.contiguous()?.apply_op2(
        &labels,
        Xent {
            from_logits,
            sparse: true,
        },
    )?)
}

struct Xent {
    from_logits: bool,
    sparse: bool,
}

impl Xent {
    /// Loss of one row, and (if `grad` is given) the row's gradient scaled by `scale`.
    fn row<T: Float>(&self, p: &[T], t: &[T], grad: Option<(&mut [T], f64)>) -> f64 {
        let n = p.len();
        let target = |j: usize| -> f64 {
            if self.sparse {
                if t[0].to_usize() == Some(j) {
                    1.0
                } else {
                    0.0
                }
            } else {
                t[j].f64v()
            }
        };
        let pv = |j: usize| p[j].f64v();
        if self.from_logits {
            let max = (0..n).map(pv).fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..n).map(|j| (pv(j) - max).exp()).sum();
            let lse = max + sum.ln();
            let tsum: f64 = (0..n).map(target).sum();
            let loss: f64 = (0..n).map(|j| target(j) * (lse - pv(j))).sum();
            if let Some((g, scale)) = grad {
                #[allow(clippy::needless_range_loop)]
                for j in 0..n {
                    let sm = (pv(j) - lse).exp();
                    g[j] = T::c(scale * (sm * tsum - target(j)));
                }
            }
            loss
        } else {
            let s: f64 = (0..n).map(pv).sum();
            let mut loss = 0.0;
            // dL/dq_j (zero where q_j was clipped) goes into g first, then through q = o / s.
            let mut dot = 0.0;
            let mut g = grad;
            for j in 0..n {
                let tj = target(j);
                let q = pv(j) / s;
                let mut dq = 0.0;
                if tj != 0.0 {
                    let (lo, hi) = clip_bounds::<T>();
                    loss -= tj * q.clamp(lo, hi).ln();
                    if q > lo && q < hi {
                        dq = -tj / q;
                        dot += dq * q;
                    }
                }
                if let Some((g, _)) = g.as_mut() {
                    g[j] = T::c(dq);
                }
            }
            if let Some((g, scale)) = g {
                for gj in g.iter_mut() {
                    *gj = T::c(scale * (gj.f64v() - dot) / s);
                }
            }
            loss
        }
    }
}

impl CustomOp2 for Xent {
    fn name(&self) -> &'static str {
        "crossentropy"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            op: &Xent,
            s1: &CpuStorage,
            l1: &Layout,
            s2: &CpuStorage,
            l2: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let p = contiguous::<T>("crossentropy", s1, l1)?;
            let t = contiguous::<T>("crossentropy", s2, l2)?;
            let n = l1.dims().last().copied().unwrap_or(1).max(1);
            let tn = if op.sparse { 1 } else { n };
            let rows = p.len() / n;
            let sum: f64 = p
                .chunks_exact(n)
                .zip(t.chunks_exact(tn))
                .map(|(pr, tr)| op.row(pr, tr, None))
                .sum();
            Ok(storage(vec![T::c(sum / rows.max(1) as f64)]))
        }
        Ok((
            dispatch_float!("crossentropy", s1, run(self, s1, l1, s2, l2))?,
            Shape::from(()),
        ))
    }

    fn bwd(
        &self,
        pred: &Tensor,
        target: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let n = pred.dims().last().copied().unwrap_or(1).max(1);
        let rows = (pred.elem_count() / n).max(1);
        let scale = grad.to_dtype(DType::F64)?.to_scalar::<f64>()? / rows as f64;
        let g = pred.apply_op2_no_bwd(
            target,
            &XentGrad {
                op: Xent {
                    from_logits: self.from_logits,
                    sparse: self.sparse,
                },
                scale,
            },
        )?;
        Ok((Some(g), None))
    }
}

struct XentGrad {
    op: Xent,
    scale: f64,
}

impl CustomOp2 for XentGrad {
    fn name(&self) -> &'static str {
        "crossentropy_grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            me: &XentGrad,
            s1: &CpuStorage,
            l1: &Layout,
            s2: &CpuStorage,
            l2: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let p = contiguous::<T>("crossentropy_grad", s1, l1)?;
            let t = contiguous::<T>("crossentropy_grad", s2, l2)?;
            let n = l1.dims().last().copied().unwrap_or(1).max(1);
            let tn = if me.op.sparse { 1 } else { n };
            let mut g = vec![T::zero(); p.len()];
            for ((pr, tr), gr) in p
                .chunks_exact(n)
                .zip(t.chunks_exact(tn))
                .zip(g.chunks_exact_mut(n))
            {
                me.op.row(pr, tr, Some((gr, me.scale)));
            }
            Ok(storage(g))
        }
        Ok((
            dispatch_float!("crossentropy_grad", s1, run(self, s1, l1, s2, l2))?,
            l1.shape().clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{activation, scalar, Act};
    use crate::testing::check_gradient;
    use candle_core::Device;

    fn t(v: &[f64], dims: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), dims, &Device::Cpu).unwrap()
    }

    fn logits() -> Tensor {
        t(
            &[
                0.2, -1.0, 0.5, 1.5, 0.3, -0.2, -0.7, 0.9, 0.1, 0.4, 0.0, -0.3,
            ],
            &[3, 4],
        )
    }

    #[test]
    fn sparse_matches_dense_one_hot() {
        let labels = t(&[2.0, 0.0, 3.0], &[3]);
        let onehot = t(&[0., 0., 1., 0., 1., 0., 0., 0., 0., 0., 0., 1.], &[3, 4]);
        for from_logits in [true, false] {
            let p = if from_logits {
                logits()
            } else {
                activation(&logits(), Act::Softmax).unwrap()
            };
            let a = scalar(&sparse_crossentropy(&p, &labels, from_logits).unwrap()).unwrap();
            let b = scalar(&crossentropy(&p, &onehot, from_logits).unwrap()).unwrap();
            assert!((a - b).abs() < 1e-12);
        }
        // Logits and softmax probabilities give the same loss.
        let a = scalar(&sparse_crossentropy(&logits(), &labels, true).unwrap()).unwrap();
        let b = scalar(
            &sparse_crossentropy(
                &activation(&logits(), Act::Softmax).unwrap(),
                &labels,
                false,
            )
            .unwrap(),
        )
        .unwrap();
        assert!((a - b).abs() < 1e-9);
    }

    #[test]
    fn crossentropy_gradients() {
        let labels = t(&[2.0, 0.0, 3.0], &[3]);
        let soft = t(
            &[0.1, 0.2, 0.6, 0.1, 0.7, 0.1, 0.1, 0.1, 0.0, 0.2, 0.3, 0.5],
            &[3, 4],
        );
        for from_logits in [true, false] {
            let f = move |x: &Tensor| -> Result<Tensor> {
                if from_logits {
                    Ok(x.clone())
                } else {
                    // Positive, unnormalized probabilities exercise the division by the sum.
                    Ok((x.exp()? * 0.7)?)
                }
            };
            let l = labels.clone();
            check_gradient(
                &[logits()],
                |v| sparse_crossentropy(&f(&v[0])?, &l, from_logits),
                1e-6,
                1e-5,
            )
            .unwrap();
            let s = soft.clone();
            check_gradient(
                &[logits()],
                |v| crossentropy(&f(&v[0])?, &s, from_logits),
                1e-6,
                1e-5,
            )
            .unwrap();
        }
    }

    #[test]
    fn elementwise_gradients() {
        let p = t(&[0.2, 0.7, 0.4, 0.9, 0.05, 0.6], &[3, 2]);
        let y = t(&[0.0, 1.0, 1.0, 0.0, 0.3, 0.6001], &[3, 2]);
        for k in [
            ElementwiseLoss::MeanSquaredError,
            ElementwiseLoss::MeanAbsoluteError,
            ElementwiseLoss::Huber(0.3),
            ElementwiseLoss::BinaryCrossentropy { from_logits: true },
            ElementwiseLoss::BinaryCrossentropy { from_logits: false },
            ElementwiseLoss::MeanAbsolutePercentageError,
            ElementwiseLoss::MeanSquaredLogarithmicError,
            ElementwiseLoss::LogCosh,
            ElementwiseLoss::Poisson,
            ElementwiseLoss::Hinge,
            ElementwiseLoss::SquaredHinge,
        ] {
            // A zero target makes MAPE's terms ~1e9, too large for finite differences.
            let yy = if k == ElementwiseLoss::MeanAbsolutePercentageError {
                (&y + 0.5).unwrap()
            } else {
                y.clone()
            };
            check_gradient(
                std::slice::from_ref(&p),
                |v| elementwise_loss(&v[0], &yy, k),
                1e-7,
                1e-5,
            )
            .unwrap_or_else(|e| panic!("{k:?}: {e}"));
        }
    }

    #[test]
    fn out_of_range_label_is_an_error() {
        let e = sparse_crossentropy(&logits(), &t(&[1.0, 4.0, 0.0], &[3]), true).unwrap_err();
        assert!(e.to_string().contains("label value of 4"), "{e}");
    }
}
