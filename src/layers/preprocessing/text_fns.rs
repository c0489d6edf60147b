//! Custom `standardize` and `split` functions for `TextVectorization` (Keras's callables),
//! registered by name so a saved model finds them again, as Keras's
//! `register_keras_serializable` functions: the config names them
//! `{"class_name": "function", "config": "<package>>name", ...}`.

use crate::serialization::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A custom standardization: one string in, the standardized string out.
pub type StandardizeFn = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// A custom split: one (standardized) string in, its tokens out.
pub type SplitFn = Arc<dyn Fn(&str) -> Vec<String> + Send + Sync>;

type Registry<F> = RwLock<Option<HashMap<String, F>>>;

static STANDARDIZE: Registry<StandardizeFn> = RwLock::new(None);
static SPLIT: Registry<SplitFn> = RwLock::new(None);

fn put<F>(r: &Registry<F>, name: &str, f: F) {
    r.write()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(name.to_string(), f);
}

fn get<F: Clone>(r: &Registry<F>, name: &str) -> Option<F> {
    r.read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(name).cloned())
}

/// Registers a standardization under `name` (Keras's registered name, e.g.
/// `"demo>custom_standardization"` for `@register_keras_serializable(package="demo")`), so
/// models whose `TextVectorization` uses it load.
///
/// ```
/// use keras::layers::preprocessing::register_standardize;
/// register_standardize("demo>custom_standardization", |s| {
///     s.to_lowercase().replace("<br />", " ")
/// });
/// ```
pub fn register_standardize(name: &str, f: impl Fn(&str) -> String + Send + Sync + 'static) {
    put(&STANDARDIZE, name, Arc::new(f) as StandardizeFn);
}

/// Registers a split function under `name` (see [`register_standardize`]).
///
/// ```
/// use keras::layers::preprocessing::register_split;
/// register_split("demo>split_on_commas", |s| s.split(',').map(str::to_string).collect());
/// ```
pub fn register_split(name: &str, f: impl Fn(&str) -> Vec<String> + Send + Sync + 'static) {
    put(&SPLIT, name, Arc::new(f) as SplitFn);
}

pub(crate) fn standardize_named(name: &str) -> Option<StandardizeFn> {
    get(&STANDARDIZE, name)
}

pub(crate) fn split_named(name: &str) -> Option<SplitFn> {
    get(&SPLIT, name)
}

/// A registered function as Keras serializes it.
pub(crate) fn function_value(name: &str) -> Value {
    json!({
        "module": "builtins",
        "class_name": "function",
        "config": name,
        "registered_name": "function",
    })
}

/// The registered name of a serialized function, if `v` is one.
pub(crate) fn function_name(v: &Value) -> Option<&str> {
    (v.get("class_name").and_then(Value::as_str) == Some("function"))
        .then(|| v.get("config").and_then(Value::as_str))
        .flatten()
}
