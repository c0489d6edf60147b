//! How a layer's variables sit in a Keras weights file: the tree Keras 3's saving code walks
//! (`keras/src/saving/saving_lib.py`), one group per saveable object.

use super::{LayerRef, Weight};
use crate::engine::naming::to_snake_case;
use std::collections::HashMap;

/// One node of the tree: the variables Keras stores at `<path>/vars` (with the object's name as
/// the group's `name` attribute), and the child nodes under their attribute names.
///
/// ```
/// use keras::prelude::*;
/// let lstm = keras::layers::LSTM::new(4).into_layer();
/// lstm.build(&[Shape(vec![None, Some(3), Some(2)])])?;
/// let g = lstm.var_group();
/// // Keras keeps an RNN's weights on its cell: `lstm/cell/vars/0..2`.
/// assert!(g.vars.is_empty());
/// assert_eq!(g.children[0].0, "cell");
/// assert_eq!(g.children[0].1.vars.len(), 3);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct VarGroup {
    /// The `name` attribute of the `vars` group; `None` for a plain container (a list of
    /// layers), which has no `vars` group.
    pub name: Option<String>,
    /// The variables, in Keras's order.
    pub vars: Vec<Weight>,
    /// Child nodes by attribute name (`cell`, `forward_layer`, `layers`, ...).
    pub children: Vec<(String, VarGroup)>,
}

impl VarGroup {
    /// A layer's own variables, trainable ones first (Keras's `save_own_variables`).
    pub fn layer(name: &str, own: &[Weight]) -> VarGroup {
        let mut vars: Vec<Weight> = own
            .iter()
            .filter(|w| w.created_trainable())
            .cloned()
            .collect();
        vars.extend(own.iter().filter(|w| !w.created_trainable()).cloned());
        VarGroup {
            name: Some(name.to_string()),
            vars,
            children: vec![],
        }
    }

    /// A node with no variables of its own.
    pub fn empty(name: &str) -> VarGroup {
        VarGroup::layer(name, &[])
    }

    /// Adds a child node.
    pub fn with_child(mut self, attr: &str, child: VarGroup) -> VarGroup {
        self.children.push((attr.to_string(), child));
        self
    }

    /// A list of layers as Keras saves one: each under its class name in snake case, made
    /// unique by order (`dense`, `dense_1`, ...), not under the layer's own name.
    pub fn container(layers: &[LayerRef]) -> VarGroup {
        let mut used: HashMap<String, usize> = HashMap::new();
        let children = layers
            .iter()
            .map(|l| {
                let base = to_snake_case(l.class_name());
                let n = used.entry(base.clone()).or_insert(0);
                let key = if *n == 0 {
                    base.clone()
                } else {
                    format!("{base}_{n}")
                };
                *n += 1;
                (key, l.var_group())
            })
            .collect();
        VarGroup {
            name: None,
            vars: vec![],
            children,
        }
    }

    /// Every variable in the tree, depth first.
    pub fn all_vars(&self) -> Vec<Weight> {
        let mut out = self.vars.clone();
        for (_, c) in &self.children {
            out.extend(c.all_vars());
        }
        out
    }
}
