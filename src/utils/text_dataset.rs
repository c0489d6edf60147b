//! `keras.utils.text_dataset_from_directory` (Keras's `text_dataset_utils.py`, its
//! TensorFlow pipeline). Texts travel as [`crate::ops::strings`] tensors: a batch of `n`
//! texts is a `(n, max_bytes)` `u8` tensor of their bytes, zero-padded.

use super::directory_index::{
    batch_and_prefetch, check_class_names_arg, check_validation_split_arg, index_directory,
    labels_tensor, py_list, training_or_validation_split, DirectoryDataset, LabelMode, Labels,
};
use super::random_state::draw_seed;
use crate::data::{Dataset, AUTOTUNE};
use crate::ops::{self, Tensor};
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of [`text_dataset_from_directory`], with Keras's defaults: labels inferred from
/// the sub-folders as `"int"`, batches of 32, whole files, shuffled, the "Found ..." message
/// printed.
///
/// ```
/// use keras::utils::TextDatasetArgs;
/// let args = TextDatasetArgs { max_length: Some(200), seed: Some(42), validation_split: Some(0.2), subset: Some("training"), ..Default::default() };
/// assert_eq!(args.batch_size, Some(32));
/// ```
#[derive(Clone, Debug)]
pub struct TextDatasetArgs<'a> {
    /// `Labels::Inferred` (a sub-folder per class), or a label per file (`Labels::List`).
    pub labels: Labels<'a>,
    /// `"int"` (int32 indices), `"categorical"` (float32 one-hot), `"binary"` (float32
    /// `(1,)`, exactly two classes).
    pub label_mode: &'a str,
    /// The classes to use, in this order (a subset of the sub-folders).
    pub class_names: Option<&'a [&'a str]>,
    /// Texts per batch; `None` yields single texts (`(bytes,)` tensors).
    pub batch_size: Option<usize>,
    /// Keep at most this many bytes of each file (TensorFlow's `substr` counts bytes; keras-rs
    /// also drops a UTF-8 character the cut would split).
    pub max_length: Option<usize>,
    /// Shuffle the files (Keras's order for the seed) and every epoch (a buffer of
    /// `8 * batch_size`).
    pub shuffle: bool,
    /// Seed of the shuffles; required with `validation_split` and `shuffle`.
    pub seed: Option<u64>,
    /// Fraction of the files held out for validation (the last ones after shuffling).
    pub validation_split: Option<f64>,
    /// `"training"` or `"validation"` with `validation_split` (`"both"`:
    /// [`text_dataset_from_directory_both`]).
    pub subset: Option<&'a str>,
    /// Walk into linked folders.
    pub follow_links: bool,
    /// Print Keras's "Found N files belonging to M classes." ("Using K files for ..." is
    /// printed either way, as in Keras).
    pub verbose: bool,
}

impl Default for TextDatasetArgs<'_> {
    fn default() -> Self {
        TextDatasetArgs {
            labels: Labels::Inferred,
            label_mode: "int",
            class_names: None,
            batch_size: Some(32),
            max_length: None,
            shuffle: true,
            seed: None,
            validation_split: None,
            subset: None,
            follow_links: false,
            verbose: true,
        }
    }
}

/// A labeled text dataset: `(texts, labels)` batches.
pub type TextDataset = DirectoryDataset<(Tensor, Tensor)>;

/// A dataset of `(texts, labels)` from `.txt` files in class sub-folders, as
/// `keras.utils.text_dataset_from_directory`. `texts` is a batch of strings as
/// [`ops::strings::encode`] lays them out (`(batch, max_bytes)` `u8`, the file's raw bytes
/// zero-padded; [`ops::strings::decode`] gives them back), labels as `label_mode` says.
///
/// The file order, the validation split and its messages are Keras's for the same seed; the
/// per-epoch shuffle is keras-rs's own.
///
/// ```no_run
/// use keras::utils::{text_dataset_from_directory, TextDatasetArgs};
/// let train = text_dataset_from_directory("aclImdb/train", TextDatasetArgs { seed: Some(1337), validation_split: Some(0.2), subset: Some("training"), ..Default::default() })?;
/// let (texts, labels) = train.iter()?.next().unwrap()?;
/// let first = &keras::ops::strings::decode(&texts)?[0];
/// # let _ = (first, labels);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn text_dataset_from_directory(
    directory: impl AsRef<Path>,
    args: TextDatasetArgs<'_>,
) -> Result<TextDataset> {
    if args.subset == Some("both") {
        return Err(Error::value(
            "subset=\"both\" gives two datasets: call text_dataset_from_directory_both",
        ));
    }
    if args.labels == Labels::None {
        return Err(Error::value(
            "labels=None gives a dataset of texts only: call \
             text_dataset_from_directory_unlabeled",
        ));
    }
    let mut parts = build(directory.as_ref(), &args, true)?;
    let (paths, labels) = parts.subsets.remove(0);
    parts.labeled(paths, labels, args.shuffle)
}

/// [`text_dataset_from_directory`] with `subset="both"`: the training and the validation
/// datasets (the validation one is not shuffled each epoch, as in Keras).
///
/// ```no_run
/// use keras::utils::{text_dataset_from_directory_both, TextDatasetArgs};
/// let args = TextDatasetArgs { seed: Some(1337), validation_split: Some(0.2), ..Default::default() };
/// let (train, val) = text_dataset_from_directory_both("aclImdb/train", args)?;
/// # let _ = (train, val);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn text_dataset_from_directory_both(
    directory: impl AsRef<Path>,
    args: TextDatasetArgs<'_>,
) -> Result<(TextDataset, TextDataset)> {
    let args = TextDatasetArgs {
        subset: Some("both"),
        ..args
    };
    if args.labels == Labels::None {
        return Err(Error::value(
            "labels=None gives a dataset of texts only: call \
             text_dataset_from_directory_unlabeled",
        ));
    }
    let mut parts = build(directory.as_ref(), &args, true)?;
    let (vp, vl) = parts.subsets.pop().expect("two subsets");
    let (tp, tl) = parts.subsets.pop().expect("two subsets");
    Ok((
        parts.labeled(tp, tl, args.shuffle)?,
        parts.labeled(vp, vl, false)?,
    ))
}

/// [`text_dataset_from_directory`] without labels (Keras's `labels=None` or
/// `label_mode=None`): batches of texts from every `.txt` file under `directory`, at any
/// depth.
///
/// ```no_run
/// use keras::utils::{text_dataset_from_directory_unlabeled, TextDatasetArgs};
/// let ds = text_dataset_from_directory_unlabeled("corpus", TextDatasetArgs { shuffle: false, ..Default::default() })?;
/// # let _ = ds;
/// # Ok::<(), keras::Error>(())
/// ```
pub fn text_dataset_from_directory_unlabeled(
    directory: impl AsRef<Path>,
    args: TextDatasetArgs<'_>,
) -> Result<DirectoryDataset<Tensor>> {
    if args.subset == Some("both") {
        return Err(Error::value(
            "subset=\"both\" with labels=None is not supported: call \
             text_dataset_from_directory_unlabeled once per subset",
        ));
    }
    let args = TextDatasetArgs {
        labels: Labels::None,
        ..args
    };
    let mut parts = build(directory.as_ref(), &args, false)?;
    let (paths, _) = parts.subsets.remove(0);
    let n = paths.len();
    let mut ds = Dataset::from_tensor_slices(ops::from_vec((0..n as u32).collect(), &[n])?)?;
    if args.shuffle {
        ds = ds.shuffle_with(parts.buffer, Some(parts.seed), true)?;
    }
    let batched = parts.batch_size.is_some();
    if let Some(b) = parts.batch_size {
        ds = ds.batch(b)?;
    }
    let files = Arc::new(paths.clone());
    let max_length = parts.max_length;
    let ds = ds.map_with(
        move |i: Tensor| read_texts(&files, &i, max_length, batched),
        AUTOTUNE,
    );
    Ok(DirectoryDataset {
        dataset: batch_and_prefetch(ds, None)?,
        class_names: None,
        file_paths: paths,
    })
}

/// The checked arguments and the indexed, split files.
struct Parts {
    subsets: Vec<(Vec<PathBuf>, Option<Vec<i64>>)>,
    class_names: Option<Vec<String>>,
    mode: Option<LabelMode>,
    seed: u64,
    buffer: usize,
    batch_size: Option<usize>,
    max_length: Option<usize>,
}

impl Parts {
    fn labeled(
        &self,
        paths: Vec<PathBuf>,
        labels: Option<Vec<i64>>,
        shuffle: bool,
    ) -> Result<TextDataset> {
        let labels = labels.unwrap_or_default();
        let n = paths.len();
        let num_classes = self.class_names.as_ref().map_or(0, Vec::len);
        let y = labels_tensor(&labels, self.mode.unwrap_or(LabelMode::Int), num_classes)?;
        let idx = ops::from_vec((0..n as u32).collect(), &[n])?;
        let mut ds = Dataset::from_tensor_slices((idx, y))?;
        if shuffle {
            ds = ds.shuffle_with(self.buffer, Some(self.seed), true)?;
        }
        // Batch the file numbers first: texts of a batch are padded to its longest.
        let batched = self.batch_size.is_some();
        if let Some(b) = self.batch_size {
            ds = ds.batch(b)?;
        }
        let files = Arc::new(paths.clone());
        let max_length = self.max_length;
        let ds = ds.map_with(
            move |(i, y): (Tensor, Tensor)| Ok((read_texts(&files, &i, max_length, batched)?, y)),
            AUTOTUNE,
        );
        Ok(DirectoryDataset {
            dataset: batch_and_prefetch(ds, None)?,
            class_names: self.class_names.clone(),
            file_paths: paths,
        })
    }
}

/// The files numbered by `idx` (a batch `(b,)` or one scalar) as a string tensor.
fn read_texts(
    files: &[PathBuf],
    idx: &Tensor,
    max_length: Option<usize>,
    batched: bool,
) -> Result<Tensor> {
    let idx: Vec<u32> = idx.flatten_all()?.to_vec1()?;
    let texts = idx
        .iter()
        .map(|&i| read_text(&files[i as usize], max_length))
        .collect::<Result<Vec<_>>>()?;
    let t = bytes_tensor(&texts)?;
    Ok(if batched { t } else { t.squeeze(0)? })
}

/// A file's bytes, cut to `max_length` bytes (backing off to a UTF-8 character boundary).
fn read_text(path: &Path, max_length: Option<usize>) -> Result<Vec<u8>> {
    let mut bytes = std::fs::read(path)
        .map_err(|e| Error::io(format!("cannot read text file {}", path.display()), e))?;
    if let Some(max) = max_length {
        if bytes.len() > max {
            let mut end = max;
            while end > 0 && (bytes[end] & 0xC0) == 0x80 {
                end -= 1;
            }
            bytes.truncate(end);
        }
    }
    Ok(bytes)
}

/// Byte strings laid out as [`ops::strings::encode`] lays out strings: `(n, max_bytes)`,
/// zero-padded, at least one byte wide.
fn bytes_tensor(texts: &[Vec<u8>]) -> Result<Tensor> {
    let width = texts.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut out = vec![0u8; texts.len() * width];
    for (row, t) in out.chunks_mut(width).zip(texts) {
        row[..t.len()].copy_from_slice(t);
    }
    ops::from_vec(out, &[texts.len(), width])
}

/// Keras's argument checks, `index_directory` and the split, in Keras's order.
fn build(directory: &Path, args: &TextDatasetArgs<'_>, labeled: bool) -> Result<Parts> {
    check_class_names_arg(args.labels, args.class_names)?;
    let mode = if labeled {
        Some(LabelMode::parse(args.label_mode)?)
    } else {
        None
    };
    check_validation_split_arg(args.validation_split, args.subset, args.shuffle, args.seed)?;
    let seed = args.seed.unwrap_or_else(draw_seed);
    let index = index_directory(
        directory,
        args.labels,
        &[".txt"],
        args.class_names,
        args.shuffle,
        seed,
        args.follow_links,
        args.verbose,
    )?;
    if mode == Some(LabelMode::Binary) {
        let names = index.class_names.clone().unwrap_or_default();
        if names.len() != 2 {
            return Err(Error::value(format!(
                "When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. \
                 Received: class_names={}",
                py_list(&names)
            )));
        }
    }
    let labels = index.labels.as_deref();
    let split = |subset| {
        training_or_validation_split(&index.paths, labels, args.validation_split, subset, true)
    };
    let dir = directory.display();
    let subsets = if args.subset == Some("both") {
        let (train, val) = (split("training"), split("validation"));
        if train.0.is_empty() {
            return Err(Error::value(format!(
                "No training text files found in directory {dir}. Allowed format: .txt"
            )));
        }
        if val.0.is_empty() {
            return Err(Error::value(format!(
                "No validation text files found in directory {dir}. Allowed format: .txt"
            )));
        }
        vec![train, val]
    } else {
        let one = split(args.subset.unwrap_or(""));
        if one.0.is_empty() {
            return Err(Error::value(format!(
                "No text files found in directory {dir}. Allowed format: .txt"
            )));
        }
        vec![one]
    };
    Ok(Parts {
        subsets,
        class_names: index.class_names,
        mode,
        seed,
        buffer: args.batch_size.map_or(1024, |b| b * 8),
        batch_size: args.batch_size,
        max_length: args.max_length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters() {
        let dir = std::env::temp_dir().join(format!("keras_rs_text_cut_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.txt");
        std::fs::write(&f, "caf\u{e9}!").unwrap();
        assert_eq!(read_text(&f, Some(4)).unwrap(), b"caf");
        assert_eq!(read_text(&f, Some(5)).unwrap(), "caf\u{e9}".as_bytes());
        assert_eq!(read_text(&f, None).unwrap().len(), 6);
        std::fs::remove_dir_all(&dir).unwrap();
        let t = bytes_tensor(&[b"ab".to_vec(), vec![]]).unwrap();
        assert_eq!(ops::strings::decode(&t).unwrap(), vec!["ab", ""]);
    }
}
