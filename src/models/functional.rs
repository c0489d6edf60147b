//! `Functional`: a graph of layers from input tensors to output tensors, as a layer.
//!
//! The graph is mapped as Keras 3 maps it (`keras/src/models/functional.py`, `map_graph`):
//! a depth-first walk from the outputs orders the nodes, depths are assigned from the outputs
//! back, and layers are listed deepest first in traversal order. Execution runs the nodes by
//! decreasing depth, one slot per symbolic tensor.

use crate::engine::{CallCtx, KerasTensor, Layer, LayerArgs, LayerRef, Node, Shape};
use crate::ops::{DType, Tensor};
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// A mapped graph: the nodes to run, in order, and where each tensor lives.
pub struct Functional {
    args: LayerArgs,
    class: &'static str,
    pub(crate) inputs: Vec<KerasTensor>,
    pub(crate) outputs: Vec<KerasTensor>,
    /// Nodes (input nodes excluded) in execution order, each with its input and output slots.
    steps: Vec<Step>,
    /// Nodes grouped by depth, deepest (inputs) first, as Keras's `_nodes_by_depth`.
    pub(crate) nodes_by_depth: Vec<Vec<Arc<Node>>>,
    /// Every layer of the graph, Keras's order, input layers included.
    pub(crate) layers: Vec<LayerRef>,
    n_slots: usize,
    input_slots: Vec<usize>,
    output_slots: Vec<usize>,
}

struct Step {
    node: Arc<Node>,
    ins: Vec<usize>,
    outs: Vec<usize>,
    /// The step whose one input is this step's one output, read by nothing else, and whose
    /// layer this step's layer says it may fold in ([`Layer::fuses_with`]): this step's layer
    /// may compute it too ([`Layer::forward_fused`]).
    fuse: Option<usize>,
    /// Slots read for the last time by this step (not model outputs): freed after it, so an
    /// activation lives only as long as it is needed.
    frees: Vec<usize>,
}

fn ptr(n: &Arc<Node>) -> usize {
    Arc::as_ptr(n) as usize
}

/// Fills each step's `fuse` and `frees` (see [`Step`]).
fn plan_fusion_and_frees(steps: &mut [Step], output_slots: &[usize]) {
    let mut readers: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, st) in steps.iter().enumerate() {
        for &s in &st.ins {
            readers.entry(s).or_default().push(i);
        }
    }
    for i in 0..steps.len() {
        let fuse = match steps[i].outs[..] {
            [s] if !output_slots.contains(&s) => match readers.get(&s).map(Vec::as_slice) {
                Some(&[j])
                    if j > i
                        && steps[j].ins == [s]
                        && steps[i].node.layer().fuses_with(steps[j].node.layer()) =>
                {
                    Some(j)
                }
                _ => None,
            },
            _ => None,
        };
        steps[i].fuse = fuse;
    }
    for (&s, rs) in &readers {
        if !output_slots.contains(&s) {
            let last = *rs.iter().max().expect("a reader");
            if !steps[last].frees.contains(&s) {
                steps[last].frees.push(s);
            }
        }
    }
}

impl Functional {
    /// Maps the graph from `inputs` to `outputs`; errors for a disconnected graph, an unused
    /// input, or two layers with one name.
    pub fn new(
        inputs: &[KerasTensor],
        outputs: &[KerasTensor],
        class: &'static str,
    ) -> Result<Functional> {
        if inputs.is_empty() || outputs.is_empty() {
            return Err(Error::value(
                "A model needs at least one input and one output.",
            ));
        }
        let input_ids: Vec<u64> = inputs.iter().map(|t| t.id()).collect();

        // _build_map: depth-first from each output, post-order.
        let mut finished: HashMap<usize, ()> = HashMap::new();
        let mut in_progress: HashMap<usize, ()> = HashMap::new();
        let mut order: Vec<Arc<Node>> = vec![];
        let mut layer_index: Vec<(u64, usize)> = vec![]; // layer id -> traversal index
        #[allow(clippy::too_many_arguments)]
        fn visit(
            t: &KerasTensor,
            input_ids: &[u64],
            finished: &mut HashMap<usize, ()>,
            in_progress: &mut HashMap<usize, ()>,
            order: &mut Vec<Arc<Node>>,
            layer_index: &mut Vec<(u64, usize)>,
        ) -> Result<()> {
            let node = t.node().clone();
            if finished.contains_key(&ptr(&node)) {
                return Ok(());
            }
            if in_progress.contains_key(&ptr(&node)) {
                return Err(Error::value(format!(
                    "Tensor {t:?} from layer '{}' is part of a cycle.",
                    node.layer().name()
                )));
            }
            let lid = node.layer().id();
            if !layer_index.iter().any(|(id, _)| *id == lid) {
                let n = layer_index.len();
                layer_index.push((lid, n));
            }
            in_progress.insert(ptr(&node), ());
            if !node.inputs().is_empty() && !input_ids.contains(&t.id()) {
                for x in node.inputs() {
                    visit(x, input_ids, finished, in_progress, order, layer_index)?;
                }
            }
            finished.insert(ptr(&node), ());
            in_progress.remove(&ptr(&node));
            order.push(node);
            Ok(())
        }
        for o in outputs {
            visit(
                o,
                &input_ids,
                &mut finished,
                &mut in_progress,
                &mut order,
                &mut layer_index,
            )?;
        }

        // Depths from the outputs back (insertion-ordered, as Python dicts).
        let mut node_depth: Vec<(Arc<Node>, usize)> = vec![];
        let mut layer_depth: Vec<(LayerRef, usize)> = vec![];
        let find = |v: &Vec<(Arc<Node>, usize)>, n: &Arc<Node>| {
            v.iter().position(|(m, _)| Arc::ptr_eq(m, n))
        };
        for node in order.iter().rev() {
            let depth = match find(&node_depth, node) {
                Some(i) => node_depth[i].1,
                None => {
                    node_depth.push((node.clone(), 0));
                    0
                }
            };
            let prev = layer_depth
                .iter()
                .find(|(l, _)| l.same(node.layer()))
                .map(|(_, d)| *d)
                .unwrap_or(0);
            let depth = depth.max(prev);
            match layer_depth.iter_mut().find(|(l, _)| l.same(node.layer())) {
                Some(e) => e.1 = depth,
                None => layer_depth.push((node.layer().clone(), depth)),
            }
            let i = find(&node_depth, node).expect("inserted above");
            node_depth[i].1 = depth;
            // Parents are the nodes that made this node's inputs (unless the input is a model input).
            if !input_ids.iter().any(|id| node.outputs_contain(*id)) {
                for x in node.inputs() {
                    let parent = x.node();
                    match find(&node_depth, parent) {
                        Some(j) => node_depth[j].1 = node_depth[j].1.max(depth + 1),
                        None => node_depth.push((parent.clone(), depth + 1)),
                    }
                }
            }
        }

        let max_depth = node_depth.iter().map(|(_, d)| *d).max().unwrap_or(0);
        let mut nodes_by_depth: Vec<Vec<Arc<Node>>> = vec![];
        for d in (0..=max_depth).rev() {
            nodes_by_depth.push(
                node_depth
                    .iter()
                    .filter(|(_, nd)| *nd == d)
                    .map(|(n, _)| n.clone())
                    .collect(),
            );
        }
        let ldmax = layer_depth.iter().map(|(_, d)| *d).max().unwrap_or(0);
        let mut layers: Vec<LayerRef> = vec![];
        for d in (0..=ldmax).rev() {
            let mut at: Vec<&LayerRef> = layer_depth
                .iter()
                .filter(|(_, ld)| *ld == d)
                .map(|(l, _)| l)
                .collect();
            let idx = |l: &LayerRef| {
                layer_index
                    .iter()
                    .find(|(id, _)| *id == l.id())
                    .map(|(_, i)| *i)
                    .unwrap_or(usize::MAX)
            };
            at.sort_by_key(|l| idx(l));
            layers.extend(at.into_iter().cloned());
        }

        // Every tensor a node needs must be computable from the inputs.
        let mut computable: Vec<u64> = input_ids.clone();
        let mut accessed: Vec<String> = vec![];
        for group in &nodes_by_depth {
            for node in group {
                for x in node.inputs() {
                    if !computable.contains(&x.id()) {
                        return Err(disconnected(x, node, &accessed));
                    }
                }
                if node.inputs().is_empty() && !node.output_ids().any(|id| input_ids.contains(&id))
                {
                    // An Input that is not among the model's inputs: its value cannot be known.
                    continue;
                }
                accessed.push(node.layer().name().to_string());
                computable.extend(node.output_ids());
            }
        }
        for o in outputs {
            if !computable.contains(&o.id()) {
                let node = o.node();
                return Err(disconnected(o, node, &accessed));
            }
        }
        // Every input must be used (Keras only warns; an unused input is almost always a bug).
        for t in inputs {
            let used = outputs.iter().any(|o| o.id() == t.id())
                || nodes_by_depth
                    .iter()
                    .flatten()
                    .any(|n| n.inputs().iter().any(|x| x.id() == t.id()));
            if !used {
                return Err(Error::value(format!(
                    "Input {t:?} is not connected to any output of the model. Remove it from the \
                     model's inputs, or use it."
                )));
            }
        }
        // Unique layer names; an operator node whose shapes did not broadcast (`&a + &b`
        // cannot return an error) fails here, at graph build, as Keras's does.
        for l in &layers {
            if let Some(e) = crate::engine::op_layer::deferred_error(l) {
                return Err(e);
            }
            let n = layers.iter().filter(|m| m.name() == l.name()).count();
            if n != 1 {
                return Err(Error::value(format!(
                    "The name \"{}\" is used {n} times in the model. All operation names should be unique.",
                    l.name()
                )));
            }
        }

        // Execution plan: slots by tensor id.
        let mut slot_of: HashMap<u64, usize> = HashMap::new();
        let slot = |id: u64, m: &mut HashMap<u64, usize>| -> usize {
            let n = m.len();
            *m.entry(id).or_insert(n)
        };
        let input_slots: Vec<usize> = inputs.iter().map(|t| slot(t.id(), &mut slot_of)).collect();
        let mut steps = vec![];
        for node in nodes_by_depth.iter().flatten() {
            if node.inputs().is_empty() {
                continue;
            }
            let ins = node
                .inputs()
                .iter()
                .map(|x| slot(x.id(), &mut slot_of))
                .collect();
            let outs = node.output_ids().map(|id| slot(id, &mut slot_of)).collect();
            steps.push(Step {
                node: node.clone(),
                ins,
                outs,
                fuse: None,
                frees: vec![],
            });
        }
        let output_slots: Vec<usize> = outputs.iter().map(|t| slot(t.id(), &mut slot_of)).collect();
        plan_fusion_and_frees(&mut steps, &output_slots);
        Ok(Functional {
            args: LayerArgs::default(),
            class,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            steps,
            nodes_by_depth,
            layers,
            n_slots: slot_of.len(),
            input_slots,
            output_slots,
        })
    }

    /// The layers, Keras's order (input layers included), without the op nodes (Keras's
    /// `Functional.layers`: the operations that are `Layer`s).
    pub fn layers(&self) -> Vec<LayerRef> {
        self.layers
            .iter()
            .filter(|l| !l.is_operation())
            .cloned()
            .collect()
    }

    /// Every node-making operation of the graph, op nodes included, Keras's order (Keras's
    /// `Function.operations`): what the summary, the config and the plot list.
    pub fn operations(&self) -> &[LayerRef] {
        &self.layers
    }

    /// The symbolic inputs.
    pub fn inputs(&self) -> &[KerasTensor] {
        &self.inputs
    }

    /// The symbolic outputs.
    pub fn outputs(&self) -> &[KerasTensor] {
        &self.outputs
    }

    /// Runs the graph on real inputs; `name` is the model's name, for error messages.
    pub fn run(&self, name: &str, xs: &[Tensor], training: bool) -> Result<Vec<Tensor>> {
        Ok(self.run_masked(name, xs, &[], training)?.0)
    }

    /// Runs the graph with masks on its inputs, carrying every tensor's mask from layer to
    /// layer; returns the outputs and their masks.
    pub fn run_masked(
        &self,
        name: &str,
        xs: &[Tensor],
        masks: &[Option<Tensor>],
        training: bool,
    ) -> Result<(Vec<Tensor>, Vec<Option<Tensor>>)> {
        if xs.len() != self.inputs.len() {
            return Err(Error::value(format!(
                "Model expects {} input(s), but it received {} input tensors.",
                self.inputs.len(),
                xs.len()
            )));
        }
        let mut slots: Vec<Option<Tensor>> = vec![None; self.n_slots];
        let mut mask_slots: Vec<Option<Tensor>> = vec![None; self.n_slots];
        for (&s, m) in self.input_slots.iter().zip(masks) {
            mask_slots[s] = m.clone();
        }
        for (i, ((&s, x), kt)) in self
            .input_slots
            .iter()
            .zip(xs)
            .zip(&self.inputs)
            .enumerate()
        {
            slots[s] = Some(prepare_input(name, i, x, kt)?);
        }
        // Without masks, a layer may compute its consumer in its own call.
        let fusing = masks.iter().all(Option::is_none);
        let mut done = vec![false; self.steps.len()];
        for (i, step) in self.steps.iter().enumerate() {
            if !done[i] {
                self.run_step(
                    i,
                    step,
                    fusing,
                    &mut done,
                    &mut slots,
                    &mut mask_slots,
                    training,
                )?;
            }
            for &s in &step.frees {
                slots[s] = None;
                mask_slots[s] = None;
            }
        }
        let outs = self
            .output_slots
            .iter()
            .map(|&s| slots[s].clone().expect("outputs computed"))
            .collect();
        let out_masks = self
            .output_slots
            .iter()
            .map(|&s| mask_slots[s].clone())
            .collect();
        Ok((outs, out_masks))
    }

    /// Runs step `i` (and the step it fuses with, marked done, where its layer folds it in).
    #[allow(clippy::too_many_arguments)]
    fn run_step(
        &self,
        i: usize,
        step: &Step,
        fusing: bool,
        done: &mut [bool],
        slots: &mut [Option<Tensor>],
        mask_slots: &mut [Option<Tensor>],
        training: bool,
    ) -> Result<()> {
        let ins: Vec<Tensor> = step
            .ins
            .iter()
            .map(|&s| slots[s].clone().expect("computed in order"))
            .collect();
        let shapes: Vec<Shape> = ins.iter().map(|t| Shape::known(t.dims())).collect();
        let in_masks: Vec<Option<Tensor>> =
            step.ins.iter().map(|&s| mask_slots[s].clone()).collect();
        let unmasked = in_masks.iter().all(Option::is_none);
        let fused = step.fuse.filter(|_| fusing && unmasked).and_then(|j| {
            let next = self.steps[j].node.layer();
            let r = step.node.layer().run_fused(next, &ins, &shapes, training)?;
            Some(r.map(|outs| (j, outs)))
        });
        let (target, outs, out_masks) = match fused.transpose()? {
            Some((j, outs)) => {
                done[j] = true;
                let n = outs.len();
                (&self.steps[j], outs, vec![None; n])
            }
            None => {
                let (outs, out_masks) = if unmasked {
                    step.node.layer().run_masked(&ins, &shapes, training, &[])?
                } else {
                    step.node
                        .layer()
                        .run_masked(&ins, &shapes, training, &in_masks)?
                };
                (step, outs, out_masks)
            }
        };
        done[i] = true;
        if outs.len() != target.outs.len() {
            return Err(Error::runtime(format!(
                "layer \"{}\" returned {} outputs, expected {}",
                target.node.layer().name(),
                outs.len(),
                target.outs.len()
            )));
        }
        for ((&s, t), m) in target.outs.iter().zip(outs).zip(out_masks) {
            slots[s] = Some(t);
            mask_slots[s] = m;
        }
        Ok(())
    }

    /// Output shapes for new input shapes, by running shape inference through the graph.
    fn infer_shapes(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        let mut shapes: HashMap<usize, Shape> = HashMap::new();
        for (&s, sh) in self.input_slots.iter().zip(input_shapes) {
            shapes.insert(s, sh.clone());
        }
        for step in &self.steps {
            let ins: Vec<Shape> = step.ins.iter().map(|s| shapes[s].clone()).collect();
            let outs = step
                .node
                .layer()
                .with_dyn(|l| l.compute_output_shape(&ins))?;
            for (&s, sh) in step.outs.iter().zip(outs) {
                shapes.insert(s, sh);
            }
        }
        Ok(self
            .output_slots
            .iter()
            .map(|s| shapes[s].clone())
            .collect())
    }
}

/// Checks a real input's rank against its `Input` and casts it to the input's dtype. (Sizes
/// are checked by the layers, whose messages name the layer and axis.)
fn prepare_input(model: &str, index: usize, x: &Tensor, kt: &KerasTensor) -> Result<Tensor> {
    let want = kt.shape();
    if kt.is_string() {
        return crate::layers::core::prepare_string_input(model, index, x, want);
    }
    if want.rank() != x.rank() {
        return Err(Error::shape(format!(
            "Input {index} of layer \"{model}\" is incompatible with the layer: expected shape={want}, \
             found shape={}",
            crate::engine::tuple(x.dims())
        )));
    }
    Ok(if x.dtype() == kt.dtype() {
        x.clone()
    } else {
        x.to_dtype(kt.dtype())?
    })
}

fn disconnected(x: &KerasTensor, at: &Arc<Node>, accessed: &[String]) -> Error {
    Error::value(format!(
        "Graph disconnected: cannot find parent for KerasTensor {x:?} at layer \"{}\". The following \
         previous layers were accessed without issue: {accessed:?}",
        at.layer().name()
    ))
}

impl Node {
    fn outputs_contain(&self, id: u64) -> bool {
        self.output_ids().any(|o| o == id)
    }
}

impl Layer for Functional {
    fn class_name(&self) -> &str {
        self.class
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn compute_output_shape(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        self.infer_shapes(input_shapes)
    }
    fn compute_output_dtype(&self, _: &[DType], _: usize) -> Vec<DType> {
        self.outputs.iter().map(|o| o.dtype()).collect()
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        self.run(ctx.name, inputs, ctx.training)
    }
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        ctx: &CallCtx,
    ) -> Result<(Vec<Tensor>, Vec<Option<Tensor>>)> {
        self.run_masked(ctx.name, inputs, ctx.masks, ctx.training)
    }
    fn var_group(&self, name: &str, _: &[crate::engine::Weight]) -> crate::engine::VarGroup {
        // A model's layers go in a `layers` container, each under its class name.
        crate::engine::VarGroup::empty(name).with_child(
            "layers",
            crate::engine::VarGroup::container(&self.sublayers()),
        )
    }
    fn sublayers(&self) -> Vec<LayerRef> {
        // Keras walks `model.layers` for weights and assets: op nodes hold none.
        self.layers()
    }
    fn is_model(&self) -> bool {
        true
    }
    fn serialize(&self, handle: &LayerRef) -> Result<serde_json::Value> {
        self.to_config(&handle.name(), handle.trainable())
    }
}
