//! `Normalization` (`keras/src/layers/preprocessing/normalization.py`): `(x - mean) /
//! sqrt(variance)` with statistics given or computed by `adapt`.

use super::adapt::AdaptBatch;
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{ONES, ZEROS};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

/// Statistics given up front: flat values and their shape (`[]` for a number).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stat {
    pub values: Vec<f64>,
    pub shape: Vec<usize>,
}

impl Stat {
    /// Nested lists as NumPy's `tolist()` writes them (a number for shape `[]`).
    fn to_json(&self) -> Value {
        fn nest(v: &[f64], shape: &[usize]) -> Value {
            match shape {
                [] => json!(v[0]),
                [n, rest @ ..] => {
                    let step = rest.iter().product::<usize>();
                    Value::Array((0..*n).map(|i| nest(&v[i * step..], rest)).collect())
                }
            }
        }
        nest(&self.values, &self.shape)
    }

    /// Reads a number or nested lists of numbers.
    pub fn from_json(v: &Value, key: &str) -> Result<Stat> {
        fn walk(v: &Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) -> bool {
            match v {
                Value::Number(n) => {
                    out.push(n.as_f64().unwrap_or(f64::NAN));
                    depth == shape.len()
                }
                Value::Array(a) => {
                    if depth == shape.len() {
                        shape.push(a.len());
                    } else if shape[depth] != a.len() {
                        return false;
                    }
                    a.iter().all(|x| walk(x, depth + 1, shape, out))
                }
                _ => false,
            }
        }
        let (mut shape, mut values) = (vec![], vec![]);
        if !walk(v, 0, &mut shape, &mut values) || values.len() != shape.iter().product::<usize>() {
            return Err(Error::value(format!(
                "Normalization: `{key}` should be a number or a (nested) list of numbers; received {v}"
            )));
        }
        Ok(Stat { values, shape })
    }
}

/// Normalizes inputs to zero mean and unit variance along `axis` (default -1, the features):
/// `(x - mean) / max(sqrt(variance), 1e-7)`, or with `invert` the inverse, `mean + x *
/// sqrt(variance)`. The statistics are either given ([`Normalization::mean_variance`]) or
/// computed from data by [`Normalization::adapt`] / [`super::adapt()`], and then live in the
/// non-trainable weights `mean`, `variance` and `count`, as Keras saves them.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::{adapt, Normalization};
/// let data = Tensor::new(&[[0f32, 10.0], [2.0, 30.0]], &Device::Cpu)?;
/// let norm = Normalization::new().into_layer();
/// adapt(&norm, &data)?;
/// let y = norm.apply(&data)?;
/// assert_eq!(y.to_vec2::<f32>()?, vec![vec![-1.0, -1.0], vec![1.0, 1.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Normalization {
    args: LayerArgs,
    axis: Vec<isize>,
    given: Option<(Stat, Stat)>,
    invert: bool,
    keep: Vec<usize>,
    broadcast: Vec<usize>,
    stat_shape: Vec<usize>,
    weights: Option<(Weight, Weight)>,
    fixed: Option<(Tensor, Tensor)>,
    pending: Option<(Vec<f64>, Vec<f64>, Vec<usize>)>,
}

impl Default for Normalization {
    fn default() -> Self {
        Self::new()
    }
}

impl Normalization {
    /// Normalizes along the last axis.
    pub fn new() -> Self {
        Normalization {
            args: LayerArgs::default(),
            axis: vec![-1],
            given: None,
            invert: false,
            keep: vec![],
            broadcast: vec![],
            stat_shape: vec![],
            weights: None,
            fixed: None,
            pending: None,
        }
    }
    /// The axis that keeps its own statistics (negative counts from the end).
    pub fn axis(mut self, axis: isize) -> Self {
        self.axis = vec![axis];
        self
    }
    /// Several axes that keep their own statistics (`&[]`: Keras's `axis=None`, one mean
    /// and variance for everything).
    pub fn axes(mut self, axes: &[isize]) -> Self {
        self.axis = axes.to_vec();
        self
    }
    /// Denormalize instead: `mean + x * sqrt(variance)`.
    pub fn invert(mut self, invert: bool) -> Self {
        self.invert = invert;
        self
    }
    /// Fixed statistics, one value per entry of the kept axis (a single value applies to all).
    pub fn mean_variance(mut self, mean: &[f64], variance: &[f64]) -> Self {
        let s = |v: &[f64]| Stat {
            values: v.to_vec(),
            shape: vec![v.len()],
        };
        self.given = Some((s(mean), s(variance)));
        self
    }
    /// Fixed statistics of any shape (a rank-0 tensor for one number), broadcast over the
    /// kept axes as in Keras.
    pub fn mean_variance_tensors(mut self, mean: &Tensor, variance: &Tensor) -> Result<Self> {
        let s = |t: &Tensor| -> Result<Stat> {
            Ok(Stat {
                values: ops::to_vec_f64(t)?,
                shape: t.dims().to_vec(),
            })
        };
        self.given = Some((s(mean)?, s(variance)?));
        Ok(self)
    }
    pub(crate) fn given(mut self, g: Option<(Stat, Stat)>) -> Self {
        self.given = g;
        self
    }

    fn check_given(&self) -> Result<()> {
        if let Some((m, v)) = &self.given {
            if m.shape != v.shape {
                return Err(Error::value(format!(
                    "When setting values directly, `mean` and `variance` must have the same \
                     shape. Received: mean shape {:?} and variance shape {:?}",
                    m.shape, v.shape
                )));
            }
            if m.shape.len() > self.axis.len() {
                return Err(Error::value(format!(
                    "The rank of `mean` must be less than or equal to the number of axes ({}). \
                     Received: mean shape {:?} for axis {:?}",
                    self.axis.len(),
                    m.shape,
                    self.axis
                )));
            }
        }
        Ok(())
    }

    /// Mean and (population) variance of `data` over the reduced axes, in f64, shaped as
    /// the kept axes (row-major).
    fn moments(&self, data: &Tensor) -> Result<(Vec<f64>, Vec<f64>, usize)> {
        let dims = data.dims();
        let v = ops::to_vec_f64(data)?;
        let groups: usize = self.stat_shape.iter().product();
        let count = v.len().checked_div(groups).unwrap_or(0);
        let (mut sum, mut sq) = (vec![0f64; groups], vec![0f64; groups]);
        let mut strides = vec![1usize; dims.len()];
        for i in (0..dims.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * dims[i + 1];
        }
        let group_of = |flat: usize| -> usize {
            let mut g = 0;
            for &k in &self.keep {
                g = g * dims[k] + (flat / strides[k]) % dims[k];
            }
            g
        };
        for (i, &x) in v.iter().enumerate() {
            sum[group_of(i)] += x;
        }
        let n = count.max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        for (i, &x) in v.iter().enumerate() {
            let g = group_of(i);
            sq[g] += (x - mean[g]).powi(2);
        }
        Ok((mean, sq.iter().map(|s| s / n).collect(), count))
    }

    fn keep_dims_match(&self, dims: &[usize]) -> Result<()> {
        let ok = dims.len() == self.broadcast.len()
            && self.keep.iter().all(|&k| dims[k] == self.broadcast[k]);
        if !ok {
            return Err(Error::value(format!(
                "The layer was built with an input of shape {:?} on the kept axes, but adapt() is \
                 being called with data with an incompatible shape, data.shape={dims:?}",
                self.broadcast
            )));
        }
        Ok(())
    }

    /// Computes the mean and variance of `data` (a whole data set) along the non-kept axes.
    /// On a built layer the weights are set; otherwise they are kept until the layer builds.
    /// See [`super::adapt()`] for a layer already wrapped in a `LayerRef`.
    pub fn adapt(&mut self, data: &Tensor) -> Result<()> {
        self.adapt_batches([data])
    }

    /// Computes the statistics over batches (each of the data's shape bar the batch axis),
    /// combining them as Keras's `adapt` does for a dataset.
    pub fn adapt_batches<I, B>(&mut self, batches: I) -> Result<()>
    where
        I: IntoIterator<Item = B>,
        B: AdaptBatch,
    {
        if self.given.is_some() {
            return Err(Error::value(
                "Normalization: adapt() cannot be used when `mean` and `variance` were given",
            ));
        }
        let mut total: Option<(Vec<f64>, Vec<f64>, usize)> = None;
        let mut first_dims: Option<Vec<usize>> = None;
        for batch in batches {
            let batch = batch.into_batch()?;
            let dims = batch.dims().to_vec();
            if self.broadcast.is_empty() && self.weights.is_none() {
                self.resolve_axes(&Shape::known(&dims))?;
            }
            self.keep_dims_match(&dims)?;
            first_dims.get_or_insert(dims);
            let (bm, bv, bc) = self.moments(&batch)?;
            total = Some(match total {
                None => (bm, bv, bc),
                Some((tm, tv, tc)) => {
                    let count = tc + bc;
                    let bw = bc as f64 / count.max(1) as f64;
                    let ew = 1.0 - bw;
                    let mut nm = vec![0f64; tm.len()];
                    let mut nv = vec![0f64; tm.len()];
                    for i in 0..tm.len() {
                        nm[i] = tm[i] * ew + bm[i] * bw;
                        nv[i] = (tv[i] + (tm[i] - nm[i]).powi(2)) * ew
                            + (bv[i] + (bm[i] - nm[i]).powi(2)) * bw;
                    }
                    (nm, nv, count)
                }
            });
        }
        let (mean, var, _) = total.ok_or_else(|| {
            Error::value(
                "adapt() received an empty iterable (no batches). Expected at least one batch.",
            )
        })?;
        match &self.weights {
            Some((m, v)) => {
                m.assign(&ops::from_vec(mean, &self.stat_shape)?)?;
                v.assign(&ops::from_vec(var, &self.stat_shape)?)?;
            }
            None => self.pending = Some((mean, var, first_dims.unwrap_or_default())),
        }
        Ok(())
    }

    /// The kept axes, broadcast shape and statistics shape for inputs of shape `s`.
    fn resolve_axes(&mut self, s: &Shape) -> Result<()> {
        let ndim = s.rank() as isize;
        if self.axis.iter().any(|&a| a < -ndim || a >= ndim) {
            return Err(Error::value(format!(
                "All `axis` values must be in the range [-ndim, ndim). Received inputs with \
                 ndim={ndim}, while axis={:?}",
                self.axis
            )));
        }
        let mut keep: Vec<usize> = self
            .axis
            .iter()
            .map(|&a| {
                if a < 0 {
                    (a + ndim) as usize
                } else {
                    a as usize
                }
            })
            .collect();
        keep.sort_unstable();
        keep.dedup();
        let mut broadcast = vec![1usize; s.rank()];
        for &d in &keep {
            broadcast[d] = s.0[d].ok_or_else(|| {
                Error::value(format!(
                    "All `axis` values to be kept must have a known shape. Received axis={:?}, \
                     inputs.shape={s}, with unknown axis at index {d}",
                    self.axis
                ))
            })?;
        }
        self.stat_shape = keep.iter().map(|&d| broadcast[d]).collect();
        self.keep = keep;
        self.broadcast = broadcast;
        Ok(())
    }

    /// The given statistics broadcast to the kept axes (Keras's `build` with `mean`).
    fn broadcast_given(&self, st: &Stat) -> Result<Tensor> {
        let t = ops::from_vec(st.values.iter().map(|&v| v as f32).collect(), &st.shape)?;
        let mut expanded = vec![1usize; self.broadcast.len()];
        for i in 1..=st.shape.len() {
            let k = self.keep[self.keep.len() - i];
            expanded[k] = st.shape[st.shape.len() - i];
        }
        Ok(t.reshape(expanded)?
            .broadcast_as(self.broadcast.clone())?
            .contiguous()?)
    }

    /// The current mean and variance, broadcastable against the inputs.
    fn stats(&self) -> Result<(Tensor, Tensor)> {
        if let Some((m, v)) = &self.fixed {
            return Ok((m.clone(), v.clone()));
        }
        match &self.weights {
            Some((m, v)) => Ok((
                ops::cast(&m.value().reshape(self.broadcast.clone())?, DType::F32)?,
                ops::cast(&v.value().reshape(self.broadcast.clone())?, DType::F32)?,
            )),
            None => Err(Error::value(
                "You must call `.build(input_shape)` on the layer before using it.",
            )),
        }
    }
}

impl Normalization {
    /// A `Normalization` from its Keras config (`axis`: one, a list, or null for none;
    /// `mean` and `variance` together or not at all).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let axes = match c.map.get("axis") {
            None => vec![-1],
            Some(Value::Null) => vec![],
            Some(_) => c.isizes("axis")?,
        };
        let given = match (c.get("mean"), c.get("variance")) {
            (None, None) => None,
            (Some(m), Some(v)) => {
                Some((Stat::from_json(m, "mean")?, Stat::from_json(v, "variance")?))
            }
            _ => {
                return Err(Error::value(
                    "When setting values directly, both `mean` and `variance` must be set.",
                ))
            }
        };
        let l = Normalization::new()
            .axes(&axes)
            .invert(c.bool_or("invert", false)?);
        apply_base_config(l.given(given), c)
    }
}

impl Layer for Normalization {
    fn class_name(&self) -> &str {
        "Normalization"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn get_config(&self) -> Result<Config> {
        let (m, v) = match &self.given {
            Some((m, v)) => (m.to_json(), v.to_json()),
            None => (Value::Null, Value::Null),
        };
        Ok(config(json!({
            "axis": self.axis,
            "invert": self.invert,
            "mean": m,
            "variance": v,
        })))
    }
    fn build(&mut self, s: &[Shape], wb: &mut WeightBuilder) -> Result<()> {
        self.check_given()?;
        self.resolve_axes(&s[0])?;
        if let Some((m, v)) = &self.given {
            self.fixed = Some((self.broadcast_given(m)?, self.broadcast_given(v)?));
            return Ok(());
        }
        let mean = wb.add("mean", &self.stat_shape, &ZEROS, None, false)?;
        let var = wb.add("variance", &self.stat_shape, &ONES, None, false)?;
        let count = Weight::new(
            "count",
            &format!("{}/count", wb.layer_name()),
            Tensor::zeros((), DType::I64, &crate::ops::Device::Cpu)?,
            false,
            None,
        )?;
        wb.weights.push(count);
        if let Some((pm, pv, dims)) = self.pending.take() {
            self.keep_dims_match(&dims)?;
            mean.assign(&ops::from_vec(pm, &self.stat_shape)?)?;
            var.assign(&ops::from_vec(pv, &self.stat_shape)?)?;
        }
        self.weights = Some((mean, var));
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = ops::cast(&inputs[0], DType::F32)?;
        let (mean, var) = self.stats()?;
        let (mean, var) = (mean.to_device(x.device())?, var.to_device(x.device())?);
        let std = var.sqrt()?.maximum(1e-7)?;
        let y = if self.invert {
            x.broadcast_mul(&std)?.broadcast_add(&mean)?
        } else {
            x.broadcast_sub(&mean)?.broadcast_div(&std)?
        };
        Ok(vec![y])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::ops::Device;

    #[test]
    fn stats_round_trip_through_json() {
        let s = Stat::from_json(&json!([[1.0, 2.0], [3.0, 4.0]]), "mean").unwrap();
        assert_eq!(s.shape, vec![2, 2]);
        assert_eq!(s.to_json(), json!([[1.0, 2.0], [3.0, 4.0]]));
        assert_eq!(
            Stat::from_json(&json!(2.5), "mean").unwrap().shape,
            Vec::<usize>::new()
        );
        assert!(Stat::from_json(&json!([[1.0], [2.0, 3.0]]), "mean").is_err());
    }

    #[test]
    fn adapt_before_wrapping_and_given_statistics() {
        let x = Tensor::new(&[[1f32, 4.0], [3.0, 8.0]], &Device::Cpu).unwrap();
        let mut n = Normalization::new();
        n.adapt(&x).unwrap();
        let l = n.into_layer();
        let y = l.apply(&x).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(y, vec![vec![-1.0, -1.0], vec![1.0, 1.0]]);
        assert_eq!(l.weights().len(), 3);
        assert_eq!(l.weights()[2].dtype(), DType::I64);
        let g = Normalization::new()
            .mean_variance(&[1.0, 2.0], &[4.0, 0.0])
            .into_layer();
        let y = g.apply(&x).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(y[0][0], 0.0);
        assert!((y[0][1] / 2e7 - 1.0).abs() < 1e-6, "{y:?}");
        assert!(g.weights().is_empty());
        let e = Normalization::new()
            .axis(3)
            .into_layer()
            .apply(&x)
            .unwrap_err();
        assert!(e.to_string().contains("ndim=2, while axis=[3]"), "{e}");
    }
}
