//! Windowed max / average pooling over 1 or 2 spatial axes.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::layers::convolutional::Size2;
use crate::layers::data_format::DataFormat;
use crate::ops::{self, Padding, PoolKind, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// A pooling layer; made by [`MaxPooling2D::new`], [`AveragePooling1D::new`], ...
///
/// Defaults as Keras: `strides` = `pool_size`, `valid` padding, `channels_last`. With
/// `data_format("channels_first")` the input is moved to `channels_last` once per call,
/// pooled, and moved back.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::MaxPooling2D;
/// let y = MaxPooling2D::new(2).data_format("channels_first").call(&Input::new([3, 8, 6]))?;
/// assert_eq!(y.shape().to_string(), "(None, 3, 4, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Pooling {
    args: LayerArgs,
    rank: usize,
    kind: PoolKind,
    pool: Size2,
    strides: Option<Size2>,
    padding: String,
    data_format: String,
    pad: Padding,
}

macro_rules! pooling_class {
    ($(#[$doc:meta])* $name:ident, $rank:expr, $kind:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl $name {
            /// Pooling over windows of `pool_size`.
            #[allow(clippy::new_ret_no_self)]
            pub fn new(pool_size: impl Into<Size2>) -> Pooling {
                Pooling::new($rank, $kind, pool_size.into())
            }
            /// The layer from its Keras config.
            pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
                Pooling::from_config($rank, $kind, c)
            }
        }
    };
}

pooling_class!(
    /// `keras.layers.MaxPooling2D` over `(batch, height, width, channels)`.
    MaxPooling2D,
    2,
    PoolKind::Max
);
pooling_class!(
    /// `keras.layers.AveragePooling2D` over `(batch, height, width, channels)`.
    AveragePooling2D,
    2,
    PoolKind::Avg
);
pooling_class!(
    /// `keras.layers.MaxPooling1D` over `(batch, steps, channels)`.
    MaxPooling1D,
    1,
    PoolKind::Max
);
pooling_class!(
    /// `keras.layers.AveragePooling1D` over `(batch, steps, channels)`.
    AveragePooling1D,
    1,
    PoolKind::Avg
);

impl Pooling {
    /// A pooling layer over `rank` axes from its Keras config (`strides` default to the pool).
    fn from_config(rank: usize, kind: PoolKind, c: &Cfg) -> Result<LayerRef> {
        let (pool, strides) = if rank == 1 {
            let p = c.one("pool_size", 2)?;
            let s = c.get("strides").map(|_| c.one("strides", p)).transpose()?;
            (Size2(p, p), s.map(Size2::from))
        } else {
            let p = c.pair("pool_size", (2, 2))?;
            let s = c.get("strides").map(|_| c.pair("strides", p)).transpose()?;
            (Size2::from(p), s.map(Size2::from))
        };
        let mut l = Pooling::new(rank, kind, pool)
            .padding(c.str_or("padding", "valid")?)
            .data_format(&DataFormat::read(c)?);
        if let Some(s) = strides {
            l = l.strides(s);
        }
        apply_base_config(l, c)
    }

    fn new(rank: usize, kind: PoolKind, pool: Size2) -> Self {
        let pool = if rank == 1 { Size2(1, pool.0) } else { pool };
        Pooling {
            args: LayerArgs::default(),
            rank,
            kind,
            pool,
            strides: None,
            padding: "valid".into(),
            data_format: crate::layers::data_format::image_data_format().into(),
            pad: Padding::Valid,
        }
    }
    /// Strides (default: the pool size).
    pub fn strides(mut self, s: impl Into<Size2>) -> Self {
        let s = s.into();
        self.strides = Some(if self.rank == 1 { Size2(1, s.0) } else { s });
        self
    }
    /// `"valid"` or `"same"`.
    pub fn padding(mut self, p: &str) -> Self {
        self.padding = p.into();
        self
    }
    /// `"channels_last"` (default) or `"channels_first"`; another value is an error at build.
    pub fn data_format(mut self, f: &str) -> Self {
        self.data_format = f.to_lowercase();
        self
    }
    fn format(&self) -> Result<DataFormat> {
        DataFormat::parse(&self.data_format)
    }
    fn stride(&self) -> Size2 {
        self.strides.unwrap_or(self.pool)
    }
    /// What a convolution folding this pooling into its own call needs: the rank, the data
    /// format and the 2D pooling (a 1D one is 2D of height 1).
    pub(crate) fn fusable(&self) -> (usize, &str, ops::PoolSpec) {
        let s = self.stride();
        (
            self.rank,
            &self.data_format,
            ops::PoolSpec {
                kind: self.kind,
                pool: (self.pool.0, self.pool.1),
                strides: (s.0, s.1),
                padding: self.pad,
            },
        )
    }
}

impl Layer for Pooling {
    fn class_name(&self) -> &str {
        match (self.kind, self.rank) {
            (PoolKind::Max, 1) => "MaxPooling1D",
            (PoolKind::Max, _) => "MaxPooling2D",
            (PoolKind::Avg, 1) => "AveragePooling1D",
            (PoolKind::Avg, _) => "AveragePooling2D",
        }
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "pool_size": self.pool.to_json(self.rank),
            "strides": self.stride().to_json(self.rank),
            "padding": self.padding,
            "data_format": self.data_format,
        })))
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![InputSpec::new().ndim(self.rank + 2)]
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        crate::layers::convolutional::check_positive("pool_size", self.pool, self.rank)?;
        crate::layers::convolutional::check_positive("strides", self.stride(), self.rank)?;
        self.pad = Padding::parse(&self.padding)?;
        self.compute_output_shape(s).map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let pad = Padding::parse(&self.padding)?;
        let f = self.format()?;
        let d = &f.shape_to_last(&s[0]).0;
        let spatial = &d[1..d.len() - 1];
        let (ps, ss) = (
            [self.pool.0, self.pool.1],
            [self.stride().0, self.stride().1],
        );
        let off = 2 - spatial.len();
        let mut out = vec![d[0]];
        for (i, v) in spatial.iter().enumerate() {
            out.push(match v {
                None => None,
                Some(v) => Some(pad.out_size(*v, ps[i + off], ss[i + off], 1).map(|o| o.0).ok_or_else(|| {
                    Error::shape(format!(
                        "Computed output size would be negative. Received: inputs.shape={}, pool_size={:?}, padding=\"valid\"",
                        s[0],
                        &ps[off..]
                    ))
                })?),
            });
        }
        out.push(d[d.len() - 1]);
        Ok(vec![f.shape_from_last(&Shape(out))])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let f = self.format()?;
        let x = f.to_last(&inputs[0])?;
        let x = if self.rank == 1 { x.unsqueeze(1)? } else { x };
        let y = ops::pool2d(
            &x,
            self.kind,
            (self.pool.0, self.pool.1),
            (self.stride().0, self.stride().1),
            self.pad,
        )?;
        Ok(vec![f.back_from_last(&if self.rank == 1 {
            y.squeeze(1)?
        } else {
            y
        })?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;

    #[test]
    fn output_shapes() {
        assert_eq!(
            MaxPooling2D::new(2)
                .strides(2)
                .call(Input::new([7, 6, 3]))
                .unwrap()
                .shape()
                .to_string(),
            "(None, 3, 3, 3)"
        );
        assert_eq!(
            AveragePooling2D::new(3)
                .strides(2)
                .call(Input::new([9, 9, 8]))
                .unwrap()
                .shape()
                .to_string(),
            "(None, 4, 4, 8)"
        );
        assert_eq!(
            AveragePooling2D::new(3)
                .strides(2)
                .padding("same")
                .call(Input::new([9, 9, 8]))
                .unwrap()
                .shape()
                .to_string(),
            "(None, 5, 5, 8)"
        );
        assert_eq!(
            MaxPooling1D::new(5)
                .call(Input::new([496, 128]))
                .unwrap()
                .shape()
                .to_string(),
            "(None, 99, 128)"
        );
        let y = MaxPooling1D::new(2)
            .into_layer()
            .apply(
                &Tensor::new(&[[[1f32], [3.0], [2.0], [0.0]]], &crate::ops::Device::Cpu).unwrap(),
            )
            .unwrap();
        assert_eq!(
            y.to_vec3::<f32>().unwrap(),
            vec![vec![vec![3.0], vec![2.0]]]
        );
    }
}
