//! Connectionist temporal classification loss as one fused op (Keras's `ops.ctc_loss`, JAX
//! backend: the recursion of optax's `ctc_loss_with_forward_probs`, with its `-1e5` standing
//! for `log 0`), and its backward written by hand: the same recursion run in reverse.

use super::{contiguous, dispatch_float, storage, Float};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};

/// optax's stand-in for `log 0`.
const LOG_EPSILON: f64 = -1e5;

/// The CTC loss of each sequence: `logits` of shape `(batch, time, classes)` (unnormalized),
/// `labels` of shape `(batch, max_label_length)` holding class indices, the first
/// `label_lengths[b]` of row `b` used, `logit_lengths[b]` time steps of row `b` used, and
/// class `blank` the blank. Returns the `(batch,)` negative log-likelihoods (Keras's
/// `ops.ctc_loss`), differentiable with respect to `logits`.
///
/// ```
/// use keras::ops::{self, Tensor, Device};
/// // Two steps, classes {blank, a}: the label "a" is emitted by "a a", "a -" and "- a".
/// let z = Tensor::new(&[[[0f32, 0.0], [0.0, 0.0]]], &Device::Cpu)?;
/// let y = Tensor::new(&[[1f32]], &Device::Cpu)?;
/// let l = ops::ctc_loss(&z, &y, &[1], &[2], 0)?;
/// assert!((ops::to_vec_f32(&l)?[0] - (4f32 / 3.0).ln()).abs() < 1e-6);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn ctc_loss(
    logits: &Tensor,
    labels: &Tensor,
    label_lengths: &[usize],
    logit_lengths: &[usize],
    blank: usize,
) -> Result<Tensor> {
    if !super::device::host_kernel_takes(logits) {
        // No device kernel yet: a round trip through the host (with gradients).
        let labels = labels.to_device(&candle_core::Device::Cpu)?;
        return super::device::on_host(&[logits], |h| {
            ctc_loss(&h[0], &labels, label_lengths, logit_lengths, blank)
        });
    }
    let (b, t, c) = match logits.dims() {
        &[b, t, c] => (b, t, c),
        d => {
            return Err(Error::shape(format!(
                "ctc_loss: logits should be of shape (batch_size, max_length, num_classes); \
                 received shape {}",
                crate::ops::shape_str(d)
            )))
        }
    };
    let l = match labels.dims() {
        &[lb, l] if lb == b => l,
        d => {
            return Err(Error::shape(format!(
                "ctc_loss: labels should be of shape (batch_size, max_length) = ({b}, ...) \
                 for logits of shape {}; received shape {}",
                crate::ops::shape_str(logits.dims()),
                crate::ops::shape_str(d)
            )))
        }
    };
    if !matches!(logits.dtype(), DType::F32 | DType::F64) {
        return Err(Error::value(format!(
            "ctc_loss: logits must be float32 or float64, got {:?}",
            logits.dtype()
        )));
    }
    if label_lengths.len() != b || logit_lengths.len() != b {
        return Err(Error::shape(format!(
            "ctc_loss: expected {b} label and logit lengths; received {} and {}",
            label_lengths.len(),
            logit_lengths.len()
        )));
    }
    if blank >= c {
        return Err(Error::value(format!(
            "ctc_loss: the blank index {blank} is outside the {c} classes"
        )));
    }
    let mut target = Vec::with_capacity(b * l);
    for v in crate::ops::to_vec_f64(labels)? {
        if !(v >= 0.0 && v < c as f64 && v.fract() == 0.0) {
            return Err(Error::value(format!(
                "ctc_loss: received a label value of {v} which is outside the valid range of \
                 [0, {c})"
            )));
        }
        target.push(v as usize);
    }
    let op = Ctc {
        target,
        label_len: label_lengths.iter().map(|&n| n.min(l)).collect(),
        logit_len: logit_lengths.iter().map(|&n| n.min(t)).collect(),
        blank,
        dims: (b, t, c, l),
    };
    Ok(logits.contiguous()?.apply_op1(op)?)
}

struct Ctc {
    target: Vec<usize>,
    label_len: Vec<usize>,
    logit_len: Vec<usize>,
    blank: usize,
    /// (batch, time, classes, max label length)
    dims: (usize, usize, usize, usize),
}

fn logaddexp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + (-(a - b).abs()).exp().ln_1p()
}

/// The log-softmax of each row of `z` (`rows` x `c`).
fn log_softmax(z: &[f64], c: usize) -> Vec<f64> {
    let mut out = z.to_vec();
    for row in out.chunks_exact_mut(c) {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        row.iter_mut().for_each(|v| *v -= lse);
    }
    out
}

/// The recursion's states of one sequence: before each step and after the last, `phi`
/// (`l + 1` values: all labels up to n emitted, then blank) and `emit` (`l` values: label n
/// just emitted), and `pp`, the phi states after the emit-to-phi transition of each step.
struct Trace {
    phi: Vec<Vec<f64>>,
    emit: Vec<Vec<f64>>,
    pp: Vec<Vec<f64>>,
}

impl Ctc {
    fn repeat(&self, lab: &[usize]) -> Vec<f64> {
        let l = lab.len();
        (0..l)
            .map(|n| f64::from(n + 1 < l && lab[n] == lab[n + 1]))
            .collect()
    }

    /// The forward recursion for sequence `bi` with log-probabilities `lp` (`t` x `c`).
    fn trace(&self, bi: usize, lp: &[f64]) -> Trace {
        let (_, _, c, l) = self.dims;
        let lab = &self.target[bi * l..(bi + 1) * l];
        let rep = self.repeat(lab);
        let mut phi = vec![LOG_EPSILON; l + 1];
        phi[0] = 0.0;
        let mut tr = Trace {
            phi: vec![phi],
            emit: vec![vec![LOG_EPSILON; l]],
            pp: vec![],
        };
        for t in 0..self.logit_len[bi] {
            let row = &lp[t * c..(t + 1) * c];
            let (phi, emit) = (tr.phi.last().unwrap(), tr.emit.last().unwrap());
            let mut pp = phi.clone();
            for k in 1..=l {
                pp[k] = logaddexp(phi[k], emit[k - 1] + LOG_EPSILON * rep[k - 1]);
            }
            let lphi = row[self.blank];
            let ne: Vec<f64> = (0..l)
                .map(|n| logaddexp(pp[n] + row[lab[n]], emit[n] + row[lab[n]]))
                .collect();
            let mut np: Vec<f64> = pp.iter().map(|v| v + lphi).collect();
            for k in 1..=l {
                np[k] = logaddexp(np[k], emit[k - 1] + lphi + LOG_EPSILON * (1.0 - rep[k - 1]));
            }
            tr.pp.push(pp);
            tr.phi.push(np);
            tr.emit.push(ne);
        }
        tr
    }

    /// The loss of sequence `bi` from its trace.
    fn loss(&self, bi: usize, tr: &Trace) -> f64 {
        let n = self.label_len[bi];
        let (phi, emit) = (tr.phi.last().unwrap(), tr.emit.last().unwrap());
        if n == 0 {
            -phi[0]
        } else {
            -logaddexp(phi[n], emit[n - 1])
        }
    }

    fn forward(&self, z: &[f64]) -> Vec<f64> {
        let (b, t, c, _) = self.dims;
        let lp = log_softmax(z, c);
        (0..b)
            .map(|bi| {
                let lp = &lp[bi * t * c..(bi + 1) * t * c];
                self.loss(bi, &self.trace(bi, lp))
            })
            .collect()
    }

    /// The gradient of `sum(upstream * loss)` with respect to the logits.
    fn backward(&self, z: &[f64], upstream: &[f64]) -> Vec<f64> {
        let (b, t, c, l) = self.dims;
        let lp = log_softmax(z, c);
        let mut gz = vec![0.0; z.len()];
        for bi in 0..b {
            let lpb = &lp[bi * t * c..(bi + 1) * t * c];
            let lab = &self.target[bi * l..(bi + 1) * l];
            let rep = self.repeat(lab);
            let tr = self.trace(bi, lpb);
            let steps = self.logit_len[bi];
            let (mut gphi, mut gemit) = (vec![0.0; l + 1], vec![0.0; l]);
            // The last phi-from-emit transition and the pick of label_len.
            let n = self.label_len[bi];
            let g = -upstream[bi];
            let (phi_t, emit_t) = (&tr.phi[steps], &tr.emit[steps]);
            if n == 0 {
                gphi[0] = g;
            } else {
                let r = logaddexp(phi_t[n], emit_t[n - 1]);
                gphi[n] = g * (phi_t[n] - r).exp();
                gemit[n - 1] = g * (emit_t[n - 1] - r).exp();
            }
            for s in (0..steps).rev() {
                let (phi, emit, pp) = (&tr.phi[s], &tr.emit[s], &tr.pp[s]);
                let (np, ne) = (&tr.phi[s + 1], &tr.emit[s + 1]);
                let row = &lpb[s * c..(s + 1) * c];
                let lphi = row[self.blank];
                let mut glp = vec![0.0; c];
                let mut gpp = vec![0.0; l + 1];
                let mut gpe = vec![0.0; l];
                gpp[0] += gphi[0];
                glp[self.blank] += gphi[0];
                for k in 1..=l {
                    let a = pp[k] + lphi;
                    let bb = emit[k - 1] + lphi + LOG_EPSILON * (1.0 - rep[k - 1]);
                    gpp[k] += gphi[k] * (a - np[k]).exp();
                    gpe[k - 1] += gphi[k] * (bb - np[k]).exp();
                    glp[self.blank] += gphi[k];
                }
                for j in 0..l {
                    let e = row[lab[j]];
                    gpp[j] += gemit[j] * (pp[j] + e - ne[j]).exp();
                    gpe[j] += gemit[j] * (emit[j] + e - ne[j]).exp();
                    glp[lab[j]] += gemit[j];
                }
                let mut gprev = vec![0.0; l + 1];
                gprev[0] = gpp[0];
                for k in 1..=l {
                    gprev[k] += gpp[k] * (phi[k] - pp[k]).exp();
                    gpe[k - 1] += gpp[k] * (emit[k - 1] + LOG_EPSILON * rep[k - 1] - pp[k]).exp();
                }
                gphi = gprev;
                gemit = gpe;
                // Through the log-softmax: dz_j = dlp_j - softmax_j * sum(dlp).
                let total: f64 = glp.iter().sum();
                let out = &mut gz[(bi * t + s) * c..(bi * t + s + 1) * c];
                for j in 0..c {
                    out[j] = glp[j] - row[j].exp() * total;
                }
            }
        }
        gz
    }
}

impl CustomOp1 for Ctc {
    fn name(&self) -> &'static str {
        "ctc_loss"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(op: &Ctc, s: &CpuStorage, l: &Layout) -> candle_core::Result<CpuStorage> {
            let z: Vec<f64> = contiguous::<T>("ctc_loss", s, l)?
                .iter()
                .map(|v| v.f64v())
                .collect();
            Ok(storage(op.forward(&z).into_iter().map(T::c).collect()))
        }
        Ok((
            dispatch_float!("ctc_loss", s, run(self, s, l))?,
            Shape::from(self.dims.0),
        ))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let z = arg.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
        let up = grad.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
        let g = self.backward(&z, &up);
        Ok(Some(
            Tensor::from_vec(g, arg.shape(), arg.device())?.to_dtype(arg.dtype())?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::Device;

    fn t(v: &[f64], dims: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), dims, &Device::Cpu).unwrap()
    }

    /// The probability of a label summed over every alignment, by brute force.
    fn brute_force(z: &[f64], tt: usize, c: usize, label: &[usize]) -> f64 {
        let lp = log_softmax(z, c);
        let mut total = 0.0;
        let mut path = vec![0usize; tt];
        loop {
            // Collapse repeats, drop blanks.
            let mut out = vec![];
            let mut prev = usize::MAX;
            for &k in &path {
                if k != prev && k != 0 {
                    out.push(k);
                }
                prev = k;
            }
            if out == label {
                total += (0..tt).map(|s| lp[s * c + path[s]]).sum::<f64>().exp();
            }
            let mut i = 0;
            while i < tt {
                path[i] += 1;
                if path[i] < c {
                    break;
                }
                path[i] = 0;
                i += 1;
            }
            if i == tt {
                break;
            }
        }
        -total.ln()
    }

    fn logits(b: usize, tt: usize, c: usize) -> Vec<f64> {
        (0..b * tt * c)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.3)
            .collect()
    }

    #[test]
    fn equals_the_sum_over_alignments() {
        let (tt, c) = (4, 3);
        let z = logits(3, tt, c);
        // A repeated label, a plain one, and an empty one (padding is 0).
        let labels = t(&[1., 1., 2., 0., 0., 0.], &[3, 2]);
        let l = ctc_loss(&t(&z, &[3, tt, c]), &labels, &[2, 1, 0], &[tt; 3], 0).unwrap();
        let got = crate::ops::to_vec_f64(&l).unwrap();
        let want = [
            brute_force(&z[..tt * c], tt, c, &[1, 1]),
            brute_force(&z[tt * c..2 * tt * c], tt, c, &[2]),
            brute_force(&z[2 * tt * c..], tt, c, &[]),
        ];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{got:?} {want:?}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (b, tt, c) = (2, 5, 4);
        let z = t(&logits(b, tt, c), &[b, tt, c]);
        let labels = t(&[1., 3., 3., 2., 0., 0.], &[2, 3]);
        let w = t(&[0.7, -1.3], &[2]);
        check_gradient(
            &[z],
            |v| {
                let l = ctc_loss(&v[0], &labels, &[3, 1], &[5, 4], 0)?;
                Ok((l * &w)?.sum_all()?)
            },
            1e-6,
            1e-6,
        )
        .unwrap();
    }

    #[test]
    fn bad_inputs_are_errors() {
        let z = t(&logits(1, 2, 3), &[1, 2, 3]);
        let e = ctc_loss(&z, &t(&[3.], &[1, 1]), &[1], &[2], 0).unwrap_err();
        assert!(e.to_string().contains("label value of 3"), "{e}");
        let e = ctc_loss(&z, &t(&[1., 1.], &[2, 1]), &[1, 1], &[2, 2], 0).unwrap_err();
        assert!(e.to_string().contains("(2, 1)"), "{e}");
        assert!(ctc_loss(&t(&[0.; 6], &[2, 3]), &t(&[1.], &[1, 1]), &[1], &[2], 0).is_err());
    }
}
