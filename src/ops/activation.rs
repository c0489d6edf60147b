//! Activation functions as one fused op each, forward and backward in a single pass.

use super::{contiguous, dispatch_float, storage, Float};
use crate::Result;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};

/// An activation function, with Keras 3's formulas and default parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    /// `x`
    Linear,
    /// `max(x, 0)`
    Relu,
    /// `1 / (1 + exp(-x))`
    Sigmoid,
    /// `exp(x) / sum(exp(x))` over the last axis
    Softmax,
    /// `tanh(x)`
    Tanh,
    /// `x` if `x > 0` else `alpha * (exp(x) - 1)`
    Elu(f64),
    /// `scale * elu(x, alpha)` with Keras's constants
    Selu,
    /// `x * Phi(x)`; `approximate` uses the tanh formula
    Gelu {
        /// Use the tanh approximation instead of `erf`.
        approximate: bool,
    },
    /// `x * sigmoid(x)` (also called swish)
    Silu,
    /// `log(1 + exp(x))`
    Softplus,
    /// `x / (1 + |x|)`
    Softsign,
    /// `x` if `x > 0` else `negative_slope * x`
    LeakyRelu(f64),
    /// `min(max(x, 0), 6)`
    Relu6,
    /// `exp(x)`
    Exponential,
    /// `relu6(x + 3) / 6`
    HardSigmoid,
    /// `x - log(sum(exp(x)))` over the last axis
    LogSoftmax,
}

const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

impl Act {
    /// Whether the gradient can be computed from the output alone (so a fused layer need not
    /// keep its pre-activation).
    pub fn grad_from_output(self) -> bool {
        !matches!(self, Act::Gelu { .. } | Act::Silu)
    }

    #[inline(always)]
    pub(crate) fn fwd<T: Float>(self, x: T) -> T {
        let f = <T as Float>::c;
        let zero = T::zero();
        let one = T::one();
        match self {
            Act::Linear | Act::Softmax | Act::LogSoftmax => x,
            // Comparisons written so NaN passes through, as in Keras.
            Act::Relu => {
                if x <= zero {
                    zero
                } else {
                    x
                }
            }
            Act::Sigmoid => sigmoid(x),
            Act::Tanh => x.tanh_fast(),
            Act::Elu(a) => {
                if x > zero {
                    x
                } else {
                    f(a) * x.exp_m1()
                }
            }
            Act::Selu => {
                if x > zero {
                    f(SELU_SCALE) * x
                } else {
                    f(SELU_SCALE * SELU_ALPHA) * x.exp_m1()
                }
            }
            Act::Gelu { approximate } => {
                if approximate {
                    let c = f((2.0 / std::f64::consts::PI).sqrt());
                    f(0.5) * x * (one + (c * (x + f(0.044715) * x * x * x)).tanh())
                } else {
                    let xf = x.f64v();
                    f(0.5) * x * (one + f(libm::erf(xf / std::f64::consts::SQRT_2)))
                }
            }
            Act::Silu => x * sigmoid(x),
            Act::Softplus => softplus(x),
            Act::Softsign => x / (one + x.abs()),
            Act::LeakyRelu(s) => {
                if x > zero {
                    x
                } else {
                    f(s) * x
                }
            }
            Act::Relu6 => clamp(x, zero, f(6.0)),
            Act::Exponential => x.exp(),
            Act::HardSigmoid => clamp(x + f(3.0), zero, f(6.0)) / f(6.0),
        }
    }

    /// d(act)/dx times `g`, from the output `y`. Only for `grad_from_output()` activations.
    #[inline(always)]
    pub(crate) fn bwd_from_y<T: Float>(self, y: T, g: T) -> T {
        let f = <T as Float>::c;
        let zero = T::zero();
        let one = T::one();
        match self {
            Act::Linear => g,
            Act::Relu => {
                if y > zero {
                    g
                } else {
                    zero
                }
            }
            Act::Sigmoid => g * y * (one - y),
            Act::Tanh => g * (one - y * y),
            Act::Elu(a) => {
                if y > zero {
                    g
                } else {
                    g * (y + f(a))
                }
            }
            Act::Selu => {
                if y > zero {
                    g * f(SELU_SCALE)
                } else {
                    g * (y + f(SELU_SCALE * SELU_ALPHA))
                }
            }
            Act::Softplus => g * (-(-y).exp_m1()),
            Act::Softsign => {
                let d = one - y.abs();
                g * d * d
            }
            Act::LeakyRelu(s) => {
                if y > zero {
                    g
                } else {
                    g * f(s)
                }
            }
            Act::Relu6 => {
                if y > zero && y < f(6.0) {
                    g
                } else {
                    zero
                }
            }
            Act::Exponential => g * y,
            Act::HardSigmoid => {
                if y > zero && y < one {
                    g / f(6.0)
                } else {
                    zero
                }
            }
            Act::Gelu { .. } | Act::Silu | Act::Softmax | Act::LogSoftmax => {
                unreachable!("{self:?} has no elementwise gradient from its output")
            }
        }
    }

    /// d(act)/dx times `g`, from the input `x` (for gelu and silu).
    #[inline]
    fn bwd_from_x<T: Float>(self, x: T, g: T) -> T {
        let f = <T as Float>::c;
        let one = T::one();
        match self {
            Act::Silu => {
                let s = sigmoid(x);
                g * s * (one + x * (one - s))
            }
            Act::Gelu { approximate: false } => {
                let xf = x.f64v();
                let cdf = 0.5 * (1.0 + libm::erf(xf / std::f64::consts::SQRT_2));
                let pdf = (-0.5 * xf * xf).exp() / (2.0 * std::f64::consts::PI).sqrt();
                g * f(cdf + xf * pdf)
            }
            Act::Gelu { approximate: true } => {
                let c = f((2.0 / std::f64::consts::PI).sqrt());
                let inner = c * (x + f(0.044715) * x * x * x);
                let t = inner.tanh();
                let dinner = c * (one + f(3.0 * 0.044715) * x * x);
                g * (f(0.5) * (one + t) + f(0.5) * x * (one - t * t) * dinner)
            }
            other => other.bwd_from_y(other.fwd(x), g),
        }
    }
}

/// `x` limited to `[lo, hi]`, NaN passing through.
#[inline]
fn clamp<T: Float>(x: T, lo: T, hi: T) -> T {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

#[inline]
fn sigmoid<T: Float>(x: T) -> T {
    let one = T::one();
    // Branch-free, so loops vectorize: exp_fast clamps its argument, so 1 / (1 + e^-x)
    // neither overflows nor loses the small values.
    one / (one + (-x).exp_fast())
}

#[inline]
fn softplus<T: Float>(x: T) -> T {
    // log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), stable for large |x|.
    x.maxf(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// Applies `act` to every row of `data` (rows of length `n`) in place.
pub(crate) fn apply_in_place<T: Float>(act: Act, data: &mut [T], n: usize) {
    match act {
        Act::Linear => {}
        Act::Softmax => {
            for row in data.chunks_exact_mut(n.max(1)) {
                let max = row.iter().fold(T::neg_infinity(), |m, &v| m.maxf(v));
                let mut sum = T::zero();
                for v in row.iter_mut() {
                    *v = (*v - max).exp_fast();
                    sum += *v;
                }
                let inv = T::one() / sum;
                row.iter_mut().for_each(|v| *v *= inv);
            }
        }
        Act::LogSoftmax => {
            for row in data.chunks_exact_mut(n.max(1)) {
                let max = row.iter().fold(T::neg_infinity(), |m, &v| m.maxf(v));
                let sum = row.iter().fold(T::zero(), |s, &v| s + (v - max).exp_fast());
                let shift = max + sum.ln();
                row.iter_mut().for_each(|v| *v -= shift);
            }
        }
        _ => map_each(act, data),
    }
}

/// A closure run over slices inside `pulp`'s dispatch, so it is compiled for AVX-512 / AVX2.
struct Each<'a, T, F>(&'a mut [T], &'a [T], F);

impl<T: Float, F: Fn(T, T) -> T> pulp::WithSimd for Each<'_, T, F> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        if self.1.is_empty() {
            self.0.iter_mut().for_each(|v| *v = (self.2)(*v, T::zero()));
        } else {
            self.0
                .iter_mut()
                .zip(self.1)
                .for_each(|(v, &o)| *v = (self.2)(*v, o));
        }
    }
}

#[inline(always)]
fn each<T: Float>(a: &mut [T], b: &[T], f: impl Fn(T, T) -> T) {
    pulp::Arch::new().dispatch(Each(a, b, f))
}

/// `data = act(data)`, with one loop per activation so each is specialized and vectorized.
fn map_each<T: Float>(act: Act, d: &mut [T]) {
    match act {
        Act::Relu => each(d, &[], |x, _| Act::Relu.fwd(x)),
        Act::Sigmoid => each(d, &[], |x, _| Act::Sigmoid.fwd(x)),
        Act::Tanh => each(d, &[], |x, _| Act::Tanh.fwd(x)),
        Act::Elu(a) => each(d, &[], |x, _| Act::Elu(a).fwd(x)),
        Act::Selu => each(d, &[], |x, _| Act::Selu.fwd(x)),
        Act::LeakyRelu(s) => each(d, &[], |x, _| Act::LeakyRelu(s).fwd(x)),
        Act::Relu6 => each(d, &[], |x, _| Act::Relu6.fwd(x)),
        Act::HardSigmoid => each(d, &[], |x, _| Act::HardSigmoid.fwd(x)),
        Act::Softsign => each(d, &[], |x, _| Act::Softsign.fwd(x)),
        Act::Exponential => each(d, &[], |x, _| Act::Exponential.fwd(x)),
        other => d.iter_mut().for_each(|v| *v = other.fwd(*v)),
    }
}

/// `g = d act / dx * g` from the output `y`, one specialized loop per activation.
fn grad_each<T: Float>(act: Act, y: &[T], g: &mut [T]) {
    match act {
        Act::Relu => each(g, y, |g, y| Act::Relu.bwd_from_y(y, g)),
        Act::Sigmoid => each(g, y, |g, y| Act::Sigmoid.bwd_from_y(y, g)),
        Act::Tanh => each(g, y, |g, y| Act::Tanh.bwd_from_y(y, g)),
        Act::Elu(a) => each(g, y, |g, y| Act::Elu(a).bwd_from_y(y, g)),
        Act::LeakyRelu(s) => each(g, y, |g, y| Act::LeakyRelu(s).bwd_from_y(y, g)),
        Act::Relu6 => each(g, y, |g, y| Act::Relu6.bwd_from_y(y, g)),
        other => g
            .iter_mut()
            .zip(y)
            .for_each(|(gv, &yv)| *gv = other.bwd_from_y(yv, *gv)),
    }
}

/// Gradient through `act` from its output `y`, rows of length `n`, written into `g`.
pub(crate) fn grad_from_output_in_place<T: Float>(act: Act, y: &[T], g: &mut [T], n: usize) {
    match act {
        Act::Linear => {}
        Act::Softmax => {
            for (yr, gr) in y.chunks_exact(n).zip(g.chunks_exact_mut(n)) {
                let dot = yr
                    .iter()
                    .zip(gr.iter())
                    .fold(T::zero(), |s, (&a, &b)| s + a * b);
                gr.iter_mut()
                    .zip(yr)
                    .for_each(|(gv, &yv)| *gv = yv * (*gv - dot));
            }
        }
        Act::LogSoftmax => {
            for (yr, gr) in y.chunks_exact(n).zip(g.chunks_exact_mut(n)) {
                let sum = gr.iter().fold(T::zero(), |s, &b| s + b);
                gr.iter_mut()
                    .zip(yr)
                    .for_each(|(gv, &yv)| *gv -= yv.exp() * sum);
            }
        }
        _ => grad_each(act, y, g),
    }
}

fn last_dim(l: &Layout) -> usize {
    l.dims().last().copied().unwrap_or(1).max(1)
}

struct ActFwd(Act);

impl CustomOp1 for ActFwd {
    fn name(&self) -> &'static str {
        "activation"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(act: Act, s: &CpuStorage, l: &Layout) -> candle_core::Result<CpuStorage> {
            let mut out = contiguous::<T>("activation", s, l)?.to_vec();
            apply_in_place(act, &mut out, last_dim(l));
            Ok(storage(out))
        }
        let out = dispatch_float!("activation", s, run(self.0, s, l))?;
        Ok((out, l.shape().clone()))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let saved = if self.0.grad_from_output() { res } else { arg };
        Ok(Some(activation_grad(saved, grad, self.0)?))
    }
}

/// The gradient at an activation's input, from `saved` (its output when
/// [`Act::grad_from_output`], else its input) and the upstream gradient `grad`: the one
/// backward of the activation op and of the fused dense and conv ops. A CPU f32 / f64 op.
pub(crate) fn activation_grad(
    saved: &Tensor,
    grad: &Tensor,
    act: Act,
) -> candle_core::Result<Tensor> {
    if act == Act::Linear {
        return grad.contiguous();
    }
    saved.apply_op2_no_bwd(&grad.contiguous()?, &ActBwd(act))
}

/// (saved input or output, upstream gradient) -> input gradient (see [`activation_grad`]).
struct ActBwd(Act);

impl CustomOp2 for ActBwd {
    fn name(&self) -> &'static str {
        "activation_grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            act: Act,
            s1: &CpuStorage,
            l1: &Layout,
            s2: &CpuStorage,
            l2: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let saved = contiguous::<T>("activation_grad", s1, l1)?;
            let mut g = contiguous::<T>("activation_grad", s2, l2)?.to_vec();
            if act.grad_from_output() {
                grad_from_output_in_place(act, saved, &mut g, last_dim(l1));
            } else {
                g.iter_mut()
                    .zip(saved)
                    .for_each(|(gv, &x)| *gv = act.bwd_from_x(x, *gv));
            }
            Ok(storage(g))
        }
        let out = dispatch_float!("activation_grad", s1, run(self.0, s1, l1, s2, l2))?;
        Ok((out, l1.shape().clone()))
    }
}

/// Applies an activation; rowwise ones (softmax, log_softmax) act on the last axis.
///
/// On the CPU this is one fused op with its own backward; elsewhere a composition of candle ops.
pub fn activation(x: &Tensor, act: Act) -> Result<Tensor> {
    if act == Act::Linear {
        return Ok(x.clone());
    }
    if x.device().is_cpu()
        && x.dtype().is_float()
        && matches!(x.dtype(), candle_core::DType::F32 | candle_core::DType::F64)
    {
        return Ok(x.contiguous()?.apply_op1(ActFwd(act))?);
    }
    Ok(fallback(x, act)?)
}

/// The same activations from plain candle ops, for devices without our kernels.
pub(crate) fn fallback(x: &Tensor, act: Act) -> candle_core::Result<Tensor> {
    let sig = |x: &Tensor| -> candle_core::Result<Tensor> { (x.neg()?.exp()? + 1.0)?.recip() };
    let last = x.rank().saturating_sub(1);
    match act {
        Act::Linear => Ok(x.clone()),
        Act::Relu => x.relu(),
        Act::Sigmoid => sig(x),
        Act::Tanh => x.tanh(),
        Act::Softmax => {
            let m = x.max_keepdim(last)?.detach();
            let e = x.broadcast_sub(&m)?.exp()?;
            e.broadcast_div(&e.sum_keepdim(last)?)
        }
        Act::LogSoftmax => {
            let m = x.max_keepdim(last)?.detach();
            let z = x.broadcast_sub(&m)?;
            z.broadcast_sub(&z.exp()?.sum_keepdim(last)?.log()?)
        }
        Act::Elu(a) => x.elu(a),
        Act::Selu => x.elu(SELU_ALPHA)? * SELU_SCALE,
        Act::Gelu { approximate: false } => x.gelu_erf(),
        Act::Gelu { approximate: true } => x.gelu(),
        Act::Silu => x.mul(&sig(x)?),
        Act::Softplus => {
            let pos = x.relu()?;
            pos.add(&((x.abs()?.neg()?.exp()? + 1.0)?.log()?))
        }
        Act::Softsign => x.div(&(x.abs()? + 1.0)?),
        Act::LeakyRelu(s) => x.relu()?.sub(&(x.neg()?.relu()? * s)?),
        Act::Relu6 => x.clamp(0.0, 6.0),
        Act::Exponential => x.exp(),
        Act::HardSigmoid => (x + 3.0)?.clamp(0.0, 6.0)? / 6.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::Device;

    const ALL: [Act; 17] = [
        Act::Linear,
        Act::Relu,
        Act::Sigmoid,
        Act::Softmax,
        Act::Tanh,
        Act::Elu(1.0),
        Act::Selu,
        Act::Gelu { approximate: false },
        Act::Gelu { approximate: true },
        Act::Silu,
        Act::Softplus,
        Act::Softsign,
        Act::LeakyRelu(0.2),
        Act::Relu6,
        Act::Exponential,
        Act::HardSigmoid,
        Act::LogSoftmax,
    ];

    fn input() -> Tensor {
        // Values away from the kinks of relu / relu6 / hard_sigmoid so finite differences hold.
        let v: Vec<f64> = (0..15)
            .map(|i| (i as f64 * 0.91 - 6.3) * 0.83 + 0.013)
            .collect();
        Tensor::from_vec(v, (3, 5), &Device::Cpu).unwrap()
    }

    #[test]
    fn every_activation_has_a_correct_gradient() {
        for act in ALL {
            let x = input();
            // Weight the output so rowwise gradients are not trivially zero.
            let w = Tensor::from_vec(
                (0..15).map(|i| (i as f64 * 0.37).sin()).collect::<Vec<_>>(),
                (3, 5),
                &Device::Cpu,
            )
            .unwrap();
            check_gradient(
                &[x],
                |xs| Ok(activation(&xs[0], act)?.mul(&w)?.sum_all()?),
                1e-6,
                1e-5,
            )
            .unwrap_or_else(|e| panic!("{act:?}: {e}"));
        }
    }

    #[test]
    fn fused_and_fallback_agree() {
        for act in ALL {
            let x = input();
            let a = activation(&x, act).unwrap().to_vec2::<f64>().unwrap();
            let b = fallback(&x, act).unwrap().to_vec2::<f64>().unwrap();
            for (ra, rb) in a.iter().zip(&b) {
                for (va, vb) in ra.iter().zip(rb) {
                    assert!(
                        (va - vb).abs() < 1e-9 * (1.0 + vb.abs()),
                        "{act:?}: {va} vs {vb}"
                    );
                }
            }
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_and_are_stable() {
        let x = Tensor::new(&[[1000f32, 1001.0, 1002.0], [-5.0, 0.0, 5.0]], &Device::Cpu).unwrap();
        let y = activation(&x, Act::Softmax)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        for row in y {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            assert!(row.iter().all(|v| v.is_finite()));
        }
    }
}
