//! The collectives data-parallel training needs, behind one trait: a process group of `size`
//! processes, this one being `rank`, that can sum buffers across all of them and hand rank 0's
//! buffers to everyone. `LocalGroup` is the group of one process; with the `mpi` feature,
//! `MpiGroup` is Open MPI's world (processes started by `mpirun`).

use crate::Result;

/// A group of processes that run the same program (Keras's "processes" of a distribution).
///
/// ```
/// use keras::distribution::{Collective, LocalGroup};
/// let g = LocalGroup;
/// let mut v = vec![1f32, 2.0];
/// g.all_reduce_sum(&mut v)?;
/// assert_eq!((g.rank(), g.size(), v), (0, 1, vec![1.0, 2.0]));
/// # Ok::<(), keras::Error>(())
/// ```
pub trait Collective: Send + Sync {
    /// This process's index, 0 to `size() - 1`.
    fn rank(&self) -> usize;
    /// The number of processes.
    fn size(&self) -> usize;
    /// Replaces `buf` on every process by its sum over the processes.
    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()>;
    /// [`Collective::all_reduce_sum`] in double precision (metric totals, losses).
    fn all_reduce_sum_f64(&self, buf: &mut [f64]) -> Result<()>;
    /// Replaces `buf` on every process by rank 0's.
    fn broadcast(&self, buf: &mut [f32]) -> Result<()>;
    /// [`Collective::broadcast`] of 64-bit words (a generator's state).
    fn broadcast_u64(&self, buf: &mut [u64]) -> Result<()>;
    /// Ends every process of the job after printing `message` (an error on one process, which
    /// the others would otherwise wait for); the group of one process does nothing.
    fn abort(&self, message: &str) {
        let _ = message;
    }
}

/// The group of this process alone: every collective is the identity.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalGroup;

impl Collective for LocalGroup {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_reduce_sum(&self, _buf: &mut [f32]) -> Result<()> {
        Ok(())
    }
    fn all_reduce_sum_f64(&self, _buf: &mut [f64]) -> Result<()> {
        Ok(())
    }
    fn broadcast(&self, _buf: &mut [f32]) -> Result<()> {
        Ok(())
    }
    fn broadcast_u64(&self, _buf: &mut [u64]) -> Result<()> {
        Ok(())
    }
}
