//! The one module that talks to the HDF5 library (`hdf5-pure`, pure Rust): Keras's weight files
//! as a tree of groups holding datasets and string attributes. Swap the library here and
//! nothing else changes.

pub use crate::engine::store::Group;
use crate::ops::{DType, Device, Tensor};
use crate::{Error, Result};
use hdf5_pure::{AttrValue, File, FileBuilder};

/// Values a file may declare before we believe it: a dataset larger than this is refused
/// rather than allocated.
const MAX_ELEMENTS: u64 = 1 << 31;

fn h5err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::value(format!("{what}: {e}"))
}

impl Group {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut fb = FileBuilder::new();
        for (k, v) in &self.attrs {
            fb.set_attr(k, AttrValue::String(v.clone()));
        }
        for (name, t) in &self.datasets {
            write_dataset(fb.create_dataset(name), t)?;
        }
        for (name, g) in &self.groups {
            let mut gb = fb.create_group(name);
            g.fill(&mut gb)?;
            fb.add_group(gb.finish());
        }
        fb.finish().map_err(|e| h5err("writing an HDF5 file", e))
    }

    fn fill(&self, gb: &mut hdf5_pure::GroupBuilder) -> Result<()> {
        for (k, v) in &self.attrs {
            gb.set_attr(k, AttrValue::String(v.clone()));
        }
        for (name, t) in &self.datasets {
            write_dataset(gb.create_dataset(name), t)?;
        }
        for (name, g) in &self.groups {
            let mut child = gb.create_group(name);
            g.fill(&mut child)?;
            gb.add_group(child.finish());
        }
        Ok(())
    }

    /// Parses an HDF5 file's bytes into the tree (every dataset read as a tensor).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Group> {
        if !hdf5_pure::is_hdf5_bytes(&bytes) {
            return Err(Error::value("not an HDF5 file (no HDF5 signature)"));
        }
        // No dataset can hold more values than the file could expand to (uncompressed, or
        // deflated at most ~1032:1): a larger declared shape is refused before allocating.
        let limit = (bytes.len() as u64).saturating_mul(1100).min(MAX_ELEMENTS);
        let file = File::from_bytes(bytes).map_err(|e| h5err("reading an HDF5 file", e))?;
        let root = file.root();
        read_group(&root, "", 0, limit)
    }
}

fn write_dataset(ds: &mut hdf5_pure::DatasetBuilder, t: &Tensor) -> Result<()> {
    let shape: Vec<u64> = t.dims().iter().map(|&d| d as u64).collect();
    let flat = t.flatten_all()?;
    match t.dtype() {
        DType::F32 => ds.with_f32_data(&flat.to_vec1::<f32>()?),
        DType::F64 => ds.with_f64_data(&flat.to_vec1::<f64>()?),
        DType::I64 => ds.with_i64_data(&flat.to_vec1::<i64>()?),
        DType::U32 => ds.with_i64_data(
            &flat
                .to_vec1::<u32>()?
                .into_iter()
                .map(i64::from)
                .collect::<Vec<_>>(),
        ),
        other => {
            let v: Vec<f32> = flat.to_dtype(DType::F32)?.to_vec1()?;
            let _ = other;
            ds.with_f32_data(&v)
        }
    };
    ds.with_shape(&shape);
    Ok(())
}

fn read_group(g: &hdf5_pure::Group, path: &str, depth: usize, limit: u64) -> Result<Group> {
    if depth > 64 {
        return Err(Error::value("HDF5 file nests groups more than 64 deep"));
    }
    let mut out = Group::default();
    for (k, v) in g
        .attrs()
        .map_err(|e| h5err(&format!("attributes of '{path}'"), e))?
    {
        if let Some(s) = v.as_str() {
            out.attrs.insert(k, s.to_string());
        } else if let Some(v) = v.as_strings() {
            out.lists.insert(k, v.to_vec());
        }
    }
    for name in g
        .datasets()
        .map_err(|e| h5err(&format!("datasets of '{path}'"), e))?
    {
        let full = format!("{path}/{name}");
        let ds = g.dataset(&name).map_err(|e| h5err(&full, e))?;
        out.datasets.insert(name, read_dataset(&ds, &full, limit)?);
    }
    for name in g
        .groups()
        .map_err(|e| h5err(&format!("groups of '{path}'"), e))?
    {
        let full = format!("{path}/{name}");
        let child = g.group(&name).map_err(|e| h5err(&full, e))?;
        out.groups
            .insert(name, read_group(&child, &full, depth + 1, limit)?);
    }
    Ok(out)
}

fn read_dataset(ds: &hdf5_pure::Dataset, path: &str, limit: u64) -> Result<Tensor> {
    let shape = ds.shape().map_err(|e| h5err(path, e))?;
    let n = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
    if n.is_none_or(|n| n > limit) {
        return Err(Error::value(format!(
            "dataset '{path}' declares shape {shape:?}, too large to load"
        )));
    }
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let dt = ds.dtype().map_err(|e| h5err(path, e))?;
    let t = match dt {
        hdf5_pure::DType::F32 => Tensor::from_vec(
            ds.read_f32().map_err(|e| h5err(path, e))?,
            dims,
            &Device::Cpu,
        )?,
        hdf5_pure::DType::F64 => Tensor::from_vec(
            ds.read_f64().map_err(|e| h5err(path, e))?,
            dims,
            &Device::Cpu,
        )?,
        hdf5_pure::DType::I8
        | hdf5_pure::DType::I16
        | hdf5_pure::DType::I32
        | hdf5_pure::DType::I64
        | hdf5_pure::DType::U8
        | hdf5_pure::DType::U16
        | hdf5_pure::DType::U32 => Tensor::from_vec(
            ds.read_i64().map_err(|e| h5err(path, e))?,
            dims,
            &Device::Cpu,
        )?,
        other => {
            return Err(Error::value(format!(
                "dataset '{path}' has type {other:?}; weights must be numbers"
            )))
        }
    };
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_nesting_scalars_and_attributes() {
        let mut root = Group::default();
        let v = root.make("layers/dense/vars");
        v.attrs.insert("name".into(), "dense".into());
        v.datasets.insert(
            "0".into(),
            Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu).unwrap(),
        );
        v.datasets
            .insert("1".into(), Tensor::new(2.5f32, &Device::Cpu).unwrap());
        root.make("layers/dropout/vars");
        let bytes = root.to_bytes().unwrap();
        let back = Group::from_bytes(bytes).unwrap();
        let v = back.get("layers/dense/vars").unwrap();
        assert_eq!(v.attrs["name"], "dense");
        assert_eq!(
            v.datasets["0"].to_vec2::<f32>().unwrap(),
            vec![vec![1.0, 2.0], vec![3.0, 4.0]]
        );
        assert_eq!(v.datasets["1"].dims(), &[] as &[usize]);
        assert!(back.get("layers/dropout/vars").unwrap().datasets.is_empty());
        assert!(Group::from_bytes(b"not hdf5 at all".to_vec()).is_err());
    }
}
