//! `CategoryEncoding` (`keras/src/layers/preprocessing/category_encoding.py`) and the
//! encoding Keras's `numerical_utils.encode_categorical_inputs` does, shared with `Hashing`
//! and `Discretization`.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// How integer ids become vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// One vector per id.
    OneHot,
    /// One vector per sample, 1 where an id occurs.
    MultiHot,
    /// One vector per sample, the number of times each id occurs (or the sum of its weights).
    Count,
}

impl Encoding {
    pub fn parse(mode: &str) -> Option<Encoding> {
        match mode {
            "one_hot" => Some(Encoding::OneHot),
            "multi_hot" | "binary" => Some(Encoding::MultiHot),
            "count" => Some(Encoding::Count),
            _ => None,
        }
    }
}

/// Keras's `encode_categorical_inputs` (JAX path) of ids of shape `dims` into `depth`
/// classes: one-hot squeezes a trailing axis of 1 and adds a class axis; multi-hot and count
/// reduce axis 1 (axis 0 for a vector). Ids outside `[0, depth)` give all-zero rows.
pub(crate) fn encode(
    ids: &[i64],
    dims: &[usize],
    mode: Encoding,
    depth: usize,
    weights: Option<&[f32]>,
) -> (Vec<f32>, Vec<usize>) {
    let mut dims = if dims.is_empty() {
        vec![1]
    } else {
        dims.to_vec()
    };
    let onehot = |i: i64| (i >= 0 && (i as usize) < depth).then_some(i as usize);
    if mode == Encoding::OneHot {
        if dims.len() > 1 && dims[dims.len() - 1] == 1 {
            dims.pop();
        }
        let mut out = vec![0f32; ids.len() * depth];
        for (k, &i) in ids.iter().enumerate() {
            if let Some(c) = onehot(i) {
                out[k * depth + c] = 1.0;
            }
        }
        dims.push(depth);
        return (out, dims);
    }
    // Reduce axis 1 (0 for rank 1): ids laid out as (outer, reduced, inner).
    let (outer, red, inner) = if dims.len() > 1 {
        (dims[0], dims[1], dims[2..].iter().product::<usize>())
    } else {
        (1, dims[0], 1)
    };
    let mut out = vec![0f32; outer * inner * depth];
    for o in 0..outer {
        for r in 0..red {
            for n in 0..inner {
                let k = (o * red + r) * inner + n;
                if let Some(c) = onehot(ids[k]) {
                    let slot = &mut out[(o * inner + n) * depth + c];
                    match mode {
                        Encoding::MultiHot => *slot = 1.0,
                        _ => *slot += weights.map_or(1.0, |w| w[k]),
                    }
                }
            }
        }
    }
    let mut shape: Vec<usize> = if dims.len() > 1 {
        std::iter::once(dims[0])
            .chain(dims[2..].iter().copied())
            .collect()
    } else {
        vec![]
    };
    shape.push(depth);
    (out, shape)
}

/// Integer ids from a tensor of any numeric dtype (floats truncate).
pub(crate) fn read_ids(x: &Tensor) -> Result<Vec<i64>> {
    Ok(match x.dtype() {
        DType::I64 => x.flatten_all()?.to_vec1::<i64>()?,
        DType::U32 => x
            .flatten_all()?
            .to_vec1::<u32>()?
            .into_iter()
            .map(i64::from)
            .collect(),
        DType::U8 => x
            .flatten_all()?
            .to_vec1::<u8>()?
            .into_iter()
            .map(i64::from)
            .collect(),
        _ => ops::to_vec_f64(x)?.into_iter().map(|v| v as i64).collect(),
    })
}

/// Encodes integer category ids as vectors of `num_tokens` entries: `output_mode`
/// `"multi_hot"` (default: 1 for each id present in a sample), `"one_hot"` (one vector per
/// id; a trailing axis of 1 is squeezed) or `"count"` (how often each id occurs, or the sum
/// of the `count_weights` passed as a second input). Ids outside `[0, num_tokens)` count for
/// nothing.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::CategoryEncoding;
/// let l = CategoryEncoding::new(4).output_mode("count").into_layer();
/// let y = l.apply(&Tensor::new(&[[0i64, 1, 1], [3, 3, 2]], &Device::Cpu)?)?;
/// assert_eq!(y.to_vec2::<f32>()?, vec![vec![1.0, 2.0, 0.0, 0.0], vec![0.0, 0.0, 1.0, 2.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct CategoryEncoding {
    args: LayerArgs,
    num_tokens: usize,
    output_mode: String,
}

impl CategoryEncoding {
    /// Encodes ids in `[0, num_tokens)`.
    pub fn new(num_tokens: usize) -> Self {
        CategoryEncoding {
            args: LayerArgs::default(),
            num_tokens,
            output_mode: "multi_hot".into(),
        }
    }
    /// `"multi_hot"` (default), `"one_hot"` or `"count"`.
    pub fn output_mode(mut self, mode: &str) -> Self {
        self.output_mode = if mode == "binary" {
            "multi_hot".into()
        } else {
            mode.into()
        };
        self
    }
    fn mode(&self) -> Result<Encoding> {
        if self.num_tokens < 1 {
            return Err(Error::value(format!(
                "`num_tokens` must be >= 1. Received: num_tokens={}.",
                self.num_tokens
            )));
        }
        Encoding::parse(&self.output_mode).ok_or_else(|| {
            Error::value(format!("Unknown arg for output_mode: {}", self.output_mode))
        })
    }

    /// Encodes `ids`, weighting counts by `count_weights` (same shape, `"count"` mode only).
    pub fn encode(&self, ids: &Tensor, count_weights: Option<&Tensor>) -> Result<Tensor> {
        let mode = self.mode()?;
        let w = match count_weights {
            Some(w) if mode != Encoding::Count => {
                return Err(Error::value(format!(
                    "`count_weights` is not used when `output_mode` is not `'count'`. Received \
                     `count_weights` of shape {:?}.",
                    w.dims()
                )))
            }
            Some(w) if w.dims() != ids.dims() => {
                return Err(Error::shape(format!(
                    "CategoryEncoding: `count_weights` of shape {:?} for inputs of shape {:?}",
                    w.dims(),
                    ids.dims()
                )))
            }
            Some(w) => Some(ops::to_vec_f32(w)?),
            None => None,
        };
        let (v, dims) = encode(
            &read_ids(ids)?,
            ids.dims(),
            mode,
            self.num_tokens,
            w.as_deref(),
        );
        Ok(ops::from_vec(v, &dims)?.to_device(ids.device())?)
    }
}

/// `CategoryEncoding.compute_output_shape` (also `Hashing`'s for the non-`int` modes).
pub(crate) fn encoded_shape(s: &Shape, mode: Encoding, depth: usize) -> Shape {
    let d = &s.0;
    if d.is_empty() {
        return Shape(vec![Some(depth)]);
    }
    let mut out: Vec<Option<usize>> = match mode {
        Encoding::OneHot if d[d.len() - 1] != Some(1) || d.len() == 1 => d.clone(),
        _ => d[..d.len() - 1].to_vec(),
    };
    out.push(Some(depth));
    Shape(out)
}

impl CategoryEncoding {
    /// A `CategoryEncoding` from its Keras config (`sparse=True` is refused).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        c.not_sparse()?;
        let l = CategoryEncoding::new(c.usize("num_tokens")?)
            .output_mode(c.str_or("output_mode", "multi_hot")?);
        apply_base_config(l, c)
    }
}

impl Layer for CategoryEncoding {
    fn class_name(&self) -> &str {
        "CategoryEncoding"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
        })))
    }
    fn build(&mut self, _: &[Shape], _: &mut crate::engine::WeightBuilder) -> Result<()> {
        self.mode().map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![encoded_shape(&s[0], self.mode()?, self.num_tokens)])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let y = self.encode(&inputs[0], inputs.get(1))?;
        let dtype = self.args.dtype.unwrap_or(DType::F32);
        Ok(vec![ops::cast(&y, dtype)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_shapes() {
        let (v, d) = encode(&[0, 2, 2, 9], &[2, 2], Encoding::MultiHot, 3, None);
        assert_eq!((v, d), (vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], vec![2, 3]));
        let (v, d) = encode(&[1, 1], &[2], Encoding::Count, 2, Some(&[0.5, 2.0]));
        assert_eq!((v, d), (vec![0.0, 2.5], vec![2]));
        let (_, d) = encode(&[1, 0], &[2, 1], Encoding::OneHot, 4, None);
        assert_eq!(d, vec![2, 4]);
        let s = Shape(vec![None, Some(1)]);
        assert_eq!(
            encoded_shape(&s, Encoding::OneHot, 4).to_string(),
            "(None, 4)"
        );
        assert_eq!(
            encoded_shape(&s, Encoding::Count, 4).to_string(),
            "(None, 4)"
        );
        assert!(CategoryEncoding::new(0).mode().is_err());
    }
}
