//! Subclassed models: a user type holding layers, with its own `call` and `train_step`.

use keras::models::Subclass;
use keras::prelude::*;
use keras::trainers::StepContext;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The seeds' MyModel (also in tests/summary.rs).
struct MyModel {
    dense1: LayerRef,
    dense2: LayerRef,
    output_layer: LayerRef,
}

impl MyModel {
    fn new(hidden_units: usize) -> Self {
        MyModel {
            dense1: Dense::new(hidden_units).activation("relu").into_layer(),
            dense2: Dense::new(hidden_units).activation("relu").into_layer(),
            output_layer: Dense::new(10).activation("softmax").into_layer(),
        }
    }
}

impl Subclass for MyModel {
    fn call(&self, x: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
        let x = self.dense1.apply(&x[0])?;
        let x = self.dense2.apply(&x)?;
        Ok(vec![self.output_layer.apply(&x)?])
    }
    fn layers(&self) -> Vec<LayerRef> {
        vec![
            self.dense1.clone(),
            self.dense2.clone(),
            self.output_layer.clone(),
        ]
    }
}

/// The seeds' CustomModel: its own training step, counting its calls.
struct CustomModel {
    dense1: LayerRef,
    dropout: LayerRef,
    dense2: LayerRef,
    steps: Arc<AtomicUsize>,
}

impl Subclass for CustomModel {
    fn call(&self, x: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
        let x = self.dense1.apply(&x[0])?;
        let x = self.dropout.apply(&x)?;
        Ok(vec![self.dense2.apply(&x)?])
    }
    fn layers(&self) -> Vec<LayerRef> {
        vec![
            self.dense1.clone(),
            self.dropout.clone(),
            self.dense2.clone(),
        ]
    }
    fn train_step(
        &self,
        step: &mut StepContext,
        x: &[Tensor],
        y: &[Tensor],
    ) -> Option<keras::Result<Logs>> {
        self.steps.fetch_add(1, Ordering::Relaxed);
        Some((|| {
            let y_pred = step.call(x, true)?;
            let loss = step.compute_loss(y, &y_pred)?;
            let grads = step.gradients(&loss, &step.trainable_weights())?;
            step.apply_gradients(&grads)?;
            step.update_metrics(y, &y_pred)?;
            Ok(step.metrics())
        })())
    }
}

fn data(n: usize) -> (Tensor, Tensor) {
    let mut r = keras::ops::random::Rng::new(9);
    let x: Vec<f32> = (0..n * 784).map(|_| r.uniform() as f32).collect();
    let y: Vec<u32> = x
        .chunks(784)
        .map(|row| if row[0] > 0.5 { 1 } else { 0 })
        .collect();
    (
        keras::ops::from_vec(x, &[n, 784]).unwrap(),
        keras::ops::from_vec(y, &[n]).unwrap(),
    )
}

#[test]
fn build_summary_fit_evaluate_predict() {
    keras::utils::set_random_seed(4);
    let mut model = Model::subclass(MyModel::new(64));
    assert!(!model.built());
    model.build((None, 784)).unwrap();
    assert_eq!(model.count_params(), 55_050);
    // (The summary text is checked against Keras's in tests/summary.rs, where names are fixed.)
    assert!(
        model.summary_string().contains("│ 50,240 │") || model.summary_string().contains("50,240")
    );
    model
        .compile(
            Adam::new().learning_rate(0.003),
            "sparse_categorical_crossentropy",
            ["accuracy"],
        )
        .unwrap();
    let (x, y) = data(256);
    let h = model
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 8,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(
        h.history["loss"][2] < h.history["loss"][0],
        "{:?}",
        h.history
    );
    let ev = model
        .evaluate(
            &x,
            &y,
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(ev.get("accuracy").unwrap() > 0.6);
    assert_eq!(
        model
            .predict::<Tensor>(
                &x,
                EvalArgs {
                    verbose: 0,
                    ..Default::default()
                }
            )
            .unwrap()
            .dims(),
        &[256, 10]
    );
}

#[test]
fn custom_train_step_runs_and_trains() {
    keras::utils::set_random_seed(5);
    let steps = Arc::new(AtomicUsize::new(0));
    let mut model = Model::subclass(CustomModel {
        dense1: Dense::new(64).activation("relu").into_layer(),
        dropout: Dropout::new(0.1).into_layer(),
        dense2: Dense::new(10).activation("softmax").into_layer(),
        steps: steps.clone(),
    });
    model
        .compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        .unwrap();
    let (x, y) = data(320);
    let h = model
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 3,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        steps.load(Ordering::Relaxed),
        30,
        "10 batches x 3 epochs through the custom step"
    );
    assert!(
        h.history["loss"][2] < h.history["loss"][0],
        "{:?}",
        h.history
    );
    assert!(h.history.contains_key("accuracy"));
    assert_eq!(model.layers().len(), 3);
    assert_eq!(model.count_params(), 784 * 64 + 64 + 64 * 10 + 10);
}

#[test]
fn frozen_subclassed_model_keeps_its_weights() {
    let mut model = Model::subclass(MyModel::new(8));
    model.build((None, 784)).unwrap();
    model.set_trainable(false);
    assert!(model.trainable_weights().is_empty());
    model
        .compile("sgd", "sparse_categorical_crossentropy", ())
        .unwrap();
    let before = model.get_weights().unwrap();
    let (x, y) = data(64);
    model
        .fit(
            &x,
            &y,
            FitArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        keras::ops::to_vec_f32(&before[0]).unwrap(),
        keras::ops::to_vec_f32(&model.get_weights().unwrap()[0]).unwrap()
    );
}
