//! Every kind of source feeds `fit` / `evaluate` / `predict` the same way: arrays, a
//! `Dataset`, a `Sequence`, an iterator of batches; `steps_per_epoch`, unknown lengths,
//! validation options and the errors for bad sources.

use keras::callbacks::{Callback, CallbackContext};
use keras::data::Dataset;
use keras::prelude::*;
use keras::trainers::{DataSource, Sequence};
use keras::utils::set_random_seed;
use std::sync::{Arc, Mutex};

fn data(n: usize) -> (Tensor, Tensor) {
    let x: Vec<f32> = (0..n * 4)
        .map(|i| ((i * 37 % 101) as f32) / 50.0 - 1.0)
        .collect();
    let x = Tensor::from_vec(x, (n, 4), &Device::Cpu).unwrap();
    let y = (x.sum_keepdim(1).unwrap() * 0.5).unwrap();
    (x, y)
}

fn model() -> Sequential {
    set_random_seed(7);
    let mut m = Sequential::from_layers([
        Input::new([4]).into(),
        Dense::new(8).activation("tanh").into(),
        Dense::new(1).into(),
    ])
    .unwrap();
    m.compile(SGD::new().learning_rate(0.05), "mse", ["mae"])
        .unwrap();
    m
}

fn quiet<'a>(epochs: usize) -> FitArgs<'a> {
    FitArgs {
        epochs,
        verbose: 0,
        shuffle: false,
        batch_size: 16,
        ..Default::default()
    }
}

fn kernel(m: &Sequential) -> Vec<f32> {
    m.weights()
        .iter()
        .flat_map(|w| w.value().flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect()
}

struct Slices {
    x: Tensor,
    y: Tensor,
    batch: usize,
    workers: usize,
    fail_at: Option<usize>,
    epochs_ended: Arc<Mutex<usize>>,
}

impl Sequence for Slices {
    type Item = (Tensor, Tensor);
    fn len(&self) -> usize {
        self.x.dim(0).unwrap().div_ceil(self.batch)
    }
    fn get(&self, i: usize) -> keras::Result<(Tensor, Tensor)> {
        if Some(i) == self.fail_at {
            return Err(keras::Error::value("cannot read shard 3"));
        }
        let n = self.x.dim(0)?;
        let len = self.batch.min(n - i * self.batch);
        Ok((
            self.x.narrow(0, i * self.batch, len)?,
            self.y.narrow(0, i * self.batch, len)?,
        ))
    }
    fn on_epoch_end(&mut self) -> keras::Result<()> {
        *self.epochs_ended.lock().unwrap() += 1;
        Ok(())
    }
    fn workers(&self) -> usize {
        self.workers
    }
}

fn slices(x: &Tensor, y: &Tensor, workers: usize) -> Slices {
    Slices {
        x: x.clone(),
        y: y.clone(),
        batch: 16,
        workers,
        fail_at: None,
        epochs_ended: Arc::new(Mutex::new(0)),
    }
}

#[test]
fn every_adapter_feeds_the_same_batches() {
    let (x, y) = data(72);
    let mut reference = model();
    let h_arrays = reference.fit(&x, &y, quiet(3)).unwrap();
    let want = kernel(&reference);

    let ds = Dataset::from_tensor_slices((x.clone(), y.clone()))
        .unwrap()
        .batch(16)
        .unwrap();
    let mut m = model();
    let h = m.fit_dataset(&ds, quiet(3)).unwrap();
    assert_eq!(kernel(&m), want, "Dataset");
    assert_eq!(h.history["loss"], h_arrays.history["loss"]);

    for workers in [1, 4] {
        let mut m = model();
        let seq = slices(&x, &y, workers);
        let ended = seq.epochs_ended.clone();
        m.fit_dataset(DataSource::sequence(seq), quiet(3)).unwrap();
        assert_eq!(kernel(&m), want, "Sequence with {workers} workers");
        assert_eq!(*ended.lock().unwrap(), 3, "on_epoch_end once per epoch");
    }

    // A generator is read once: three epochs of 5 batches need steps_per_epoch.
    let (x2, y2) = (x.clone(), y.clone());
    let gen = (0..15).map(move |i| {
        let i = i % 5;
        let len = 16.min(72 - i * 16);
        (
            x2.narrow(0, i * 16, len).unwrap(),
            y2.narrow(0, i * 16, len).unwrap(),
        )
    });
    let mut m = model();
    let h = m
        .fit_dataset(
            DataSource::generator(gen),
            FitArgs {
                steps_per_epoch: Some(5),
                ..quiet(3)
            },
        )
        .unwrap();
    assert_eq!(kernel(&m), want, "generator");
    assert_eq!(h.params.steps, Some(5));

    // evaluate and predict agree across sources too.
    let e_arrays = reference
        .evaluate(
            &x,
            &y,
            EvalArgs {
                batch_size: 16,
                ..EvalArgs::quiet()
            },
        )
        .unwrap();
    let e_ds = reference.evaluate_dataset(&ds, EvalArgs::quiet()).unwrap();
    assert_eq!(e_arrays.values(), e_ds.values());
    let p_arrays: Tensor = reference
        .predict(
            &x,
            EvalArgs {
                batch_size: 16,
                ..EvalArgs::quiet()
            },
        )
        .unwrap();
    let p_seq: Tensor = reference
        .predict_dataset(DataSource::sequence(slices(&x, &y, 3)), EvalArgs::quiet())
        .unwrap();
    let p_ds: Tensor = reference.predict_dataset(&ds, EvalArgs::quiet()).unwrap();
    assert_eq!(p_arrays.dims(), &[72, 1]);
    assert_eq!(
        p_arrays.to_vec2::<f32>().unwrap(),
        p_seq.to_vec2::<f32>().unwrap()
    );
    assert_eq!(
        p_arrays.to_vec2::<f32>().unwrap(),
        p_ds.to_vec2::<f32>().unwrap()
    );
}

/// Records how many batches each epoch ran.
#[derive(Default)]
struct Steps(Vec<usize>, usize);
impl Callback for Steps {
    fn on_epoch_begin(&mut self, _e: usize, _c: &mut CallbackContext) -> keras::Result<()> {
        self.1 = 0;
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        _b: usize,
        _l: &mut Logs,
        _c: &mut CallbackContext,
    ) -> keras::Result<()> {
        self.1 += 1;
        Ok(())
    }
    fn on_epoch_end(
        &mut self,
        _e: usize,
        _l: &mut Logs,
        _c: &mut CallbackContext,
    ) -> keras::Result<()> {
        self.0.push(self.1);
        Ok(())
    }
}

#[test]
fn steps_per_epoch_with_repeat_and_unknown_lengths() {
    let (x, y) = data(40);
    let ds = Dataset::from_tensor_slices((x.clone(), y.clone()))
        .unwrap()
        .batch(8)
        .unwrap();
    // An infinite dataset needs steps_per_epoch.
    let mut m = model();
    let e = m
        .fit_dataset(ds.repeat(None), quiet(2))
        .unwrap_err()
        .to_string();
    assert!(e.contains("steps_per_epoch"), "{e}");
    let mut steps = Steps::default();
    m.fit_dataset(
        ds.repeat(None),
        FitArgs {
            steps_per_epoch: Some(3),
            callbacks: vec![&mut steps],
            ..quiet(4)
        },
    )
    .unwrap();
    assert_eq!(steps.0, vec![3, 3, 3, 3]);

    // A filtered dataset has unknown length: each epoch runs until it is exhausted.
    let filtered = Dataset::from_tensor_slices((x.clone(), y.clone()))
        .unwrap()
        .filter(|(x, _)| Ok(x.sum_all()?.to_vec0::<f32>()? > 0.0))
        .batch(4)
        .unwrap();
    let n_pos = x
        .sum_keepdim(1)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .iter()
        .filter(|v| **v > 0.0)
        .count();
    let mut steps = Steps::default();
    let h = m
        .fit_dataset(
            &filtered,
            FitArgs {
                callbacks: vec![&mut steps],
                ..quiet(2)
            },
        )
        .unwrap();
    assert_eq!(h.params.steps, None, "unknown length");
    assert_eq!(steps.0, vec![n_pos.div_ceil(4); 2]);

    // steps_per_epoch shorter than the data carries on across epochs (5 batches, 2 a time:
    // 2, 2, then the last 1, then from the start again).
    let mut steps = Steps::default();
    m.fit_dataset(
        &ds,
        FitArgs {
            steps_per_epoch: Some(2),
            callbacks: vec![&mut steps],
            ..quiet(4)
        },
    )
    .unwrap();
    assert_eq!(steps.0, vec![2, 2, 1, 2]);
}

#[test]
fn validation_options() {
    let (x, y) = data(64);
    let (xv, yv) = data(24);
    let val = Dataset::from_tensor_slices((xv.clone(), yv.clone()))
        .unwrap()
        .batch(8)
        .unwrap();
    let mut m = model();
    let h = m
        .fit(
            &x,
            &y,
            FitArgs {
                validation_data: Some((&val).into()),
                validation_freq: 2,
                ..quiet(4)
            },
        )
        .unwrap();
    // Validated after epochs 2 and 4 only.
    assert_eq!(h.history["val_loss"].len(), 2);
    assert_eq!(h.history["loss"].len(), 4);
    let direct = m.evaluate_dataset(&val, EvalArgs::quiet()).unwrap();
    assert_eq!(h.history["val_loss"][1], direct.get("loss").unwrap());

    // validation_batch_size and validation_steps on arrays: 2 batches of 5 samples.
    let mut m = model();
    let h = m
        .fit(
            &x,
            &y,
            FitArgs {
                validation_data: Some((&xv, &yv).into()),
                validation_batch_size: Some(5),
                validation_steps: Some(2),
                ..quiet(1)
            },
        )
        .unwrap();
    let first10 = m
        .evaluate(
            xv.narrow(0, 0, 10).unwrap(),
            yv.narrow(0, 0, 10).unwrap(),
            EvalArgs {
                batch_size: 5,
                ..EvalArgs::quiet()
            },
        )
        .unwrap();
    assert_eq!(h.history["val_loss"][0], first10.get("loss").unwrap());
    assert!(m
        .fit(
            &x,
            &y,
            FitArgs {
                validation_freq: 0,
                ..quiet(1)
            }
        )
        .is_err());
    // validation_split belongs to arrays.
    let e = m
        .fit_dataset(
            &val,
            FitArgs {
                validation_split: 0.2,
                ..quiet(1)
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("validation_split"), "{e}");
}

#[test]
fn bad_sources_give_clear_errors() {
    let (x, y) = data(48);
    // A failing Sequence.get reaches the caller with the batch index; nothing hangs.
    let mut m = model();
    let mut seq = slices(&x, &y, 4);
    seq.fail_at = Some(2);
    let e = m
        .fit_dataset(DataSource::sequence(seq), quiet(2))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("batch 2") && e.contains("cannot read shard 3"),
        "{e}"
    );

    // Elements without targets cannot train.
    let only_x = Dataset::from_tensor_slices(x.clone())
        .unwrap()
        .batch(8)
        .unwrap();
    let e = m.fit_dataset(&only_x, quiet(1)).unwrap_err().to_string();
    assert!(
        e.contains("no targets") && e.contains("Tensor[f32; 8, 4]"),
        "{e}"
    );

    // A structure that does not match the model's inputs names both.
    let two = Dataset::from_tensor_slices((vec![x.clone(), x.clone()], y.clone()))
        .unwrap()
        .batch(8)
        .unwrap();
    let e = m.fit_dataset(&two, quiet(1)).unwrap_err().to_string();
    assert!(
        e.contains("Expected 1 arrays") && e.contains("[Tensor[f32; 8, 4], Tensor[f32; 8, 4]]"),
        "{e}"
    );

    // An empty source.
    let empty = DataSource::generator(std::iter::empty::<(Tensor, Tensor)>());
    assert!(m
        .fit_dataset(empty, quiet(1))
        .unwrap_err()
        .to_string()
        .contains("no batches"));

    // sample_weight of the wrong length, class weights naming an absent class.
    let w = Tensor::ones(47, DType::F32, &Device::Cpu).unwrap();
    let e = m
        .fit(
            &x,
            &y,
            FitArgs {
                sample_weight: Some((&w).into()),
                ..quiet(1)
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("'sample_weight' sizes: 47"), "{e}");
    let labels = Tensor::new(&[0f32, 1.0, 1.0, 0.0], &Device::Cpu)
        .unwrap()
        .reshape((4, 1))
        .unwrap();
    let e = m
        .fit(
            x.narrow(0, 0, 4).unwrap(),
            &labels,
            FitArgs {
                class_weight: Some([(0, 1.0), (3, 2.0)].into()),
                ..quiet(1)
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("class 3") && e.contains("[0, 1]"), "{e}");
}

#[test]
fn sample_and_class_weights_reach_the_step_from_every_source() {
    let (x, y) = data(48);
    let w: Vec<f32> = (0..48).map(|i| (i % 4) as f32 * 0.5).collect();
    let w = Tensor::from_vec(w, 48, &Device::Cpu).unwrap();
    let mut arrays = model();
    let h = arrays
        .fit(
            &x,
            &y,
            FitArgs {
                sample_weight: Some((&w).into()),
                ..quiet(2)
            },
        )
        .unwrap();
    let mut unweighted = model();
    let h0 = unweighted.fit(&x, &y, quiet(2)).unwrap();
    assert_ne!(
        h.history["loss"], h0.history["loss"],
        "weights change the loss"
    );
    let ds = Dataset::from_tensor_slices((x.clone(), y.clone(), w.clone()))
        .unwrap()
        .batch(16)
        .unwrap();
    let mut m = model();
    let hd = m.fit_dataset(&ds, quiet(2)).unwrap();
    assert_eq!(hd.history["loss"], h.history["loss"]);
    assert_eq!(kernel(&m), kernel(&arrays));
    // evaluate with weights: arrays and a dataset of triples agree.
    let e1 = m
        .evaluate(
            &x,
            &y,
            EvalArgs {
                sample_weight: Some((&w).into()),
                batch_size: 16,
                ..EvalArgs::quiet()
            },
        )
        .unwrap();
    let e2 = m.evaluate_dataset(&ds, EvalArgs::quiet()).unwrap();
    assert_eq!(e1.values(), e2.values());

    // class_weight on arrays equals the same weights given per sample, and the same
    // class_weight applied to a dataset's batches.
    let labels = Tensor::from_vec(
        (0..48).map(|i| (i % 3) as f32).collect::<Vec<_>>(),
        (48, 1),
        &Device::Cpu,
    )
    .unwrap();
    let cw = std::collections::HashMap::from([(0, 2.0), (2, 0.25)]);
    let per_sample = keras::trainers::class_weight_to_sample_weights(&labels, &cw).unwrap();
    let mut a = model();
    let ha = a
        .fit(
            &x,
            &labels,
            FitArgs {
                class_weight: Some(cw.clone()),
                ..quiet(1)
            },
        )
        .unwrap();
    let mut b = model();
    let hb = b
        .fit(
            &x,
            &labels,
            FitArgs {
                sample_weight: Some((&per_sample).into()),
                ..quiet(1)
            },
        )
        .unwrap();
    assert_eq!(ha.history["loss"], hb.history["loss"]);
    let ds = Dataset::from_tensor_slices((x.clone(), labels.clone()))
        .unwrap()
        .batch(16)
        .unwrap();
    let mut c = model();
    let hc = c
        .fit_dataset(
            &ds,
            FitArgs {
                class_weight: Some(cw),
                ..quiet(1)
            },
        )
        .unwrap();
    assert_eq!(hc.history["loss"], ha.history["loss"]);
}

/// Freezes the first Dense layer when epoch 1 begins.
struct FreezeFirst;
impl Callback for FreezeFirst {
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext) -> keras::Result<()> {
        if epoch == 1 {
            ctx.model.layers()[0].set_trainable(false);
        }
        Ok(())
    }
}

#[test]
fn trainable_flags_changed_between_epochs_are_honoured() {
    let (x, y) = data(32);
    let ds = Dataset::from_tensor_slices((x, y))
        .unwrap()
        .batch(8)
        .unwrap();
    let mut m = model();
    let first = |m: &Sequential| -> Vec<f32> {
        m.layers()[0]
            .weights()
            .iter()
            .flat_map(|w| w.value().flatten_all().unwrap().to_vec1::<f32>().unwrap())
            .collect()
    };
    m.fit_dataset(&ds, quiet(1)).unwrap();
    let after_one = first(&m);
    let mut freeze = FreezeFirst;
    m.fit_dataset(
        &ds,
        FitArgs {
            callbacks: vec![&mut freeze],
            ..quiet(3)
        },
    )
    .unwrap();
    let k = kernel(&m);
    // Epoch 0 of the second fit trained the layer; epochs 1 and 2 left it as it was then.
    assert_ne!(first(&m), after_one);
    let mut check = model();
    check.fit_dataset(&ds, quiet(2)).unwrap();
    assert_eq!(
        first(&m),
        first(&check),
        "frozen after its second epoch overall"
    );
    assert_ne!(k, kernel(&check), "the last layer kept training");
}
