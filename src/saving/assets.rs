//! What Keras 3 saves beside the numbered weights: asset files (`assets/<layer path>/...` in a
//! `.keras` archive, e.g. a lookup layer's `vocabulary.txt`) and variables stored under their
//! own names (`<layer path>/vars/idf_weights`). Layers give them through
//! [`Layer::save_assets`](crate::engine::Layer::save_assets) /
//! [`Layer::save_own_variables`](crate::engine::Layer::save_own_variables) and read them back
//! through the `load_` twins; this file walks a model's layers by the paths Keras's
//! `saving_lib` gives them (the paths of [`VarGroup`](crate::engine::VarGroup)).
//!
//! ```
//! use keras::prelude::*;
//! use keras::layers::StringLookup;
//! let mut lookup = StringLookup::new();
//! lookup.adapt(&["cat", "dog", "cat"])?;
//! let inputs = Input::string(&[1]);
//! let ids = lookup.call(&inputs)?;
//! let model = Model::new(&[inputs], &[ids])?;
//! let path = std::env::temp_dir().join(format!("doc_assets_{}.keras", std::process::id()));
//! model.save(&path)?;
//! // The learned vocabulary is an asset (one given to the constructor stays in the config).
//! let names: Vec<String> = keras::saving::list_archive(&path)?.into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names[3], "assets/layers/string_lookup/vocabulary.txt");
//! let back = keras::saving::load_model(&path)?;
//! let vocab = back.get_layer(&model.layers()[1].name())?.with(|l: &StringLookup| l.get_vocabulary(true));
//! assert_eq!(vocab.unwrap(), ["[UNK]", "cat", "dog"]);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), keras::Error>(())
//! ```

use super::h5::Group;
use crate::engine::naming::to_snake_case;
use crate::engine::LayerRef;
use crate::{Error, Result};
use std::collections::HashMap;

pub use crate::engine::store::Assets;

/// The folder asset files go under in a `.keras` archive.
pub(crate) const ASSETS_DIR: &str = "assets";

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    }
}

/// Calls `f` on `layer` (at `path`) and on every layer inside it, with the path Keras's
/// saving walk gives each: a model's layers under `layers/<class in snake case>[_n]`.
pub(crate) fn walk(
    layer: &LayerRef,
    path: &str,
    f: &mut dyn FnMut(&LayerRef, &str) -> Result<()>,
) -> Result<()> {
    f(layer, path)?;
    if layer.is_model() {
        let mut used: HashMap<String, usize> = HashMap::new();
        for sub in layer.sublayers() {
            let base = to_snake_case(sub.class_name());
            let n = used.entry(base.clone()).or_insert(0);
            let key = if *n == 0 {
                base.clone()
            } else {
                format!("{base}_{n}")
            };
            *n += 1;
            walk(&sub, &join(path, &format!("layers/{key}")), f)?;
        }
    }
    Ok(())
}

/// Every layer's asset files, by their path in the archive (`assets/layers/<layer>/<file>`).
pub(crate) fn collect(net: &LayerRef) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = vec![];
    walk(net, "", &mut |l, path| {
        let mut dir = Assets::new();
        l.with_dyn(|x| x.save_assets(&mut dir))?;
        for (name, bytes) in dir {
            out.push((join(&join(ASSETS_DIR, path), &name), bytes));
        }
        Ok(())
    })?;
    Ok(out)
}

/// Hands each layer the files under its asset folder (`files` are by archive path).
pub(crate) fn restore(net: &LayerRef, files: &Assets) -> Result<()> {
    walk(net, "", &mut |l, path| {
        let prefix = format!("{}/", join(ASSETS_DIR, path));
        let dir: Assets = files
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|r| (r.to_string(), v.clone())))
            .collect();
        l.with_dyn_mut(|x| x.load_assets(&dir))
            .map_err(|e| Error::value(format!("layer \"{}\": {e}", l.name())))
    })
}

/// Writes each layer's named variables into its group of the weights tree.
pub(crate) fn put_own_variables(net: &LayerRef, root: &mut Group) -> Result<()> {
    walk(net, "", &mut |l, path| {
        let mut g = Group::default();
        l.with_dyn(|x| x.save_own_variables(&mut g))?;
        if !g.datasets.is_empty() || !g.groups.is_empty() {
            merge(
                if path.is_empty() {
                    &mut *root
                } else {
                    root.make(path)
                },
                g,
            );
        }
        Ok(())
    })
}

fn merge(into: &mut Group, from: Group) {
    into.datasets.extend(from.datasets);
    into.attrs.extend(from.attrs);
    into.lists.extend(from.lists);
    for (k, g) in from.groups {
        merge(into.make(&k), g);
    }
}

/// Hands each layer its group of the weights tree to read its named variables from.
pub(crate) fn take_own_variables(net: &LayerRef, root: &Group) -> Result<()> {
    let empty = Group::default();
    walk(net, "", &mut |l, path| {
        let g = if path.is_empty() {
            Some(root)
        } else {
            root.get(path)
        };
        l.with_dyn_mut(|x| x.load_own_variables(g.unwrap_or(&empty)))
            .map_err(|e| Error::value(format!("layer \"{}\": {e}", l.name())))
    })
}
