//! The terms a lookup vocabulary holds (strings or `int64`), how they are written (config,
//! `vocabulary.txt`, Python's `repr` in error messages) and hashed into OOV indices.

use crate::serialization::Value;
use std::fmt::Debug;
use std::hash::Hash;

/// A vocabulary term: a string (`StringLookup`, `TextVectorization`) or an `int64`
/// (`IntegerLookup`).
pub trait Token: Clone + Eq + Hash + Ord + Debug + Send + Sync + 'static {
    /// The term as a config value.
    fn to_json(&self) -> Value;
    /// The term from a config value.
    fn from_json(v: &Value) -> Option<Self>;
    /// The term as a line of `vocabulary.txt`.
    fn to_line(&self) -> String;
    /// The term from a line of `vocabulary.txt`.
    fn from_line(s: &str) -> Option<Self>;
    /// Python's `repr` of the term, for error messages.
    fn repr(&self) -> String;
    /// The bytes the OOV hash reads (a string's UTF-8, an integer's decimal digits).
    fn hash_bytes(&self) -> Vec<u8>;
    /// Whether terms are integers (`oov_method` applies).
    const INTEGER: bool;
    /// The term as an integer, for `floormod` OOV buckets.
    fn as_int(&self) -> Option<i64> {
        None
    }
}

impl Token for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
    fn from_json(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_string)
    }
    fn to_line(&self) -> String {
        self.clone()
    }
    fn from_line(s: &str) -> Option<Self> {
        Some(s.to_string())
    }
    fn repr(&self) -> String {
        py_str_repr(self)
    }
    fn hash_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    const INTEGER: bool = false;
}

impl Token for i64 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
    fn from_json(v: &Value) -> Option<Self> {
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }
    fn to_line(&self) -> String {
        self.to_string()
    }
    fn from_line(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
    fn repr(&self) -> String {
        self.to_string()
    }
    fn hash_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
    const INTEGER: bool = true;
    fn as_int(&self) -> Option<i64> {
        Some(*self)
    }
}

/// Python's `repr` of a string: single quotes unless the text holds one and no double quote.
pub(crate) fn py_str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// A Python list's `repr` of terms.
pub(crate) fn py_list<K: Token>(v: &[K]) -> String {
    format!(
        "[{}]",
        v.iter().map(Token::repr).collect::<Vec<_>>().join(", ")
    )
}

/// Python's `str.splitlines()`.
pub(crate) fn py_splitlines(s: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            out.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = it.peek() {
                    it.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// A Python list of floats, for error messages.
pub(crate) fn py_floats(v: &[f64]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|x| format!("{x:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
