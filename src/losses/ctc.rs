//! Connectionist temporal classification: Keras's `CTC` loss and `ctc` function, for
//! sequence labelling without alignments (speech, handwriting).

use super::builtin::Builtin;
use super::tensors::floats;
use super::{Reduced, Reduction};
use crate::ops::{self, Tensor};
use crate::serialization::Cfg;
use crate::{Error, Result};

/// Keras's `ctc(y_true, y_pred)`: the CTC loss of each sequence, `y_true` of shape
/// `(batch, max_label_length)` holding class indices (0 is the blank and pads the labels:
/// each row's label length is its count of nonzero entries), `y_pred` the unnormalized
/// logits `(batch, time, classes)`, every step of it used.
///
/// ```
/// use keras::prelude::*;
/// let z = Tensor::new(&[[[0f32, 0.0], [0.0, 0.0]]], &Device::Cpu)?;
/// let y = Tensor::new(&[[1f32]], &Device::Cpu)?;
/// let v = keras::losses::ctc(&y, &z)?.to_vec1::<f32>()?;
/// assert!((v[0] - (4f32 / 3.0).ln()).abs() < 1e-6);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn ctc(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    if y_true.rank() != 2 {
        return Err(Error::value(format!(
            "ctc: Targets `y_true` are expected to be a tensor of shape `(batch_size, \
             max_length)` in integer format. Received: y_true.shape={}",
            crate::engine::tuple(y_true.dims())
        )));
    }
    if y_pred.rank() != 3 {
        return Err(Error::value(format!(
            "ctc: Logits `y_pred` are expected to be a tensor of shape `(batch_size, \
             max_length, num_classes)`. Received: y_pred.shape={}",
            crate::engine::tuple(y_pred.dims())
        )));
    }
    let (t, p) = floats(y_true, y_pred)?;
    let (b, steps) = (p.dims()[0], p.dims()[1]);
    let l = t.dims()[1];
    let lv = ops::to_vec_f64(&t)?;
    let label_len: Vec<usize> = lv
        .chunks(l.max(1))
        .take(b)
        .map(|row| row.iter().filter(|&&v| v != 0.0).count())
        .collect();
    ops::ctc_loss(&p, &t, &label_len, &vec![steps; b], 0)
}

/// The CTC loss: integer labels `(batch, max_label_length)` padded with 0 (the blank)
/// against logits `(batch, time, classes)`; one value per sequence.
#[derive(Clone, Copy, Debug, Default)]
pub struct CTC;

impl CTC {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for CTC {
    const NAME: &'static str = "ctc";
    const CLASS: &'static str = "CTC";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(CTC)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        ctc(y_true, y_pred)
    }
}
