//! Keras's `optimizer.variables` layout (what `.keras` and `.weights.h5` files hold under
//! `optimizer/vars`): the step counter, a float learning rate, then every variable the
//! optimizer declares, in declaration order.

use super::apply::{declare, device_of};
use super::{LearningRate, Optimizer};
use crate::engine::Weight;
use crate::ops::{self, DType, Device, Slot, Tensor};
use crate::{Error, Result};

fn scalar(v: f64, dtype: DType) -> Result<Tensor> {
    Ok(Tensor::new(v, &Device::Cpu)?.to_dtype(dtype)?)
}

/// Keras's `optimizer.variables` for an optimizer built on `weights`: `iteration`,
/// `learning_rate` (when a float), then every declared variable (its initial value where the
/// weight was not built on yet).
pub(crate) fn variables<O: Optimizer + ?Sized>(opt: &O, weights: &[Weight]) -> Result<Vec<Tensor>> {
    let base = opt.base();
    let mut out = vec![scalar(base.iterations as f64, DType::I64)?];
    if let LearningRate::Value(lr) = base.learning_rate {
        out.push(scalar(lr, DType::F32)?);
    }
    let specs = declare(opt, weights)?;
    let st = &base.state;
    for spec in &specs {
        let have = match &spec.owner {
            Some(w) => st.weights.get(&w.id()).and_then(|ws| {
                let list = if spec.is_base() { &ws.base } else { &ws.own };
                list.iter().find(|(n, _)| *n == spec.name).map(|(_, s)| s)
            }),
            None => st
                .shared
                .iter()
                .find(|(n, _)| *n == spec.name)
                .map(|(_, s)| s),
        };
        out.push(match have {
            Some(s) => s.tensor()?,
            None => Slot::filled(&spec.shape, spec.dtype, &Device::Cpu, spec.init)?.tensor()?,
        });
    }
    Ok(out)
}

/// Sets the optimizer's variables from values in [`variables`]'s order (Keras's
/// `load_own_variables`); a different count is skipped with Keras's warning.
pub(crate) fn set_variables<O: Optimizer + ?Sized>(
    opt: &mut O,
    weights: &[Weight],
    values: &[Tensor],
) -> Result<()> {
    let specs = declare(opt, weights)?;
    let has_lr = matches!(opt.base().learning_rate, LearningRate::Value(_));
    let expected = 1 + usize::from(has_lr) + specs.len();
    if values.len() != expected {
        eprintln!(
            "WARNING: Skipping variable loading for optimizer '{}', because it has {expected} variables whereas the saved optimizer has {} variables.",
            opt.name(),
            values.len()
        );
        return Ok(());
    }
    let iterations = ops::to_vec_f64(&values[0])?;
    let state = &mut opt.base_mut().state;
    for w in weights {
        state.weight_entry(w);
    }
    state.allocate(&specs, &device_of(weights))?;
    let skip = 1 + usize::from(has_lr);
    for (spec, v) in specs.iter().zip(&values[skip..]) {
        let slot = state
            .lookup(spec)
            .ok_or_else(|| Error::value(format!("optimizer variable '{}' missing", spec.path())))?;
        if v.dims() != slot.shape() {
            return Err(Error::value(format!(
                "Optimizer variable {} has shape {:?} not compatible with the saved shape {:?}",
                spec.path(),
                slot.shape(),
                v.dims()
            )));
        }
        slot.set(v)?;
    }
    let base = opt.base_mut();
    base.iterations = iterations.first().copied().unwrap_or(0.0).max(0.0) as u64;
    if has_lr {
        if let Some(&lr) = ops::to_vec_f64(&values[1])?.first() {
            base.learning_rate = LearningRate::Value(lr);
        }
    }
    Ok(())
}
