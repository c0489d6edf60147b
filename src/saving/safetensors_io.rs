//! Weights as `.safetensors` (read by candle, burn and Hugging Face tools): one tensor per
//! variable, keyed as Keras's `.weights.h5` files place them, by structure rather than by
//! layer name (so a file loads into any model of the same architecture): `dense_1/kernel` is
//! the second `Dense` of the model, `functional/dense/bias` a layer of a nested model,
//! `lstm/cell/recurrent_kernel` an LSTM's cell. Kernels keep Keras's layout (`(in, out)` for
//! Dense). This is our addition; Keras itself has no safetensors format.

use crate::engine::{VarGroup, Weight};
use crate::models::Model;
use crate::ops::{Device, Tensor};
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// Every variable with its key, in the model's order.
fn keyed(model: &Model) -> Vec<(String, Weight)> {
    fn walk(g: &VarGroup, prefix: &str, out: &mut Vec<(String, Weight)>) {
        for w in &g.vars {
            out.push((format!("{prefix}{}", w.name()), w.clone()));
        }
        for (attr, child) in &g.children {
            // A list of layers adds no segment; its children are keyed as in Keras's files.
            let next = if child.name.is_none() {
                prefix.to_string()
            } else {
                format!("{prefix}{attr}/")
            };
            walk(child, &next, out);
        }
    }
    let mut out = vec![];
    walk(&model.net.var_group(), "", &mut out);
    // Keys must be unique; a repeat (same layer names in two nested models) gets a suffix.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, _) in out.iter_mut() {
        let n = seen.entry(k.clone()).or_insert(0);
        if *n > 0 {
            *k = format!("{k}_{n}");
        }
        *n += 1;
    }
    out
}

/// Writes the model's weights as a `.safetensors` file, atomically.
///
/// ```
/// use keras::prelude::*;
/// let inputs = Input::new(&[4]);
/// let outputs = Dense::new(2).call(&inputs)?;
/// let mut model = Model::new(&[inputs], &[outputs])?;
/// let path = std::env::temp_dir().join(format!("doc_{}.safetensors", std::process::id()));
/// model.save_weights(&path)?;
/// let tensors = candle_core::safetensors::load(&path, &candle_core::Device::Cpu)?;
/// assert_eq!(tensors["dense/kernel"].dims(), &[4, 2]);
/// model.load_weights(&path)?;
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_safetensors(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let tensors: Vec<(String, Tensor)> = keyed(model)
        .into_iter()
        .map(|(k, w)| Ok((k, w.numpy()?)))
        .collect::<Result<_>>()?;
    let bytes = safetensors::serialize(tensors.iter().map(|(k, t)| (k.as_str(), t)), None)
        .map_err(|e| Error::value(format!("cannot encode {}: {e}", path.display())))?;
    crate::ops::npy::write_atomic(path, |f| {
        use std::io::Write;
        f.write_all(&bytes)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    })
}

/// Sets the model's weights from a `.safetensors` file written by [`save_safetensors`] (or any
/// file with the same keys and shapes). Every key and shape is checked before any weight
/// changes.
pub fn load_safetensors(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let bad = |e: String| Error::value(format!("{}: {e}", path.display()));
    let mut tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
        .map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
    let mut plan = vec![];
    for (key, w) in keyed(model) {
        let t = tensors.remove(&key).ok_or_else(|| {
            bad(format!(
                "no tensor \"{key}\" (a {:?} weight of the model)",
                w.shape()
            ))
        })?;
        if t.dims() != w.shape().as_slice() {
            return Err(bad(format!(
                "tensor \"{key}\" has shape {:?}; the model's weight has shape {:?}",
                t.dims(),
                w.shape()
            )));
        }
        plan.push((w, t));
    }
    if !tensors.is_empty() {
        let mut extra: Vec<&String> = tensors.keys().collect();
        extra.sort();
        return Err(bad(format!(
            "tensors the model has no weight for: {extra:?}"
        )));
    }
    for (w, t) in plan {
        w.assign(&t)?;
    }
    Ok(())
}
