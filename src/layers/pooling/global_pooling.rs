//! Global max / average pooling: one value per channel.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape};
use crate::layers::data_format::DataFormat;
use crate::ops::{self, Padding, PoolKind, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::Result;

/// A global pooling layer; made by [`GlobalMaxPooling2D::new`], ...
///
/// With `data_format("channels_first")` the input `(batch, channels, ...)` is moved to
/// `channels_last` once per call; `keepdims` outputs are `(batch, channels, 1, ...)`, as Keras.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::GlobalAveragePooling2D;
/// let l = GlobalAveragePooling2D::new().data_format("channels_first").keepdims(true);
/// let y = l.call(&Input::new([3, 8, 6]))?;
/// assert_eq!(y.shape().to_string(), "(None, 3, 1, 1)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct GlobalPooling {
    args: LayerArgs,
    rank: usize,
    kind: PoolKind,
    keepdims: bool,
    data_format: String,
}

macro_rules! global_class {
    ($(#[$doc:meta])* $name:ident, $rank:expr, $kind:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl $name {
            /// The layer (`keepdims` false).
            #[allow(clippy::new_ret_no_self)]
            pub fn new() -> GlobalPooling {
                GlobalPooling {
                    args: LayerArgs::default(),
                    rank: $rank,
                    kind: $kind,
                    keepdims: false,
                    data_format: crate::layers::data_format::image_data_format().into(),
                }
            }
            /// The layer from its Keras config.
            pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
                let l = Self::new()
                    .keepdims(c.bool_or("keepdims", false)?)
                    .data_format(&DataFormat::read(c)?);
                apply_base_config(l, c)
            }
        }
    };
}

global_class!(
    /// `keras.layers.GlobalMaxPooling2D`: the maximum of each channel.
    GlobalMaxPooling2D,
    2,
    PoolKind::Max
);
global_class!(
    /// `keras.layers.GlobalAveragePooling2D`: the mean of each channel.
    GlobalAveragePooling2D,
    2,
    PoolKind::Avg
);
global_class!(
    /// `keras.layers.GlobalMaxPooling1D`: the maximum of each channel over the steps.
    GlobalMaxPooling1D,
    1,
    PoolKind::Max
);
global_class!(
    /// `keras.layers.GlobalAveragePooling1D`: the mean of each channel over the steps.
    GlobalAveragePooling1D,
    1,
    PoolKind::Avg
);

impl GlobalPooling {
    /// Keep the pooled axes with size 1.
    pub fn keepdims(mut self, k: bool) -> Self {
        self.keepdims = k;
        self
    }
    /// `"channels_last"` (default) or `"channels_first"`; another value is an error when
    /// the layer is called.
    pub fn data_format(mut self, f: &str) -> Self {
        self.data_format = f.to_lowercase();
        self
    }
    fn format(&self) -> Result<DataFormat> {
        DataFormat::parse(&self.data_format)
    }
}

impl Layer for GlobalPooling {
    fn class_name(&self) -> &str {
        match (self.kind, self.rank) {
            (PoolKind::Max, 1) => "GlobalMaxPooling1D",
            (PoolKind::Max, _) => "GlobalMaxPooling2D",
            (PoolKind::Avg, 1) => "GlobalAveragePooling1D",
            (PoolKind::Avg, _) => "GlobalAveragePooling2D",
        }
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(
            json!({"data_format": self.data_format, "keepdims": self.keepdims}),
        ))
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![InputSpec::new().ndim(self.rank + 2)]
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let f = self.format()?;
        let d = &f.shape_to_last(&s[0]).0;
        let c = d[d.len() - 1];
        let mut out = vec![d[0]];
        if self.keepdims {
            out.extend(std::iter::repeat_n(Some(1), self.rank));
        }
        out.push(c);
        Ok(vec![f.shape_from_last(&Shape(out))])
    }
    fn supports_masking(&self) -> bool {
        // GlobalAveragePooling1D averages over the unmasked steps only (and drops the mask).
        self.rank == 1 && self.kind == PoolKind::Avg
    }
    fn compute_mask(&self, _: &[Tensor], _: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![None])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let f = self.format()?;
        let x = &f.to_last(&inputs[0])?;
        if let (Some(m), true) = (ctx.mask(0), self.supports_masking()) {
            // sum(x * m) / sum(m) over the steps.
            let m = ops::cast(m, x.dtype())?.unsqueeze(2)?;
            let s = x.broadcast_mul(&m)?.sum_keepdim(1)?;
            let y = s.broadcast_div(&m.sum_keepdim(1)?)?;
            return Ok(vec![if self.keepdims {
                f.back_from_last(&y)?
            } else {
                y.squeeze(1)?
            }]);
        }
        let x = if self.rank == 1 {
            x.unsqueeze(1)?
        } else {
            x.clone()
        };
        let (n, h, w, c) = x.dims4()?;
        let y = ops::pool2d(&x, self.kind, (h, w), (h.max(1), w.max(1)), Padding::Valid)?;
        let y = if self.keepdims {
            if self.rank == 1 {
                y.reshape((n, 1, c))?
            } else {
                y
            }
        } else {
            y.reshape((n, c))?
        };
        Ok(vec![f.back_from_last(&y)?])
    }
}
