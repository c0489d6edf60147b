//! Devices by Keras's names: `"cpu"`, `"gpu"` / `"cuda"` (device 0), `"gpu:1"` / `"cuda:1"`.
//! Opening a CUDA device needs a build with the `cuda` feature, the NVIDIA driver
//! (`libcuda.so.1`) and the CUDA 13 libraries candle loads (`libcublas.so.13`,
//! `libcublasLt.so.13`, `libcurand.so.10`); whatever is missing is named in the error, never a
//! panic.
//!
//! ```
//! use keras::ops;
//! assert!(ops::open_device("cpu")?.is_cpu());
//! assert!(ops::open_device("tpu:0").is_err());
//! # Ok::<(), keras::Error>(())
//! ```

use super::Device;
use crate::{Error, Result};

/// A device name parsed: the CPU, or a CUDA device by ordinal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// The host.
    Cpu,
    /// An NVIDIA GPU by ordinal (`"gpu:0"`, `"cuda:0"`).
    Cuda(usize),
}

impl DeviceKind {
    /// Parses `"cpu"`, `"cpu:0"`, `"gpu"`, `"gpu:N"`, `"cuda"`, `"cuda:N"` (any case).
    ///
    /// ```
    /// use keras::ops::DeviceKind;
    /// assert_eq!(DeviceKind::parse("GPU:1")?, DeviceKind::Cuda(1));
    /// assert_eq!(DeviceKind::parse("cpu")?, DeviceKind::Cpu);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn parse(name: &str) -> Result<DeviceKind> {
        let lower = name.trim().to_ascii_lowercase();
        let (kind, index) = match lower.split_once(':') {
            Some((k, i)) => (k.to_string(), Some(i.to_string())),
            None => (lower.clone(), None),
        };
        let ordinal = match &index {
            None => 0,
            Some(i) => i.parse::<usize>().map_err(|_| bad_name(name))?,
        };
        match kind.as_str() {
            "cpu" if ordinal == 0 => Ok(DeviceKind::Cpu),
            "gpu" | "cuda" => Ok(DeviceKind::Cuda(ordinal)),
            _ => Err(bad_name(name)),
        }
    }

    /// The Keras name: `"cpu:0"` or `"gpu:N"`.
    pub fn name(self) -> String {
        match self {
            DeviceKind::Cpu => "cpu:0".into(),
            DeviceKind::Cuda(i) => format!("gpu:{i}"),
        }
    }

    /// The kind of an open device.
    pub fn of(device: &Device) -> DeviceKind {
        match device.location() {
            candle_core::DeviceLocation::Cuda { gpu_id } => DeviceKind::Cuda(gpu_id),
            _ => DeviceKind::Cpu,
        }
    }
}

fn bad_name(name: &str) -> Error {
    Error::value(format!(
        "Invalid device name: '{name}'. Expected 'cpu', 'gpu', 'gpu:<index>' or \
         'cuda:<index>'."
    ))
}

/// Opens the device a Keras name stands for.
///
/// ```
/// let cpu = keras::ops::open_device("cpu:0")?;
/// assert!(cpu.is_cpu());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn open_device(name: &str) -> Result<Device> {
    match DeviceKind::parse(name)? {
        DeviceKind::Cpu => Ok(Device::Cpu),
        DeviceKind::Cuda(i) => open_cuda(name, i),
    }
}

/// Whether this build can use CUDA at all (the `cuda` feature).
pub fn cuda_built() -> bool {
    cfg!(feature = "cuda")
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(name: &str, _ordinal: usize) -> Result<Device> {
    Err(Error::runtime(format!(
        "Device '{name}' was requested, but keras-rs was built without the `cuda` feature. \
         Rebuild with `--features cuda` (scripts/build-cuda.sh builds it without a CUDA \
         toolkit), or use 'cpu'."
    )))
}

#[cfg(feature = "cuda")]
fn open_cuda(name: &str, ordinal: usize) -> Result<Device> {
    use std::sync::Mutex;
    // Opened devices are kept: candle makes a new context and stream per `new_cuda`.
    static OPEN: Mutex<Vec<(usize, Device)>> = Mutex::new(Vec::new());
    let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, d)) = open.iter().find(|(i, _)| *i == ordinal) {
        return Ok(d.clone());
    }
    let missing = missing_cuda_libraries();
    if !missing.is_empty() {
        return Err(Error::runtime(format!(
            "Device '{name}' was requested, but CUDA is not usable on this machine: cannot \
             load {}. LD_LIBRARY_PATH={:?}. The driver library comes with the NVIDIA driver; \
             the others with the CUDA 13 runtime (pip: nvidia-cublas nvidia-curand, or \
             PyTorch's cu130 wheels: site-packages/nvidia/cu13/lib).",
            missing.join(", "),
            std::env::var("LD_LIBRARY_PATH").unwrap_or_default()
        )));
    }
    // cudarc panics on some driver failures (a symbol an old driver lacks): an error too.
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(|| Device::new_cuda(ordinal));
    std::panic::set_hook(prev);
    let device = match r {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            return Err(Error::runtime(format!(
                "Device '{name}' could not be opened: {} (CUDA_ERROR_NO_DEVICE or \
                 CUDA_ERROR_INVALID_DEVICE: no such GPU is visible; see nvidia-smi and \
                 CUDA_VISIBLE_DEVICES)",
                e.to_string().lines().next().unwrap_or_default()
            )))
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown failure".into());
            return Err(Error::runtime(format!(
                "Device '{name}': CUDA initialisation failed: {msg}"
            )));
        }
    };
    open.push((ordinal, device.clone()));
    Ok(device)
}

/// The CUDA libraries a `cuda` build loads at run time that cannot be loaded here (empty when
/// all can). A build linked against CUDA at build time (no `dynamic-loading`) has them all,
/// or would not have started.
///
/// ```
/// let missing = keras::ops::missing_cuda_libraries();
/// # let _ = missing;
/// ```
pub fn missing_cuda_libraries() -> Vec<String> {
    // The names cudarc tries, first the unversioned one (as it does).
    const LIBS: [(&str, &[&str]); 4] = [
        (
            "libcuda.so.1 (the NVIDIA driver)",
            &["libcuda.so", "libcuda.so.1"],
        ),
        ("libcublas.so.13", &["libcublas.so", "libcublas.so.13"]),
        (
            "libcublasLt.so.13",
            &["libcublasLt.so", "libcublasLt.so.13"],
        ),
        ("libcurand.so.10", &["libcurand.so", "libcurand.so.10"]),
    ];
    LIBS.iter()
        .filter(|(_, names)| !names.iter().any(|n| can_load(n)))
        .map(|(what, _)| what.to_string())
        .collect()
}

fn can_load(name: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(name) else {
        return false;
    };
    // SAFETY: dlopen with a valid C string; the handle is closed at once (the library stays
    // mapped if candle has it open already).
    unsafe {
        let h = libc::dlopen(c.as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL);
        if h.is_null() {
            return false;
        }
        libc::dlclose(h);
    }
    true
}

/// Tensors moved to `device`; borrowed as they are when all are there already.
///
/// ```
/// use keras::ops::{self, Device, Tensor};
/// let t = vec![Tensor::new(&[1f32], &Device::Cpu)?];
/// assert!(matches!(ops::to_device_all(&t, &Device::Cpu)?, std::borrow::Cow::Borrowed(_)));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn to_device_all<'a>(
    ts: &'a [super::Tensor],
    device: &Device,
) -> Result<std::borrow::Cow<'a, [super::Tensor]>> {
    if ts.iter().all(|t| t.device().same_device(device)) {
        return Ok(std::borrow::Cow::Borrowed(ts));
    }
    Ok(std::borrow::Cow::Owned(
        ts.iter()
            .map(|t| t.to_device(device))
            .collect::<candle_core::Result<Vec<_>>>()?,
    ))
}

/// Whether our host kernels take `x` as it is: on the CPU, in float32 or float64.
pub(crate) fn host_kernel_takes(x: &super::Tensor) -> bool {
    x.device().is_cpu() && matches!(x.dtype(), super::DType::F32 | super::DType::F64)
}

/// Runs a host-only kernel `f` on tensors from elsewhere or in a half type: they are moved to
/// the host (half types widened to float32), and the result goes back to the first input's
/// device and dtype. Both moves have gradients, so training works; on a GPU this is a round
/// trip per call, the fallback until the op has a device kernel of its own.
pub(crate) fn on_host(
    xs: &[&super::Tensor],
    f: impl FnOnce(&[super::Tensor]) -> Result<super::Tensor>,
) -> Result<super::Tensor> {
    use super::DType;
    let (device, dtype) = (xs[0].device().clone(), xs[0].dtype());
    let host = xs
        .iter()
        .map(|x| {
            let x = x.to_device(&Device::Cpu)?;
            Ok(match x.dtype() {
                DType::F16 | DType::BF16 => x.to_dtype(DType::F32)?,
                _ => x,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let y = f(&host)?;
    let y = if y.dtype() != dtype && matches!(dtype, DType::F16 | DType::BF16) {
        y.to_dtype(dtype)?
    } else {
        y
    };
    Ok(y.to_device(&device)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_kernels_widen_half_types_with_gradients() {
        use crate::ops::{DType, Tensor, Var};
        let v = Var::new(&[[1f32, -2.0], [3.0, 0.5]], &Device::Cpu).unwrap();
        let x = v.as_tensor().to_dtype(DType::BF16).unwrap();
        assert!(!host_kernel_takes(&x));
        let y = on_host(&[&x], |h| {
            assert_eq!(h[0].dtype(), DType::F32);
            Ok((h[0].clone() * 3.0)?)
        })
        .unwrap();
        assert_eq!(y.dtype(), DType::BF16);
        let g = y.sum_all().unwrap().backward().unwrap();
        let gv: Vec<f32> = g
            .get(v.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(gv, vec![3.0; 4]);
        let _ = Tensor::new(0f32, &Device::Cpu);
    }

    #[test]
    fn names_parse_as_keras_writes_them() {
        assert_eq!(DeviceKind::parse("cpu").unwrap(), DeviceKind::Cpu);
        assert_eq!(DeviceKind::parse("CPU:0").unwrap(), DeviceKind::Cpu);
        assert_eq!(DeviceKind::parse("gpu").unwrap(), DeviceKind::Cuda(0));
        assert_eq!(DeviceKind::parse("cuda:3").unwrap(), DeviceKind::Cuda(3));
        assert_eq!(DeviceKind::Cuda(2).name(), "gpu:2");
        for bad in ["tpu", "gpu:x", "cpu:1", "", "cuda:-1"] {
            let e = DeviceKind::parse(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_names_the_feature() {
        let e = open_device("gpu:0").unwrap_err().to_string();
        assert!(e.contains("'gpu:0'") && e.contains("`cuda` feature"), "{e}");
    }

    #[cfg(feature = "cuda")]
    #[test]
    fn cuda_without_a_driver_names_the_library() {
        // Runs where it can say something: on a machine without the driver.
        if !can_load("libcuda.so.1") && !can_load("libcuda.so") {
            let e = open_device("cuda:0").unwrap_err().to_string();
            assert!(e.contains("libcuda.so.1"), "{e}");
        }
    }
}
