//! A whole LSTM sequence as one op: the input projection of every step in one gemm, one small
//! gemm per step for the recurrence, and backpropagation through time with the weight
//! gradients as three gemms at the end. Gate order and weight layout are Keras's
//! (`i, f, c, o`; kernel `(input_dim, 4u)`, recurrent kernel `(u, 4u)`, bias `(4u,)`).

use super::activation::Act;
use super::lstm_cell::{BwdStep, FwdStep};
use super::{contiguous, dispatch_float, gemm, storage, Float};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};

/// The output of [`lstm`]: every step's hidden state and the final states.
pub struct LstmOut {
    /// `(batch, steps, units)`.
    pub sequences: Tensor,
    /// Last hidden state `(batch, units)`.
    pub h: Tensor,
    /// Last cell state `(batch, units)`.
    pub c: Tensor,
}

/// Runs an LSTM over `x (batch, steps, input_dim)` from zero states.
pub fn lstm(
    x: &Tensor,
    kernel: &Tensor,
    recurrent: &Tensor,
    bias: &Tensor,
    act: Act,
    recurrent_act: Act,
) -> Result<LstmOut> {
    let (n, t, d) = x.dims3()?;
    let (kd, u4) = kernel.dims2()?;
    let u = u4 / 4;
    if kd != d || recurrent.dims() != [u, u4] || bias.elem_count() != u4 {
        return Err(Error::shape(format!(
            "lstm: input dim {d}, kernel {:?}, recurrent kernel {:?}, bias {:?} do not fit",
            kernel.dims(),
            recurrent.dims(),
            bias.dims()
        )));
    }
    if !act.grad_from_output() || !recurrent_act.grad_from_output() {
        return Err(Error::value("lstm: activations must have a gradient computable from their output (tanh, sigmoid, relu, ...)"));
    }
    if t == 0 {
        return Err(Error::shape("lstm: the sequence has 0 steps"));
    }
    // The recurrent kernel and the bias travel as one argument, `[R; b]` of shape
    // `(u + 1, 4u)` (a candle op takes at most three), so both get their gradients.
    let rb = Tensor::cat(&[recurrent.clone(), bias.reshape((1, u4))?], 0)?;
    // Output rows are (n, t) with [h | c] per step.
    let out = x.contiguous()?.apply_op3(
        &kernel.contiguous()?,
        &rb.contiguous()?,
        LstmOp {
            act,
            ract: recurrent_act,
            trace: Default::default(),
        },
    )?;
    let sequences = out.narrow(2, 0, u)?;
    let h = out.narrow(1, t - 1, 1)?.narrow(2, 0, u)?.reshape((n, u))?;
    let c = out.narrow(1, t - 1, 1)?.narrow(2, u, u)?.reshape((n, u))?;
    Ok(LstmOut { sequences, h, c })
}

struct LstmOp {
    act: Act,
    ract: Act,
    /// The forward pass's gates and states, kept for the backward pass (taken once).
    trace: std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

/// Everything the forward pass computes, kept for the backward pass.
struct Trace<T> {
    /// Gate activations `[i, f, g, o]` per (n, t) row, `4u` each.
    gates: Vec<T>,
    /// Cell states per (n, t) row.
    cs: Vec<T>,
    /// Hidden states per (n, t) row.
    hs: Vec<T>,
}

/// Splits `n` sequences into one contiguous block per thread (one block when the work is
/// small): the recurrences of different sequences are independent.
fn seq_blocks(n: usize, work: usize) -> Vec<(usize, usize)> {
    let parts = if work >= 1 << 20 {
        super::parallel::threads().clamp(1, n.max(1))
    } else {
        1
    };
    let step = n.div_ceil(parts);
    (0..parts)
        .map(|p| (p * step, ((p + 1) * step).min(n)))
        .filter(|(a, b)| a < b)
        .collect()
}

/// Runs `f` on each block with its disjoint chunks of the per-row buffers (rows are
/// `(sequence, step)`, sequence-major, so a block of sequences is a contiguous range).
fn for_blocks<T: Float>(
    blocks: &[(usize, usize)],
    bufs: Vec<(&mut [T], usize)>,
    f: impl Fn(usize, usize, &mut [&mut [T]]) + Sync,
) {
    // Each buffer holds `per` values per sequence; a block takes its sequences' values.
    let shared: Vec<(super::SharedMut<T>, usize)> = bufs
        .into_iter()
        .map(|(buf, per)| (super::SharedMut::new(buf), per))
        .collect();
    super::for_each_part(blocks.len(), |i| {
        let (a, b) = blocks[i];
        // SAFETY: blocks cover disjoint sequence ranges of every buffer.
        let mut chunks: Vec<&mut [T]> = shared
            .iter()
            .map(|(s, per)| unsafe { s.slice(a * per, b * per) })
            .collect();
        f(a, b, &mut chunks);
    });
}

#[allow(clippy::too_many_arguments)]
fn forward<T: Float>(
    act: Act,
    ract: Act,
    x: &[T],
    w: &[T],
    r: &[T],
    b: &[T],
    n: usize,
    t: usize,
    d: usize,
    u: usize,
) -> Trace<T> {
    let u4 = 4 * u;
    // z = x @ W + b for every (n, t) row; the bias is broadcast by doubling copies.
    let mut zx = Vec::with_capacity(n * t * u4);
    zx.extend_from_slice(b);
    while zx.len() < n * t * u4 {
        let k = zx.len().min(n * t * u4 - zx.len());
        zx.extend_from_within(..k);
    }
    gemm(&mut zx, x, w, n * t, d, u4, false, false, true);
    let mut gates = vec![T::zero(); n * t * u4];
    let mut cs = vec![T::zero(); n * t * u];
    let mut hs = vec![T::zero(); n * t * u];
    let blocks = seq_blocks(n, n * t * u4 * u);
    let zx = &zx;
    for_blocks(
        &blocks,
        vec![
            (&mut gates[..], t * u4),
            (&mut cs[..], t * u),
            (&mut hs[..], t * u),
        ],
        |i0, i1, bufs| {
            let nb = i1 - i0;
            let [gates, cs, hs] = bufs else {
                unreachable!()
            };
            let mut h = vec![T::zero(); nb * u];
            let mut c = vec![T::zero(); nb * u];
            let mut z = vec![T::zero(); nb * u4];
            for s in 0..t {
                // z = h @ R, then the gates and states from z + zx[:, s].
                gemm(&mut z, &h, r, nb, u, u4, false, false, false);
                FwdStep {
                    u,
                    t,
                    s,
                    i0,
                    z: &z,
                    zx,
                    gates: &mut gates[..],
                    c: &mut c,
                    h: &mut h,
                    cs: &mut cs[..],
                    hs: &mut hs[..],
                }
                .run(act, ract);
            }
        },
    );
    Trace { gates, cs, hs }
}

impl CustomOp3 for LstmOp {
    fn name(&self) -> &'static str {
        "lstm"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sr: &CpuStorage,
        lr: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, t, d) = lx.shape().dims3()?;
        let u = lr.shape().dims2()?.0 - 1;
        fn run<T: Float>(
            op: &LstmOp,
            sx: &CpuStorage,
            lx: &Layout,
            sw: &CpuStorage,
            lw: &Layout,
            sr: &CpuStorage,
            lr: &Layout,
            dims: (usize, usize, usize, usize),
        ) -> candle_core::Result<CpuStorage> {
            let (n, t, d, u) = dims;
            let x = contiguous::<T>("lstm", sx, lx)?;
            let w = contiguous::<T>("lstm", sw, lw)?;
            let rb = contiguous::<T>("lstm", sr, lr)?;
            let (r, b) = rb.split_at(u * 4 * u);
            let tr = forward(op.act, op.ract, x, w, r, b, n, t, d, u);
            let mut out = Vec::with_capacity(n * t * 2 * u);
            for row in 0..n * t {
                out.extend_from_slice(&tr.hs[row * u..(row + 1) * u]);
                out.extend_from_slice(&tr.cs[row * u..(row + 1) * u]);
            }
            *op.trace.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(tr));
            Ok(storage(out))
        }
        let out = dispatch_float!("lstm", sx, run(self, sx, lx, sw, lw, sr, lr, (n, t, d, u)))?;
        Ok((out, Shape::from((n, t, 2 * u))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        rb: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (n, t, d) = x.dims3()?;
        let u = rb.dims2()?.0 - 1;
        let u4 = 4 * u;
        let grads = x.detach().apply_op3_no_bwd(
            &w.detach(),
            &rb.detach(),
            &LstmGrad {
                fwd: self,
                grad: grad.contiguous()?,
            },
        )?;
        let flat = grads.flatten_all()?;
        let dw = flat.narrow(0, 0, d * u4)?.reshape((d, u4))?;
        let drb = flat.narrow(0, d * u4, (u + 1) * u4)?.reshape((u + 1, u4))?;
        let dx = flat
            .narrow(0, d * u4 + (u + 1) * u4, n * t * d)?
            .reshape((n, t, d))?;
        Ok((x.track_op().then_some(dx), Some(dw), Some(drb)))
    }
}

/// (x, W, R) -> `[dW | dR | db | dx]` given the upstream gradient of `[h | c]` per step.
struct LstmGrad<'a> {
    fwd: &'a LstmOp,
    grad: Tensor,
}

impl CustomOp3 for LstmGrad<'_> {
    fn name(&self) -> &'static str {
        "lstm_grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sr: &CpuStorage,
        lr: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, t, d) = lx.shape().dims3()?;
        let u = lr.shape().dims2()?.0 - 1;
        fn run<T: Float>(
            me: &LstmGrad,
            sx: &CpuStorage,
            lx: &Layout,
            sw: &CpuStorage,
            lw: &Layout,
            sr: &CpuStorage,
            lr: &Layout,
            dims: (usize, usize, usize, usize),
        ) -> candle_core::Result<CpuStorage> {
            let (n, t, d, u) = dims;
            let u4 = 4 * u;
            let (act, ract) = (me.fwd.act, me.fwd.ract);
            let x = contiguous::<T>("lstm_grad", sx, lx)?;
            let w = contiguous::<T>("lstm_grad", sw, lw)?;
            let rb = contiguous::<T>("lstm_grad", sr, lr)?;
            let (r, b) = rb.split_at(u * u4);
            let gout: Vec<T> = me.grad.to_dtype(T::DTYPE)?.flatten_all()?.to_vec1::<T>()?;
            // The forward pass's trace, or (if this op's backward runs twice) a recomputation.
            let kept = me
                .fwd
                .trace
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let tr = match kept.and_then(|k| k.downcast::<Trace<T>>().ok()) {
                Some(tr) if tr.hs.len() == n * t * u => *tr,
                _ => forward(act, ract, x, w, r, b, n, t, d, u),
            };
            // dz for every (n, t) row, filled from the last step back; blocks of sequences
            // run on their own threads.
            let mut dz = vec![T::zero(); n * t * u4];
            let blocks = seq_blocks(n, n * t * u4 * u);
            let (tr_ref, gout) = (&tr, &gout[..]);
            for_blocks(&blocks, vec![(&mut dz[..], t * u4)], |i0, i1, bufs| {
                let nb = i1 - i0;
                let dz = &mut bufs[0];
                let mut dh_next = vec![T::zero(); nb * u];
                let mut dc_next = vec![T::zero(); nb * u];
                let mut dz_step = vec![T::zero(); nb * u4];
                let zeros = vec![T::zero(); u];
                for s in (0..t).rev() {
                    BwdStep {
                        u,
                        t,
                        s,
                        i0,
                        gates: &tr_ref.gates,
                        cs: &tr_ref.cs,
                        gout,
                        zeros: &zeros,
                        dh_next: &dh_next,
                        dc_next: &mut dc_next,
                        dz_step: &mut dz_step,
                        dz: &mut dz[..],
                    }
                    .run(act, ract);
                    // dh_prev = dz @ R^T
                    gemm(&mut dh_next, &dz_step, r, nb, u4, u, false, true, false);
                }
            });
            let mut out = vec![T::zero(); d * u4 + u * u4 + u4 + n * t * d];
            let (dw, rest) = out.split_at_mut(d * u4);
            let (dr, rest) = rest.split_at_mut(u * u4);
            let (db, dx) = rest.split_at_mut(u4);
            // dW = X^T dz, dx = dz W^T, db = sum dz, dR = H_prev^T dz.
            gemm(dw, x, &dz, d, n * t, u4, true, false, false);
            gemm(dx, &dz, w, n * t, u4, d, false, true, false);
            for row in dz.chunks_exact(u4) {
                db.iter_mut().zip(row).for_each(|(a, &v)| *a += v);
            }
            let mut h_prev = vec![T::zero(); n * t * u];
            for i in 0..n {
                for s in 1..t {
                    let row = i * t + s;
                    h_prev[row * u..(row + 1) * u].copy_from_slice(&tr.hs[(row - 1) * u..row * u]);
                }
            }
            gemm(dr, &h_prev, &dz, u, n * t, u4, true, false, false);
            Ok(storage(out))
        }
        let total = d * 4 * u + u * 4 * u + 4 * u + n * t * d;
        let out = dispatch_float!(
            "lstm_grad",
            sx,
            run(self, sx, lx, sw, lw, sr, lr, (n, t, d, u))
        )?;
        Ok((out, Shape::from(total)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::Device;

    fn t(dims: &[usize], a: f64, s: f64) -> Tensor {
        let n: usize = dims.iter().product();
        Tensor::from_vec(
            (0..n)
                .map(|i| ((i as f64) * a + 0.3).sin() * s)
                .collect::<Vec<_>>(),
            dims,
            &Device::Cpu,
        )
        .unwrap()
    }

    /// The same recurrence written with candle ops, step by step.
    fn reference(x: &Tensor, w: &Tensor, r: &Tensor, b: &Tensor) -> (Tensor, Tensor) {
        let (n, steps, _) = x.dims3().unwrap();
        let u = r.dims()[0];
        let mut h = Tensor::zeros((n, u), x.dtype(), x.device()).unwrap();
        let mut c = h.clone();
        let mut hs = vec![];
        let sig = |v: &Tensor| super::super::activation(v, Act::Sigmoid).unwrap();
        for s in 0..steps {
            let xt = x.narrow(1, s, 1).unwrap().squeeze(1).unwrap();
            let z = xt
                .matmul(w)
                .unwrap()
                .add(&h.matmul(r).unwrap())
                .unwrap()
                .broadcast_add(b)
                .unwrap();
            let (i, f, g, o) = (
                sig(&z.narrow(1, 0, u).unwrap()),
                sig(&z.narrow(1, u, u).unwrap()),
                z.narrow(1, 2 * u, u).unwrap().tanh().unwrap(),
                sig(&z.narrow(1, 3 * u, u).unwrap()),
            );
            c = f.mul(&c).unwrap().add(&i.mul(&g).unwrap()).unwrap();
            h = o.mul(&c.tanh().unwrap()).unwrap();
            hs.push(h.unsqueeze(1).unwrap());
        }
        (Tensor::cat(&hs, 1).unwrap(), c)
    }

    #[test]
    fn matches_the_recurrence_and_has_gradients() {
        let (x, w, r, b) = (
            t(&[2, 5, 3], 0.37, 1.0),
            t(&[3, 8], 0.71, 0.5),
            t(&[2, 8], 0.53, 0.5),
            t(&[8], 0.29, 0.3),
        );
        let out = lstm(&x, &w, &r, &b, Act::Tanh, Act::Sigmoid).unwrap();
        let (hs, c) = reference(&x, &w, &r, &b);
        let d = |a: &Tensor, b: &Tensor| {
            (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        assert!(d(&out.sequences, &hs) < 1e-12);
        assert!(d(&out.c, &c) < 1e-12);
        assert!(d(&out.h, &hs.narrow(1, 4, 1).unwrap().squeeze(1).unwrap()) < 1e-12);
        let rs = t(&[2, 5, 2], 0.61, 1.0);
        let rc = t(&[2, 2], 0.83, 1.0);
        check_gradient(
            &[x, w, r, b],
            |v| {
                let o = lstm(&v[0], &v[1], &v[2], &v[3], Act::Tanh, Act::Sigmoid)?;
                Ok((o.sequences.mul(&rs)?.sum_all()? + o.c.mul(&rc)?.sum_all()?)?)
            },
            1e-6,
            1e-5,
        )
        .unwrap();
    }

    #[test]
    fn threaded_blocks_match_the_composed_recurrence() {
        // Large enough to split the sequences over threads (where there are several).
        assert!(
            seq_blocks(64, 64 * 8 * 128 * 32).len() == super::super::parallel::threads().min(64)
        );
        let (n, steps, d, u) = (64, 8, 4, 32);
        let (x, w, r, b) = (
            t(&[n, steps, d], 0.37, 1.0),
            t(&[d, 4 * u], 0.71, 0.3),
            t(&[u, 4 * u], 0.53, 0.2),
            t(&[4 * u], 0.29, 0.3),
        );
        let g = t(&[n, steps, u], 0.11, 1.0);
        let vars: Vec<candle_core::Var> = [&x, &w, &r, &b]
            .iter()
            .map(|v| candle_core::Var::from_tensor(v).unwrap())
            .collect();
        let fused = lstm(
            vars[0].as_tensor(),
            vars[1].as_tensor(),
            vars[2].as_tensor(),
            vars[3].as_tensor(),
            Act::Tanh,
            Act::Sigmoid,
        )
        .unwrap();
        let cell = super::super::Cell::Lstm {
            act: Act::Tanh,
            recurrent_act: Act::Sigmoid,
        };
        let comp = super::super::recurrent(
            vars[0].as_tensor(),
            cell,
            vars[1].as_tensor(),
            vars[2].as_tensor(),
            Some(vars[3].as_tensor()),
            None,
            None,
            true,
        )
        .unwrap();
        let close = |a: &Tensor, b: &Tensor| {
            let a = super::super::to_vec_f64(a).unwrap();
            let b = super::super::to_vec_f64(b).unwrap();
            a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-10)
        };
        let seq = comp.sequences.unwrap();
        assert!(close(&fused.sequences, &seq));
        let ga = fused
            .sequences
            .mul(&g)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let gb = seq.mul(&g).unwrap().sum_all().unwrap().backward().unwrap();
        for v in &vars {
            let (a, b) = (
                ga.get(v.as_tensor()).unwrap(),
                gb.get(v.as_tensor()).unwrap(),
            );
            assert!(close(a, b));
        }
    }
}
