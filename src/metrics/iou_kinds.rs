//! The five classes of the IoU family as marker types of [`IoUMetric`](super::iou_metrics::IoUMetric):
//! each one's Keras class name, default name, config keys and fixed arguments.

/// One class of the family: its name, config keys and fixed arguments.
pub trait IoUKind: Send + 'static {
    /// Keras's class name.
    const CLASS: &'static str;
    /// The default metric name.
    const NAME: &'static str;
    /// The keys of its config, in Keras's order (`name` and `dtype` among them).
    const KEYS: &'static [&'static str];
    /// Labels are class ids (else one-hot, arg-maxed over `axis`), unless configured.
    const SPARSE_Y_TRUE: bool;
    /// Predictions are class ids (else scores, arg-maxed over `axis`), unless configured.
    const SPARSE_Y_PRED: bool;
    /// Every class is a target (`MeanIoU`).
    const MEAN: bool;
    /// Two classes, predictions thresholded (`BinaryIoU`).
    const BINARY: bool;
}

/// Marks [`IoU`](super::IoU).
#[derive(Clone, Copy, Debug)]
pub struct TargetIoU;
impl IoUKind for TargetIoU {
    const CLASS: &'static str = "IoU";
    const NAME: &'static str = "io_u";
    const KEYS: &'static [&'static str] = &[
        "name",
        "dtype",
        "num_classes",
        "target_class_ids",
        "ignore_class",
        "sparse_y_true",
        "sparse_y_pred",
        "axis",
    ];
    const SPARSE_Y_TRUE: bool = true;
    const SPARSE_Y_PRED: bool = true;
    const MEAN: bool = false;
    const BINARY: bool = false;
}

/// Marks [`MeanIoU`](super::MeanIoU).
#[derive(Clone, Copy, Debug)]
pub struct AllClassesIoU;
impl IoUKind for AllClassesIoU {
    const CLASS: &'static str = "MeanIoU";
    const NAME: &'static str = "mean_io_u";
    const KEYS: &'static [&'static str] = &[
        "num_classes",
        "name",
        "dtype",
        "ignore_class",
        "sparse_y_true",
        "sparse_y_pred",
        "axis",
    ];
    const SPARSE_Y_TRUE: bool = true;
    const SPARSE_Y_PRED: bool = true;
    const MEAN: bool = true;
    const BINARY: bool = false;
}

/// Marks [`BinaryIoU`](super::BinaryIoU).
#[derive(Clone, Copy, Debug)]
pub struct ThresholdIoU;
impl IoUKind for ThresholdIoU {
    const CLASS: &'static str = "BinaryIoU";
    const NAME: &'static str = "binary_io_u";
    const KEYS: &'static [&'static str] = &["target_class_ids", "threshold", "name", "dtype"];
    const SPARSE_Y_TRUE: bool = true;
    const SPARSE_Y_PRED: bool = true;
    const MEAN: bool = false;
    const BINARY: bool = true;
}

/// Marks [`OneHotIoU`](super::OneHotIoU).
#[derive(Clone, Copy, Debug)]
pub struct OneHotTargetIoU;
impl IoUKind for OneHotTargetIoU {
    const CLASS: &'static str = "OneHotIoU";
    const NAME: &'static str = "one_hot_io_u";
    const KEYS: &'static [&'static str] = &[
        "num_classes",
        "target_class_ids",
        "name",
        "dtype",
        "ignore_class",
        "sparse_y_pred",
        "axis",
    ];
    const SPARSE_Y_TRUE: bool = false;
    const SPARSE_Y_PRED: bool = false;
    const MEAN: bool = false;
    const BINARY: bool = false;
}

/// Marks [`OneHotMeanIoU`](super::OneHotMeanIoU).
#[derive(Clone, Copy, Debug)]
pub struct OneHotAllClassesIoU;
impl IoUKind for OneHotAllClassesIoU {
    const CLASS: &'static str = "OneHotMeanIoU";
    const NAME: &'static str = "one_hot_mean_io_u";
    const KEYS: &'static [&'static str] = &[
        "num_classes",
        "name",
        "dtype",
        "ignore_class",
        "sparse_y_pred",
        "axis",
    ];
    const SPARSE_Y_TRUE: bool = false;
    const SPARSE_Y_PRED: bool = false;
    const MEAN: bool = true;
    const BINARY: bool = false;
}
