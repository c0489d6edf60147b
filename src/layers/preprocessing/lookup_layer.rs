//! What `StringLookup`, `IntegerLookup` and `TextVectorization` share around their
//! [`IndexLookup`]: `adapt` over arrays and over batches (with Keras's two different
//! rank-1 rules), the `vocabulary.txt` asset and the `idf_weights` variable.

use super::index_lookup::{IndexLookup, OutputMode, Token};
use super::lookup_token::py_splitlines;
use crate::engine::store::{Assets, Group};
use crate::ops::{Device, Tensor};
use crate::serialization::{Cfg, Value};
use crate::{Error, Result};

/// The name of the asset Keras writes for a lookup layer.
pub(crate) const VOCABULARY_FILE: &str = "vocabulary.txt";

/// Counts one array given to `adapt` (not a batch): a rank-1 array is a column (each value
/// its own document), as Keras's `adapt` expands it.
pub(crate) fn update_array<K: Token>(
    l: &mut IndexLookup<K>,
    name: &str,
    mut dims: Vec<usize>,
    values: Vec<K>,
) -> Result<()> {
    if dims.len() == 1 {
        dims.push(1);
    }
    update_batch(l, name, dims, values)
}

/// Counts one batch (Keras's `update_state`): a scalar or a rank-1 batch is one document.
pub(crate) fn update_batch<K: Token>(
    l: &mut IndexLookup<K>,
    name: &str,
    dims: Vec<usize>,
    values: Vec<K>,
) -> Result<()> {
    let dims = if dims.len() <= 1 {
        vec![1, values.len()]
    } else {
        dims
    };
    let rows = super::lookup_encode::Rows::from_dense(&dims, values);
    l.update_state(name, &rows.lead, &rows.rows)
}

/// Runs Keras's `adapt` over batches: reset, count every batch (at most `steps`), finalize.
pub(crate) fn adapt_batches<K: Token, B>(
    l: &mut IndexLookup<K>,
    batches: impl IntoIterator<Item = Result<B>>,
    steps: Option<usize>,
    mut count: impl FnMut(&mut IndexLookup<K>, B) -> Result<()>,
) -> Result<()> {
    l.check()?;
    l.reset_state();
    for (i, b) in batches.into_iter().enumerate() {
        if steps.is_some_and(|s| i >= s) {
            break;
        }
        count(l, b?)?;
    }
    l.finalize_state()
}

/// Writes `vocabulary.txt` (unless the vocabulary is in the config).
pub(crate) fn save_vocabulary<K: Token>(l: &IndexLookup<K>, dir: &mut Assets, prefix: &str) {
    if let Some(bytes) = l.vocabulary_file() {
        dir.insert(format!("{prefix}{VOCABULARY_FILE}"), bytes);
    }
}

/// Reads `vocabulary.txt` back (unless the vocabulary is in the config).
pub(crate) fn load_vocabulary<K: Token>(l: &mut IndexLookup<K>, dir: &Assets) -> Result<()> {
    if l.input_vocabulary.is_some() {
        return Ok(());
    }
    let bytes = dir.get(VOCABULARY_FILE).ok_or_else(|| {
        Error::value(format!(
            "the archive has no {VOCABULARY_FILE} for this {} layer",
            l.class
        ))
    })?;
    l.load_vocabulary_file(bytes)
}

/// Stores `idf_weights` under `<prefix>vars/idf_weights` in `tf_idf` mode, as Keras's
/// `save_own_variables` does.
pub(crate) fn save_idf<K: Token>(
    l: &IndexLookup<K>,
    group: &mut Group,
    prefix: &str,
) -> Result<()> {
    if l.output_mode != OutputMode::TfIdf {
        return Ok(());
    }
    if let Some(w) = l.idf_weights() {
        let t = Tensor::from_vec(w.to_vec(), w.len(), &Device::Cpu)?;
        group
            .make(&format!("{prefix}vars"))
            .datasets
            .insert("idf_weights".into(), t);
    }
    Ok(())
}

/// The `Layer` methods `StringLookup` and `IntegerLookup` share, around their `lookup`
/// field: no build config, the `vocabulary.txt` asset and the `idf_weights` variable.
macro_rules! lookup_storage {
    () => {
        fn build_config(&self, _: &[$crate::engine::Shape]) -> $crate::serialization::Value {
            serde_json::json!({})
        }
        fn save_assets(&self, dir: &mut $crate::engine::store::Assets) -> $crate::Result<()> {
            $crate::layers::preprocessing::lookup_layer::save_vocabulary(&self.lookup, dir, "");
            Ok(())
        }
        fn load_assets(&mut self, dir: &$crate::engine::store::Assets) -> $crate::Result<()> {
            $crate::layers::preprocessing::lookup_layer::load_vocabulary(&mut self.lookup, dir)
        }
        fn save_own_variables(
            &self,
            group: &mut $crate::engine::store::Group,
        ) -> $crate::Result<()> {
            $crate::layers::preprocessing::lookup_layer::save_idf(&self.lookup, group, "")
        }
        fn load_own_variables(
            &mut self,
            group: &$crate::engine::store::Group,
        ) -> $crate::Result<()> {
            $crate::layers::preprocessing::lookup_layer::load_idf(&mut self.lookup, group)
        }
    };
}
pub(crate) use lookup_storage;

/// Reads `vars/idf_weights` in `tf_idf` mode (Keras's `load_own_variables`).
pub(crate) fn load_idf<K: Token>(l: &mut IndexLookup<K>, group: &Group) -> Result<()> {
    if l.output_mode != OutputMode::TfIdf {
        return Ok(());
    }
    let t = group.dataset("vars/idf_weights").ok_or_else(|| {
        Error::value("tf_idf mode: the weights file has no vars/idf_weights for this layer")
    })?;
    let w: Vec<f32> = t
        .to_dtype(crate::ops::DType::F32)?
        .flatten_all()?
        .to_vec1()?;
    l.set_idf_weights(w);
    Ok(())
}

/// The output dtype of a lookup in `mode`: `int64` indices, `float32` encodings.
pub(crate) fn output_dtype(mode: OutputMode) -> crate::ops::DType {
    if mode == OutputMode::Int {
        crate::ops::DType::I64
    } else {
        crate::ops::DType::F32
    }
}

/// Looks terms up and encodes them as the layer's `output_mode` asks, keeping the shape in
/// `int` mode.
pub(crate) fn lookup_dense<K: Token>(
    l: &IndexLookup<K>,
    dims: &[usize],
    values: &[K],
) -> Result<Tensor> {
    let idx = l.lookup(values)?;
    if l.output_mode == OutputMode::Int {
        return Ok(Tensor::from_vec(idx, dims, &Device::Cpu)?);
    }
    let depth = l.ensure_known_vocab_size()?;
    let rows = super::lookup_encode::Rows::from_dense(dims, idx);
    super::lookup_encode::encode(l.output_mode, &rows, depth, l.idf_weights())
}

/// The lookup's config keys and its vocabulary as Keras's `save_assets` / `load_assets`
/// write and read it.
impl<K: Token> IndexLookup<K> {
    /// The config keys every lookup layer writes, in Keras's order.
    pub(crate) fn config_entries(&self) -> Vec<(&'static str, Value)> {
        let list = |v: &Option<Vec<K>>| match v {
            Some(v) => Value::Array(v.iter().map(Token::to_json).collect()),
            None => Value::Null,
        };
        let floats = |v: &Option<Vec<f64>>| match v {
            Some(v) => Value::from(v.clone()),
            None => Value::Null,
        };
        vec![
            ("invert", Value::Bool(self.invert)),
            ("max_tokens", self.max_tokens.into()),
            ("num_oov_indices", self.num_oov_indices.into()),
            ("oov_token", self.oov_token.to_json()),
            (
                "mask_token",
                self.mask_token.as_ref().map_or(Value::Null, Token::to_json),
            ),
            ("output_mode", self.output_mode.name().into()),
            ("sparse", Value::Bool(self.sparse)),
            ("pad_to_max_tokens", Value::Bool(self.pad_to_max_tokens)),
            ("vocabulary_dtype", Value::Null),
            ("idf_weights", floats(&self.input_idf_weights)),
            ("vocabulary", list(&self.input_vocabulary)),
            ("vocabulary_size", self.frozen_vocab_size.into()),
            ("oov_method", self.oov_method.clone().into()),
            (
                "salt",
                self.salt
                    .map_or(Value::Null, |[a, b]| Value::from(vec![a, b])),
            ),
        ]
    }

    /// Reads the `IndexLookup` keys of a `StringLookup` / `IntegerLookup` config (the twin of
    /// [`IndexLookup::config_entries`]; `default_oov` when `oov_token` is absent), then the
    /// vocabulary keys.
    pub(crate) fn read_config(&mut self, c: &Cfg, default_oov: K) -> Result<()> {
        let token = |key: &str| -> Result<Option<K>> {
            c.get(key)
                .map(|v| K::from_json(v).ok_or_else(|| c.bad(key, "a token")))
                .transpose()
        };
        self.max_tokens = c.opt_usize("max_tokens")?;
        self.num_oov_indices = c.usize_or("num_oov_indices", 1)?;
        self.oov_token = token("oov_token")?.unwrap_or(default_oov);
        self.mask_token = token("mask_token")?;
        self.invert = c.bool_or("invert", false)?;
        self.set_output_mode(c.str_or("output_mode", "int")?);
        self.pad_to_max_tokens = c.bool_or("pad_to_max_tokens", false)?;
        self.sparse = c.bool_or("sparse", false)?;
        self.oov_method = c.str_or("oov_method", "floormod")?.to_string();
        self.salt = match c.get("salt") {
            None => None,
            Some(v) => Some(super::hashing::salt_pair(v).ok_or_else(|| {
                Error::value(format!(
                    "The `salt` argument for `IndexLookup` can only be a tuple of 2 integers,                      or a single integer. Received: salt={v}."
                ))
            })?),
        };
        self.read_vocabulary(c)
    }

    /// Reads the vocabulary keys every text layer has (`vocabulary`, `idf_weights`,
    /// `vocabulary_size`, `has_input_vocabulary`), then applies them (`refresh`). A
    /// vocabulary file path cannot be loaded.
    pub(crate) fn read_vocabulary(&mut self, c: &Cfg) -> Result<()> {
        self.input_vocabulary = match c.get("vocabulary") {
            None => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|v| K::from_json(v).ok_or_else(|| c.bad("vocabulary", "a list of tokens")))
                    .collect::<Result<Vec<K>>>()?,
            ),
            Some(_) => {
                return Err(c.bad(
                    "vocabulary",
                    "a list (a vocabulary file path cannot be loaded)",
                ))
            }
        };
        self.has_input_vocabulary = c
            .get("has_input_vocabulary")
            .and_then(Value::as_bool)
            .unwrap_or(self.input_vocabulary.is_some());
        self.input_idf_weights = match c.get("idf_weights") {
            None => None,
            Some(Value::Array(_)) => c.opt_f64s("idf_weights")?,
            Some(_) => return Err(c.bad("idf_weights", "a list of numbers")),
        };
        self.config_vocabulary_size = c.opt_usize("vocabulary_size")?;
        self.refresh();
        Ok(())
    }

    /// `vocabulary.txt` as Keras's `save_assets` writes it (one term a line, special tokens
    /// included, no final newline); nothing when the vocabulary is in the config.
    pub(crate) fn vocabulary_file(&self) -> Option<Vec<u8>> {
        if self.input_vocabulary.is_some() {
            return None;
        }
        let lines: Vec<String> = self
            .get_vocabulary(true)
            .iter()
            .map(Token::to_line)
            .collect();
        Some(lines.join("\n").into_bytes())
    }

    /// Reads `vocabulary.txt` as Keras's `load_assets` does (Python's `splitlines`, trailing
    /// empty lines dropped), keeping the IDF weights already loaded.
    pub(crate) fn load_vocabulary_file(&mut self, bytes: &[u8]) -> Result<()> {
        if self.input_vocabulary.is_some() {
            return Ok(());
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::value(format!("vocabulary.txt is not UTF-8: {e}")))?;
        let mut lines = py_splitlines(text);
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let values: Vec<K> = lines
            .iter()
            .map(|l| {
                K::from_line(l).ok_or_else(|| {
                    Error::value(format!("vocabulary.txt: cannot read the term {l:?}"))
                })
            })
            .collect::<Result<_>>()?;
        let idf: Option<Vec<f64>> = match self.output_mode {
            OutputMode::TfIdf => Some(
                self.idf_weights
                    .as_ref()
                    .ok_or_else(|| {
                        Error::value(
                            "tf_idf mode: the idf_weights were not loaded before vocabulary.txt",
                        )
                    })?
                    .iter()
                    .map(|&x| f64::from(x))
                    .collect(),
            ),
            _ => None,
        };
        // Loading sets the vocabulary the config's size promised; compare with that.
        self.frozen_vocab_size = self.config_vocabulary_size;
        self.set_vocabulary(&values, idf.as_deref())
    }
}
