//! `DataParallel` (Keras's `keras.distribution.DataParallel`): every process holds the whole
//! model, takes its shard of each global batch, and the gradients are averaged across the
//! processes with one all-reduce per step, so every process applies the same update.

use super::{list_devices, DeviceMesh};
use crate::Result;

/// Data-parallel training over the devices of a one-axis mesh (one per process).
///
/// ```
/// use keras::distribution::{list_devices, set_distribution, DataParallel};
/// let dp = DataParallel::new(None)?; // every device of the job
/// assert_eq!(dp.device_mesh().devices(), list_devices(None).as_slice());
/// set_distribution(Some(dp));
/// set_distribution(None);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataParallel {
    mesh: DeviceMesh,
    auto_shard_dataset: bool,
}

impl DataParallel {
    /// Over `devices` (Keras's names, `"cpu:0"`, `"gpu:1"`), or every device of the job.
    pub fn new(devices: Option<Vec<String>>) -> Result<DataParallel> {
        let devices = devices.unwrap_or_else(|| list_devices(None));
        let names: Vec<&str> = devices.iter().map(String::as_str).collect();
        Ok(DataParallel {
            mesh: DeviceMesh::new(&[names.len()], &["batch"], &names)?,
            auto_shard_dataset: true,
        })
    }

    /// Over a mesh whose first axis is the batch.
    pub fn with_mesh(mesh: DeviceMesh) -> DataParallel {
        DataParallel {
            mesh,
            auto_shard_dataset: true,
        }
    }

    /// Keras's `auto_shard_dataset` (default `true`): every process reads the same data (the
    /// same arrays or `Dataset`, batches of the global batch size) and keeps its slice of each
    /// batch. `false`: each process's data is its own share already (say
    /// [`Dataset::shard`](crate::data::Dataset::shard)`(process_count(), process_index())`
    /// before batching), its batches are used whole, and the global batch is the sum of the
    /// processes' batches. Every process must then run the same number of steps.
    ///
    /// ```
    /// use keras::distribution::DataParallel;
    /// let dp = DataParallel::new(None)?.auto_shard_dataset(false);
    /// assert!(!dp.auto_shards_dataset());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn auto_shard_dataset(mut self, on: bool) -> DataParallel {
        self.auto_shard_dataset = on;
        self
    }

    /// Whether each process takes its slice of every batch ([`DataParallel::auto_shard_dataset`]).
    pub fn auto_shards_dataset(&self) -> bool {
        self.auto_shard_dataset
    }

    /// The mesh.
    pub fn device_mesh(&self) -> &DeviceMesh {
        &self.mesh
    }

    /// The name of the batch axis (the mesh's first).
    pub fn batch_dim_name(&self) -> &str {
        self.mesh
            .axis_names()
            .first()
            .map_or("batch", String::as_str)
    }
}
