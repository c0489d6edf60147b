//! The one error type of keras-rs.
//!
//! Every fallible call returns [`Result<T>`]. The variants follow the exceptions Keras raises
//! (`ValueError`, `TypeError`, `RuntimeError`, ...), and their messages follow Keras's wording:
//! they name the layer or argument at fault and quote the received value.
//!
//! ```
//! use keras::prelude::*;
//! let err = keras::activations::get("relux").unwrap_err();
//! assert!(err.to_string().contains("Could not interpret activation function identifier: relux"));
//! ```
//!
//! `Debug` prints the message too (as `anyhow` does), so a `main` returning
//! [`Result<()>`] that fails shows `Error: <message>`, not the variant's structure:
//!
//! ```
//! let err = keras::Error::value("Input 0 of layer \"dense\" is incompatible with the layer");
//! assert_eq!(format!("{err:?}"), "Input 0 of layer \"dense\" is incompatible with the layer");
//! ```
//!
//! An error raised while a layer runs names the layer, the models it was called in and the
//! arguments it received, as Keras 3 does (`Exception encountered when calling Dense.call()`):
//! see [`CALL_HEAD`].

use crate::ops::Tensor;

/// What can go wrong in keras-rs.
#[derive(thiserror::Error)]
pub enum Error {
    /// A bad argument: an unknown name, a value out of range, a wrong configuration
    /// (Keras raises `ValueError`).
    #[error("{0}")]
    Value(String),
    /// Shapes that do not fit together: an input a layer cannot take, x and y of different
    /// lengths.
    #[error("{0}")]
    Shape(String),
    /// A call made in the wrong state, such as `fit` before `compile`
    /// (Keras raises `RuntimeError`).
    #[error("{0}")]
    Runtime(String),
    /// Training produced a non-finite loss.
    #[error("{0}")]
    NonFinite(String),
    /// A file that is not what it claims to be (truncated, corrupted, wrong kind).
    #[error("{0}")]
    Format(String),
    /// An operating-system error while reading or writing a file.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An error from the tensor backend (candle).
    #[error("tensor backend error: {0}")]
    Backend(#[from] candle_core::Error),
}

/// The message, then the sources' messages it does not already contain (`Caused by:`), as
/// `anyhow` prints an error: what `fn main() -> keras::Result<()>` shows after `Error: `.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.to_string();
        write!(f, "{text}")?;
        let mut causes = vec![];
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let m = s.to_string();
            if !text.contains(&m) {
                causes.push(m);
            }
            source = s.source();
        }
        if !causes.is_empty() {
            write!(f, "\n\nCaused by:")?;
            for (i, c) in causes.iter().enumerate() {
                write!(f, "\n    {i}: {c}")?;
            }
        }
        Ok(())
    }
}

/// How the message of an error raised inside a layer's call begins: Keras 3's
/// `Exception encountered when calling Dense.call()`, followed here by the layer and the
/// models (or wrapper layers) it was called in, innermost first, on one line:
///
/// ```text
/// Exception encountered when calling Dense.call() of layer "dense_1" in model "encoder" in model "autoencoder".
///
/// <the error raised inside>
///
/// Arguments received by Dense.call():
///   • inputs=Tensor(shape=(2, 5), dtype=float32)
/// ```
pub const CALL_HEAD: &str = "Exception encountered when calling ";

/// `std::result::Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A [`Error::Value`] with this message.
    pub fn value(msg: impl Into<String>) -> Self {
        Error::Value(msg.into())
    }
    /// A [`Error::Shape`] with this message.
    pub fn shape(msg: impl Into<String>) -> Self {
        Error::Shape(msg.into())
    }
    /// A [`Error::Runtime`] with this message.
    pub fn runtime(msg: impl Into<String>) -> Self {
        Error::Runtime(msg.into())
    }
    /// A [`Error::Format`] with this message.
    pub fn format(msg: impl Into<String>) -> Self {
        Error::Format(msg.into())
    }
    /// The same error with `context` in front of its message (`"Sequence batch 3: ..."`),
    /// keeping its kind.
    pub fn context(self, context: &str) -> Self {
        match self {
            Error::Value(m) => Error::Value(format!("{context}: {m}")),
            Error::Shape(m) => Error::Shape(format!("{context}: {m}")),
            Error::Runtime(m) => Error::Runtime(format!("{context}: {m}")),
            Error::NonFinite(m) => Error::NonFinite(format!("{context}: {m}")),
            Error::Format(m) => Error::Format(format!("{context}: {m}")),
            Error::Io { context: c, source } => Error::Io {
                context: format!("{context}: {c}"),
                source,
            },
            Error::Backend(e) => Error::Runtime(format!("{context}: tensor backend error: {e}")),
        }
    }
    /// The same error, kind kept, with its message rewritten by `f` (a backend error becomes
    /// an [`Error::Value`]).
    fn map_message(self, f: impl FnOnce(String) -> String) -> Self {
        match self {
            Error::Value(m) => Error::Value(f(m)),
            Error::Shape(m) => Error::Shape(f(m)),
            Error::Runtime(m) => Error::Runtime(f(m)),
            Error::NonFinite(m) => Error::NonFinite(f(m)),
            Error::Format(m) => Error::Format(f(m)),
            io @ Error::Io { .. } => io,
            Error::Backend(e) => Error::Value(f(e.to_string())),
        }
    }

    /// This error, raised while the layer `name` of class `class` ran on `inputs`, as Keras 3
    /// reports it (see [`CALL_HEAD`]). An error already reported by an inner layer keeps its
    /// message and gains ` in model "name"` (or ` in layer "name"` for a wrapper) on its first
    /// line, so the path through nested models reads innermost first and the inner layer is
    /// named once. A message that already names this layer (`Embedding layer "emb": ...`) is
    /// kept as it is; the models around it add the report.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let x = Tensor::zeros((2, 5), DType::F32, &Device::Cpu)?;
    /// let e = keras::Error::value("boom").in_call("Dense", "dense_1", false, &[x]);
    /// let e = e.in_call("Functional", "encoder", true, &[]);
    /// assert_eq!(
    ///     e.to_string(),
    ///     "Exception encountered when calling Dense.call() of layer \"dense_1\" in model \"encoder\".\n\n\
    ///      boom\n\nArguments received by Dense.call():\n  • inputs=Tensor(shape=(2, 5), dtype=float32)"
    /// );
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn in_call(self, class: &str, name: &str, is_model: bool, inputs: &[Tensor]) -> Self {
        let kind = if is_model { "model" } else { "layer" };
        self.map_message(|m| {
            if m.starts_with(CALL_HEAD) {
                let end = m.find(".\n").unwrap_or(m.len());
                let (head, rest) = m.split_at(end);
                return format!("{head} in {kind} \"{name}\"{rest}");
            }
            if m.contains(&format!("\"{name}\"")) {
                // The message names the layer already (`Embedding layer "emb": ...`).
                return m;
            }
            let args = match inputs {
                [] => String::new(),
                [x] => format!(
                    "\n\nArguments received by {class}.call():\n  • inputs={}",
                    describe(x)
                ),
                xs => format!(
                    "\n\nArguments received by {class}.call():\n  • inputs=[{}]",
                    xs.iter().map(describe).collect::<Vec<_>>().join(", ")
                ),
            };
            format!("{CALL_HEAD}{class}.call() of {kind} \"{name}\".\n\n{m}{args}")
        })
    }

    /// An [`Error::Io`] that says what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// `Tensor(shape=(2, 5), dtype=float32)`: a call argument in an error message.
fn describe(x: &Tensor) -> String {
    let dims: Vec<String> = x.dims().iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    format!(
        "Tensor(shape={shape}, dtype={})",
        crate::ops::dtype_name(x.dtype())
    )
}

/// Returns early with an [`Error::Value`] built like `format!`.
#[macro_export]
#[doc(hidden)]
macro_rules! bail_value {
    ($($arg:tt)*) => { return Err($crate::Error::Value(format!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{DType, Device};

    fn zeros(shape: &[usize]) -> Tensor {
        Tensor::zeros(shape, DType::F32, &Device::Cpu).unwrap()
    }

    #[test]
    fn debug_is_the_message_and_the_causes_it_lacks() {
        let e = Error::shape("Input 0 of layer \"dense\" is incompatible with the layer");
        assert_eq!(
            format!("{e:?}"),
            "Input 0 of layer \"dense\" is incompatible with the layer"
        );
        // The io error's text is in the message already: no `Caused by`.
        let io = Error::io(
            "reading m.keras",
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        );
        assert_eq!(format!("{io:?}"), "reading m.keras: no such file");
    }

    #[test]
    fn a_call_error_names_layer_path_and_arguments_once() {
        let inner = Error::value("boom").in_call("Dense", "dense_1", false, &[zeros(&[2, 5])]);
        let outer = inner
            .in_call("Functional", "encoder", true, &[zeros(&[2, 5])])
            .in_call("Functional", "autoencoder", true, &[zeros(&[2, 5])]);
        let m = outer.to_string();
        assert_eq!(
            m.lines().next().unwrap(),
            "Exception encountered when calling Dense.call() of layer \"dense_1\" in model \
             \"encoder\" in model \"autoencoder\"."
        );
        assert_eq!(m.matches(CALL_HEAD).count(), 1, "{m}");
        assert!(
            m.ends_with("  • inputs=Tensor(shape=(2, 5), dtype=float32)"),
            "{m}"
        );
        assert!(matches!(outer, Error::Value(_)));
        // Kinds are kept; several inputs are listed; a vector's shape is `(n,)`.
        let e = Error::shape("bad").in_call("Add", "add", false, &[zeros(&[3]), zeros(&[2, 3])]);
        assert!(matches!(e, Error::Shape(_)));
        assert!(e.to_string().ends_with(
            "inputs=[Tensor(shape=(3,), dtype=float32), Tensor(shape=(2, 3), dtype=float32)]"
        ));
        // A message naming its layer is left to the models around it.
        let named = Error::value("Embedding layer \"emb\": index 5 is out of range").in_call(
            "Embedding",
            "emb",
            false,
            &[zeros(&[1])],
        );
        assert_eq!(
            named.to_string(),
            "Embedding layer \"emb\": index 5 is out of range"
        );
        let m = named
            .in_call("Sequential", "seq", true, &[zeros(&[1])])
            .to_string();
        assert!(
            m.starts_with(
                "Exception encountered when calling Sequential.call() of model \"seq\".\n\n\
                 Embedding layer \"emb\""
            ),
            "{m}"
        );
    }
}
