//! Automatic unique names, as Keras gives them: `dense`, `dense_1`, `dense_2`, ...

use std::collections::HashMap;
use std::sync::Mutex;

static COUNTS: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

/// `BatchNormalization` -> `batch_normalization`, `Conv2D` -> `conv2d`: Keras's
/// `to_snake_case` (the same two regex substitutions, done by hand).
pub fn to_snake_case(name: &str) -> String {
    let c: Vec<char> = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    // (.)([A-Z][a-z]+) -> \1_\2
    let mut a = Vec::with_capacity(c.len() + 4);
    let mut i = 0;
    while i < c.len() {
        if i + 2 < c.len() && c[i + 1].is_ascii_uppercase() && c[i + 2].is_ascii_lowercase() {
            let mut end = i + 3;
            while end < c.len() && c[end].is_ascii_lowercase() {
                end += 1;
            }
            a.push(c[i]);
            a.push('_');
            a.extend_from_slice(&c[i + 1..end]);
            i = end;
        } else {
            a.push(c[i]);
            i += 1;
        }
    }
    // ([a-z])([A-Z]) -> \1_\2
    let mut out = String::with_capacity(a.len() + 4);
    let mut i = 0;
    while i < a.len() {
        if i + 1 < a.len() && a[i].is_ascii_lowercase() && a[i + 1].is_ascii_uppercase() {
            out.push(a[i]);
            out.push('_');
            out.push(a[i + 1]);
            i += 2;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.to_lowercase()
}

/// The next unique name for `base`: `base` the first time, then `base_1`, `base_2`, ...
pub fn unique_name(base: &str) -> String {
    let mut g = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let counts = g.get_or_insert_with(HashMap::new);
    let n = counts.entry(base.to_string()).or_insert(0);
    let name = if *n == 0 {
        base.to_string()
    } else {
        format!("{base}_{n}")
    };
    *n += 1;
    name
}

/// Forgets every counter, so names start again from `dense` (Keras's `clear_session`).
pub fn reset() {
    *COUNTS.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_like_keras() {
        assert_eq!(to_snake_case("Dense"), "dense");
        assert_eq!(to_snake_case("BatchNormalization"), "batch_normalization");
        assert_eq!(to_snake_case("InputLayer"), "input_layer");
        assert_eq!(to_snake_case("Conv2D"), "conv2d");
        assert_eq!(to_snake_case("LSTM"), "lstm");
        assert_eq!(to_snake_case("GlobalMaxPooling1D"), "global_max_pooling1d");
        assert_eq!(to_snake_case("ReLU"), "re_lu");
    }

    #[test]
    fn names_count_up() {
        let a = unique_name("zz_test_layer");
        let b = unique_name("zz_test_layer");
        assert_eq!(a, "zz_test_layer");
        assert_eq!(b, "zz_test_layer_1");
    }
}
