//! Keras 2's HDF5 weights (`save_weights("w.h5")`, or the `model_weights` group of a whole
//! `model.save("m.h5")` file): one group per top-level layer, listed in the root's
//! `layer_names` attribute, each with a `weight_names` attribute naming its datasets. Layers
//! are matched by order, as Keras's `load_weights_from_hdf5_group` does.

use super::h5::Group;
use crate::models::Model;
use crate::{Error, Result};

/// Whether `root` is a Keras 2 weights tree rather than Keras 3's `layers/...` layout.
pub fn is_legacy(root: &Group) -> bool {
    root.groups.contains_key("model_weights") || !root.strings("layer_names").is_empty()
}

/// Sets the model's weights from a Keras 2 weights tree.
pub fn load_legacy(model: &mut Model, root: &Group) -> Result<()> {
    let g = root.get("model_weights").unwrap_or(root);
    let names = g.strings("layer_names");
    if names.is_empty() {
        return Err(Error::value(
            "not a Keras weights file: no `layer_names` attribute in the legacy HDF5 layout",
        ));
    }
    // The saved layers that have weights, with their values in `weight_names` order.
    let mut saved: Vec<(String, Vec<(String, &crate::ops::Tensor)>)> = vec![];
    for name in &names {
        let lg = g.groups.get(name).ok_or_else(|| {
            Error::value(format!(
                "layer_names lists \"{name}\" but the file has no such group"
            ))
        })?;
        let weight_names = lg.strings("weight_names");
        if weight_names.is_empty() {
            continue;
        }
        let values = weight_names
            .iter()
            .map(|w| {
                lg.dataset(w).map(|t| (w.clone(), t)).ok_or_else(|| {
                    Error::value(format!(
                        "layer \"{name}\": weight \"{w}\" is missing from the file"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        saved.push((name.clone(), values));
    }
    let layers: Vec<_> = model
        .layers()
        .into_iter()
        .filter(|l| !l.weights().is_empty())
        .collect();
    if layers.len() != saved.len() {
        return Err(Error::value(format!(
            "Layer count mismatch when loading weights from file. Model expected {} layers, found {} \
             saved layers.",
            layers.len(),
            saved.len()
        )));
    }
    // Check everything before assigning anything: a failed load leaves the model as it was.
    let mut plan = vec![];
    for (i, (layer, (saved_name, values))) in layers.iter().zip(&saved).enumerate() {
        let weights = layer.weights();
        if weights.len() != values.len() {
            return Err(Error::value(format!(
                "Weight count mismatch for layer #{i} (named {} in the current model, {saved_name} in \
                 the save file). Layer expects {} weight(s). Received {} saved weight(s)",
                layer.name(),
                weights.len(),
                values.len()
            )));
        }
        for (w, (wname, v)) in weights.iter().zip(values) {
            if w.shape() != v.dims() {
                return Err(Error::value(format!(
                    "Shape mismatch in layer #{i} (named {}) for weight {wname}. Weight expects shape \
                     {:?}. Received saved weight with shape {:?}",
                    layer.name(),
                    w.shape(),
                    v.dims()
                )));
            }
            plan.push((w.clone(), *v));
        }
    }
    for (w, v) in plan {
        w.assign(v)?;
    }
    Ok(())
}
