//! Scaled dot-product attention over `(batch, heads, steps, dim)` tensors, from ops with
//! checked gradients (batched matmul, our fused softmax).

use super::{activation, random, Act};
use crate::Result;
use candle_core::Tensor;

/// Keras's large negative number for masked scores.
const MASKED: f64 = 1e9;

/// `softmax(scale * q kᵀ, masked) v` for `q (..., tq, d)`, `k (..., tk, d)`, `v (..., tk, dv)`;
/// returns the output `(..., tq, dv)` and the attention weights `(..., tq, tk)`. `keep`
/// (broadcastable to the scores, 1 = attend) masks scores before the softmax and zeroes
/// masked weights after it, as Keras's masked softmax. `dropout` (a rate) drops weights.
pub fn dot_product_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f64,
    keep: Option<&Tensor>,
    dropout: f64,
) -> Result<(Tensor, Tensor)> {
    let q = if scale == 1.0 {
        q.clone()
    } else {
        (q * scale)?
    };
    let kt = k.transpose(k.rank() - 2, k.rank() - 1)?.contiguous()?;
    let mut scores = q.contiguous()?.matmul(&kt)?;
    if let Some(m) = keep {
        scores = mask_scores(&scores, m)?;
    }
    let mut weights = activation(&scores, Act::Softmax)?;
    if let Some(m) = keep {
        weights = weights.broadcast_mul(&m.to_dtype(weights.dtype())?)?;
    }
    let dropped = if dropout > 0.0 {
        self::dropout(&weights, dropout)?
    } else {
        weights.clone()
    };
    Ok((dropped.matmul(&v.contiguous()?)?, weights))
}

/// `scores - 1e9 * (1 - keep)`: masked scores vanish in a softmax (Keras's padding mask).
pub fn mask_scores(scores: &Tensor, keep: &Tensor) -> Result<Tensor> {
    let k = keep.to_dtype(scores.dtype())?;
    Ok(scores.broadcast_add(&((k - 1.0)? * MASKED)?)?)
}

/// `(tq, tk)`: 1 on and below the diagonal (step `i` sees steps `<= i`), 0 above.
pub fn causal_mask(tq: usize, tk: usize, like: &Tensor) -> Result<Tensor> {
    let v: Vec<f32> = (0..tq * tk)
        .map(|i| if i % tk > i / tk { 0.0 } else { 1.0 })
        .collect();
    Ok(Tensor::from_vec(v, (tq, tk), like.device())?)
}

/// `x` with a fraction `rate` of its entries zeroed and the rest scaled by `1 / (1 - rate)`
/// (inverted dropout; the mask is drawn from the seeded generator).
pub fn dropout(x: &Tensor, rate: f64) -> Result<Tensor> {
    let keep = 1.0 - rate;
    let v: Vec<f64> = random::with_rng(|r| {
        (0..x.elem_count())
            .map(|_| if r.uniform() < keep { 1.0 / keep } else { 0.0 })
            .collect()
    });
    let m = Tensor::from_vec(v, x.dims(), x.device())?.to_dtype(x.dtype())?;
    Ok(x.mul(&m)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::DType;

    #[test]
    fn gradient_and_causality() {
        let r = |d: &[usize]| {
            crate::random::normal(d)
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap()
        };
        let (q, k, v) = (r(&[2, 2, 3, 4]), r(&[2, 2, 5, 4]), r(&[2, 2, 5, 3]));
        let w = r(&[2, 2, 3, 3]);
        for causal in [false, true] {
            let keep = causal.then(|| causal_mask(3, 5, &q).unwrap());
            check_gradient(
                &[q.clone(), k.clone(), v.clone()],
                |t| {
                    Ok(
                        dot_product_attention(&t[0], &t[1], &t[2], 0.5, keep.as_ref(), 0.0)?
                            .0
                            .mul(&w)?
                            .sum_all()?,
                    )
                },
                1e-6,
                1e-6,
            )
            .unwrap();
        }
        let keep = causal_mask(3, 5, &q).unwrap();
        let (_, weights) = dot_product_attention(&q, &k, &v, 0.5, Some(&keep), 0.0).unwrap();
        let w = crate::ops::to_vec_f64(&weights).unwrap();
        // Row 0 attends only to step 0; row 1 to steps 0 and 1.
        assert!((w[0] - 1.0).abs() < 1e-12 && w[1..5].iter().all(|&a| a == 0.0));
        assert!(w[7..10].iter().all(|&a| a == 0.0));
    }
}
