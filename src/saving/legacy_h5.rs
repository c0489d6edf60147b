//! Keras 2's HDF5 weights (`save_weights("w.h5")`, or the `model_weights` group of a whole
//! `model.save("m.h5")` file): one group per top-level layer, listed in the root's
//! `layer_names` attribute, each with a `weight_names` attribute naming its datasets. Layers
//! are matched by order, as Keras's `load_weights_from_hdf5_group` does; each layer's weights
//! in Keras's legacy order (trainable, then non-trainable). [`save_legacy`] writes the same
//! tree.

use super::h5::Group;
use crate::engine::{LayerRef, Weight};
use crate::models::Model;
use crate::{Error, Result};

/// The `backend` attribute our legacy files carry. Readers use it only to convert Keras 1
/// Theano kernels; the weights are in TensorFlow's layout (channels last), which Keras 3's
/// JAX, TensorFlow and PyTorch backends all share.
pub const BACKEND: &str = "tensorflow";

/// A layer's weights in the order legacy HDF5 files list them (Keras's `_legacy_weights`).
fn legacy_weights(layer: &LayerRef) -> Vec<Weight> {
    let mut w = layer.trainable_weights();
    w.extend(layer.non_trainable_weights());
    w
}

/// The Keras 2 weights tree of `model` (Keras's `save_weights_to_hdf5_group`): the root's
/// `layer_names`, `backend` and `keras_version` attributes, one group per top-level layer
/// with its `weight_names` and the datasets they name (`<layer>/<weight path>`), and an empty
/// `top_level_model_weights`. This is the `model_weights` group of a whole-model `.h5` file.
///
/// ```
/// use keras::prelude::*;
/// let model = Sequential::from_layers([Input::new(&[3]).into(), Dense::new(2).name("d").into()])?.into_model();
/// let g = keras::saving::legacy_h5::save_legacy(&model)?;
/// assert_eq!(g.strings("layer_names"), ["d"]);
/// assert_eq!(g.get("d").unwrap().strings("weight_names"), ["d/kernel", "d/bias"]);
/// assert_eq!(g.dataset("d/d/kernel").unwrap().dims(), &[3, 2]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn save_legacy(model: &Model) -> Result<Group> {
    let mut root = Group::default();
    let layers = model.layers();
    let names: Vec<String> = layers.iter().map(|l| l.name()).collect();
    root.lists.insert("layer_names".into(), names);
    root.attrs.insert("backend".into(), BACKEND.into());
    root.attrs.insert(
        "keras_version".into(),
        super::keras_file::KERAS_VERSION.into(),
    );
    for layer in &layers {
        let name = layer.name();
        if name.contains('/') || name.is_empty() {
            return Err(Error::value(format!(
                "cannot write layer {name:?} to an HDF5 file: a layer name must be non-empty \
                 and hold no '/'"
            )));
        }
        let lg = root.make(&name);
        let mut weight_names: Vec<String> = vec![];
        for w in legacy_weights(layer) {
            let mut path = w.path().to_string();
            if path.is_empty() || path.split('/').any(str::is_empty) {
                path = w.name().to_string();
            }
            // Two weights of one layer cannot share a dataset.
            let base = path.clone();
            let mut k = 1;
            while weight_names.contains(&path) {
                path = format!("{base}_{k}");
                k += 1;
            }
            let (dir, leaf) = path.rsplit_once('/').unwrap_or(("", &path));
            lg.make(dir).datasets.insert(leaf.to_string(), w.numpy()?);
            weight_names.push(path);
        }
        lg.lists.insert("weight_names".into(), weight_names);
    }
    root.make("top_level_model_weights")
        .lists
        .insert("weight_names".into(), vec![]);
    Ok(root)
}

/// The strings of attribute `name`, or of `name0`, `name1`, ... where Keras split a list too
/// large for one HDF5 object header (`load_attributes_from_hdf5_group`).
pub fn attribute_strings(g: &Group, name: &str) -> Vec<String> {
    let whole = g.strings(name);
    if !whole.is_empty() {
        return whole;
    }
    (0..)
        .map(|i| g.strings(&format!("{name}{i}")))
        .take_while(|chunk| !chunk.is_empty())
        .flatten()
        .collect()
}

/// Whether `root` is a Keras 2 weights tree rather than Keras 3's `layers/...` layout.
pub fn is_legacy(root: &Group) -> bool {
    root.groups.contains_key("model_weights") || !attribute_strings(root, "layer_names").is_empty()
}

/// Sets the model's weights from a Keras 2 weights tree.
pub fn load_legacy(model: &mut Model, root: &Group) -> Result<()> {
    let g = root.get("model_weights").unwrap_or(root);
    let names = attribute_strings(g, "layer_names");
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
        let weight_names = attribute_strings(lg, "weight_names");
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
        .filter(|l| !legacy_weights(l).is_empty())
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
        let weights = legacy_weights(layer);
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
