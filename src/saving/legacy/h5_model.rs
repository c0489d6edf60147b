//! Whole models in Keras 2's HDF5 file (`model.save("my_model.h5")`, the tutorials' format,
//! which Keras 3 still reads and writes as its legacy format; Keras's
//! `keras/src/legacy/saving/legacy_h5_format.py`). The root holds the attributes
//! `model_config` (the model's JSON in Keras 2's form), `training_config` (its compile
//! arguments), `keras_version` and `backend`; the `model_weights` group its weights, layer by
//! layer; `optimizer_weights` its optimizer's state.

use super::{h5_writer, keras2_config, training_config};
use crate::models::Model;
use crate::saving::h5::Group;
use crate::saving::legacy_h5::{load_legacy, save_legacy, BACKEND};
use crate::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// Whether `path` names a legacy HDF5 model file: it ends in `.h5` or `.hdf5`, as Keras's
/// `load_model` and `save` decide.
///
/// ```
/// use keras::saving::legacy::is_h5_path;
/// assert!(is_h5_path("my_model.h5") && is_h5_path("m.hdf5"));
/// assert!(!is_h5_path("m.keras"));
/// ```
pub fn is_h5_path(path: impl AsRef<Path>) -> bool {
    let p = path.as_ref().to_string_lossy();
    p.ends_with(".h5") || p.ends_with(".hdf5")
}

/// Whether `bytes` are an HDF5 file (its signature), i.e. a legacy `.h5` model rather than a
/// `.keras` zip archive ([`crate::saving::load_model_from_bytes`] reads both).
///
/// ```
/// let h5 = include_bytes!("../../../tests/fixtures/legacy_h5/keras3_two_input.h5");
/// assert!(keras::saving::legacy::h5_model::is_h5_bytes(h5));
/// let model = keras::saving::load_model_from_bytes(h5)?;
/// assert_eq!(model.count_params(), 56);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn is_h5_bytes(bytes: &[u8]) -> bool {
    hdf5_pure::is_hdf5_bytes(bytes)
}

/// Saves a model as Keras 2's whole-model HDF5 file (Keras's `save_model_to_hdf5`), which
/// Keras 3's `keras.saving.load_model` and tf.keras 2's `load_model` read: the model's config
/// in tf.keras 2's form, its compile arguments, its weights and its optimizer's state (in
/// Keras 3's order; tf_keras starts such a model with a fresh optimizer, as Keras 3 does with
/// tf_keras's). A model that nests models is written as Keras 3 reads it, which tf_keras
/// does not (see [`keras2_config`]). Written atomically (a temporary file beside the target,
/// synced, then renamed).
///
/// ```
/// use keras::prelude::*;
/// let mut model = Sequential::from_layers([Input::new(&[4]).into(), Dense::new(2).into()])?;
/// model.compile("adam", "mse", ["mae"])?;
/// let path = std::env::temp_dir().join(format!("doc_save_h5_{}.h5", std::process::id()));
/// keras::saving::legacy::save_h5_model(&model, &path)?;
/// let loaded = keras::saving::legacy::load_h5_model(&path, true)?;
/// assert_eq!(loaded.count_params(), 10);
/// assert!(loaded.compiled());
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), keras::Error>(())
/// ```
pub fn save_h5_model(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = to_bytes(model)?;
    crate::ops::npy::write_atomic(path, |f| {
        use std::io::Write;
        f.write_all(&bytes)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    })
}

/// The bytes of [`save_h5_model`]'s file.
pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    let config: Value = serde_json::from_str(&crate::saving::to_json(model)?)
        .map_err(|e| Error::value(format!("the model's config is not JSON: {e}")))?;
    let model_config = keras2_config::to_keras2(&config)?;
    let mut root = Group::default();
    root.attrs
        .insert("model_config".into(), model_config.to_string());
    root.attrs.insert(
        "keras_version".into(),
        crate::saving::keras_file::KERAS_VERSION.into(),
    );
    root.attrs.insert("backend".into(), BACKEND.into());
    if let Some(c) = model.trainer.compile_config() {
        let tc = training_config::from_compile_config(&c);
        root.attrs.insert("training_config".into(), tc.to_string());
    }
    root.groups
        .insert("model_weights".into(), save_legacy(model)?);
    if let Some(opt) = optimizer_weights(model)? {
        root.groups.insert("optimizer_weights".into(), opt);
    }
    h5_writer::to_bytes(&root)
}

/// The optimizer's variables (as the `.keras` file holds them: `iterations`, `learning_rate`,
/// then its state) as Keras's `optimizer_weights` group, named `<optimizer>/<variable>`.
fn optimizer_weights(model: &Model) -> Result<Option<Group>> {
    let Some(opt) = model.trainer.optimizer_ref() else {
        return Ok(None);
    };
    let prefix = opt.name().to_string();
    let tree = crate::saving::weights::to_h5(model)?;
    let Some(vars) = tree.get("optimizer/vars") else {
        return Ok(None);
    };
    let mut g = Group::default();
    let mut names = vec![];
    for i in 0..vars.datasets.len() {
        let t = vars.datasets.get(&i.to_string()).ok_or_else(|| {
            Error::value(format!("optimizer variable {i} is missing from its state"))
        })?;
        let leaf = match i {
            0 => "iteration".to_string(),
            1 => "learning_rate".to_string(),
            i => format!("variable_{}", i - 2),
        };
        g.make(&prefix).datasets.insert(leaf.clone(), t.clone());
        names.push(format!("{prefix}/{leaf}"));
    }
    g.lists.insert("weight_names".into(), names);
    Ok(Some(g))
}

/// Loads a whole-model HDF5 file written by tf.keras 2, by Keras 3's legacy writer
/// (`model.save("m.h5")`) or by [`save_h5_model`]: the model from `model_config`, its weights
/// from `model_weights`, and, with `compile`, its compile arguments from `training_config`
/// and its optimizer's state from `optimizer_weights` (skipped with a warning, as Keras does,
/// when the optimizer's layout differs, e.g. a tf.keras 2 optimizer).
///
/// A corrupt or truncated file, an unknown layer class or a config Keras could not read is
/// an error naming the file and the layer or class, never a panic.
pub fn load_h5_model(path: impl AsRef<Path>, compile: bool) -> Result<Model> {
    let path = path.as_ref();
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    from_bytes(bytes, &path.display().to_string(), compile)
}

/// [`load_h5_model`] from the file's bytes; `what` names them in errors.
pub fn from_bytes(bytes: Vec<u8>, what: &str, compile: bool) -> Result<Model> {
    let bad = |e: String| Error::value(format!("{what}: {e}"));
    let size = bytes.len() as u64;
    let root = Group::from_bytes(bytes).map_err(|e| bad(e.to_string()))?;
    let model_config = root
        .attrs
        .get("model_config")
        .ok_or_else(|| bad(format!("No model config found in the file at {what}.")))?;
    let model_config: Value = serde_json::from_str(model_config)
        .map_err(|e| bad(format!("model_config is not valid JSON: {e}")))?;
    let version = root.attrs.get("keras_version").map(String::as_str);
    let config = keras2_config::from_legacy_config(&model_config, version)
        .map_err(|e| bad(e.to_string()))?;
    // The file's size bounds how many weight values the config may create.
    let budget = size / 2 + 4096;
    let mut model = crate::engine::weight::with_weight_budget(budget, || {
        crate::saving::model_from_json(&config.to_string())
    })
    .map_err(|e| bad(e.to_string()))?;
    let weights = root
        .get("model_weights")
        .ok_or_else(|| bad("the file has no `model_weights` group".into()))?;
    load_legacy(&mut model, weights).map_err(|e| bad(e.to_string()))?;
    if !compile {
        return Ok(model);
    }
    let Some(tc) = root.attrs.get("training_config") else {
        eprintln!(
            "WARNING: No training configuration found in the save file, so the model was *not* \
             compiled. Compile it manually."
        );
        return Ok(model);
    };
    let tc: Value = serde_json::from_str(tc)
        .map_err(|e| bad(format!("training_config is not valid JSON: {e}")))?;
    let outputs = model.outputs().len().max(1);
    let c = training_config::to_compile_config(&tc, outputs).map_err(|e| bad(e.to_string()))?;
    crate::saving::keras_file::compile_args(&c)
        .and_then(|a| model.compile_with(a))
        .map_err(|e| bad(format!("cannot compile from training_config: {e}")))?;
    if let Some(g) = root.get("optimizer_weights") {
        set_optimizer_weights(&mut model, g).map_err(|e| bad(e.to_string()))?;
    }
    Ok(model)
}

/// Restores the optimizer's variables from `optimizer_weights` (listed by `weight_names`, in
/// the `.keras` file's order) through the `.keras` weights reader.
fn set_optimizer_weights(model: &mut Model, g: &Group) -> Result<()> {
    let names = crate::saving::legacy_h5::attribute_strings(g, "weight_names");
    let mut tree = crate::saving::weights::to_h5(model)?;
    let vars = tree.make("optimizer/vars");
    vars.datasets.clear();
    for (i, n) in names.iter().enumerate() {
        let t = g.dataset(n).ok_or_else(|| {
            Error::value(format!(
                "optimizer_weights lists \"{n}\" but the file has no such dataset"
            ))
        })?;
        vars.datasets.insert(i.to_string(), t.clone());
    }
    crate::saving::weights::from_h5(model, &tree, false)
}
