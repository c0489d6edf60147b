//! `keras.utils.text_dataset_from_directory` (Keras's `text_dataset_utils.py`, its
//! TensorFlow pipeline). Texts travel as [`crate::ops::strings`] tensors: a batch of `n`
//! texts is a `(n, max_bytes)` `u8` tensor of their bytes, zero-padded.

use super::directory_dataset::{
    both_labeled, check_label_args, index_and_split, one_labeled, unlabeled, DirArgs, FileKind,
    Source,
};
use super::directory_index::{DirectoryDataset, Labels};
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
    let dir = directory.as_ref();
    one_labeled(&kind(), &args.common(), || build(dir, &args, true))
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
    let dir = directory.as_ref();
    both_labeled(&kind(), &args.common(), || build(dir, &args, true))
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
    let dir = directory.as_ref();
    unlabeled(&kind(), &args.common(), || {
        let args = TextDatasetArgs {
            labels: Labels::None,
            ..args.clone()
        };
        build(dir, &args, false)
    })
}

impl TextDatasetArgs<'_> {
    fn common(&self) -> DirArgs<'_> {
        DirArgs {
            labels: self.labels,
            class_names: self.class_names,
            batch_size: self.batch_size,
            shuffle: self.shuffle,
            seed: self.seed,
            validation_split: self.validation_split,
            subset: self.subset,
            follow_links: self.follow_links,
            verbose: self.verbose,
        }
    }
}

fn kind() -> FileKind<'static> {
    FileKind {
        function: "text_dataset_from_directory",
        items: "texts",
        files: "text files",
        formats: &[".txt"],
        allowed: "Allowed format: .txt".to_string(),
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

/// Keras's argument checks, `index_directory` and the split, in Keras's order, and the
/// text reader (the file numbers are batched first: texts of a batch are padded to its
/// longest).
fn build(directory: &Path, args: &TextDatasetArgs<'_>, labeled: bool) -> Result<Source> {
    let common = args.common();
    let mode = check_label_args(&common, args.label_mode, labeled)?;
    let split = index_and_split(directory, &common, &kind(), mode)?;
    let (max_length, batched) = (args.max_length, args.batch_size.is_some());
    let load = move |files: &[PathBuf], i: &Tensor| read_texts(files, i, max_length, batched);
    Ok(Source {
        split,
        load: Arc::new(load),
        batch_first: true,
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
