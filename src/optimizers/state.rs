//! The optimizer's variables, as Keras 3's `BaseOptimizer` keeps them: `build` declares them
//! ([`Builder`], Keras's `add_variable_from_reference` / `add_optimizer_variables`), they are
//! stored per model weight under their names (`momentum`, `velocity`, ...), and
//! `update_step` reads and writes them through [`Slots`]. The declaration order is Keras's
//! `optimizer.variables` order, so the `.keras` / `.weights.h5` optimizer-state layout follows
//! from it.

use crate::engine::Weight;
use crate::ops::{DType, Device, Slot, Tensor};
use crate::{Error, Result};
use std::collections::HashMap;

/// One optimizer variable `build` declared.
#[derive(Clone, Debug)]
pub struct VariableSpec {
    /// The model weight it belongs to (Keras's `reference_variable`); `None` for a variable of
    /// the whole optimizer (Nadam's `u_product`).
    pub owner: Option<Weight>,
    /// Its name: `momentum`, `velocity`, `average`, ...
    pub name: String,
    /// Its dimensions.
    pub shape: Vec<usize>,
    /// Its element type.
    pub dtype: DType,
    /// Its initial value (every element).
    pub init: f64,
    base: bool,
}

impl VariableSpec {
    pub(crate) fn is_base(&self) -> bool {
        self.base
    }

    /// Keras's variable path: `<weight path with / as _>_<name>` (or the name alone).
    pub fn path(&self) -> String {
        match &self.owner {
            Some(w) => format!("{}_{}", w.path().replace('/', "_"), self.name),
            None => self.name.clone(),
        }
    }
}

/// Collects the variables an optimizer's `build` declares, in order.
///
/// ```
/// use keras::prelude::*;
/// use keras::optimizers::Builder;
/// let dense = Dense::new(2).into_layer();
/// dense.build(&[Shape::batched(&[3])])?;
/// let mut b = Builder::default();
/// b.add_optimizer_variables(&dense.weights(), &["momentum", "velocity"]);
/// let names: Vec<String> = b.specs().iter().map(|s| s.path()).collect();
/// assert!(names[0].ends_with("_kernel_momentum") && names[1].ends_with("_kernel_velocity"));
/// assert!(names[2].ends_with("_bias_momentum"));
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Default)]
pub struct Builder {
    specs: Vec<VariableSpec>,
    base: bool,
}

impl Builder {
    pub(crate) fn for_base() -> Self {
        Builder {
            specs: vec![],
            base: true,
        }
    }

    /// The declarations so far.
    pub fn specs(&self) -> &[VariableSpec] {
        &self.specs
    }

    pub(crate) fn into_specs(self) -> Vec<VariableSpec> {
        self.specs
    }

    /// A variable shaped like `reference` (same dtype), every element `init` (Keras's
    /// `add_variable_from_reference(reference, name, initializer)`).
    pub fn add_variable_from_reference(&mut self, reference: &Weight, name: &str, init: f64) {
        self.add_variable(
            Some(reference),
            name,
            &reference.shape(),
            reference.dtype(),
            init,
        );
    }

    /// One zero variable per name for each weight, interleaved per weight (Keras's
    /// `add_optimizer_variables(weights, names)`: `kernel_momentum`, `kernel_velocity`,
    /// `bias_momentum`, ...).
    pub fn add_optimizer_variables(&mut self, weights: &[Weight], names: &[&str]) {
        let inits: Vec<(&str, f64)> = names.iter().map(|n| (*n, 0.0)).collect();
        self.add_optimizer_variables_with(weights, &inits);
    }

    /// [`Builder::add_optimizer_variables`] with an initial value per name.
    pub fn add_optimizer_variables_with(&mut self, weights: &[Weight], names: &[(&str, f64)]) {
        for w in weights {
            for (name, init) in names {
                self.add_variable_from_reference(w, name, *init);
            }
        }
    }

    /// A variable of any shape, belonging to `owner` (or to the whole optimizer), every
    /// element `init` (Keras's `add_variable`).
    pub fn add_variable(
        &mut self,
        owner: Option<&Weight>,
        name: &str,
        shape: &[usize],
        dtype: DType,
        init: f64,
    ) {
        self.specs.push(VariableSpec {
            owner: owner.cloned(),
            name: name.to_string(),
            shape: shape.to_vec(),
            dtype,
            init,
            base: self.base,
        });
    }
}

/// Variables held for one weight: the base optimizer's (EMA `average`,
/// `gradient_accumulator`) and the update rule's, each in declaration order.
#[derive(Debug, Default)]
pub(crate) struct WeightState {
    pub(crate) base: Vec<(String, Slot)>,
    pub(crate) own: Vec<(String, Slot)>,
}

/// Everything an optimizer has built.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) weights: HashMap<u64, WeightState>,
    /// The weights built on, in build order.
    pub(crate) order: Vec<Weight>,
    /// Variables of the whole optimizer.
    pub(crate) shared: Vec<(String, Slot)>,
}

fn find<'a>(v: &'a mut [(String, Slot)], name: &str) -> Option<&'a mut Slot> {
    v.iter_mut().find(|(n, _)| n == name).map(|(_, s)| s)
}

impl State {
    /// Moves every variable to the device of its weight (the shared ones to the first
    /// weight's): a no-op unless a weight moved since the variables were made.
    pub(crate) fn follow_devices(&mut self, weights: &[Weight]) -> Result<()> {
        for w in weights {
            if let Some(ws) = self.weights.get_mut(&w.id()) {
                let dev = w.device();
                for (_, slot) in ws.base.iter_mut().chain(ws.own.iter_mut()) {
                    slot.to_device(&dev)?;
                }
            }
        }
        if let Some(w) = weights.first() {
            let dev = w.device();
            for (_, slot) in &mut self.shared {
                slot.to_device(&dev)?;
            }
        }
        Ok(())
    }

    /// Creates the declared variables that do not exist yet; every owner counts as built.
    pub(crate) fn allocate(&mut self, specs: &[VariableSpec], device: &Device) -> Result<()> {
        for spec in specs {
            let list = match &spec.owner {
                Some(w) => {
                    let ws = self.weight_entry(w);
                    if spec.base {
                        &mut ws.base
                    } else {
                        &mut ws.own
                    }
                }
                None => &mut self.shared,
            };
            if find(list, &spec.name).is_none() {
                let dev = spec.owner.as_ref().map(|w| w.device());
                let slot = Slot::filled(
                    &spec.shape,
                    spec.dtype,
                    dev.as_ref().unwrap_or(device),
                    spec.init,
                )?;
                list.push((spec.name.clone(), slot));
            }
        }
        Ok(())
    }

    pub(crate) fn weight_entry(&mut self, w: &Weight) -> &mut WeightState {
        if !self.weights.contains_key(&w.id()) {
            self.order.push(w.clone());
        }
        self.weights.entry(w.id()).or_default()
    }

    /// The stored variable a declaration names, if it exists.
    pub(crate) fn lookup(&mut self, spec: &VariableSpec) -> Option<&mut Slot> {
        match &spec.owner {
            Some(w) => {
                let ws = self.weights.get_mut(&w.id())?;
                find(
                    if spec.base { &mut ws.base } else { &mut ws.own },
                    &spec.name,
                )
            }
            None => find(&mut self.shared, &spec.name),
        }
    }

    /// Number of scalars held and their bytes.
    pub(crate) fn size(&self) -> (usize, f64) {
        let all = self
            .weights
            .values()
            .flat_map(|w| w.base.iter().chain(&w.own))
            .chain(&self.shared);
        all.fold((0, 0.0), |(n, b), (_, s)| {
            let (c, bytes) = s.size();
            (n + c, b + bytes)
        })
    }
}

/// The optimizer variables one `update_step` works with: the weight's own (`momentum`, ...)
/// and the optimizer's shared ones, read as tensors and written back by name.
///
/// ```
/// use keras::prelude::*;
/// use keras::optimizers::Slots;
/// // Inside an optimizer's update_step:
/// fn step(s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> keras::Result<Tensor> {
///     let m = ((s.get("momentum")? * 0.9)? - (g * lr)?)?;
///     s.set("momentum", &m)?;
///     Ok((var + m)?)
/// }
/// ```
pub struct Slots<'a> {
    weight: Option<&'a Weight>,
    iterations: u64,
    own: &'a mut [(String, Slot)],
    shared: &'a mut [(String, Slot)],
}

impl<'a> Slots<'a> {
    pub(crate) fn new(
        weight: Option<&'a Weight>,
        iterations: u64,
        own: &'a mut [(String, Slot)],
        shared: &'a mut [(String, Slot)],
    ) -> Self {
        Slots {
            weight,
            iterations,
            own,
            shared,
        }
    }

    /// Keras's `optimizer.iterations` during this step: updates applied so far (steps
    /// divided by `gradient_accumulation_steps` when accumulating).
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// The model weight being updated.
    pub fn weight(&self) -> Result<&'a Weight> {
        self.weight
            .ok_or_else(|| Error::value("this optimizer step updates no particular weight"))
    }

    fn missing(&self, name: &str) -> Error {
        let owner = self.weight.map(|w| w.path()).unwrap_or("the optimizer");
        Error::value(format!(
            "no optimizer variable '{name}' was built for '{owner}'"
        ))
    }

    /// Whether the weight has a variable `name` (Muon's `velocity` only for its Adam weights).
    pub fn has(&self, name: &str) -> bool {
        self.own.iter().any(|(n, _)| n == name)
    }

    /// The weight's variable `name`.
    pub fn get(&self, name: &str) -> Result<Tensor> {
        match self.own.iter().find(|(n, _)| n == name) {
            Some((_, s)) => s.tensor(),
            None => Err(self.missing(name)),
        }
    }

    /// Assigns the weight's variable `name` (Keras's `self.assign(var, value)`).
    pub fn set(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let e = self.missing(name);
        find(self.own, name).ok_or(e)?.set(value)
    }

    /// The optimizer's shared variable `name`.
    pub fn shared(&self, name: &str) -> Result<Tensor> {
        match self.shared.iter().find(|(n, _)| n == name) {
            Some((_, s)) => s.tensor(),
            None => Err(self.missing(name)),
        }
    }

    /// Assigns the optimizer's shared variable `name`.
    pub fn set_shared(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let e = self.missing(name);
        find(self.shared, name).ok_or(e)?.set(value)
    }
}
