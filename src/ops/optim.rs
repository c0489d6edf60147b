//! The fused CPU fast path of the optimizers that have one (SGD, Adam / AdamW, RMSprop): one
//! update applied to a variable in place, in one pass over its buffer, with gradient scaling,
//! clipping and weight decay in the same pass, and the optimizer's variables ([`Slot`]s:
//! momentums, velocities) as host buffers beside it. Formulas are Keras 3's; the general,
//! device-independent rules are the optimizers' own `update_step`s (`crate::optimizers`), and
//! their tests check the two agree.

use super::{DType, Device, Float, Tensor, Var};
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

/// One optimizer variable (a momentum, a velocity, an accumulator): on the host as a plain
/// buffer of the variable's float type (what the fused CPU updates work on in place), as a
/// tensor otherwise (other devices, integer placeholders).
#[derive(Debug)]
pub struct Slot {
    shape: Vec<usize>,
    dtype: DType,
    device: Device,
    buf: Buf,
}

#[derive(Debug)]
enum Buf {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Tensor(Tensor),
}

impl Slot {
    /// A variable of `shape` and `dtype` on `device`, every element `value`.
    ///
    /// ```
    /// use keras::ops::{Slot, DType, Device};
    /// let s = Slot::filled(&[2, 3], DType::F32, &Device::Cpu, 0.1)?;
    /// assert_eq!(s.tensor()?.to_vec2::<f32>()?[1], vec![0.1f32; 3]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn filled(shape: &[usize], dtype: DType, device: &Device, value: f64) -> Result<Slot> {
        let len: usize = shape.iter().product();
        let buf = match (device.is_cpu(), dtype) {
            (true, DType::F32) => Buf::F32(vec![value as f32; len]),
            (true, DType::F64) => Buf::F64(vec![value; len]),
            // Made in its own dtype on its device (no float64 detour a device may lack).
            _ => Buf::Tensor((Tensor::zeros(shape, dtype, device)? + value)?),
        };
        Ok(Slot {
            shape: shape.to_vec(),
            dtype,
            device: device.clone(),
            buf,
        })
    }

    /// The variable's dimensions.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of scalars held and their size in bytes.
    pub fn size(&self) -> (usize, f64) {
        let n: usize = self.shape.iter().product();
        (n, (n * self.dtype.size_in_bytes()) as f64)
    }

    /// The value as a tensor (a copy for host buffers).
    pub fn tensor(&self) -> Result<Tensor> {
        Ok(match &self.buf {
            Buf::F32(v) => Tensor::from_slice(v, self.shape.as_slice(), &self.device)?,
            Buf::F64(v) => Tensor::from_slice(v, self.shape.as_slice(), &self.device)?,
            Buf::Tensor(t) => t.clone(),
        })
    }

    /// Replaces the value; `value` must have the variable's shape (it is converted to the
    /// variable's dtype and device).
    pub fn set(&mut self, value: &Tensor) -> Result<()> {
        if value.dims() != self.shape.as_slice() {
            return Err(Error::shape(format!(
                "optimizer variable of shape {:?} cannot take a value of shape {:?}",
                self.shape,
                value.dims()
            )));
        }
        let v = value.to_dtype(self.dtype)?.to_device(&self.device)?;
        match &mut self.buf {
            Buf::F32(b) => *b = v.flatten_all()?.to_vec1()?,
            Buf::F64(b) => *b = v.flatten_all()?.to_vec1()?,
            Buf::Tensor(t) => *t = v.detach().contiguous()?,
        }
        Ok(())
    }

    /// Moves the variable to `device` (nothing happens when it is there).
    ///
    /// ```
    /// use keras::ops::{Slot, DType, Device};
    /// let mut s = Slot::filled(&[2], DType::F32, &Device::Cpu, 1.0)?;
    /// s.to_device(&Device::Cpu)?;
    /// assert_eq!(s.tensor()?.to_vec1::<f32>()?, vec![1.0, 1.0]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn to_device(&mut self, device: &Device) -> Result<()> {
        if self.device.same_device(device) {
            return Ok(());
        }
        let value = self.tensor()?.to_device(device)?;
        let mut moved = Slot::filled(&self.shape, self.dtype, device, 0.0)?;
        moved.set(&value)?;
        *self = moved;
        Ok(())
    }

    fn is_host(&self) -> bool {
        !matches!(self.buf, Buf::Tensor(_))
    }
}

/// Applies one fused update to `var` in place, from `grad`, with the rule's state in `slots`
/// (in the rule's order: SGD `[momentum]`, Adam `[momentum, velocity(, velocity_hat)]`,
/// RMSprop `[velocity(, momentum)(, average_gradient)]`), in one pass over the buffer.
/// Returns `Ok(false)`, changing nothing, where there is no fused path: a variable off the
/// CPU, not contiguous, not float32/float64, or state not on the host.
///
/// ```
/// use keras::ops::{self, Update, Slot, Var, Tensor, Device, DType};
/// let w = Var::new(&[1.0f32, 2.0], &Device::Cpu)?;
/// let g = Tensor::new(&[0.5f32, -0.5], &Device::Cpu)?;
/// let rule = Update::Sgd { lr: 0.1, momentum: 0.0, nesterov: false };
/// assert!(ops::update_in_place(&w, &g, &rule, &Default::default(), &mut [])?);
/// assert_eq!(w.as_tensor().to_vec1::<f32>()?, vec![0.95, 2.05]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn update_in_place(
    var: &Var,
    grad: &Tensor,
    update: &Update,
    args: &UpdateArgs,
    slots: &mut [&mut Slot],
) -> Result<bool> {
    let t = var.as_tensor();
    if t.dims() != grad.dims() {
        return Err(Error::shape(format!(
            "gradient shape {:?} does not match variable shape {:?}",
            grad.dims(),
            t.dims()
        )));
    }
    if slots.len() != update.buffers() {
        return Err(Error::value(format!(
            "the fused update needs {} state buffers; received {}",
            update.buffers(),
            slots.len()
        )));
    }
    let fits = t.device().is_cpu()
        && t.is_contiguous()
        && matches!(t.dtype(), DType::F32 | DType::F64)
        && slots
            .iter()
            .all(|s| s.is_host() && s.dtype == t.dtype() && s.shape.as_slice() == t.dims());
    if !fits {
        return Ok(false);
    }
    let grad = grad.to_dtype(t.dtype())?.contiguous()?;
    let op = InPlace {
        update,
        args,
        slots: RefCell::new(slots),
    };
    t.inplace_op2(&grad, &op)?;
    Ok(true)
}

struct InPlace<'a, 'b, 'c> {
    update: &'a Update,
    args: &'a UpdateArgs,
    slots: RefCell<&'b mut [&'c mut Slot]>,
}

trait HostBuf: Float {
    fn host(slot: &mut Slot) -> Option<&mut Vec<Self>>;
}
impl HostBuf for f32 {
    fn host(slot: &mut Slot) -> Option<&mut Vec<f32>> {
        match &mut slot.buf {
            Buf::F32(v) => Some(v),
            _ => None,
        }
    }
}
impl HostBuf for f64 {
    fn host(slot: &mut Slot) -> Option<&mut Vec<f64>> {
        match &mut slot.buf {
            Buf::F64(v) => Some(v),
            _ => None,
        }
    }
}

fn run<T: HostBuf>(op: &InPlace, w: &mut [T], g: &[T]) -> candle_core::Result<()> {
    let mut slots = op.slots.borrow_mut();
    let mut bufs: Vec<&mut Vec<T>> = slots.iter_mut().filter_map(|s| T::host(s)).collect();
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

impl InplaceOp2 for InPlace<'_, '_, '_> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_mismatch_and_missing_state_are_errors() {
        let w = Var::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        let g = Tensor::new(&[1f32, 2.0, 3.0], &Device::Cpu).unwrap();
        let sgd = Update::Sgd {
            lr: 0.1,
            momentum: 0.9,
            nesterov: false,
        };
        assert!(update_in_place(&w, &g, &sgd, &UpdateArgs::default(), &mut []).is_err());
        let g = Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        let e = update_in_place(&w, &g, &sgd, &UpdateArgs::default(), &mut []).unwrap_err();
        assert!(e.to_string().contains("needs 1 state buffers"), "{e}");
    }

    #[test]
    fn state_off_the_host_has_no_fused_path() {
        let w = Var::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        let g = Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        let sgd = Update::Sgd {
            lr: 0.1,
            momentum: 0.9,
            nesterov: false,
        };
        // A float64 buffer for a float32 variable: not the fused path's.
        let mut m = Slot::filled(&[2], DType::F64, &Device::Cpu, 0.0).unwrap();
        assert!(!update_in_place(&w, &g, &sgd, &UpdateArgs::default(), &mut [&mut m]).unwrap());
        assert_eq!(w.as_tensor().to_vec1::<f32>().unwrap(), vec![1.0, 2.0]);
        let mut m = Slot::filled(&[2], DType::F32, &Device::Cpu, 0.0).unwrap();
        assert!(update_in_place(&w, &g, &sgd, &UpdateArgs::default(), &mut [&mut m]).unwrap());
        assert_eq!(
            m.tensor().unwrap().to_vec1::<f32>().unwrap(),
            vec![-0.1, -0.2]
        );
    }
}
