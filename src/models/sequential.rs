//! `Sequential`: a plain stack of layers, one input and one output.

use super::functional::Functional;
use super::model::Model;
use crate::engine::{CallCtx, KerasTensor, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::layers::{Input, InputLayer};
use crate::ops::{DType, Tensor};
use crate::{Error, Result};
use std::ops::{Deref, DerefMut};

/// The layer behind a `Sequential`: its layers and, once the input shape is known, the
/// functional graph that runs them.
pub struct SequentialNet {
    args: LayerArgs,
    layers: Vec<LayerRef>,
    input: Option<KerasTensor>,
    graph: Option<Functional>,
}

impl SequentialNet {
    /// The layers, in order (no `InputLayer`).
    pub fn layers(&self) -> &[LayerRef] {
        &self.layers
    }

    /// The graph, once the input shape is known.
    pub fn graph(&self) -> Option<&Functional> {
        self.graph.as_ref()
    }

    /// Rebuilds the graph from the input through every layer (Keras's `_maybe_rebuild`).
    fn rebuild(&mut self) -> Result<()> {
        self.graph = None;
        let Some(input) = self.input.clone() else {
            return Ok(());
        };
        if self.layers.is_empty() {
            return Ok(());
        }
        let mut x = input.clone();
        for l in &self.layers {
            x = l.call(&x)?;
        }
        self.graph = Some(Functional::new(&[input], &[x], "Sequential")?);
        Ok(())
    }
}

impl Layer for SequentialNet {
    fn class_name(&self) -> &str {
        "Sequential"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, input_shapes: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        if self.graph.is_none() {
            let shape = &input_shapes[0];
            let mut sample: Vec<Option<usize>> = shape.0.iter().skip(1).copied().collect();
            // A first layer that takes strings gets a string input: the data's last axis
            // holds the bytes, not a dimension.
            let strings = self
                .layers
                .first()
                .is_some_and(|l| l.with_dyn(|x| x.string_input()));
            self.input = Some(if strings {
                sample.pop();
                Input::string(sample)
            } else {
                Input::new(sample)
            });
            self.rebuild()?;
        }
        Ok(())
    }
    fn compute_output_shape(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        match &self.graph {
            Some(g) => g.compute_output_shape(input_shapes),
            None => {
                let mut s = input_shapes.to_vec();
                for l in &self.layers {
                    s = l.with_dyn(|l| l.compute_output_shape(&s))?;
                }
                Ok(s)
            }
        }
    }
    fn compute_output_dtype(&self, d: &[DType], n: usize) -> Vec<DType> {
        match &self.graph {
            Some(g) => g.compute_output_dtype(d, n),
            None => vec![DType::F32; n],
        }
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        match &self.graph {
            Some(g) => g.run(ctx.name, inputs, ctx.training),
            None => Err(Error::runtime(format!(
                "Sequential model \"{}\" has no layers.",
                ctx.name
            ))),
        }
    }
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        ctx: &CallCtx,
    ) -> Result<(Vec<Tensor>, Vec<Option<Tensor>>)> {
        match &self.graph {
            Some(g) => g.run_masked(ctx.name, inputs, ctx.masks, ctx.training),
            None => Ok((self.forward(inputs, ctx)?, vec![])),
        }
    }
    fn var_group(&self, name: &str, _: &[crate::engine::Weight]) -> crate::engine::VarGroup {
        // A model's layers go in a `layers` container, each under its class name.
        crate::engine::VarGroup::empty(name).with_child(
            "layers",
            crate::engine::VarGroup::container(&self.sublayers()),
        )
    }
    fn sublayers(&self) -> Vec<LayerRef> {
        self.layers.clone()
    }
    fn is_model(&self) -> bool {
        true
    }
    fn serialize(&self, handle: &LayerRef) -> Result<serde_json::Value> {
        self.to_config(handle)
    }
}

/// A linear stack of layers, as `keras.Sequential`. Derefs to [`Model`] for `compile`, `fit`,
/// `summary` and the rest.
///
/// ```
/// use keras::prelude::*;
/// let mut model = Sequential::new();
/// model.add(Dense::new(32).activation("relu").input_shape(&[64]))?;
/// model.add(Dense::new(32).activation("relu"))?;
/// model.add(Dense::new(10).activation("softmax"))?;
/// assert_eq!(model.count_params(), 3_466);
/// model.pop()?;
/// assert_eq!(model.count_params(), 3_136);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Sequential {
    model: Model,
}

impl Default for Sequential {
    fn default() -> Self {
        Self::new()
    }
}

impl Sequential {
    /// An empty model.
    pub fn new() -> Self {
        let net = SequentialNet {
            args: LayerArgs::default(),
            layers: vec![],
            input: None,
            graph: None,
        };
        Sequential {
            model: Model::from_net(LayerRef::new(net)),
        }
    }

    /// A model from a list of layers (the first may be an `Input`).
    pub fn from_layers(layers: impl IntoIterator<Item = LayerRef>) -> Result<Self> {
        let mut s = Sequential::new();
        for l in layers {
            s.add(l)?;
        }
        Ok(s)
    }

    /// Renames the model.
    pub fn name(self, name: &str) -> Self {
        self.model.net.set_name(name);
        self
    }

    /// Appends a layer (or an `Input`, as the first element). If the input shape is known the
    /// layer is called right away, so shape errors surface here.
    pub fn add(&mut self, layer: impl Into<LayerRef>) -> Result<()> {
        let layer = layer.into();
        let net = self.model.net.clone();
        let result = net
            .with_mut(|s: &mut SequentialNet| -> Result<()> {
                if let Some(shape) = layer.with(|i: &InputLayer| i.batch_shape().clone()) {
                    if !s.layers.is_empty() || s.input.is_some() {
                        return Err(Error::value(
                            "An `Input` can only be the first element of a Sequential model.",
                        ));
                    }
                    s.input = Some(input_of(&layer, shape)?);
                    return Ok(());
                }
                if s.layers.iter().any(|l| l.name() == layer.name()) {
                    return Err(Error::value(format!(
                        "All layers added to a Sequential model should have unique names. Name \"{}\" is \
                         already the name of a layer in this model. Update the `name` argument to pass a \
                         unique name.",
                        layer.name()
                    )));
                }
                if s.layers.is_empty() && s.input.is_none() {
                    let dims = layer.with_dyn(|l| l.args().input_shape.clone());
                    if let Some(dims) = dims {
                        s.input = Some(Input::new(dims));
                    }
                }
                s.layers.push(layer.clone());
                if let Err(e) = s.rebuild() {
                    s.layers.pop();
                    s.rebuild().ok();
                    return Err(e);
                }
                Ok(())
            })
            .expect("a Sequential's net is a SequentialNet");
        result?;
        self.sync_built();
        Ok(())
    }

    /// Removes and returns the last layer.
    pub fn pop(&mut self) -> Result<LayerRef> {
        let net = self.model.net.clone();
        let popped = net
            .with_mut(|s: &mut SequentialNet| -> Result<LayerRef> {
                let l = s
                    .layers
                    .pop()
                    .ok_or_else(|| Error::value("There are no layers in the model."))?;
                s.rebuild()?;
                Ok(l)
            })
            .expect("a Sequential's net is a SequentialNet")?;
        self.sync_built();
        Ok(popped)
    }

    fn sync_built(&self) {
        let shape = self
            .model
            .net
            .with(|s: &SequentialNet| s.graph.as_ref().map(|g| g.inputs()[0].shape().clone()))
            .flatten();
        if let Some(shape) = shape {
            self.model.net.mark_built(&[shape]);
        }
    }

    /// The model.
    pub fn into_model(self) -> Model {
        self.model
    }
}

/// The symbolic input made by an `InputLayer` handle.
fn input_of(layer: &LayerRef, shape: Shape) -> Result<KerasTensor> {
    match layer.inbound_nodes().first() {
        Some(n) => Ok(n.output(0)),
        // The tensor was dropped (only the layer was kept): give the same layer a new node, so
        // its name, dtype and batch size stay.
        None => {
            let dtype = layer
                .with(|i: &InputLayer| i.dtype())
                .unwrap_or(crate::ops::DType::F32);
            Ok(layer.add_node(vec![], vec![shape], vec![dtype]).remove(0))
        }
    }
}

impl Deref for Sequential {
    type Target = Model;
    fn deref(&self) -> &Model {
        &self.model
    }
}

impl DerefMut for Sequential {
    fn deref_mut(&mut self) -> &mut Model {
        &mut self.model
    }
}

impl From<&Sequential> for LayerRef {
    fn from(m: &Sequential) -> LayerRef {
        m.model.net.clone()
    }
}

impl From<KerasTensor> for LayerRef {
    /// The layer that made the tensor: lets `Input::new(..)` start a `Sequential`.
    fn from(t: KerasTensor) -> LayerRef {
        t.layer().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::{Dense, Dropout, Flatten};

    #[test]
    fn builds_from_input_or_input_shape() {
        let a = Sequential::from_layers([
            Input::new([64]).into(),
            Dense::new(32).into(),
            Dense::new(10).into(),
        ])
        .unwrap();
        assert!(a.built());
        assert_eq!(a.count_params(), 64 * 32 + 32 + 32 * 10 + 10);
        assert_eq!(a.layers().len(), 2);
        let b = Sequential::from_layers([
            Flatten::new().input_shape([28, 28]).into(),
            Dense::new(10).into(),
        ])
        .unwrap();
        assert_eq!(b.outputs()[0].shape().to_string(), "(None, 10)");
    }

    #[test]
    fn deferred_build_on_first_data() {
        let m = Sequential::from_layers([
            Dense::new(4).into(),
            Dropout::new(0.1).into(),
            Dense::new(2).into(),
        ])
        .unwrap();
        assert!(!m.built());
        assert_eq!(m.count_params(), 0);
        let x = Tensor::zeros((3, 5), DType::F32, &crate::ops::Device::Cpu).unwrap();
        let y = crate::trainers::Network::forward(m.layer(), &[x], false).unwrap();
        assert_eq!(y[0].dims(), &[3, 2]);
        assert!(m.built());
        assert_eq!(m.count_params(), 5 * 4 + 4 + 4 * 2 + 2);
    }

    #[test]
    fn add_checks_shapes_and_names() {
        let mut m = Sequential::from_layers([Input::new([8]).into()]).unwrap();
        m.add(Dense::new(4).name("same")).unwrap();
        assert!(m.add(Dense::new(4).name("same")).is_err());
        assert!(m.add(crate::layers::Reshape::new([3, 3])).is_err());
        assert_eq!(
            m.layers().len(),
            1,
            "a failed add leaves the model as it was"
        );
        m.pop().unwrap();
        assert!(m.pop().is_err());
    }
}
