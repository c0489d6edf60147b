//! `DeviceMesh` (Keras's `keras.distribution.DeviceMesh`): devices laid out on named axes.

use crate::{Error, Result};

/// Devices arranged in a grid with named axes; `DataParallel` splits the batch along its
/// first axis.
///
/// ```
/// use keras::distribution::DeviceMesh;
/// let mesh = DeviceMesh::new(&[2], &["batch"], &["cpu:0", "cpu:1"])?;
/// assert_eq!(mesh.shape(), &[2]);
/// assert!(DeviceMesh::new(&[3], &["batch"], &["cpu:0"]).is_err());
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceMesh {
    shape: Vec<usize>,
    axis_names: Vec<String>,
    devices: Vec<String>,
}

impl DeviceMesh {
    /// A mesh of `shape` over `devices` (row-major), one name per axis.
    pub fn new(shape: &[usize], axis_names: &[&str], devices: &[&str]) -> Result<DeviceMesh> {
        if shape.len() != axis_names.len() {
            return Err(Error::value(format!(
                "Shape and axis_names cannot be mismatched. Received: shape={shape:?}, \
                 axis_names={axis_names:?}"
            )));
        }
        let n: usize = shape.iter().product();
        if n != devices.len() {
            return Err(Error::value(format!(
                "Shape does not match the number of devices. Received: shape={shape:?}; \
                 devices.shape=({},)",
                devices.len()
            )));
        }
        Ok(DeviceMesh {
            shape: shape.to_vec(),
            axis_names: axis_names.iter().map(|s| s.to_string()).collect(),
            devices: devices.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The mesh's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The axis names.
    pub fn axis_names(&self) -> &[String] {
        &self.axis_names
    }

    /// The devices, row-major.
    pub fn devices(&self) -> &[String] {
        &self.devices
    }
}
