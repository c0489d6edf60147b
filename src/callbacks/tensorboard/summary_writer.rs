//! An event-file writer: what `tf.summary.create_file_writer` writes, without TensorFlow.

use super::proto::{event, summary, Event, PluginData, Summary, SummaryMetadata, TensorProto};
use super::record_writer::write_record;
use crate::{Error, Result};
use prost::Message;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The number of histogram buckets `tf.summary.histogram` uses by default.
pub const DEFAULT_BUCKET_COUNT: usize = 30;

static FILES_OPENED: AtomicU64 = AtomicU64::new(0);

/// Writes TensorBoard summaries to a new event file in a directory, as TensorFlow's
/// `tf.summary.create_file_writer(dir)` does: the file is named
/// `events.out.tfevents.<seconds>.<hostname>.<pid>.<n>.v2`, its first record is the
/// `file_version: "brain.Event:2"` event, and every summary is a TF2 tensor summary with its
/// plugin's metadata (`scalars`, `histograms`, `text`, `images`, `graph_keras_model`), which
/// `tensorboard --logdir` reads.
///
/// Records are buffered; [`flush`](Self::flush) writes them out (the
/// [`TensorBoard`](super::TensorBoard) callback flushes at each epoch end), and dropping the
/// writer flushes too.
///
/// ```
/// use keras::callbacks::tensorboard::SummaryWriter;
/// let dir = std::env::temp_dir().join(format!("keras_doc_writer_{}", std::process::id()));
/// let mut w = SummaryWriter::create(&dir)?;
/// for step in 0..3 {
///     w.scalar("loss", 1.0 / (step + 1) as f64, step)?;
/// }
/// w.histogram("weights", &[0.1, -0.2, 0.3], 0)?;
/// w.text("notes", "trained on synthetic data", 0)?;
/// w.close()?;
/// assert!(w.path().file_name().unwrap().to_str().unwrap().starts_with("events.out.tfevents."));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), keras::Error>(())
/// ```
pub struct SummaryWriter {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl SummaryWriter {
    /// Creates `dir` (with its parents) and a new event file in it, holding the file-version
    /// record. Errors name the directory or file that could not be made.
    ///
    /// ```no_run
    /// let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs/train")?;
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn create(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::io(
                format!(
                    "cannot create the TensorBoard log directory {}",
                    dir.display()
                ),
                e,
            )
        })?;
        let now = wall_time();
        let name = format!(
            "events.out.tfevents.{:010}.{}.{}.{}.v2",
            now as u64,
            hostname(),
            std::process::id(),
            FILES_OPENED.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                Error::io(
                    format!(
                        "cannot create the TensorBoard event file {}",
                        path.display()
                    ),
                    e,
                )
            })?;
        let mut w = SummaryWriter {
            path,
            file: Some(BufWriter::new(file)),
        };
        let first = Event {
            wall_time: now,
            step: 0,
            what: Some(event::What::FileVersion("brain.Event:2".into())),
        };
        w.write_event(&first)?;
        w.flush()?;
        Ok(w)
    }

    /// The event file's path.
    ///
    /// ```no_run
    /// # let w = keras::callbacks::tensorboard::SummaryWriter::create("logs")?;
    /// println!("{}", w.path().display());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A scalar (`tf.summary.scalar`): a float32 scalar tensor, plugin `scalars`.
    ///
    /// ```no_run
    /// # let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs")?;
    /// w.scalar("epoch_loss", 0.25, 3)?;
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn scalar(&mut self, tag: &str, value: f64, step: i64) -> Result<()> {
        self.write_tensor(
            tag,
            TensorProto::f32(&[], &[value as f32]),
            "scalars",
            b"",
            step,
        )
    }

    /// A histogram of `data` with TensorBoard's default 30 buckets (`tf.summary.histogram`).
    ///
    /// ```no_run
    /// # let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs")?;
    /// w.histogram("dense/kernel/histogram", &[0.5, -0.5, 0.25], 0)?;
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn histogram(&mut self, tag: &str, data: &[f64], step: i64) -> Result<()> {
        self.histogram_with_buckets(tag, data, step, DEFAULT_BUCKET_COUNT)
    }

    /// A histogram with `buckets` buckets: a float64 tensor of shape `[buckets, 3]`, each row
    /// `(left edge, right edge, count)`, plugin `histograms`, bucketed as TensorBoard's
    /// `summary_v2.histogram` does (equal widths over `[min, max]`, the last bucket closed;
    /// all data equal: every edge at that value and the count in the last bucket; no data:
    /// zeros).
    ///
    /// ```no_run
    /// # let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs")?;
    /// w.histogram_with_buckets("activations", &[0.0, 0.5, 1.0], 7, 10)?;
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn histogram_with_buckets(
        &mut self,
        tag: &str,
        data: &[f64],
        step: i64,
        buckets: usize,
    ) -> Result<()> {
        let rows = histogram_buckets(data, buckets);
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        let tensor = TensorProto::f64(&[rows.len(), 3], &flat);
        self.write_tensor(tag, tensor, "histograms", b"", step)
    }

    /// A text summary (`tf.summary.text`): a string scalar tensor, plugin `text` (rendered as
    /// Markdown).
    ///
    /// ```no_run
    /// # let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs")?;
    /// w.text("config", "**lr** = 0.001", 0)?;
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn text(&mut self, tag: &str, text: &str, step: i64) -> Result<()> {
        let tensor = TensorProto::strings(&[], vec![text.as_bytes().to_vec()]);
        self.write_tensor(tag, tensor, "text", b"", step)
    }

    /// A Keras model's JSON config as the graph plugin's conceptual graph (Keras's
    /// `keras_model_summary`): a string scalar tensor, plugin `graph_keras_model`, content
    /// `b"1"`.
    ///
    /// ```no_run
    /// # use keras::prelude::*;
    /// # fn f(model: &Model) -> keras::Result<()> {
    /// let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs/train")?;
    /// w.keras_model("keras", &keras::saving::to_json(model)?, 0)?;
    /// # Ok(()) }
    /// ```
    pub fn keras_model(&mut self, tag: &str, json: &str, step: i64) -> Result<()> {
        let tensor = TensorProto::strings(&[], vec![json.as_bytes().to_vec()]);
        self.write_tensor(tag, tensor, "graph_keras_model", b"1", step)
    }

    /// Writes one tensor summary with its plugin's name and content.
    pub(crate) fn write_tensor(
        &mut self,
        tag: &str,
        tensor: TensorProto,
        plugin_name: &str,
        content: &[u8],
        step: i64,
    ) -> Result<()> {
        let value = summary::Value {
            tag: tag.to_string(),
            metadata: Some(SummaryMetadata {
                plugin_data: Some(PluginData {
                    plugin_name: plugin_name.to_string(),
                    content: content.to_vec(),
                }),
                ..Default::default()
            }),
            value: Some(summary::Kind::Tensor(tensor)),
        };
        let event = Event {
            wall_time: wall_time(),
            step,
            what: Some(event::What::Summary(Summary { value: vec![value] })),
        };
        self.write_event(&event)
    }

    fn write_event(&mut self, event: &Event) -> Result<()> {
        let path = &self.path;
        let file = self.file.as_mut().ok_or_else(|| {
            Error::runtime(format!("the event file {} is closed", path.display()))
        })?;
        write_record(file, &event.encode_to_vec()).map_err(|e| {
            Error::io(
                format!("writing TensorBoard events to {}", path.display()),
                e,
            )
        })
    }

    /// Writes buffered records out to the file.
    ///
    /// ```no_run
    /// # let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs")?;
    /// w.scalar("x", 1.0, 0)?;
    /// w.flush()?; // now visible to a running TensorBoard
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn flush(&mut self) -> Result<()> {
        if let Some(f) = self.file.as_mut() {
            f.flush().map_err(|e| {
                Error::io(
                    format!("writing TensorBoard events to {}", self.path.display()),
                    e,
                )
            })?;
        }
        Ok(())
    }

    /// Flushes and closes the file; later writes are errors, a second close does nothing.
    ///
    /// ```no_run
    /// # let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs")?;
    /// w.close()?;
    /// assert!(w.scalar("x", 1.0, 0).is_err());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn close(&mut self) -> Result<()> {
        self.flush()?;
        self.file = None;
        Ok(())
    }
}

impl Drop for SummaryWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Buckets `data` as TensorBoard's histogram summaries do: `bucket_count` rows of
/// `[left, right, count]`.
pub(crate) fn histogram_buckets(data: &[f64], bucket_count: usize) -> Vec<[f64; 3]> {
    if bucket_count == 0 {
        return vec![];
    }
    if data.is_empty() {
        return vec![[0.0; 3]; bucket_count];
    }
    let min = data.iter().copied().fold(f64::INFINITY, f64::min);
    let max = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = max - min;
    if range == 0.0 {
        let mut rows = vec![[min, min, 0.0]; bucket_count];
        rows[bucket_count - 1][2] = data.len() as f64;
        return rows;
    }
    let width = range / bucket_count as f64;
    let mut counts = vec![0.0; bucket_count];
    for &v in data {
        // `as usize` saturates (a NaN gives 0), so no index is out of range.
        let i = (((v - min) / width).floor() as usize).min(bucket_count - 1);
        counts[i] += 1.0;
    }
    let edge = |i: usize| {
        if i == bucket_count {
            max
        } else {
            i as f64 * width + min
        }
    };
    (0..bucket_count)
        .map(|i| [edge(i), edge(i + 1), counts[i]])
        .collect()
}

/// Seconds since the Unix epoch.
pub(crate) fn wall_time() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The machine's host name (`gethostname`), as TensorFlow puts it in event-file names;
/// `localhost` when it cannot be read.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname writes at most that many.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).replace(['/', '\\'], "_");
    if rc != 0 || name.is_empty() {
        "localhost".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows from TensorBoard's `histogram_pb` (numpy) on the same float32 data.
    #[test]
    fn buckets_match_tensorboard() {
        let data: Vec<f64> = [0.0f32, 0.1, 0.25, 1.0, -0.5, 0.3333]
            .iter()
            .map(|&v| v as f64)
            .collect();
        assert_eq!(
            histogram_buckets(&data, 4),
            vec![
                [-0.5, -0.125, 1.0],
                [-0.125, 0.25, 2.0],
                [0.25, 0.625, 2.0],
                [0.625, 1.0, 1.0]
            ]
        );
        assert_eq!(
            histogram_buckets(&[2.0; 3], 3),
            vec![[2.0, 2.0, 0.0], [2.0, 2.0, 0.0], [2.0, 2.0, 3.0]]
        );
        assert_eq!(histogram_buckets(&[], 2), vec![[0.0; 3]; 2]);
        assert!(histogram_buckets(&[1.0], 0).is_empty());
    }

    #[test]
    fn file_is_named_as_tensorflow_names_it() {
        let dir = std::env::temp_dir().join(format!("keras_tb_writer_{}", std::process::id()));
        let mut w = SummaryWriter::create(&dir).unwrap();
        w.scalar("a", 1.0, 0).unwrap();
        w.close().unwrap();
        let name = w.path().file_name().unwrap().to_str().unwrap().to_string();
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(&parts[..3], ["events", "out", "tfevents"]);
        assert_eq!(parts[3].len(), 10);
        assert!(name.ends_with(&format!(
            ".{}.{}.v2",
            std::process::id(),
            parts[parts.len() - 2]
        )));
        assert!(w.scalar("a", 1.0, 1).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
