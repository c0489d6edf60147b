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
}

impl DataParallel {
    /// Over `devices` (Keras's names, `"cpu:0"`, `"gpu:1"`), or every device of the job.
    pub fn new(devices: Option<Vec<String>>) -> Result<DataParallel> {
        let devices = devices.unwrap_or_else(|| list_devices(None));
        let names: Vec<&str> = devices.iter().map(String::as_str).collect();
        Ok(DataParallel {
            mesh: DeviceMesh::new(&[names.len()], &["batch"], &names)?,
        })
    }

    /// Over a mesh whose first axis is the batch.
    pub fn with_mesh(mesh: DeviceMesh) -> DataParallel {
        DataParallel { mesh }
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
