//! `save_weights` / `load_weights` in Keras 3's `.weights.h5` layout: `layers/<class>/vars/0..`
//! for each layer (nested objects as Keras walks them: an RNN's `cell`, a wrapper's `layer`,
//! a nested model's `layers`), `vars` for the model itself and `optimizer/vars/0..` for the
//! optimizer's `iterations`, `learning_rate` and state.

use super::h5::Group;
use crate::engine::{VarGroup, Weight};
use crate::models::Model;
use crate::ops::Tensor;
use crate::optimizers::Optimizer;
use crate::{Error, Result};
use std::path::Path;

/// Writes a variable tree into an HDF5 group tree.
fn put(tree: &VarGroup, g: &mut Group) -> Result<()> {
    if let Some(name) = &tree.name {
        let vars = g.make("vars");
        vars.attrs.insert("name".into(), name.clone());
        for (i, w) in tree.vars.iter().enumerate() {
            vars.datasets.insert(i.to_string(), w.numpy()?);
        }
    }
    for (attr, child) in &tree.children {
        put(child, g.make(attr))?;
    }
    Ok(())
}

/// Assigns a variable tree from an HDF5 group tree; mismatches are errors unless
/// `skip_mismatch`, when the variable keeps its value.
fn take(tree: &VarGroup, g: Option<&Group>, path: &str, skip_mismatch: bool) -> Result<()> {
    if let Some(name) = &tree.name {
        let empty = Group::default();
        let vars = g.and_then(|g| g.get("vars")).unwrap_or(&empty);
        if vars.datasets.len() != tree.vars.len() && !tree.vars.is_empty() {
            if !skip_mismatch {
                let expected: Vec<&str> = tree.vars.iter().map(|w| w.name()).collect();
                return Err(Error::value(format!(
                    "Layer '{name}' expected {} variables, but received {} variables during loading. Expected: {expected:?} (file group '{path}/vars')",
                    tree.vars.len(),
                    vars.datasets.len()
                )));
            }
        } else {
            for (i, w) in tree.vars.iter().enumerate() {
                let Some(v) = vars.datasets.get(&i.to_string()) else {
                    continue;
                };
                if v.dims() != w.shape().as_slice() {
                    if skip_mismatch {
                        continue;
                    }
                    return Err(Error::value(format!(
                        "The shape of the target variable and the shape of the saved variable mismatch for '{}' (file '{path}/vars/{i}'): expected {:?}, received {:?}",
                        w.path(),
                        w.shape(),
                        v.dims()
                    )));
                }
                w.assign(&v.to_dtype(w.dtype())?)?;
            }
        }
    }
    for (attr, child) in &tree.children {
        let sub = g.and_then(|g| g.get(attr));
        take(child, sub, &format!("{path}/{attr}"), skip_mismatch)?;
    }
    Ok(())
}

/// The optimizer's variables in Keras's order (`optimizer.variables`: `iteration`,
/// `learning_rate`, then what its `build` declares; initial values for weights it has not
/// updated yet).
fn optimizer_vars(opt: &dyn Optimizer, weights: &[Weight]) -> Result<Vec<Tensor>> {
    opt.save_own_variables(weights)
}

fn set_optimizer_vars(opt: &mut dyn Optimizer, weights: &[Weight], vars: &Group) -> Result<()> {
    let mut values = Vec::with_capacity(vars.datasets.len());
    for i in 0..vars.datasets.len() {
        let t = vars
            .datasets
            .get(&i.to_string())
            .ok_or_else(|| Error::value(format!("optimizer variable {i} missing from the file")))?;
        values.push(t.clone());
    }
    opt.load_own_variables(weights, &values)
}

/// The model's weights (and its optimizer's, when compiled) as Keras's HDF5 tree.
pub fn to_h5(model: &Model) -> Result<Group> {
    let mut root = Group::default();
    put(&model.net.var_group(), &mut root)?;
    super::assets::put_own_variables(&model.net, &mut root)?;
    let weights = model.trainable_weights();
    if let Some(opt) = model.trainer.optimizer_ref() {
        let name = opt.name().to_string();
        let vars = root.make("optimizer/vars");
        vars.attrs.insert("name".into(), name);
        for (i, t) in optimizer_vars(opt, &weights)?.into_iter().enumerate() {
            vars.datasets.insert(i.to_string(), t);
        }
        // A wrapper (LossScaleOptimizer) also writes its inner optimizer's own group, as
        // Keras does (its `vars` already hold them after its own).
        if let Some(inner) = opt.inner_optimizer() {
            let vars = root.make("optimizer/inner_optimizer/vars");
            vars.attrs.insert("name".into(), inner.name().to_string());
            for (i, t) in optimizer_vars(inner, &weights)?.into_iter().enumerate() {
                vars.datasets.insert(i.to_string(), t);
            }
        }
    }
    Ok(root)
}

/// Sets the model's weights (and its optimizer's state, when compiled and present) from
/// Keras's HDF5 tree.
pub fn from_h5(model: &mut Model, root: &Group, skip_mismatch: bool) -> Result<()> {
    take(&model.net.var_group(), Some(root), "", skip_mismatch)?;
    super::assets::take_own_variables(&model.net, root)?;
    let weights = model.trainable_weights();
    if let (Some(opt), Some(vars)) = (model.trainer.optimizer(), root.get("optimizer/vars")) {
        set_optimizer_vars(opt, &weights, vars)?;
    }
    Ok(())
}

/// Writes `model.weights.h5` (Keras's `save_weights`), atomically.
pub fn save_weights(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if path.extension().is_some_and(|e| e == "safetensors") {
        return super::save_safetensors(model, path);
    }
    if !path.to_string_lossy().ends_with(".weights.h5") {
        return Err(Error::value(format!(
            "The filename must end in `.weights.h5` (or `.safetensors`). Received: filepath={}",
            path.display()
        )));
    }
    let bytes = to_h5(model)?.to_bytes()?;
    crate::ops::npy::write_atomic(path, |f| {
        use std::io::Write;
        f.write_all(&bytes)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    })
}

/// Reads weights saved by Keras 3 (`.weights.h5`) or by [`save_weights`], or Keras 2's legacy
/// HDF5 weights (`w.h5` from `save_weights`, or a whole `model.save("m.h5")` file, whose
/// `model_weights` are read; layers are matched by order and `skip_mismatch` does not apply).
pub fn load_weights(model: &mut Model, path: impl AsRef<Path>, skip_mismatch: bool) -> Result<()> {
    let path = path.as_ref();
    if path.extension().is_some_and(|e| e == "safetensors") {
        return super::load_safetensors(model, path);
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let root =
        Group::from_bytes(bytes).map_err(|e| Error::value(format!("{}: {e}", path.display())))?;
    if super::legacy_h5::is_legacy(&root) {
        return super::legacy_h5::load_legacy(model, &root)
            .map_err(|e| Error::value(format!("{}: {e}", path.display())));
    }
    from_h5(model, &root, skip_mismatch)
}
