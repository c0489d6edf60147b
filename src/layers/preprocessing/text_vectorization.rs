//! `TextVectorization`: raw strings to token indices or per-text encodings, inside the model.

use super::index_lookup::{IndexLookup, OutputMode};
use super::lookup_encode::{encode, pad_indices, Rows};
use super::lookup_layer as ll;
use super::text_data::{IntoStrings, StringArray};
use super::text_fns::{self, SplitFn, StandardizeFn};
use super::text_ops::{ngrams, Split, Standardize};
use crate::engine::config::apply_base_config;
use crate::engine::store::{Assets, Group};
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, VarGroup, Weight, WeightBuilder};
use crate::ops::{DType, Tensor};
use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};

/// Keras's `TextVectorization`: standardizes each string (`"lower_and_strip_punctuation"` by
/// default), splits it into tokens (`"whitespace"`), optionally forms `ngrams`, and looks the
/// tokens up in a vocabulary learned by [`TextVectorization::adapt`] (or given): index 0 is
/// padding (`""`), 1 is `"[UNK]"`. `output_mode` `"int"` gives `(batch, sequence_length)`
/// `int64` indices, padded or cut to `output_sequence_length`; `"multi_hot"`, `"count"` and
/// `"tf_idf"` give one `float32` vector per string.
///
/// It takes string tensors (see [`crate::ops::strings`]); in a model, start from
/// [`Input::string`](crate::layers::Input::string).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::TextVectorization;
/// use keras::ops::strings;
/// let mut tv = TextVectorization::new().max_tokens(10).output_sequence_length(4);
/// tv.adapt(&["The cat sat.", "The dog, the cat!"])?;
/// assert_eq!(tv.get_vocabulary(true), ["", "[UNK]", "the", "cat", "sat", "dog"]);
/// let ids = tv.into_layer().apply(&strings::encode(&["the bird sat"])?)?;
/// assert_eq!(ids.to_vec2::<i64>()?, vec![vec![2, 1, 4, 0]]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct TextVectorization {
    args: LayerArgs,
    lookup: IndexLookup<String>,
    standardize: Option<Standardizer>,
    split: Option<Splitter>,
    ngrams: Option<Vec<usize>>,
    ngrams_arg: Value,
    output_sequence_length: Option<usize>,
    ragged: bool,
    encoding: String,
    arg_error: Option<String>,
}

impl Default for TextVectorization {
    fn default() -> Self {
        Self::new()
    }
}

impl TextVectorization {
    /// Keras's defaults: lowercase and strip punctuation, split on whitespace, `int` output.
    pub fn new() -> Self {
        let mut lookup = IndexLookup::new(
            "TextVectorization",
            "[UNK]".to_string(),
            Some(String::new()),
        );
        lookup.refresh();
        TextVectorization {
            args: LayerArgs::default(),
            lookup,
            standardize: Some(Standardizer::Builtin(Standardize::LowerAndStripPunctuation)),
            split: Some(Splitter::Builtin(Split::Whitespace)),
            ngrams: None,
            ngrams_arg: Value::Null,
            output_sequence_length: None,
            ragged: false,
            encoding: "utf-8".into(),
            arg_error: None,
        }
    }

    fn with(mut self, f: impl FnOnce(&mut IndexLookup<String>)) -> Self {
        f(&mut self.lookup);
        self.lookup.refresh();
        self
    }

    /// The largest vocabulary, padding and OOV indices included.
    pub fn max_tokens(self, n: usize) -> Self {
        self.with(|l| l.max_tokens = Some(n))
    }
    /// `"lower_and_strip_punctuation"` (default), `"lower"`, `"strip_punctuation"`, or `None`.
    pub fn standardize<'a>(mut self, s: impl Into<Option<&'a str>>) -> Self {
        match s.into().map(Standardize::parse).transpose() {
            Ok(s) => self.standardize = s.map(Standardizer::Builtin),
            Err(e) => self.arg_error = Some(e.to_string()),
        }
        self
    }
    /// `"whitespace"` (default), `"character"`, or `None` (each string is one token).
    pub fn split<'a>(mut self, s: impl Into<Option<&'a str>>) -> Self {
        match s.into().map(Split::parse).transpose() {
            Ok(s) => self.split = s.map(Splitter::Builtin),
            Err(e) => self.arg_error = Some(e.to_string()),
        }
        self
    }
    /// A custom standardization (Keras's `standardize=callable`), registered under `name` so
    /// a saved model loads it again (see [`text_fns::register_standardize`]).
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::layers::TextVectorization;
    /// let mut tv = TextVectorization::new().standardize_fn("demo>strip_html", |s| {
    ///     s.to_lowercase().replace("<br />", " ")
    /// });
    /// tv.adapt(&["Great<br />film", "great"])?;
    /// assert_eq!(tv.get_vocabulary(false), ["great", "film"]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn standardize_fn(
        mut self,
        name: &str,
        f: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> Self {
        let f: StandardizeFn = std::sync::Arc::new(f);
        let g = f.clone();
        text_fns::register_standardize(name, move |s| g(s));
        self.standardize = Some(Standardizer::Custom(name.to_string(), f));
        self
    }
    /// A custom split (Keras's `split=callable`): a standardized string to its tokens,
    /// registered under `name` (see [`text_fns::register_split`]).
    pub fn split_fn(
        mut self,
        name: &str,
        f: impl Fn(&str) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        let f: SplitFn = std::sync::Arc::new(f);
        let g = f.clone();
        text_fns::register_split(name, move |s| g(s));
        self.split = Some(Splitter::Custom(name.to_string(), f));
        self
    }
    /// N-grams of 1 up to `n` tokens (Keras's `ngrams=n`).
    pub fn ngrams(mut self, n: usize) -> Self {
        self.ngrams = Some((1..=n).collect());
        self.ngrams_arg = Value::from(n);
        self
    }
    /// N-grams of exactly these sizes (Keras's `ngrams=(2, 3)`).
    pub fn ngram_sizes(mut self, sizes: &[usize]) -> Self {
        self.ngrams = Some(sizes.to_vec());
        self.ngrams_arg = Value::from(sizes.to_vec());
        self
    }
    /// `"int"` (default), `"multi_hot"`, `"count"`, `"tf_idf"` (or `"one_hot"`).
    pub fn output_mode(self, mode: &str) -> Self {
        self.with(|l| l.set_output_mode(mode))
    }
    /// Pad or cut `int` outputs to this many tokens.
    pub fn output_sequence_length(mut self, n: usize) -> Self {
        self.output_sequence_length = Some(n);
        self
    }
    /// Encode to `max_tokens` values even when the vocabulary is smaller.
    pub fn pad_to_max_tokens(self, pad: bool) -> Self {
        self.with(|l| l.pad_to_max_tokens = pad)
    }
    /// The vocabulary (optionally led by `""` and `"[UNK]"`); it is saved in the config.
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
    /// Sparse outputs: refused, as Keras refuses them outside TensorFlow.
    pub fn sparse(self, sparse: bool) -> Self {
        self.with(|l| l.sparse = sparse)
    }
    /// Ragged outputs: refused, as Keras refuses them outside TensorFlow.
    pub fn ragged(mut self, ragged: bool) -> Self {
        self.ragged = ragged;
        self
    }
    /// The text encoding (only `"utf-8"`).
    pub fn encoding(mut self, encoding: &str) -> Self {
        self.encoding = encoding.to_string();
        self
    }

    /// A `TextVectorization` from its Keras config: `standardize` and `split` name a
    /// built-in, or (a serialized function) one registered with
    /// [`text_fns::register_standardize`] / [`text_fns::register_split`]; the vocabulary is in
    /// the config or, learned by `adapt`, in the archive's `vocabulary.txt` asset.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = TextVectorization::new()
            .standardize(builtin_fn(c, "standardize", "lower_and_strip_punctuation")?)
            .split(builtin_fn(c, "split", "whitespace")?)
            .output_mode(c.str_or("output_mode", "int")?)
            .pad_to_max_tokens(c.bool_or("pad_to_max_tokens", false)?)
            .sparse(c.bool_or("sparse", false)?)
            .ragged(c.bool_or("ragged", false)?)
            .encoding(c.str_or("encoding", "utf-8")?);
        if let Some(name) = custom_fn(c, "standardize")? {
            let f = text_fns::standardize_named(&name)
                .ok_or_else(|| missing_fn("standardize", &name, "register_standardize"))?;
            l.standardize = Some(Standardizer::Custom(name, f));
        }
        if let Some(name) = custom_fn(c, "split")? {
            let f = text_fns::split_named(&name)
                .ok_or_else(|| missing_fn("split", &name, "register_split"))?;
            l.split = Some(Splitter::Custom(name, f));
        }
        if let Some(n) = c.opt_usize("max_tokens")? {
            l = l.max_tokens(n);
        }
        l.output_sequence_length = c.opt_usize("output_sequence_length")?;
        l.set_ngrams_value(c.map.get("ngrams").unwrap_or(&Value::Null))?;
        l.lookup.read_vocabulary(c)?;
        apply_base_config(l, c)
    }

    pub(crate) fn set_ngrams_value(&mut self, v: &Value) -> Result<()> {
        match v {
            Value::Null => {}
            Value::Array(a) => {
                let sizes: Option<Vec<usize>> =
                    a.iter().map(|x| x.as_u64().map(|n| n as usize)).collect();
                let sizes = sizes.ok_or_else(|| bad_ngrams(v))?;
                *self = self.clone().ngram_sizes(&sizes);
            }
            v => {
                let n = v.as_u64().ok_or_else(|| bad_ngrams(v))?;
                *self = self.clone().ngrams(n as usize);
            }
        }
        Ok(())
    }

    /// `adapt` on a `keras::data::Dataset` of batches (Keras's `adapt(dataset, steps)`): the
    /// same as [`TextVectorization::adapt_batches`] over one pass of it.
    /// ```
    /// use keras::layers::TextVectorization;
    /// use keras::data::Dataset;
    /// let texts = keras::ops::strings::encode(&["the cat", "the dog", "a cat"])?;
    /// let ds = Dataset::from_tensor_slices(texts)?.batch(2)?;
    /// let mut tv = TextVectorization::new();
    /// tv.adapt_dataset(&ds, None)?;
    /// assert_eq!(tv.get_vocabulary(false), ["the", "cat", "dog", "a"]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn adapt_dataset<B: IntoStrings + Send + 'static>(
        &mut self,
        dataset: &crate::data::Dataset<B>,
        steps: Option<usize>,
    ) -> Result<()> {
        self.adapt_batches(dataset.iter()?, steps)
    }

    /// The vocabulary in index order (with `""` and `"[UNK]"` when asked).
    pub fn get_vocabulary(&self, include_special_tokens: bool) -> Vec<String> {
        self.lookup.get_vocabulary(include_special_tokens)
    }

    /// The vocabulary's size, padding and OOV indices included.
    pub fn vocabulary_size(&self) -> usize {
        self.lookup.vocabulary_size()
    }

    /// Keras's `set_vocabulary` (with IDF weights in `tf_idf` mode).
    pub fn set_vocabulary<S: AsRef<str>>(
        &mut self,
        terms: &[S],
        idf_weights: Option<&[f64]>,
    ) -> Result<()> {
        self.check()?;
        let v: Vec<String> = terms.iter().map(|s| s.as_ref().to_string()).collect();
        self.lookup.set_vocabulary(&v, idf_weights)
    }

    /// The IDF weights (`tf_idf` mode), as Keras pads them: the mean for the OOV index.
    pub fn idf_weights_values(&self) -> Option<&[f32]> {
        self.lookup.idf_weights()
    }

    fn layer_name(&self) -> String {
        self.args
            .name
            .clone()
            .unwrap_or_else(|| "text_vectorization".into())
    }

    /// Learns the vocabulary from texts (a list of strings, a string tensor): tokens by
    /// frequency, ties broken by the larger token, cut to `max_tokens`; in `tf_idf` mode
    /// also each token's document frequency. Each string is one document.
    pub fn adapt(&mut self, data: impl IntoStrings) -> Result<()> {
        self.check()?;
        let (mut dims, values) = data.into_strings()?.into_parts();
        if dims.len() == 1 {
            dims.push(1);
        }
        let rows = self.preprocess(StringArray::new(&dims, values)?)?;
        let name = self.layer_name();
        ll::adapt_batches(&mut self.lookup, [Ok(())], None, |l, ()| {
            l.update_state(&name, &rows.lead, &rows.rows)
        })
    }

    /// [`TextVectorization::adapt`] over batches of texts (a `keras::data::Dataset`'s
    /// `iter()`, any iterator of string tensors), at most `steps` of them.
    pub fn adapt_batches<B: IntoStrings>(
        &mut self,
        batches: impl IntoIterator<Item = Result<B>>,
        steps: Option<usize>,
    ) -> Result<()> {
        self.check()?;
        let name = self.layer_name();
        let this = self.clone();
        ll::adapt_batches(&mut self.lookup, batches, steps, |l, b| {
            let rows = this.preprocess(b.into_strings()?)?;
            l.update_state(&name, &rows.lead, &rows.rows)
        })
    }

    fn check(&self) -> Result<()> {
        if self.lookup.sparse {
            return Err(Error::value(
                "`sparse=True` can only be used with the TensorFlow backend.",
            ));
        }
        if self.ragged {
            return Err(Error::value(
                "`ragged=True` can only be used with the TensorFlow backend.",
            ));
        }
        if let Some(e) = &self.arg_error {
            return Err(Error::value(e.clone()));
        }
        if self.encoding.to_ascii_lowercase().replace('-', "") != "utf8" {
            return Err(Error::value(format!(
                "TextVectorization: only encoding=\"utf-8\" is supported; received {}",
                self.encoding
            )));
        }
        self.lookup.check()?;
        if let (false, Some(n)) = (
            self.lookup.output_mode == OutputMode::Int,
            self.output_sequence_length,
        ) {
            return Err(Error::value(format!(
                "`output_sequence_length` must not be set if `output_mode` is not 'int'. \
                 Received output_sequence_length={n}."
            )));
        }
        Ok(())
    }

    /// Standardize, split, n-grams: the tokens of each string, by rows.
    fn preprocess(&self, a: StringArray) -> Result<Rows<String>> {
        let (dims, values) = a.into_parts();
        let values: Vec<String> = match &self.standardize {
            Some(Standardizer::Builtin(s)) => values.iter().map(|v| s.apply(v)).collect(),
            Some(Standardizer::Custom(_, f)) => values.iter().map(|v| f(v)).collect(),
            None => values,
        };
        let mut rows = match &self.split {
            None => Rows::from_dense(&dims, values),
            Some(split) => {
                let r = dims.len();
                let lead = if r > 1 {
                    if dims[r - 1] != 1 {
                        return Err(Error::value(format!(
                            "When using `TextVectorization` to tokenize strings, the input rank \
                             must be 1 or the last shape dimension must be 1. Received: \
                             inputs.shape={} with rank={r}",
                            crate::engine::tuple(&dims)
                        )));
                    }
                    dims[..r - 1].to_vec()
                } else {
                    dims.clone()
                };
                Rows {
                    lead,
                    rows: values
                        .iter()
                        .map(|v| match split {
                            Splitter::Builtin(s) => s.apply(v),
                            Splitter::Custom(_, f) => f(v),
                        })
                        .collect(),
                    ragged: true,
                }
            }
        };
        if let Some(widths) = &self.ngrams {
            rows.rows = rows.rows.iter().map(|r| ngrams(r, widths)).collect();
        }
        Ok(rows)
    }
}

/// A built-in or a named custom standardization.
#[derive(Clone)]
enum Standardizer {
    Builtin(Standardize),
    Custom(String, StandardizeFn),
}

/// A built-in or a named custom split.
#[derive(Clone)]
enum Splitter {
    Builtin(Split),
    Custom(String, SplitFn),
}

fn bad_ngrams(v: &Value) -> Error {
    Error::value(format!(
        "`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={v}"
    ))
}

/// The built-in text function a config names at `key` (`default` when absent); `None` for
/// null or a serialized (custom) function.
fn builtin_fn<'a>(c: &Cfg<'a>, key: &str, default: &'a str) -> Result<Option<&'a str>> {
    match c.map.get(key) {
        None => Ok(Some(default)),
        Some(Value::Null) | Some(Value::Object(_)) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(c.bad(key, "a name or a function")),
    }
}

/// The registered name of the custom function a config holds at `key`, if it holds one.
fn custom_fn(c: &Cfg, key: &str) -> Result<Option<String>> {
    match c.map.get(key) {
        Some(v @ Value::Object(_)) => text_fns::function_name(v)
            .map(|n| Some(n.to_string()))
            .ok_or_else(|| c.bad(key, "a name or a function")),
        _ => Ok(None),
    }
}

fn missing_fn(key: &str, name: &str, register: &str) -> Error {
    Error::value(format!(
        "TextVectorization: could not locate the `{key}` function '{name}'. Register it with \
         keras::layers::preprocessing::{register} before loading"
    ))
}

impl Layer for TextVectorization {
    fn class_name(&self) -> &str {
        "TextVectorization"
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
        let s = &s[0].0;
        if self.lookup.output_mode == OutputMode::Int {
            return Ok(vec![Shape(vec![
                s.first().copied().flatten(),
                self.output_sequence_length,
            ])]);
        }
        let mut s = s.clone();
        match self.split {
            None if s.len() <= 1 => s.push(Some(1)),
            None => {}
            Some(_) => s.push(None),
        }
        Ok(vec![Shape(self.lookup.output_shape(&s))])
    }
    fn string_input(&self) -> bool {
        true
    }
    fn compute_output_dtype(&self, _: &[DType], n: usize) -> Vec<DType> {
        vec![ll::output_dtype(self.lookup.output_mode); n]
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        self.check()?;
        let strings = StringArray::from_tensor(&inputs[0]).map_err(|e| {
            Error::value(format!(
                "TextVectorization layer \"{}\" takes strings: {e}",
                ctx.name
            ))
        })?;
        let rows = self
            .preprocess(strings)?
            .try_map(|r| self.lookup.lookup(&r))?;
        let mode = self.lookup.output_mode;
        let out = if mode == OutputMode::Int {
            pad_indices(&rows, self.output_sequence_length)?
        } else {
            let depth = self.lookup.ensure_known_vocab_size()?;
            encode(mode, &rows, depth, self.lookup.idf_weights())?
        };
        Ok(vec![out])
    }
    fn get_config(&self) -> Result<Config> {
        let entries: std::collections::HashMap<&str, Value> =
            self.lookup.config_entries().into_iter().collect();
        let mut c = Config::new();
        c.insert("max_tokens".into(), entries["max_tokens"].clone());
        c.insert(
            "standardize".into(),
            match &self.standardize {
                None => Value::Null,
                Some(Standardizer::Builtin(s)) => s.name().into(),
                Some(Standardizer::Custom(name, _)) => text_fns::function_value(name),
            },
        );
        c.insert(
            "split".into(),
            match &self.split {
                None => Value::Null,
                Some(Splitter::Builtin(s)) => s.name().into(),
                Some(Splitter::Custom(name, _)) => text_fns::function_value(name),
            },
        );
        c.insert("ngrams".into(), self.ngrams_arg.clone());
        c.insert("output_mode".into(), entries["output_mode"].clone());
        c.insert(
            "output_sequence_length".into(),
            self.output_sequence_length.into(),
        );
        for k in ["pad_to_max_tokens", "sparse"] {
            c.insert(k.into(), entries[k].clone());
        }
        c.insert("ragged".into(), Value::Bool(self.ragged));
        for k in ["vocabulary", "idf_weights"] {
            c.insert(k.into(), entries[k].clone());
        }
        c.insert("encoding".into(), Value::from(self.encoding.clone()));
        c.insert("vocabulary_size".into(), self.vocabulary_size().into());
        Ok(c)
    }
    fn var_group(&self, name: &str, own: &[Weight]) -> VarGroup {
        // Keras saves the inner StringLookup as `_lookup_layer` beside the layer's own vars.
        VarGroup::layer(name, own).with_child("_lookup_layer", VarGroup::empty("string_lookup"))
    }
    fn save_assets(&self, dir: &mut Assets) -> Result<()> {
        ll::save_vocabulary(&self.lookup, dir, "");
        ll::save_vocabulary(&self.lookup, dir, "_lookup_layer/");
        Ok(())
    }
    fn load_assets(&mut self, dir: &Assets) -> Result<()> {
        ll::load_vocabulary(&mut self.lookup, dir)
    }
    fn save_own_variables(&self, group: &mut Group) -> Result<()> {
        ll::save_idf(&self.lookup, group, "")?;
        ll::save_idf(&self.lookup, group, "_lookup_layer/")
    }
    fn load_own_variables(&mut self, group: &Group) -> Result<()> {
        ll::load_idf(&mut self.lookup, group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::ops::strings;

    #[test]
    fn modes_shapes_and_arguments() {
        let mut tv = TextVectorization::new().output_mode("multi_hot");
        tv.adapt(["a b", "b c"]).unwrap();
        assert_eq!(tv.get_vocabulary(true), ["[UNK]", "b", "c", "a"]);
        let shape = tv
            .compute_output_shape(&[Shape(vec![None, Some(1)])])
            .unwrap();
        assert_eq!(shape[0].to_string(), "(None, 1, 4)");
        let l = tv.into_layer();
        let y = l.apply(&strings::encode(&["a a z"]).unwrap()).unwrap();
        assert_eq!(y.to_vec2::<f32>().unwrap(), vec![vec![1., 0., 0., 1.]]);
        let bad = TextVectorization::new()
            .output_mode("count")
            .output_sequence_length(3);
        assert!(bad
            .check()
            .unwrap_err()
            .to_string()
            .contains("output_sequence_length=3"));
        let two = StringArray::new(&[1, 2], vec!["a".into(), "b".into()]).unwrap();
        let e = TextVectorization::new()
            .vocabulary(&["a"])
            .into_layer()
            .apply(&two.to_tensor().unwrap());
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("inputs.shape=(1, 2) with rank=2"));
    }
}
