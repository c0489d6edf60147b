//! `IoU`, `MeanIoU`, `BinaryIoU`, `OneHotIoU`, `OneHotMeanIoU` (Keras's
//! `keras/src/metrics/iou_metrics.py`): intersection over union per class, `tp / (tp + fp +
//! fn)`, from a `(num_classes, num_classes)` confusion matrix, averaged over target classes.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, MeanIoU};
//! let mut m = MeanIoU::new(2)?;
//! let y = Tensor::new(&[0f32, 0., 1., 1.], &Device::Cpu)?;
//! let p = Tensor::new(&[0f32, 1., 0., 1.], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert!((m.result() - 1.0 / 3.0).abs() < 1e-6);
//! # Ok::<(), keras::Error>(())
//! ```

use super::confusion_metrics::{in_metric, read_dtype};
use super::metrics_utils::EPSILON;
use super::{Direction, Metric};
use crate::engine::tuple;
use crate::ops::{self, DType, Device, Tensor};
use crate::serialization::{json, object, Cfg, Map, Value};
use crate::{Error, Result};
use std::marker::PhantomData;

pub use super::iou_kinds::{
    AllClassesIoU, IoUKind, OneHotAllClassesIoU, OneHotTargetIoU, TargetIoU, ThresholdIoU,
};

/// An intersection-over-union metric (see the five aliases below). The confusion matrix is
/// `int32` by default, as in Keras (float sample weights are truncated); `dtype="float32"`
/// keeps them.
#[derive(Clone, Debug)]
pub struct IoUMetric<K: IoUKind> {
    name: String,
    num_classes: usize,
    target_class_ids: Vec<usize>,
    ignore_class: Option<i64>,
    sparse_y_true: bool,
    sparse_y_pred: bool,
    axis: isize,
    threshold: f64,
    dtype: &'static str,
    total_cm: Tensor,
    _kind: PhantomData<K>,
}

/// Keras's `IoU(num_classes, target_class_ids, ignore_class=None, sparse_y_true=True,
/// sparse_y_pred=True, axis=-1)`: the mean IoU of the target classes.
pub type IoU = IoUMetric<TargetIoU>;
/// Keras's `MeanIoU(num_classes, ...)`: the mean IoU of every class.
pub type MeanIoU = IoUMetric<AllClassesIoU>;
/// Keras's `BinaryIoU(target_class_ids=(0, 1), threshold=0.5)`: predictions at or above
/// `threshold` are class 1.
pub type BinaryIoU = IoUMetric<ThresholdIoU>;
/// Keras's `OneHotIoU(num_classes, target_class_ids, ...)`: one-hot labels, score predictions.
pub type OneHotIoU = IoUMetric<OneHotTargetIoU>;
/// Keras's `OneHotMeanIoU(num_classes, ...)`.
pub type OneHotMeanIoU = IoUMetric<OneHotAllClassesIoU>;

impl<K: IoUKind> IoUMetric<K> {
    fn build(num_classes: usize, target_class_ids: Vec<usize>) -> Result<Self> {
        let targets = if K::MEAN {
            (0..num_classes).collect()
        } else {
            target_class_ids
        };
        match targets.iter().max() {
            None => {
                return Err(Error::value(format!(
                    "{}: `target_class_ids` should name at least one class",
                    K::CLASS
                )))
            }
            Some(&m) if m >= num_classes => {
                return Err(Error::value(format!(
                    "Target class id {m} is out of range, which is [0, {num_classes})."
                )))
            }
            _ => {}
        }
        Ok(IoUMetric {
            name: K::NAME.to_string(),
            num_classes,
            target_class_ids: targets,
            ignore_class: None,
            sparse_y_true: K::SPARSE_Y_TRUE,
            sparse_y_pred: K::SPARSE_Y_PRED,
            axis: -1,
            threshold: 0.5,
            dtype: "int32",
            total_cm: Tensor::zeros((num_classes, num_classes), DType::I64, &Device::Cpu)?,
            _kind: PhantomData,
        })
    }

    fn state_dtype(&self) -> DType {
        if self.dtype == "int32" {
            DType::I64
        } else {
            DType::F32
        }
    }

    /// Renames the metric (the name shown in logs).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Labels equal to `class` are left out.
    pub fn ignore_class(mut self, class: i64) -> Self {
        self.ignore_class = Some(class);
        self
    }

    /// The axis holding the classes of non-sparse inputs (-1 by default).
    pub fn axis(mut self, axis: isize) -> Self {
        self.axis = axis;
        self
    }

    /// Predictions are class ids (`true`) or per-class scores to arg-max (`false`).
    pub fn sparse_y_pred(mut self, sparse: bool) -> Self {
        self.sparse_y_pred = sparse;
        self
    }

    /// The confusion matrix's dtype: `"int32"` (Keras's default) or `"float32"`.
    pub fn dtype(mut self, dtype: &str) -> Result<Self> {
        self.dtype = match dtype {
            "int32" => "int32",
            "float32" => "float32",
            o => {
                return Err(Error::value(format!(
                    "{}: dtype should be \"int32\" or \"float32\"; received {o:?}",
                    K::CLASS
                )))
            }
        };
        self.total_cm = Tensor::zeros(
            (self.num_classes, self.num_classes),
            self.state_dtype(),
            &Device::Cpu,
        )?;
        Ok(self)
    }

    /// The metric a Keras config describes.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let has = |k: &str| K::KEYS.contains(&k);
        let num_classes = if K::BINARY {
            2
        } else {
            c.usize("num_classes")?
        };
        let targets = if !has("target_class_ids") {
            vec![]
        } else if K::BINARY && c.get("target_class_ids").is_none() {
            vec![0, 1]
        } else {
            c.usizes("target_class_ids")?
        };
        let mut m = Self::build(num_classes, targets)?
            .name(c.str_or("name", K::NAME)?)
            .dtype(read_dtype(c, &["int32", "float32"])?)?;
        if has("ignore_class") {
            if let Some(v) = c.get("ignore_class") {
                m.ignore_class = Some(
                    v.as_i64()
                        .ok_or_else(|| c.bad("ignore_class", "an integer"))?,
                );
            }
        }
        if has("sparse_y_true") {
            m.sparse_y_true = c.bool_or("sparse_y_true", K::SPARSE_Y_TRUE)?;
        }
        if has("sparse_y_pred") {
            m.sparse_y_pred = c.bool_or("sparse_y_pred", K::SPARSE_Y_PRED)?;
        }
        if has("axis") {
            m.axis = c.isize_or("axis", -1)?;
        }
        if has("threshold") {
            m.threshold = c.f64_or("threshold", 0.5)?;
        }
        Ok(m)
    }

    fn class_ids(&self, t: &Tensor, sparse: bool) -> Result<Tensor> {
        let t = if sparse {
            t.clone()
        } else {
            let r = t.rank() as isize;
            let axis = if self.axis < 0 {
                self.axis + r
            } else {
                self.axis
            };
            if axis < 0 || axis >= r {
                return Err(Error::value(format!(
                    "axis={} is out of range for an input of shape {}",
                    self.axis,
                    tuple(t.dims())
                )));
            }
            t.argmax(axis as usize)?
        };
        // Keras converts to the metric's integer dtype: truncation toward zero.
        let t = ops::cast(&t, DType::F32)?;
        Ok(t.to_dtype(DType::I64)?
            .to_dtype(DType::F32)?
            .flatten_all()?)
    }

    fn update(&mut self, y_true: &Tensor, y_pred: &Tensor, w: Option<&Tensor>) -> Result<()> {
        let y_pred = if K::BINARY {
            ops::cast(y_pred, DType::F32)?
                .ge(self.threshold as f32)?
                .to_dtype(DType::F32)?
        } else {
            y_pred.clone()
        };
        let yt = self.class_ids(y_true, self.sparse_y_true)?;
        let yp = self.class_ids(&y_pred, self.sparse_y_pred)?;
        let n = yt.elem_count();
        if yp.elem_count() != n {
            return Err(Error::shape(format!(
                "y_true and y_pred should hold as many class ids; received y_true.shape={} and \
                 y_pred.shape={}",
                tuple(y_true.dims()),
                tuple(y_pred.dims())
            )));
        }
        let dev = y_pred.device();
        let w = match w {
            None => Tensor::ones(n, DType::F32, dev)?,
            Some(w) => {
                let w = ops::cast(w, DType::F32)?.flatten_all()?;
                match w.elem_count() {
                    1 => w.broadcast_as(n)?.contiguous()?,
                    m if m == n => w,
                    _ => {
                        return Err(Error::shape(format!(
                        "sample_weight of shape {} does not fit {n} class ids (y_true.shape={})",
                        tuple(w.dims()),
                        tuple(y_true.dims())
                    )))
                    }
                }
            }
        };
        let c = self.num_classes as f32;
        let mut mask = yt
            .ge(0f32)?
            .mul(&yt.lt(c)?)?
            .mul(&yp.ge(0f32)?)?
            .mul(&yp.lt(c)?)?;
        if let Some(ig) = self.ignore_class {
            mask = mask.mul(&yt.ne(ig as f32)?)?;
        }
        let mask = mask.to_dtype(DType::F32)?;
        let index = yt
            .mul(&mask)?
            .affine(c as f64, 0.0)?
            .add(&yp.mul(&mask)?)?
            .to_dtype(DType::U32)?;
        let w = w.mul(&mask)?.to_dtype(self.state_dtype())?;
        let k = self.num_classes;
        let cm = Tensor::zeros(k * k, self.state_dtype(), dev)?
            .index_add(&index, &w, 0)?
            .reshape((k, k))?;
        self.total_cm = self.total_cm.to_device(dev)?.add(&cm)?;
        Ok(())
    }
}

impl IoU {
    /// The mean IoU of `target_class_ids` among `num_classes` classes.
    pub fn new(num_classes: usize, target_class_ids: &[usize]) -> Result<Self> {
        Self::build(num_classes, target_class_ids.to_vec())
    }

    /// Labels are class ids (`true`) or one-hot rows to arg-max (`false`).
    pub fn sparse_y_true(mut self, sparse: bool) -> Self {
        self.sparse_y_true = sparse;
        self
    }
}

impl MeanIoU {
    /// The mean IoU of all `num_classes` classes.
    pub fn new(num_classes: usize) -> Result<Self> {
        Self::build(num_classes, vec![])
    }

    /// Labels are class ids (`true`) or one-hot rows to arg-max (`false`).
    pub fn sparse_y_true(mut self, sparse: bool) -> Self {
        self.sparse_y_true = sparse;
        self
    }
}

impl BinaryIoU {
    /// Both classes, threshold 0.5.
    pub fn new() -> Self {
        Self::build(2, vec![0, 1]).expect("the defaults are valid")
    }

    /// The classes averaged (among 0 and 1).
    pub fn target_class_ids(self, ids: &[usize]) -> Result<Self> {
        let m = Self::build(2, ids.to_vec())?;
        Ok(IoUMetric {
            target_class_ids: m.target_class_ids,
            ..self
        })
    }

    /// Predictions at or above `threshold` are class 1.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }
}

impl Default for BinaryIoU {
    fn default() -> Self {
        Self::new()
    }
}

impl OneHotIoU {
    /// The mean IoU of `target_class_ids` among `num_classes` one-hot classes.
    pub fn new(num_classes: usize, target_class_ids: &[usize]) -> Result<Self> {
        Self::build(num_classes, target_class_ids.to_vec())
    }
}

impl OneHotMeanIoU {
    /// The mean IoU of all `num_classes` one-hot classes.
    pub fn new(num_classes: usize) -> Result<Self> {
        Self::build(num_classes, vec![])
    }
}

impl<K: IoUKind> Metric for IoUMetric<K> {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        self.update(y_true, y_pred, sample_weight)
            .map_err(|e| in_metric(e, K::CLASS, &self.name))
    }
    fn result(&self) -> f64 {
        let Ok(cm) = ops::to_vec_f64(&self.total_cm) else {
            return f64::NAN;
        };
        let k = self.num_classes;
        let (mut sum, mut valid) = (0f32, 0f32);
        for &c in &self.target_class_ids {
            let row: f64 = (0..k).map(|j| cm[c * k + j]).sum();
            let col: f64 = (0..k).map(|i| cm[i * k + c]).sum();
            let tp = cm[c * k + c];
            let denom = (row + col - tp) as f32;
            if denom > 1e-9 {
                valid += 1.0;
                sum += tp as f32 / (denom + EPSILON as f32);
            }
        }
        (sum / (valid + EPSILON as f32)) as f64
    }
    fn reset_state(&mut self) {
        if let Ok(z) = self.total_cm.zeros_like() {
            self.total_cm = z;
        }
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
    fn get_config(&self) -> Value {
        let all = json!({
            "name": self.name,
            "dtype": self.dtype,
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
            "threshold": self.threshold,
        });
        let config: Map<String, Value> = K::KEYS
            .iter()
            .map(|k| (k.to_string(), all[*k].clone()))
            .collect();
        object("keras.metrics", K::CLASS, Value::Object(config))
    }
    /// `total_confusion_matrix`, `(num_classes, num_classes)`: `int64` here for Keras's
    /// `int32` (or `float32`).
    fn variables(&self) -> Vec<Tensor> {
        vec![self.total_cm.clone()]
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        let k = self.num_classes;
        match values {
            [t] if t.dims() == [k, k] => {
                let t = t.to_dtype(self.state_dtype())?;
                self.total_cm = t.to_device(self.total_cm.device())?;
                Ok(())
            }
            _ => Err(Error::value(format!(
                "{} has one state variable, total_confusion_matrix of shape ({k}, {k}); \
                 received {}",
                K::CLASS,
                values
                    .iter()
                    .map(|t| tuple(t.dims()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    /// Keras's docstring examples.
    #[test]
    fn docstring_values() {
        let mut m = IoU::new(2, &[0]).unwrap();
        m.update_state(
            &t(&[0., 0., 1., 1.], &[4]),
            &t(&[0., 1., 0., 1.], &[4]),
            None,
        )
        .unwrap();
        assert!((m.result() - 1.0 / 3.0).abs() < 1e-6);
        m.reset_state();
        m.update_state(
            &t(&[0., 0., 1., 1.], &[4]),
            &t(&[0., 1., 0., 1.], &[4]),
            Some(&t(&[3., 2., 1., 1.], &[4])),
        )
        .unwrap();
        // cm [[3, 2], [1, 1]]: 3 / (5 + 4 - 3) = 0.5.
        assert!((m.result() - 0.5).abs() < 1e-6);
        let mut b = BinaryIoU::new()
            .target_class_ids(&[0])
            .unwrap()
            .threshold(0.5);
        b.update_state(
            &t(&[0., 1., 0., 1.], &[4]),
            &t(&[0.1, 0.2, 0.4, 0.7], &[4]),
            None,
        )
        .unwrap();
        assert!((b.result() - 2.0 / 3.0).abs() < 1e-6);
        let mut o = OneHotMeanIoU::new(3).unwrap();
        o.update_state(
            &t(&[0., 0., 1., 1., 0., 0., 0., 1., 0., 1., 0., 0.], &[4, 3]),
            &t(
                &[0.2, 0.3, 0.5, 0.1, 0.2, 0.7, 0.5, 0.3, 0.1, 0.1, 0.4, 0.5],
                &[4, 3],
            ),
            Some(&t(&[1., 2., 3., 1.], &[4])),
        )
        .unwrap();
        // cm[0][2] = 3, cm[1][0] = 3, cm[2][2] = 1: only class 2 overlaps, 1 / 4.
        assert!((o.result() - 0.25 / 3.0).abs() < 1e-6, "{}", o.result());
        let e = IoU::new(3, &[3]).unwrap_err().to_string();
        assert_eq!(e, "Target class id 3 is out of range, which is [0, 3).");
        assert_eq!(b.get_config()["config"]["target_class_ids"], json!([0]));
        assert!(b.get_config()["config"].get("num_classes").is_none());
    }
}
