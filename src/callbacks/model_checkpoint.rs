//! `ModelCheckpoint`: save the model (or its weights) during training, as Keras 3's
//! `keras/src/callbacks/model_checkpoint.py`.

use super::filepath_format::{self, Value};
use super::monitor::Monitor;
use super::save_freq::{BatchCounter, SaveFreq};
use super::{Callback, CallbackContext, Logs};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Saves the model to `filepath` at the end of every epoch (or every `save_freq` batches):
/// a `.keras` archive with the optimizer's state, a tf.keras 2 `.h5` file (the seeds'
/// `ModelCheckpoint(filepath='my_model.h5')`), or with `save_weights_only` a `.weights.h5`.
/// The path may name the epoch, the batch and any logs value, as Python's `str.format` does:
/// `weights.{epoch:02d}-{val_loss:.2f}.keras`. With `save_best_only`, only when `monitor`
/// improved.
///
/// ```
/// use keras::callbacks::ModelCheckpoint;
/// let mut best = ModelCheckpoint::new("best_model.keras").save_best_only(true);
/// // model.fit(&x, &y, FitArgs { callbacks: vec![&mut best], ..Default::default() })?;
/// ```
pub struct ModelCheckpoint {
    filepath: String,
    monitor: Monitor,
    verbose: u8,
    save_best_only: bool,
    save_weights_only: bool,
    save_freq: SaveFreq,
    initial_value_threshold: Option<f64>,
    /// The best monitored value so far.
    pub best: Option<f64>,
    /// Every file written, in order.
    pub saved: Vec<PathBuf>,
    counter: BatchCounter,
    current_epoch: usize,
}

impl ModelCheckpoint {
    /// Keras's defaults: monitor `val_loss`, mode `auto`, every epoch, the whole model.
    pub fn new(filepath: impl AsRef<Path>) -> Self {
        ModelCheckpoint {
            filepath: filepath.as_ref().to_string_lossy().into_owned(),
            monitor: Monitor::new("val_loss", "auto", 0.0),
            verbose: 0,
            save_best_only: false,
            save_weights_only: false,
            save_freq: SaveFreq::Epoch,
            initial_value_threshold: None,
            best: None,
            saved: vec![],
            counter: BatchCounter::default(),
            current_epoch: 0,
        }
    }
    /// The quantity `save_best_only` watches.
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor.monitor = monitor.to_string();
        self
    }
    /// 1 prints each save.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
    /// Save only when the monitored quantity improved.
    pub fn save_best_only(mut self, yes: bool) -> Self {
        self.save_best_only = yes;
        self
    }
    /// Save the weights (`.weights.h5`) instead of the whole model.
    pub fn save_weights_only(mut self, yes: bool) -> Self {
        self.save_weights_only = yes;
        self
    }
    /// `auto`, `min` or `max`.
    pub fn mode(mut self, mode: &str) -> Self {
        self.monitor.mode = mode.to_string();
        self
    }
    /// `"epoch"` or a number of batches.
    pub fn save_freq(mut self, freq: impl Into<SaveFreq>) -> Self {
        self.save_freq = freq.into();
        self
    }
    /// The value the first saved model must beat (with `save_best_only`).
    pub fn initial_value_threshold(mut self, v: f64) -> Self {
        self.initial_value_threshold = Some(v);
        self.best = Some(v);
        self
    }

    /// The file name for this epoch / batch and logs.
    fn file_path(&self, epoch: usize, batch: Option<usize>, logs: &Logs) -> Result<PathBuf> {
        let lookup = |k: &str| match k {
            "epoch" => Some(Value::Int(epoch as i64 + 1)),
            "batch" if logs.get("batch").is_none() => batch.map(|b| Value::Int(b as i64 + 1)),
            k => logs.get(k).map(Value::Float),
        };
        Ok(PathBuf::from(filepath_format::format(
            &self.filepath,
            &lookup,
        )?))
    }

    fn save(
        &mut self,
        epoch: usize,
        batch: Option<usize>,
        logs: &Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        let path = self.file_path(epoch, batch, logs)?;
        let shown = path.display().to_string();
        if self.save_best_only {
            let Some(current) = logs.get(&self.monitor.monitor) else {
                eprintln!(
                    "UserWarning: Can save best model only with {} available.",
                    self.monitor.monitor
                );
                return self.write(&path, epoch, ctx);
            };
            let best_str = self.best.map_or("None".to_string(), |b| format!("{b:.5}"));
            if !self.monitor.is_improvement(current, self.best) {
                if self.verbose > 0 {
                    println!(
                        "\nEpoch {}: {} did not improve from {best_str}",
                        epoch + 1,
                        self.monitor.monitor
                    );
                }
                return Ok(());
            }
            if self.verbose > 0 {
                println!(
                    "\nEpoch {}: {} improved from {best_str} to {current:.5}, saving model to {shown}",
                    epoch + 1,
                    self.monitor.monitor
                );
            }
            self.best = Some(current);
        } else if self.verbose > 0 {
            println!("\nEpoch {}: saving model to {shown}", epoch + 1);
        }
        self.write(&path, epoch, ctx)
    }

    fn write(&mut self, path: &Path, epoch: usize, ctx: &mut CallbackContext) -> Result<()> {
        if path.is_dir() {
            return Err(Error::value(format!(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an \
                 existing directory: {}",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::io(
                    format!("ModelCheckpoint cannot create {}", dir.display()),
                    e,
                )
            })?;
        }
        if self.save_weights_only {
            ctx.model.save_weights(path)?;
        } else {
            ctx.model.save(path)?;
        }
        if self.verbose > 0 {
            println!(
                "\nEpoch {}: finished saving model to {}",
                epoch + 1,
                path.display()
            );
        }
        self.saved.push(path.to_path_buf());
        Ok(())
    }
}

/// Refuses a directory that cannot be created or written, before training starts.
pub(crate) fn check_writable_dir(dir: &Path, who: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            format!("{who} cannot create the directory {}", dir.display()),
            e,
        )
    })?;
    let probe = dir.join(format!(".keras_rs_write_probe_{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| Error::io(format!("{who} cannot write in {}", dir.display()), e))?;
    std::fs::remove_file(&probe).ok();
    Ok(())
}

impl Callback for ModelCheckpoint {
    /// Files are written by rank 0 of a data-parallel job only.
    fn on_every_process(&self) -> bool {
        false
    }
    fn on_train_begin(&mut self, _logs: &mut Logs, _ctx: &mut CallbackContext) -> Result<()> {
        self.save_freq.check("ModelCheckpoint", "save_freq")?;
        self.monitor.check("ModelCheckpoint")?;
        if self.save_weights_only {
            if !self.filepath.ends_with(".weights.h5") {
                return Err(Error::value(format!(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath \
                     provided must end in `.weights.h5` (Keras weights format). Received: \
                     filepath={}",
                    self.filepath
                )));
            }
        } else if ![".keras", ".h5"].iter().any(|e| self.filepath.ends_with(e)) {
            // `.h5`: the whole model in tf.keras 2's legacy HDF5 file, as `Model::save` writes.
            return Err(Error::value(format!(
                "The filepath provided must end in `.keras` (Keras model format). Received: \
                 filepath={}",
                self.filepath
            )));
        }
        // The directory must be writable (unless it is itself a template).
        if let Some(dir) = Path::new(&self.filepath).parent() {
            let d = dir.to_string_lossy();
            if !d.is_empty() && !d.contains('{') {
                check_writable_dir(dir, "ModelCheckpoint")?;
            }
        }
        self.counter = BatchCounter::default();
        Ok(())
    }

    fn on_epoch_begin(&mut self, epoch: usize, _ctx: &mut CallbackContext) -> Result<()> {
        self.current_epoch = epoch;
        Ok(())
    }

    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        if let SaveFreq::Batches(n) = self.save_freq {
            if self.counter.tick(batch, n) {
                if self.save_best_only {
                    self.monitor.direction(ctx.model, "ModelCheckpoint")?;
                }
                self.save(self.current_epoch, Some(batch), logs, ctx)?;
            }
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        if self.save_best_only {
            self.monitor.direction(ctx.model, "ModelCheckpoint")?;
        }
        if self.save_freq == SaveFreq::Epoch {
            self.save(epoch, None, logs, ctx)?;
        }
        Ok(())
    }
}
