//! `keras.distribution`: data-parallel training across processes. Start the same program in
//! several processes (`mpirun -np 2 ./train`, a build with the `mpi` feature), call
//! [`initialize`] and [`set_distribution`]`(Some(DataParallel::new(None)?))`, then `fit` as
//! usual: every process builds the same model, rank 0's weights and random state are handed to
//! all, each process trains on its slice of every global batch, gradients are averaged with
//! one all-reduce per step (all of them in one buffer), losses and metrics are averaged so
//! every process logs the same History, and only rank 0 prints the progress bar.
//!
//! ```
//! use keras::distribution::{initialize, list_devices, set_distribution, DataParallel};
//! let _job = initialize(None, None, None)?; // one process here: a job of one
//! assert_eq!(list_devices(None), vec!["cpu:0".to_string()]);
//! set_distribution(Some(DataParallel::new(None)?));
//! # set_distribution(None);
//! # Ok::<(), keras::Error>(())
//! ```

mod collective;
mod data_parallel;
mod device_mesh;
#[cfg(feature = "mpi")]
mod mpi_group;
mod sync;

pub use collective::{Collective, LocalGroup};
pub use data_parallel::DataParallel;
pub use device_mesh::DeviceMesh;
#[cfg(feature = "mpi")]
pub use mpi_group::MpiGroup;
pub(crate) use sync::{
    active, average_gradients, broadcast_random_state, broadcast_weights, check_same_steps,
    cross_process_sum, gather_rows, mean_scalar, predict_rows, reduce_logs, shard, step_scope,
    sum_states,
};

use crate::{Error, Result};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

static GROUP: RwLock<Option<Arc<dyn Collective>>> = RwLock::new(None);
static DISTRIBUTION: Mutex<Option<DataParallel>> = Mutex::new(None);
/// `None` until set: [`DEFAULT_TIMEOUT`]; `Some(None)`: no deadline.
static TIMEOUT: Mutex<Option<Option<Duration>>> = Mutex::new(None);

/// How long a process waits in a collective for the others before it ends the job naming
/// the missing ones, unless [`set_timeout`] or `KERAS_DISTRIBUTION_TIMEOUT` says otherwise:
/// 10 minutes, PyTorch's default for its process groups.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Sets how long a process waits in a collective (an all-reduce of gradients, a broadcast)
/// for the others; past it, the job ends with an error naming the processes that never
/// arrived (hung, or busy elsewhere for that long). `None`: wait forever. Set it on every
/// process, before `fit`; `initialize` reads `KERAS_DISTRIBUTION_TIMEOUT` (seconds, `0` for
/// none) when it is set.
///
/// ```
/// use keras::distribution::{set_timeout, timeout, DEFAULT_TIMEOUT};
/// use std::time::Duration;
/// assert_eq!(timeout(), Some(DEFAULT_TIMEOUT));
/// set_timeout(Some(Duration::from_secs(30)));
/// assert_eq!(timeout(), Some(Duration::from_secs(30)));
/// # set_timeout(Some(DEFAULT_TIMEOUT));
/// ```
pub fn set_timeout(t: Option<Duration>) {
    *TIMEOUT.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
}

/// The collective timeout ([`set_timeout`]).
pub fn timeout() -> Option<Duration> {
    TIMEOUT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or(Some(DEFAULT_TIMEOUT))
}

/// The process group of this job ([`LocalGroup`] before [`initialize`]).
pub fn group() -> Arc<dyn Collective> {
    GROUP
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| Arc::new(LocalGroup))
}

/// This process's index in the job (Keras / JAX's `process_index`).
pub fn process_index() -> usize {
    group().rank()
}

/// The number of processes in the job.
pub fn process_count() -> usize {
    group().size()
}

/// Keras's device names across the job, one per process: `"cpu:0"` ... (`"gpu:N"` where the
/// process's device is a GPU). `device_type` `"cpu"` or `"gpu"` picks the kind.
pub fn list_devices(device_type: Option<&str>) -> Vec<String> {
    let kind = match device_type {
        Some(k) => k.to_ascii_lowercase(),
        None if !crate::config::device().is_cpu() => "gpu".into(),
        None => "cpu".into(),
    };
    (0..process_count())
        .map(|i| format!("{kind}:{i}"))
        .collect()
}

/// The job, while it runs: dropping it ends the process group (MPI_Finalize).
#[must_use = "the job ends when this is dropped"]
pub struct Job {
    _group: Arc<dyn Collective>,
}

impl Drop for Job {
    fn drop(&mut self) {
        *GROUP.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Joins the job this process was started in (Keras's `keras.distribution.initialize`). The
/// processes come from the launcher (`mpirun -np N`, `--host a,b` across machines), so
/// `job_addresses` is not needed; `num_processes` and `process_id`, when given (or set in
/// `KERAS_DISTRIBUTION_NUM_PROCESSES` / `KERAS_DISTRIBUTION_PROCESS_ID`), are checked against
/// it. Without the `mpi` feature the job is this process alone, and asking for more processes
/// is an error. `KERAS_DISTRIBUTION_TIMEOUT` (seconds), when set, sets [`set_timeout`].
pub fn initialize(
    job_addresses: Option<&str>,
    num_processes: Option<usize>,
    process_id: Option<usize>,
) -> Result<Job> {
    let env = |k: &str| -> Result<Option<usize>> {
        match std::env::var(k) {
            Ok(v) => v.trim().parse().map(Some).map_err(|_| {
                Error::value(format!(
                    "{k} must be a non-negative integer. Received: {v:?}"
                ))
            }),
            Err(_) => Ok(None),
        }
    };
    let _ = job_addresses;
    if let Ok(v) = std::env::var("KERAS_DISTRIBUTION_TIMEOUT") {
        let secs: f64 = v
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| *s >= 0.0)
            .ok_or_else(|| {
                Error::value(format!(
                    "KERAS_DISTRIBUTION_TIMEOUT must be a number of seconds (0 for none). \
                 Received: {v:?}"
                ))
            })?;
        set_timeout((secs > 0.0).then(|| Duration::from_secs_f64(secs)));
    }
    let num = num_processes.or(env("KERAS_DISTRIBUTION_NUM_PROCESSES")?);
    let id = process_id.or(env("KERAS_DISTRIBUTION_PROCESS_ID")?);
    let g = open_group(num)?;
    if let Some(n) = num {
        if n != g.size() {
            return Err(Error::value(format!(
                "initialize: num_processes={n}, but the job has {} processes",
                g.size()
            )));
        }
    }
    if let Some(i) = id {
        if i != g.rank() {
            return Err(Error::value(format!(
                "initialize: process_id={i}, but this process is rank {}",
                g.rank()
            )));
        }
    }
    *GROUP.write().unwrap_or_else(|e| e.into_inner()) = Some(g.clone());
    Ok(Job { _group: g })
}

#[cfg(feature = "mpi")]
fn open_group(_num: Option<usize>) -> Result<Arc<dyn Collective>> {
    Ok(Arc::new(MpiGroup::world()?))
}

#[cfg(not(feature = "mpi"))]
fn open_group(num: Option<usize>) -> Result<Arc<dyn Collective>> {
    match num {
        Some(n) if n > 1 => Err(Error::runtime(format!(
            "initialize: num_processes={n}, but keras-rs was built without the `mpi` feature; \
             rebuild with `--features mpi` and start the processes with `mpirun -np {n}`"
        ))),
        _ => Ok(Arc::new(LocalGroup)),
    }
}

/// Sets (or with `None` clears) the distribution `fit`, `evaluate` and `predict` use.
pub fn set_distribution(d: Option<DataParallel>) {
    *DISTRIBUTION.lock().unwrap_or_else(|e| e.into_inner()) = d;
}

/// Whether a distribution is set (asked on every batch and callback hook: no clone).
pub(crate) fn distribution_set() -> bool {
    DISTRIBUTION
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some()
}

/// Whether the distribution set (if any) cuts every batch into the processes' slices.
pub(crate) fn auto_shards() -> bool {
    DISTRIBUTION
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .is_some_and(DataParallel::auto_shards_dataset)
}

/// The distribution set with [`set_distribution`].
pub fn distribution() -> Option<DataParallel> {
    DISTRIBUTION
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}
