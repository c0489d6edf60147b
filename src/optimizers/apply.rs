//! One optimizer step, as Keras 3's `BaseOptimizer.apply` with JAX's
//! `_backend_apply_gradients`: build variables for new weights, unscale (`loss_scale_factor`),
//! accumulate (`gradient_accumulation_steps`), clip (`clipnorm` / `global_clipnorm` /
//! `clipvalue`), decay (`w -= w * weight_decay * lr`), update every weight (the fused CPU pass
//! where the rule has one, else its `update_step`), then the EMA, then count the step.

use super::state::{Builder, Slots, VariableSpec};
use super::Optimizer;
use crate::engine::Weight;
use crate::ops::{self, DType, Slot, Tensor, UpdateArgs};
use crate::{Error, Result};

/// Every variable `opt` declares for `weights`, in Keras's order: the base optimizer's
/// (`average` per weight with EMA, then `gradient_accumulator` per weight), then the rule's.
pub(crate) fn declare<O: Optimizer + ?Sized>(
    opt: &O,
    weights: &[Weight],
) -> Result<Vec<VariableSpec>> {
    let base = opt.base();
    let mut b = Builder::for_base();
    if base.use_ema {
        b.add_optimizer_variables(weights, &["average"]);
    }
    if base.gradient_accumulation_steps.is_some() {
        b.add_optimizer_variables(weights, &["gradient_accumulator"]);
    }
    let mut specs = b.into_specs();
    let mut own = Builder::default();
    opt.build(&mut own, weights)?;
    specs.extend(own.into_specs());
    Ok(specs)
}

pub(crate) use crate::engine::device_of;

/// Creates the variables of the weights not built on yet.
pub(crate) fn build_new<O: Optimizer + ?Sized>(opt: &mut O, weights: &[Weight]) -> Result<()> {
    let new: Vec<Weight> = weights
        .iter()
        .filter(|w| !opt.base().state.weights.contains_key(&w.id()))
        .cloned()
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let specs = declare(opt, &new)?;
    let state = &mut opt.base_mut().state;
    for w in &new {
        state.weight_entry(w);
    }
    state.allocate(&specs, &device_of(&new))
}

fn sum_squares(g: &Tensor) -> Result<f64> {
    ops::scalar(&g.sqr()?.sum_all()?.to_dtype(DType::F64)?)
}

/// Keras's `_clip_by_norm`: `g * c / max(|g|, c)` (a zero gradient stays zero).
fn clip_by_norm(g: &Tensor, c: f64) -> Result<Tensor> {
    let n = sum_squares(g)?.sqrt();
    Ok(if n > 0.0 {
        (g * (c / n.max(c)))?
    } else {
        g.clone()
    })
}

/// Applies one step to `opt` (see the module documentation).
pub(crate) fn apply_gradients<O: Optimizer + ?Sized>(
    opt: &mut O,
    grads_and_vars: &[(Tensor, Weight)],
) -> Result<()> {
    if grads_and_vars.is_empty() {
        return Ok(());
    }
    opt.validate()?;
    for (g, w) in grads_and_vars {
        if g.dims() != w.shape().as_slice() {
            return Err(Error::shape(format!(
                "{}: gradient of shape {:?} for variable '{}' of shape {:?}",
                opt.class_name(),
                g.dims(),
                w.path(),
                w.shape()
            )));
        }
    }
    let weights: Vec<Weight> = grads_and_vars.iter().map(|(_, w)| w.clone()).collect();
    build_new(opt, &weights)?;
    // State follows weights moved with `Model::to_device` after it was built.
    opt.base_mut().state.follow_devices(&weights)?;
    let mut grads = Vec::with_capacity(grads_and_vars.len());
    let scale = opt.base().loss_scale_factor;
    for (g, w) in grads_and_vars {
        let g = g.detach().to_dtype(w.dtype())?;
        grads.push(match scale {
            Some(s) => (g / s)?,
            None => g,
        });
    }
    let mut state = std::mem::take(&mut opt.base_mut().state);
    let result = step(&*opt, &mut state, &weights, grads);
    let base = opt.base_mut();
    base.state = state;
    result?;
    base.iterations += 1;
    Ok(())
}

fn step<O: Optimizer + ?Sized>(
    opt: &O,
    state: &mut super::state::State,
    weights: &[Weight],
    mut grads: Vec<Tensor>,
) -> Result<()> {
    let base = opt.base();
    let lr = base.current_learning_rate();
    let iterations = base.keras_iterations();
    let mut update_now = true;
    if let Some(n) = base.gradient_accumulation_steps {
        update_now = (base.iterations + 1).is_multiple_of(n);
        for (g, w) in grads.iter_mut().zip(weights) {
            let acc = accumulator(state, w)?;
            let sum = (&*g + acc.tensor()?)?;
            if update_now {
                *g = (sum / n as f64)?;
                acc.set(&g.zeros_like()?)?;
            } else {
                acc.set(&sum)?;
            }
        }
    }
    if update_now {
        update(opt, state, weights, &grads, lr, iterations)?;
    }
    if base.use_ema {
        // Keras: no averaging on the first update; `iterations` is before this step's count.
        let m = if iterations == 0 {
            0.0
        } else {
            base.ema_momentum
        };
        let overwrite = base
            .ema_overwrite_frequency
            .is_some_and(|f| (iterations + 1).is_multiple_of(f));
        for w in state.order.clone() {
            let avg = average(state, &w)?;
            let v = w.var().as_detached_tensor();
            let a = ((avg.tensor()? * m)? + (&v * (1.0 - m))?)?;
            avg.set(&a)?;
            if overwrite {
                w.var().set(&a.to_dtype(w.dtype())?)?;
            }
        }
    }
    Ok(())
}

fn base_slot<'a>(
    state: &'a mut super::state::State,
    w: &Weight,
    name: &str,
) -> Result<&'a mut Slot> {
    state
        .weights
        .get_mut(&w.id())
        .and_then(|ws| ws.base.iter_mut().find(|(n, _)| n == name))
        .map(|(_, s)| s)
        .ok_or_else(|| {
            Error::value(format!(
                "no optimizer variable '{name}' was built for '{}'",
                w.path()
            ))
        })
}

fn accumulator<'a>(state: &'a mut super::state::State, w: &Weight) -> Result<&'a mut Slot> {
    base_slot(state, w, "gradient_accumulator")
}

fn average<'a>(state: &'a mut super::state::State, w: &Weight) -> Result<&'a mut Slot> {
    base_slot(state, w, "average")
}

/// Clipping, weight decay and the rule, for every weight.
fn update<O: Optimizer + ?Sized>(
    opt: &O,
    state: &mut super::state::State,
    weights: &[Weight],
    grads: &[Tensor],
    lr: f64,
    iterations: u64,
) -> Result<()> {
    let base = opt.base();
    let positive = |v: Option<f64>| v.filter(|c| *c > 0.0);
    let (clipnorm, global, clipvalue) = (
        positive(base.clipnorm),
        positive(base.global_clipnorm),
        positive(base.clipvalue),
    );
    let mut grad_scale = None;
    if let Some(c) = global {
        let mut sq = 0.0;
        for g in grads {
            sq += sum_squares(g)?;
        }
        let norm = sq.sqrt();
        // Keras: clip_norm * min(1 / norm, 1 / clip_norm); a non-finite norm gives NaN.
        grad_scale = Some(if norm.is_finite() {
            c * (1.0 / norm).min(1.0 / c)
        } else {
            f64::NAN
        });
    }
    {
        let mut shared = Slots::new(None, iterations, &mut [], &mut state.shared);
        opt.begin_update(&mut shared)?;
    }
    let fused = if base.use_fused {
        opt.fused_rule(lr, iterations)
    } else {
        None
    };
    for (g, w) in grads.iter().zip(weights) {
        let weight_decay = if base.uses_weight_decay(w) {
            opt.weight_decay_for(w)
        } else {
            None
        };
        let ws = state
            .weights
            .get_mut(&w.id())
            .ok_or_else(|| Error::value(format!("optimizer not built for '{}'", w.path())))?;
        if let Some(rule) = &fused {
            let args = UpdateArgs {
                grad_scale,
                clipnorm,
                clipvalue: if clipnorm.is_some() || global.is_some() {
                    None
                } else {
                    clipvalue
                },
                weight_decay,
            };
            let mut slots: Vec<&mut Slot> = ws.own.iter_mut().map(|(_, s)| s).collect();
            if ops::update_in_place(&w.var(), g, rule, &args, &mut slots)? {
                continue;
            }
        }
        // Keras clips with one of the three (they are exclusive; the first set wins).
        let g = if let Some(c) = clipnorm {
            clip_by_norm(g, c)?
        } else if let Some(s) = grad_scale {
            (g * s)?
        } else if let Some(c) = clipvalue {
            g.clamp(-c, c)?
        } else {
            g.clone()
        };
        let mut v = w.var().as_detached_tensor();
        if let Some(wd) = weight_decay {
            v = (&v - (&v * (wd * lr))?)?;
        }
        let mut slots = Slots::new(Some(w), iterations, &mut ws.own, &mut state.shared);
        let new = opt.update_step(&mut slots, &g, &v, lr)?;
        if new.dims() != v.dims() {
            return Err(Error::shape(format!(
                "{}: update_step returned shape {:?} for '{}' of shape {:?}",
                opt.class_name(),
                new.dims(),
                w.path(),
                v.dims()
            )));
        }
        w.var().set(&new.to_dtype(w.dtype())?.detach())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::ops::{self, DType, Device};

    fn weights(dtype: DType) -> Vec<Weight> {
        let values: [(&str, Vec<usize>, f64); 3] = [
            ("kernel", vec![3, 4], 0.3),
            ("bias", vec![4], -0.2),
            ("cube", vec![2, 3, 2], 0.7),
        ];
        values
            .iter()
            .map(|(n, shape, k)| {
                let len: usize = shape.iter().product();
                let v: Vec<f64> = (0..len)
                    .map(|i| k * ((i as f64) * 0.37).sin() + 0.1)
                    .collect();
                let t = Tensor::from_vec(v, shape.as_slice(), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                Weight::new(n, n, t, true, None).unwrap()
            })
            .collect()
    }

    fn grads(ws: &[Weight], step: usize) -> Vec<(Tensor, Weight)> {
        ws.iter()
            .map(|w| {
                let len = w.numel();
                let g: Vec<f64> = (0..len)
                    .map(|i| ((i * 7 + step * 3) as f64 * 0.91).cos() * (1.0 + step as f64))
                    .collect();
                let t = Tensor::from_vec(g, w.shape(), &Device::Cpu)
                    .unwrap()
                    .to_dtype(w.dtype())
                    .unwrap();
                (t, w.clone())
            })
            .collect()
    }

    type Make = fn() -> Box<dyn Optimizer>;

    fn rules() -> Vec<(&'static str, Make)> {
        vec![
            ("sgd", || Box::new(SGD::new().learning_rate(0.1))),
            ("sgd momentum", || {
                Box::new(SGD::new().learning_rate(0.1).momentum(0.9))
            }),
            ("sgd nesterov", || {
                Box::new(SGD::new().learning_rate(0.1).momentum(0.9).nesterov(true))
            }),
            ("adam", || Box::new(Adam::new().learning_rate(0.01))),
            ("adam amsgrad", || {
                Box::new(Adam::new().learning_rate(0.01).amsgrad(true).beta_1(0.7))
            }),
            ("adamw", || Box::new(AdamW::new().learning_rate(0.01))),
            ("rmsprop", || Box::new(RMSprop::new().learning_rate(0.01))),
            ("rmsprop momentum", || {
                Box::new(RMSprop::new().learning_rate(0.01).momentum(0.5))
            }),
            ("rmsprop centered", || {
                Box::new(RMSprop::new().learning_rate(0.01).centered(true))
            }),
            ("rmsprop both", || {
                Box::new(
                    RMSprop::new()
                        .learning_rate(0.01)
                        .momentum(0.5)
                        .centered(true),
                )
            }),
        ]
    }

    fn options(o: &mut OptimizerBase, variant: usize) {
        match variant {
            0 => {}
            1 => o.clipnorm = Some(0.5),
            2 => o.clipvalue = Some(0.3),
            3 => o.global_clipnorm = Some(0.8),
            4 => o.weight_decay = Some(0.1),
            5 => {
                o.weight_decay = Some(0.05);
                o.clipnorm = Some(1.0);
                o.exclude_from_weight_decay = vec!["bias".into()];
            }
            6 => {
                o.gradient_accumulation_steps = Some(2);
                o.use_ema = true;
                o.ema_momentum = 0.8;
                o.ema_overwrite_frequency = Some(2);
            }
            _ => {
                o.learning_rate = schedules::ExponentialDecay::new(0.05, 2, 0.5)
                    .unwrap()
                    .into()
            }
        }
    }

    /// The fused CPU pass and the general tensor-op rule agree over five steps, with
    /// clipping, weight decay, accumulation, EMA and a schedule (float32 to 1e-6, float64 to
    /// 1e-12).
    #[test]
    fn fused_and_general_paths_agree() {
        for (dtype, tol) in [(DType::F32, 1e-6), (DType::F64, 1e-12)] {
            for (name, make) in rules() {
                for variant in 0..8 {
                    let (wa, wb) = (weights(dtype), weights(dtype));
                    let (mut fused, mut general) = (make(), make());
                    options(fused.base_mut(), variant);
                    options(general.base_mut(), variant);
                    general.base_mut().use_fused = false;
                    assert!(fused.fused_rule(0.1, 0).is_some());
                    for step in 0..5 {
                        fused.apply_gradients(&grads(&wa, step)).unwrap();
                        general.apply_gradients(&grads(&wb, step)).unwrap();
                    }
                    let all = |ws: &[Weight], o: &dyn Optimizer| -> Vec<f64> {
                        let mut v = vec![];
                        for w in ws {
                            v.extend(ops::to_vec_f64(&w.numpy().unwrap()).unwrap());
                        }
                        for t in o.save_own_variables(ws).unwrap() {
                            v.extend(ops::to_vec_f64(&t.to_dtype(DType::F64).unwrap()).unwrap());
                        }
                        v
                    };
                    let (a, b) = (all(&wa, fused.as_ref()), all(&wb, general.as_ref()));
                    assert_eq!(a.len(), b.len());
                    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                        assert!(
                            (x - y).abs() <= tol * (1.0 + y.abs()),
                            "{name} variant {variant} {dtype:?} [{i}]: fused {x} vs general {y}"
                        );
                    }
                    let moved = ops::to_vec_f64(&wa[0].numpy().unwrap()).unwrap();
                    let start = ops::to_vec_f64(&weights(dtype)[0].numpy().unwrap()).unwrap();
                    assert!(
                        moved.iter().zip(&start).any(|(p, q)| (p - q).abs() > 1e-4),
                        "{name} variant {variant}: the weights did not move"
                    );
                }
            }
        }
    }
}
