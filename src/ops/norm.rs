//! Batch normalization over the rows of an `(m, c)` matrix as one fused op, forward and
//! backward, in training mode (batch statistics) or inference mode (given statistics).

use super::{contiguous, dispatch_float, storage, Float};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};

/// Per-column mean and (biased) variance of an `(m, c)` matrix, as `(mean, var)` vectors.
pub fn moments(x: &Tensor) -> Result<(Vec<f64>, Vec<f64>)> {
    let (m, c) = x.dims2()?;
    let v = super::to_vec_f64(x)?;
    let mut mean = vec![0.0; c];
    for row in v.chunks_exact(c) {
        mean.iter_mut().zip(row).for_each(|(a, &b)| *a += b);
    }
    mean.iter_mut().for_each(|a| *a /= m.max(1) as f64);
    let mut var = vec![0.0; c];
    for row in v.chunks_exact(c) {
        var.iter_mut()
            .zip(row)
            .zip(&mean)
            .for_each(|((a, &b), &mu)| *a += (b - mu) * (b - mu));
    }
    var.iter_mut().for_each(|a| *a /= m.max(1) as f64);
    Ok((mean, var))
}

/// `gamma * (x - mean) / sqrt(var + epsilon) + beta` over the columns of `x (m, c)`.
///
/// With `stats = None` the batch's own mean and variance are used (and differentiated
/// through, as in training); otherwise the given ones are constants.
pub fn batch_norm(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    epsilon: f64,
    stats: Option<(Vec<f64>, Vec<f64>)>,
) -> Result<Tensor> {
    let (_, c) = x.dims2()?;
    if gamma.elem_count() != c || beta.elem_count() != c {
        return Err(Error::shape(format!(
            "batch_norm: gamma/beta of {} values for {c} channels",
            gamma.elem_count()
        )));
    }
    if !x.device().is_cpu() {
        // Plain candle ops elsewhere.
        let (mean, var) = match &stats {
            Some((m, v)) => (
                Tensor::from_slice(m, (1, c), x.device())?.to_dtype(x.dtype())?,
                Tensor::from_slice(v, (1, c), x.device())?.to_dtype(x.dtype())?,
            ),
            None => {
                let mean = x.mean_keepdim(0)?;
                let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?;
                (mean, var)
            }
        };
        let inv = (var + epsilon)?.sqrt()?.recip()?;
        return Ok(x
            .broadcast_sub(&mean)?
            .broadcast_mul(&inv)?
            .broadcast_mul(gamma)?
            .broadcast_add(beta)?);
    }
    Ok(x.contiguous()?.apply_op3(
        &gamma.contiguous()?,
        &beta.contiguous()?,
        BatchNorm { epsilon, stats },
    )?)
}

struct BatchNorm {
    epsilon: f64,
    stats: Option<(Vec<f64>, Vec<f64>)>,
}

impl BatchNorm {
    /// Mean and 1/sqrt(var + eps) per column.
    fn mean_inv<T: Float>(&self, x: &[T], c: usize) -> (Vec<f64>, Vec<f64>) {
        let (mean, var) = match &self.stats {
            Some((m, v)) => (m.clone(), v.clone()),
            None => {
                let m = x.len() / c.max(1);
                let mut mean = vec![0.0; c];
                for row in x.chunks_exact(c) {
                    mean.iter_mut().zip(row).for_each(|(a, &b)| *a += b.f64v());
                }
                mean.iter_mut().for_each(|a| *a /= m.max(1) as f64);
                let mut var = vec![0.0; c];
                for row in x.chunks_exact(c) {
                    var.iter_mut()
                        .zip(row)
                        .zip(&mean)
                        .for_each(|((a, &b), &mu)| {
                            let d = b.f64v() - mu;
                            *a += d * d
                        });
                }
                var.iter_mut().for_each(|a| *a /= m.max(1) as f64);
                (mean, var)
            }
        };
        let inv = var
            .iter()
            .map(|v| 1.0 / (v + self.epsilon).sqrt())
            .collect();
        (mean, inv)
    }
}

impl CustomOp3 for BatchNorm {
    fn name(&self) -> &'static str {
        "batch_norm"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            op: &BatchNorm,
            sx: &CpuStorage,
            lx: &Layout,
            sg: &CpuStorage,
            lg: &Layout,
            sb: &CpuStorage,
            lb: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("batch_norm", sx, lx)?;
            let g = contiguous::<T>("batch_norm", sg, lg)?;
            let b = contiguous::<T>("batch_norm", sb, lb)?;
            let c = g.len();
            let (mean, inv) = op.mean_inv(x, c);
            // y = x * a + d with a = gamma * inv, d = beta - mean * a.
            let a: Vec<T> = (0..c).map(|j| T::c(g[j].f64v() * inv[j])).collect();
            let d: Vec<T> = (0..c)
                .map(|j| T::c(b[j].f64v() - mean[j] * g[j].f64v() * inv[j]))
                .collect();
            let mut out = Vec::with_capacity(x.len());
            for row in x.chunks_exact(c) {
                out.extend(row.iter().zip(&a).zip(&d).map(|((&v, &a), &d)| v * a + d));
            }
            Ok(storage(out))
        }
        Ok((
            dispatch_float!("batch_norm", sx, run(self, sx, lx, sg, lg, sb, lb))?,
            lx.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let out = x.detach().apply_op3_no_bwd(
            &gamma.detach(),
            &grad.contiguous()?,
            &BatchNormGrad { fwd: self },
        )?;
        let (m, c) = x.dims2()?;
        let flat = out.flatten_all()?;
        let dgamma = flat.narrow(0, 0, c)?;
        let dbeta = flat.narrow(0, c, c)?;
        let dx = flat.narrow(0, 2 * c, m * c)?.reshape((m, c))?;
        Ok((x.track_op().then_some(dx), Some(dgamma), Some(dbeta)))
    }
}

/// (x, gamma, dy) -> `[dgamma | dbeta | dx]`.
struct BatchNormGrad<'a> {
    fwd: &'a BatchNorm,
}

impl CustomOp3 for BatchNormGrad<'_> {
    fn name(&self) -> &'static str {
        "batch_norm_grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
        sd: &CpuStorage,
        ld: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            op: &BatchNormGrad,
            sx: &CpuStorage,
            lx: &Layout,
            sg: &CpuStorage,
            lg: &Layout,
            sd: &CpuStorage,
            ld: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("batch_norm_grad", sx, lx)?;
            let g = contiguous::<T>("batch_norm_grad", sg, lg)?;
            let dy = contiguous::<T>("batch_norm_grad", sd, ld)?;
            let c = g.len();
            let m = x.len() / c.max(1);
            let (mean, inv) = op.fwd.mean_inv(x, c);
            // Sums of dy and dy * xhat per column.
            let (mut sdy, mut sdyx) = (vec![0.0; c], vec![0.0; c]);
            for (row, drow) in x.chunks_exact(c).zip(dy.chunks_exact(c)) {
                for j in 0..c {
                    let xh = (row[j].f64v() - mean[j]) * inv[j];
                    sdy[j] += drow[j].f64v();
                    sdyx[j] += drow[j].f64v() * xh;
                }
            }
            let mut out = Vec::with_capacity(2 * c + x.len());
            out.extend(sdyx.iter().map(|&v| T::c(v)));
            out.extend(sdy.iter().map(|&v| T::c(v)));
            let training = op.fwd.stats.is_none();
            let mf = m.max(1) as f64;
            for (row, drow) in x.chunks_exact(c).zip(dy.chunks_exact(c)) {
                for j in 0..c {
                    let k = g[j].f64v() * inv[j];
                    let dx = if training {
                        let xh = (row[j].f64v() - mean[j]) * inv[j];
                        k * (drow[j].f64v() - sdy[j] / mf - xh * sdyx[j] / mf)
                    } else {
                        k * drow[j].f64v()
                    };
                    out.push(T::c(dx));
                }
            }
            Ok(storage(out))
        }
        let n = 2 * lg.shape().elem_count() + lx.shape().elem_count();
        Ok((
            dispatch_float!("batch_norm_grad", sx, run(self, sx, lx, sg, lg, sd, ld))?,
            Shape::from(n),
        ))
    }
}

/// `(x - mean) / sqrt(var + epsilon) * gamma + beta` with the mean and (biased) variance taken
/// over `axes` of each sample (layer and group normalization); `gamma` and `beta` broadcast
/// against `x`. A composition of candle ops, all with correct gradients (candle's own fused
/// layer-norm gives none on the CPU).
pub fn normalize(
    x: &Tensor,
    axes: &[usize],
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    epsilon: f64,
) -> Result<Tensor> {
    let axes = axes.to_vec();
    let mean = x.mean_keepdim(axes.clone())?;
    let centered = x.broadcast_sub(&mean)?;
    let var = centered.sqr()?.mean_keepdim(axes)?;
    let mut inv = (var + epsilon)?.sqrt()?.recip()?;
    if let Some(g) = gamma {
        inv = inv.broadcast_mul(g)?;
    }
    let mut y = centered.broadcast_mul(&inv)?;
    if let Some(b) = beta {
        y = y.broadcast_add(b)?;
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::Device;

    fn t(dims: &[usize], a: f64) -> Tensor {
        let n: usize = dims.iter().product();
        Tensor::from_vec(
            (0..n)
                .map(|i| ((i as f64) * a + 0.3).sin() * 2.0 + 0.5)
                .collect::<Vec<_>>(),
            dims,
            &Device::Cpu,
        )
        .unwrap()
    }

    #[test]
    fn gradients_in_both_modes() {
        let r = t(&[6, 3], 0.43);
        check_gradient(
            &[t(&[6, 3], 0.71), t(&[3], 0.3), t(&[3], 0.9)],
            |v| {
                Ok(batch_norm(&v[0], &v[1], &v[2], 1e-3, None)?
                    .mul(&r)?
                    .sum_all()?)
            },
            1e-6,
            1e-5,
        )
        .unwrap();
        let stats = Some((vec![0.1, -0.2, 0.3], vec![1.5, 0.7, 2.0]));
        check_gradient(
            &[t(&[6, 3], 0.71), t(&[3], 0.3), t(&[3], 0.9)],
            |v| {
                Ok(batch_norm(&v[0], &v[1], &v[2], 1e-3, stats.clone())?
                    .mul(&r)?
                    .sum_all()?)
            },
            1e-6,
            1e-5,
        )
        .unwrap();
    }

    #[test]
    fn moments_are_biased() {
        let x = Tensor::new(&[[1f64, 2.0], [3.0, 6.0]], &Device::Cpu).unwrap();
        let (m, v) = moments(&x).unwrap();
        assert_eq!(m, vec![2.0, 4.0]);
        assert_eq!(v, vec![1.0, 4.0]);
    }
}
