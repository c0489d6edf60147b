//! What a layer keeps beside its numbered weights, as the engine hands it to the layer:
//! its own variables (a [`Group`] of the weights file, Keras's `save_own_variables` store) and
//! its asset files ([`Assets`], Keras's `save_assets` folder). Plain data: reading and writing
//! them as HDF5 files and `.keras` archives is `saving`'s part.
//!
//! ```
//! use keras::engine::store::Group;
//! use keras::{Device, Tensor};
//! let mut root = Group::default();
//! let vars = root.make("layers/lookup/vars");
//! vars.datasets.insert("idf_weights".into(), Tensor::new(&[1f32, 2.0], &Device::Cpu)?);
//! assert_eq!(root.dataset("layers/lookup/vars/idf_weights").unwrap().dims(), &[2]);
//! # Ok::<(), keras::Error>(())
//! ```

use crate::ops::Tensor;
use std::collections::BTreeMap;

/// A layer's asset folder: file contents by path relative to the folder.
pub type Assets = BTreeMap<String, Vec<u8>>;

/// A group of a weights file: named child groups, named datasets and string attributes.
#[derive(Debug, Default, Clone)]
pub struct Group {
    /// Child groups by name.
    pub groups: BTreeMap<String, Group>,
    /// Datasets by name.
    pub datasets: BTreeMap<String, Tensor>,
    /// String attributes (Keras writes `name`).
    pub attrs: BTreeMap<String, String>,
    /// Attributes holding several strings (Keras 2's `layer_names`, `weight_names`).
    pub lists: BTreeMap<String, Vec<String>>,
}

impl Group {
    /// The group at `path` (`a/b/c`), created if missing.
    pub fn make(&mut self, path: &str) -> &mut Group {
        path.split('/')
            .filter(|p| !p.is_empty())
            .fold(self, |g, p| g.groups.entry(p.to_string()).or_default())
    }

    /// The group at `path`, if present.
    pub fn get(&self, path: &str) -> Option<&Group> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .try_fold(self, |g, p| g.groups.get(p))
    }

    /// The strings of attribute `key`: a list, a single string as one element, or none.
    pub fn strings(&self, key: &str) -> Vec<String> {
        match (self.lists.get(key), self.attrs.get(key)) {
            (Some(v), _) => v.clone(),
            (None, Some(s)) => vec![s.clone()],
            (None, None) => vec![],
        }
    }

    /// The dataset at `path` (`a/b/kernel:0`), if present.
    pub fn dataset(&self, path: &str) -> Option<&Tensor> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        self.get(dir)?.datasets.get(name)
    }
}
