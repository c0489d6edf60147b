//! What `fit` and `evaluate` do under a [`DataParallel`](super::DataParallel) distribution
//! in a job of more than one process: serve each process its slice of every global batch,
//! start every process from rank 0's weights and random state, average gradients (weighted by
//! each slice's rows, so the step is the one-process step on the global batch) and losses,
//! and average the logs. Each is a no-op otherwise.

use super::{group, Collective};
use crate::callbacks::Logs;
use crate::engine::Weight;
use crate::ops::{DType, Tensor};
use crate::trainers::{Batch, Data};
use crate::{Error, Result};
use std::cell::Cell;
use std::sync::Arc;

/// The process group, when data parallelism is on (a distribution set, more than one process).
pub(crate) fn active() -> Option<Arc<dyn Collective>> {
    if !super::distribution_set() {
        return None;
    }
    let g = group();
    (g.size() > 1).then_some(g)
}

thread_local! {
    static IN_STEP: Cell<bool> = const { Cell::new(false) };
}

/// Marks the training step running on this thread until dropped: the calls inside it run on
/// every process together, so layers may make collectives of their own there.
#[must_use = "the step ends when this is dropped"]
pub(crate) struct StepScope(bool);

/// Enters a training step (see [`StepScope`]).
pub(crate) fn step_scope() -> StepScope {
    StepScope(IN_STEP.with(|s| s.replace(true)))
}

impl Drop for StepScope {
    fn drop(&mut self) {
        IN_STEP.with(|s| s.set(self.0));
    }
}

/// The sum over the processes that a synchronized BatchNormalization takes its statistics
/// through: inside a data-parallel training step only (elsewhere a layer may run on one
/// process alone, and a collective would wait for the others forever).
pub(crate) fn cross_process_sum() -> Option<crate::ops::CrossProcessSum> {
    if !IN_STEP.with(Cell::get) {
        return None;
    }
    let g = active()?;
    Some(Arc::new(move |buf: &mut [f64]| g.all_reduce_sum_f64(buf)))
}

/// This process's rows of a global batch: the `rank`-th of `size` near-equal slices (the
/// whole batch when the distribution does not auto-shard: each process's data is its own).
pub(crate) fn shard(batch: Batch) -> Result<Batch> {
    let Some(g) = active() else { return Ok(batch) };
    if !super::auto_shards() {
        return Ok(batch);
    }
    let n = match &batch.x {
        Data::One(t) => t.dim(0)?,
        Data::List(v) => v.first().map(|t| t.dim(0)).transpose()?.unwrap_or(0),
        Data::Named(v) => v.first().map(|(_, t)| t.dim(0)).transpose()?.unwrap_or(0),
    };
    let (r, s) = (g.rank(), g.size());
    if n < s {
        return Err(Error::value(format!(
            "A global batch of {n} samples cannot be split over {s} processes: use a batch \
             size of at least {s} (each process takes batch_size / {s} samples)"
        )));
    }
    let (start, end) = rows_of(r, s, n);
    let cut = |t: &Tensor| -> Result<Tensor> { Ok(t.narrow(0, start, end - start)?) };
    let cut_data = |d: &Data| -> Result<Data> {
        Ok(match d {
            Data::One(t) => Data::One(cut(t)?),
            Data::List(v) => Data::List(v.iter().map(cut).collect::<Result<_>>()?),
            Data::Named(v) => Data::Named(
                v.iter()
                    .map(|(k, t)| Ok((k.clone(), cut(t)?)))
                    .collect::<Result<_>>()?,
            ),
        })
    };
    Ok(Batch {
        x: cut_data(&batch.x)?,
        y: batch.y.as_ref().map(cut_data).transpose()?,
        sample_weight: batch.sample_weight.as_ref().map(cut_data).transpose()?,
    })
}

/// Where each process reads its own data (the distribution does not auto-shard), checks that
/// every process runs the same number of `steps` (each step's collectives pair up across the
/// processes; `None`, unknown, is taken as it is). One all-reduce, on every process alike.
pub(crate) fn check_same_steps(steps: Option<usize>) -> Result<()> {
    let Some(g) = active() else { return Ok(()) };
    if super::auto_shards() {
        return Ok(());
    }
    let n = steps.map_or(-1.0, |n| n as f64);
    let mut v = [n, n * n];
    g.all_reduce_sum_f64(&mut v)?;
    let s = g.size() as f64;
    if v[1] * s != v[0] * v[0] {
        let mine = steps.map_or("an unknown number".to_string(), |n| n.to_string());
        return Err(Error::value(format!(
            "With DataParallel(auto_shard_dataset=false) every process must run the same number \
             of steps (their collectives pair up), but rank {} has {mine} while the {} processes \
             have {:.2} on average. Give each process an equal share (Dataset::shard of a length \
             the processes divide, with batch sizes that divide it) or set steps_per_epoch.",
            g.rank(),
            g.size(),
            v[0] / s
        )));
    }
    Ok(())
}

/// Rank `r`'s rows `[start, end)` of `n` split over `s` processes: near-equal slices in rank
/// order.
fn rows_of(r: usize, s: usize, n: usize) -> (usize, usize) {
    (r * n / s, (r + 1) * n / s)
}

/// For `predict` in a data-parallel job: this process's rows of a batch of `n` rows, or
/// `None` to predict the whole batch here (no job, a distribution that does not auto-shard,
/// or fewer rows than processes).
pub(crate) fn predict_rows(n: usize) -> Option<(usize, usize)> {
    let g = active()?;
    (super::auto_shards() && n >= g.size()).then(|| rows_of(g.rank(), g.size(), n))
}

/// The outputs for a whole batch of `n` rows from each process's outputs for its rows of it
/// ([`predict_rows`]), on every process: one all-reduce of all outputs, each process's rows
/// in place and zeros elsewhere.
pub(crate) fn gather_rows(parts: &[Tensor], n: usize) -> Result<Vec<Tensor>> {
    let Some(g) = active() else {
        return Ok(parts.to_vec());
    };
    let (start, end) = rows_of(g.rank(), g.size(), n);
    if let Some(t) = parts
        .iter()
        .find(|t| t.dims().first() != Some(&(end - start)))
    {
        return Err(Error::value(format!(
            "predict: in a data-parallel job every output must have the batch on its first \
             axis; an output of shape {:?} came from {} rows",
            t.dims(),
            end - start
        )));
    }
    let rows = (end - start).max(1);
    let sizes: Vec<usize> = parts.iter().map(|t| t.elem_count() / rows * n).collect();
    // In float64 whatever the outputs' dtype: exact for float32 and integers alike, and
    // outputs are small beside the step.
    let mut buf = vec![0f64; sizes.iter().sum()];
    let mut off = 0;
    for (t, &size) in parts.iter().zip(&sizes) {
        let v = crate::ops::to_vec_f64(t)?;
        let at = off + start * (size / n.max(1));
        buf[at..at + v.len()].copy_from_slice(&v);
        off += size;
    }
    g.all_reduce_sum_f64(&mut buf)?;
    let mut off = 0;
    parts
        .iter()
        .zip(&sizes)
        .map(|(t, &size)| {
            let mut dims = t.dims().to_vec();
            dims[0] = n;
            let flat = Tensor::from_slice(&buf[off..off + size], size, &crate::ops::Device::Cpu)?;
            off += size;
            Ok(flat.reshape(dims)?.to_dtype(t.dtype())?)
        })
        .collect()
}

/// Every process takes rank 0's random state (before the first shuffle of `fit`), so all
/// draw the same batch order.
pub(crate) fn broadcast_random_state() -> Result<()> {
    let Some(g) = active() else { return Ok(()) };
    let mut state = crate::ops::random::get_state();
    g.broadcast_u64(&mut state)?;
    crate::ops::random::set_state(state);
    Ok(())
}

/// Every process takes rank 0's weights (before the first step).
pub(crate) fn broadcast_weights(weights: &[Weight]) -> Result<()> {
    let Some(g) = active() else { return Ok(()) };
    let mut buf = Vec::with_capacity(weights.iter().map(Weight::numel).sum());
    for w in weights {
        buf.extend(crate::ops::to_vec_f32(&w.numpy()?)?);
    }
    g.broadcast(&mut buf)?;
    let mut off = 0;
    for w in weights {
        let n = w.numel();
        let v = Tensor::from_slice(&buf[off..off + n], w.shape(), &crate::ops::Device::Cpu)?;
        w.assign(&v)?;
        off += n;
    }
    Ok(())
}

/// The mean over the processes of `value`, each weighted by its `rows`, and the rows of all
/// processes (the global batch), from one all-reduce.
pub(crate) fn mean_scalar(value: f64, rows: usize) -> Result<(f64, usize)> {
    let Some(g) = active() else {
        return Ok((value, rows));
    };
    let mut v = [value * rows as f64, rows as f64];
    g.all_reduce_sum_f64(&mut v)?;
    Ok((v[0] / v[1], v[1] as usize))
}

/// Gradients averaged over the processes, each weighted by its `rows` of the global batch's
/// `total` (from [`mean_scalar`]): all of them packed in one buffer (float64 where a gradient
/// is), one all-reduce.
pub(crate) fn average_gradients(
    gv: &mut [(Tensor, Weight)],
    rows: usize,
    total: usize,
) -> Result<()> {
    let Some(g) = active() else { return Ok(()) };
    let scale = rows as f64 / total.max(1) as f64;
    let sizes: Vec<usize> = gv.iter().map(|(t, _)| t.elem_count()).collect();
    let host = &crate::ops::Device::Cpu;
    if gv.iter().any(|(t, _)| t.dtype() == DType::F64) {
        let mut buf = Vec::with_capacity(sizes.iter().sum());
        for (t, _) in gv.iter() {
            buf.extend(crate::ops::to_vec_f64(t)?.into_iter().map(|x| x * scale));
        }
        g.all_reduce_sum_f64(&mut buf)?;
        let mut off = 0;
        for ((t, _), n) in gv.iter_mut().zip(sizes) {
            let v = Tensor::from_slice(&buf[off..off + n], t.dims(), host)?;
            *t = v.to_dtype(t.dtype())?.to_device(t.device())?;
            off += n;
        }
    } else {
        let scale = scale as f32;
        let mut buf = Vec::with_capacity(sizes.iter().sum());
        for (t, _) in gv.iter() {
            buf.extend(crate::ops::to_vec_f32(t)?.into_iter().map(|x| x * scale));
        }
        g.all_reduce_sum(&mut buf)?;
        let mut off = 0;
        for ((t, _), n) in gv.iter_mut().zip(sizes) {
            let v = Tensor::from_slice(&buf[off..off + n], t.dims(), host)?;
            *t = v.to_dtype(t.dtype())?.to_device(t.device())?;
            off += n;
        }
    }
    Ok(())
}

/// Metric states summed over the processes, in one all-reduce (float64; shapes and dtypes
/// kept).
pub(crate) fn sum_states(states: &[Vec<Tensor>]) -> Result<Vec<Vec<Tensor>>> {
    let Some(g) = active() else {
        return Ok(states.to_vec());
    };
    let mut buf = vec![];
    for t in states.iter().flatten() {
        buf.extend(crate::ops::to_vec_f64(t)?);
    }
    g.all_reduce_sum_f64(&mut buf)?;
    let mut off = 0;
    states
        .iter()
        .map(|ts| {
            ts.iter()
                .map(|t| {
                    let n = t.elem_count();
                    let v = Tensor::from_slice(&buf[off..off + n], t.dims(), t.device())?;
                    off += n;
                    Ok(v.to_dtype(t.dtype())?)
                })
                .collect()
        })
        .collect()
}

/// The logs averaged over the processes, each weighted by the `rows` it has seen since its
/// metrics started (every process then records the same History, the one process's: a
/// running mean over each process's rows, weighted by their number, is the running mean over
/// all rows, whatever the split of a last, shorter batch).
pub(crate) fn reduce_logs(logs: &mut Logs, rows: usize) -> Result<()> {
    let Some(g) = active() else { return Ok(()) };
    let entries: Vec<(String, f64)> = logs.iter().map(|(k, v)| (k.to_string(), v)).collect();
    let w = rows as f64;
    let mut v: Vec<f64> = entries.iter().map(|(_, v)| *v * w).collect();
    v.push(w);
    g.all_reduce_sum_f64(&mut v)?;
    let total = v.pop().unwrap_or(0.0);
    for ((k, _), s) in entries.iter().zip(v) {
        logs.insert(k, if total > 0.0 { s / total } else { f64::NAN });
    }
    Ok(())
}
