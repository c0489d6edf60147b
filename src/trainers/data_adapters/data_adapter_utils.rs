//! Helpers the adapters share, as Keras's `data_adapter_utils.py`.

use crate::ops::{DType, Tensor};
use crate::trainers::Data;
use crate::{Error, Result};
use std::collections::HashMap;

/// Class indices of targets: the argmax of one-hot rows, else the rounded labels.
fn class_indices(y: &Tensor) -> Result<Vec<i64>> {
    if y.rank() >= 3 {
        return Err(Error::value(format!(
            "`class_weight` not supported for 3+ dimensional targets. Received: targets of \
             shape {:?}",
            y.dims()
        )));
    }
    let y = if y.rank() > 1 && *y.dims().last().unwrap_or(&1) != 1 {
        y.argmax(y.rank() - 1)?.to_dtype(DType::F64)?
    } else {
        y.to_dtype(DType::F64)?
    };
    Ok(y.flatten_all()?
        .to_vec1::<f64>()?
        .into_iter()
        .map(|v| v.round() as i64)
        .collect())
}

/// Keras's `class_weight_to_sample_weights`: each sample's weight is its class's weight (1
/// for classes not listed); one-hot targets are read by their argmax.
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::class_weight_to_sample_weights;
/// use std::collections::HashMap;
/// let y = Tensor::new(&[0u32, 1, 1, 2], &Device::Cpu)?;
/// let w = class_weight_to_sample_weights(&y, &HashMap::from([(1, 5.0)]))?;
/// assert_eq!(w.to_vec1::<f32>()?, vec![1.0, 5.0, 5.0, 1.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn class_weight_to_sample_weights(
    y: &Tensor,
    class_weight: &HashMap<usize, f64>,
) -> Result<Tensor> {
    let w: Vec<f32> = class_indices(y)?
        .into_iter()
        .map(|c| {
            usize::try_from(c)
                .ok()
                .and_then(|c| class_weight.get(&c))
                .map_or(1.0, |&w| w as f32)
        })
        .collect();
    let n = w.len();
    Ok(Tensor::from_vec(w, n, y.device())?)
}

/// The sample weights of one batch in the model's order (empty when none): the given ones
/// (one array for every output, or one per output), or those a `class_weight` gives a
/// single-output model. `both_given` is the error when both are (Keras words it differently
/// in `fit` and in `train_on_batch`).
pub(crate) fn batch_sample_weights(
    sample_weight: Option<Data>,
    class_weight: Option<&HashMap<usize, f64>>,
    ys: &[Tensor],
    outputs: &[String],
    both_given: &str,
) -> Result<Vec<Tensor>> {
    let sw = match sample_weight {
        None => vec![],
        Some(Data::One(t)) => vec![t],
        Some(w) => w.resolve(outputs, "sample_weight")?,
    };
    let Some(cw) = class_weight else {
        return Ok(sw);
    };
    if !sw.is_empty() {
        return Err(Error::value(both_given));
    }
    if ys.len() != 1 {
        return Err(Error::value(
            "`class_weight` is only supported for Models with a single output.",
        ));
    }
    Ok(vec![class_weight_to_sample_weights(&ys[0], cw)?])
}

/// Refuses a `class_weight` that names a class the targets do not have (Keras silently
/// ignores it; it is almost always a wrong key). Only checked when all targets are known
/// (arrays).
pub(crate) fn check_classes_present(y: &Tensor, class_weight: &HashMap<usize, f64>) -> Result<()> {
    let mut present: Vec<i64> = class_indices(y)?;
    present.sort_unstable();
    present.dedup();
    let mut missing: Vec<usize> = class_weight
        .keys()
        .copied()
        .filter(|c| present.binary_search(&(*c as i64)).is_err())
        .collect();
    missing.sort_unstable();
    if let Some(c) = missing.first() {
        return Err(Error::value(format!(
            "`class_weight` names class {c}, which the targets do not contain. Classes present: \
             {present:?}. Received: class_weight keys {:?}",
            {
                let mut k: Vec<_> = class_weight.keys().collect();
                k.sort();
                k
            }
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    #[test]
    fn one_hot_and_sparse_targets() {
        let cw = HashMap::from([(0, 2.0), (2, 0.5)]);
        let y = Tensor::new(&[[0f32, 0., 1.], [1., 0., 0.], [0., 1., 0.]], &Device::Cpu).unwrap();
        let w = class_weight_to_sample_weights(&y, &cw).unwrap();
        assert_eq!(w.to_vec1::<f32>().unwrap(), vec![0.5, 2.0, 1.0]);
        let y = Tensor::new(&[[2f32], [0.], [1.]], &Device::Cpu).unwrap();
        let w = class_weight_to_sample_weights(&y, &cw).unwrap();
        assert_eq!(w.to_vec1::<f32>().unwrap(), vec![0.5, 2.0, 1.0]);
        assert!(check_classes_present(&y, &cw).is_ok());
        let e = check_classes_present(&y, &HashMap::from([(7, 1.0)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("class 7") && e.contains("[0, 1, 2]"), "{e}");
        let seq = Tensor::zeros((2, 3, 4), DType::F32, &Device::Cpu).unwrap();
        let e = class_weight_to_sample_weights(&seq, &cw)
            .unwrap_err()
            .to_string();
        assert!(e.contains("3+ dimensional targets"), "{e}");
    }
}
