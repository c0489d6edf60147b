//! `CSVLogger`: stream each epoch's logs to a CSV file, as Keras 3's
//! `keras/src/callbacks/csv_logger.py` (Python's `csv` module's excel dialect: `\r\n` line
//! ends, values written as Python prints them).

use super::{Callback, CallbackContext, Logs};
use crate::{Error, Result};
use std::io::Write;
use std::path::PathBuf;

/// Writes `epoch` and every logs value, one row per epoch, keys sorted with the `val_` ones
/// after (and `NA` where a value is missing), flushed after each row.
///
/// ```no_run
/// use keras::callbacks::CSVLogger;
/// let mut csv = CSVLogger::new("training.log").separator(";").append(true);
/// ```
pub struct CSVLogger {
    filename: PathBuf,
    separator: String,
    append: bool,
    keys: Option<Vec<String>>,
    append_header: bool,
    file: Option<std::fs::File>,
}

impl CSVLogger {
    /// Writes to `filename` (replacing it), comma-separated.
    pub fn new(filename: impl Into<PathBuf>) -> Self {
        CSVLogger {
            filename: filename.into(),
            separator: ",".into(),
            append: false,
            keys: None,
            append_header: true,
            file: None,
        }
    }
    /// The field separator.
    pub fn separator(mut self, sep: &str) -> Self {
        self.separator = sep.to_string();
        self
    }
    /// Append to an existing file (no second header) instead of replacing it.
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(
            format!("CSVLogger cannot write {}", self.filename.display()),
            e,
        )
    }

    /// One CSV field, quoted as Python's csv module quotes (minimal quoting).
    fn field(&self, s: &str) -> String {
        if s.contains(&self.separator) || s.contains('"') || s.contains('\n') || s.contains('\r') {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
}

impl Callback for CSVLogger {
    /// Files are written by rank 0 of a data-parallel job only.
    fn on_every_process(&self) -> bool {
        false
    }
    fn on_train_begin(&mut self, _logs: &mut Logs, _ctx: &mut CallbackContext) -> Result<()> {
        if self.separator.chars().count() != 1 {
            return Err(Error::value(format!(
                "CSVLogger: `separator` must be a 1-character string. Received: separator={:?}",
                self.separator
            )));
        }
        if self.append && self.filename.exists() {
            let text = std::fs::read(&self.filename).map_err(|e| self.io(e))?;
            self.append_header = text.is_empty();
        } else {
            self.append_header = true;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.append)
            .truncate(!self.append)
            .open(&self.filename)
            .map_err(|e| self.io(e))?;
        self.file = Some(file);
        self.keys = None;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        _ctx: &mut CallbackContext,
    ) -> Result<()> {
        if self.keys.is_none() {
            let mut keys = logs.names();
            keys.sort();
            if !keys.iter().any(|k| k.starts_with("val_")) && !keys.is_empty() {
                let val: Vec<String> = keys.iter().map(|k| format!("val_{k}")).collect();
                keys.extend(val);
            }
            let mut header = String::new();
            if self.append_header {
                let mut names = vec!["epoch".to_string()];
                names.extend(keys.iter().map(|k| self.field(k)));
                header = names.join(&self.separator) + "\r\n";
            }
            self.keys = Some(keys);
            if !header.is_empty() {
                let f = self
                    .file
                    .as_mut()
                    .ok_or_else(|| Error::runtime("CSVLogger: not started"))?;
                f.write_all(header.as_bytes()).map_err(|e| self.io(e))?;
            }
        }
        let keys = self.keys.as_ref().expect("set above");
        // Python's csv module quotes any field holding the separator, numbers included.
        let mut row = vec![self.field(&epoch.to_string())];
        for k in keys {
            row.push(self.field(&match logs.get(k) {
                Some(v) => super::logs::py_float(v),
                None => "NA".to_string(),
            }));
        }
        let line = row.join(&self.separator) + "\r\n";
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| Error::runtime("CSVLogger: not started"))?;
        f.write_all(line.as_bytes())
            .and_then(|_| f.flush())
            .map_err(|e| self.io(e))
    }

    fn on_train_end(&mut self, _logs: &mut Logs, _ctx: &mut CallbackContext) -> Result<()> {
        self.file = None;
        Ok(())
    }
}
