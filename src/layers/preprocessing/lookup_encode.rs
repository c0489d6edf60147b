//! Lookup results as output tensors: indices padded to a sequence length (`int`), or encoded
//! per sample (`one_hot`, `multi_hot`, `count`, `tf_idf`) as Keras's
//! `numerical_utils.encode_categorical_inputs` encodes them.

use super::index_lookup::OutputMode;
use crate::ops::{Device, Tensor};
use crate::{Error, Result};

/// Values laid out by their last axis: `lead` are the leading dimensions and each row is one
/// slice along the last axis; rows differ in length after a split (`ragged`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rows<T> {
    pub lead: Vec<usize>,
    pub rows: Vec<Vec<T>>,
    pub ragged: bool,
}

impl<T> Rows<T> {
    /// A dense array's rows (a scalar counts as one row of one value).
    pub fn from_dense(dims: &[usize], values: Vec<T>) -> Rows<T> {
        if dims.is_empty() {
            return Rows {
                lead: vec![],
                rows: vec![values],
                ragged: false,
            };
        }
        let last = dims[dims.len() - 1];
        let lead = dims[..dims.len() - 1].to_vec();
        let n: usize = lead.iter().product();
        let mut it = values.into_iter();
        let rows = (0..n).map(|_| it.by_ref().take(last).collect()).collect();
        Rows {
            lead,
            rows,
            ragged: false,
        }
    }

    /// The same layout with every value mapped.
    pub fn try_map<U>(self, mut f: impl FnMut(Vec<T>) -> Result<Vec<U>>) -> Result<Rows<U>> {
        Ok(Rows {
            lead: self.lead,
            rows: self.rows.into_iter().map(&mut f).collect::<Result<_>>()?,
            ragged: self.ragged,
        })
    }

    /// The longest row's length.
    pub fn max_len(&self) -> usize {
        self.rows.iter().map(Vec::len).max().unwrap_or(0)
    }
}

fn tensor<T: candle_core::WithDType>(v: Vec<T>, dims: Vec<usize>) -> Result<Tensor> {
    Ok(Tensor::from_vec(v, dims, &Device::Cpu)?)
}

/// `int` output: each row cut or padded with 0 to `length` (the longest row when `None`), as
/// `TextVectorization` pads; `(lead..., length)` `int64`.
pub(crate) fn pad_indices(rows: &Rows<i64>, length: Option<usize>) -> Result<Tensor> {
    let l = length.unwrap_or_else(|| rows.max_len());
    let mut out = Vec::with_capacity(rows.rows.len() * l);
    for r in &rows.rows {
        out.extend(r.iter().take(l));
        out.extend(std::iter::repeat_n(0i64, l.saturating_sub(r.len())));
    }
    let mut dims = rows.lead.clone();
    dims.push(l);
    tensor(out, dims)
}

/// The encoded output (`one_hot`, `multi_hot`, `count`, `tf_idf`) as `float32`; indices outside
/// `[0, depth)` (a dropped mask) count for nothing.
pub(crate) fn encode(
    mode: OutputMode,
    rows: &Rows<i64>,
    depth: usize,
    idf: Option<&[f32]>,
) -> Result<Tensor> {
    let slot = |i: i64| usize::try_from(i).ok().filter(|&i| i < depth);
    if mode == OutputMode::OneHot {
        let squeeze =
            !rows.ragged && !rows.lead.is_empty() && rows.rows.iter().all(|r| r.len() == 1);
        let l = if squeeze { 1 } else { rows.max_len() };
        let mut out = vec![0f32; rows.rows.len() * l * depth];
        for (ri, r) in rows.rows.iter().enumerate() {
            for (j, &i) in r.iter().enumerate() {
                if let Some(k) = slot(i) {
                    out[(ri * l + j) * depth + k] = 1.0;
                }
            }
        }
        let mut dims = rows.lead.clone();
        if !squeeze {
            dims.push(l);
        }
        dims.push(depth);
        return tensor(out, dims);
    }
    if mode == OutputMode::Int {
        return pad_indices(rows, None);
    }
    if mode != OutputMode::MultiHot && rows.lead.len() > 1 {
        let mut shape = rows.lead.clone();
        shape.push(rows.max_len());
        return Err(Error::value(format!(
            "When output_mode is not `'int'`, maximum supported output rank is 2. Received \
             output_mode {} and input shape {}, which would result in output rank {}.",
            mode.name(),
            crate::engine::tuple(&shape),
            shape.len()
        )));
    }
    let mut out = vec![0f32; rows.rows.len() * depth];
    for (ri, r) in rows.rows.iter().enumerate() {
        let row = &mut out[ri * depth..(ri + 1) * depth];
        for &i in r {
            if let Some(k) = slot(i) {
                if mode == OutputMode::MultiHot {
                    row[k] = 1.0;
                } else {
                    row[k] += 1.0;
                }
            }
        }
    }
    if mode == OutputMode::TfIdf {
        let w = idf.ok_or_else(|| {
            Error::value("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
        })?;
        if w.len() != depth {
            return Err(Error::value(format!(
                "tf_idf: {} idf_weights for an output of {depth} values",
                w.len()
            )));
        }
        for row in out.chunks_mut(depth) {
            for (x, &wi) in row.iter_mut().zip(w) {
                *x *= wi;
            }
        }
    }
    let mut dims = rows.lead.clone();
    dims.push(depth);
    tensor(out, dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_keras() {
        let rows = Rows::from_dense(
            &[2, 2],
            vec![1i64, 1, 2, super::super::index_lookup::DROPPED],
        );
        let c = encode(OutputMode::Count, &rows, 3, None).unwrap();
        assert_eq!(
            c.to_vec2::<f32>().unwrap(),
            vec![vec![0., 2., 0.], vec![0., 0., 1.]]
        );
        let m = encode(OutputMode::MultiHot, &rows, 3, None).unwrap();
        assert_eq!(
            m.to_vec2::<f32>().unwrap(),
            vec![vec![0., 1., 0.], vec![0., 0., 1.]]
        );
        let one = Rows::from_dense(&[2, 1], vec![0i64, 2]);
        let o = encode(OutputMode::OneHot, &one, 3, None).unwrap();
        assert_eq!(o.dims(), &[2, 3]);
        let flat = Rows::from_dense(&[3], vec![0i64, 2, 2]);
        assert_eq!(
            encode(OutputMode::MultiHot, &flat, 3, None).unwrap().dims(),
            &[3]
        );
        let ragged = Rows {
            lead: vec![2],
            rows: vec![vec![2i64, 3, 4], vec![5]],
            ragged: true,
        };
        let p = pad_indices(&ragged, Some(2)).unwrap();
        assert_eq!(p.to_vec2::<i64>().unwrap(), vec![vec![2, 3], vec![5, 0]]);
        assert_eq!(pad_indices(&ragged, None).unwrap().dims(), &[2, 3]);
    }
}
