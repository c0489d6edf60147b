//! The seeds' subclassed models: `MyModel` (layers as fields, a custom `call`) and
//! `CustomModel` (also a custom `train_step`: forward, compiled loss, gradients, optimizer
//! step, metrics), trained on MNIST. Neither lists its layers: the model finds them as its
//! `call` applies them when it is built.
//!
//! `cargo run --release --example subclassed_model`

use keras::models::Subclass;
use keras::prelude::*;
use keras::trainers::StepContext;

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
    fn call(&self, inputs: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
        let x = self.dense1.apply(&inputs[0])?;
        let x = self.dense2.apply(&x)?;
        Ok(vec![self.output_layer.apply(&x)?])
    }
}

struct CustomModel {
    dense1: LayerRef,
    dense2: LayerRef,
}

impl Subclass for CustomModel {
    fn call(&self, inputs: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
        let x = self.dense1.apply(&inputs[0])?;
        Ok(vec![self.dense2.apply(&x)?])
    }
    /// As the seeds' `train_step`: with GradientTape, compiled_loss, apply_gradients, and the
    /// compiled metrics.
    fn train_step(
        &self,
        step: &mut StepContext,
        x: &[Tensor],
        y: &[Tensor],
    ) -> Option<keras::Result<Logs>> {
        Some((|| {
            let y_pred = step.call(x, true)?;
            let loss = step.compute_loss(y, &y_pred)?;
            let gradients = step.gradients(&loss, &step.trainable_weights())?;
            step.apply_gradients(&gradients)?;
            step.update_metrics(y, &y_pred)?;
            Ok(step.metrics())
        })())
    }
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(8);
    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let n = 20_000;
    let x = (x_train
        .narrow(0, 0, n)?
        .reshape((n, 784))?
        .to_dtype(DType::F32)?
        / 255.0)?;
    let y = y_train.narrow(0, 0, n)?;
    let x_test = (x_test.reshape((10_000, 784))?.to_dtype(DType::F32)? / 255.0)?;

    let mut model = Model::subclass(MyModel::new(64));
    model.build((None, 784))?;
    model.summary();
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])?;
    model.fit(&x, &y, FitArgs::new().epochs(2))?;
    println!(
        "MyModel test: {}",
        model.evaluate(&x_test, &y_test, EvalArgs::quiet())?
    );

    let mut custom = Model::subclass(CustomModel {
        dense1: Dense::new(64).activation("relu").into_layer(),
        dense2: Dense::new(10).activation("softmax").into_layer(),
    });
    custom.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])?;
    let h = custom.fit(&x, &y, FitArgs::new().epochs(2))?;
    println!("CustomModel history: {h}");
    println!(
        "CustomModel test: {}",
        custom.evaluate(&x_test, &y_test, EvalArgs::quiet())?
    );
    Ok(())
}
