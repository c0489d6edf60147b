//! Config readers several layers share, beyond the base keys of
//! [`crate::engine::config`]: the layers that compute in `channels_last` only (the
//! preprocessing layers, `SpatialDropout`, and `Cropping1D`, which has no `data_format` in
//! Keras) refuse the other format when they read their config (convolution, pooling,
//! `Flatten`, `UpSampling2D`, `ZeroPadding` and `Cropping2D` take both: see
//! [`crate::layers::data_format`]); and keras-rs has no sparse tensors, so the preprocessing
//! layers refuse `sparse=True`.
//!
//! ```
//! use keras::engine::LayerRef;
//! use keras::serialization::{config, json, registration::deserialize};
//! let c = config(json!({"cropping": [1, 1], "data_format": "channels_first"}));
//! let e = deserialize::<LayerRef>("Cropping1D", &c).unwrap_err().to_string();
//! assert!(e.contains("Cropping1D: only data_format=\"channels_last\""), "{e}");
//! ```

use crate::activations::ActivationArg;
use crate::initializers::InitializerArg;
use crate::regularizers::RegularizerArg;
use crate::serialization::Cfg;
use crate::{Error, Result};

/// The keys of the layers built around a kernel and a bias (`Dense`, `Conv1D`, `Conv2D`),
/// with Keras's defaults: no activation, a bias, `glorot_uniform` kernel, `zeros` bias, no
/// regularizers.
pub(crate) struct KernelConfig {
    pub activation: ActivationArg,
    pub use_bias: bool,
    pub kernel_initializer: InitializerArg,
    pub bias_initializer: InitializerArg,
    pub kernel_regularizer: Option<RegularizerArg>,
    pub bias_regularizer: Option<RegularizerArg>,
}

impl KernelConfig {
    /// Reads them from a config.
    pub(crate) fn read(c: &Cfg) -> Result<Self> {
        Ok(KernelConfig {
            activation: c.activation("activation", "linear")?,
            use_bias: c.bool_or("use_bias", true)?,
            kernel_initializer: c.initializer("kernel_initializer", "glorot_uniform")?,
            bias_initializer: c.initializer("bias_initializer", "zeros")?,
            kernel_regularizer: c.regularizer("kernel_regularizer")?,
            bias_regularizer: c.regularizer("bias_regularizer")?,
        })
    }
}

impl Cfg<'_> {
    /// Refuses a `data_format` other than `channels_last`, naming the class and the value.
    pub(crate) fn channels_last(&self) -> Result<()> {
        match self.opt_str("data_format")? {
            None | Some("channels_last") => Ok(()),
            Some(f) => Err(Error::value(format!(
                "{}: only data_format=\"channels_last\" is supported; received {f}",
                self.class
            ))),
        }
    }

    /// Refuses `sparse=True` (keras-rs has no sparse tensors).
    pub(crate) fn not_sparse(&self) -> Result<()> {
        if self.bool_or("sparse", false)? {
            return Err(Error::value(format!(
                "{}: sparse=True is not supported by keras-rs",
                self.class
            )));
        }
        Ok(())
    }
}
