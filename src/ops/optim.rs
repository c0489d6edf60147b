//! Optimizer updates applied to a variable in place, in one pass over its buffer, with the
//! optimizer's state (momentums, velocities) in a [`Slot`] beside it. Formulas are Keras 3's.

use super::{Float, Tensor, Var};
use crate::{Error, Result};
use candle_core::{CpuStorage, InplaceOp2, Layout};
use std::cell::RefCell;

/// One optimizer step's rule and hyper-parameters (learning rate already resolved).
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// Keras `SGD`: `m = momentum * m - lr * g; w += m` (or the nesterov variant).
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum; 0 disables the momentum buffer.
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// Keras `Adam` / `AdamW` (the decay is [`UpdateArgs::weight_decay`]).
    Adam {
        /// Learning rate.
        lr: f64,
        /// Decay of the first moment.
        beta_1: f64,
        /// Decay of the second moment.
        beta_2: f64,
        /// Added to the root of the second moment.
        epsilon: f64,
        /// Keep the maximum of past second moments.
        amsgrad: bool,
        /// The 1-based step number (`iterations + 1`).
        step: u64,
    },
    /// Keras `RMSprop`.
    RmsProp {
        /// Learning rate.
        lr: f64,
        /// Decay of the mean square.
        rho: f64,
        /// Momentum; 0 disables the momentum buffer.
        momentum: f64,
        /// Added inside the root.
        epsilon: f64,
        /// Subtract the square of the mean gradient.
        centered: bool,
    },
}

impl Update {
    /// How many state buffers of the variable's size this rule keeps.
    pub fn buffers(&self) -> usize {
        match *self {
            Update::Sgd { momentum, .. } => usize::from(momentum != 0.0),
            Update::Adam { amsgrad, .. } => 2 + usize::from(amsgrad),
            Update::RmsProp {
                momentum, centered, ..
            } => 1 + usize::from(momentum > 0.0) + usize::from(centered),
        }
    }

    fn lr(&self) -> f64 {
        match *self {
            Update::Sgd { lr, .. } | Update::Adam { lr, .. } | Update::RmsProp { lr, .. } => lr,
        }
    }
}

/// Gradient treatment applied inside the same pass: scaling (global norm clipping), per-variable
/// norm clipping, value clipping and decoupled weight decay.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateArgs {
    /// Multiplies the gradient first (from `global_clipnorm`).
    pub grad_scale: Option<f64>,
    /// Clip the gradient's L2 norm to this value (`clipnorm`).
    pub clipnorm: Option<f64>,
    /// Clip each gradient value to `[-v, v]` (`clipvalue`).
    pub clipvalue: Option<f64>,
    /// `w -= w * weight_decay * lr` before the update.
    pub weight_decay: Option<f64>,
}

/// One variable's optimizer state: buffers of the variable's size, stored as the variable's
/// float type on the host, or as tensors on other devices.
#[derive(Debug, Default)]
pub struct Slot {
    bufs: Vec<Buf>,
}

#[derive(Debug)]
enum Buf {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Device(Tensor),
}

impl Slot {
    /// Number of scalars held and their size in bytes.
    pub fn size(&self) -> (usize, f64) {
        self.bufs.iter().fold((0, 0.0), |(n, b), buf| match buf {
            Buf::F32(v) => (n + v.len(), b + 4.0 * v.len() as f64),
            Buf::F64(v) => (n + v.len(), b + 8.0 * v.len() as f64),
            Buf::Device(t) => (
                n + t.elem_count(),
                b + (t.elem_count() * t.dtype().size_in_bytes()) as f64,
            ),
        })
    }

    /// The state buffers as tensors shaped like the variable (for saving and inspection).
    pub fn tensors(&self, like: &Tensor) -> Result<Vec<Tensor>> {
        self.bufs
            .iter()
            .map(|b| {
                Ok(match b {
                    Buf::F32(v) => Tensor::from_slice(v, like.shape(), like.device())?,
                    Buf::F64(v) => Tensor::from_slice(v, like.shape(), like.device())?,
                    Buf::Device(t) => t.clone(),
                })
            })
            .collect()
    }

    /// Replaces the state with these tensors (for loading); they must match the variable.
    pub fn set_tensors(&mut self, values: &[Tensor], like: &Tensor) -> Result<()> {
        let mut bufs = Vec::with_capacity(values.len());
        for v in values {
            if v.dims() != like.dims() {
                return Err(Error::shape(format!(
                    "optimizer state of shape {:?} does not fit a variable of shape {:?}",
                    v.dims(),
                    like.dims()
                )));
            }
            let v = v.to_dtype(like.dtype())?;
            bufs.push(if like.device().is_cpu() {
                match like.dtype() {
                    candle_core::DType::F32 => Buf::F32(v.flatten_all()?.to_vec1()?),
                    candle_core::DType::F64 => Buf::F64(v.flatten_all()?.to_vec1()?),
                    dt => {
                        return Err(Error::value(format!(
                            "optimizer: unsupported variable dtype {dt:?}"
                        )))
                    }
                }
            } else {
                Buf::Device(v.to_device(like.device())?)
            });
        }
        self.bufs = bufs;
        Ok(())
    }

    fn ensure(&mut self, n: usize, var: &Tensor) -> Result<()> {
        if self.bufs.len() == n {
            return Ok(());
        }
        let len = var.elem_count();
        self.bufs = (0..n)
            .map(|_| -> Result<Buf> {
                Ok(match (var.device().is_cpu(), var.dtype()) {
                    (true, candle_core::DType::F32) => Buf::F32(vec![0.0; len]),
                    (true, candle_core::DType::F64) => Buf::F64(vec![0.0; len]),
                    (true, dt) => {
                        return Err(Error::value(format!(
                            "optimizer: unsupported variable dtype {dt:?}"
                        )))
                    }
                    (false, _) => Buf::Device(var.zeros_like()?),
                })
            })
            .collect::<Result<_>>()?;
        Ok(())
    }
}

/// Applies one update to `var` in place, from `grad`, keeping state in `slot`.
///
/// ```
/// use keras::ops::{self, Update, Slot, Var, Tensor, Device};
/// let w = Var::new(&[1.0f32, 2.0], &Device::Cpu)?;
/// let g = Tensor::new(&[0.5f32, -0.5], &Device::Cpu)?;
/// let mut slot = Slot::default();
/// ops::update_in_place(&w, &g, &Update::Sgd { lr: 0.1, momentum: 0.0, nesterov: false }, &Default::default(), &mut slot)?;
/// assert_eq!(w.as_tensor().to_vec1::<f32>()?, vec![0.95, 2.05]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn update_in_place(
    var: &Var,
    grad: &Tensor,
    update: &Update,
    args: &UpdateArgs,
    slot: &mut Slot,
) -> Result<()> {
    let t = var.as_tensor();
    if t.dims() != grad.dims() {
        return Err(Error::shape(format!(
            "gradient shape {:?} does not match variable shape {:?}",
            grad.dims(),
            t.dims()
        )));
    }
    slot.ensure(update.buffers(), t)?;
    if t.device().is_cpu() && t.is_contiguous() {
        let grad = grad.to_dtype(t.dtype())?.contiguous()?;
        let op = InPlace {
            update,
            args,
            slot: RefCell::new(slot),
        };
        t.inplace_op2(&grad, &op)?;
        Ok(())
    } else {
        fallback(var, grad, update, args, slot)
    }
}

struct InPlace<'a> {
    update: &'a Update,
    args: &'a UpdateArgs,
    slot: RefCell<&'a mut Slot>,
}

trait HostBuf: Float {
    fn bufs(bufs: &mut [Buf]) -> Vec<&mut Vec<Self>>;
}
impl HostBuf for f32 {
    fn bufs(bufs: &mut [Buf]) -> Vec<&mut Vec<f32>> {
        bufs.iter_mut()
            .filter_map(|b| if let Buf::F32(v) = b { Some(v) } else { None })
            .collect()
    }
}
impl HostBuf for f64 {
    fn bufs(bufs: &mut [Buf]) -> Vec<&mut Vec<f64>> {
        bufs.iter_mut()
            .filter_map(|b| if let Buf::F64(v) = b { Some(v) } else { None })
            .collect()
    }
}

fn run<T: HostBuf>(op: &InPlace, w: &mut [T], g: &[T]) -> candle_core::Result<()> {
    let mut slot = op.slot.borrow_mut();
    let mut bufs = T::bufs(&mut slot.bufs);
    if bufs.len() != op.update.buffers()
        || bufs.iter().any(|b| b.len() != w.len())
        || g.len() != w.len()
    {
        candle_core::bail!("optimizer state does not match the variable");
    }
    // Gradient factor from global scaling and per-variable norm clipping.
    let mut scale = op.args.grad_scale.unwrap_or(1.0);
    if let Some(c) = op.args.clipnorm.filter(|c| *c > 0.0) {
        let l2: f64 = g.iter().map(|&v| v.f64v() * v.f64v()).sum::<f64>() * scale * scale;
        if l2 > 0.0 {
            scale *= c / l2.sqrt().max(c);
        }
    }
    let clip = op
        .args
        .clipvalue
        .filter(|c| *c > 0.0)
        .unwrap_or(f64::INFINITY);
    let k = Kernel {
        scale: T::c(scale),
        lo: T::c(-clip),
        hi: T::c(clip),
        // Keras: w = w - w * wd * lr.
        decay: T::c(op.args.weight_decay.unwrap_or(0.0)) * T::c(op.update.lr()),
    };
    // One pass per variable, compiled for the best vector unit the CPU has (AVX-512 / AVX2).
    pulp::Arch::new().dispatch(Pass {
        k: &k,
        update: op.update,
        w,
        g,
        bufs: &mut bufs,
    });
    Ok(())
}

/// The update as a `pulp` operation: its body is compiled once per instruction set, and the
/// one the CPU supports runs.
struct Pass<'a, 'b, T> {
    k: &'a Kernel<T>,
    update: &'a Update,
    w: &'a mut [T],
    g: &'a [T],
    bufs: &'a mut [&'b mut Vec<T>],
}

impl<T: Float> pulp::WithSimd for Pass<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        self.k.apply(self.update, self.w, self.g, self.bufs)
    }
}

/// The per-element part of an update, written as plain slice loops so they vectorize.
struct Kernel<T> {
    scale: T,
    lo: T,
    hi: T,
    decay: T,
}

impl<T: Float> Kernel<T> {
    #[inline(always)]
    fn grad(&self, g: T) -> T {
        (g * self.scale).maxf(self.lo).minf(self.hi)
    }

    #[inline(always)]
    fn decayed(&self, w: T) -> T {
        w - w * self.decay
    }

    #[inline(always)]
    fn apply(&self, update: &Update, w: &mut [T], g: &[T], bufs: &mut [&mut Vec<T>]) {
        let f = <T as Float>::c;
        match *update {
            Update::Sgd {
                lr,
                momentum,
                nesterov,
            } => {
                let lr = f(lr);
                if momentum == 0.0 {
                    for (wv, &gv) in w.iter_mut().zip(g) {
                        *wv = self.decayed(*wv) - self.grad(gv) * lr;
                    }
                } else {
                    let mo = f(momentum);
                    let m = &mut bufs[0][..];
                    for ((wv, &gv), mv) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                        let gi = self.grad(gv);
                        *mv = *mv * mo - gi * lr;
                        let wd = self.decayed(*wv);
                        *wv = if nesterov {
                            wd + (*mv * mo - gi * lr)
                        } else {
                            wd + *mv
                        };
                    }
                }
            }
            Update::Adam {
                lr,
                beta_1,
                beta_2,
                epsilon,
                amsgrad,
                step,
            } => {
                // Powers and alpha in the variable's dtype, as Keras computes them.
                let s = f(step as f64);
                let b1p = f(beta_1).powf(s);
                let b2p = f(beta_2).powf(s);
                let alpha = f(lr) * (f(1.0) - b2p).sqrt() / (f(1.0) - b1p);
                let (c1, c2, eps) = (f(1.0) - f(beta_1), f(1.0) - f(beta_2), f(epsilon));
                let (mb, rest) = bufs.split_at_mut(1);
                let (vb, hb) = rest.split_at_mut(1);
                let (m, v) = (&mut mb[0][..], &mut vb[0][..]);
                if amsgrad {
                    let h = &mut hb[0][..];
                    for ((((wv, &gv), mv), vv), hv) in w
                        .iter_mut()
                        .zip(g)
                        .zip(m.iter_mut())
                        .zip(v.iter_mut())
                        .zip(h.iter_mut())
                    {
                        let gi = self.grad(gv);
                        *mv = *mv + (gi - *mv) * c1;
                        *vv = *vv + (gi * gi - *vv) * c2;
                        *hv = hv.maxf(*vv);
                        *wv = self.decayed(*wv) - (*mv * alpha) / (hv.sqrt() + eps);
                    }
                } else {
                    for (((wv, &gv), mv), vv) in
                        w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                    {
                        let gi = self.grad(gv);
                        *mv = *mv + (gi - *mv) * c1;
                        *vv = *vv + (gi * gi - *vv) * c2;
                        *wv = self.decayed(*wv) - (*mv * alpha) / (vv.sqrt() + eps);
                    }
                }
            }
            Update::RmsProp {
                lr,
                rho,
                momentum,
                epsilon,
                centered,
            } => {
                let (lr, rho_t, one_m_rho, eps, mo) =
                    (f(lr), f(rho), f(1.0 - rho), f(epsilon), f(momentum));
                let (vb, rest) = bufs.split_at_mut(1);
                let vel = &mut vb[0][..];
                let (mom, rest) = if momentum > 0.0 {
                    let (a, b) = rest.split_at_mut(1);
                    (Some(&mut a[0][..]), b)
                } else {
                    (None, rest)
                };
                let avg = if centered {
                    Some(&mut rest[0][..])
                } else {
                    None
                };
                let n = w.len();
                // The four combinations as separate loops, each without branches.
                match (mom, avg) {
                    (None, None) => {
                        for ((wv, &gv), v) in w.iter_mut().zip(g).zip(vel.iter_mut()) {
                            let gi = self.grad(gv);
                            *v = rho_t * *v + one_m_rho * gi * gi;
                            *wv = self.decayed(*wv) - lr * gi / (*v + eps).sqrt();
                        }
                    }
                    (Some(mm), None) => {
                        for (((wv, &gv), v), mv) in
                            w.iter_mut().zip(g).zip(vel.iter_mut()).zip(mm.iter_mut())
                        {
                            let gi = self.grad(gv);
                            *v = rho_t * *v + one_m_rho * gi * gi;
                            *mv = mo * *mv + lr * gi / (*v + eps).sqrt();
                            *wv = self.decayed(*wv) - *mv;
                        }
                    }
                    (mm, Some(a)) => {
                        let mut mm = mm;
                        for i in 0..n {
                            let gi = self.grad(g[i]);
                            vel[i] = rho_t * vel[i] + one_m_rho * gi * gi;
                            a[i] = rho_t * a[i] + one_m_rho * gi;
                            let inc = lr * gi / (vel[i] - a[i] * a[i] + eps).sqrt();
                            let wd = self.decayed(w[i]);
                            w[i] = match mm.as_mut() {
                                Some(mv) => {
                                    mv[i] = mo * mv[i] + inc;
                                    wd - mv[i]
                                }
                                None => wd - inc,
                            };
                        }
                    }
                }
            }
        }
    }
}

impl InplaceOp2 for InPlace<'_> {
    fn name(&self) -> &'static str {
        "optimizer_update"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> candle_core::Result<()> {
        let (a, b) = dst_l.contiguous_offsets().ok_or_else(|| {
            candle_core::Error::Msg("optimizer: variable is not contiguous".into())
        })?;
        match dst {
            CpuStorage::F32(w) => run::<f32>(
                self,
                &mut w[a..b],
                super::contiguous::<f32>("optimizer", gs, gl)?,
            ),
            CpuStorage::F64(w) => run::<f64>(
                self,
                &mut w[a..b],
                super::contiguous::<f64>("optimizer", gs, gl)?,
            ),
            _ => candle_core::bail!("optimizer: variables must be float32 or float64"),
        }
    }
}

/// The same updates from plain candle ops (other devices, and a reference for the tests).
fn fallback(
    var: &Var,
    grad: &Tensor,
    update: &Update,
    args: &UpdateArgs,
    slot: &mut Slot,
) -> Result<()> {
    let w = var.as_tensor().detach();
    slot.ensure(update.buffers(), &w)?;
    let mut bufs: Vec<Tensor> = slot.tensors(&w)?;
    let mut g = grad.to_dtype(w.dtype())?.detach();
    if let Some(s) = args.grad_scale {
        g = (g * s)?;
    }
    if let Some(c) = args.clipnorm.filter(|c| *c > 0.0) {
        let n = g
            .sqr()?
            .sum_all()?
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?
            .sqrt();
        if n > 0.0 {
            g = (g * (c / n.max(c)))?;
        }
    }
    if let Some(c) = args.clipvalue.filter(|c| *c > 0.0) {
        g = g.clamp(-c, c)?;
    }
    let mut w = w;
    if let Some(wd) = args.weight_decay.filter(|wd| *wd != 0.0) {
        w = (&w - (&w * (wd * update.lr()))?)?;
    }
    let w = match *update {
        Update::Sgd {
            lr,
            momentum,
            nesterov,
        } => {
            if momentum == 0.0 {
                (w - (g * lr)?)?
            } else {
                bufs[0] = ((&bufs[0] * momentum)? - (&g * lr)?)?;
                if nesterov {
                    (w + ((&bufs[0] * momentum)? - (&g * lr)?)?)?
                } else {
                    (w + &bufs[0])?
                }
            }
        }
        Update::Adam {
            lr,
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
            step,
        } => {
            let alpha =
                lr * (1.0 - beta_2.powf(step as f64)).sqrt() / (1.0 - beta_1.powf(step as f64));
            bufs[0] = (&bufs[0] + ((&g - &bufs[0])? * (1.0 - beta_1))?)?;
            bufs[1] = (&bufs[1] + ((g.sqr()? - &bufs[1])? * (1.0 - beta_2))?)?;
            let v = if amsgrad {
                bufs[2] = bufs[2].maximum(&bufs[1])?;
                bufs[2].clone()
            } else {
                bufs[1].clone()
            };
            (w - ((&bufs[0] * alpha)? / (v.sqrt()? + epsilon)?)?)?
        }
        Update::RmsProp {
            lr,
            rho,
            momentum,
            epsilon,
            centered,
        } => {
            bufs[0] = ((&bufs[0] * rho)? + (g.sqr()? * (1.0 - rho))?)?;
            let mut idx = 1;
            let mom_i = if momentum > 0.0 {
                idx += 1;
                Some(idx - 1)
            } else {
                None
            };
            let denom = if centered {
                bufs[idx] = ((&bufs[idx] * rho)? + (&g * (1.0 - rho))?)?;
                ((&bufs[0] - bufs[idx].sqr()?)? + epsilon)?
            } else {
                (&bufs[0] + epsilon)?
            };
            let inc = ((g * lr)? / denom.sqrt()?)?;
            match mom_i {
                Some(i) => {
                    bufs[i] = ((&bufs[i] * momentum)? + inc)?;
                    (w - &bufs[i])?
                }
                None => (w - inc)?,
            }
        }
    };
    var.set(&w)?;
    slot.set_tensors(&bufs, var.as_tensor())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn rules() -> Vec<Update> {
        vec![
            Update::Sgd {
                lr: 0.1,
                momentum: 0.0,
                nesterov: false,
            },
            Update::Sgd {
                lr: 0.1,
                momentum: 0.9,
                nesterov: false,
            },
            Update::Sgd {
                lr: 0.1,
                momentum: 0.9,
                nesterov: true,
            },
            Update::Adam {
                lr: 0.01,
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon: 1e-7,
                amsgrad: false,
                step: 1,
            },
            Update::Adam {
                lr: 0.01,
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon: 1e-7,
                amsgrad: true,
                step: 1,
            },
            Update::RmsProp {
                lr: 0.01,
                rho: 0.9,
                momentum: 0.0,
                epsilon: 1e-7,
                centered: false,
            },
            Update::RmsProp {
                lr: 0.01,
                rho: 0.9,
                momentum: 0.5,
                epsilon: 1e-7,
                centered: true,
            },
        ]
    }

    /// The fused CPU pass and the candle-ops fallback agree over three steps.
    #[test]
    fn in_place_matches_fallback() {
        let args = [
            UpdateArgs::default(),
            UpdateArgs {
                clipnorm: Some(0.5),
                ..Default::default()
            },
            UpdateArgs {
                clipvalue: Some(0.2),
                weight_decay: Some(0.1),
                ..Default::default()
            },
        ];
        for rule in rules() {
            for a in &args {
                let w0 = [0.5f64, -1.0, 2.0, 0.1];
                let fused = Var::new(&w0, &Device::Cpu).unwrap();
                let plain = Var::new(&w0, &Device::Cpu).unwrap();
                let (mut s1, mut s2) = (Slot::default(), Slot::default());
                for step in 1..=3u64 {
                    let g = Tensor::new(&[0.3f64 * step as f64, -0.2, 0.05, 1.0], &Device::Cpu)
                        .unwrap();
                    let rule = match rule.clone() {
                        Update::Adam {
                            lr,
                            beta_1,
                            beta_2,
                            epsilon,
                            amsgrad,
                            ..
                        } => Update::Adam {
                            lr,
                            beta_1,
                            beta_2,
                            epsilon,
                            amsgrad,
                            step,
                        },
                        r => r,
                    };
                    update_in_place(&fused, &g, &rule, a, &mut s1).unwrap();
                    fallback(&plain, &g, &rule, a, &mut s2).unwrap();
                }
                let x = fused.as_tensor().to_vec1::<f64>().unwrap();
                let y = plain.as_tensor().to_vec1::<f64>().unwrap();
                for (p, q) in x.iter().zip(&y) {
                    assert!((p - q).abs() < 1e-12, "{rule:?} {a:?}: {x:?} vs {y:?}");
                }
                assert_ne!(x, w0.to_vec(), "{rule:?} did not move the weights");
            }
        }
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let w = Var::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        let g = Tensor::new(&[1f32, 2.0, 3.0], &Device::Cpu).unwrap();
        let mut s = Slot::default();
        assert!(update_in_place(&w, &g, &rules()[0], &UpdateArgs::default(), &mut s).is_err());
    }
}
