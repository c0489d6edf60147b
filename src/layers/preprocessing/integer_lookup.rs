//! `IntegerLookup`: integers to vocabulary indices (or encodings), and back with `invert`.

use super::index_lookup::IndexLookup;
use super::lookup_layer as ll;
use super::text_data::{ints_of, IntoInts};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{DType, Device, Tensor};
use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};

/// Keras's `IntegerLookup`: maps integers (any integer tensor, read as `int64`) to indices
/// of a vocabulary (given, or learned by [`IntegerLookup::adapt`]), with `num_oov_indices`
/// indices for unknown values (`floormod` or `farmhash` among them) and an optional
/// `mask_token`; `output_mode` encodes them; `invert(true)` maps indices back (OOV: `-1`).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::IntegerLookup;
/// let lookup = IntegerLookup::new().vocabulary(&[12, 36, 1138, 42]).into_layer();
/// let x = Tensor::new(&[[12i64, 1138, 42], [42, 1000, 36]], &Device::Cpu)?;
/// assert_eq!(lookup.apply(&x)?.to_vec2::<i64>()?, vec![vec![1, 3, 4], vec![4, 0, 2]]);
///
/// let mut learned = IntegerLookup::new();
/// learned.adapt(&[12, 36, 12, 7])?;
/// assert_eq!(learned.get_vocabulary(true), [-1, 12, 36, 7]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct IntegerLookup {
    args: LayerArgs,
    lookup: IndexLookup<i64>,
}

impl Default for IntegerLookup {
    fn default() -> Self {
        Self::new()
    }
}

impl IntegerLookup {
    /// Keras's defaults: no size limit, one OOV index (`-1` when inverted), no mask.
    pub fn new() -> Self {
        let mut lookup = IndexLookup::new("IntegerLookup", -1, None);
        lookup.refresh();
        IntegerLookup {
            args: LayerArgs::default(),
            lookup,
        }
    }

    fn with(mut self, f: impl FnOnce(&mut IndexLookup<i64>)) -> Self {
        f(&mut self.lookup);
        self.lookup.refresh();
        self
    }

    /// The largest vocabulary, mask and OOV indices included.
    pub fn max_tokens(self, n: usize) -> Self {
        self.with(|l| l.max_tokens = Some(n))
    }
    /// How many indices unknown values share.
    pub fn num_oov_indices(self, n: usize) -> Self {
        self.with(|l| l.num_oov_indices = n)
    }
    /// The padding value: index 0 in `int` mode, dropped from encodings.
    pub fn mask_token(self, token: i64) -> Self {
        self.with(|l| l.mask_token = Some(token))
    }
    /// The value `invert` gives OOV indices (default `-1`).
    pub fn oov_token(self, token: i64) -> Self {
        self.with(|l| l.oov_token = token)
    }
    /// The vocabulary (optionally led by the mask and OOV tokens); saved in the config.
    pub fn vocabulary(self, terms: &[i64]) -> Self {
        let v = terms.to_vec();
        self.with(|l| {
            l.input_vocabulary = Some(v);
            l.has_input_vocabulary = true;
        })
    }
    /// The inverse document frequencies of `tf_idf` mode, one per vocabulary term.
    pub fn idf_weights(self, w: &[f64]) -> Self {
        self.with(|l| l.input_idf_weights = Some(w.to_vec()))
    }
    /// Map indices to values instead (only with `output_mode="int"`).
    pub fn invert(self, invert: bool) -> Self {
        self.with(|l| l.invert = invert)
    }
    /// `"int"` (default), `"one_hot"`, `"multi_hot"`, `"count"` or `"tf_idf"`.
    pub fn output_mode(self, mode: &str) -> Self {
        self.with(|l| l.set_output_mode(mode))
    }
    /// Encode to `max_tokens` values even when the vocabulary is smaller.
    pub fn pad_to_max_tokens(self, pad: bool) -> Self {
        self.with(|l| l.pad_to_max_tokens = pad)
    }
    /// Sparse outputs: refused, as Keras refuses them outside TensorFlow.
    pub fn sparse(self, sparse: bool) -> Self {
        self.with(|l| l.sparse = sparse)
    }
    /// `"floormod"` (default: `value mod num_oov_indices`) or `"farmhash"` (FarmHash64 of
    /// the decimal value) to pick among several OOV indices.
    pub fn oov_method(self, method: &str) -> Self {
        let m = method.to_string();
        self.with(|l| l.oov_method = m)
    }

    /// The lookup table and its options.
    pub fn lookup(&self) -> &IndexLookup<i64> {
        &self.lookup
    }
    /// An `IntegerLookup` from its Keras config (only `vocabulary_dtype='int64'`).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        if let Some(d) = c.opt_str("vocabulary_dtype")?.filter(|d| *d != "int64") {
            return Err(Error::value(format!(
                "Only `vocabulary_dtype='int64'` is supported at this time. Received: \
                 vocabulary_dtype={d}"
            )));
        }
        let mut l = IntegerLookup::new();
        l.lookup.read_config(c, -1)?;
        apply_base_config(l, c)
    }

    fn layer_name(&self) -> String {
        self.args
            .name
            .clone()
            .unwrap_or_else(|| "integer_lookup".into())
    }

    /// Learns the vocabulary from integers: most frequent first, ties broken by the larger
    /// value, cut to `max_tokens` (Keras's `adapt`).
    pub fn adapt(&mut self, data: impl IntoInts) -> Result<()> {
        let (dims, values) = data.into_ints()?;
        let name = self.layer_name();
        ll::adapt_batches(&mut self.lookup, [Ok(())], None, |l, ()| {
            ll::update_array(l, &name, dims.clone(), values.clone())
        })
    }

    /// [`IntegerLookup::adapt`] over batches (a `keras::data::Dataset`'s `iter()`, any
    /// iterator of integer tensors), at most `steps`; a rank-1 batch is one document.
    pub fn adapt_batches<B: IntoInts>(
        &mut self,
        batches: impl IntoIterator<Item = Result<B>>,
        steps: Option<usize>,
    ) -> Result<()> {
        let name = self.layer_name();
        ll::adapt_batches(&mut self.lookup, batches, steps, |l, b| {
            let (dims, values) = b.into_ints()?;
            ll::update_batch(l, &name, dims, values)
        })
    }

    /// `adapt` on a `keras::data::Dataset` of batches (Keras's `adapt(dataset, steps)`): the
    /// same as [`IntegerLookup::adapt_batches`] over one pass of it.
    pub fn adapt_dataset<B: IntoInts + Send + 'static>(
        &mut self,
        dataset: &crate::data::Dataset<B>,
        steps: Option<usize>,
    ) -> Result<()> {
        self.adapt_batches(dataset.iter()?, steps)
    }

    /// The vocabulary in index order (with the mask and OOV tokens when asked).
    pub fn get_vocabulary(&self, include_special_tokens: bool) -> Vec<i64> {
        self.lookup.get_vocabulary(include_special_tokens)
    }

    /// The vocabulary's size, mask and OOV indices included.
    pub fn vocabulary_size(&self) -> usize {
        self.lookup.vocabulary_size()
    }

    /// Keras's `set_vocabulary` (with IDF weights in `tf_idf` mode).
    pub fn set_vocabulary(&mut self, terms: &[i64], idf_weights: Option<&[f64]>) -> Result<()> {
        self.lookup.check()?;
        self.lookup.set_vocabulary(terms, idf_weights)
    }
}

impl Layer for IntegerLookup {
    fn class_name(&self) -> &str {
        "IntegerLookup"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.lookup.check()
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        self.lookup.check()?;
        Ok(vec![Shape(self.lookup.output_shape(&s[0].0))])
    }
    fn compute_output_dtype(&self, _: &[DType], n: usize) -> Vec<DType> {
        vec![ll::output_dtype(self.lookup.output_mode); n]
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        self.lookup.check()?;
        let (dims, values) = ints_of(&inputs[0]).map_err(|e| {
            Error::value(format!(
                "IntegerLookup layer \"{}\" takes integers: {e}",
                ctx.name
            ))
        })?;
        if self.lookup.invert {
            let back = self.lookup.invert_lookup(&values);
            return Ok(vec![Tensor::from_vec(back, dims, &Device::Cpu)?]);
        }
        Ok(vec![ll::lookup_dense(&self.lookup, &dims, &values)?])
    }
    fn get_config(&self) -> Result<Config> {
        let mut c = Config::new();
        for (k, v) in self.lookup.config_entries() {
            let v = if k == "vocabulary_dtype" {
                Value::from("int64")
            } else {
                v
            };
            c.insert(k.into(), v);
        }
        Ok(c)
    }
    ll::lookup_storage!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;

    #[test]
    fn oov_buckets_and_invert() {
        let l = IntegerLookup::new()
            .vocabulary(&[10, 20])
            .num_oov_indices(2)
            .into_layer();
        let x = Tensor::new(&[10i64, 7, 8, 20], &Device::Cpu).unwrap();
        // floormod: 7 % 2 = 1, 8 % 2 = 0; terms start after the two OOV indices.
        assert_eq!(
            l.apply(&x).unwrap().to_vec1::<i64>().unwrap(),
            vec![2, 1, 0, 3]
        );
        let inv = IntegerLookup::new()
            .vocabulary(&[10, 20])
            .mask_token(0)
            .invert(true)
            .into_layer();
        let i = Tensor::new(&[0i64, 1, 2, 3, 9], &Device::Cpu).unwrap();
        assert_eq!(
            inv.apply(&i).unwrap().to_vec1::<i64>().unwrap(),
            vec![0, -1, 10, 20, -1]
        );
    }
}
