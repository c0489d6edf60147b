//! Recurrent layers as compositions of ops with checked gradients: one projection of every
//! step's input (a fused dense), then a loop of small ops per step. `SimpleRNN` and `GRU` run
//! here; `LSTM` runs here when it needs what its fused op lacks (recurrent dropout, devices
//! other than the CPU). Weight layouts and gate orders are Keras's.

use super::dense::matmul;
use super::{activation, dense, Act};
use crate::{Error, Result};
use candle_core::Tensor;

/// One step's arithmetic: which recurrent cell, with its activations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    /// `h = act(x W + b + h U)`.
    Simple {
        /// Output activation.
        act: Act,
    },
    /// Keras's GRU, gates `z, r, h`. With `reset_after` (Keras's default) the reset gate
    /// multiplies `h U_h + b_rec_h`, and the bias is `(2, 3u)`: input and recurrent rows.
    Gru {
        /// Candidate activation.
        act: Act,
        /// Gate activation.
        recurrent_act: Act,
        /// Apply the reset gate after the recurrent matmul.
        reset_after: bool,
    },
    /// Keras's LSTM, gates `i, f, c, o`.
    Lstm {
        /// Cell activation.
        act: Act,
        /// Gate activation.
        recurrent_act: Act,
    },
}

impl Cell {
    /// Blocks of `units` columns in the kernels (1, 3 or 4).
    pub fn gates(self) -> usize {
        match self {
            Cell::Simple { .. } => 1,
            Cell::Gru { .. } => 3,
            Cell::Lstm { .. } => 4,
        }
    }
    /// States carried between steps (`h`, and `c` for an LSTM).
    pub fn states(self) -> usize {
        if matches!(self, Cell::Lstm { .. }) {
            2
        } else {
            1
        }
    }
}

/// Every step's hidden state `(batch, steps, units)` (when asked for) and the final states.
pub struct RecurrentOut {
    /// Hidden state of every step, in processing order.
    pub sequences: Option<Tensor>,
    /// Final `h` (and `c` for an LSTM), each `(batch, units)`.
    pub states: Vec<Tensor>,
}

fn cols(t: &Tensor, block: usize, units: usize) -> Result<Tensor> {
    Ok(t.narrow(1, block * units, units)?)
}

/// Which steps count, for sequences with padding.
#[derive(Clone, Copy, Debug)]
pub struct StepMask<'a> {
    /// `(batch, steps)`: 1 for a real step, 0 for padding. At a padded step the states carry
    /// over unchanged.
    pub mask: &'a Tensor,
    /// The output at a padded step is zeros (else the carried-over output).
    pub zero_output: bool,
}

/// Runs `cell` over `x (batch, steps, input_dim)` from zero states. `bias` is `(g*u,)`, or
/// `(2, 3u)` for a GRU with `reset_after`. `recurrent_mask (batch, units)` multiplies the
/// previous hidden state before the recurrent matmul (recurrent dropout); `step_mask` skips
/// padded steps.
#[allow(clippy::too_many_arguments)]
pub fn recurrent(
    x: &Tensor,
    cell: Cell,
    kernel: &Tensor,
    recurrent_kernel: &Tensor,
    bias: Option<&Tensor>,
    recurrent_mask: Option<&Tensor>,
    step_mask: Option<StepMask>,
    keep_sequences: bool,
) -> Result<RecurrentOut> {
    let (n, steps, d) = x.dims3()?;
    let (kd, gu) = kernel.dims2()?;
    let g = cell.gates();
    let u = gu / g;
    if kd != d || gu != g * u || recurrent_kernel.dims() != [u, gu] {
        return Err(Error::shape(format!(
            "recurrent: input dim {d}, kernel {:?} and recurrent kernel {:?} do not fit",
            kernel.dims(),
            recurrent_kernel.dims()
        )));
    }
    let (in_bias, rec_bias) = match (cell, bias) {
        (
            Cell::Gru {
                reset_after: true, ..
            },
            Some(b),
        ) => (Some(b.get(0)?), Some(b.get(1)?)),
        (_, b) => (b.cloned(), None),
    };
    let xk = dense(x, kernel, in_bias.as_ref(), Act::Linear)?;
    let mut h = Tensor::zeros((n, u), x.dtype(), x.device())?;
    let mut c = h.clone();
    let mut seq = Vec::with_capacity(if keep_sequences { steps } else { 0 });
    let step_mask = step_mask
        .map(|m| -> Result<(Tensor, bool)> {
            if m.mask.dims() != [n, steps] {
                return Err(Error::shape(format!(
                    "recurrent: mask of shape {:?} for an input of {n} sequences of {steps} steps",
                    m.mask.dims()
                )));
            }
            Ok((m.mask.to_dtype(x.dtype())?, m.zero_output))
        })
        .transpose()?;
    for t in 0..steps {
        let xt = xk.narrow(1, t, 1)?.squeeze(1)?;
        let (h_prev, c_prev) = (h.clone(), c.clone());
        let hm = match recurrent_mask {
            Some(m) => h.mul(m)?,
            None => h.clone(),
        };
        h = match cell {
            Cell::Simple { act } => activation(&(xt + matmul(&hm, recurrent_kernel)?)?, act)?,
            Cell::Gru {
                act,
                recurrent_act,
                reset_after,
            } => {
                let (z, hh) = if reset_after {
                    let mut inner = matmul(&hm, recurrent_kernel)?;
                    if let Some(rb) = &rec_bias {
                        inner = inner.broadcast_add(rb)?;
                    }
                    let zr = activation(
                        &(cols(&xt, 0, 2 * u)? + cols(&inner, 0, 2 * u)?)?,
                        recurrent_act,
                    )?;
                    let (z, r) = (cols(&zr, 0, u)?, cols(&zr, 1, u)?);
                    let hh = activation(&(cols(&xt, 2, u)? + r.mul(&cols(&inner, 2, u)?)?)?, act)?;
                    (z, hh)
                } else {
                    let inner = matmul(&hm, &recurrent_kernel.narrow(1, 0, 2 * u)?)?;
                    let zr = activation(&(cols(&xt, 0, 2 * u)? + inner)?, recurrent_act)?;
                    let (z, r) = (cols(&zr, 0, u)?, cols(&zr, 1, u)?);
                    let rh = matmul(&r.mul(&hm)?, &recurrent_kernel.narrow(1, 2 * u, u)?)?;
                    let hh = activation(&(cols(&xt, 2, u)? + rh)?, act)?;
                    (z, hh)
                };
                // h = z * h_prev + (1 - z) * hh = hh + z * (h_prev - hh)
                (&hh + z.mul(&(h - &hh)?)?)?
            }
            Cell::Lstm { act, recurrent_act } => {
                let zs = (xt + matmul(&hm, recurrent_kernel)?)?;
                let ifo =
                    |b: usize| -> Result<Tensor> { activation(&cols(&zs, b, u)?, recurrent_act) };
                let (i, f, o) = (ifo(0)?, ifo(1)?, ifo(3)?);
                let cand = activation(&cols(&zs, 2, u)?, act)?;
                c = (f.mul(&c)? + i.mul(&cand)?)?;
                o.mul(&activation(&c, act)?)?
            }
        };
        let mut out_t = h.clone();
        if let Some((m, zero_output)) = &step_mask {
            // Padded steps keep the previous states: s = s_prev + m * (s_new - s_prev).
            let mt = m.narrow(1, t, 1)?;
            h = (&h_prev + (&h - &h_prev)?.broadcast_mul(&mt)?)?;
            c = (&c_prev + (&c - &c_prev)?.broadcast_mul(&mt)?)?;
            out_t = if *zero_output {
                out_t.broadcast_mul(&mt)?
            } else {
                h.clone()
            };
        }
        if keep_sequences {
            seq.push(out_t);
        }
    }
    let sequences = if keep_sequences {
        Some(if seq.is_empty() {
            Tensor::zeros((n, 0, u), x.dtype(), x.device())?
        } else {
            Tensor::stack(&seq, 1)?
        })
    } else {
        None
    };
    let mut states = vec![h];
    if cell.states() == 2 {
        states.push(c);
    }
    Ok(RecurrentOut { sequences, states })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::{DType, Device};

    fn rand(dims: &[usize], scale: f64) -> Tensor {
        (crate::random::normal(dims)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            * scale)
            .unwrap()
    }

    #[test]
    fn gradients_of_every_cell() {
        let (n, t, d, u) = (2, 3, 4, 3);
        let cells = [
            Cell::Simple { act: Act::Tanh },
            Cell::Gru {
                act: Act::Tanh,
                recurrent_act: Act::Sigmoid,
                reset_after: true,
            },
            Cell::Gru {
                act: Act::Tanh,
                recurrent_act: Act::Sigmoid,
                reset_after: false,
            },
            Cell::Lstm {
                act: Act::Tanh,
                recurrent_act: Act::Sigmoid,
            },
        ];
        for cell in cells {
            let g = cell.gates();
            let bias_dims: Vec<usize> = match cell {
                Cell::Gru {
                    reset_after: true, ..
                } => vec![2, g * u],
                _ => vec![g * u],
            };
            let inputs = [
                rand(&[n, t, d], 1.0),
                rand(&[d, g * u], 0.5),
                rand(&[u, g * u], 0.5),
                rand(&bias_dims, 0.5),
            ];
            let mask = rand(&[n, u], 1.0);
            let r = rand(&[n, t, u], 1.0);
            check_gradient(
                &inputs,
                |v| {
                    let out = recurrent(
                        &v[0],
                        cell,
                        &v[1],
                        &v[2],
                        Some(&v[3]),
                        Some(&mask),
                        None,
                        true,
                    )?;
                    let s = out.sequences.unwrap().mul(&r)?.sum_all()?;
                    Ok((s + out.states.last().unwrap().sum_all()?)?)
                },
                1e-6,
                1e-6,
            )
            .unwrap_or_else(|e| panic!("{cell:?}: {e}"));
        }
    }

    #[test]
    fn composed_lstm_equals_the_fused_op() {
        let (n, t, d, u) = (3, 5, 4, 6);
        let x = rand(&[n, t, d], 1.0);
        let k = rand(&[d, 4 * u], 0.4);
        let rk = rand(&[u, 4 * u], 0.4);
        let b = rand(&[4 * u], 0.3);
        let fused = super::super::lstm(&x, &k, &rk, &b, Act::Tanh, Act::Sigmoid).unwrap();
        let cell = Cell::Lstm {
            act: Act::Tanh,
            recurrent_act: Act::Sigmoid,
        };
        let comp = recurrent(&x, cell, &k, &rk, Some(&b), None, None, true).unwrap();
        let a = super::super::to_vec_f64(&fused.sequences).unwrap();
        let c = super::super::to_vec_f64(comp.sequences.as_ref().unwrap()).unwrap();
        assert!(a.iter().zip(&c).all(|(p, q)| (p - q).abs() < 1e-12));
        let a = super::super::to_vec_f64(&fused.c).unwrap();
        let c = super::super::to_vec_f64(&comp.states[1]).unwrap();
        assert!(a.iter().zip(&c).all(|(p, q)| (p - q).abs() < 1e-12));
        let _ = Device::Cpu;
    }
}
