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

/// What can go wrong in keras-rs.
#[derive(thiserror::Error, Debug)]
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
    /// An [`Error::Io`] that says what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Returns early with an [`Error::Value`] built like `format!`.
#[macro_export]
#[doc(hidden)]
macro_rules! bail_value {
    ($($arg:tt)*) => { return Err($crate::Error::Value(format!($($arg)*))) };
}
