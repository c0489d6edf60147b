//! Strings as tensors. candle has no string dtype, so a batch of `n` strings travels as a
//! `(n, max_bytes)` `u8` tensor of their UTF-8 bytes, each row padded with zero bytes. It
//! slices, shuffles, batches and prefetches like any tensor; layers that read text
//! (`TextVectorization`, `StringLookup`) decode it back with [`decode`].
//!
//! ```
//! use keras::ops::strings;
//! let t = strings::encode(&["the cat", "sat", ""])?;
//! assert_eq!(t.dims(), &[3, 7]);
//! assert_eq!(strings::decode(&t)?, vec!["the cat", "sat", ""]);
//! # Ok::<(), keras::Error>(())
//! ```

use super::{DType, Device, Tensor};
use crate::{Error, Result};

/// Encodes strings as a `(n, max_bytes)` `u8` tensor (zero-padded UTF-8; at least one byte wide).
pub fn encode<S: AsRef<str>>(texts: &[S]) -> Result<Tensor> {
    let width = texts
        .iter()
        .map(|s| s.as_ref().len())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut bytes = vec![0u8; texts.len() * width];
    for (row, s) in bytes.chunks_mut(width).zip(texts) {
        row[..s.as_ref().len()].copy_from_slice(s.as_ref().as_bytes());
    }
    Ok(Tensor::from_vec(bytes, (texts.len(), width), &Device::Cpu)?)
}

/// Decodes a tensor made by [`encode`] (any leading shape, bytes on the last axis) into its
/// strings, row by row; trailing zero bytes are padding.
pub fn decode(t: &Tensor) -> Result<Vec<String>> {
    if t.dtype() != DType::U8 || t.rank() == 0 {
        return Err(Error::value(format!(
            "Expected a string tensor (u8 bytes, strings on the last axis); received dtype {:?} \
             and shape {:?}",
            t.dtype(),
            t.dims()
        )));
    }
    let width = *t.dims().last().unwrap_or(&1);
    let bytes: Vec<u8> = t.flatten_all()?.to_vec1()?;
    if width == 0 {
        return Ok(vec![String::new(); t.elem_count()]);
    }
    bytes
        .chunks(width)
        .map(|row| {
            let end = row.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            String::from_utf8(row[..end].to_vec())
                .map_err(|e| Error::value(format!("A string tensor holds invalid UTF-8: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_unicode_and_empty() {
        let texts = ["héllo wörld", "", "日本"];
        let t = encode(&texts).unwrap();
        assert_eq!(t.dims(), &[3, "héllo wörld".len()]);
        assert_eq!(decode(&t).unwrap(), texts);
        let empty = encode::<&str>(&[]).unwrap();
        assert_eq!(empty.dims(), &[0, 1]);
        assert!(decode(&Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap()).is_err());
    }
}
