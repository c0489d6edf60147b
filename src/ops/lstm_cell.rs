//! The LSTM cell's elementwise math for a block of sequences at one step, forward and
//! backward, each one vectorized pass (`pulp` dispatch) over the block's rows with the
//! activations inlined: specialized for Keras's default `tanh` / `sigmoid`, generic otherwise.
//! The per-row activation calls these replace (five dispatches of 32 values each per row and
//! step) were a fifth of W3's step.

use super::activation::Act;
use super::Float;

/// One step of the recurrence for rows `i` of a block (sequence `i0 + i`), given `z = h @ R`.
pub(super) struct FwdStep<'a, T> {
    /// Units.
    pub u: usize,
    /// Steps per sequence (row stride of the per-row buffers).
    pub t: usize,
    /// This step.
    pub s: usize,
    /// The block's first sequence.
    pub i0: usize,
    /// `h @ R` for the block's rows, `4u` each.
    pub z: &'a [T],
    /// `x @ W + b` for every (sequence, step) row of the batch.
    pub zx: &'a [T],
    /// The block's gate activations, per (sequence, step) row.
    pub gates: &'a mut [T],
    /// The block's cell and hidden states now, `u` per sequence (updated).
    pub c: &'a mut [T],
    /// See `c`.
    pub h: &'a mut [T],
    /// The block's cell and hidden states per (sequence, step) row (written for step `s`).
    pub cs: &'a mut [T],
    /// See `cs`.
    pub hs: &'a mut [T],
}

impl<T: Float> FwdStep<'_, T> {
    /// Runs the step with activation `act` (cell) and `ract` (gates).
    pub(super) fn run(self, act: Act, ract: Act) {
        match (act, ract) {
            (Act::Tanh, Act::Sigmoid) => pulp::Arch::new().dispatch(Fwd {
                st: self,
                fa: |x: T| Act::Tanh.fwd(x),
                fr: |x: T| Act::Sigmoid.fwd(x),
            }),
            _ => pulp::Arch::new().dispatch(Fwd {
                st: self,
                fa: move |x: T| act.fwd(x),
                fr: move |x: T| ract.fwd(x),
            }),
        }
    }
}

struct Fwd<'a, T, FA, FR> {
    st: FwdStep<'a, T>,
    fa: FA,
    fr: FR,
}

impl<T: Float, FA: Fn(T) -> T, FR: Fn(T) -> T> pulp::WithSimd for Fwd<'_, T, FA, FR> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Fwd { st, fa, fr } = self;
        let (u, u4) = (st.u, 4 * st.u);
        let rows = st.c.len() / u.max(1);
        for i in 0..rows {
            let row = i * st.t + st.s;
            let g = &mut st.gates[row * u4..(row + 1) * u4];
            let zi = &st.z[i * u4..(i + 1) * u4];
            let zr = &st.zx[((st.i0 + i) * st.t + st.s) * u4..][..u4];
            // Gates i, f and o through `fr`, the candidate through `fa`.
            for (lo, hi) in [(0, 2 * u), (3 * u, u4)] {
                for ((gv, &a), &b) in g[lo..hi].iter_mut().zip(&zi[lo..hi]).zip(&zr[lo..hi]) {
                    *gv = fr(a + b);
                }
            }
            let cand = 2 * u..3 * u;
            for ((gv, &a), &b) in g[cand.clone()]
                .iter_mut()
                .zip(&zi[cand.clone()])
                .zip(&zr[cand])
            {
                *gv = fa(a + b);
            }
            let (ig, rest) = g.split_at(u);
            let (fg, rest) = rest.split_at(u);
            let (cg, og) = rest.split_at(u);
            let ci = &mut st.c[i * u..(i + 1) * u];
            let hi = &mut st.h[i * u..(i + 1) * u];
            for (((((cv, hv), &f), &iv), &gv), &o) in ci
                .iter_mut()
                .zip(hi.iter_mut())
                .zip(fg)
                .zip(ig)
                .zip(cg)
                .zip(og)
            {
                let c = f * *cv + iv * gv;
                *cv = c;
                *hv = o * fa(c);
            }
            st.cs[row * u..(row + 1) * u].copy_from_slice(ci);
            st.hs[row * u..(row + 1) * u].copy_from_slice(hi);
        }
    }
}

/// One step of backpropagation through time for the rows of a block.
pub(super) struct BwdStep<'a, T> {
    /// Units.
    pub u: usize,
    /// Steps per sequence.
    pub t: usize,
    /// This step.
    pub s: usize,
    /// The block's first sequence.
    pub i0: usize,
    /// Gate activations per (sequence, step) row of the batch.
    pub gates: &'a [T],
    /// Cell states per (sequence, step) row of the batch.
    pub cs: &'a [T],
    /// The upstream gradient of `[h | c]` per (sequence, step) row of the batch.
    pub gout: &'a [T],
    /// `u` zeros (the cell state before the first step).
    pub zeros: &'a [T],
    /// The gradient reaching `h` from the next step, `u` per sequence (read).
    pub dh_next: &'a [T],
    /// The gradient reaching `c` from the next step, `u` per sequence (updated).
    pub dc_next: &'a mut [T],
    /// This step's gate-input gradients, `4u` per sequence of the block (written).
    pub dz_step: &'a mut [T],
    /// The block's gate-input gradients per (sequence, step) row (written for step `s`).
    pub dz: &'a mut [T],
}

impl<T: Float> BwdStep<'_, T> {
    /// Runs the step with activation `act` (cell) and `ract` (gates).
    pub(super) fn run(self, act: Act, ract: Act) {
        match (act, ract) {
            (Act::Tanh, Act::Sigmoid) => pulp::Arch::new().dispatch(Bwd {
                st: self,
                fa: |x: T| Act::Tanh.fwd(x),
                ga: |y: T, g: T| Act::Tanh.bwd_from_y(y, g),
                gr: |y: T, g: T| Act::Sigmoid.bwd_from_y(y, g),
            }),
            _ => pulp::Arch::new().dispatch(Bwd {
                st: self,
                fa: move |x: T| act.fwd(x),
                ga: move |y: T, g: T| act.bwd_from_y(y, g),
                gr: move |y: T, g: T| ract.bwd_from_y(y, g),
            }),
        }
    }
}

struct Bwd<'a, T, FA, GA, GR> {
    st: BwdStep<'a, T>,
    fa: FA,
    ga: GA,
    gr: GR,
}

impl<T: Float, FA, GA, GR> pulp::WithSimd for Bwd<'_, T, FA, GA, GR>
where
    FA: Fn(T) -> T,
    GA: Fn(T, T) -> T,
    GR: Fn(T, T) -> T,
{
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Bwd { st, fa, ga, gr } = self;
        let (u, u4, t, s) = (st.u, 4 * st.u, st.t, st.s);
        let rows = st.dc_next.len() / u.max(1);
        for i in 0..rows {
            let row = (st.i0 + i) * t + s;
            let g = &st.gates[row * u4..(row + 1) * u4];
            let (ig, fg, cg, og) = (&g[..u], &g[u..2 * u], &g[2 * u..3 * u], &g[3 * u..]);
            let go = &st.gout[row * 2 * u..(row + 1) * 2 * u];
            let (goh, goc) = go.split_at(u);
            let c = &st.cs[row * u..(row + 1) * u];
            let cp = if s > 0 {
                &st.cs[(row - 1) * u..row * u]
            } else {
                st.zeros
            };
            let dhn = &st.dh_next[i * u..(i + 1) * u];
            let dcn = &mut st.dc_next[i * u..(i + 1) * u];
            let dzr = &mut st.dz_step[i * u4..(i + 1) * u4];
            let (dzi, rest) = dzr.split_at_mut(u);
            let (dzf, rest) = rest.split_at_mut(u);
            let (dzc, dzo) = rest.split_at_mut(u);
            for k in 0..u {
                let tc = fa(c[k]);
                let dh = dhn[k] + goh[k];
                let dc = dcn[k] + goc[k] + ga(tc, dh * og[k]);
                dzi[k] = gr(ig[k], dc * cg[k]);
                dzf[k] = gr(fg[k], dc * cp[k]);
                dzc[k] = ga(cg[k], dc * ig[k]);
                dzo[k] = gr(og[k], dh * tc);
                dcn[k] = dc * fg[k];
            }
            let local = i * t + s;
            st.dz[local * u4..(local + 1) * u4].copy_from_slice(dzr);
        }
    }
}
