//! `Discretization` (`keras/src/layers/preprocessing/discretization.py`): bucketizes numbers
//! by bin boundaries, given or computed from data as Keras's approximate quantiles.

use super::adapt::AdaptBatch;
use super::category_encoding::{encode, Encoding};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

/// Keras's quantile summary: sorted values and their weights (float32).
type Summary = (Vec<f32>, Vec<f32>);

fn summarize(values: &[f32], epsilon: f64) -> Summary {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len() as f64;
    let num_buckets = 1.0 / epsilon;
    let step = (n / num_buckets).max(1.0);
    let start = (step - 1.0) as usize;
    let stride = (step as usize).max(1);
    let bounds: Vec<f32> = v.iter().skip(start).step_by(stride).copied().collect();
    let weights = vec![step as f32; bounds.len()];
    (bounds, weights)
}

/// NumPy's `interp` (`xp` increasing).
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    if x < xp[0] {
        return fp[0];
    }
    if x > xp[n - 1] {
        return fp[n - 1];
    }
    let j = xp.partition_point(|&v| v <= x) - 1;
    if j == n - 1 || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    slope * (x - xp[j]) + fp[j]
}

fn compress(s: Summary, epsilon: f64) -> Summary {
    if (s.0.len() as f64) * epsilon < 1.0 {
        return s;
    }
    let count = (1.0 / epsilon).ceil() as usize;
    let percents: Vec<f64> = (0..count).map(|i| epsilon + i as f64 * epsilon).collect();
    let mut cum = Vec::with_capacity(s.1.len());
    let mut acc = 0f32;
    for &w in &s.1 {
        acc += w;
        cum.push(acc);
    }
    let last = *cum.last().unwrap_or(&1.0);
    let xp: Vec<f64> = cum.iter().map(|&c| (c / last) as f64).collect();
    let bins: Vec<f64> = s.0.iter().map(|&b| b as f64).collect();
    let cum64: Vec<f64> = cum.iter().map(|&c| c as f64).collect();
    let new_bins: Vec<f32> = percents
        .iter()
        .map(|&p| interp(p, &xp, &bins) as f32)
        .collect();
    let new_cum: Vec<f64> = percents.iter().map(|&p| interp(p, &xp, &cum64)).collect();
    let new_weights: Vec<f32> = new_cum
        .iter()
        .enumerate()
        .map(|(i, &c)| (c - if i == 0 { 0.0 } else { new_cum[i - 1] }) as f32)
        .collect();
    (new_bins, new_weights)
}

fn merge(prev: Summary, next: &Summary, epsilon: f64) -> Summary {
    let mut pairs: Vec<(f32, f32)> = prev.0.into_iter().zip(prev.1).collect();
    pairs.extend(next.0.iter().copied().zip(next.1.iter().copied()));
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    compress(pairs.into_iter().unzip(), epsilon)
}

/// Buckets numbers by `bin_boundaries`: `x` goes to bin `i` when `b[i-1] <= x < b[i]` (bin 0
/// below the first boundary, bin `len` at or above the last). The bins are given, or computed
/// by [`Discretization::adapt`] for `num_bins` bins of about equal counts (Keras's approximate
/// quantiles with error `epsilon`, default 0.01). `output_mode` `"int"` (default: the bin
/// index, int32), `"one_hot"`, `"multi_hot"` or `"count"`.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::Discretization;
/// let l = Discretization::with_boundaries(&[0.0, 1.0, 2.0]).into_layer();
/// let y = l.apply(&Tensor::new(&[[-1.5f32, 1.0, 0.5, 3.0]], &Device::Cpu)?)?;
/// assert_eq!(y.to_dtype(DType::I64)?.to_vec2::<i64>()?, vec![vec![0, 2, 1, 3]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Discretization {
    args: LayerArgs,
    bin_boundaries: Option<Vec<f64>>,
    num_bins: Option<usize>,
    epsilon: f64,
    output_mode: String,
    summary: Summary,
}

impl Discretization {
    /// Bins between these boundaries (increasing).
    pub fn with_boundaries(bin_boundaries: &[f64]) -> Self {
        Self::from_parts(Some(bin_boundaries.to_vec()), None)
    }
    /// `num_bins` bins, their boundaries computed by `adapt`.
    pub fn with_num_bins(num_bins: usize) -> Self {
        Self::from_parts(None, Some(num_bins))
    }
    pub(crate) fn from_parts(bin_boundaries: Option<Vec<f64>>, num_bins: Option<usize>) -> Self {
        Discretization {
            args: LayerArgs::default(),
            bin_boundaries,
            num_bins,
            epsilon: 0.01,
            output_mode: "int".into(),
            summary: (vec![], vec![]),
        }
    }
    /// The quantile error of `adapt` (default 0.01).
    pub fn epsilon(mut self, e: f64) -> Self {
        self.epsilon = e;
        self
    }
    /// `"int"` (default), `"one_hot"`, `"multi_hot"` or `"count"`.
    pub fn output_mode(mut self, mode: &str) -> Self {
        self.output_mode = mode.into();
        self
    }
    /// The bin boundaries (after `adapt`, the computed ones).
    pub fn bin_boundaries(&self) -> Option<&[f64]> {
        self.bin_boundaries.as_deref()
    }

    fn check(&self) -> Result<Option<Encoding>> {
        let mode = match self.output_mode.as_str() {
            "int" => None,
            "one_hot" | "multi_hot" | "count" => Encoding::parse(&self.output_mode),
            other => {
                return Err(Error::value(format!(
                    "Invalid value for argument `output_mode`. Expected one of ['int', \
                     'one_hot', 'multi_hot', 'count']. Received: output_mode={other}"
                )))
            }
        };
        match (&self.bin_boundaries, self.num_bins) {
            (None, None) => Err(Error::value(
                "You need to set either `num_bins` or `bin_boundaries`.",
            )),
            _ => Ok(mode),
        }
    }

    /// Computes `num_bins` bin boundaries from `data` (Keras's `adapt`).
    pub fn adapt(&mut self, data: &Tensor) -> Result<()> {
        self.adapt_batches([data])
    }

    /// [`Discretization::adapt`] over batches, merged as Keras merges their summaries.
    pub fn adapt_batches<I, B>(&mut self, batches: I) -> Result<()>
    where
        I: IntoIterator<Item = B>,
        B: AdaptBatch,
    {
        let nb = self.num_bins.ok_or_else(|| {
            Error::value(
                "Cannot adapt a Discretization layer that has been initialized with \
                 `bin_boundaries`, use `num_bins` instead.",
            )
        })?;
        self.summary = (vec![], vec![]);
        for b in batches {
            let s = summarize(&ops::to_vec_f32(&b.into_batch()?)?, self.epsilon);
            let prev = std::mem::take(&mut self.summary);
            self.summary = merge(s, &prev, self.epsilon);
        }
        let (mut bins, _) = compress(self.summary.clone(), 1.0 / nb as f64);
        bins.pop();
        self.bin_boundaries = Some(bins.into_iter().map(|b| b as f64).collect());
        Ok(())
    }

    fn depth(&self) -> usize {
        match &self.bin_boundaries {
            Some(b) => b.len() + 1,
            None => self.num_bins.unwrap_or(0),
        }
    }
}

impl Discretization {
    /// A `Discretization` from its Keras config (`bin_boundaries` or `num_bins`;
    /// `sparse=True` is refused).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        c.not_sparse()?;
        let bounds = match c.get("bin_boundaries") {
            None => None,
            Some(Value::Array(_)) => c.opt_f64s("bin_boundaries")?,
            Some(_) => return Err(c.bad("bin_boundaries", "a list of numbers")),
        };
        let l = Discretization::from_parts(bounds, c.opt_usize("num_bins")?)
            .epsilon(c.f64_or("epsilon", 0.01)?)
            .output_mode(c.str_or("output_mode", "int")?);
        apply_base_config(l, c)
    }
}

impl Layer for Discretization {
    fn class_name(&self) -> &str {
        "Discretization"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn base_config(&self, base: Config) -> Config {
        // Keras's Discretization writes only its name and a plain dtype name.
        let mut c = Config::new();
        if let Some(n) = base.get("name") {
            c.insert("name".into(), n.clone());
        }
        let d = ops::dtype_name(self.args.dtype.unwrap_or(DType::F32));
        c.insert("dtype".into(), json!(d));
        c
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "bin_boundaries": self.bin_boundaries.as_ref().map(|b| json!(b)).unwrap_or(Value::Null),
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": false,
        })))
    }
    fn build(&mut self, _: &[Shape], _: &mut crate::engine::WeightBuilder) -> Result<()> {
        self.check().map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let depth = self.depth();
        let d = &s[0].0;
        Ok(vec![match self.check()? {
            None => s[0].clone(),
            Some(Encoding::OneHot) => {
                let mut o = if d.len() > 1 && d[d.len() - 1] == Some(1) {
                    d[..d.len() - 1].to_vec()
                } else {
                    d.clone()
                };
                o.push(Some(depth));
                Shape(o)
            }
            Some(_) if d.len() >= 2 => {
                let mut o = vec![d[0]];
                o.extend_from_slice(&d[2..]);
                o.push(Some(depth));
                Shape(o)
            }
            Some(_) => Shape(vec![Some(depth)]),
        }])
    }
    fn compute_output_dtype(&self, _: &[DType], n: usize) -> Vec<DType> {
        match self.output_mode.as_str() {
            "int" => vec![DType::I32; n],
            _ => vec![self.args.dtype.unwrap_or(DType::F32); n],
        }
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let mode = self.check()?;
        let bounds: Vec<f32> =
            match &self.bin_boundaries {
                Some(b) => b.iter().map(|&v| v as f32).collect(),
                None => return Err(Error::value(
                    "You need to either pass the `bin_boundaries` argument at construction time \
                     or call `adapt(dataset)` before you can start using the `Discretization` \
                     layer.",
                )),
            };
        let x = &inputs[0];
        let ids: Vec<i64> = ops::to_vec_f32(x)?
            .into_iter()
            .map(|v| {
                if v.is_nan() {
                    bounds.len() as i64
                } else {
                    bounds.partition_point(|&b| b <= v) as i64
                }
            })
            .collect();
        let y = match mode {
            None => {
                let v: Vec<i32> = ids.into_iter().map(|i| i as i32).collect();
                Tensor::from_vec(v, x.dims(), x.device())?
            }
            Some(m) => {
                let (v, dims) = encode(&ids, x.dims(), m, bounds.len() + 1, None);
                let t = Tensor::from_vec(v, dims, x.device())?;
                ops::cast(&t, self.args.dtype.unwrap_or(DType::F32))?
            }
        };
        Ok(vec![y])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_matches_numpy() {
        let xp = [0.0, 1.0, 1.0, 2.0];
        let fp = [0.0, 10.0, 20.0, 30.0];
        assert_eq!(interp(-1.0, &xp, &fp), 0.0);
        assert_eq!(interp(0.5, &xp, &fp), 5.0);
        assert_eq!(interp(1.0, &xp, &fp), 20.0);
        assert_eq!(interp(1.5, &xp, &fp), 25.0);
        assert_eq!(interp(3.0, &xp, &fp), 30.0);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Discretization::from_parts(None, None).check().unwrap_err();
        assert!(e
            .to_string()
            .contains("either `num_bins` or `bin_boundaries`"));
        let mut d = Discretization::with_boundaries(&[0.0]);
        let x = Tensor::zeros(3, DType::F32, &crate::ops::Device::Cpu).unwrap();
        assert!(d
            .adapt(&x)
            .unwrap_err()
            .to_string()
            .contains("use `num_bins` instead"));
    }
}
