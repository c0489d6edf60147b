//! Symbolic tensors and nodes: the graph of a functional model, as data.
//!
//! A [`KerasTensor`] is a symbolic value (shape, dtype) that knows the [`Node`] that made it.
//! A node is one call of a layer: the layer, its input tensors and its outputs. Calling a layer
//! twice makes two nodes of one layer, which is how weights are shared.

use super::layer::LayerRef;
use super::shape::Shape;
use crate::ops::DType;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What a symbolic tensor is, independent of where it came from.
#[derive(Debug)]
pub(crate) struct TensorDesc {
    pub(crate) id: u64,
    pub(crate) shape: Shape,
    pub(crate) dtype: DType,
    pub(crate) name: String,
}

impl TensorDesc {
    pub(crate) fn new(shape: Shape, dtype: DType, name: String) -> Arc<Self> {
        Arc::new(TensorDesc {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape,
            dtype,
            name,
        })
    }
}

/// A symbolic tensor: the input or output of a layer in a functional graph.
///
/// ```
/// use keras::prelude::*;
/// let inputs = Input::new(&[784]);
/// let x = Dense::new(64).activation("relu").call(&inputs)?;
/// assert_eq!(x.shape().to_string(), "(None, 64)");
/// assert_eq!(x.layer().class_name(), "Dense");
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct KerasTensor {
    pub(crate) desc: Arc<TensorDesc>,
    pub(crate) node: Arc<Node>,
    pub(crate) index: usize,
}

impl KerasTensor {
    /// The shape, `None` where unknown (the batch axis).
    pub fn shape(&self) -> &Shape {
        &self.desc.shape
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.desc.dtype
    }

    /// The tensor's name (its layer's name, with an index for later outputs).
    pub fn name(&self) -> &str {
        &self.desc.name
    }

    /// A unique id.
    pub fn id(&self) -> u64 {
        self.desc.id
    }

    /// The node (layer call) that made this tensor.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// The layer that made this tensor.
    pub fn layer(&self) -> &LayerRef {
        &self.node.layer
    }

    /// Whether this is a string tensor (Keras's dtype `"string"`): its real values are the
    /// `(..., max_bytes)` `u8` byte tensors of [`crate::ops::strings`], one axis more than
    /// [`KerasTensor::shape`] (which is Keras's shape).
    ///
    /// ```
    /// use keras::prelude::*;
    /// let text = Input::string(&[1]);
    /// assert!(text.is_string());
    /// assert_eq!(text.shape().to_string(), "(None, 1)");
    /// assert!(!Input::new(&[1]).is_string());
    /// ```
    pub fn is_string(&self) -> bool {
        self.node.layer.with_dyn(|l| l.string_output())
    }

    /// Keras's `_keras_history`: (layer, node index in the layer, output index in the node).
    pub fn history(&self) -> (&LayerRef, usize, usize) {
        (&self.node.layer, self.node.index, self.index)
    }
}

impl PartialEq for KerasTensor {
    fn eq(&self, other: &Self) -> bool {
        self.desc.id == other.desc.id
    }
}

impl std::fmt::Debug for KerasTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<KerasTensor shape={}, dtype={}, name={}>",
            self.shape(),
            if self.is_string() {
                "string"
            } else {
                crate::ops::dtype_name(self.dtype())
            },
            self.name()
        )
    }
}

/// One call of a layer in a graph.
pub struct Node {
    pub(crate) layer: LayerRef,
    pub(crate) inputs: Vec<KerasTensor>,
    pub(crate) outputs: Vec<Arc<TensorDesc>>,
    /// This node's position in its layer's list of nodes.
    pub(crate) index: usize,
}

impl Node {
    /// The layer called.
    pub fn layer(&self) -> &LayerRef {
        &self.layer
    }

    /// The symbolic inputs of the call (empty for an `Input`).
    pub fn inputs(&self) -> &[KerasTensor] {
        &self.inputs
    }

    /// Output `i` as a symbolic tensor.
    pub fn output(self: &Arc<Self>, i: usize) -> KerasTensor {
        KerasTensor {
            desc: self.outputs[i].clone(),
            node: self.clone(),
            index: i,
        }
    }

    /// All outputs as symbolic tensors.
    pub fn outputs(self: &Arc<Self>) -> Vec<KerasTensor> {
        (0..self.outputs.len()).map(|i| self.output(i)).collect()
    }

    /// Number of outputs.
    pub fn num_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// Output ids, in order.
    pub(crate) fn output_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.outputs.iter().map(|d| d.id)
    }

    /// The output shapes.
    pub fn output_shapes(&self) -> Vec<Shape> {
        self.outputs.iter().map(|d| d.shape.clone()).collect()
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<Node layer={} index={}>", self.layer.name(), self.index)
    }
}
