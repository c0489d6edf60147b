//! The device new weights are made on, as Keras picks it: a scope (`with keras.device("gpu:0"):`
//! is [`with_device`]), else the process-wide choice ([`set_device`]), else the default: the
//! first CUDA device in a build with the `cuda` feature where one is usable, otherwise the CPU.
//!
//! Layers create their weights on this device when they are built; `fit`, `evaluate` and
//! `predict` move each batch to the device of the model's weights, so a model built under
//! `with_device("gpu:0", ...)` (or moved with `Model::to_device`) trains there.
//!
//! ```
//! use keras::config;
//! assert!(config::device().is_cpu()); // a build without `cuda`
//! config::with_device("cpu", || {
//!     assert_eq!(config::device_name(), "cpu:0");
//! })?;
//! assert!(config::set_device("gpu:0").is_err()); // no `cuda` feature: an error, no panic
//! # Ok::<(), keras::Error>(())
//! ```

use crate::ops::{self, Device, DeviceKind};
use crate::Result;
use std::cell::RefCell;
use std::sync::{Mutex, OnceLock};

static GLOBAL: Mutex<Option<Device>> = Mutex::new(None);
static DEFAULT: OnceLock<Device> = OnceLock::new();

thread_local! {
    static SCOPE: RefCell<Vec<Device>> = const { RefCell::new(Vec::new()) };
}

/// Something that names a device: a Keras name (`"cpu"`, `"gpu:0"`, `"cuda:1"`) or a device.
pub trait IntoDevice {
    /// The open device.
    fn into_device(self) -> Result<Device>;
}

impl IntoDevice for &str {
    fn into_device(self) -> Result<Device> {
        ops::open_device(self)
    }
}

impl IntoDevice for String {
    fn into_device(self) -> Result<Device> {
        ops::open_device(&self)
    }
}

impl IntoDevice for &Device {
    fn into_device(self) -> Result<Device> {
        Ok(self.clone())
    }
}

impl IntoDevice for Device {
    fn into_device(self) -> Result<Device> {
        Ok(self)
    }
}

/// The device new weights go to now: the innermost [`with_device`] scope of this thread, else
/// [`set_device`]'s, else the default (the first usable CUDA device in a `cuda` build, else
/// the CPU).
pub fn device() -> Device {
    if let Some(d) = SCOPE.with(|s| s.borrow().last().cloned()) {
        return d;
    }
    if let Some(d) = GLOBAL.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        return d;
    }
    DEFAULT.get_or_init(default_device).clone()
}

/// [`device`]'s Keras name: `"cpu:0"` or `"gpu:N"`.
pub fn device_name() -> String {
    DeviceKind::of(&device()).name()
}

/// As Keras (JAX, TensorFlow) picks: the first GPU when there is a usable one.
fn default_device() -> Device {
    if ops::cuda_built() {
        if let Ok(d) = ops::open_device("gpu:0") {
            return d;
        }
    }
    Device::Cpu
}

/// Makes `device` the process-wide device for new weights (a bad name or an unusable device is
/// an error, and nothing changes).
///
/// ```
/// keras::config::set_device("cpu")?;
/// assert!(keras::config::device().is_cpu());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn set_device(device: impl IntoDevice) -> Result<()> {
    let d = device.into_device()?;
    *GLOBAL.lock().unwrap_or_else(|e| e.into_inner()) = Some(d);
    Ok(())
}

/// Runs `f` with `device` as this thread's device for new weights (Keras's
/// `with keras.device(name):`); the previous one is back afterwards, also if `f` panics.
///
/// ```
/// use keras::prelude::*;
/// let model = keras::config::with_device("cpu", || -> keras::Result<Model> {
///     let model = Sequential::from_layers([Input::new([4]).into(), Dense::new(2).into()])?;
///     Ok(model.into_model())
/// })??;
/// assert!(model.device().is_cpu());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn with_device<T>(device: impl IntoDevice, f: impl FnOnce() -> T) -> Result<T> {
    let d = device.into_device()?;
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            SCOPE.with(|s| {
                s.borrow_mut().pop();
            });
        }
    }
    SCOPE.with(|s| s.borrow_mut().push(d));
    let _pop = Pop;
    Ok(f())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_unwind() {
        let before = device_name();
        with_device("cpu:0", || {
            assert_eq!(device_name(), "cpu:0");
            with_device(Device::Cpu, || assert!(device().is_cpu())).unwrap();
        })
        .unwrap();
        let r = std::panic::catch_unwind(|| with_device("cpu", || panic!("inside")));
        assert!(r.is_err());
        assert_eq!(device_name(), before);
        SCOPE.with(|s| assert!(s.borrow().is_empty()));
    }

    #[test]
    fn bad_names_change_nothing() {
        let before = device_name();
        let e = set_device("npu:0").unwrap_err().to_string();
        assert!(e.contains("'npu:0'"), "{e}");
        assert!(with_device("gpu:x", || ()).is_err());
        assert_eq!(device_name(), before);
    }
}
