//! `keras.utils.pad_sequences` (Keras's `sequence_utils.py`).

use crate::ops::{self, DType, Tensor};
use crate::{Error, Result};
use num_traits::ToPrimitive;

/// Arguments of [`pad_sequences`], with Keras's defaults: pad to the longest sequence, `int32`,
/// pad and truncate at the start (`"pre"`), pad with 0.
///
/// ```
/// use keras::utils::PadSequencesArgs;
/// let args = PadSequencesArgs { maxlen: Some(10), padding: "post", ..Default::default() };
/// assert_eq!(args.dtype, "int32");
/// assert_eq!(args.truncating, "pre");
/// ```
#[derive(Clone, Debug)]
pub struct PadSequencesArgs<'a> {
    /// Length of every row; `None` is the longest sequence's length.
    pub maxlen: Option<usize>,
    /// Keras's name of the result's dtype: `"int32"`, `"int64"`, `"int16"`, `"uint8"`,
    /// `"uint32"`, `"float32"`, `"float64"`, `"float16"`, `"bfloat16"`.
    pub dtype: &'a str,
    /// `"pre"` or `"post"`: pad before or after each sequence.
    pub padding: &'a str,
    /// `"pre"` or `"post"`: drop values from the start or the end of sequences longer than
    /// `maxlen`.
    pub truncating: &'a str,
    /// The padding value (cast to `dtype`, so `-1.5` pads an integer result with `-1`).
    pub value: f64,
}

impl Default for PadSequencesArgs<'_> {
    fn default() -> Self {
        PadSequencesArgs {
            maxlen: None,
            dtype: "int32",
            padding: "pre",
            truncating: "pre",
            value: 0.0,
        }
    }
}

/// Pads (and truncates) ragged sequences into one `(num_samples, maxlen)` tensor of
/// `args.dtype`, as `keras.utils.pad_sequences`. Any numeric element type works (`i64`, `u32`,
/// `f32`, ...); values are cast to the dtype as NumPy's `asarray(trunc, dtype)` does (floats
/// truncated toward zero for an integer dtype).
///
/// An unknown `padding` or `truncating` is Keras's `ValueError`
/// (`Padding type "middle" not understood`); so is a value that does not fit the dtype.
/// Sequences of vectors (Keras's non-scalar `sample_shape`) are not supported.
///
/// ```
/// use keras::utils::{pad_sequences, PadSequencesArgs};
/// let seqs = vec![vec![1i64], vec![2, 3], vec![4, 5, 6]];
/// let x = pad_sequences(&seqs, PadSequencesArgs::default())?;
/// assert_eq!(x.to_vec2::<i32>()?, vec![vec![0, 0, 1], vec![0, 2, 3], vec![4, 5, 6]]);
/// let x = pad_sequences(&seqs, PadSequencesArgs { maxlen: Some(2), padding: "post", ..Default::default() })?;
/// assert_eq!(x.to_vec2::<i32>()?, vec![vec![1, 0], vec![2, 3], vec![5, 6]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn pad_sequences<S, T>(sequences: &[S], args: PadSequencesArgs<'_>) -> Result<Tensor>
where
    S: AsRef<[T]>,
    T: ToPrimitive + Copy,
{
    if !matches!(args.truncating, "pre" | "post") {
        return Err(Error::value(format!(
            "Truncating type \"{}\" not understood",
            args.truncating
        )));
    }
    if !matches!(args.padding, "pre" | "post") {
        return Err(Error::value(format!(
            "Padding type \"{}\" not understood",
            args.padding
        )));
    }
    let dtype = parse_dtype(args.dtype)?;
    let n = sequences.len();
    let maxlen = args.maxlen.unwrap_or_else(|| {
        sequences
            .iter()
            .map(|s| s.as_ref().len())
            .max()
            .unwrap_or(0)
    });
    // Integer dtypes are filled as i64 (exact for large ids), floats as f64.
    if dtype.is_int() {
        let cast = |v: f64| {
            (v.is_finite())
                .then(|| v.trunc() as i64)
                .ok_or_else(|| out_of_range(v, args.dtype))
        };
        let rows = fill(sequences, maxlen, &args, cast(args.value)?, |t: &T| {
            t.to_i64()
                .ok_or_else(|| out_of_range(t.to_f64().unwrap_or(f64::NAN), args.dtype))
        })?;
        let (lo, hi) = int_range(dtype);
        if let Some(bad) = rows.iter().find(|v| **v < lo || **v > hi) {
            return Err(out_of_range(*bad as f64, args.dtype));
        }
        let t = Tensor::from_vec(rows, (n, maxlen), &ops::Device::Cpu)?;
        Ok(t.to_dtype(dtype)?)
    } else {
        let rows = fill(sequences, maxlen, &args, args.value, |t: &T| {
            Ok(t.to_f64().unwrap_or(f64::NAN))
        })?;
        Ok(ops::from_vec(rows, &[n, maxlen])?.to_dtype(dtype)?)
    }
}

/// The padded rows, flat, row-major.
fn fill<S, T, V: Copy>(
    sequences: &[S],
    maxlen: usize,
    args: &PadSequencesArgs<'_>,
    value: V,
    cast: impl Fn(&T) -> Result<V>,
) -> Result<Vec<V>>
where
    S: AsRef<[T]>,
{
    let mut out = vec![value; sequences.len() * maxlen];
    for (row, s) in out.chunks_mut(maxlen.max(1)).zip(sequences) {
        let s = s.as_ref();
        let keep = s.len().min(maxlen);
        let trunc = if args.truncating == "pre" {
            &s[s.len() - keep..]
        } else {
            &s[..keep]
        };
        let start = if args.padding == "post" {
            0
        } else {
            maxlen - keep
        };
        for (slot, v) in row[start..start + keep].iter_mut().zip(trunc) {
            *slot = cast(v)?;
        }
    }
    Ok(out)
}

fn parse_dtype(name: &str) -> Result<DType> {
    Ok(match name {
        "int32" => DType::I32,
        "int64" => DType::I64,
        "int16" => DType::I16,
        "uint8" => DType::U8,
        "uint32" => DType::U32,
        "float32" => DType::F32,
        "float64" => DType::F64,
        "float16" => DType::F16,
        "bfloat16" => DType::BF16,
        other => {
            return Err(Error::value(format!(
                "pad_sequences: unsupported dtype \"{other}\"; expected one of int32, int64, \
                 int16, uint8, uint32, float32, float64, float16, bfloat16"
            )))
        }
    })
}

fn int_range(dtype: DType) -> (i64, i64) {
    match dtype {
        DType::I32 => (i32::MIN as i64, i32::MAX as i64),
        DType::I16 => (i16::MIN as i64, i16::MAX as i64),
        DType::U8 => (0, u8::MAX as i64),
        DType::U32 => (0, u32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

fn out_of_range(v: f64, dtype: &str) -> Error {
    Error::value(format!(
        "pad_sequences: value {v} does not fit the dtype {dtype}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pad(seqs: &[Vec<i64>], args: PadSequencesArgs<'_>) -> Vec<Vec<i32>> {
        pad_sequences(seqs, args).unwrap().to_vec2::<i32>().unwrap()
    }

    #[test]
    fn keras_docstring_examples() {
        let s = vec![vec![1], vec![2, 3], vec![4, 5, 6]];
        let value = PadSequencesArgs {
            value: -1.0,
            ..Default::default()
        };
        assert_eq!(
            pad(&s, value),
            vec![vec![-1, -1, 1], vec![-1, 2, 3], vec![4, 5, 6]]
        );
        let post = PadSequencesArgs {
            padding: "post",
            ..Default::default()
        };
        assert_eq!(
            pad(&s, post),
            vec![vec![1, 0, 0], vec![2, 3, 0], vec![4, 5, 6]]
        );
        let trunc = PadSequencesArgs {
            maxlen: Some(2),
            truncating: "post",
            ..Default::default()
        };
        assert_eq!(pad(&s, trunc), vec![vec![0, 1], vec![2, 3], vec![4, 5]]);
    }

    #[test]
    fn dtypes_empty_and_errors() {
        let f = pad_sequences(
            &[vec![1.5f32], vec![]],
            PadSequencesArgs {
                dtype: "float32",
                value: 0.25,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(f.dtype(), DType::F32);
        assert_eq!(f.to_vec2::<f32>().unwrap(), vec![vec![1.5], vec![0.25]]);
        let i = pad_sequences(&[vec![2.7f64, -1.9]], PadSequencesArgs::default()).unwrap();
        assert_eq!(i.to_vec2::<i32>().unwrap(), vec![vec![2, -1]]);
        let none: Vec<Vec<i64>> = vec![];
        assert_eq!(
            pad_sequences(&none, PadSequencesArgs::default())
                .unwrap()
                .dims(),
            &[0, 0]
        );
        let zero = PadSequencesArgs {
            maxlen: Some(0),
            ..Default::default()
        };
        assert_eq!(
            pad_sequences(&[vec![1i64, 2]], zero).unwrap().dims(),
            &[1, 0]
        );
        let bad =
            |a: PadSequencesArgs<'_>| pad_sequences(&[vec![1i64]], a).unwrap_err().to_string();
        let e = bad(PadSequencesArgs {
            padding: "middle",
            ..Default::default()
        });
        assert_eq!(e, "Padding type \"middle\" not understood");
        let e = bad(PadSequencesArgs {
            truncating: "both",
            ..Default::default()
        });
        assert_eq!(e, "Truncating type \"both\" not understood");
        assert!(bad(PadSequencesArgs {
            dtype: "str",
            ..Default::default()
        })
        .contains("str"));
        let big = pad_sequences(&[vec![1i64 << 40]], PadSequencesArgs::default());
        assert!(big.is_err());
        let ok = pad_sequences(
            &[vec![1i64 << 40]],
            PadSequencesArgs {
                dtype: "int64",
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(ok.to_vec2::<i64>().unwrap(), vec![vec![1i64 << 40]]);
    }
}
