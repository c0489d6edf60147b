//! `StringLookup`: strings to vocabulary indices (or encodings), and back with `invert`.

use super::index_lookup::IndexLookup;
use super::lookup_layer as ll;
use super::text_data::{IntoStrings, StringArray};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{DType, Tensor};
use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};

/// Keras's `StringLookup`: maps strings to integer indices from a vocabulary (given, or
/// learned by [`StringLookup::adapt`]), with `num_oov_indices` indices for unknown strings
/// and an optional `mask_token`; `output_mode` `"one_hot"`, `"multi_hot"`, `"count"` or
/// `"tf_idf"` encodes them; `invert(true)` maps indices back to strings.
///
/// Input strings are string tensors (zero-padded UTF-8 bytes on a last axis, as
/// [`crate::ops::strings::encode`] makes them); their shape is Keras's shape.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::StringLookup;
/// use keras::ops::strings;
/// let lookup = StringLookup::new().vocabulary(&["a", "b", "c", "d"]).into_layer();
/// let ids = lookup.apply(&strings::encode(&["a", "c", "d", "z"])?)?;
/// assert_eq!(ids.to_vec1::<i64>()?, vec![1, 3, 4, 0]); // "z" is OOV: index 0
///
/// let mut learned = StringLookup::new();
/// learned.adapt(&["b", "a", "b", "c"])?;
/// assert_eq!(learned.get_vocabulary(true), ["[UNK]", "b", "c", "a"]);
///
/// let back = StringLookup::new().vocabulary(&["a", "b"]).invert(true).into_layer();
/// let words = back.apply(&Tensor::new(&[1i64, 2, 0], &Device::Cpu)?)?;
/// assert_eq!(strings::decode(&words)?, ["a", "b", "[UNK]"]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct StringLookup {
    args: LayerArgs,
    lookup: IndexLookup<String>,
    encoding: String,
}

impl Default for StringLookup {
    fn default() -> Self {
        Self::new()
    }
}

impl StringLookup {
    /// Keras's defaults: no vocabulary size limit, one OOV index (`"[UNK]"`), no mask.
    pub fn new() -> Self {
        let mut lookup = IndexLookup::new("StringLookup", "[UNK]".to_string(), None);
        lookup.refresh();
        StringLookup {
            args: LayerArgs::default(),
            lookup,
            encoding: "utf-8".into(),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut IndexLookup<String>)) -> Self {
        f(&mut self.lookup);
        self.lookup.refresh();
        self
    }

    /// The largest vocabulary, mask and OOV indices included.
    pub fn max_tokens(self, n: usize) -> Self {
        self.with(|l| l.max_tokens = Some(n))
    }
    /// How many indices unknown strings share (hashed among them when more than one).
    pub fn num_oov_indices(self, n: usize) -> Self {
        self.with(|l| l.num_oov_indices = n)
    }
    /// The padding string: index 0 in `int` mode, dropped from encodings.
    pub fn mask_token(self, token: impl Into<String>) -> Self {
        self.with(|l| l.mask_token = Some(token.into()))
    }
    /// The string `invert` gives OOV indices (default `"[UNK]"`).
    pub fn oov_token(self, token: impl Into<String>) -> Self {
        self.with(|l| l.oov_token = token.into())
    }
    /// The vocabulary (optionally led by the mask and OOV tokens); it is saved in the config.
    pub fn vocabulary<S: AsRef<str>>(self, terms: &[S]) -> Self {
        let v: Vec<String> = terms.iter().map(|s| s.as_ref().to_string()).collect();
        self.with(|l| {
            l.input_vocabulary = Some(v);
            l.has_input_vocabulary = true;
        })
    }
    /// The inverse document frequencies of `tf_idf` mode, one per vocabulary term.
    pub fn idf_weights(self, w: &[f64]) -> Self {
        self.with(|l| l.input_idf_weights = Some(w.to_vec()))
    }
    /// Map indices to strings instead (only with `output_mode="int"`).
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
    /// The text encoding (only `"utf-8"`).
    pub fn encoding(mut self, encoding: &str) -> Self {
        self.encoding = encoding.to_string();
        self
    }

    /// The lookup table and its options.
    pub fn lookup(&self) -> &IndexLookup<String> {
        &self.lookup
    }
    /// A `StringLookup` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = StringLookup::new().encoding(c.str_or("encoding", "utf-8")?);
        l.lookup.read_config(c, "[UNK]".to_string())?;
        apply_base_config(l, c)
    }

    fn layer_name(&self) -> String {
        self.args
            .name
            .clone()
            .unwrap_or_else(|| "string_lookup".into())
    }

    /// Learns the vocabulary from strings (a list, a string tensor): most frequent first, ties
    /// broken by the larger string, cut to `max_tokens` (Keras's `adapt`).
    pub fn adapt(&mut self, data: impl IntoStrings) -> Result<()> {
        let (dims, values) = data.into_strings()?.into_parts();
        let name = self.layer_name();
        ll::adapt_batches(&mut self.lookup, [Ok(())], None, |l, ()| {
            ll::update_array(l, &name, dims.clone(), values.clone())
        })
    }

    /// [`StringLookup::adapt`] over batches (a `keras::data::Dataset`'s `iter()`, any
    /// iterator of string tensors), at most `steps` of them. As in Keras, a rank-1 batch is one
    /// document.
    pub fn adapt_batches<B: IntoStrings>(
        &mut self,
        batches: impl IntoIterator<Item = Result<B>>,
        steps: Option<usize>,
    ) -> Result<()> {
        let name = self.layer_name();
        ll::adapt_batches(&mut self.lookup, batches, steps, |l, b| {
            let (dims, values) = b.into_strings()?.into_parts();
            ll::update_batch(l, &name, dims, values)
        })
    }

    /// `adapt` on a `keras::data::Dataset` of batches (Keras's `adapt(dataset, steps)`): the
    /// same as [`StringLookup::adapt_batches`] over one pass of it.
    pub fn adapt_dataset<B: IntoStrings + Send + 'static>(
        &mut self,
        dataset: &crate::data::Dataset<B>,
        steps: Option<usize>,
    ) -> Result<()> {
        self.adapt_batches(dataset.iter()?, steps)
    }

    /// The vocabulary in index order (with the mask and OOV tokens when asked).
    pub fn get_vocabulary(&self, include_special_tokens: bool) -> Vec<String> {
        self.lookup.get_vocabulary(include_special_tokens)
    }

    /// The vocabulary's size, mask and OOV indices included.
    pub fn vocabulary_size(&self) -> usize {
        self.lookup.vocabulary_size()
    }

    /// Keras's `set_vocabulary` (with IDF weights in `tf_idf` mode).
    pub fn set_vocabulary<S: AsRef<str>>(
        &mut self,
        terms: &[S],
        idf_weights: Option<&[f64]>,
    ) -> Result<()> {
        self.lookup.check()?;
        let v: Vec<String> = terms.iter().map(|s| s.as_ref().to_string()).collect();
        self.lookup.set_vocabulary(&v, idf_weights)
    }

    fn check(&self) -> Result<()> {
        if self.encoding.to_ascii_lowercase().replace('-', "") != "utf8" {
            return Err(Error::value(format!(
                "StringLookup: only encoding=\"utf-8\" is supported; received {}",
                self.encoding
            )));
        }
        self.lookup.check()
    }
}

impl Layer for StringLookup {
    fn class_name(&self) -> &str {
        "StringLookup"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.check()
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        self.check()?;
        Ok(vec![Shape(self.lookup.output_shape(&s[0].0))])
    }
    fn string_input(&self) -> bool {
        !self.lookup.invert
    }
    fn compute_output_dtype(&self, _: &[DType], n: usize) -> Vec<DType> {
        let d = if self.lookup.invert {
            DType::U8
        } else {
            ll::output_dtype(self.lookup.output_mode)
        };
        vec![d; n]
    }
    fn string_output(&self) -> bool {
        self.lookup.invert
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        self.check()?;
        let x = &inputs[0];
        if self.lookup.invert {
            let (dims, idx) = super::text_data::ints_of(x)?;
            let words = self.lookup.invert_lookup(&idx);
            return Ok(vec![StringArray::new(&dims, words)?.to_tensor()?]);
        }
        let strings = StringArray::from_tensor(x).map_err(|e| {
            Error::value(format!(
                "StringLookup layer \"{}\" takes strings: {e}",
                ctx.name
            ))
        })?;
        Ok(vec![ll::lookup_dense(
            &self.lookup,
            strings.dims(),
            strings.values(),
        )?])
    }
    fn get_config(&self) -> Result<Config> {
        let mut c = Config::new();
        for (k, v) in self.lookup.config_entries() {
            if k != "vocabulary_dtype" {
                c.insert(k.into(), v);
            }
        }
        c.insert("encoding".into(), Value::from(self.encoding.clone()));
        Ok(c)
    }
    ll::lookup_storage!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::ops::strings;

    #[test]
    fn modes_mask_and_errors() {
        let l = StringLookup::new()
            .vocabulary(&["a", "b"])
            .mask_token("")
            .into_layer();
        let y = l.apply(&strings::encode(&["", "b", "q"]).unwrap()).unwrap();
        assert_eq!(y.to_vec1::<i64>().unwrap(), vec![0, 3, 1]);
        let m = StringLookup::new()
            .vocabulary(&["a", "b"])
            .output_mode("multi_hot")
            .into_layer();
        let x = crate::layers::preprocessing::StringArray::new(
            &[2, 2],
            vec!["a".into(), "a".into(), "q".into(), "b".into()],
        )
        .unwrap();
        let y = m.apply(&x.to_tensor().unwrap()).unwrap();
        assert_eq!(
            y.to_vec2::<f32>().unwrap(),
            vec![vec![0., 1., 0.], vec![1., 0., 1.]]
        );
        let bad = StringLookup::new().output_mode("hot").into_layer();
        let e = bad.apply(&strings::encode(&["a"]).unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Unknown value for `output_mode` argument of StringLookup."),
            "{e}"
        );
    }
}
