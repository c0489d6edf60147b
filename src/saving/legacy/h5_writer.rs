//! Writes an [`h5::Group`](crate::saving::h5::Group) tree with its string-list attributes
//! (Keras 2's `layer_names` and `weight_names`), which the `.weights.h5` writer
//! ([`Group::to_bytes`](crate::saving::h5::Group::to_bytes)) has no use for. A list is an
//! array of fixed-width strings, as h5py stores Keras's `np.array([b"dense", ...])`; an empty
//! list is an empty float64 array, as `np.asarray([])` is.

use crate::ops::DType;
use crate::saving::h5::Group;
use crate::{Error, Result};
use hdf5_pure::{AttrValue, FileBuilder, GroupBuilder};

fn list_value(v: &[String]) -> AttrValue {
    if v.is_empty() {
        AttrValue::F64Array(vec![])
    } else {
        AttrValue::StringArray(v.to_vec())
    }
}

/// The file's bytes: every group, dataset, string attribute and string-list attribute.
///
/// ```
/// use keras::saving::h5::Group;
/// let mut root = Group::default();
/// root.lists.insert("layer_names".into(), vec!["dense".into(), "dropout".into()]);
/// root.make("dense").lists.insert("weight_names".into(), vec![]);
/// let bytes = keras::saving::legacy::h5_writer::to_bytes(&root)?;
/// let back = Group::from_bytes(bytes)?;
/// assert_eq!(back.strings("layer_names"), ["dense", "dropout"]);
/// assert!(back.get("dense").unwrap().strings("weight_names").is_empty());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn to_bytes(root: &Group) -> Result<Vec<u8>> {
    let mut fb = FileBuilder::new();
    for (k, v) in &root.attrs {
        fb.set_attr(k, AttrValue::String(v.clone()));
    }
    for (k, v) in &root.lists {
        fb.set_attr(k, list_value(v));
    }
    for (name, t) in &root.datasets {
        write_dataset(fb.create_dataset(name), t, name)?;
    }
    for (name, g) in &root.groups {
        let mut gb = fb.create_group(name);
        fill(g, &mut gb)?;
        fb.add_group(gb.finish());
    }
    fb.finish()
        .map_err(|e| Error::value(format!("writing an HDF5 file: {e}")))
}

fn fill(g: &Group, gb: &mut GroupBuilder) -> Result<()> {
    for (k, v) in &g.attrs {
        gb.set_attr(k, AttrValue::String(v.clone()));
    }
    for (k, v) in &g.lists {
        gb.set_attr(k, list_value(v));
    }
    for (name, t) in &g.datasets {
        write_dataset(gb.create_dataset(name), t, name)?;
    }
    for (name, child) in &g.groups {
        let mut cb = gb.create_group(name);
        fill(child, &mut cb)?;
        gb.add_group(cb.finish());
    }
    Ok(())
}

fn write_dataset(
    ds: &mut hdf5_pure::DatasetBuilder,
    t: &crate::ops::Tensor,
    name: &str,
) -> Result<()> {
    let shape: Vec<u64> = t.dims().iter().map(|&d| d as u64).collect();
    let flat = t.flatten_all()?;
    match t.dtype() {
        DType::F64 => ds.with_f64_data(&flat.to_vec1::<f64>()?),
        DType::I64 => ds.with_i64_data(&flat.to_vec1::<i64>()?),
        DType::U32 => ds.with_u32_data(&flat.to_vec1::<u32>()?),
        DType::U8 => ds.with_u8_data(&flat.to_vec1::<u8>()?),
        DType::F32 | DType::F16 | DType::BF16 => {
            ds.with_f32_data(&flat.to_dtype(DType::F32)?.to_vec1::<f32>()?)
        }
        other => {
            return Err(Error::value(format!(
                "weight {name}: dtype {other:?} cannot be written to an HDF5 file"
            )))
        }
    };
    ds.with_shape(&shape);
    Ok(())
}
