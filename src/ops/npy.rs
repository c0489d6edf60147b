//! NumPy `.npy` and `.npz` files, read and written as tensors.
//!
//! Reading checks everything a file claims (magic, header, dtype, shape, data length) before it
//! allocates, so a truncated or corrupted file is an error, never a panic or a huge allocation.
//! Writing goes to a temporary file in the same folder that is then renamed over the target.
//!
//! ```
//! use keras::ops::{npy, Tensor, Device};
//! let dir = std::env::temp_dir().join(format!("npy_doc_{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let t = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
//! npy::write_npz(dir.join("a.npz"), &[("x", &t)])?;
//! let back = npy::read_npz(dir.join("a.npz"))?;
//! assert_eq!(back[0].0, "x");
//! assert_eq!(back[0].1.to_vec2::<f32>()?, t.to_vec2::<f32>()?);
//! # Ok::<(), keras::Error>(())
//! ```

use crate::{Error, Result};
use candle_core::{DType, Device, Tensor};
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";
/// Headers longer than this are not NumPy headers.
const MAX_HEADER: usize = 1 << 20;

struct Header {
    dtype: DType,
    /// Source element type when it is converted on load (int8 -> int16, bool -> uint8).
    kind: Kind,
    fortran: bool,
    shape: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Native,
    I8,
}

fn parse_header(h: &str) -> Result<Header> {
    let bad = |what: &str| Error::format(format!("npy: {what} in header {h:?}"));
    let field = |key: &str| -> Option<&str> {
        let i = h.find(&format!("'{key}'"))?;
        let rest = &h[i + key.len() + 2..];
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        Some(rest)
    };
    let descr = field("descr").ok_or_else(|| bad("no descr"))?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| bad("bad descr"))?;
    if descr.starts_with('>')
        && !descr.ends_with("u1")
        && !descr.ends_with("i1")
        && !descr.ends_with("b1")
    {
        return Err(bad("big-endian data is not supported"));
    }
    let (dtype, kind) = match descr.trim_start_matches(['<', '|', '=']) {
        "f4" => (DType::F32, Kind::Native),
        "f8" => (DType::F64, Kind::Native),
        "f2" => (DType::F16, Kind::Native),
        "u1" | "b1" => (DType::U8, Kind::Native),
        "i1" => (DType::I16, Kind::I8),
        "i2" => (DType::I16, Kind::Native),
        "i4" => (DType::I32, Kind::Native),
        "i8" => (DType::I64, Kind::Native),
        "u4" => (DType::U32, Kind::Native),
        other => return Err(bad(&format!("unsupported dtype '{other}'"))),
    };
    let fortran = match field("fortran_order") {
        Some(v) if v.starts_with("True") => true,
        Some(v) if v.starts_with("False") => false,
        _ => return Err(bad("no fortran_order")),
    };
    let shape = field("shape").ok_or_else(|| bad("no shape"))?;
    let shape = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("bad shape"))?;
    let shape = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("bad shape")))
        .collect::<Result<Vec<_>>>()?;
    Ok(Header {
        dtype,
        kind,
        fortran,
        shape,
    })
}

fn item_size(h: &Header) -> usize {
    match h.kind {
        Kind::I8 => 1,
        Kind::Native => h.dtype.size_in_bytes(),
    }
}

/// Reads one `.npy` stream whose total size is `len` bytes (used to bound allocations).
fn read_stream<R: Read>(r: &mut R, len: u64, what: &str) -> Result<Tensor> {
    let h = read_header(r, len, what)?;
    read_data(r, &h, len, what)
}

/// Whether a header read by [`read_header`] describes an object array (`descr` `|O`), whose
/// data is a pickle stream (`crate::datasets::npz_utils` reads the ones Keras's data sets use).
pub(crate) fn is_object_header(h: &str) -> bool {
    h.find("'descr'")
        .and_then(|i| h[i + 7..].trim_start().strip_prefix(':'))
        .is_some_and(|d| {
            let d = d.trim_start();
            d.starts_with("'|O'") || d.starts_with("'O'")
        })
}

/// The magic, version and header of one `.npy` stream: the header's text.
pub(crate) fn read_header<R: Read>(r: &mut R, len: u64, what: &str) -> Result<String> {
    let trunc = |e: std::io::Error| {
        Error::format(format!("{what}: truncated or unreadable npy data ({e})"))
    };
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(trunc)?;
    if &magic[..6] != MAGIC {
        return Err(Error::format(format!(
            "{what}: not a NumPy .npy file (bad magic)"
        )));
    }
    let hlen = match magic[6] {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).map_err(trunc)?;
            u16::from_le_bytes(b) as usize
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b).map_err(trunc)?;
            u32::from_le_bytes(b) as usize
        }
        v => {
            return Err(Error::format(format!(
                "{what}: unsupported npy version {v}"
            )))
        }
    };
    if hlen > MAX_HEADER || hlen as u64 > len {
        return Err(Error::format(format!(
            "{what}: npy header length {hlen} is implausible"
        )));
    }
    let mut hb = vec![0u8; hlen];
    r.read_exact(&mut hb).map_err(trunc)?;
    Ok(String::from_utf8_lossy(&hb).into_owned())
}

/// The numeric array after `header` (read by [`read_header`]).
pub(crate) fn read_data<R: Read>(r: &mut R, header: &str, len: u64, what: &str) -> Result<Tensor> {
    let trunc = |e: std::io::Error| {
        Error::format(format!("{what}: truncated or unreadable npy data ({e})"))
    };
    let h = parse_header(header)?;
    let count = h.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let bytes = count.and_then(|c| c.checked_mul(item_size(&h)));
    let Some(bytes) = bytes.filter(|&b| b as u64 <= len) else {
        return Err(Error::format(format!(
            "{what}: shape {:?} needs more data than the file holds ({len} bytes)",
            h.shape
        )));
    };
    let mut data = vec![0u8; bytes];
    r.read_exact(&mut data).map_err(trunc)?;
    let n = count.unwrap_or(0);
    let dev = &Device::Cpu;
    let t = match (h.dtype, h.kind) {
        (DType::F32, _) => Tensor::from_vec(le::<4, f32>(&data, f32::from_le_bytes), n, dev)?,
        (DType::F64, _) => Tensor::from_vec(le::<8, f64>(&data, f64::from_le_bytes), n, dev)?,
        (DType::F16, _) => Tensor::from_vec(
            le::<2, half_f16>(&data, |b| half_f16::from_bits(u16::from_le_bytes(b))),
            n,
            dev,
        )?,
        (DType::U8, _) => Tensor::from_vec(data, n, dev)?,
        (DType::I16, Kind::I8) => Tensor::from_vec(
            data.iter().map(|&b| b as i8 as i16).collect::<Vec<_>>(),
            n,
            dev,
        )?,
        (DType::I16, _) => Tensor::from_vec(le::<2, i16>(&data, i16::from_le_bytes), n, dev)?,
        (DType::I32, _) => Tensor::from_vec(le::<4, i32>(&data, i32::from_le_bytes), n, dev)?,
        (DType::I64, _) => Tensor::from_vec(le::<8, i64>(&data, i64::from_le_bytes), n, dev)?,
        (DType::U32, _) => Tensor::from_vec(le::<4, u32>(&data, u32::from_le_bytes), n, dev)?,
        (dt, _) => return Err(Error::format(format!("{what}: unsupported dtype {dt:?}"))),
    };
    if h.fortran && h.shape.len() > 1 {
        // Column-major: read with reversed dims, then reverse the axes.
        let rev: Vec<usize> = h.shape.iter().rev().copied().collect();
        let perm: Vec<usize> = (0..rev.len()).rev().collect();
        Ok(t.reshape(rev)?.permute(perm)?.contiguous()?)
    } else {
        Ok(t.reshape(h.shape)?)
    }
}

use half::f16 as half_f16;

fn le<const N: usize, T>(data: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|c| f(c.try_into().expect("chunk of N bytes")))
        .collect()
}

/// Reads a `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let f = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    read_stream(
        &mut std::io::BufReader::new(f),
        len,
        &path.display().to_string(),
    )
}

/// Reads every array of a `.npz` file, in the archive's order, with names without `.npy`.
pub fn read_npz(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    let path = path.as_ref();
    let f = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|e| {
        Error::format(format!(
            "{}: not a valid .npz (zip) file: {e}",
            path.display()
        ))
    })?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| Error::format(format!("{}: bad zip entry {i}: {e}", path.display())))?;
        let name = entry
            .name()
            .map_err(|e| Error::format(format!("{}: bad entry name: {e}", path.display())))?
            .trim_end_matches(".npy")
            .to_string();
        let size = entry.size();
        let what = format!("{}:{name}", path.display());
        let t = read_stream(&mut entry, size, &what)?;
        out.push((name, t));
    }
    Ok(out)
}

/// Looks up an array by name in what [`read_npz`] returned.
pub fn get<'a>(arrays: &'a [(String, Tensor)], name: &str) -> Result<&'a Tensor> {
    arrays
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .ok_or_else(|| {
            let names: Vec<&str> = arrays.iter().map(|(n, _)| n.as_str()).collect();
            Error::value(format!(
                "no array named '{name}' in the .npz file; it holds {names:?}"
            ))
        })
}

/// Encodes a tensor as the bytes of a version-1 `.npy` file.
fn npy_bytes(t: &Tensor, dims: &[usize]) -> Result<Vec<u8>> {
    let t = t.to_device(&Device::Cpu)?.flatten_all()?;
    let (descr, data): (&str, Vec<u8>) = match t.dtype() {
        DType::F32 => (
            "<f4",
            t.to_vec1::<f32>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        DType::F64 => (
            "<f8",
            t.to_vec1::<f64>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        DType::U8 => ("|u1", t.to_vec1::<u8>()?),
        DType::I16 => (
            "<i2",
            t.to_vec1::<i16>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        DType::I32 => (
            "<i4",
            t.to_vec1::<i32>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        DType::I64 => (
            "<i8",
            t.to_vec1::<i64>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        DType::U32 => (
            "<u4",
            t.to_vec1::<u32>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        dt => return Err(Error::value(format!("npy: cannot write dtype {dt:?}"))),
    };
    let shape = match dims {
        [d] => format!("({d},)"),
        ds => format!(
            "({})",
            ds.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad with spaces so the data starts on a 64-byte boundary; end with a newline.
    let total = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary file in the same folder, then renames it, so a
/// crash never leaves a half-written file in place.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let ctx = |what: &str| format!("cannot {what} {}", tmp.display());
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(ctx("create"), e))?;
    let r = write(&mut f).and_then(|_| f.sync_all().map_err(|e| Error::io(ctx("sync"), e)));
    drop(f);
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        Error::io(
            format!("cannot rename {} to {}", tmp.display(), path.display()),
            e,
        )
    })?;
    // Make the rename itself durable (not possible on every platform; best effort).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes a `.npy` file.
pub fn write_npy(path: impl AsRef<Path>, t: &Tensor) -> Result<()> {
    let bytes = npy_bytes(t, t.dims())?;
    write_atomic(path.as_ref(), |f| {
        f.write_all(&bytes)
            .map_err(|e| Error::io("cannot write npy data", e))
    })
}

/// Writes named arrays to a `.npz` file (uncompressed, as `numpy.savez`).
pub fn write_npz(path: impl AsRef<Path>, arrays: &[(&str, &Tensor)]) -> Result<()> {
    let mut encoded = Vec::with_capacity(arrays.len());
    for (name, t) in arrays {
        encoded.push((format!("{name}.npy"), npy_bytes(t, t.dims())?));
    }
    write_atomic(path.as_ref(), |f| {
        let zerr = |e: zip::result::ZipError| Error::format(format!("cannot write npz: {e}"));
        let mut zip = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        for (name, bytes) in &encoded {
            zip.start_file(name.as_str(), opts).map_err(zerr)?;
            zip.write_all(bytes)
                .map_err(|e| Error::io("cannot write npz entry", e))?;
        }
        zip.finish().map_err(zerr)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("keras_npy_{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn round_trip_every_dtype() {
        let p = tmp("rt.npz");
        let a = Tensor::new(&[[1f32, 2.0, 3.0], [4.0, 5.0, 6.0]], &Device::Cpu).unwrap();
        let b = Tensor::new(&[7u8, 8, 9], &Device::Cpu).unwrap();
        let c = Tensor::new(&[-1i64, 5], &Device::Cpu).unwrap();
        let d = Tensor::new(&[0.5f64], &Device::Cpu)
            .unwrap()
            .reshape(())
            .unwrap();
        write_npz(&p, &[("a", &a), ("b", &b), ("c", &c), ("d", &d)]).unwrap();
        let r = read_npz(&p).unwrap();
        assert_eq!(
            get(&r, "a").unwrap().to_vec2::<f32>().unwrap(),
            a.to_vec2::<f32>().unwrap()
        );
        assert_eq!(
            get(&r, "b").unwrap().to_vec1::<u8>().unwrap(),
            vec![7, 8, 9]
        );
        assert_eq!(get(&r, "c").unwrap().to_vec1::<i64>().unwrap(), vec![-1, 5]);
        assert_eq!(get(&r, "d").unwrap().dims(), &[] as &[usize]);
        assert!(get(&r, "zz")
            .unwrap_err()
            .to_string()
            .contains("no array named 'zz'"));
        let p1 = tmp("one.npy");
        write_npy(&p1, &a).unwrap();
        assert_eq!(read_npy(&p1).unwrap().dims(), &[2, 3]);
    }

    #[test]
    fn truncated_and_garbage_files_are_errors() {
        let p = tmp("t.npy");
        let a = Tensor::new(&[[1f32, 2.0, 3.0], [4.0, 5.0, 6.0]], &Device::Cpu).unwrap();
        write_npy(&p, &a).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        for cut in [3, 9, 40, bytes.len() - 1] {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(read_npy(&p).is_err(), "cut at {cut}");
        }
        // A header claiming a huge shape must not allocate it.
        let mut evil = bytes.clone();
        let h = String::from_utf8_lossy(&evil[10..10 + 64]).replace("(2, 3)", "(99999999, 99999)");
        evil.splice(10..10 + h.len(), h.bytes());
        std::fs::write(&p, &evil).unwrap();
        assert!(read_npy(&p).is_err());
        std::fs::write(&p, b"not a numpy file at all").unwrap();
        assert!(read_npy(&p).is_err());
        let pz = tmp("bad.npz");
        std::fs::write(&pz, b"PK\x03\x04garbage").unwrap();
        assert!(read_npz(&pz).is_err());
    }

    #[test]
    fn fortran_order_is_transposed() {
        // numpy.asfortranarray([[1, 2, 3], [4, 5, 6]]) as float32, written by hand.
        let data: Vec<u8> = [1f32, 4.0, 2.0, 5.0, 3.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut header = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }".to_string();
        let total = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - total % 64) % 64));
        header.push('\n');
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&data);
        let p = tmp("f.npy");
        std::fs::write(&p, bytes).unwrap();
        let t = read_npy(&p).unwrap();
        assert_eq!(
            t.to_vec2::<f32>().unwrap(),
            vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]
        );
    }
}
