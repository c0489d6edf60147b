//! Recurrent layers.
//!
//! ```
//! use keras::prelude::*;
//! use keras::layers::{Embedding, LSTM};
//! let text = Input::shape([None]).dtype(DType::I32).build();
//! let e = Embedding::new(10000, 64).call(&text)?;
//! let h = LSTM::new(32).call(&e)?;
//! assert_eq!(h.shape().to_string(), "(None, 32)");
//! assert_eq!(h.layer().count_params(), 4 * 32 * (64 + 32 + 1));
//! # Ok::<(), keras::Error>(())
//! ```

mod base_rnn;
mod bidirectional;
mod gru;
mod lstm;
mod simple_rnn;
mod time_distributed;

pub(crate) use base_rnn::RecurrentConfig;
pub use base_rnn::{Recurrent, RnnOptions};
pub use bidirectional::Bidirectional;
pub use gru::GRU;
pub use lstm::LSTM;
pub use simple_rnn::SimpleRNN;
pub use time_distributed::TimeDistributed;
