//! `IndexLookup`: the vocabulary table behind `StringLookup`, `IntegerLookup` and
//! `TextVectorization`, as Keras's `keras/src/layers/preprocessing/index_lookup.py`: the
//! options, the vocabulary (set or learned by `adapt`, ordered as Keras orders it), the lookup
//! with mask and OOV indices, and the vocabulary as Keras saves it.

pub use super::lookup_token::Token;
use super::lookup_token::{py_floats, py_list};
use crate::ops::hash;
use crate::{Error, Result};
use std::collections::HashMap;

/// What a lookup layer outputs (Keras's `output_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// The vocabulary index of each term (`int64`).
    Int,
    /// Each term as a one-hot vector of the vocabulary's size.
    OneHot,
    /// Per sample, 1 for each vocabulary term present.
    MultiHot,
    /// Per sample, how many times each vocabulary term appears.
    Count,
    /// Per sample, counts weighted by the terms' inverse document frequencies.
    TfIdf,
}

impl OutputMode {
    /// Reads Keras's name (`"binary"` and `"tf-idf"`, Keras's old names, are accepted).
    pub fn parse(caller: &str, s: &str) -> Result<Self> {
        Ok(match s {
            "int" => OutputMode::Int,
            "one_hot" => OutputMode::OneHot,
            "multi_hot" | "binary" => OutputMode::MultiHot,
            "count" => OutputMode::Count,
            "tf_idf" | "tf-idf" => OutputMode::TfIdf,
            other => {
                return Err(Error::value(format!(
                    "Unknown value for `output_mode` argument of {caller}. Allowed values are: \
                     ('int', 'one_hot', 'multi_hot', 'count', 'tf_idf'). Received: \
                     output_mode={other}"
                )))
            }
        })
    }

    /// Keras's name.
    pub fn name(self) -> &'static str {
        match self {
            OutputMode::Int => "int",
            OutputMode::OneHot => "one_hot",
            OutputMode::MultiHot => "multi_hot",
            OutputMode::Count => "count",
            OutputMode::TfIdf => "tf_idf",
        }
    }
}

/// The index a mask token gets in the non-`int` modes: out of range, so encoding drops it.
pub(crate) const DROPPED: i64 = i64::MAX;

/// The vocabulary table and options of a lookup layer (Keras's `IndexLookup`). The layers
/// (`StringLookup`, `IntegerLookup`, `TextVectorization`) wrap one; their builder methods set
/// the public fields and call [`IndexLookup::refresh`].
#[derive(Clone, Debug)]
pub struct IndexLookup<K: Token> {
    /// The layer class, for error messages.
    pub class: &'static str,
    /// The most terms the vocabulary holds, mask and OOV indices included.
    pub max_tokens: Option<usize>,
    /// How many indices out-of-vocabulary terms share.
    pub num_oov_indices: usize,
    /// The term that marks padding (index 0 in `int` mode).
    pub mask_token: Option<K>,
    /// The term `invert` returns for OOV indices.
    pub oov_token: K,
    /// Indices to terms instead of terms to indices.
    pub invert: bool,
    /// What the layer outputs.
    pub output_mode: OutputMode,
    /// Pad the encoded outputs to `max_tokens`.
    pub pad_to_max_tokens: bool,
    /// Sparse outputs (refused: they need TensorFlow).
    pub sparse: bool,
    /// `"floormod"` or `"farmhash"`: how integers pick an OOV index.
    pub oov_method: String,
    /// The key of a SipHash-2-4 OOV hash (Keras's `salt`: an integer `s` is `[s, s]`);
    /// FarmHash64 without one.
    pub salt: Option<[u64; 2]>,
    /// The vocabulary given to the constructor (saved in the config).
    pub(crate) input_vocabulary: Option<Vec<K>>,
    /// The IDF weights given to the constructor.
    pub(crate) input_idf_weights: Option<Vec<f64>>,
    /// Whether the vocabulary was given to the constructor (then `adapt` is refused).
    pub(crate) has_input_vocabulary: bool,
    /// The config's `vocabulary_size` (known before the assets are read).
    pub(crate) config_vocabulary_size: Option<usize>,
    tokens: Vec<K>,
    index: HashMap<K, i64>,
    pub(crate) idf_weights: Option<Vec<f32>>,
    pub(crate) frozen_vocab_size: Option<usize>,
    counts: HashMap<K, i64>,
    doc_counts: HashMap<K, i64>,
    num_documents: i64,
    pending: Option<String>,
    mode_error: Option<String>,
}

impl<K: Token> IndexLookup<K> {
    /// A table with Keras's defaults for class `class`.
    pub fn new(class: &'static str, oov_token: K, mask_token: Option<K>) -> Self {
        IndexLookup {
            class,
            max_tokens: None,
            num_oov_indices: 1,
            mask_token,
            oov_token,
            invert: false,
            output_mode: OutputMode::Int,
            pad_to_max_tokens: false,
            sparse: false,
            oov_method: "floormod".into(),
            salt: None,
            input_vocabulary: None,
            input_idf_weights: None,
            has_input_vocabulary: false,
            config_vocabulary_size: None,
            tokens: vec![],
            index: HashMap::new(),
            idf_weights: None,
            frozen_vocab_size: None,
            counts: HashMap::new(),
            doc_counts: HashMap::new(),
            num_documents: 0,
            pending: None,
            mode_error: None,
        }
    }

    /// Sets the output mode by Keras's name; an unknown name is kept as the error
    /// [`IndexLookup::check`] returns.
    pub fn set_output_mode(&mut self, name: &str) {
        match OutputMode::parse(self.class, name) {
            Ok(m) => {
                self.output_mode = m;
                self.mode_error = None;
            }
            Err(e) => self.mode_error = Some(e.to_string()),
        }
    }

    /// Checks the options as Keras's constructor does and applies the constructor's
    /// vocabulary; an error is kept and returned by [`IndexLookup::check`].
    pub fn refresh(&mut self) {
        self.frozen_vocab_size = self.config_vocabulary_size;
        self.tokens.clear();
        self.index.clear();
        self.idf_weights = None;
        self.pending = self.validate().err().map(|e| e.to_string());
        if self.pending.is_some() {
            return;
        }
        if let Some(v) = self.input_vocabulary.clone() {
            let idf = self.input_idf_weights.clone();
            if let Err(e) = self.set_vocabulary(&v, idf.as_deref()) {
                self.pending = Some(e.to_string());
            }
        }
    }

    /// The error the options or the constructor's vocabulary gave, if any.
    pub fn check(&self) -> Result<()> {
        match &self.pending {
            Some(e) => Err(Error::value(e.clone())),
            None => Ok(()),
        }
    }

    fn validate(&self) -> Result<()> {
        if let Some(m) = self.max_tokens.filter(|&m| m <= 1) {
            return Err(Error::value(if self.class == "IntegerLookup" {
                format!(
                    "If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. \
                     Received: max_tokens={m}"
                )
            } else {
                format!("If set, `max_tokens` must be greater than 1. Received: max_tokens={m}")
            }));
        }
        if self.pad_to_max_tokens && self.max_tokens.is_none() {
            return Err(Error::value(
                "If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens=None",
            ));
        }
        if !matches!(self.oov_method.as_str(), "floormod" | "farmhash") {
            return Err(Error::value(format!(
                "Unknown value for `oov_method` argument of {}. Allowed values are: ('floormod', \
                 'farmhash'). Received: oov_method={}",
                self.class, self.oov_method
            )));
        }
        if self.salt.is_some() && K::INTEGER && self.oov_method != "farmhash" {
            return Err(Error::value(format!(
                "`salt` can only be used when `oov_method='farmhash'`. Received: oov_method={}",
                self.oov_method
            )));
        }
        if let Some(e) = &self.mode_error {
            return Err(Error::value(e.clone()));
        }
        if self.invert && self.output_mode != OutputMode::Int {
            return Err(Error::value(format!(
                "`output_mode` must be `'int'` when `invert` is true. Received: output_mode={}",
                self.output_mode.name()
            )));
        }
        if self.sparse {
            return Err(Error::value(
                "`sparse=True` can only be used with the TensorFlow backend.",
            ));
        }
        if let Some(w) = &self.input_idf_weights {
            if self.output_mode != OutputMode::TfIdf {
                return Err(Error::value(format!(
                    "`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: \
                     idf_weights={} and output_mode={}",
                    py_floats(w),
                    self.output_mode.name()
                )));
            }
        }
        if self.output_mode == OutputMode::TfIdf
            && self.has_input_vocabulary
            && self.input_idf_weights.is_none()
        {
            return Err(Error::value(
                "When specifying the `vocabulary` argument, in TF-IDF output mode, the \
                 `idf_weights` argument must also be provided.",
            ));
        }
        Ok(())
    }

    /// Where the OOV indices start: after the mask in `int` mode.
    pub fn oov_start_index(&self) -> usize {
        usize::from(self.mask_token.is_some() && self.output_mode == OutputMode::Int)
    }

    /// Where the vocabulary's own terms start.
    pub fn token_start_index(&self) -> usize {
        self.oov_start_index() + self.num_oov_indices
    }

    /// The vocabulary's size, mask and OOV indices included.
    pub fn vocabulary_size(&self) -> usize {
        self.tokens.len() + self.token_start_index()
    }

    /// The vocabulary size the layer's outputs are encoded to (Keras's frozen size).
    pub fn frozen_vocabulary_size(&self) -> Option<usize> {
        self.frozen_vocab_size
    }

    /// The vocabulary in index order; with the mask and OOV tokens first when
    /// `include_special_tokens`.
    pub fn get_vocabulary(&self, include_special_tokens: bool) -> Vec<K> {
        let start = self.token_start_index();
        let mut v = vec![self.oov_token.clone(); start];
        if let (Some(m), true) = (&self.mask_token, self.oov_start_index() == 1) {
            v[0] = m.clone();
        }
        v.extend(self.tokens.iter().cloned());
        if include_special_tokens {
            v
        } else {
            v.split_off(start)
        }
    }

    /// The IDF weights of `tf_idf` mode (padded as Keras pads them), once known.
    pub fn idf_weights(&self) -> Option<&[f32]> {
        self.idf_weights.as_deref()
    }

    fn record_vocabulary_size(&mut self) -> Result<()> {
        let new = self.vocabulary_size();
        if self.output_mode != OutputMode::Int && !self.pad_to_max_tokens {
            if let Some(old) = self.frozen_vocab_size.filter(|&old| old != new) {
                return Err(Error::runtime(format!(
                    "When using `output_mode={}` and `pad_to_max_tokens=False`, the vocabulary \
                     size cannot be changed after the layer is called. Old vocab size is {old}, \
                     new vocab size is {new}",
                    self.output_mode.name()
                )));
            }
        }
        self.frozen_vocab_size = Some(new);
        Ok(())
    }

    fn set_tokens(&mut self, tokens: Vec<K>) {
        let start = self.token_start_index() as i64;
        self.index = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), start + i as i64))
            .collect();
        self.tokens = tokens;
    }

    /// Keras's `set_vocabulary`: the terms (optionally led by the mask and OOV tokens, in
    /// that order) and, in `tf_idf` mode, one IDF weight per term given.
    pub fn set_vocabulary(&mut self, vocabulary: &[K], idf_weights: Option<&[f64]>) -> Result<()> {
        let tf_idf = self.output_mode == OutputMode::TfIdf;
        match idf_weights {
            None if tf_idf => {
                return Err(Error::value(
                    "`idf_weights` must be set if output_mode is 'tf_idf'.",
                ))
            }
            Some(w) if !tf_idf => {
                return Err(Error::value(format!(
                    "`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: \
                     output_mode={} and idf_weights={}",
                    self.output_mode.name(),
                    py_floats(w)
                )))
            }
            _ => {}
        }
        if vocabulary.is_empty() {
            return Err(Error::value(
                "Cannot set an empty vocabulary. Received: vocabulary=[]",
            ));
        }
        let oov_start = self.oov_start_index();
        let token_start = self.token_start_index();
        let mut special: Vec<K> = vec![];
        if oov_start == 1 {
            special.extend(self.mask_token.clone());
        }
        special.extend(std::iter::repeat_n(
            self.oov_token.clone(),
            self.num_oov_indices,
        ));
        let found_special =
            vocabulary.len() >= token_start && vocabulary[..token_start] == special[..];
        let tokens = if found_special {
            &vocabulary[token_start..]
        } else {
            vocabulary
        };
        let mut seen: HashMap<&K, usize> = HashMap::new();
        let mut order: Vec<&K> = vec![];
        for t in tokens {
            let n = seen.entry(t).or_insert(0);
            if *n == 0 {
                order.push(t);
            }
            *n += 1;
        }
        let repeated: Vec<K> = order
            .into_iter()
            .filter(|t| seen[*t] > 1)
            .cloned()
            .collect();
        if !repeated.is_empty() {
            return Err(Error::value(format!(
                "The passed vocabulary has at least one repeated term. Please uniquify your \
                 dataset. The repeated terms are: {}",
                py_list(&repeated)
            )));
        }
        let reserved = |what: &str, t: &K| -> Error {
            let at = vocabulary.iter().rposition(|v| v == t).unwrap_or(0);
            Error::value(format!(
                "Found reserved {what} token at unexpected location in `vocabulary`. Note that \
                 passed `vocabulary` does not need to include the OOV and mask tokens. Either \
                 remove all mask and OOV tokens, or include them only at the start of the \
                 vocabulary in precisely this order: {}. Received: {what}_token={} at vocabulary \
                 index [{at}]",
                py_list(&special),
                t.repr()
            ))
        };
        if let Some(m) = self.mask_token.as_ref().filter(|m| tokens.contains(m)) {
            return Err(reserved("mask", m));
        }
        if self.invert && tokens.contains(&self.oov_token) {
            return Err(reserved("oov", &self.oov_token));
        }
        let new_size = token_start + tokens.len();
        if let Some(m) = self.max_tokens.filter(|&m| new_size > m) {
            return Err(Error::value(format!(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received \
                 vocabulary size is {new_size}; `max_tokens` is {m}."
            )));
        }
        self.set_tokens(tokens.to_vec());
        self.record_vocabulary_size()?;
        if let (true, Some(w)) = (tf_idf, idf_weights) {
            if w.len() != vocabulary.len() {
                return Err(Error::value(format!(
                    "`idf_weights` must be the same length as vocabulary. len(idf_weights) is \
                     {}; len(vocabulary) is {}",
                    w.len(),
                    vocabulary.len()
                )));
            }
            let (front, front_value) = if found_special {
                (0, 0.0)
            } else {
                (token_start, w.iter().sum::<f64>() / w.len() as f64)
            };
            let back = match (self.pad_to_max_tokens, self.max_tokens) {
                (true, Some(m)) => m.saturating_sub(front + w.len()),
                _ => 0,
            };
            let mut all = vec![front_value as f32; front];
            all.extend(w.iter().map(|&x| x as f32));
            all.extend(std::iter::repeat_n(0f32, back));
            self.idf_weights = Some(all);
        }
        Ok(())
    }

    /// Sets the IDF weights as saved (`load_own_variables`).
    pub(crate) fn set_idf_weights(&mut self, w: Vec<f32>) {
        self.idf_weights = Some(w);
    }

    /// Clears what `adapt` has counted.
    pub fn reset_state(&mut self) {
        self.counts.clear();
        self.doc_counts.clear();
        self.num_documents = 0;
    }

    /// Counts terms: `rows` are the last-axis rows of data whose leading dimensions are
    /// `lead`; documents (for IDF) are the slices along the first axis, as in Keras.
    pub fn update_state(&mut self, layer: &str, lead: &[usize], rows: &[Vec<K>]) -> Result<()> {
        if self.has_input_vocabulary {
            return Err(Error::value(format!(
                "Cannot adapt layer '{layer}' after setting a static vocabulary via \
                 `vocabulary` argument or `set_vocabulary()` method."
            )));
        }
        for t in rows.iter().flatten() {
            *self.counts.entry(t.clone()).or_insert(0) += 1;
        }
        if self.output_mode == OutputMode::TfIdf {
            let docs = lead.first().copied().unwrap_or(1);
            let per_doc = rows.len().checked_div(docs).unwrap_or(0);
            for d in 0..docs {
                let mut unique: Vec<&K> = rows[d * per_doc..(d + 1) * per_doc]
                    .iter()
                    .flatten()
                    .collect();
                unique.sort();
                unique.dedup();
                for t in unique {
                    *self.doc_counts.entry(t.clone()).or_insert(0) += 1;
                }
            }
            self.num_documents += docs as i64;
        }
        Ok(())
    }

    /// Builds the vocabulary from the counts: most frequent first, ties broken by the larger
    /// term first (Keras's `np.lexsort(...)[::-1]`), cut to `max_tokens`.
    pub fn finalize_state(&mut self) -> Result<()> {
        if self.has_input_vocabulary || self.counts.is_empty() {
            return self.record_vocabulary_size();
        }
        if let Some(m) = &self.mask_token {
            self.counts.remove(m);
        }
        self.counts.remove(&self.oov_token);
        let mut terms: Vec<(K, i64)> = self.counts.drain().collect();
        terms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
        let token_start = self.token_start_index();
        if let Some(m) = self.max_tokens {
            terms.truncate(m.saturating_sub(token_start));
        }
        let tokens: Vec<K> = terms.into_iter().map(|(t, _)| t).collect();
        if self.output_mode == OutputMode::TfIdf {
            let n = self.num_documents as f64;
            let idf: Vec<f32> = tokens
                .iter()
                .map(|t| {
                    let df = self.doc_counts.get(t).copied().unwrap_or(0) as f64;
                    (1.0 + n / (1.0 + df)).ln() as f32
                })
                .collect();
            let mean = idf.iter().sum::<f32>() / idf.len().max(1) as f32;
            let mut all = vec![mean; token_start];
            all.extend(idf);
            if let (true, Some(m)) = (self.pad_to_max_tokens, self.max_tokens) {
                let back = m.saturating_sub(all.len());
                all.extend(std::iter::repeat_n(0f32, back));
            }
            self.idf_weights = Some(all);
        }
        self.set_tokens(tokens);
        self.reset_state();
        self.record_vocabulary_size()
    }

    /// The index of each term (mask: 0 in `int` mode, dropped otherwise; OOV terms: their OOV
    /// index). With `num_oov_indices=0` an OOV term is an error.
    pub fn lookup(&self, values: &[K]) -> Result<Vec<i64>> {
        let oov_start = self.oov_start_index() as i64;
        let n_oov = self.num_oov_indices;
        let mut missing: Vec<K> = vec![];
        let out = values
            .iter()
            .map(|v| {
                if self.mask_token.as_ref() == Some(v) {
                    return if self.output_mode == OutputMode::Int {
                        0
                    } else {
                        DROPPED
                    };
                }
                match self.index.get(v) {
                    Some(&i) => i,
                    None if n_oov == 0 => {
                        missing.push(v.clone());
                        -1
                    }
                    None if n_oov == 1 => oov_start,
                    None => oov_start + self.oov_bucket(v, n_oov) as i64,
                }
            })
            .collect();
        if !missing.is_empty() {
            return Err(Error::value(format!(
                "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values \
                 {}, consider setting `num_oov_indices=1`.",
                py_list(&missing)
            )));
        }
        Ok(out)
    }

    /// Which of `n` OOV indices an unknown term takes: `floormod` for integers by default,
    /// else FarmHash64 (SipHash-2-4 with a salt) of its bytes, as Keras's `_lookup_dense`.
    fn oov_bucket(&self, v: &K, n: usize) -> u64 {
        let n = n.max(1) as u64;
        if let (Some(i), false) = (v.as_int(), self.oov_method == "farmhash") {
            return i.rem_euclid(n as i64) as u64;
        }
        let bytes = v.hash_bytes();
        match self.salt {
            Some(key) => hash::siphash24(key, &bytes) % n,
            None => hash::fingerprint64(&bytes) % n,
        }
    }

    /// The term at each index (`invert`): the mask token at 0 when there is one, the OOV
    /// token for indices outside the vocabulary's own terms.
    pub fn invert_lookup(&self, indices: &[i64]) -> Vec<K> {
        let start = self.token_start_index() as i64;
        indices
            .iter()
            .map(|&i| {
                if i == 0 {
                    if let Some(m) = &self.mask_token {
                        return m.clone();
                    }
                }
                usize::try_from(i - start)
                    .ok()
                    .filter(|_| i >= start)
                    .and_then(|k| self.tokens.get(k))
                    .cloned()
                    .unwrap_or_else(|| self.oov_token.clone())
            })
            .collect()
    }

    /// The size encoded outputs have: `max_tokens` when padding to it, else the vocabulary's.
    pub fn depth(&self) -> Option<usize> {
        if self.pad_to_max_tokens {
            self.max_tokens
        } else {
            self.frozen_vocab_size
        }
    }

    /// Errors unless the encoded output size is known (Keras's `_ensure_known_vocab_size`).
    pub fn ensure_known_vocab_size(&self) -> Result<usize> {
        match self.depth() {
            Some(d) => Ok(d),
            None if self.output_mode == OutputMode::Int => Ok(0),
            None => Err(Error::runtime(format!(
                "When using `output_mode={}` and `pad_to_max_tokens=False`, you must set the \
                 layer's vocabulary before calling it. Either pass a `vocabulary` argument to \
                 the layer, or call `adapt` with some sample data.",
                self.output_mode.name()
            ))),
        }
    }

    /// The output shape for an input of shape `s` (Keras's `compute_output_shape`).
    pub fn output_shape(&self, s: &[Option<usize>]) -> Vec<Option<usize>> {
        let depth = self.depth();
        match self.output_mode {
            OutputMode::Int => s.to_vec(),
            OutputMode::OneHot => {
                let mut out = s.to_vec();
                if s.len() > 1 && s.last() == Some(&Some(1)) {
                    out.pop();
                }
                out.push(depth);
                out
            }
            _ => {
                let mut out = s[..s.len().saturating_sub(1)].to_vec();
                out.push(depth);
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn adapt_orders_by_count_then_term_descending() {
        let mut l = IndexLookup::new("StringLookup", "[UNK]".to_string(), None);
        l.refresh();
        let rows: Vec<Vec<String>> = ["b", "a", "c", "a", "b", "d"]
            .iter()
            .map(|s| vec![s.to_string()])
            .collect();
        l.update_state("string_lookup", &[6], &rows).unwrap();
        l.finalize_state().unwrap();
        assert_eq!(
            l.get_vocabulary(true),
            strings(&["[UNK]", "b", "a", "d", "c"])
        );
        assert_eq!(
            l.lookup(&strings(&["a", "zzz", "c"])).unwrap(),
            vec![2, 0, 4]
        );
        assert_eq!(
            l.invert_lookup(&[2, 0, 9]),
            strings(&["a", "[UNK]", "[UNK]"])
        );
    }

    #[test]
    fn set_vocabulary_checks_like_keras() {
        let mut l = IndexLookup::new("StringLookup", "[UNK]".to_string(), Some(String::new()));
        l.refresh();
        l.set_vocabulary(&strings(&["", "[UNK]", "x", "y"]), None)
            .unwrap();
        assert_eq!(l.get_vocabulary(false), strings(&["x", "y"]));
        assert_eq!(l.lookup(&strings(&["", "y", "q"])).unwrap(), vec![0, 3, 1]);
        let e = l
            .set_vocabulary(&strings(&["x", "x", "y", "y"]), None)
            .unwrap_err();
        assert!(
            e.to_string()
                .ends_with("The repeated terms are: ['x', 'y']"),
            "{e}"
        );
        let e = l.set_vocabulary(&strings(&["x", ""]), None).unwrap_err();
        assert!(
            e.to_string()
                .contains("Received: mask_token='' at vocabulary index [1]"),
            "{e}"
        );
        assert_eq!(
            super::super::lookup_token::py_splitlines("a\r\nb\n\nc\n"),
            vec!["a", "b", "", "c"]
        );
    }
}
