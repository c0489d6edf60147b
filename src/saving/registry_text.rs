//! `from_config` for the text preprocessing layers: `TextVectorization`, `StringLookup` and
//! `IntegerLookup`. Their vocabulary comes from the config (`vocabulary`) or, when it was
//! learned by `adapt`, from the archive's `vocabulary.txt` asset read after the weights.

use super::config::{Cfg, Value};
use super::registry::finish;
use crate::engine::LayerRef;
use crate::layers::preprocessing::text_fns;
use crate::layers::preprocessing::{
    IndexLookup, IntegerLookup, StringLookup, TextVectorization, Token,
};
use crate::{Error, Result};

/// The layer for `class`, or `None` when this file does not know the class.
pub(crate) fn layer_from_config(class: &str, c: &Cfg) -> Option<Result<LayerRef>> {
    Some(match class {
        "TextVectorization" => text_vectorization(c),
        "StringLookup" => (|| {
            let mut l = StringLookup::new().encoding(c.str_or("encoding", "utf-8")?);
            lookup_options(l.lookup_mut(), c, "[UNK]".to_string())?;
            finish(l, c)
        })(),
        "IntegerLookup" => (|| {
            if let Some(d) = c.get("vocabulary_dtype").and_then(Value::as_str) {
                if d != "int64" {
                    return Err(Error::value(format!(
                        "Only `vocabulary_dtype='int64'` is supported at this time. Received: \
                         vocabulary_dtype={d}"
                    )));
                }
            }
            let mut l = IntegerLookup::new();
            lookup_options(l.lookup_mut(), c, -1)?;
            finish(l, c)
        })(),
        _ => return None,
    })
}

fn terms<K: Token>(c: &Cfg, key: &str) -> Result<Option<Vec<K>>> {
    match c.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                K::from_json(v).ok_or_else(|| {
                    Error::value(format!("{}: config key '{key}' holds {v}", c.class))
                })
            })
            .collect::<Result<Vec<K>>>()
            .map(Some),
        Some(v) => Err(Error::value(format!(
            "{}: config key '{key}' should be a list (a vocabulary file path cannot be loaded); \
             received {v}",
            c.class
        ))),
    }
}

fn floats(c: &Cfg, key: &str) -> Result<Option<Vec<f64>>> {
    match c.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_f64().ok_or_else(|| {
                    Error::value(format!("{}: config key '{key}' holds {v}", c.class))
                })
            })
            .collect::<Result<Vec<f64>>>()
            .map(Some),
        Some(v) => Err(Error::value(format!(
            "{}: config key '{key}' should be a list of numbers; received {v}",
            c.class
        ))),
    }
}

fn salt(c: &Cfg) -> Result<Option<[u64; 2]>> {
    let bad = |v: &Value| {
        Error::value(format!(
            "The `salt` argument for `IndexLookup` can only be a tuple of 2 integers, or a \
             single integer. Received: salt={v}."
        ))
    };
    match c.get("salt") {
        None => Ok(None),
        Some(Value::Array(a)) if a.len() == 2 => {
            let k: Option<Vec<u64>> = a.iter().map(Value::as_u64).collect();
            let k = k.ok_or_else(|| bad(&Value::Array(a.clone())))?;
            Ok(Some([k[0], k[1]]))
        }
        Some(v) => v.as_u64().map(|s| Some([s, s])).ok_or_else(|| bad(v)),
    }
}

/// Reads the `IndexLookup` keys into `l` (then applies them: `refresh`).
fn lookup_options<K: Token>(l: &mut IndexLookup<K>, c: &Cfg, default_oov: K) -> Result<()> {
    l.max_tokens = c
        .get("max_tokens")
        .map(|_| c.usize("max_tokens"))
        .transpose()?;
    l.num_oov_indices = c.usize_or("num_oov_indices", 1)?;
    l.oov_token = match c.get("oov_token") {
        None => default_oov,
        Some(v) => K::from_json(v)
            .ok_or_else(|| Error::value(format!("{}: bad oov_token {v}", c.class)))?,
    };
    l.mask_token = match c.get("mask_token") {
        None => None,
        Some(v) => Some(
            K::from_json(v)
                .ok_or_else(|| Error::value(format!("{}: bad mask_token {v}", c.class)))?,
        ),
    };
    l.invert = c.bool_or("invert", false)?;
    l.set_output_mode(c.str_or("output_mode", "int")?);
    l.pad_to_max_tokens = c.bool_or("pad_to_max_tokens", false)?;
    l.sparse = c.bool_or("sparse", false)?;
    l.oov_method = c.str_or("oov_method", "floormod")?.to_string();
    l.salt = salt(c)?;
    common(l, c)
}

/// The vocabulary keys every text layer has.
fn common<K: Token>(l: &mut IndexLookup<K>, c: &Cfg) -> Result<()> {
    l.input_vocabulary = terms(c, "vocabulary")?;
    l.has_input_vocabulary = c
        .get("has_input_vocabulary")
        .and_then(Value::as_bool)
        .unwrap_or(l.input_vocabulary.is_some());
    l.input_idf_weights = floats(c, "idf_weights")?;
    l.config_vocabulary_size = c
        .get("vocabulary_size")
        .map(|_| c.usize("vocabulary_size"))
        .transpose()?;
    l.refresh();
    Ok(())
}

fn text_vectorization(c: &Cfg) -> Result<LayerRef> {
    // A string names a built-in; a serialized function names a registered custom one.
    let text = |key: &str, default: &'static str| -> Result<Option<String>> {
        match c.map.get(key) {
            None => Ok(Some(default.to_string())),
            Some(Value::Null) | Some(Value::Object(_)) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(Error::value(format!(
                "TextVectorization: config key '{key}' should be a name or a function; received {v}"
            ))),
        }
    };
    let custom = |key: &str| -> Result<Option<String>> {
        match c.map.get(key) {
            Some(v @ Value::Object(_)) => text_fns::function_name(v)
                .map(|n| Some(n.to_string()))
                .ok_or_else(|| {
                    Error::value(format!(
                        "TextVectorization: config key '{key}' holds {v}, not a function"
                    ))
                }),
            _ => Ok(None),
        }
    };
    let missing = |key: &str, name: &str, register: &str| {
        Error::value(format!(
            "TextVectorization: could not locate the `{key}` function '{name}'. Register it \
             with keras::layers::preprocessing::{register} before loading"
        ))
    };
    let standardize = text("standardize", "lower_and_strip_punctuation")?;
    let split = text("split", "whitespace")?;
    let mut l = TextVectorization::new()
        .standardize(standardize.as_deref())
        .split(split.as_deref())
        .output_mode(c.str_or("output_mode", "int")?)
        .pad_to_max_tokens(c.bool_or("pad_to_max_tokens", false)?)
        .sparse(c.bool_or("sparse", false)?)
        .ragged(c.bool_or("ragged", false)?)
        .encoding(c.str_or("encoding", "utf-8")?);
    if let Some(name) = custom("standardize")? {
        let f = text_fns::standardize_named(&name)
            .ok_or_else(|| missing("standardize", &name, "register_standardize"))?;
        l.set_standardize_custom(&name, f);
    }
    if let Some(name) = custom("split")? {
        let f = text_fns::split_named(&name)
            .ok_or_else(|| missing("split", &name, "register_split"))?;
        l.set_split_custom(&name, f);
    }
    if c.get("max_tokens").is_some() {
        l = l.max_tokens(c.usize("max_tokens")?);
    }
    if c.get("output_sequence_length").is_some() {
        l = l.output_sequence_length(c.usize("output_sequence_length")?);
    }
    l.set_ngrams_value(c.map.get("ngrams").unwrap_or(&Value::Null))?;
    common(l.lookup_mut(), c)?;
    finish(l, c)
}
