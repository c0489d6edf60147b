//! The directory side of Keras's `dataset_utils.py`, shared by `image_dataset_from_directory`
//! and `text_dataset_from_directory`: listing the files of a directory with their labels
//! (`index_directory`), the validation-split checks and the split itself, labels as tensors,
//! and the [`DirectoryDataset`] these functions return.

use super::random_state::RandomState;
use crate::data::{Dataset, Structure, AUTOTUNE};
use crate::ops::{self, Tensor};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Where the labels of a directory dataset come from (Keras's `labels` argument).
///
/// ```
/// use keras::utils::Labels;
/// assert_eq!(Labels::default(), Labels::Inferred);
/// let manual = Labels::List(&[0, 1, 1, 0]);
/// # let _ = manual;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Labels<'a> {
    /// From the sub-folder names: a folder per class, classes in sorted order (`"inferred"`).
    #[default]
    Inferred,
    /// One integer label per file, in the sorted order of the file paths (a list).
    List(&'a [i64]),
    /// No labels (`None`): only the `_unlabeled` functions take it.
    None,
}

/// A dataset made from a directory, with what Keras attaches to it: `class_names` (`None`
/// without labels) and `file_paths` (in the order of the dataset before its per-epoch
/// shuffle). It dereferences to its [`Dataset`] and converts into one.
#[derive(Clone, Debug)]
pub struct DirectoryDataset<T> {
    /// The elements: `(inputs, labels)` batches, or inputs alone without labels.
    pub dataset: Dataset<T>,
    /// The class names, label `i` being `class_names[i]`.
    pub class_names: Option<Vec<String>>,
    /// The files, `directory` joined with their relative path.
    pub file_paths: Vec<PathBuf>,
}

impl<T> std::ops::Deref for DirectoryDataset<T> {
    type Target = Dataset<T>;
    fn deref(&self) -> &Dataset<T> {
        &self.dataset
    }
}

impl<T> From<DirectoryDataset<T>> for Dataset<T> {
    fn from(d: DirectoryDataset<T>) -> Dataset<T> {
        d.dataset
    }
}

/// The files found by [`index_directory`], in Keras's order.
pub(crate) struct Index {
    pub paths: Vec<PathBuf>,
    pub labels: Option<Vec<i64>>,
    pub class_names: Option<Vec<String>>,
}

/// Keras's `index_directory`: the files under `directory` whose lower-cased name ends with
/// one of `formats`, with their labels and class names, sorted (class, then folder, then
/// name), then shuffled with NumPy's `RandomState(seed)` when `shuffle` (Keras's order for the
/// same seed). Prints Keras's "Found N files belonging to M classes." when `verbose`.
pub(crate) fn index_directory(
    directory: &Path,
    labels: Labels<'_>,
    formats: &[&str],
    class_names: Option<&[&str]>,
    shuffle: bool,
    seed: u64,
    follow_links: bool,
    verbose: bool,
) -> Result<Index> {
    let subdirs: Vec<String> = if labels == Labels::Inferred {
        let mut found = Vec::new();
        for name in sorted_entries(directory)? {
            let text = name.to_string_lossy().into_owned();
            if directory.join(&name).is_dir() && !text.starts_with('.') {
                found.push(text);
            }
        }
        match class_names {
            Some(given) => {
                if !given.iter().all(|c| found.iter().any(|f| f == c)) {
                    return Err(Error::value(format!(
                        "The `class_names` passed did not match the names of the \
                         subdirectories of the target directory. Expected: {} (or a subset of \
                         it), but received: class_names={}",
                        py_list(&found),
                        py_list(given)
                    )));
                }
                given.iter().map(|s| s.to_string()).collect()
            }
            None => found,
        }
    } else {
        if class_names.is_some() {
            return Err(Error::value(if labels == Labels::None {
                "When `labels=None` (no labels), argument `class_names` cannot be specified."
            } else {
                "When argument `labels` is specified, argument `class_names` cannot be \
                 specified (the `class_names` will be the sorted list of labels)."
            }));
        }
        vec![String::new()]
    };
    let mut paths = Vec::new();
    let mut inferred = Vec::new();
    for (class, sub) in subdirs.iter().enumerate() {
        let root = if sub.is_empty() {
            directory.to_path_buf()
        } else {
            directory.join(sub)
        };
        for file in valid_files(&root, follow_links, formats) {
            paths.push(file);
            inferred.push(class as i64);
        }
    }
    let (labels, class_names) = match labels {
        Labels::Inferred => (Some(inferred), Some(subdirs)),
        Labels::None => (None, None),
        Labels::List(given) => {
            if given.len() != paths.len() {
                return Err(Error::value(format!(
                    "Expected the lengths of `labels` to match the number of files in the \
                     target directory. len(labels) is {} while we found {} files in directory \
                     {}.",
                    given.len(),
                    paths.len(),
                    directory.display()
                )));
            }
            let mut names = given.to_vec();
            names.sort_unstable();
            names.dedup();
            let names = names.iter().map(|l| l.to_string()).collect();
            (Some(given.to_vec()), Some(names))
        }
    };
    if verbose {
        match &class_names {
            None => println!("Found {} files.", paths.len()),
            Some(c) => println!(
                "Found {} files belonging to {} classes.",
                paths.len(),
                c.len()
            ),
        }
    }
    let mut labels = labels;
    if shuffle {
        let seed = u32::try_from(seed)
            .map_err(|_| Error::value("Seed must be between 0 and 2**32 - 1"))?;
        RandomState::new(seed).shuffle(&mut paths);
        if let Some(l) = labels.as_mut() {
            RandomState::new(seed).shuffle(l);
        }
    }
    Ok(Index {
        paths,
        labels,
        class_names,
    })
}

/// A Python list repr of strings: `['a', 'b']`.
pub(crate) fn py_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{}'", s.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

/// The names in `dir`, sorted (Python's `sorted(os.listdir(dir))`).
fn sorted_entries(dir: &Path) -> Result<Vec<std::ffi::OsString>> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list the directory {}", dir.display()), e))?;
    let mut names: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    names.sort();
    Ok(names)
}

/// Keras's `iter_valid_files`: `os.walk(root)` (into linked folders only with
/// `follow_links`), folders in sorted path order, files sorted by name, kept when their
/// lower-cased name ends with one of `formats`. Unreadable folders are skipped, as `os.walk`
/// does.
fn valid_files(root: &Path, follow_links: bool, formats: &[&str]) -> Vec<PathBuf> {
    let mut folders: Vec<(String, PathBuf, Vec<String>)> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files = Vec::new();
        for entry in rd.filter_map(|e| e.ok()) {
            let path = entry.path();
            let is_link = entry.file_type().map(|t| t.is_symlink()).unwrap_or(false);
            if path.is_dir() {
                if !is_link || follow_links {
                    stack.push(path);
                }
            } else {
                files.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        files.sort();
        folders.push((dir.to_string_lossy().into_owned(), dir, files));
    }
    folders.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for (_, dir, files) in folders {
        for f in files {
            let lower = f.to_lowercase();
            if formats.iter().any(|ext| lower.ends_with(ext)) {
                out.push(dir.join(f));
            }
        }
    }
    out
}

/// Keras's check that `class_names` comes only with inferred labels.
pub(crate) fn check_class_names_arg(
    labels: Labels<'_>,
    class_names: Option<&[&str]>,
) -> Result<()> {
    if let Labels::List(given) = labels {
        if let Some(names) = class_names.filter(|c| !c.is_empty()) {
            let labels: Vec<String> = given.iter().map(|l| l.to_string()).collect();
            return Err(Error::value(format!(
                "You can only pass `class_names` if `labels=\"inferred\"`. Received: \
                 labels=[{}], and class_names={}",
                labels.join(", "),
                py_list(names)
            )));
        }
    }
    Ok(())
}

/// `dataset.batch(batch_size)` when batching, then `prefetch(AUTOTUNE)`.
pub(crate) fn batch_and_prefetch<S: Structure>(
    ds: Dataset<S>,
    batch_size: Option<usize>,
) -> Result<Dataset<S>> {
    let ds = match batch_size {
        Some(b) => ds.batch(b)?,
        None => ds,
    };
    ds.prefetch(AUTOTUNE)
}

/// Keras's `check_validation_split_arg`.
pub(crate) fn check_validation_split_arg(
    validation_split: Option<f64>,
    subset: Option<&str>,
    shuffle: bool,
    seed: Option<u64>,
) -> Result<()> {
    let split = validation_split.filter(|v| *v != 0.0);
    if let Some(v) = split {
        if !(v > 0.0 && v < 1.0) {
            return Err(Error::value(format!(
                "`validation_split` must be between 0 and 1, received: {v:?}"
            )));
        }
    }
    let subset = subset.filter(|s| !s.is_empty());
    if split.is_some() != subset.is_some() {
        return Err(Error::value(
            "If `subset` is set, `validation_split` must be set, and inversely.",
        ));
    }
    if let Some(s) = subset {
        if !matches!(s, "training" | "validation" | "both") {
            return Err(Error::value(format!(
                "`subset` must be either \"training\", \"validation\" or \"both\", received: {s}"
            )));
        }
    }
    if split.is_some() && shuffle && seed.is_none() {
        return Err(Error::value(
            "If using `validation_split` and shuffling the data, you must provide a `seed` \
             argument, to make sure that there is no overlap between the training and \
             validation subset.",
        ));
    }
    Ok(())
}

/// Keras's `get_training_or_validation_split`: the validation subset is the last
/// `int(validation_split * n)` files, training the others (printing "Using K files for
/// training."). As in Keras, a split of zero files gives no training files and every file
/// for validation (Python's `[:-0]` and `[-0:]`).
pub(crate) fn training_or_validation_split(
    paths: &[PathBuf],
    labels: Option<&[i64]>,
    validation_split: Option<f64>,
    subset: &str,
    verbose: bool,
) -> (Vec<PathBuf>, Option<Vec<i64>>) {
    let Some(split) = validation_split.filter(|v| *v != 0.0) else {
        return (paths.to_vec(), labels.map(<[i64]>::to_vec));
    };
    let n = paths.len();
    let num_val = (split * n as f64) as usize;
    let range = if subset == "training" {
        if verbose {
            println!("Using {} files for training.", n - num_val);
        }
        if num_val == 0 {
            0..0
        } else {
            0..n - num_val
        }
    } else {
        if verbose {
            println!("Using {num_val} files for validation.");
        }
        if num_val == 0 {
            0..n
        } else {
            n - num_val..n
        }
    };
    (
        paths[range.clone()].to_vec(),
        labels.map(|l| l[range].to_vec()),
    )
}

/// What the labels of a directory dataset look like (`label_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelMode {
    /// int32 class indices, shape `()`.
    Int,
    /// float32 one-hot vectors, shape `(num_classes,)` (out-of-range labels all zeros, as
    /// `tf.one_hot`).
    Categorical,
    /// float32 `0.` / `1.`, shape `(1,)`.
    Binary,
}

impl LabelMode {
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "int" => LabelMode::Int,
            "categorical" => LabelMode::Categorical,
            "binary" => LabelMode::Binary,
            other => {
                return Err(Error::value(format!(
                    "`label_mode` argument must be one of \"int\", \"categorical\", \
                     \"binary\", or None. Received: label_mode={other}"
                )))
            }
        })
    }
}

/// The labels as one tensor of `labels.len()` rows, encoded as `mode` asks
/// (`labels_to_dataset_tf`).
pub(crate) fn labels_tensor(labels: &[i64], mode: LabelMode, num_classes: usize) -> Result<Tensor> {
    let n = labels.len();
    match mode {
        LabelMode::Int => ops::from_vec(labels.iter().map(|&l| l as i32).collect(), &[n]),
        LabelMode::Binary => ops::from_vec(labels.iter().map(|&l| l as f32).collect(), &[n, 1]),
        LabelMode::Categorical => {
            let mut v = vec![0f32; n * num_classes];
            for (i, &l) in labels.iter().enumerate() {
                if l >= 0 && (l as usize) < num_classes {
                    v[i * num_classes + l as usize] = 1.0;
                }
            }
            ops::from_vec(v, &[n, num_classes])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_checks_follow_keras() {
        let e = |v, s, sh, seed| {
            check_validation_split_arg(v, s, sh, seed)
                .unwrap_err()
                .to_string()
        };
        assert!(e(Some(1.5), Some("training"), false, None).contains("received: 1.5"));
        assert!(e(Some(0.2), None, false, None).starts_with("If `subset` is set"));
        assert!(e(None, Some("training"), false, None).starts_with("If `subset` is set"));
        assert!(e(Some(0.2), Some("train"), false, None).ends_with("received: train"));
        assert!(e(Some(0.2), Some("both"), true, None).contains("provide a `seed`"));
        assert!(check_validation_split_arg(Some(0.0), None, true, None).is_ok());
    }

    #[test]
    fn zero_validation_files_is_pythons_slicing() {
        let p: Vec<PathBuf> = (0..5).map(|i| PathBuf::from(i.to_string())).collect();
        let (t, _) = training_or_validation_split(&p, None, Some(0.1), "training", false);
        assert!(t.is_empty());
        let (v, _) = training_or_validation_split(&p, None, Some(0.1), "validation", false);
        assert_eq!(v.len(), 5);
        let (v, _) = training_or_validation_split(&p, None, Some(0.4), "validation", false);
        assert_eq!(v, p[3..]);
    }

    #[test]
    fn label_encodings() {
        let c = labels_tensor(&[0, 2, 5], LabelMode::Categorical, 3).unwrap();
        assert_eq!(
            c.to_vec2::<f32>().unwrap(),
            vec![vec![1., 0., 0.], vec![0., 0., 1.], vec![0., 0., 0.]]
        );
        let b = labels_tensor(&[0, 1], LabelMode::Binary, 2).unwrap();
        assert_eq!(b.dims(), &[2, 1]);
        assert!(LabelMode::parse("sparse")
            .unwrap_err()
            .to_string()
            .ends_with("label_mode=sparse"));
    }
}
