//! `BackupAndRestore`: survive an interrupted `fit`, as Keras 3's
//! `keras/src/callbacks/backup_and_restore.py`: back up the training state at the end of
//! every epoch (or every N batches) and, when `fit` starts again, resume from it.

use super::save_freq::{BatchCounter, SaveFreq};
use super::{Callback, CallbackContext, Logs};
use crate::ops::random;
use crate::{Error, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Backs up the weights, the optimizer's state and the random generator's state to
/// `backup_dir`; a `fit` started again with the same callback (after a crash or a kill)
/// continues from the last backup, and on the CPU ends with the same weights as a run that
/// was never interrupted. The backup is deleted when training ends (`delete_checkpoint`).
///
/// Where keras-rs differs from Keras: each backup is a new `ckpt-<epoch>-<batch>.weights.h5`
/// named by `training_metadata.json` (written after it, atomically), so a kill at any moment
/// leaves a consistent pair; Keras overwrites one `latest.weights.h5`. The metadata also
/// holds the random generator's state, which is what makes the resumed run identical.
///
/// ```no_run
/// use keras::callbacks::BackupAndRestore;
/// let mut backup = BackupAndRestore::new("/tmp/backup");
/// // model.fit(&x, &y, FitArgs { epochs: 10, callbacks: vec![&mut backup], ..Default::default() })?;
/// ```
pub struct BackupAndRestore {
    backup_dir: PathBuf,
    save_freq: SaveFreq,
    delete_checkpoint: bool,
    counter: BatchCounter,
    current_epoch: usize,
    /// The epoch `fit` resumed from (0 when it started afresh).
    pub resumed_from: usize,
}

impl BackupAndRestore {
    /// Backs up to `backup_dir` at the end of every epoch; deletes it when training ends.
    pub fn new(backup_dir: impl Into<PathBuf>) -> Self {
        BackupAndRestore {
            backup_dir: backup_dir.into(),
            save_freq: SaveFreq::Epoch,
            delete_checkpoint: true,
            counter: BatchCounter::default(),
            current_epoch: 0,
            resumed_from: 0,
        }
    }
    /// `"epoch"` or a number of batches.
    pub fn save_freq(mut self, freq: impl Into<SaveFreq>) -> Self {
        self.save_freq = freq.into();
        self
    }
    /// Remove the backup when training ends normally.
    pub fn delete_checkpoint(mut self, delete: bool) -> Self {
        self.delete_checkpoint = delete;
        self
    }

    fn metadata_path(&self) -> PathBuf {
        self.backup_dir.join("training_metadata.json")
    }

    fn bad(&self, path: &Path, why: impl std::fmt::Display) -> Error {
        Error::format(format!(
            "BackupAndRestore: the backup {} is unreadable: {why}",
            path.display()
        ))
    }

    fn restore(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        let meta_path = self.metadata_path();
        if !meta_path.exists() {
            return Ok(());
        }
        if !ctx.model.built() {
            return Err(Error::value(
                "To use the BackupAndRestore callback, your model must be built before you call \
                 `fit()`. You can build it beforehand by calling it on a batch of data.",
            ));
        }
        let text = std::fs::read_to_string(&meta_path)
            .map_err(|e| Error::io(format!("cannot read {}", meta_path.display()), e))?;
        let meta: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| self.bad(&meta_path, e))?;
        let epoch = meta["epoch"]
            .as_u64()
            .ok_or_else(|| self.bad(&meta_path, "no epoch"))? as usize;
        let weights = meta["weights"]
            .as_str()
            .filter(|w| !w.contains('/') && !w.contains('\\'))
            .ok_or_else(|| self.bad(&meta_path, "no weights file"))?;
        ctx.model.load_weights(self.backup_dir.join(weights))?;
        if let Some(s) = meta["rng_state"].as_array() {
            let v: Vec<u64> = s.iter().filter_map(|x| x.as_str()?.parse().ok()).collect();
            if let Ok(state) = <[u64; 4]>::try_from(v) {
                random::set_state(state);
            }
        }
        ctx.model.resume_epoch = Some(epoch);
        self.resumed_from = epoch;
        Ok(())
    }

    fn backup(&mut self, batch: usize, ctx: &mut CallbackContext) -> Result<()> {
        if !writes() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.backup_dir).map_err(|e| {
            Error::io(
                format!(
                    "BackupAndRestore cannot create {}",
                    self.backup_dir.display()
                ),
                e,
            )
        })?;
        let name = format!("ckpt-{}-{batch}.weights.h5", self.current_epoch);
        ctx.model.save_weights(self.backup_dir.join(&name))?;
        let state = random::get_state();
        let meta = json!({
            "epoch": self.current_epoch,
            "batch": batch,
            "weights": name,
            "rng_state": state.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        });
        let path = self.metadata_path();
        crate::ops::npy::write_atomic(&path, |f| {
            use std::io::Write;
            f.write_all(meta.to_string().as_bytes())
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
        })?;
        // Older backups are no longer named by the metadata.
        if let Ok(entries) = std::fs::read_dir(&self.backup_dir) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with("ckpt-") && n.ends_with(".weights.h5") && n != name {
                    std::fs::remove_file(e.path()).ok();
                }
            }
        }
        Ok(())
    }
}

/// Whether this process writes backups: rank 0 of a data-parallel job, or the only process.
/// Every process restores (from the files rank 0 wrote), so the whole job resumes.
fn writes() -> bool {
    crate::distribution::active().is_none_or(|g| g.rank() == 0)
}

impl Callback for BackupAndRestore {
    fn on_train_begin(&mut self, _logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        self.save_freq.check("BackupAndRestore", "save_freq")?;
        if self.backup_dir.as_os_str().is_empty() {
            return Err(Error::value("Empty `backup_dir` argument passed"));
        }
        super::model_checkpoint::check_writable_dir(&self.backup_dir, "BackupAndRestore")?;
        self.counter = BatchCounter::default();
        self.resumed_from = 0;
        self.restore(ctx)
    }

    fn on_epoch_begin(&mut self, epoch: usize, _ctx: &mut CallbackContext) -> Result<()> {
        self.current_epoch = epoch;
        Ok(())
    }

    fn on_train_batch_end(
        &mut self,
        batch: usize,
        _logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        if let SaveFreq::Batches(n) = self.save_freq {
            if self.counter.tick(batch, n) {
                // A mid-epoch backup resumes at the start of its epoch, as Keras's does.
                self.backup(batch + 1, ctx)?;
            }
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        _logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        if self.save_freq == SaveFreq::Epoch {
            self.current_epoch = epoch + 1;
            self.backup(0, ctx)?;
        }
        Ok(())
    }

    fn on_train_end(&mut self, _logs: &mut Logs, _ctx: &mut CallbackContext) -> Result<()> {
        if self.delete_checkpoint && writes() && self.backup_dir.exists() {
            std::fs::remove_dir_all(&self.backup_dir).map_err(|e| {
                Error::io(
                    format!(
                        "BackupAndRestore cannot delete {}",
                        self.backup_dir.display()
                    ),
                    e,
                )
            })?;
        }
        Ok(())
    }
}
