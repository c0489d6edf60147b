//! The fused losses of `loss.rs` written with candle's ops, for devices our CPU kernels do not
//! run on (CUDA): the same formulas (Keras 3's, clipping included), so the same values and
//! gradients, from candle's kernels and autodiff. The tests compare the two on the CPU.

use super::loss::{ElementwiseLoss, EPSILON};
use crate::Result;
use candle_core::{DType, Tensor, D};

/// `[epsilon, 1 - epsilon]` rounded to `t`'s dtype, as the fused kernels clip.
fn clip_bounds(t: &Tensor) -> (f64, f64) {
    if t.dtype() == DType::F32 {
        let e = EPSILON as f32;
        (e as f64, (1.0f32 - e) as f64)
    } else {
        (EPSILON, 1.0 - EPSILON)
    }
}

fn eps(t: &Tensor) -> f64 {
    clip_bounds(t).0
}

/// Mean of an elementwise loss; `target` has `pred`'s shape and dtype and no gradient.
pub(crate) fn elementwise(pred: &Tensor, target: &Tensor, kind: ElementwiseLoss) -> Result<Tensor> {
    let (p, t) = (pred, target);
    let v = match kind {
        ElementwiseLoss::MeanSquaredError => (p - t)?.sqr()?,
        ElementwiseLoss::MeanAbsoluteError => (p - t)?.abs()?,
        ElementwiseLoss::Huber(delta) => {
            // 0.5 q^2 + delta (|e| - q) with q = min(|e|, delta).
            let a = (p - t)?.abs()?;
            let q = a.clamp(0.0, delta)?;
            ((q.sqr()? * 0.5)? + ((a - &q)? * delta)?)?
        }
        ElementwiseLoss::BinaryCrossentropy { from_logits: true } => {
            // relu(z) - z t + log(1 + exp(-|z|)) = -t log_sigmoid(z) - (1 - t) log_sigmoid(-z)
            let soft = (p.abs()?.neg()?.exp()? + 1.0)?.log()?;
            ((p.relu()? - (p * t)?)? + soft)?
        }
        ElementwiseLoss::BinaryCrossentropy { from_logits: false } => {
            let (lo, hi) = clip_bounds(p);
            let o = p.clamp(lo, hi)?;
            let one_minus = (o.neg()? + 1.0)?;
            let pos = (t * o.log()?)?;
            let neg = ((t.neg()? + 1.0)? * one_minus.log()?)?;
            (pos + neg)?.neg()?
        }
        ElementwiseLoss::MeanAbsolutePercentageError => {
            let d = t.abs()?.maximum(eps(p))?;
            (((p - t)?.abs()? / d)? * 100.0)?
        }
        ElementwiseLoss::MeanSquaredLogarithmicError => {
            let e = eps(p);
            let a = (p.maximum(e)? + 1.0)?.log()?;
            let b = (t.maximum(e)? + 1.0)?.log()?;
            (a - b)?.sqr()?
        }
        ElementwiseLoss::LogCosh => {
            let x = (p - t)?.abs()?;
            let soft = (x.affine(-2.0, 0.0)?.exp()? + 1.0)?.log()?;
            ((x + soft)? - std::f64::consts::LN_2)?
        }
        ElementwiseLoss::Poisson => (p - (t * (p + eps(p))?.log()?)?)?,
        ElementwiseLoss::Hinge => ((p * t)?.neg()? + 1.0)?.relu()?,
        ElementwiseLoss::SquaredHinge => ((p * t)?.neg()? + 1.0)?.relu()?.sqr()?,
    };
    Ok(v.mean_all()?)
}

/// Mean categorical cross-entropy over the rows (classes on the last axis); `target` is
/// one-hot or soft, of `pred`'s shape and dtype, without gradient.
pub(crate) fn crossentropy(pred: &Tensor, target: &Tensor, from_logits: bool) -> Result<Tensor> {
    let per_row = if from_logits {
        let m = pred.max_keepdim(D::Minus1)?.detach();
        let shifted = pred.broadcast_sub(&m)?;
        let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
        // sum_j t_j (lse - z_j), with z shifted by the row max (it cancels).
        (target * lse.broadcast_sub(&shifted)?)?.sum(D::Minus1)?
    } else {
        // Keras: probabilities renormalized per row, clipped, then -sum t log q.
        let q = pred.broadcast_div(&pred.sum_keepdim(D::Minus1)?)?;
        let (lo, hi) = clip_bounds(pred);
        (target * q.clamp(lo, hi)?.log()?)?.sum(D::Minus1)?.neg()?
    };
    Ok(per_row.mean_all()?)
}

/// [`crossentropy`] against class indices (one per row of `pred`, already checked).
pub(crate) fn sparse_crossentropy(
    pred: &Tensor,
    labels: &Tensor,
    from_logits: bool,
) -> Result<Tensor> {
    let classes = *pred.dims().last().unwrap_or(&1);
    let rows = pred.elem_count() / classes.max(1);
    let ids = labels.flatten_all()?.to_dtype(DType::U32)?;
    let onehot = super::one_hot(&ids, classes)?.to_dtype(pred.dtype())?;
    let p = pred.reshape((rows, classes))?;
    crossentropy(&p, &onehot, from_logits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn values(dims: &[usize], lo: f64, hi: f64) -> Tensor {
        crate::random::uniform(dims, lo, hi)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
    }

    /// Loss and gradient from `f` at `p`.
    fn value_grad(p: &Tensor, f: impl Fn(&Tensor) -> Result<Tensor>) -> (f64, Vec<f64>) {
        let v = Var::from_tensor(p).unwrap();
        let l = f(v.as_tensor()).unwrap();
        let g = l.backward().unwrap();
        let gv = g.get(v.as_tensor()).unwrap();
        (
            l.to_scalar::<f64>().unwrap(),
            gv.flatten_all().unwrap().to_vec1().unwrap(),
        )
    }

    fn close(what: &str, a: (f64, Vec<f64>), b: (f64, Vec<f64>)) {
        assert!(
            (a.0 - b.0).abs() <= 1e-9 * (1.0 + b.0.abs()),
            "{what}: {} vs {}",
            a.0,
            b.0
        );
        for (x, y) in a.1.iter().zip(&b.1) {
            assert!(
                (x - y).abs() <= 1e-9 * (1.0 + y.abs()),
                "{what} gradient: {x} vs {y}"
            );
        }
    }

    #[test]
    fn elementwise_losses_equal_the_fused_kernels() {
        crate::utils::set_random_seed(4);
        let kinds = [
            ElementwiseLoss::MeanSquaredError,
            ElementwiseLoss::MeanAbsoluteError,
            ElementwiseLoss::Huber(0.7),
            ElementwiseLoss::BinaryCrossentropy { from_logits: true },
            ElementwiseLoss::BinaryCrossentropy { from_logits: false },
            ElementwiseLoss::MeanAbsolutePercentageError,
            ElementwiseLoss::MeanSquaredLogarithmicError,
            ElementwiseLoss::LogCosh,
            ElementwiseLoss::Poisson,
            ElementwiseLoss::Hinge,
            ElementwiseLoss::SquaredHinge,
        ];
        for kind in kinds {
            // Probabilities for the probabilistic losses, signed values for the others.
            let (p, t) = match kind {
                ElementwiseLoss::BinaryCrossentropy { from_logits: false }
                | ElementwiseLoss::Poisson
                | ElementwiseLoss::MeanSquaredLogarithmicError => {
                    (values(&[6, 5], 0.01, 0.99), values(&[6, 5], 0.0, 1.0))
                }
                ElementwiseLoss::Hinge | ElementwiseLoss::SquaredHinge => (
                    values(&[6, 5], -2.0, 2.0),
                    values(&[6, 5], 0.0, 1.0)
                        .ge(0.5)
                        .unwrap()
                        .to_dtype(DType::F64)
                        .unwrap()
                        .affine(2.0, -1.0)
                        .unwrap(),
                ),
                _ => (values(&[6, 5], -3.0, 3.0), values(&[6, 5], -3.0, 3.0)),
            };
            let fused = value_grad(&p, |p| super::super::elementwise_loss(p, &t, kind));
            let composed = value_grad(&p, |p| elementwise(p, &t, kind));
            close(&format!("{kind:?}"), composed, fused);
        }
    }

    #[test]
    fn crossentropies_equal_the_fused_kernels() {
        crate::utils::set_random_seed(5);
        let logits = values(&[7, 4], -3.0, 3.0);
        let probs = values(&[7, 4], 0.05, 1.0);
        let ids = Tensor::new(&[0f64, 3., 1., 2., 2., 0., 3.], &Device::Cpu).unwrap();
        let onehot = super::super::one_hot(&ids.to_dtype(DType::U32).unwrap(), 4)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap();
        let soft = candle_nn::ops::softmax_last_dim(&values(&[7, 4], -1.0, 1.0)).unwrap();
        for (p, from_logits) in [(&logits, true), (&probs, false)] {
            for t in [&onehot, &soft] {
                let fused = value_grad(p, |p| super::super::crossentropy(p, t, from_logits));
                let composed = value_grad(p, |p| crossentropy(p, t, from_logits));
                close(
                    &format!("crossentropy from_logits={from_logits}"),
                    composed,
                    fused,
                );
            }
            let fused = value_grad(p, |p| {
                super::super::sparse_crossentropy(p, &ids, from_logits)
            });
            let composed = value_grad(p, |p| sparse_crossentropy(p, &ids, from_logits));
            close(
                &format!("sparse from_logits={from_logits}"),
                composed,
                fused,
            );
        }
    }
}
