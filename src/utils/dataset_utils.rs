//! `keras.utils.split_dataset` (Keras's `dataset_utils.py`; the directory indexing that file
//! also holds is in `directory_index.rs`).

use super::random_state::{draw_seed, RandomState};
use crate::data::{Dataset, Structure};
use crate::{Error, Result};

/// The size of one side of [`split_dataset`]: a fraction of the samples in `(0, 1)` or a
/// number of samples, as Keras's float or int `left_size` / `right_size`.
///
/// ```
/// use keras::utils::SplitSize;
/// assert_eq!(SplitSize::from(0.8), SplitSize::Fraction(0.8));
/// assert_eq!(SplitSize::from(200), SplitSize::Count(200));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SplitSize {
    /// A fraction of the samples (Keras's float; `round(fraction * n)` samples).
    Fraction(f64),
    /// A number of samples (Keras's int).
    Count(i64),
}

impl From<f64> for SplitSize {
    fn from(v: f64) -> Self {
        SplitSize::Fraction(v)
    }
}

impl From<f32> for SplitSize {
    fn from(v: f32) -> Self {
        SplitSize::Fraction(v as f64)
    }
}

impl From<i32> for SplitSize {
    fn from(v: i32) -> Self {
        SplitSize::Count(v as i64)
    }
}

impl From<i64> for SplitSize {
    fn from(v: i64) -> Self {
        SplitSize::Count(v)
    }
}

impl From<usize> for SplitSize {
    fn from(v: usize) -> Self {
        SplitSize::Count(v as i64)
    }
}

/// Arguments of [`split_dataset`], with Keras's defaults (no sizes: one must be given; no
/// shuffling).
///
/// ```
/// use keras::utils::SplitDatasetArgs;
/// let args = SplitDatasetArgs { left_size: Some(0.8.into()), ..Default::default() };
/// assert!(!args.shuffle);
/// ```
#[derive(Clone, Debug, Default)]
pub struct SplitDatasetArgs {
    /// Size of the left split; `None` is the complement of `right_size`.
    pub left_size: Option<SplitSize>,
    /// Size of the right split; `None` is the complement of `left_size`.
    pub right_size: Option<SplitSize>,
    /// Shuffle the samples before splitting (Python's `random.shuffle`, as Keras).
    pub shuffle: bool,
    /// Seed of the shuffle; `None` draws one from keras-rs's global generator.
    pub seed: Option<u64>,
}

/// Splits in-memory samples (a tensor, or a structure of tensors such as `(x, y)`, split
/// along their first axis) into a left and a right [`Dataset`] of samples, as
/// `keras.utils.split_dataset`: the left one holds the first `left_size` samples, the right
/// one the last `right_size`. With `shuffle`, the samples are first shuffled exactly as Keras
/// does for the same `seed` (Python's `random.seed(seed); random.shuffle(samples)`).
///
/// Sizes and errors follow Keras's `_rescale_dataset_split_sizes`.
///
/// ```
/// use keras::prelude::*;
/// use keras::utils::{split_dataset, SplitDatasetArgs};
/// let x = Tensor::arange(0f32, 1000.0, &Device::Cpu)?.reshape((250, 4))?;
/// let y = Tensor::zeros(250, DType::U32, &Device::Cpu)?;
/// let args = SplitDatasetArgs { left_size: Some(0.8.into()), ..Default::default() };
/// let (train, test) = split_dataset((x, y), args)?;
/// assert_eq!((train.len()?, test.len()?), (200, 50));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn split_dataset<S: Structure>(
    data: S,
    args: SplitDatasetArgs,
) -> Result<(Dataset<S>, Dataset<S>)> {
    check_some_size(&args)?;
    let n = data.num_rows()?;
    if n == 0 {
        return Err(empty_dataset());
    }
    let order = sample_order(n, &args);
    let (left, right) = rescale_dataset_split_sizes(args.left_size, args.right_size, n)?;
    let pick =
        |idx: &[u32]| -> Result<Dataset<S>> { Dataset::from_tensor_slices(data.take_rows(idx)?) };
    Ok((pick(&order[..left])?, pick(&order[n - right..])?))
}

/// [`split_dataset`] for a [`Dataset`]: one pass collects its elements (kept in memory, as
/// Keras does), which are then split, shuffled first if asked. The elements are split as they
/// come: call `.unbatch()` first to split the samples of a batched dataset (Keras unbatches a
/// dataset whose last stage is `batch` and batches both splits again).
///
/// ```
/// use keras::data::Dataset;
/// use keras::utils::{split_dataset_of, SplitDatasetArgs, SplitSize};
/// let ds = Dataset::range(10)?;
/// let args = SplitDatasetArgs { right_size: Some(SplitSize::Count(3)), ..Default::default() };
/// let (left, right) = split_dataset_of(&ds, args)?;
/// let v: Vec<i64> = right.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
/// assert_eq!((left.len()?, v), (7, vec![7, 8, 9]));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn split_dataset_of<S: Structure>(
    dataset: &Dataset<S>,
    args: SplitDatasetArgs,
) -> Result<(Dataset<S>, Dataset<S>)> {
    check_some_size(&args)?;
    let elems = dataset.iter()?.collect::<Result<Vec<S>>>()?;
    let n = elems.len();
    if n == 0 {
        return Err(empty_dataset());
    }
    let first: Vec<Vec<usize>> = elems[0]
        .components()
        .iter()
        .map(|t| t.dims().to_vec())
        .collect();
    for (i, e) in elems.iter().enumerate().skip(1) {
        let dims: Vec<Vec<usize>> = e.components().iter().map(|t| t.dims().to_vec()).collect();
        if dims != first {
            return Err(Error::value(format!(
                "All `dataset` samples must have same shape, Expected shape: {} Received \
                 shape: {} at index {}.",
                elems[0].describe(),
                e.describe(),
                i - 1
            )));
        }
    }
    let order = sample_order(n, &args);
    let (left, right) = rescale_dataset_split_sizes(args.left_size, args.right_size, n)?;
    let pick = |idx: &[u32]| -> Result<Dataset<S>> {
        let chosen: Vec<S> = idx.iter().map(|&i| elems[i as usize].clone()).collect();
        Dataset::from_tensor_slices(S::stack(&chosen)?)
    };
    Ok((pick(&order[..left])?, pick(&order[n - right..])?))
}

fn check_some_size(args: &SplitDatasetArgs) -> Result<()> {
    if args.left_size.is_none() && args.right_size.is_none() {
        return Err(Error::value(
            "At least one of the `left_size` or `right_size` must be specified. Received: \
             left_size=None and right_size=None",
        ));
    }
    Ok(())
}

fn empty_dataset() -> Error {
    Error::value(
        "Received an empty dataset. Argument `dataset` must be a non-empty list/tuple of \
         `numpy.ndarray` objects or `tf.data.Dataset` objects.",
    )
}

/// `0..n`, shuffled as Keras's `random.seed(seed); random.shuffle(...)` when asked.
fn sample_order(n: usize, args: &SplitDatasetArgs) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    if args.shuffle {
        let seed = args.seed.unwrap_or_else(draw_seed);
        RandomState::python(seed).python_shuffle(&mut order);
    }
    order
}

/// A split size as Python prints it: ints bare, floats with a fraction (`11.0`).
#[derive(Clone, Copy)]
struct PyNum {
    v: f64,
    float: bool,
}

impl std::fmt::Display for PyNum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.float {
            write!(f, "{:?}", self.v)
        } else {
            write!(f, "{}", self.v as i64)
        }
    }
}

fn show(s: SplitSize) -> String {
    match s {
        SplitSize::Fraction(v) => format!("{v:?}"),
        SplitSize::Count(v) => v.to_string(),
    }
}

/// Keras's `_rescale_dataset_split_sizes`: the two sizes as sample counts, with its checks
/// and messages.
pub(crate) fn rescale_dataset_split_sizes(
    left_size: Option<SplitSize>,
    right_size: Option<SplitSize>,
    total: usize,
) -> Result<(usize, usize)> {
    use SplitSize::{Count, Fraction};
    let is_zero = |s: Option<SplitSize>| match s {
        Some(Fraction(v)) => v == 0.0,
        Some(Count(v)) => v == 0,
        None => false,
    };
    if is_zero(left_size) && is_zero(right_size) {
        return Err(Error::value(
            "Both `left_size` and `right_size` are zero. At least one of the split sizes must \
             be non-zero.",
        ));
    }
    let t = total as i64;
    let bad = |s: Option<SplitSize>| match s {
        Some(Count(v)) => v <= 0 || v >= t,
        Some(Fraction(v)) => !(v > 0.0 && v < 1.0),
        None => false,
    };
    if bad(left_size) {
        return Err(Error::value(format!(
            "`left_size` should be either a positive integer smaller than {total}, or a float \
             within the range `[0, 1]`. Received: left_size={}",
            show(left_size.unwrap())
        )));
    }
    if bad(right_size) {
        return Err(Error::value(format!(
            "`right_size` should be either a positive integer and smaller than {total} or a \
             float within the range `[0, 1]`. Received: right_size={}",
            show(right_size.unwrap())
        )));
    }
    if let (Some(Fraction(l)), Some(Fraction(r))) = (left_size, right_size) {
        if l + r > 1.0 {
            return Err(Error::value(
                "The sum of `left_size` and `right_size` is greater than 1. It must be less \
                 than or equal to 1.",
            ));
        }
    }
    // Python's round() is half-to-even; a fraction gives an int, a count becomes a float.
    let count = |s: SplitSize| match s {
        Fraction(v) => PyNum {
            v: round_half_even(v * total as f64),
            float: false,
        },
        Count(v) => PyNum {
            v: v as f64,
            float: true,
        },
    };
    let (left, right) = match (left_size.map(count), right_size.map(count)) {
        (Some(l), Some(r)) => (l, r),
        (None, Some(r)) => (
            PyNum {
                v: total as f64 - r.v,
                float: r.float,
            },
            r,
        ),
        (Some(l), None) => (
            l,
            PyNum {
                v: total as f64 - l.v,
                float: l.float,
            },
        ),
        (None, None) => unreachable!("checked by the caller"),
    };
    if left.v + right.v > total as f64 {
        let sum = PyNum {
            v: left.v + right.v,
            float: left.float || right.float,
        };
        return Err(Error::value(format!(
            "The sum of `left_size` and `right_size` should be smaller than the {total}. \
             Received: left_size + right_size = {sum}and total_length = {total}"
        )));
    }
    for (split, side) in [(left, "left"), (right, "right")] {
        if split.v == 0.0 {
            return Err(Error::value(format!(
                "With `dataset` of length={total}, `left_size`={left} and `right_size`={right}.\
                 Resulting {side} side dataset split will be empty. Adjust any of the \
                 aforementioned parameters"
            )));
        }
    }
    Ok((left.v as usize, right.v as usize))
}

fn round_half_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - v.signum()
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{self, DType, Device, Tensor};

    fn rows(ds: &Dataset<Tensor>) -> Vec<f32> {
        ds.iter()
            .unwrap()
            .map(|t| ops::to_vec_f32(&t.unwrap()).unwrap()[0])
            .collect()
    }

    #[test]
    fn sizes_and_shuffle() {
        let x = Tensor::arange(0f32, 10.0, &Device::Cpu).unwrap();
        let args = SplitDatasetArgs {
            left_size: Some(4.into()),
            shuffle: true,
            seed: Some(3),
            ..Default::default()
        };
        let (l, r) = split_dataset(x.clone(), args).unwrap();
        // random.seed(3); random.shuffle(list(range(10))) == [1, 5, 6, 0, 9, 4, 7, 2, 8, 3]
        assert_eq!(rows(&l), [1., 5., 6., 0.]);
        assert_eq!(rows(&r), [9., 4., 7., 2., 8., 3.]);
        let both = SplitDatasetArgs {
            left_size: Some(0.3.into()),
            right_size: Some(0.5.into()),
            ..Default::default()
        };
        let (l, r) = split_dataset(x, both).unwrap();
        assert_eq!(
            (rows(&l), rows(&r)),
            (vec![0., 1., 2.], vec![5., 6., 7., 8., 9.])
        );
    }

    #[test]
    fn rounding_is_pythons() {
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(0.25), 0.0);
        let r = rescale_dataset_split_sizes(Some(SplitSize::Fraction(0.25)), None, 10);
        assert_eq!(r.unwrap(), (2, 8));
    }

    #[test]
    fn dataset_input_and_errors() {
        let ds =
            Dataset::from_tensor_slices(Tensor::zeros((0, 2), DType::F32, &Device::Cpu).unwrap())
                .unwrap();
        let args = SplitDatasetArgs {
            left_size: Some(0.5.into()),
            ..Default::default()
        };
        let e = split_dataset_of(&ds, args.clone()).unwrap_err().to_string();
        assert!(e.starts_with("Received an empty dataset."));
        let none = split_dataset(
            Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
            Default::default(),
        );
        assert!(none.unwrap_err().to_string().starts_with("At least one of"));
    }
}
