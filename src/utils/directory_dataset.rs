//! The dataset-building half shared by `image_dataset_from_directory` and
//! `text_dataset_from_directory`: the argument checks both make, indexing and splitting the
//! files ([`Split`]), and turning a subset of files into a shuffled, batched dataset.

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

/// The arguments image and text directory datasets share.
pub(crate) struct DirArgs<'a> {
    pub labels: Labels<'a>,
    pub class_names: Option<&'a [&'a str]>,
    pub batch_size: Option<usize>,
    pub shuffle: bool,
    pub seed: Option<u64>,
    pub validation_split: Option<f64>,
    pub subset: Option<&'a str>,
    pub follow_links: bool,
    pub verbose: bool,
}

/// What kind of files a directory dataset reads, for indexing and for the messages.
pub(crate) struct FileKind<'a> {
    /// The function's name (`image_dataset_from_directory`), for "call ..._both" hints.
    pub function: &'a str,
    /// What the unlabeled dataset yields (`"images"`, `"texts"`).
    pub items: &'a str,
    /// The files in "No ... found" errors (`"images"`, `"text files"`).
    pub files: &'a str,
    /// The extensions read.
    pub formats: &'a [&'a str],
    /// The end of "No ... found" errors (`"Allowed format: .txt"`).
    pub allowed: String,
}

/// A labeled entry point's checks: `subset="both"` (unless `both`) and `labels=None` have
/// their own functions.
fn check_labeled_call(kind: &FileKind<'_>, args: &DirArgs<'_>, both: bool) -> Result<()> {
    if !both && args.subset == Some("both") {
        return Err(Error::value(format!(
            "subset=\"both\" gives two datasets: call {}_both",
            kind.function
        )));
    }
    if args.labels == Labels::None {
        return Err(Error::value(format!(
            "labels=None gives a dataset of {} only: call {}_unlabeled",
            kind.items, kind.function
        )));
    }
    Ok(())
}

/// The unlabeled entry point's check: no `subset="both"`.
fn check_unlabeled_call(kind: &FileKind<'_>, args: &DirArgs<'_>) -> Result<()> {
    if args.subset == Some("both") {
        return Err(Error::value(format!(
            "subset=\"both\" with labels=None is not supported: call {}_unlabeled once per \
             subset",
            kind.function
        )));
    }
    Ok(())
}

/// A checked, split directory and how its files are read.
pub(crate) struct Source {
    pub split: Split,
    /// Reads the files numbered by an index tensor.
    pub load: Arc<LoadFn>,
    /// Batch the file numbers before `load` (texts, padded per batch), or batch what it
    /// gives (images).
    pub batch_first: bool,
}

/// A labeled dataset of one subset: the entry-point checks, then `source` (the argument
/// checks, the index and the split).
pub(crate) fn one_labeled(
    kind: &FileKind<'_>,
    args: &DirArgs<'_>,
    source: impl FnOnce() -> Result<Source>,
) -> Result<DirectoryDataset<(Tensor, Tensor)>> {
    check_labeled_call(kind, args, false)?;
    let Source {
        mut split,
        load,
        batch_first,
    } = source()?;
    let (paths, labels) = split.one();
    split.labeled(paths, labels, args.shuffle, batch_first, load)
}

/// The training and validation datasets of `subset="both"` (`args` has that subset); the
/// validation one is not shuffled each epoch.
#[allow(clippy::type_complexity)]
pub(crate) fn both_labeled(
    kind: &FileKind<'_>,
    args: &DirArgs<'_>,
    source: impl FnOnce() -> Result<Source>,
) -> Result<(
    DirectoryDataset<(Tensor, Tensor)>,
    DirectoryDataset<(Tensor, Tensor)>,
)> {
    check_labeled_call(kind, args, true)?;
    let Source {
        mut split,
        load,
        batch_first,
    } = source()?;
    let ((tp, tl), (vp, vl)) = split.both();
    let train = split.labeled(tp, tl, args.shuffle, batch_first, load.clone())?;
    let val = split.labeled(vp, vl, false, batch_first, load)?;
    Ok((train, val))
}

/// An unlabeled dataset (`source` is built with `labels=None`).
pub(crate) fn unlabeled(
    kind: &FileKind<'_>,
    args: &DirArgs<'_>,
    source: impl FnOnce() -> Result<Source>,
) -> Result<DirectoryDataset<Tensor>> {
    check_unlabeled_call(kind, args)?;
    let Source {
        mut split,
        load,
        batch_first,
    } = source()?;
    let (paths, _) = split.one();
    split.unlabeled(paths, args.shuffle, batch_first, load)
}

/// Keras's first checks: `class_names` only with inferred labels, then `label_mode` (when
/// `labeled`).
pub(crate) fn check_label_args(
    args: &DirArgs<'_>,
    label_mode: &str,
    labeled: bool,
) -> Result<Option<LabelMode>> {
    check_class_names_arg(args.labels, args.class_names)?;
    labeled.then(|| LabelMode::parse(label_mode)).transpose()
}

/// The indexed files, split into the asked subsets (one, or training and validation).
pub(crate) struct Split {
    pub subsets: Vec<(Vec<PathBuf>, Option<Vec<i64>>)>,
    pub class_names: Option<Vec<String>>,
    pub mode: Option<LabelMode>,
    pub seed: u64,
    pub buffer: usize,
    pub batch_size: Option<usize>,
}

/// Loads the files numbered by an index tensor (a scalar, or a `(b,)` batch when the
/// numbers are batched first).
pub(crate) type LoadFn = dyn Fn(&[PathBuf], &Tensor) -> Result<Tensor> + Send + Sync;

/// Keras's split checks, `index_directory`, the binary-classes check and the split, in
/// Keras's order.
pub(crate) fn index_and_split(
    directory: &Path,
    args: &DirArgs<'_>,
    kind: &FileKind<'_>,
    mode: Option<LabelMode>,
) -> Result<Split> {
    check_validation_split_arg(args.validation_split, args.subset, args.shuffle, args.seed)?;
    let seed = args.seed.unwrap_or_else(draw_seed);
    let index = index_directory(
        directory,
        args.labels,
        kind.formats,
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
    // Keras prints "Using ..." whatever `verbose` says.
    let split = |subset| {
        training_or_validation_split(&index.paths, labels, args.validation_split, subset, true)
    };
    let dir = directory.display();
    let none_found = |which: &str| {
        Error::value(format!(
            "No {which}{} found in directory {dir}. {}",
            kind.files, kind.allowed
        ))
    };
    let subsets = if args.subset == Some("both") {
        let (train, val) = (split("training"), split("validation"));
        if train.0.is_empty() {
            return Err(none_found("training "));
        }
        if val.0.is_empty() {
            return Err(none_found("validation "));
        }
        vec![train, val]
    } else {
        let one = split(args.subset.unwrap_or(""));
        if one.0.is_empty() {
            return Err(none_found(""));
        }
        vec![one]
    };
    Ok(Split {
        subsets,
        class_names: index.class_names,
        mode,
        seed,
        buffer: args.batch_size.map_or(1024, |b| b * 8),
        batch_size: args.batch_size,
    })
}

impl Split {
    /// The one subset asked for.
    pub fn one(&mut self) -> (Vec<PathBuf>, Option<Vec<i64>>) {
        self.subsets.remove(0)
    }

    /// The training and the validation subsets (`subset="both"`).
    #[allow(clippy::type_complexity)]
    pub fn both(
        &mut self,
    ) -> (
        (Vec<PathBuf>, Option<Vec<i64>>),
        (Vec<PathBuf>, Option<Vec<i64>>),
    ) {
        let val = self.subsets.pop().expect("two subsets");
        let train = self.subsets.pop().expect("two subsets");
        (train, val)
    }

    /// `(inputs, labels)` of `paths`: file numbers and labels, shuffled when `shuffle`, then
    /// loaded and batched (`batch_first`: the numbers are batched before `load`, which then
    /// gets a batch of them).
    pub fn labeled(
        &self,
        paths: Vec<PathBuf>,
        labels: Option<Vec<i64>>,
        shuffle: bool,
        batch_first: bool,
        load: Arc<LoadFn>,
    ) -> Result<DirectoryDataset<(Tensor, Tensor)>> {
        let labels = labels.unwrap_or_default();
        let num_classes = self.class_names.as_ref().map_or(0, Vec::len);
        let y = labels_tensor(&labels, self.mode.unwrap_or(LabelMode::Int), num_classes)?;
        let ds = self.numbers((self.indices(paths.len())?, y), shuffle, batch_first)?;
        let files = Arc::new(paths.clone());
        let ds = ds.map_with(
            move |(i, y): (Tensor, Tensor)| Ok((load(&files, &i)?, y)),
            AUTOTUNE,
        );
        self.finish(ds, batch_first, self.class_names.clone(), paths)
    }

    /// The inputs alone, as [`Split::labeled`] makes them.
    pub fn unlabeled(
        &self,
        paths: Vec<PathBuf>,
        shuffle: bool,
        batch_first: bool,
        load: Arc<LoadFn>,
    ) -> Result<DirectoryDataset<Tensor>> {
        let ds = self.numbers(self.indices(paths.len())?, shuffle, batch_first)?;
        let files = Arc::new(paths.clone());
        let ds = ds.map_with(move |i: Tensor| load(&files, &i), AUTOTUNE);
        self.finish(ds, batch_first, None, paths)
    }

    fn indices(&self, n: usize) -> Result<Tensor> {
        ops::from_vec((0..n as u32).collect(), &[n])
    }

    fn numbers<S: crate::data::Structure>(
        &self,
        data: S,
        shuffle: bool,
        batch_first: bool,
    ) -> Result<Dataset<S>> {
        let mut ds = Dataset::from_tensor_slices(data)?;
        if shuffle {
            ds = ds.shuffle_with(self.buffer, Some(self.seed), true)?;
        }
        match self.batch_size {
            Some(b) if batch_first => ds.batch(b),
            _ => Ok(ds),
        }
    }

    fn finish<S: crate::data::Structure>(
        &self,
        ds: Dataset<S>,
        batch_first: bool,
        class_names: Option<Vec<String>>,
        file_paths: Vec<PathBuf>,
    ) -> Result<DirectoryDataset<S>> {
        let batch = if batch_first { None } else { self.batch_size };
        Ok(DirectoryDataset {
            dataset: batch_and_prefetch(ds, batch)?,
            class_names,
            file_paths,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(subset: Option<&str>, labels: Labels<'static>) -> DirArgs<'static> {
        DirArgs {
            labels,
            class_names: None,
            batch_size: Some(2),
            shuffle: false,
            seed: None,
            validation_split: None,
            subset: subset.map(|s| Box::leak(s.to_string().into_boxed_str()) as &str),
            follow_links: false,
            verbose: false,
        }
    }

    #[test]
    fn entry_point_messages_name_the_function() {
        let kind = FileKind {
            function: "text_dataset_from_directory",
            items: "texts",
            files: "text files",
            formats: &[".txt"],
            allowed: "Allowed format: .txt".into(),
        };
        let e = check_labeled_call(&kind, &args(Some("both"), Labels::Inferred), false);
        assert_eq!(
            e.unwrap_err().to_string(),
            "subset=\"both\" gives two datasets: call text_dataset_from_directory_both"
        );
        assert!(check_labeled_call(&kind, &args(Some("both"), Labels::Inferred), true).is_ok());
        let e = check_labeled_call(&kind, &args(None, Labels::None), true).unwrap_err();
        assert!(e.to_string().ends_with(
            "labels=None gives a dataset of texts only: call text_dataset_from_directory_unlabeled"
        ));
        let e = check_unlabeled_call(&kind, &args(Some("both"), Labels::None)).unwrap_err();
        assert!(e
            .to_string()
            .contains("call text_dataset_from_directory_unlabeled once per"));
    }
}
