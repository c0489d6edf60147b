//! Open MPI's world as a [`Collective`] (the `mpi` feature, rsmpi): the processes `mpirun`
//! started, on one machine or many (`mpirun --host a,b`).

use super::Collective;
use crate::{Error, Result};
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use std::sync::Mutex;

/// `MPI_COMM_WORLD`, initialised with `MPI_THREAD_SERIALIZED`; every call holds the lock, so
/// calls from any thread are serialized as that level requires. Dropping it finalizes MPI.
pub struct MpiGroup {
    world: Mutex<SimpleCommunicator>,
    rank: usize,
    size: usize,
    _universe: Universe,
}

// SAFETY: MPI was initialised with MPI_THREAD_SERIALIZED and every use of the communicator
// goes through the mutex, so no two threads call MPI at once.
unsafe impl Send for MpiGroup {}
unsafe impl Sync for MpiGroup {}

impl MpiGroup {
    /// Initialises MPI (once per process) and takes its world.
    pub fn world() -> Result<MpiGroup> {
        let (universe, level) = mpi::initialize_with_threading(mpi::Threading::Serialized)
            .ok_or_else(|| {
                Error::runtime("initialize: MPI was initialised already in this process")
            })?;
        if level < mpi::Threading::Serialized {
            return Err(Error::runtime(format!(
                "initialize: this MPI library offers thread level {level:?}; keras-rs needs \
                 Serialized"
            )));
        }
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        Ok(MpiGroup {
            world: Mutex::new(world),
            rank,
            size,
            _universe: universe,
        })
    }

    fn comm(&self) -> std::sync::MutexGuard<'_, SimpleCommunicator> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Collective for MpiGroup {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()> {
        let send = buf.to_vec();
        self.comm()
            .all_reduce_into(&send[..], buf, SystemOperation::sum());
        Ok(())
    }
    fn all_reduce_sum_f64(&self, buf: &mut [f64]) -> Result<()> {
        let send = buf.to_vec();
        self.comm()
            .all_reduce_into(&send[..], buf, SystemOperation::sum());
        Ok(())
    }
    fn broadcast(&self, buf: &mut [f32]) -> Result<()> {
        self.comm().process_at_rank(0).broadcast_into(buf);
        Ok(())
    }
    fn broadcast_u64(&self, buf: &mut [u64]) -> Result<()> {
        self.comm().process_at_rank(0).broadcast_into(buf);
        Ok(())
    }
    fn abort(&self, message: &str) {
        eprintln!("{message}");
        // MPI_Abort: mpirun ends every process and names this rank.
        self.comm().abort(1);
    }
}
