//! Keras's `TensorBoard` callback and the event-file writer under it: files that
//! `tensorboard --logdir` reads (scalars, histograms, images, the model's conceptual graph,
//! the embedding projector), written without TensorFlow.
//!
//! ```no_run
//! use keras::callbacks::TensorBoard;
//! use keras::prelude::*;
//! # fn f(model: &mut Model, x: &Tensor, y: &Tensor) -> keras::Result<()> {
//! let mut tb = TensorBoard::new("logs").histogram_freq(1);
//! model.fit(x, y, FitArgs { epochs: 5, validation_split: 0.2, callbacks: vec![&mut tb], ..Default::default() })?;
//! // then: tensorboard --logdir logs
//! # Ok(()) }
//! ```

mod images;
mod projector;
mod proto;
mod record_writer;
mod run;
mod summary_writer;

pub use summary_writer::{SummaryWriter, DEFAULT_BUCKET_COUNT};

use super::{Callback, CallbackContext, Logs};
use crate::{Error, Result};
use std::path::PathBuf;

/// How often [`TensorBoard`] writes the training metrics (Keras's `update_freq`): once per
/// epoch (`epoch_*` tags only, the default), after every batch, or every `n` batches
/// (`batch_*` tags as well, step = the batch count since `fit` began).
///
/// ```
/// use keras::callbacks::tensorboard::UpdateFreq;
/// assert_eq!("batch".parse::<UpdateFreq>()?, UpdateFreq::Batch);
/// assert_eq!(UpdateFreq::from(100), UpdateFreq::Every(100));
/// assert!("weekly".parse::<UpdateFreq>().is_err());
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpdateFreq {
    /// After each epoch (Keras's `"epoch"`).
    #[default]
    Epoch,
    /// After each batch (Keras's `"batch"`, the same as `Every(1)`).
    Batch,
    /// Every `n` batches (Keras's integer `update_freq`).
    Every(usize),
}

impl UpdateFreq {
    /// Batches between batch-level writes (`None` for `Epoch`).
    fn batches(self) -> Option<usize> {
        match self {
            UpdateFreq::Epoch => None,
            UpdateFreq::Batch => Some(1),
            UpdateFreq::Every(n) => Some(n),
        }
    }
}

impl From<usize> for UpdateFreq {
    fn from(n: usize) -> Self {
        UpdateFreq::Every(n)
    }
}

impl std::str::FromStr for UpdateFreq {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "epoch" => Ok(UpdateFreq::Epoch),
            "batch" => Ok(UpdateFreq::Batch),
            _ => Err(Error::value(format!(
                "update_freq must be \"epoch\", \"batch\" or a positive integer. Received: \
                 update_freq={s:?}"
            ))),
        }
    }
}

/// What [`TensorBoard::update_freq`] accepts: `"epoch"`, `"batch"`, an integer or an
/// [`UpdateFreq`]. A bad value (another word, a count of 0 or below) is reported by `fit`
/// before training starts.
///
/// ```
/// use keras::callbacks::tensorboard::{IntoUpdateFreq, UpdateFreq};
/// assert_eq!(50.into_update_freq()?, UpdateFreq::Every(50));
/// assert!(0.into_update_freq().is_err());
/// # Ok::<(), keras::Error>(())
/// ```
pub trait IntoUpdateFreq {
    /// The frequency, or why it is not one.
    fn into_update_freq(self) -> Result<UpdateFreq>;
}

impl IntoUpdateFreq for UpdateFreq {
    fn into_update_freq(self) -> Result<UpdateFreq> {
        match self {
            UpdateFreq::Every(0) => Err(Error::value(
                "update_freq must be \"epoch\", \"batch\" or a positive integer. Received: \
                 update_freq=0",
            )),
            f => Ok(f),
        }
    }
}

impl IntoUpdateFreq for &str {
    fn into_update_freq(self) -> Result<UpdateFreq> {
        self.parse()
    }
}

macro_rules! int_update_freq {
    ($($t:ty),*) => {$(
        impl IntoUpdateFreq for $t {
            fn into_update_freq(self) -> Result<UpdateFreq> {
                let n = usize::try_from(self).unwrap_or(0);
                UpdateFreq::Every(n).into_update_freq().map_err(|_| Error::value(format!(
                    "update_freq must be \"epoch\", \"batch\" or a positive integer. \
                     Received: update_freq={self}"
                )))
            }
        }
    )*};
}
int_update_freq!(i32, i64, u32, u64, usize);

/// Keras's `embeddings_metadata`: one metadata file for every Embedding layer, or a file per
/// layer name. Paths are written into the projector config as given (TensorBoard resolves
/// them against the log directory and requires them to lie inside it).
///
/// ```
/// use keras::callbacks::tensorboard::EmbeddingsMetadata;
/// let m = EmbeddingsMetadata::ByLayer(vec![("embedding".into(), "words.tsv".into())]);
/// # let _ = m;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum EmbeddingsMetadata {
    /// The same file for all Embedding layers (Keras's string form).
    All(String),
    /// `(layer name, file)` pairs (Keras's dict form); an unknown layer name is an error.
    ByLayer(Vec<(String, String)>),
}

/// Keras's `keras.callbacks.TensorBoard`: logs training to event files that TensorBoard
/// shows, laid out and named as Keras 3 does.
///
/// - `log_dir/train/events.out.tfevents...`: `epoch_loss`, `epoch_<metric>` and
///   `epoch_learning_rate` (the optimizer's) at each epoch end (step = epoch, from 0);
///   `epoch_steps_per_second` with [`write_steps_per_second`](Self::write_steps_per_second);
///   `batch_loss`, `batch_<metric>` (and `batch_steps_per_second`) every
///   [`update_freq`](Self::update_freq) batches (step = batches since `fit` began, from 1);
///   weight histograms `<weight path>/histogram` every [`histogram_freq`](Self::histogram_freq)
///   epochs (Keras 3's paths: `dense/kernel/histogram` in a functional model,
///   `sequential/dense/kernel/histogram` in a `Sequential`), and `<weight path>/image` with
///   [`write_images`](Self::write_images); the model's config as the graph plugin's
///   conceptual graph (tag `keras`, step 0) with [`write_graph`](Self::write_graph).
/// - `log_dir/validation/events...`: `epoch_loss` and `epoch_<metric>` from the `val_` logs,
///   and `evaluation_loss_vs_iterations` etc. after each validation run (step = the
///   optimizer's iterations); a standalone `evaluate` writes these too.
/// - with [`embeddings_freq`](Self::embeddings_freq): `log_dir/projector_config.pbtxt` and
///   the Embedding layers' values.
///
/// Every `fit` starts new event files, as Keras does. The log directory is created (and
/// checked to be writable) before the first epoch: a path that cannot be made is an error
/// naming it, and nothing is left behind.
///
/// Where this differs from Keras 3:
/// - Embeddings: Keras 3 saves the whole model's weights as
///   `train/keras_embedding.ckpt-<epoch>.weights.h5`, which TensorBoard's projector cannot
///   read (it reads TensorFlow checkpoints). Here each Embedding layer's matrix is written as
///   `log_dir/<layer>_embeddings.tsv` (rewritten every `embeddings_freq` epochs), named by the
///   config's `tensor_path`, which the projector reads directly. The `tensor_name`s are Keras's
///   checkpoint keys (`layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE`; Keras
///   writes index 0 for every layer, here the index counts the layers with weights, so two
///   Embedding layers do not collide).
/// - The graph: only the Keras-config conceptual graph (what Keras 3 writes on JAX / torch);
///   no op graph (`GraphDef`), no profiler (`profile_batch`).
/// - `predict` writes nothing (Keras's `set_model` writes the model config even there).
///
/// ```no_run
/// use keras::callbacks::TensorBoard;
/// use keras::prelude::*;
/// # fn f(model: &mut Model, x: &Tensor, y: &Tensor) -> keras::Result<()> {
/// let mut tb = TensorBoard::new("logs")
///     .histogram_freq(1)
///     .update_freq("batch")
///     .embeddings_freq(1);
/// model.fit(x, y, FitArgs { epochs: 3, validation_split: 0.2, callbacks: vec![&mut tb], ..Default::default() })?;
/// # Ok(()) }
/// ```
pub struct TensorBoard {
    log_dir: PathBuf,
    histogram_freq: usize,
    write_graph: bool,
    write_images: bool,
    write_steps_per_second: bool,
    update_freq: Result<UpdateFreq>,
    embeddings_freq: usize,
    embeddings_metadata: Option<EmbeddingsMetadata>,
    run: Option<run::Run>,
}

impl TensorBoard {
    /// A callback logging to `log_dir`, with Keras's defaults: `histogram_freq(0)`,
    /// `write_graph(true)`, `write_images(false)`, `write_steps_per_second(false)`,
    /// `update_freq("epoch")`, `embeddings_freq(0)`, no embeddings metadata.
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs");
    /// assert_eq!(tb.log_dir(), std::path::Path::new("logs"));
    /// ```
    pub fn new(log_dir: impl Into<PathBuf>) -> Self {
        TensorBoard {
            log_dir: log_dir.into(),
            histogram_freq: 0,
            write_graph: true,
            write_images: false,
            write_steps_per_second: false,
            update_freq: Ok(UpdateFreq::Epoch),
            embeddings_freq: 0,
            embeddings_metadata: None,
            run: None,
        }
    }

    /// The log directory.
    ///
    /// ```
    /// # let tb = keras::callbacks::TensorBoard::new("logs");
    /// println!("tensorboard --logdir {}", tb.log_dir().display());
    /// ```
    pub fn log_dir(&self) -> &std::path::Path {
        &self.log_dir
    }

    /// Weight histograms every `n` epochs (0: none).
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs").histogram_freq(1);
    /// ```
    pub fn histogram_freq(mut self, n: usize) -> Self {
        self.histogram_freq = n;
        self
    }

    /// Whether to write the model's config as its conceptual graph (default true).
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs").write_graph(false);
    /// ```
    pub fn write_graph(mut self, on: bool) -> Self {
        self.write_graph = on;
        self
    }

    /// Whether to write the weights as images with the histograms (Keras's layouts: a bias
    /// as a column, a kernel as one image, a 3-D kernel as one image per output channel; at
    /// most 3 images per weight; values scaled by 255 and clipped to `[0, 255]`, as
    /// `tf.summary.image` does with float data).
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs").histogram_freq(1).write_images(true);
    /// ```
    pub fn write_images(mut self, on: bool) -> Self {
        self.write_images = on;
        self
    }

    /// Whether to log training steps per second (`epoch_steps_per_second`, and
    /// `batch_steps_per_second` with batch-level updates).
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs").write_steps_per_second(true);
    /// ```
    pub fn write_steps_per_second(mut self, on: bool) -> Self {
        self.write_steps_per_second = on;
        self
    }

    /// `"epoch"` (default), `"batch"`, or a number of batches: see [`UpdateFreq`].
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs").update_freq(100);
    /// let tb = keras::callbacks::TensorBoard::new("logs").update_freq("batch");
    /// ```
    pub fn update_freq(mut self, freq: impl IntoUpdateFreq) -> Self {
        self.update_freq = freq.into_update_freq();
        self
    }

    /// Writes the Embedding layers' values for the projector every `n` epochs (0: never).
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs").embeddings_freq(1);
    /// ```
    pub fn embeddings_freq(mut self, n: usize) -> Self {
        self.embeddings_freq = n;
        self
    }

    /// Metadata (row labels) files for the projector, by Embedding layer name.
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs")
    ///     .embeddings_freq(1)
    ///     .embeddings_metadata([("embedding", "words.tsv")]);
    /// ```
    pub fn embeddings_metadata<K: Into<String>, V: Into<String>>(
        mut self,
        by_layer: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let pairs = by_layer
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self.embeddings_metadata = Some(EmbeddingsMetadata::ByLayer(pairs));
        self
    }

    /// One metadata file for every Embedding layer (Keras's string `embeddings_metadata`).
    ///
    /// ```
    /// let tb = keras::callbacks::TensorBoard::new("logs")
    ///     .embeddings_freq(1)
    ///     .embeddings_metadata_file("words.tsv");
    /// ```
    pub fn embeddings_metadata_file(mut self, path: impl Into<String>) -> Self {
        self.embeddings_metadata = Some(EmbeddingsMetadata::All(path.into()));
        self
    }

    fn options(&self) -> Result<run::Options> {
        let update_freq = match &self.update_freq {
            Ok(f) => *f,
            Err(e) => return Err(Error::value(e.to_string())),
        };
        Ok(run::Options {
            log_dir: self.log_dir.clone(),
            histogram_freq: self.histogram_freq,
            write_graph: self.write_graph,
            write_images: self.write_images,
            write_steps_per_second: self.write_steps_per_second,
            update_every: update_freq.batches(),
            embeddings_freq: self.embeddings_freq,
            embeddings_metadata: self.embeddings_metadata.clone(),
        })
    }

    fn close_run(&mut self) -> Result<()> {
        match self.run.take() {
            Some(mut r) => r.close(),
            None => Ok(()),
        }
    }
}

impl Callback for TensorBoard {
    /// Files are written by rank 0 of a data-parallel job only.
    fn on_every_process(&self) -> bool {
        false
    }
    fn on_train_begin(&mut self, _logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        self.close_run()?;
        let opts = self.options()?;
        let with_val = ctx.validation_data.is_some();
        self.run = Some(run::Run::start(opts, ctx, true, with_val)?);
        Ok(())
    }

    fn on_train_end(&mut self, _logs: &mut Logs, _ctx: &mut CallbackContext) -> Result<()> {
        self.close_run()
    }

    fn on_epoch_begin(&mut self, _epoch: usize, ctx: &mut CallbackContext) -> Result<()> {
        if let Some(r) = self.run.as_mut() {
            r.epoch_begin(ctx);
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        match self.run.as_mut() {
            Some(r) => r.epoch_end(epoch, logs, ctx),
            None => Ok(()),
        }
    }

    fn on_train_batch_begin(&mut self, _batch: usize, _ctx: &mut CallbackContext) -> Result<()> {
        if let Some(r) = self.run.as_mut() {
            r.train_batch_begin();
        }
        Ok(())
    }

    fn on_train_batch_end(
        &mut self,
        _batch: usize,
        logs: &mut Logs,
        _ctx: &mut CallbackContext,
    ) -> Result<()> {
        match self.run.as_mut() {
            Some(r) => r.train_batch_end(logs),
            None => Ok(()),
        }
    }

    fn on_test_begin(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        if self.run.is_none() {
            // A standalone `evaluate`: Keras's `set_model` starts writers for it too.
            let opts = self.options()?;
            self.run = Some(run::Run::start(opts, ctx, false, true)?);
        }
        Ok(())
    }

    fn on_test_end(&mut self, logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        let standalone = match self.run.as_mut() {
            Some(r) => {
                r.test_end(logs, ctx)?;
                !r.in_fit
            }
            None => false,
        };
        if standalone {
            self.close_run()?;
        }
        Ok(())
    }
}
