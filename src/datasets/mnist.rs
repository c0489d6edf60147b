//! MNIST handwritten digits (60,000 training and 10,000 test images of 28x28 pixels).

use crate::ops::{npy, Tensor};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Where `load_data` looks for `mnist.npz`, in order: `$KERAS_RS_DATA/mnist.npz`, the
/// repository's `data/mnist.npz`, then `~/.keras/datasets/mnist.npz` (Keras's cache).
pub fn candidates() -> Vec<PathBuf> {
    let mut v = vec![];
    if let Ok(d) = std::env::var("KERAS_RS_DATA") {
        v.push(Path::new(&d).join("mnist.npz"));
    }
    v.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data")
            .join("mnist.npz"),
    );
    v.push(PathBuf::from("data/mnist.npz"));
    if let Some(home) = std::env::var_os("HOME") {
        v.push(
            Path::new(&home)
                .join(".keras")
                .join("datasets")
                .join("mnist.npz"),
        );
    }
    v
}

/// `((x_train, y_train), (x_test, y_test))`: images as `uint8` of shape `(n, 28, 28)`, labels
/// as `uint8` of shape `(n,)`, as `keras.datasets.mnist.load_data()`.
///
/// ```
/// let ((x_train, y_train), (x_test, _)) = keras::datasets::mnist::load_data()?;
/// assert_eq!(x_train.dims(), &[60000, 28, 28]);
/// assert_eq!(y_train.dims(), &[60000]);
/// assert_eq!(x_test.dims(), &[10000, 28, 28]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn load_data() -> Result<((Tensor, Tensor), (Tensor, Tensor))> {
    let path = candidates().into_iter().find(|p| p.is_file()).ok_or_else(|| {
        Error::value(format!(
            "mnist.npz not found; looked in {:?}. The repository ships it in data/; or copy Keras's \
             ~/.keras/datasets/mnist.npz.",
            candidates()
        ))
    })?;
    load_from(&path)
}

/// Reads an `mnist.npz` in Keras's layout from `path`.
pub fn load_from(path: &Path) -> Result<((Tensor, Tensor), (Tensor, Tensor))> {
    let arrays = npy::read_npz(path)?;
    let get = |n: &str| npy::get(&arrays, n).cloned();
    let (xt, yt, xe, ye) = (
        get("x_train")?,
        get("y_train")?,
        get("x_test")?,
        get("y_test")?,
    );
    for (name, t, rank) in [
        ("x_train", &xt, 3),
        ("y_train", &yt, 1),
        ("x_test", &xe, 3),
        ("y_test", &ye, 1),
    ] {
        if t.rank() != rank {
            return Err(Error::format(format!(
                "{}: {name} has shape {:?}, expected rank {rank}",
                path.display(),
                t.dims()
            )));
        }
    }
    Ok(((xt, yt), (xe, ye)))
}
