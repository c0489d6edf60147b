//! Model ensembles as one functional model: new inputs shaped as the members' feed every
//! member, and the members' outputs are averaged (`layers.average`) or, with weights, each
//! scaled by a `Rescaling(scale=w)` layer and summed (`layers.add`). Only Keras layers are
//! used, so the ensemble saves, loads, and opens in Python Keras.

use super::Model;
use crate::engine::{KerasTensor, LayerExt};
use crate::layers::preprocessing::Rescaling;
use crate::layers::{add, average, Input};
use crate::{Error, Result};

/// One model whose output is the mean (or the `weights`-weighted sum) of the members'
/// outputs. The members must take the same inputs and have one output each; their weights
/// are shared with the ensemble (training it trains them).
///
/// ```
/// use keras::prelude::*;
/// let member = |units: usize| -> keras::Result<Model> {
///     Ok(Sequential::from_layers([Input::new([3]).into(), Dense::new(units).into(), Dense::new(2).into()])?.into_model())
/// };
/// let (a, b) = (member(4)?, member(8)?);
/// let mut avg = keras::models::ensemble(&[a, b], None)?;
/// let x = Tensor::ones((5, 3), DType::F32, &Device::Cpu)?;
/// let y: Tensor = avg.predict(&x, EvalArgs { verbose: 0, ..Default::default() })?;
/// assert_eq!(y.dims(), &[5, 2]);
/// assert!(keras::models::ensemble(&[], None).is_err());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn ensemble(models: &[Model], weights: Option<&[f64]>) -> Result<Model> {
    let Some(first) = models.first() else {
        return Err(Error::value(
            "ensemble: expected at least one model. Received: models=[]",
        ));
    };
    if let Some(w) = weights {
        if w.len() != models.len() {
            return Err(Error::value(format!(
                "ensemble: expected one weight per model ({} models). Received: weights={w:?}",
                models.len()
            )));
        }
    }
    let inputs: Vec<KerasTensor> = first
        .inputs()
        .iter()
        .map(|t| {
            Input::shape(t.shape().without_batch())
                .dtype(t.dtype())
                .name(t.name())
                .build()
        })
        .collect();
    let mut outputs = vec![];
    for m in models {
        if m.inputs().len() != inputs.len() {
            return Err(Error::value(format!(
                "ensemble: every model must take the same inputs; model '{}' takes {} inputs, model '{}' takes {}",
                m.get_name(),
                m.inputs().len(),
                first.get_name(),
                inputs.len()
            )));
        }
        let mut out = m.call_many(&inputs)?;
        if out.len() != 1 {
            return Err(Error::value(format!(
                "ensemble: every model must have one output; model '{}' has {}",
                m.get_name(),
                out.len()
            )));
        }
        outputs.push(out.remove(0));
    }
    let out = match weights {
        _ if outputs.len() == 1 && weights.is_none() => outputs.remove(0),
        None => average(&outputs)?,
        Some(w) => {
            let scaled = outputs
                .iter()
                .zip(w)
                .map(|(o, &w)| Rescaling::new(w, 0.0).call(o))
                .collect::<Result<Vec<_>>>()?;
            if scaled.len() == 1 {
                scaled.into_iter().next().expect("one")
            } else {
                add(&scaled)?
            }
        }
    };
    Ok(Model::new(&inputs, &[out])?.name("ensemble"))
}
