//! `Embedding`: integer ids to dense vectors.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{InitializerArg, RandomUniform};
use crate::ops::{self, DType, Tensor};
use crate::regularizers::RegularizerArg;
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Turns integer ids in `[0, input_dim)` into vectors of size `output_dim`: a trainable table
/// looked up by row. Input `(batch, ...)` of ids gives `(batch, ..., output_dim)`.
///
/// Defaults as Keras: `uniform` initializer (-0.05, 0.05).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Embedding;
/// let text = Input::shape(&[None]).dtype(DType::I32).name("text").build();
/// let e = Embedding::new(10000, 64).call(&text)?;
/// assert_eq!(e.shape().to_string(), "(None, None, 64)");
/// assert_eq!(e.layer().count_params(), 640_000);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Embedding {
    args: LayerArgs,
    input_dim: usize,
    output_dim: usize,
    initializer: InitializerArg,
    regularizer: Option<RegularizerArg>,
    mask_zero: bool,
    embeddings: Option<Weight>,
}

/// Keras 3's warning for the deprecated `input_length` argument.
const INPUT_LENGTH_WARNING: &str =
    "UserWarning: Argument `input_length` is deprecated. Just remove it.";

/// Prints Keras's `input_length` deprecation warning to stderr, once per process (as Python shows a warning once
/// per call site).
fn warn_input_length() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| eprintln!("{INPUT_LENGTH_WARNING}"));
}

impl Embedding {
    /// A table of `input_dim` rows of `output_dim` values.
    pub fn new(input_dim: usize, output_dim: usize) -> Self {
        Embedding {
            args: LayerArgs::default(),
            input_dim,
            output_dim,
            initializer: RandomUniform::default().into(),
            regularizer: None,
            mask_zero: false,
            embeddings: None,
        }
    }

    /// The table's initializer (default `uniform`).
    pub fn embeddings_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.initializer = i.into();
        self
    }

    /// A penalty on the table.
    pub fn embeddings_regularizer(mut self, r: impl Into<RegularizerArg>) -> Self {
        self.regularizer = Some(r.into());
        self
    }

    /// Treat id 0 as padding: the output carries a mask (1 for ids other than 0) that
    /// recurrent, pooling and attention layers downstream use to skip the padding.
    pub fn mask_zero(mut self, b: bool) -> Self {
        self.mask_zero = b;
        self
    }

    /// Keras 2's `input_length`: accepted and ignored, as Keras 3 does, with its deprecation
    /// warning on stderr (once per process). It is not written by `get_config`.
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::layers::Embedding;
    /// let e = Embedding::new(100, 8).input_length(10).call(&Input::new([10]))?;
    /// assert_eq!(e.shape().to_string(), "(None, 10, 8)");
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn input_length(self, _n: usize) -> Self {
        warn_input_length();
        self
    }

    /// The table, once built.
    pub fn embeddings(&self) -> Option<&Weight> {
        self.embeddings.as_ref()
    }
}

impl Embedding {
    /// An `Embedding` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = Embedding::new(c.usize("input_dim")?, c.usize("output_dim")?)
            .mask_zero(c.bool_or("mask_zero", false)?);
        if c.get("input_length").is_some() {
            // Keras 3 pops it (whatever its value) from the kwargs with a warning, keeps nothing.
            warn_input_length();
        }
        apply_base_config(l, c)
    }
}

impl Layer for Embedding {
    fn class_name(&self) -> &str {
        "Embedding"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(
            json!({"input_dim": self.input_dim, "output_dim": self.output_dim, "mask_zero": self.mask_zero}),
        ))
    }
    fn build(&mut self, _: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        if self.input_dim == 0 || self.output_dim == 0 {
            return Err(Error::value(format!(
                "Both `input_dim` and `output_dim` should be positive, Received input_dim={} and output_dim={}",
                self.input_dim, self.output_dim
            )));
        }
        let reg = self.regularizer.as_ref().map(|r| r.resolve()).transpose()?;
        self.embeddings = Some(w.add(
            "embeddings",
            &[self.input_dim, self.output_dim],
            self.initializer.resolve()?.as_ref(),
            reg,
            true,
        )?);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let mut out = s[0].clone();
        out.0.push(Some(self.output_dim));
        Ok(vec![out])
    }
    fn compute_output_dtype(&self, _: &[DType], n: usize) -> Vec<DType> {
        vec![self.args.dtype.unwrap_or(DType::F32); n]
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let w = self
            .embeddings
            .as_ref()
            .ok_or_else(|| Error::runtime("Embedding called before build"))?;
        let sink = w.trainable().then(|| w.sink());
        ops::gather_rows(&w.value(), &inputs[0], sink)
            .map(|y| vec![y])
            .map_err(|e| {
                Error::value(format!(
                    "Embedding layer \"{}\": {e} (input_dim={})",
                    ctx.name, self.input_dim
                ))
            })
    }
    fn supports_masking(&self) -> bool {
        self.mask_zero
    }
    fn compute_mask(&self, inputs: &[Tensor], _: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(ops::not_equal_mask(&inputs[0], 0.0)?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;
    use crate::ops::Device;

    #[test]
    fn lookup_and_out_of_range_error() {
        let e = Embedding::new(5, 2).name("emb").into_layer();
        let ids = Tensor::new(&[[0i64, 4], [2, 2]], &Device::Cpu).unwrap();
        let y = e.apply(&ids).unwrap();
        assert_eq!(y.dims(), &[2, 2, 2]);
        let table = e.get_weights().unwrap()[0].to_vec2::<f32>().unwrap();
        assert_eq!(y.to_vec3::<f32>().unwrap()[0][1], table[4]);
        let err = e
            .apply(&Tensor::new(&[[5i64]], &Device::Cpu).unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "Embedding layer \"emb\": index 5 is out of range [0, 5) (input_dim=5)"
        );
        let s = Embedding::new(100, 8).call(Input::new([10])).unwrap();
        assert_eq!(s.shape().to_string(), "(None, 10, 8)");
    }
}
