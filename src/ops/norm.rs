//! Batch normalization over the rows of an `(..., c)` tensor as one fused op, forward and
//! backward, in training mode (batch statistics, optionally summed over the processes of a
//! data-parallel job) or inference mode (given statistics).

use super::parallel::{for_each_part, threads};
use super::{contiguous, dispatch_float, storage, Float};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp3, DType, Device, Layout, Shape, Tensor};
use std::sync::{Arc, Mutex};

/// Two per-column sums over the `m` rows of a `(m, c)` matrix: `add(i, a, b)` adds row `i`'s
/// terms to the accumulators `a` and `b` (length `c`). Large matrices are split into one block
/// of rows per thread, whose sums are added in block order.
fn column_sums(
    m: usize,
    c: usize,
    add: impl Fn(usize, &mut [f64], &mut [f64]) + Sync,
) -> (Vec<f64>, Vec<f64>) {
    let block = |lo: usize, hi: usize| {
        let (mut a, mut b) = (vec![0.0; c], vec![0.0; c]);
        (lo..hi).for_each(|i| add(i, &mut a, &mut b));
        (a, b)
    };
    let parts = if m * c >= 1 << 16 {
        threads().min(m)
    } else {
        1
    };
    if parts <= 1 {
        return block(0, m);
    }
    let step = m.div_ceil(parts);
    let slots: Vec<Mutex<(Vec<f64>, Vec<f64>)>> =
        (0..parts).map(|_| Mutex::new((vec![], vec![]))).collect();
    for_each_part(parts, |p| {
        let r = block((p * step).min(m), ((p + 1) * step).min(m));
        *slots[p].lock().unwrap_or_else(|e| e.into_inner()) = r;
    });
    let (mut a, mut b) = (vec![0.0; c], vec![0.0; c]);
    for slot in slots {
        let (pa, pb) = slot.into_inner().unwrap_or_else(|e| e.into_inner());
        a.iter_mut().zip(pa).for_each(|(a, p)| *a += p);
        b.iter_mut().zip(pb).for_each(|(b, p)| *b += p);
    }
    (a, b)
}

/// `out[i, j] = (x[i, j] - sx[j]) * a[j] + (y[i, j] - sy[j]) * b[j] + d[j]` over the rows of
/// `(m, c)` matrices, `y = Some((y, sy, b))` or absent (one block of rows per thread when
/// large). Centring before scaling keeps float32's precision when a column's mean is far
/// from zero.
fn per_column_affine<T: Float>(
    x: &[T],
    sx: &[T],
    a: &[T],
    y: Option<(&[T], &[T], &[T])>,
    d: &[T],
) -> Vec<T> {
    let c = a.len().max(1);
    let m = x.len() / c;
    let mut out = vec![T::zero(); x.len()];
    super::par_chunks(&mut out, c, m, x.len() * 4, |lo, hi, dst| {
        for (r, orow) in (lo..hi).zip(dst.chunks_exact_mut(c)) {
            let xrow = &x[r * c..(r + 1) * c];
            match y {
                Some((y, sy, b)) => {
                    let yrow = &y[r * c..(r + 1) * c];
                    for j in 0..c {
                        orow[j] = (xrow[j] - sx[j]) * a[j] + (yrow[j] - sy[j]) * b[j] + d[j];
                    }
                }
                None => {
                    for j in 0..c {
                        orow[j] = (xrow[j] - sx[j]) * a[j] + d[j];
                    }
                }
            }
        }
    });
    out
}

/// Sums a buffer over the processes of a data-parallel job, in place (an all-reduce): what
/// a synchronized batch normalization takes its statistics through.
pub type CrossProcessSum = Arc<dyn Fn(&mut [f64]) -> Result<()> + Send + Sync>;

/// A batch's per-column mean and (biased) variance, over this process's rows or, with a
/// [`CrossProcessSum`], over the rows of every process (synchronized batch normalization).
#[derive(Clone)]
pub struct Moments {
    /// Per-column mean.
    pub mean: Vec<f64>,
    /// Per-column biased variance.
    pub var: Vec<f64>,
    /// This process's rows over all processes' rows (1 without a sum).
    share: f64,
    /// This process's rows.
    rows: usize,
    sum: Option<CrossProcessSum>,
}

/// Per-column mean and (biased) variance of an `(m, c)` matrix, as `(mean, var)` vectors.
///
/// ```
/// use keras::ops::{moments, Device, Tensor};
/// let x = Tensor::new(&[[1f64, 2.0], [3.0, 6.0]], &Device::Cpu)?;
/// assert_eq!(moments(&x)?, (vec![2.0, 4.0], vec![1.0, 4.0]));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn moments(x: &Tensor) -> Result<(Vec<f64>, Vec<f64>)> {
    let m = batch_moments(x, None)?;
    Ok((m.mean, m.var))
}

/// The statistics [`batch_norm`] normalizes a training batch `x (..., c)` with: its own, or,
/// given `sum`, those of the rows of every process (one all-reduce of `1 + 2c` values; its
/// backward makes one more of `2c`).
pub fn batch_moments(x: &Tensor, sum: Option<CrossProcessSum>) -> Result<Moments> {
    let (m, c) = rows_channels(x)?;
    if !matches!(x.dtype(), DType::F32 | DType::F64) {
        return batch_moments(&x.to_dtype(DType::F32)?, sum);
    }
    if !x.device().is_cpu() {
        if sum.is_some() {
            // Summed across processes: on the host, as the synchronized op runs there too.
            return batch_moments(&x.to_device(&Device::Cpu)?, sum);
        }
        // On the device in two passes (the mean, then the centred squares): only c values
        // come back.
        let x = x.reshape((m, c))?;
        let mean = x.mean_keepdim(0)?;
        let var = x.broadcast_sub(&mean)?.sqr()?.mean(0)?;
        return Ok(Moments {
            mean: super::to_vec_f64(&mean.flatten_all()?)?,
            var: super::to_vec_f64(&var)?,
            share: 1.0,
            rows: m,
            sum: None,
        });
    }
    // Per-column sums of x and x^2 in float64, in one pass (var = E[x^2] - mean^2 keeps
    // ~1e-16 relative: exact enough for float32 data unless |mean| / std passes ~1e6).
    fn sums<T: Float>(x: &Tensor, c: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let x = x.contiguous()?;
        let (s, l) = x.storage_and_layout();
        let candle_core::Storage::Cpu(cpu) = &*s else {
            return Err(Error::runtime("batch_moments: not a CPU tensor"));
        };
        let v = contiguous::<T>("batch_moments", cpu, l)?;
        let m = v.len() / c.max(1);
        Ok(column_sums(m, c, |i, a, b| {
            let row = &v[i * c..(i + 1) * c];
            for ((a, b), &x) in a.iter_mut().zip(b.iter_mut()).zip(row) {
                let x = x.f64v();
                *a += x;
                *b += x * x;
            }
        }))
    }
    let (s1, s2) = match x.dtype() {
        DType::F64 => sums::<f64>(x, c)?,
        _ => sums::<f32>(x, c)?,
    };
    let mut buf = Vec::with_capacity(1 + 2 * c);
    buf.push(m as f64);
    buf.extend(s1);
    buf.extend(s2);
    if let Some(sum) = &sum {
        sum(&mut buf)?;
    }
    let total = buf[0].max(1.0);
    let mean: Vec<f64> = buf[1..=c].iter().map(|s| s / total).collect();
    let var = buf[1 + c..]
        .iter()
        .zip(&mean)
        .map(|(s, mu)| (s / total - mu * mu).max(0.0))
        .collect();
    Ok(Moments {
        mean,
        var,
        share: m as f64 / total,
        rows: m,
        sum,
    })
}

/// The rows and channels of `x`: channels on its last axis, every other axis rows.
fn rows_channels(x: &Tensor) -> Result<(usize, usize)> {
    let c = *x.dims().last().ok_or_else(|| {
        Error::shape("batch_norm: the input needs a channel axis; received a scalar")
    })?;
    Ok((x.elem_count() / c.max(1), c))
}

/// Where [`batch_norm`] takes its statistics from.
#[derive(Clone)]
pub enum BnStats {
    /// A training batch's ([`batch_moments`]), differentiated through.
    Batch(Moments),
    /// Given mean and variance (the moving averages at inference): constants.
    Given(Vec<f64>, Vec<f64>),
}

/// `gamma * (x - mean) / sqrt(var + epsilon) + beta` per channel of `x (..., c)`: the
/// channels on the last axis, every other axis rows (no reshape, so no extra graph node).
///
/// With [`BnStats::Batch`] the batch's statistics are used and differentiated through, as in
/// training (across processes when they were summed over them: the backward sums its column
/// totals over the same processes); [`BnStats::Given`] ones are constants.
///
/// ```
/// use keras::ops::{batch_moments, batch_norm, BnStats, Device, Tensor};
/// let x = Tensor::new(&[[1f32, 2.0], [3.0, 6.0]], &Device::Cpu)?;
/// let (g, b) = (Tensor::ones(2, x.dtype(), x.device())?, Tensor::zeros(2, x.dtype(), x.device())?);
/// let y = batch_norm(&x, &g, &b, 0.0, BnStats::Batch(batch_moments(&x, None)?))?;
/// assert_eq!(y.to_vec2::<f32>()?, vec![vec![-1.0, -1.0], vec![1.0, 1.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn batch_norm(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    epsilon: f64,
    stats: BnStats,
) -> Result<Tensor> {
    let (m, c) = rows_channels(x)?;
    if gamma.elem_count() != c || beta.elem_count() != c {
        return Err(Error::shape(format!(
            "batch_norm: gamma/beta of {} values for {c} channels",
            gamma.elem_count()
        )));
    }
    let synced = matches!(&stats, BnStats::Batch(m) if m.sum.is_some());
    if !x.device().is_cpu() && synced {
        // The fused op on the host (its backward all-reduces there), back to the device.
        let host = |t: &Tensor| t.to_device(&Device::Cpu);
        let y = batch_norm(&host(x)?, &host(gamma)?, &host(beta)?, epsilon, stats)?;
        return Ok(y.to_device(x.device())?);
    }
    if !x.device().is_cpu() {
        // Plain candle ops elsewhere.
        let dims = x.dims().to_vec();
        let x = &x.reshape((m, c))?;
        let (mean, var) = match &stats {
            BnStats::Given(m, v) => (
                Tensor::from_slice(m, (1, c), x.device())?.to_dtype(x.dtype())?,
                Tensor::from_slice(v, (1, c), x.device())?.to_dtype(x.dtype())?,
            ),
            BnStats::Batch(_) => {
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
            .broadcast_add(beta)?
            .reshape(dims)?);
    }
    let (mean, var, train) = match stats {
        BnStats::Batch(m) => (m.mean.clone(), m.var.clone(), Some(m)),
        BnStats::Given(m, v) => (m, v, None),
    };
    let inv = var.iter().map(|v| 1.0 / (v + epsilon).sqrt()).collect();
    Ok(x.contiguous()?.apply_op3(
        &gamma.contiguous()?,
        &beta.contiguous()?,
        BatchNorm { mean, inv, train },
    )?)
}

struct BatchNorm {
    /// Per-column mean and 1 / sqrt(var + epsilon).
    mean: Vec<f64>,
    inv: Vec<f64>,
    /// The batch's statistics when they are differentiated through (training).
    train: Option<Moments>,
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
            let (mean, inv) = (&op.mean, &op.inv);
            // y = (x - mean) * a + beta with a = gamma * inv.
            let a: Vec<T> = (0..c).map(|j| T::c(g[j].f64v() * inv[j])).collect();
            let mean_t: Vec<T> = mean.iter().map(|&v| T::c(v)).collect();
            let out = per_column_affine(x, &mean_t, &a, None, b);
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
        let c = gamma.elem_count();
        let m = x.elem_count() / c.max(1);
        let flat = out.flatten_all()?;
        let dgamma = flat.narrow(0, 0, c)?;
        let dbeta = flat.narrow(0, c, c)?;
        let dx = flat.narrow(0, 2 * c, m * c)?.reshape(x.dims())?;
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
            let (mean, inv) = (&op.fwd.mean, &op.fwd.inv);
            // Sums of dy and dy * x per column; dy * xhat's is inv * (sum dy x - mean sum dy).
            let m = x.len() / c.max(1);
            let (sdy, sdx) = column_sums(m, c, |i, a, b| {
                let (xr, dr) = (&x[i * c..(i + 1) * c], &dy[i * c..(i + 1) * c]);
                for j in 0..c {
                    let d = dr[j].f64v();
                    a[j] += d;
                    b[j] += d * xr[j].f64v();
                }
            });
            let sdyx: Vec<f64> = (0..c)
                .map(|j| inv[j] * (sdx[j] - mean[j] * sdy[j]))
                .collect();
            // The statistics' share of the gradient: with them summed over processes, each
            // process's column totals weighted by its share of the rows (as its gradients
            // are when they are averaged), summed over the processes, over this process's
            // rows. One process: the totals over its rows.
            let centred = op.fwd.train.as_ref().map(|t| -> candle_core::Result<_> {
                let (mut a, mut b) = (sdy.clone(), sdyx.clone());
                if let Some(sum) = &t.sum {
                    let mut buf: Vec<f64> = a.iter().chain(&b).map(|v| v * t.share).collect();
                    sum(&mut buf).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
                    a.copy_from_slice(&buf[..c]);
                    b.copy_from_slice(&buf[c..]);
                }
                let m = t.rows.max(1) as f64;
                a.iter_mut().chain(b.iter_mut()).for_each(|v| *v /= m);
                Ok((a, b))
            });
            let centred = centred.transpose()?;
            // dx = k (dy - mdy - xhat mdyx) with k = gamma inv and xhat = (x - mean) inv, as
            // dy * k + (x - mean) * kb + kc per column (kb = -k inv mdyx, kc = -k mdy);
            // dy * k alone when the statistics are constants.
            let k: Vec<f64> = (0..c).map(|j| g[j].f64v() * inv[j]).collect();
            let (kb, kc): (Vec<T>, Vec<T>) = (0..c)
                .map(|j| match &centred {
                    Some((mdy, mdyx)) => (T::c(-k[j] * inv[j] * mdyx[j]), T::c(-k[j] * mdy[j])),
                    None => (T::zero(), T::zero()),
                })
                .unzip();
            let kt: Vec<T> = k.iter().map(|&v| T::c(v)).collect();
            let mean_t: Vec<T> = mean.iter().map(|&v| T::c(v)).collect();
            let zeros = vec![T::zero(); c];
            let dx = per_column_affine(dy, &zeros, &kt, Some((x, &mean_t, &kb)), &kc);
            let mut out = Vec::with_capacity(2 * c + x.len());
            out.extend(sdyx.iter().map(|&v| T::c(v)));
            out.extend(sdy.iter().map(|&v| T::c(v)));
            out.extend(dx);
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
                let stats = BnStats::Batch(batch_moments(&v[0], None)?);
                Ok(batch_norm(&v[0], &v[1], &v[2], 1e-3, stats)?
                    .mul(&r)?
                    .sum_all()?)
            },
            1e-6,
            1e-5,
        )
        .unwrap();
        let stats = BnStats::Given(vec![0.1, -0.2, 0.3], vec![1.5, 0.7, 2.0]);
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

    /// The largest absolute difference between two float64 tensors of one shape.
    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b)
            .and_then(|d| d.abs()?.flatten_all()?.max(0)?.to_scalar::<f64>())
            .unwrap()
    }

    /// An in-memory all-reduce between threads (two "processes" in one test).
    struct ThreadSum {
        acc: std::sync::Mutex<Vec<f64>>,
        barrier: std::sync::Barrier,
    }

    impl ThreadSum {
        fn sum(&self, buf: &mut [f64]) {
            {
                let mut a = self.acc.lock().unwrap();
                if a.is_empty() {
                    a.resize(buf.len(), 0.0);
                }
                a.iter_mut().zip(buf.iter()).for_each(|(a, b)| *a += b);
            }
            self.barrier.wait();
            buf.copy_from_slice(&self.acc.lock().unwrap());
            if self.barrier.wait().is_leader() {
                self.acc.lock().unwrap().clear();
            }
            self.barrier.wait();
        }
    }

    /// Two processes holding 3 and 5 of a batch's 8 rows, statistics summed across them,
    /// each loss the mean over its rows: the outputs are the whole batch's, and the
    /// gradients, weighted by each one's share of the rows (as data-parallel training
    /// averages them), are the whole batch's mean loss's.
    #[test]
    fn synchronized_statistics_and_gradients_are_the_whole_batchs() {
        let (x, r) = (t(&[8, 3], 0.71), t(&[8, 3], 0.43));
        let (g, b) = (t(&[3], 0.3), t(&[3], 0.9));
        let run = |x: &Tensor, r: &Tensor, sum: Option<CrossProcessSum>| {
            let (xv, gv, bv) = (
                candle_core::Var::from_tensor(x).unwrap(),
                candle_core::Var::from_tensor(&g).unwrap(),
                candle_core::Var::from_tensor(&b).unwrap(),
            );
            let stats = BnStats::Batch(batch_moments(xv.as_tensor(), sum).unwrap());
            let y =
                batch_norm(xv.as_tensor(), gv.as_tensor(), bv.as_tensor(), 1e-3, stats).unwrap();
            let loss = (y.mul(r).unwrap().sum_all().unwrap() / x.dim(0).unwrap() as f64).unwrap();
            let grads = loss.backward().unwrap();
            let get = |v: &candle_core::Var| grads.get(v.as_tensor()).unwrap().clone();
            (y, get(&xv), get(&gv), get(&bv))
        };
        let whole = run(&x, &r, None);
        let shared = Arc::new(ThreadSum {
            acc: Default::default(),
            barrier: std::sync::Barrier::new(2),
        });
        let parts: Vec<_> = std::thread::scope(|sc| {
            let handles: Vec<_> = [(0, 3), (3, 5)]
                .into_iter()
                .map(|(start, len)| {
                    let s = shared.clone();
                    let sum: CrossProcessSum = Arc::new(move |buf: &mut [f64]| {
                        s.sum(buf);
                        Ok(())
                    });
                    let (x, r) = (
                        x.narrow(0, start, len).unwrap(),
                        r.narrow(0, start, len).unwrap(),
                    );
                    let run = &run;
                    sc.spawn(move || run(&x, &r, Some(sum)))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let close = |a: &Tensor, b: &Tensor| {
            assert!(max_diff(a, b) < 1e-12, "{a} vs {b}");
        };
        let cat = |k: usize| {
            let v: Vec<Tensor> = parts
                .iter()
                .zip([3.0 / 8.0, 5.0 / 8.0])
                .map(|(p, w)| {
                    let t = [&p.0, &p.1][k];
                    if k == 0 {
                        t.clone()
                    } else {
                        (t * w).unwrap()
                    }
                })
                .collect();
            Tensor::cat(&v, 0).unwrap()
        };
        close(&cat(0), &whole.0);
        close(&cat(1), &whole.1);
        let weighted = |f: fn(&(Tensor, Tensor, Tensor, Tensor)) -> &Tensor| {
            ((f(&parts[0]) * (3.0 / 8.0)).unwrap() + (f(&parts[1]) * (5.0 / 8.0)).unwrap()).unwrap()
        };
        close(&weighted(|p| &p.2), &whole.2);
        close(&weighted(|p| &p.3), &whole.3);
    }

    /// Large enough to be split over the threads (and 4-D, channels last): the fused op's
    /// output and gradients equal a composition of candle ops'.
    #[test]
    fn large_batches_match_plain_ops() {
        let (x, r) = (t(&[32, 8, 8, 32], 0.0137), t(&[32, 8, 8, 32], 0.29));
        let (g, b) = (t(&[32], 0.3), t(&[32], 0.9));
        let grads = |fused: bool| {
            let vars: Vec<candle_core::Var> = [&x, &g, &b]
                .iter()
                .map(|t| candle_core::Var::from_tensor(t).unwrap())
                .collect();
            let (xv, gv, bv) = (
                vars[0].as_tensor(),
                vars[1].as_tensor(),
                vars[2].as_tensor(),
            );
            let y = if fused {
                let stats = BnStats::Batch(batch_moments(xv, None).unwrap());
                batch_norm(xv, gv, bv, 1e-3, stats).unwrap()
            } else {
                let x2 = xv.reshape((2048, 32)).unwrap();
                let mean = x2.mean_keepdim(0).unwrap();
                let c = x2.broadcast_sub(&mean).unwrap();
                let var = c.sqr().unwrap().mean_keepdim(0).unwrap();
                let inv = (var + 1e-3).unwrap().sqrt().unwrap().recip().unwrap();
                c.broadcast_mul(&inv)
                    .unwrap()
                    .broadcast_mul(gv)
                    .unwrap()
                    .broadcast_add(bv)
                    .unwrap()
                    .reshape(x.dims())
                    .unwrap()
            };
            let gs = y.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
            let mut out = vec![y];
            out.extend(vars.iter().map(|v| gs.get(v.as_tensor()).unwrap().clone()));
            out
        };
        for (a, b) in grads(true).iter().zip(grads(false)) {
            assert_eq!(a.dims(), b.dims());
            let d = max_diff(a, &b);
            assert!(d < 1e-9, "{d}");
        }
    }

    /// Columns whose mean is 1000 standard deviations from zero: float32's output and
    /// gradient stay within float32's precision of float64's.
    #[test]
    fn far_from_zero_means_keep_float32_precision() {
        // The float32 values themselves, so that both runs see the same input.
        let x64 = (t(&[4096, 8], 0.37) + 1000.0)
            .and_then(|t| t.to_dtype(DType::F32))
            .and_then(|t| t.to_dtype(DType::F64))
            .unwrap();
        let r64 = t(&[4096, 8], 0.61);
        let run = |dt: DType| {
            let x = candle_core::Var::from_tensor(&x64.to_dtype(dt).unwrap()).unwrap();
            let (g, b) = (
                Tensor::ones(8, dt, &Device::Cpu).unwrap(),
                Tensor::zeros(8, dt, &Device::Cpu).unwrap(),
            );
            let stats = BnStats::Batch(batch_moments(x.as_tensor(), None).unwrap());
            let y = batch_norm(x.as_tensor(), &g, &b, 1e-3, stats).unwrap();
            let loss = y
                .mul(&r64.to_dtype(dt).unwrap())
                .unwrap()
                .sum_all()
                .unwrap();
            let dx = loss.backward().unwrap().get(x.as_tensor()).unwrap().clone();
            [y, dx].map(|t| t.to_dtype(DType::F64).unwrap())
        };
        let (lo, hi) = (run(DType::F32), run(DType::F64));
        for (a, b) in lo.iter().zip(&hi) {
            let d = max_diff(a, b);
            assert!(d < 2e-5, "{d}");
        }
    }

    #[test]
    fn moments_are_biased() {
        let x = Tensor::new(&[[1f64, 2.0], [3.0, 6.0]], &Device::Cpu).unwrap();
        let (m, v) = moments(&x).unwrap();
        assert_eq!(m, vec![2.0, 4.0]);
        assert_eq!(v, vec![1.0, 4.0]);
    }
}
