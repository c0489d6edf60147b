//! `Model`: a network you can compile, fit, evaluate, predict, summarize and nest.

use super::functional::Functional;
use super::sequential::SequentialNet;
use super::subclass::{Subclass, SubclassNet};
use crate::engine::{CallInputs, IntoDims, KerasTensor, LayerRef, Shape, Weight};
use crate::ops::Tensor;
use crate::trainers::{Network, Trainer};
use crate::{Error, Result};
use std::sync::Arc;

/// A Keras model: a functional graph (`Model::new`), a `Sequential`, or a subclassed network,
/// together with its training configuration.
///
/// ```
/// use keras::prelude::*;
/// let inputs = Input::new(&[784]);
/// let x = Dense::new(64).activation("relu").call(&inputs)?;
/// let x = Dense::new(64).activation("relu").call(&x)?;
/// let outputs = Dense::new(10).activation("softmax").call(&x)?;
/// let model = Model::new(&[inputs], &[outputs])?.name("mnist_model");
/// assert_eq!(model.count_params(), 55_050);
/// assert_eq!(model.get_name(), "mnist_model");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Model {
    pub(crate) net: LayerRef,
    pub(crate) trainer: Trainer,
    /// A subclassed model's own object (for its custom `train_step`).
    custom: Option<Arc<dyn Subclass>>,
    /// Set by a callback to stop `fit` after the current batch (Keras's
    /// `self.model.stop_training = True`).
    pub stop_training: bool,
    /// Set by `BackupAndRestore` in `on_train_begin`: the epoch `fit` resumes from.
    pub(crate) resume_epoch: Option<usize>,
}

impl Model {
    /// A functional model from its inputs to its outputs.
    pub fn new(inputs: &[KerasTensor], outputs: &[KerasTensor]) -> Result<Model> {
        let graph = Functional::new(inputs, outputs, "Functional")?;
        let shapes: Vec<Shape> = inputs.iter().map(|t| t.shape().clone()).collect();
        let net = LayerRef::new(graph);
        net.mark_built(&shapes);
        Ok(Model {
            net,
            trainer: Trainer::default(),
            custom: None,
            stop_training: false,
            resume_epoch: None,
        })
    }

    pub(crate) fn from_net(net: LayerRef) -> Model {
        Model {
            net,
            trainer: Trainer::default(),
            custom: None,
            stop_training: false,
            resume_epoch: None,
        }
    }

    /// A subclassed model: a user type implementing [`Subclass`]. Build it with
    /// [`Model::build`] (or by fitting it) before `summary`.
    pub fn subclass<S: Subclass>(model: S) -> Model {
        let inner: Arc<dyn Subclass> = Arc::new(model);
        let net = LayerRef::new(SubclassNet::new(inner.clone()));
        Model {
            net,
            trainer: Trainer::default(),
            custom: Some(inner),
            stop_training: false,
            resume_epoch: None,
        }
    }

    /// The training state and the network as the training loop sees it, borrowed apart.
    pub(crate) fn parts(&mut self) -> (&mut Trainer, ModelNet<'_>) {
        (
            &mut self.trainer,
            ModelNet {
                net: &self.net,
                custom: self.custom.as_deref(),
            },
        )
    }

    /// Renames the model (Keras's `name=` argument).
    pub fn name(self, name: &str) -> Self {
        self.net.set_name(name);
        self
    }

    /// The model's name.
    pub fn get_name(&self) -> String {
        self.net.name()
    }

    /// The model as a layer, to call inside another model or inspect.
    pub fn layer(&self) -> &LayerRef {
        &self.net
    }

    /// Calls the model on one symbolic tensor or several (`&x`, `&[a, b]`: [`CallInputs`]):
    /// the model becomes one layer of a bigger graph, sharing its weights. Returns its single
    /// output (a model with several is an error: use [`Model::call_many`]).
    pub fn call(&self, inputs: impl CallInputs) -> Result<KerasTensor> {
        self.net.call(inputs)
    }

    /// Calls the model on one symbolic tensor or several, returning every output.
    pub fn call_many(&self, inputs: impl CallInputs) -> Result<Vec<KerasTensor>> {
        self.net.call_many(inputs)
    }

    /// Runs the model on real tensors (inference mode unless inside a training step).
    pub fn apply(&self, xs: &[Tensor]) -> Result<Vec<Tensor>> {
        self.net.apply_many(xs)
    }

    pub(crate) fn functional<R>(&self, f: impl FnOnce(&Functional) -> R) -> Option<R> {
        if self.net.with(|_: &Functional| ()).is_some() {
            return self.net.with(f);
        }
        self.net
            .with(|s: &SequentialNet| s.graph().map(f))
            .flatten()
    }

    /// The layers: for a functional model every layer of the graph, `InputLayer`s included
    /// (Keras's order), op nodes (`keras::ops` calls on symbolic tensors) left out as Keras
    /// leaves them out of `model.layers`; for a `Sequential` the added layers.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let x = Input::shape([3]).name("x").build();
    /// let y = Dense::new(2).name("d").call(&(&x * 2.0))?;
    /// let model = Model::new(&[x], &[y])?;
    /// let names = |ls: Vec<LayerRef>| ls.iter().map(|l| l.name()).collect::<Vec<_>>();
    /// assert_eq!(names(model.layers()), ["x", "d"]);
    /// assert_eq!(model.operations().len(), 3); // x, the multiply node, d
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn layers(&self) -> Vec<LayerRef> {
        if let Some(l) = self.net.with(|s: &SequentialNet| s.layers().to_vec()) {
            return l;
        }
        self.functional(|g| g.layers())
            .unwrap_or_else(|| self.net.sublayers())
    }

    /// Every operation of a functional model's graph, op nodes included (Keras's
    /// `model.operations`, in its order); for a `Sequential` or a subclassed model, which
    /// have no op nodes, the same as [`layers`](Model::layers).
    pub fn operations(&self) -> Vec<LayerRef> {
        if self.net.with(|_: &SequentialNet| ()).is_some() {
            return self.layers();
        }
        self.functional(|g| g.operations().to_vec())
            .unwrap_or_else(|| self.layers())
    }

    /// The layer called `name` (searched among [`layers`](Model::layers), as Keras does).
    pub fn get_layer(&self, name: &str) -> Result<LayerRef> {
        let layers = self.layers();
        layers
            .iter()
            .find(|l| l.name() == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<String> = layers.iter().map(|l| l.name()).collect();
                Error::value(format!(
                    "No such layer: {name}. Existing layers are: {names:?}."
                ))
            })
    }

    /// The symbolic inputs (empty for an unbuilt `Sequential`).
    pub fn inputs(&self) -> Vec<KerasTensor> {
        self.functional(|g| g.inputs().to_vec()).unwrap_or_default()
    }

    /// The symbolic outputs (empty for an unbuilt `Sequential`).
    pub fn outputs(&self) -> Vec<KerasTensor> {
        self.functional(|g| g.outputs().to_vec())
            .unwrap_or_default()
    }

    /// The single input (Keras's `model.input`).
    pub fn input(&self) -> Result<KerasTensor> {
        single(self.inputs(), "input")
    }

    /// The single output (Keras's `model.output`).
    pub fn output(&self) -> Result<KerasTensor> {
        single(self.outputs(), "output")
    }

    /// Whether the model has its weights.
    pub fn built(&self) -> bool {
        self.net.built()
    }

    /// Builds the model for batches of this shape (batch axis included), Keras's
    /// `model.build((None, 784))`: a tuple, `shape![None, 784]`, `&[None, Some(784)]`
    /// (any [`IntoDims`]).
    pub fn build(&self, input_shape: impl IntoDims) -> Result<()> {
        self.net.build(&[Shape(input_shape.into_dims())])
    }

    /// All weights (each once), in layer order.
    pub fn weights(&self) -> Vec<Weight> {
        self.net.weights()
    }

    /// The device holding the weights (where `fit`, `evaluate` and `predict` run): the first
    /// weight's, or [`crate::config::device`] for a model without weights yet.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let model = Sequential::from_layers([Input::new([3]).into(), Dense::new(2).into()])?;
    /// assert!(model.device().is_cpu());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn device(&self) -> crate::ops::Device {
        crate::engine::device_of(&self.net.weights())
    }

    /// Moves every weight to `device` (`"cpu"`, `"gpu:0"`, or a device); the optimizer's
    /// variables follow on the next step, and batches follow the weights. The model must be
    /// built (a `Sequential` without an `Input` needs `build` first): weights made later would
    /// go to [`crate::config::device`] instead.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let model = Sequential::from_layers([Input::new([3]).into(), Dense::new(2).into()])?;
    /// model.to_device("cpu")?;
    /// assert!(model.to_device("gpu:x").is_err());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn to_device(&self, device: impl crate::config::IntoDevice) -> Result<()> {
        let device = device.into_device()?;
        if !self.net.built() {
            return Err(Error::runtime(format!(
                "Model '{}' is not built yet: its weights do not exist, so they cannot move. \
                 Call `model.build(input_shape)` first, or make the model inside \
                 `keras::config::with_device(...)`.",
                self.net.name()
            )));
        }
        for w in self.net.weights() {
            w.to_device(&device)?;
        }
        Ok(())
    }

    /// The weights the optimizer updates.
    pub fn trainable_weights(&self) -> Vec<Weight> {
        self.net.trainable_weights()
    }

    /// The weights the optimizer leaves alone.
    pub fn non_trainable_weights(&self) -> Vec<Weight> {
        self.net.non_trainable_weights()
    }

    /// Total number of scalars in the weights.
    pub fn count_params(&self) -> usize {
        self.net.count_params()
    }

    /// Copies of all weight values, in `weights()` order.
    pub fn get_weights(&self) -> Result<Vec<Tensor>> {
        self.net.get_weights()
    }

    /// Sets all weights, in `weights()` order.
    pub fn set_weights(&self, values: &[Tensor]) -> Result<()> {
        self.net.set_weights(values)
    }

    /// Freezes or unfreezes every layer.
    pub fn set_trainable(&self, trainable: bool) {
        self.net.set_trainable(trainable)
    }

    /// Prints Keras's summary table to stdout.
    pub fn summary(&self) {
        print!("{}", self.summary_string());
    }

    /// The summary table as text (80-column terminal, as Keras prints when not a terminal).
    pub fn summary_string(&self) -> String {
        super::summary::summary(self, None)
    }

    /// The summary table for a given line length.
    pub fn summary_with_width(&self, line_length: usize) -> String {
        super::summary::summary(self, Some(line_length))
    }
}

fn single(mut v: Vec<KerasTensor>, what: &str) -> Result<KerasTensor> {
    match v.len() {
        1 => Ok(v.remove(0)),
        0 => Err(Error::value(format!(
            "The model has no {what} yet: it is not built."
        ))),
        n => Err(Error::value(format!(
            "The model has {n} {what}s; use {what}s()."
        ))),
    }
}

impl From<&Model> for LayerRef {
    fn from(m: &Model) -> LayerRef {
        m.net.clone()
    }
}

impl Network for LayerRef {
    fn name(&self) -> String {
        LayerRef::name(self)
    }

    fn forward(&self, inputs: &[Tensor], training: bool) -> Result<Vec<Tensor>> {
        let shapes: Vec<Shape> = inputs.iter().map(|t| Shape::known(t.dims())).collect();
        Network::ensure_built(self, inputs)?;
        let _guard = crate::engine::context::set_training(training);
        self.run(inputs, &shapes, training)
    }

    fn input_names(&self) -> Vec<String> {
        graph_of(self).map(|(i, _)| i).unwrap_or_default()
    }

    fn output_names(&self) -> Vec<String> {
        graph_of(self).map(|(_, o)| o).unwrap_or_default()
    }

    fn trainable_weights(&self) -> Vec<Weight> {
        LayerRef::trainable_weights(self)
    }

    fn ensure_built(&self, inputs: &[Tensor]) -> Result<()> {
        if self.built() {
            return Ok(());
        }
        // Build for any batch size: the batch axis is unknown.
        let shapes: Vec<Shape> = inputs
            .iter()
            .map(|t| {
                let mut d: Vec<Option<usize>> = t.dims().iter().map(|&d| Some(d)).collect();
                if let Some(b) = d.first_mut() {
                    *b = None;
                }
                Shape(d)
            })
            .collect();
        self.build(&shapes)
    }
}

/// Input and output names of a model's graph: each input's name, each output's layer name.
fn graph_of(net: &LayerRef) -> Option<(Vec<String>, Vec<String>)> {
    let f = |g: &Functional| {
        (
            g.inputs().iter().map(|t| t.name().to_string()).collect(),
            g.outputs().iter().map(|t| t.layer().name()).collect(),
        )
    };
    if net.with(|_: &Functional| ()).is_some() {
        return net.with(f);
    }
    net.with(|s: &SequentialNet| s.graph().map(f)).flatten()
}

/// Training, evaluation and prediction (Keras's `Trainer` methods).
impl Model {
    /// Configures the model for training: optimizer, loss and metrics, by name or value.
    /// No metrics is `()`: an empty `[]` has no element type Rust can infer (a list of
    /// names and the by-output-name form `[("out", &["mae"][..])]` are both arrays).
    ///
    /// ```
    /// use keras::prelude::*;
    /// let mut model = Sequential::from_layers([Input::new(&[4]).into(), Dense::new(3).into()])?;
    /// model.compile("sgd", "mse", ())?;
    /// model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])?;
    /// assert!(model.compile("adamx", "mse", ["mae"]).is_err());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn compile(
        &mut self,
        optimizer: impl Into<crate::optimizers::OptimizerArg>,
        loss: impl Into<crate::trainers::LossSpec>,
        metrics: impl Into<crate::trainers::MetricsSpec>,
    ) -> Result<()> {
        self.compile_with(crate::trainers::CompileArgs::new(optimizer, loss).metrics(metrics))
    }

    /// `compile` with every option (loss weights, per-output losses and metrics).
    ///
    /// A model made under the `mixed_float16` policy gets its optimizer wrapped in a
    /// [`crate::optimizers::LossScaleOptimizer`] (unless it is one), as Keras's `compile` does.
    pub fn compile_with(&mut self, mut args: crate::trainers::CompileArgs) -> Result<()> {
        let f16 = self
            .net
            .dtype_policy()
            .is_some_and(|p| p.name() == "mixed_float16");
        if f16 {
            let opt = std::mem::replace(&mut args.optimizer, "sgd".into()).resolve()?;
            args.optimizer = if opt.class_name() == "LossScaleOptimizer" {
                opt.into()
            } else {
                let wrapped: Box<dyn crate::optimizers::Optimizer> =
                    Box::new(crate::optimizers::LossScaleOptimizer::wrap(opt));
                wrapped.into()
            };
        }
        self.trainer.compile(args)
    }

    /// Trains the model; returns the per-epoch History. The callbacks in `args` are lent
    /// the model between steps.
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::callbacks::EarlyStopping;
    /// let mut model = Sequential::from_layers([Input::new([2]).into(), Dense::new(1).into()])?;
    /// model.compile("sgd", "mse", ["mae"])?;
    /// let x = Tensor::ones((8, 2), DType::F32, &Device::Cpu)?;
    /// let mut stop = EarlyStopping::new().monitor("loss").patience(1);
    /// let history = model.fit(&x, &x.narrow(1, 0, 1)?, FitArgs { epochs: 3, verbose: 0, callbacks: vec![&mut stop], ..Default::default() })?;
    /// assert_eq!(history.history["loss"].len(), history.epoch.len());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn fit(
        &mut self,
        x: impl Into<crate::trainers::Data>,
        y: impl Into<crate::trainers::Data>,
        args: crate::trainers::FitArgs,
    ) -> Result<crate::callbacks::History> {
        crate::trainers::fit(self, x.into(), y.into(), args)
    }

    /// Loss and metrics on data: `values()` gives Keras's list, `get(name)` / `to_map()` its
    /// `return_dict=True` form.
    pub fn evaluate(
        &mut self,
        x: impl Into<crate::trainers::Data>,
        y: impl Into<crate::trainers::Data>,
        args: crate::trainers::EvalArgs,
    ) -> Result<crate::callbacks::Logs> {
        crate::trainers::evaluate(self, x.into(), y.into(), args)
    }

    /// Predictions in batches, Keras's `model.predict(x)`: the binding's type picks the form
    /// ([`crate::trainers::FromOutputs`]): a [`Tensor`] for a single-output model (Keras's
    /// array), `[Tensor; N]` or `Vec<Tensor>` for several outputs (Keras's list). A type that
    /// does not fit the model's outputs is an error naming the model and its output count.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let x = Input::new([3]);
    /// let h = Dense::new(4).call(&x)?;
    /// let (a, b) = (Dense::new(1).call(&h)?, Dense::new(2).call(&h)?);
    /// let mut two = Model::new(&[x.clone()], &[a.clone(), b])?;
    /// let data = Tensor::ones((5, 3), DType::F32, &Device::Cpu)?;
    /// let [pa, pb]: [Tensor; 2] = two.predict(&data, EvalArgs::quiet())?;
    /// assert_eq!((pa.dims(), pb.dims()), (&[5, 1][..], &[5, 2][..]));
    /// let all: Vec<Tensor> = two.predict(&data, EvalArgs::quiet())?;
    /// assert_eq!(all.len(), 2);
    /// assert!(two.predict::<Tensor>(&data, EvalArgs::quiet()).is_err());
    ///
    /// let mut one = Model::new(&[x], &[a])?;
    /// let y: Tensor = one.predict(&data, EvalArgs::quiet())?;
    /// assert_eq!(y.dims(), &[5, 1]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn predict<P: crate::trainers::FromOutputs>(
        &mut self,
        x: impl Into<crate::trainers::Data>,
        args: crate::trainers::EvalArgs,
    ) -> Result<P> {
        let out = crate::trainers::predict(self, x.into(), args)?;
        P::from_outputs(&self.get_name(), out)
    }

    /// Predictions of every output, in batches.
    #[deprecated(
        note = "`predict` returns every output when asked: `let ys: Vec<Tensor> = model.predict(..)?`"
    )]
    pub fn predict_outputs(
        &mut self,
        x: impl Into<crate::trainers::Data>,
        args: crate::trainers::EvalArgs,
    ) -> Result<Vec<Tensor>> {
        self.predict(x, args)
    }

    /// Trains on a source of batches: a [`crate::data::Dataset`] (`&ds`), a
    /// [`crate::trainers::Sequence`] (`DataSource::sequence(seq)`), an iterator of batches
    /// (`DataSource::generator(iter)`); Keras's `model.fit(dataset, ...)`. `batch_size`,
    /// `shuffle`, `validation_split` and `sample_weight` belong to arrays and do not apply.
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::data::Dataset;
    /// let x = Tensor::ones((64, 2), DType::F32, &Device::Cpu)?;
    /// let y = Tensor::ones((64, 1), DType::F32, &Device::Cpu)?;
    /// let ds = Dataset::from_tensor_slices((x, y))?.shuffle(64)?.batch(16)?;
    /// let mut model = Sequential::from_layers([Input::new([2]).into(), Dense::new(1).into()])?;
    /// model.compile("sgd", "mse", ())?;
    /// let history = model.fit_dataset(&ds, FitArgs { epochs: 2, verbose: 0, ..Default::default() })?;
    /// assert_eq!(history.history["loss"].len(), 2);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn fit_dataset(
        &mut self,
        data: impl Into<crate::trainers::DataSource>,
        args: crate::trainers::FitArgs,
    ) -> Result<crate::callbacks::History> {
        crate::trainers::fit_source(self, data.into(), args)
    }

    /// Loss and metrics on a source of batches (Keras's `model.evaluate(dataset)`).
    pub fn evaluate_dataset(
        &mut self,
        data: impl Into<crate::trainers::DataSource>,
        args: crate::trainers::EvalArgs,
    ) -> Result<crate::callbacks::Logs> {
        crate::trainers::evaluate_source(self, data.into(), args)
    }

    /// Predictions for every batch of a source, concatenated in order (targets in the
    /// elements are ignored; Keras's `model.predict(dataset)`). The result's type picks the
    /// form, as in [`Model::predict`].
    pub fn predict_dataset<P: crate::trainers::FromOutputs>(
        &mut self,
        data: impl Into<crate::trainers::DataSource>,
        args: crate::trainers::EvalArgs,
    ) -> Result<P> {
        let out = crate::trainers::predict_source(self, data.into(), args)?;
        P::from_outputs(&self.get_name(), out)
    }

    /// Predictions of every output for a source of batches.
    #[deprecated(
        note = "`predict_dataset` returns every output when asked: `let ys: Vec<Tensor> = model.predict_dataset(..)?`"
    )]
    pub fn predict_dataset_outputs(
        &mut self,
        data: impl Into<crate::trainers::DataSource>,
        args: crate::trainers::EvalArgs,
    ) -> Result<Vec<Tensor>> {
        self.predict_dataset(data, args)
    }

    /// One gradient step on one batch; returns that batch's loss and metrics.
    pub fn train_on_batch(
        &mut self,
        x: impl Into<crate::trainers::Data>,
        y: impl Into<crate::trainers::Data>,
    ) -> Result<crate::callbacks::Logs> {
        self.trainer.train_on_batch(
            &ModelNet {
                net: &self.net,
                custom: self.custom.as_deref(),
            },
            x.into(),
            y.into(),
        )
    }

    /// Loss and metrics on one batch.
    pub fn test_on_batch(
        &mut self,
        x: impl Into<crate::trainers::Data>,
        y: impl Into<crate::trainers::Data>,
    ) -> Result<crate::callbacks::Logs> {
        self.trainer.test_on_batch(
            &ModelNet {
                net: &self.net,
                custom: self.custom.as_deref(),
            },
            x.into(),
            y.into(),
        )
    }

    /// One gradient step on one batch with sample or class weights: Keras's
    /// `train_on_batch(x, y, sample_weight=..., class_weight=...)` is
    /// `train_on_batch_with(x, y, BatchArgs::default().sample_weight(&w))` (or
    /// `.class_weight(map)`). See [`crate::trainers::BatchArgs`].
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::trainers::BatchArgs;
    /// let mut model = Sequential::from_layers([Input::new([2]).into(), Dense::new(1).into()])?;
    /// model.compile("sgd", "mse", ())?;
    /// let x = Tensor::ones((2, 2), DType::F32, &Device::Cpu)?;
    /// let y = Tensor::zeros((2, 1), DType::F32, &Device::Cpu)?;
    /// // Weights 0 and 2: the loss is the second sample's, times 2, over the 2 samples.
    /// let w = Tensor::new(&[0f32, 2.0], &Device::Cpu)?;
    /// let logs = model.train_on_batch_with(&x, &y, BatchArgs::default().sample_weight(&w))?;
    /// assert!(logs.get("loss").is_some());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn train_on_batch_with(
        &mut self,
        x: impl Into<crate::trainers::Data>,
        y: impl Into<crate::trainers::Data>,
        args: crate::trainers::BatchArgs,
    ) -> Result<crate::callbacks::Logs> {
        self.trainer.train_on_batch_with(
            &ModelNet {
                net: &self.net,
                custom: self.custom.as_deref(),
            },
            x.into(),
            y.into(),
            args,
        )
    }

    /// Loss and metrics on one batch with sample weights (Keras's
    /// `test_on_batch(x, y, sample_weight=...)`); a `class_weight` is refused.
    pub fn test_on_batch_with(
        &mut self,
        x: impl Into<crate::trainers::Data>,
        y: impl Into<crate::trainers::Data>,
        args: crate::trainers::BatchArgs,
    ) -> Result<crate::callbacks::Logs> {
        self.trainer.test_on_batch_with(
            &ModelNet {
                net: &self.net,
                custom: self.custom.as_deref(),
            },
            x.into(),
            y.into(),
            args,
        )
    }

    /// Outputs for one batch (Keras's `predict_on_batch`); the result's type picks the form,
    /// as in [`Model::predict`]: `let y: Tensor = model.predict_on_batch(&x)?`.
    pub fn predict_on_batch<P: crate::trainers::FromOutputs>(
        &self,
        x: impl Into<crate::trainers::Data>,
    ) -> Result<P> {
        let xs = x.into().resolve(&Network::input_names(&self.net), "x")?;
        let _inference = crate::engine::context::set_inference(true);
        let xs = crate::ops::to_device_all(&xs, &self.device())?;
        let out = Network::forward(&self.net, &xs, false)?;
        // Host arrays, as Keras's NumPy results.
        let out = out
            .iter()
            .map(|t| t.detach().to_device(&crate::ops::Device::Cpu))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        P::from_outputs(&self.get_name(), out)
    }

    /// The optimizer (after `compile`), to read or set the learning rate.
    pub fn optimizer(&mut self) -> Option<&mut (dyn crate::optimizers::Optimizer + 'static)> {
        self.trainer.optimizer()
    }

    /// Which way the compiled metric called `name` improves (`Up` for accuracy, `Down` for
    /// errors); `None` for names the model does not compute.
    pub fn metric_direction(&self, name: &str) -> Option<crate::metrics::Direction> {
        self.trainer.metric_direction(name)
    }

    /// Names of `evaluate`'s values (known after the first batch, as in Keras).
    pub fn metrics_names(&self) -> Vec<String> {
        self.trainer.metrics_names()
    }

    /// Whether `compile` has been called.
    pub fn compiled(&self) -> bool {
        self.trainer.compiled()
    }
}

/// A model as the training loop sees it: its network, and a subclassed model's custom step.
pub(crate) struct ModelNet<'a> {
    net: &'a LayerRef,
    custom: Option<&'a dyn Subclass>,
}

impl Network for ModelNet<'_> {
    fn name(&self) -> String {
        self.net.name()
    }
    fn forward(&self, inputs: &[Tensor], training: bool) -> Result<Vec<Tensor>> {
        Network::forward(self.net, inputs, training)
    }
    fn input_names(&self) -> Vec<String> {
        Network::input_names(self.net)
    }
    fn output_names(&self) -> Vec<String> {
        Network::output_names(self.net)
    }
    fn trainable_weights(&self) -> Vec<Weight> {
        LayerRef::trainable_weights(self.net)
    }
    fn ensure_built(&self, inputs: &[Tensor]) -> Result<()> {
        Network::ensure_built(self.net, inputs)
    }
    fn train_step(
        &self,
        step: &mut crate::trainers::StepContext,
        x: &[Tensor],
        y: &[Tensor],
    ) -> Option<Result<crate::callbacks::Logs>> {
        self.custom.and_then(|c| c.train_step(step, x, y))
    }
}
