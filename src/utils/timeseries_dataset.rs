//! `keras.utils.timeseries_dataset_from_array` (Keras's `timeseries_dataset_utils.py`).

use super::random_state::{draw_seed, RandomState};
use crate::data::{Dataset, Structure, AUTOTUNE};
use crate::ops::{self, Tensor};
use crate::{Error, Result};
use std::sync::Arc;

/// Arguments of [`timeseries_dataset_from_array`] after `sequence_length`, with Keras's
/// defaults: windows start at every step (`sequence_stride` 1), take every step
/// (`sampling_rate` 1), come in batches of 128, in order, over the whole series.
///
/// ```
/// use keras::utils::TimeseriesArgs;
/// let args = TimeseriesArgs { sampling_rate: 6, batch_size: Some(256), ..Default::default() };
/// assert_eq!(args.sequence_stride, 1);
/// ```
#[derive(Clone, Debug)]
pub struct TimeseriesArgs {
    /// Steps between the starts of two consecutive windows.
    pub sequence_stride: usize,
    /// Steps between two consecutive samples of a window.
    pub sampling_rate: usize,
    /// Windows per batch; `None` yields single windows.
    pub batch_size: Option<usize>,
    /// Shuffle the windows (their start order is Keras's for the seed; then a buffer of
    /// `8 * batch_size` each epoch).
    pub shuffle: bool,
    /// Seed of the shuffles.
    pub seed: Option<u64>,
    /// First step used (inclusive); `None` is 0.
    pub start_index: Option<usize>,
    /// Last step used (exclusive); `None` is the end of `data`.
    pub end_index: Option<usize>,
}

impl Default for TimeseriesArgs {
    fn default() -> Self {
        TimeseriesArgs {
            sequence_stride: 1,
            sampling_rate: 1,
            batch_size: Some(128),
            shuffle: false,
            seed: None,
            start_index: None,
            end_index: None,
        }
    }
}

/// Sliding windows over a series as a dataset of `(windows, targets)` batches, as
/// `keras.utils.timeseries_dataset_from_array(data, targets, sequence_length, ...)`: window
/// `i` is `data[s + start, s + start + r, ..., s + start + (sequence_length - 1) * r]` with
/// `s = i * sequence_stride` and `r = sampling_rate`, of shape `(sequence_length, ...)`, and
/// its target is `targets[s + start]`. There are as many windows as fit in
/// `start_index..end_index` (and in `targets`).
///
/// ```
/// use keras::prelude::*;
/// use keras::utils::{timeseries_dataset_from_array, TimeseriesArgs};
/// let data = Tensor::arange(0f32, 10.0, &Device::Cpu)?;
/// let targets = Tensor::arange(0f32, 10.0, &Device::Cpu)?.narrow(0, 3, 7)?; // data[3:]
/// let ds = timeseries_dataset_from_array(&data, &targets, 3, TimeseriesArgs { batch_size: Some(2), ..Default::default() })?;
/// let (x, y) = ds.iter()?.next().unwrap()?;
/// assert_eq!(x.to_vec2::<f32>()?, vec![vec![0., 1., 2.], vec![1., 2., 3.]]);
/// assert_eq!(y.to_vec1::<f32>()?, vec![3., 4.]); // the step after each window
/// # Ok::<(), keras::Error>(())
/// ```
pub fn timeseries_dataset_from_array(
    data: &Tensor,
    targets: &Tensor,
    sequence_length: usize,
    args: TimeseriesArgs,
) -> Result<Dataset<(Tensor, Tensor)>> {
    let n_targets = first_dim(targets, "targets")?;
    let plan = Plan::new(data, Some(n_targets), sequence_length, &args)?;
    let targets = targets.clone();
    let windows = plan.windows.clone();
    let ds = plan.positions(&args)?.map_with(
        move |p: Tensor| {
            let p = p.to_vec0::<u32>()? as usize;
            let at = windows.start + p;
            let t = targets.get(at).map_err(|_| {
                Error::value(format!(
                    "timeseries_dataset_from_array: the target of the window starting at step \
                     {at} is past the end of `targets` ({} steps)",
                    targets.dims()[0]
                ))
            })?;
            Ok((windows.window(p)?, t))
        },
        AUTOTUNE,
    );
    finish(ds, &args)
}

/// [`timeseries_dataset_from_array`] without targets (Keras's `targets=None`): batches of
/// windows only.
///
/// ```
/// use keras::prelude::*;
/// use keras::utils::{timeseries_dataset_from_array_unlabeled, TimeseriesArgs};
/// let data = Tensor::arange(0f32, 20.0, &Device::Cpu)?.reshape((10, 2))?;
/// let ds = timeseries_dataset_from_array_unlabeled(&data, 4, TimeseriesArgs { sequence_stride: 3, ..Default::default() })?;
/// let x = ds.iter()?.next().unwrap()?;
/// assert_eq!(x.dims(), &[3, 4, 2]); // windows starting at steps 0, 3, 6
/// # Ok::<(), keras::Error>(())
/// ```
pub fn timeseries_dataset_from_array_unlabeled(
    data: &Tensor,
    sequence_length: usize,
    args: TimeseriesArgs,
) -> Result<Dataset<Tensor>> {
    let plan = Plan::new(data, None, sequence_length, &args)?;
    let windows = plan.windows.clone();
    let ds = plan.positions(&args)?.map_with(
        move |p: Tensor| windows.window(p.to_vec0::<u32>()? as usize),
        AUTOTUNE,
    );
    finish(ds, &args)
}

fn first_dim(t: &Tensor, what: &str) -> Result<usize> {
    t.dims().first().copied().ok_or_else(|| {
        Error::value(format!(
            "timeseries_dataset_from_array: `{what}` must have at least one axis (time); \
             received a scalar"
        ))
    })
}

/// The rows of one window.
struct Windows {
    data: Tensor,
    start: usize,
    length: usize,
    rate: usize,
}

impl Windows {
    fn window(&self, p: usize) -> Result<Tensor> {
        let idx: Vec<u32> = (0..self.length)
            .map(|k| (self.start + p + k * self.rate) as u32)
            .collect();
        ops::take_rows(&self.data, &idx)
    }
}

/// Keras's checks of `sampling_rate` / `sequence_stride`: above 0, below the data's length.
fn check_step(name: &str, value: usize, n: usize) -> Result<()> {
    if value == 0 {
        return Err(higher_than_0(name));
    }
    if value >= n {
        return Err(not_lower_than_length(name, value, n));
    }
    Ok(())
}

fn not_lower_than_length(name: &str, value: usize, n: usize) -> Error {
    Error::value(format!(
        "`{name}` must be lower than the length of the data. Received: {name}={value}, for data \
         of length {n}"
    ))
}

fn higher_than_0(name: &str) -> Error {
    Error::value(format!(
        "`{name}` must be higher than 0. Received: {name}=0"
    ))
}

/// The window starts, checked as Keras checks them.
struct Plan {
    windows: Arc<Windows>,
    starts: Vec<u32>,
}

impl Plan {
    fn new(
        data: &Tensor,
        n_targets: Option<usize>,
        sequence_length: usize,
        args: &TimeseriesArgs,
    ) -> Result<Plan> {
        let n = first_dim(data, "data")?;
        let start = args.start_index.unwrap_or(0);
        if start > 0 && start >= n {
            return Err(not_lower_than_length("start_index", start, n));
        }
        if let Some(end) = args.end_index.filter(|e| *e > 0) {
            if start > 0 && end <= start {
                return Err(Error::value(format!(
                    "`end_index` must be higher than `start_index`. Received: \
                     start_index={start}, and end_index={end} "
                )));
            }
            if end >= n {
                return Err(not_lower_than_length("end_index", end, n));
            }
        }
        let (rate, stride) = (args.sampling_rate, args.sequence_stride);
        check_step("sampling_rate", rate, n)?;
        check_step("sequence_stride", stride, n)?;
        if sequence_length == 0 {
            return Err(higher_than_0("sequence_length"));
        }
        let end = match args.end_index {
            Some(0) | None => n,
            Some(e) => e,
        };
        let mut num = end as i64 - start as i64 - ((sequence_length - 1) * rate) as i64;
        if let Some(t) = n_targets {
            num = num.min(t as i64);
        }
        let mut starts: Vec<u32> = (0..num.max(0) as u32).step_by(stride).collect();
        if args.shuffle {
            let seed = args.seed.unwrap_or_else(draw_seed);
            let seed = u32::try_from(seed)
                .map_err(|_| Error::value("Seed must be between 0 and 2**32 - 1"))?;
            RandomState::new(seed).shuffle(&mut starts);
        }
        Ok(Plan {
            windows: Arc::new(Windows {
                data: data.clone(),
                start,
                length: sequence_length,
                rate,
            }),
            starts,
        })
    }

    /// The window starts as a dataset of scalars, shuffled each epoch when asked.
    fn positions(&self, args: &TimeseriesArgs) -> Result<Dataset<Tensor>> {
        let n = self.starts.len();
        let ds = Dataset::from_tensor_slices(ops::from_vec(self.starts.clone(), &[n])?)?;
        if args.shuffle {
            let buffer = args.batch_size.map_or(1024, |b| b * 8);
            return ds.shuffle_with(buffer, args.seed, true);
        }
        Ok(ds)
    }
}

fn finish<S: Structure>(ds: Dataset<S>, args: &TimeseriesArgs) -> Result<Dataset<S>> {
    let ds = match args.batch_size {
        Some(b) => ds.batch(b)?,
        None => ds,
    };
    ds.prefetch(AUTOTUNE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    #[test]
    fn windows_targets_and_checks() {
        let data = Tensor::arange(0i64, 12, &Device::Cpu).unwrap();
        let targets = (Tensor::arange(0i64, 12, &Device::Cpu).unwrap() * 10.0).unwrap();
        let args = TimeseriesArgs {
            sampling_rate: 2,
            sequence_stride: 3,
            start_index: Some(1),
            batch_size: None,
            ..Default::default()
        };
        let ds = timeseries_dataset_from_array(&data, &targets, 3, args).unwrap();
        let got: Vec<(Vec<i64>, i64)> = ds
            .iter()
            .unwrap()
            .map(|e| {
                let (x, y) = e.unwrap();
                (x.to_vec1().unwrap(), y.to_vec0().unwrap())
            })
            .collect();
        // num_seqs = 12 - 1 - 4 = 7: starts 0, 3, 6
        assert_eq!(
            got,
            vec![
                (vec![1, 3, 5], 10),
                (vec![4, 6, 8], 40),
                (vec![7, 9, 11], 70)
            ]
        );
        let bad = |a: TimeseriesArgs| {
            timeseries_dataset_from_array_unlabeled(&data, 3, a)
                .unwrap_err()
                .to_string()
        };
        assert!(bad(TimeseriesArgs {
            sampling_rate: 0,
            ..Default::default()
        })
        .contains("sampling_rate=0"));
        assert!(bad(TimeseriesArgs {
            end_index: Some(12),
            ..Default::default()
        })
        .contains("end_index=12, for data of length 12"));
        assert_eq!(
            bad(TimeseriesArgs {
                sequence_stride: 12,
                ..Default::default()
            }),
            "`sequence_stride` must be lower than the length of the data. Received: \
             sequence_stride=12, for data of length 12"
        );
        assert_eq!(
            timeseries_dataset_from_array_unlabeled(&data, 0, TimeseriesArgs::default())
                .unwrap_err()
                .to_string(),
            "`sequence_length` must be higher than 0. Received: sequence_length=0"
        );
    }

    #[test]
    fn shuffled_starts_are_numpys() {
        let data = Tensor::arange(0f32, 13.0, &Device::Cpu).unwrap();
        let args = TimeseriesArgs {
            shuffle: true,
            seed: Some(1337),
            ..Default::default()
        };
        let plan = Plan::new(&data, None, 4, &args).unwrap();
        // np.random.RandomState(1337).shuffle(np.arange(10))
        assert_eq!(plan.starts, [6, 3, 0, 4, 5, 2, 1, 9, 8, 7]);
    }
}
