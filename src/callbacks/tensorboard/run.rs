//! One `fit` (or standalone `evaluate`) seen by the TensorBoard callback: its writers,
//! counters and the files it writes, following Keras 3's `callbacks/tensorboard.py`.

use super::projector::{self, EmbeddingInfo};
use super::{images, EmbeddingsMetadata, SummaryWriter};
use crate::callbacks::{CallbackContext, Logs};
use crate::engine::Weight;
use crate::models::Model;
use crate::ops::DType;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The callback's settings, checked.
#[derive(Clone)]
pub(super) struct Options {
    pub log_dir: PathBuf,
    pub histogram_freq: usize,
    pub write_graph: bool,
    pub write_images: bool,
    pub write_steps_per_second: bool,
    /// Batches between batch-level writes; `None`: epoch-level only.
    pub update_every: Option<usize>,
    pub embeddings_freq: usize,
    pub embeddings_metadata: Option<EmbeddingsMetadata>,
}

/// The writers and counters of one run.
pub(super) struct Run {
    opts: Options,
    train: Option<SummaryWriter>,
    val: Option<SummaryWriter>,
    /// Started by `fit` (not by a standalone `evaluate`).
    pub in_fit: bool,
    global_train_batch: u64,
    batch_start: Instant,
    epoch_start: Instant,
    epoch_start_iterations: u64,
    embeddings: Vec<EmbeddingInfo>,
}

/// Directories and files a failed start made, to take away again.
#[derive(Default)]
struct Made {
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Made {
    /// `create_dir_all`, remembering which directories were new.
    fn dir(&mut self, dir: &Path) -> Result<()> {
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::io(
                format!(
                    "cannot create the TensorBoard log directory {}",
                    dir.display()
                ),
                e,
            )
        })?;
        missing.reverse();
        self.dirs.extend(missing);
        Ok(())
    }

    fn writer(&mut self, dir: &Path) -> Result<SummaryWriter> {
        self.dir(dir)?;
        let w = SummaryWriter::create(dir)?;
        self.files.push(w.path().to_path_buf());
        Ok(w)
    }

    fn undo(self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        for d in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// The writer in `slot`, created in `dir` on first use (Keras's lazy `_train_writer`).
fn writer<'a>(slot: &'a mut Option<SummaryWriter>, dir: &Path) -> Result<&'a mut SummaryWriter> {
    if slot.is_none() {
        *slot = Some(SummaryWriter::create(dir)?);
    }
    slot.as_mut()
        .ok_or_else(|| Error::runtime("TensorBoard writer missing"))
}

impl Run {
    /// Checks the settings against the model, then creates the log directory, the writers
    /// (`train/` unless a standalone evaluate without the graph; `validation/` when there is
    /// validation), the conceptual graph and the projector config. On any error, what it
    /// made is removed again.
    pub fn start(
        opts: Options,
        ctx: &mut CallbackContext,
        in_fit: bool,
        with_val: bool,
    ) -> Result<Run> {
        let embeddings = if opts.embeddings_freq > 0 {
            embedding_infos(ctx.model, opts.embeddings_metadata.as_ref())?
        } else {
            vec![]
        };
        let class = ctx.model.layer().class_name().to_string();
        let graph_json = if opts.write_graph && (class == "Functional" || class == "Sequential") {
            match crate::saving::to_json(ctx.model) {
                Ok(j) => Some(j),
                Err(e) => {
                    // As Keras: a model that does not serialize is not a reason to stop.
                    eprintln!("Model failed to serialize as JSON. Ignoring... {e}");
                    None
                }
            }
        } else {
            None
        };
        let mut made = Made::default();
        match Self::open(opts, in_fit, with_val, embeddings, graph_json, &mut made) {
            Ok(r) => Ok(r),
            Err(e) => {
                made.undo();
                Err(e)
            }
        }
    }

    fn open(
        opts: Options,
        in_fit: bool,
        with_val: bool,
        embeddings: Vec<EmbeddingInfo>,
        graph_json: Option<String>,
        made: &mut Made,
    ) -> Result<Run> {
        let log_dir = opts.log_dir.clone();
        made.dir(&log_dir)?;
        let mut train = None;
        if in_fit || graph_json.is_some() {
            train = Some(made.writer(&log_dir.join("train"))?);
        }
        let val = match with_val {
            true => Some(made.writer(&log_dir.join("validation"))?),
            false => None,
        };
        if let (Some(json), Some(w)) = (&graph_json, train.as_mut()) {
            w.keras_model("keras", json, 0)?;
            w.flush()?;
        }
        if opts.embeddings_freq > 0 {
            let path = log_dir.join("projector_config.pbtxt");
            projector::write_atomic(&path, projector::config_pbtxt(&embeddings).as_bytes())?;
            made.files.push(path);
        }
        let now = Instant::now();
        Ok(Run {
            opts,
            train,
            val,
            in_fit,
            global_train_batch: 0,
            batch_start: now,
            epoch_start: now,
            epoch_start_iterations: 0,
            embeddings,
        })
    }

    pub fn epoch_begin(&mut self, ctx: &mut CallbackContext) {
        self.epoch_start = Instant::now();
        self.epoch_start_iterations = ctx.model.optimizer().map_or(0, |o| o.iterations());
    }

    pub fn train_batch_begin(&mut self) {
        self.global_train_batch += 1;
        self.batch_start = Instant::now();
    }

    /// `batch_*` scalars every `update_every` batches (Keras's `record_if(step % n == 0)`).
    pub fn train_batch_end(&mut self, logs: &Logs) -> Result<()> {
        let step = self.global_train_batch;
        let Some(n) = self.opts.update_every else {
            return Ok(());
        };
        if !step.is_multiple_of(n as u64) {
            return Ok(());
        }
        let w = writer(&mut self.train, &self.opts.log_dir.join("train"))?;
        if self.opts.write_steps_per_second {
            let secs = self.batch_start.elapsed().as_secs_f64();
            w.scalar("batch_steps_per_second", 1.0 / secs, step as i64)?;
        }
        for (name, value) in logs.iter() {
            w.scalar(&format!("batch_{name}"), value, step as i64)?;
        }
        Ok(())
    }

    /// `evaluation_<name>_vs_iterations` on the validation writer, step = the optimizer's
    /// iterations.
    pub fn test_end(&mut self, logs: &Logs, ctx: &mut CallbackContext) -> Result<()> {
        let Some(iterations) = ctx.model.optimizer().map(|o| o.iterations()) else {
            return Ok(());
        };
        let w = writer(&mut self.val, &self.opts.log_dir.join("validation"))?;
        for (name, value) in logs.iter() {
            w.scalar(
                &format!("evaluation_{name}_vs_iterations"),
                value,
                iterations as i64,
            )?;
        }
        w.flush()
    }

    /// `epoch_*` scalars (training logs and the learning rate on `train/`, the `val_` logs
    /// without their prefix on `validation/`), then histograms and embeddings when due.
    pub fn epoch_end(
        &mut self,
        epoch: usize,
        logs: &Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        let step = epoch as i64;
        let opts = self.opts.clone();
        if !logs.is_empty() {
            let mut train_logs = Logs::default();
            let mut val_logs = Logs::default();
            for (name, value) in logs.iter() {
                match name.strip_prefix("val_") {
                    Some(n) => val_logs.insert(n, value),
                    None => train_logs.insert(name, value),
                }
            }
            if let Some(opt) = ctx.model.optimizer() {
                train_logs.insert("learning_rate", opt.get_learning_rate());
                if opts.write_steps_per_second {
                    let steps = opt.iterations().saturating_sub(self.epoch_start_iterations);
                    let secs = self.epoch_start.elapsed().as_secs_f64();
                    train_logs.insert("steps_per_second", steps as f64 / secs);
                }
            }
            let w = writer(&mut self.train, &self.opts.log_dir.join("train"))?;
            for (name, value) in train_logs.iter() {
                w.scalar(&format!("epoch_{name}"), value, step)?;
            }
            if !val_logs.is_empty() {
                let w = writer(&mut self.val, &self.opts.log_dir.join("validation"))?;
                for (name, value) in val_logs.iter() {
                    w.scalar(&format!("epoch_{name}"), value, step)?;
                }
            }
        }
        if opts.histogram_freq > 0 && epoch.is_multiple_of(opts.histogram_freq) {
            self.log_weights(step, ctx.model)?;
        }
        if opts.embeddings_freq > 0 && epoch.is_multiple_of(opts.embeddings_freq) {
            self.log_embeddings(ctx.model)?;
        }
        for w in [&mut self.train, &mut self.val].into_iter().flatten() {
            w.flush()?;
        }
        Ok(())
    }

    /// Keras's `_log_weights`: for each layer's weights, `<path>/histogram` (and
    /// `<path>/image`) on the training writer.
    fn log_weights(&mut self, step: i64, model: &Model) -> Result<()> {
        let write_images = self.opts.write_images;
        let w = writer(&mut self.train, &self.opts.log_dir.join("train"))?;
        for (path, weight) in keras_weight_paths(model) {
            let name = path.replace(':', "_");
            let value = weight.numpy()?;
            let data: Vec<f64> = value.flatten_all()?.to_dtype(DType::F64)?.to_vec1()?;
            w.histogram(&format!("{name}/histogram"), &data, step)?;
            if write_images {
                if let Some(img) = images::weight_images(&value)? {
                    w.image(&format!("{name}/image"), &img, step, 3)?;
                }
            }
        }
        w.flush()
    }

    /// Each Embedding layer's matrix as the TSV its `tensor_path` names.
    fn log_embeddings(&self, model: &Model) -> Result<()> {
        for e in &self.embeddings {
            let layer = model.get_layer(&e.layer)?;
            let weights = layer.weights();
            let Some(w) = weights
                .iter()
                .find(|w| w.name() == "embeddings")
                .or(weights.first())
            else {
                continue;
            };
            let text = projector::tsv(&w.numpy()?)?;
            projector::write_atomic(&self.opts.log_dir.join(&e.tensor_path), text.as_bytes())?;
        }
        Ok(())
    }

    /// Flushes and closes the writers.
    pub fn close(&mut self) -> Result<()> {
        let mut first = Ok(());
        for w in [&mut self.train, &mut self.val].into_iter().flatten() {
            if let Err(e) = w.close() {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

/// Each layer's weights (Keras's `model.layers` then `layer.weights`) with the path Keras 3
/// gives them: a `Sequential` builds its layers under its own name scope, so there the
/// weights are `sequential/dense/kernel` (the model's name, and a nested `Sequential`
/// layer's, prefixed to the layer's `dense/kernel`).
fn keras_weight_paths(model: &Model) -> Vec<(String, Weight)> {
    let scope = |class: &str, name: String| match class {
        "Sequential" => format!("{name}/"),
        _ => String::new(),
    };
    let top = scope(model.layer().class_name(), model.get_name());
    let mut out = vec![];
    for layer in model.layers() {
        let prefix = format!("{top}{}", scope(layer.class_name(), layer.name()));
        for w in layer.weights() {
            let path = match w.path().starts_with(&prefix) {
                true => w.path().to_string(),
                false => format!("{prefix}{}", w.path()),
            };
            out.push((path, w));
        }
    }
    out
}

/// The projector entries of the model's Embedding layers (Keras's `_configure_embeddings`),
/// with their metadata files; an `embeddings_metadata` layer name that is not an Embedding
/// layer of the model is an error, as in Keras.
fn embedding_infos(
    model: &Model,
    metadata: Option<&EmbeddingsMetadata>,
) -> Result<Vec<EmbeddingInfo>> {
    let mut by_layer: Vec<(String, String)> = match metadata {
        Some(EmbeddingsMetadata::ByLayer(v)) => v.clone(),
        _ => vec![],
    };
    let mut out = vec![];
    let mut with_weights = 0;
    for layer in model.layers() {
        let name = layer.name();
        if layer.class_name() == "Embedding" {
            let metadata_path = match metadata {
                Some(EmbeddingsMetadata::All(p)) => Some(p.clone()),
                _ => by_layer
                    .iter()
                    .position(|(l, _)| *l == name)
                    .map(|i| by_layer.remove(i).1),
            };
            out.push(EmbeddingInfo {
                tensor_name: format!(
                    "layer_with_weights-{with_weights}/embeddings/.ATTRIBUTES/VARIABLE_VALUE"
                ),
                metadata_path,
                tensor_path: format!("{}_embeddings.tsv", projector::file_stem(&name)),
                layer: name,
            });
        }
        if !layer.weights().is_empty() {
            with_weights += 1;
        }
    }
    if !by_layer.is_empty() {
        let names: Vec<String> = by_layer.iter().map(|(l, _)| format!("'{l}'")).collect();
        return Err(Error::value(format!(
            "Unrecognized `Embedding` layer names passed to `keras.callbacks.TensorBoard` \
             `embeddings_metadata` argument: dict_keys([{}])",
            names.join(", ")
        )));
    }
    Ok(out)
}
