//! `keras.utils.image_dataset_from_directory` (Keras's `image_dataset_utils.py`, its
//! TensorFlow pipeline).

use super::directory_dataset::{
    both_labeled, check_label_args, index_and_split, one_labeled, unlabeled, DirArgs, FileKind,
    Source,
};
use super::directory_index::{DirectoryDataset, Labels};
use super::image_utils::{crop_and_resize, load_image, resize, resize_with_pad, Resample};
use crate::ops::Tensor;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file extensions Keras reads as images.
pub const ALLOWLIST_FORMATS: [&str; 5] = [".bmp", ".gif", ".jpeg", ".jpg", ".png"];

/// Arguments of [`image_dataset_from_directory`], with Keras's defaults: labels inferred
/// from the sub-folders as `"int"`, RGB, batches of 32 images of 256x256, shuffled, bilinear
/// resizing, channels last, the "Found ..." message printed.
///
/// ```
/// use keras::utils::ImageDatasetArgs;
/// let args = ImageDatasetArgs { image_size: (180, 180), seed: Some(1337), validation_split: Some(0.2), subset: Some("training"), ..Default::default() };
/// assert_eq!(args.batch_size, Some(32));
/// assert_eq!(args.color_mode, "rgb");
/// ```
#[derive(Clone, Debug)]
pub struct ImageDatasetArgs<'a> {
    /// `Labels::Inferred` (a sub-folder per class), or a label per file (`Labels::List`).
    pub labels: Labels<'a>,
    /// `"int"` (int32 indices), `"categorical"` (float32 one-hot), `"binary"` (float32
    /// `(1,)`, exactly two classes).
    pub label_mode: &'a str,
    /// The classes to use, in this order (a subset of the sub-folders); `None` is every
    /// sub-folder in sorted order.
    pub class_names: Option<&'a [&'a str]>,
    /// `"rgb"`, `"rgba"` or `"grayscale"` (3, 4 or 1 channels).
    pub color_mode: &'a str,
    /// Images per batch; `None` yields single images.
    pub batch_size: Option<usize>,
    /// `(height, width)` every image is resized to.
    pub image_size: (usize, usize),
    /// Shuffle the files (Keras's order for the seed) and every epoch (a buffer of
    /// `8 * batch_size`).
    pub shuffle: bool,
    /// Seed of the shuffles; required with `validation_split` and `shuffle`.
    pub seed: Option<u64>,
    /// Fraction of the files held out for validation (the last ones after shuffling).
    pub validation_split: Option<f64>,
    /// `"training"` or `"validation"` with `validation_split` (`"both"`:
    /// [`image_dataset_from_directory_both`]).
    pub subset: Option<&'a str>,
    /// `"bilinear"`, `"nearest"`, `"bicubic"`, `"lanczos3"` or `"lanczos5"`.
    pub interpolation: &'a str,
    /// Walk into linked folders.
    pub follow_links: bool,
    /// Resize the largest centred crop of the target's aspect ratio (no distortion).
    pub crop_to_aspect_ratio: bool,
    /// Resize to fit, keeping the aspect ratio, centred on zeros.
    pub pad_to_aspect_ratio: bool,
    /// `"channels_last"` (default, `None`) or `"channels_first"`.
    pub data_format: Option<&'a str>,
    /// Print Keras's "Found N files belonging to M classes." ("Using K files for ..." is
    /// printed either way, as in Keras).
    pub verbose: bool,
}

impl Default for ImageDatasetArgs<'_> {
    fn default() -> Self {
        ImageDatasetArgs {
            labels: Labels::Inferred,
            label_mode: "int",
            class_names: None,
            color_mode: "rgb",
            batch_size: Some(32),
            image_size: (256, 256),
            shuffle: true,
            seed: None,
            validation_split: None,
            subset: None,
            interpolation: "bilinear",
            follow_links: false,
            crop_to_aspect_ratio: false,
            pad_to_aspect_ratio: false,
            data_format: None,
            verbose: true,
        }
    }
}

/// A labeled image dataset: `(images, labels)` batches.
pub type ImageDataset = DirectoryDataset<(Tensor, Tensor)>;

/// A dataset of `(images, labels)` from image files in class sub-folders, as
/// `keras.utils.image_dataset_from_directory`: images are float32 `(batch, height, width,
/// channels)` in 0-255 (uint8 with `interpolation: "nearest"`, as TensorFlow's resize keeps
/// the dtype then), labels as `label_mode` says; `class_names` are the sub-folder names.
/// PNG, JPEG, BMP and GIF files are read (by content; the extension selects them), resized as
/// TensorFlow resizes them (see [`smart_resize`](super::smart_resize)).
///
/// The file order, the validation split and its messages are Keras's for the same seed. The
/// per-epoch shuffle is keras-rs's own (TensorFlow's shuffle buffer cannot be reproduced
/// outside TensorFlow). A file that cannot be decoded is an error naming it when its batch
/// is made.
///
/// ```no_run
/// use keras::utils::{image_dataset_from_directory, ImageDatasetArgs};
/// let args = ImageDatasetArgs { image_size: (180, 180), seed: Some(1337), validation_split: Some(0.2), subset: Some("training"), ..Default::default() };
/// let train = image_dataset_from_directory("PetImages", args)?;
/// println!("{:?}", train.class_names);
/// for batch in train.iter()? {
///     let (images, labels) = batch?;
///     assert_eq!(images.dims()[1..], [180, 180, 3]);
/// #   let _ = labels;
/// }
/// # Ok::<(), keras::Error>(())
/// ```
pub fn image_dataset_from_directory(
    directory: impl AsRef<Path>,
    args: ImageDatasetArgs<'_>,
) -> Result<ImageDataset> {
    let dir = directory.as_ref();
    one_labeled(&kind(), &args.common(), || build(dir, &args, true))
}

/// [`image_dataset_from_directory`] with `subset="both"`: the training and the validation
/// datasets (`validation_split` and, when shuffling, `seed` are required; the validation one
/// is not shuffled each epoch, as in Keras).
///
/// ```no_run
/// use keras::utils::{image_dataset_from_directory_both, ImageDatasetArgs};
/// let args = ImageDatasetArgs { seed: Some(1337), validation_split: Some(0.2), ..Default::default() };
/// let (train, val) = image_dataset_from_directory_both("PetImages", args)?;
/// # let _ = (train, val);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn image_dataset_from_directory_both(
    directory: impl AsRef<Path>,
    args: ImageDatasetArgs<'_>,
) -> Result<(ImageDataset, ImageDataset)> {
    let args = ImageDatasetArgs {
        subset: Some("both"),
        ..args
    };
    let dir = directory.as_ref();
    both_labeled(&kind(), &args.common(), || build(dir, &args, true))
}

/// [`image_dataset_from_directory`] without labels (Keras's `labels=None` or
/// `label_mode=None`): batches of images, every image file under `directory` at any depth
/// (sub-folders are not classes, so hidden ones are read too, as in Keras). `labels`,
/// `label_mode` are ignored; `class_names` must be `None`.
///
/// ```no_run
/// use keras::utils::{image_dataset_from_directory_unlabeled, ImageDatasetArgs};
/// let ds = image_dataset_from_directory_unlabeled("photos", ImageDatasetArgs { shuffle: false, ..Default::default() })?;
/// assert!(ds.class_names.is_none());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn image_dataset_from_directory_unlabeled(
    directory: impl AsRef<Path>,
    args: ImageDatasetArgs<'_>,
) -> Result<DirectoryDataset<Tensor>> {
    let dir = directory.as_ref();
    unlabeled(&kind(), &args.common(), || {
        let args = ImageDatasetArgs {
            labels: Labels::None,
            ..args.clone()
        };
        build(dir, &args, false)
    })
}

impl ImageDatasetArgs<'_> {
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
    let quoted: Vec<String> = ALLOWLIST_FORMATS.iter().map(|f| format!("'{f}'")).collect();
    FileKind {
        function: "image_dataset_from_directory",
        items: "images",
        files: "images",
        formats: &ALLOWLIST_FORMATS,
        allowed: format!("Allowed formats: ({})", quoted.join(", ")),
    }
}

/// How one file becomes an image tensor.
struct Loader {
    channels: usize,
    size: (usize, usize),
    method: Resample,
    crop: bool,
    pad: bool,
    channels_first: bool,
}

impl Loader {
    fn load(&self, path: &Path) -> Result<Tensor> {
        let img = load_image(path, self.channels)?;
        let (h, w) = self.size;
        let img = if self.crop {
            crop_and_resize(&img, h, w, self.method)?
        } else if self.pad {
            resize_with_pad(&img, h, w, self.method)?
        } else {
            resize(&img, h, w, self.method)?
        };
        let mut t = img.into_tensor()?;
        if self.method == Resample::Nearest {
            // tf.image.resize keeps the input dtype for nearest-neighbour sampling.
            t = t.to_dtype(crate::ops::DType::U8)?;
        }
        Ok(if self.channels_first {
            t.permute((2, 0, 1))?.contiguous()?
        } else {
            t
        })
    }
}

/// Keras's argument checks, `index_directory` and the split, in Keras's order, and the
/// image loader.
fn build(directory: &Path, args: &ImageDatasetArgs<'_>, labeled: bool) -> Result<Source> {
    let common = args.common();
    let mode = check_label_args(&common, args.label_mode, labeled)?;
    let channels = match args.color_mode {
        "rgb" => 3,
        "rgba" => 4,
        "grayscale" => 1,
        other => {
            return Err(Error::value(format!(
                "`color_mode` must be one of {{\"rgb\", \"rgba\", \"grayscale\"}}. Received: \
                 color_mode={other}"
            )))
        }
    };
    let (h, w) = args.image_size;
    if h == 0 || w == 0 {
        return Err(Error::value(format!(
            "Invalid `image_size` value. Expected a tuple of 2 positive integers. Received: \
             image_size=({h}, {w})"
        )));
    }
    let method = Resample::parse(args.interpolation)?;
    let channels_first = match args.data_format.unwrap_or("channels_last") {
        "channels_last" => false,
        "channels_first" => true,
        other => {
            return Err(Error::value(format!(
                "The `data_format` argument must be one of {{'channels_first', \
                 'channels_last'}}. Received: data_format={other}"
            )))
        }
    };
    if args.crop_to_aspect_ratio && args.pad_to_aspect_ratio {
        return Err(Error::value(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.",
        ));
    }
    let split = index_and_split(directory, &common, &kind(), mode)?;
    let loader = Loader {
        channels,
        size: args.image_size,
        method,
        crop: args.crop_to_aspect_ratio,
        pad: args.pad_to_aspect_ratio,
        channels_first,
    };
    let load =
        move |files: &[PathBuf], i: &Tensor| loader.load(&files[i.to_vec0::<u32>()? as usize]);
    Ok(Source {
        split,
        load: Arc::new(load),
        batch_first: false,
    })
}
