//! The seeds' ActivationLogger: a model that returns every layer's activation (built from the
//! trained model's layers, sharing its weights), and a callback that saves the activations of
//! the first validation sample after every epoch, as `.npz` files NumPy reads.
//!
//! `cargo run --release --example intermediate_outputs`

use keras::callbacks::{Callback, CallbackContext, Logs};
use keras::prelude::*;

/// Saves every layer's activation for one sample after each epoch.
struct ActivationLogger {
    activations_model: Model,
    sample: Tensor,
    dir: std::path::PathBuf,
}

impl Callback for ActivationLogger {
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        _logs: &mut Logs,
        _ctx: &mut CallbackContext,
    ) -> keras::Result<()> {
        let activations: Vec<Tensor> = self
            .activations_model
            .predict(&self.sample, EvalArgs::quiet())?;
        let names: Vec<String> = (0..activations.len()).map(|i| format!("arr_{i}")).collect();
        let arrays: Vec<(&str, &Tensor)> = names
            .iter()
            .map(String::as_str)
            .zip(activations.iter())
            .collect();
        let path = self.dir.join(format!("activations_at_epoch_{epoch}.npz"));
        keras::utils::write_npz(&path, &arrays)?;
        println!(
            "saved {} activations to {}",
            activations.len(),
            path.display()
        );
        Ok(())
    }
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(6);
    let mut model = Sequential::from_layers([
        Input::new([20]).into(),
        Dense::new(32).activation("relu").into(),
        Dense::new(16).activation("relu").into(),
        Dense::new(1).activation("sigmoid").into(),
    ])?;
    // layer.output for every layer: one model, many outputs, the same weights.
    let layer_outputs: Vec<KerasTensor> = model
        .layers()
        .iter()
        .map(|l| l.output())
        .collect::<keras::Result<_>>()?;
    let activations_model = Model::new(&[model.input()?], &layer_outputs)?;
    activations_model.summary();

    let x = keras::random::normal(&[1000, 20])?;
    let y = x.narrow(1, 0, 1)?.ge(0.0)?.to_dtype(DType::F32)?;
    let (x_val, y_val) = (x.narrow(0, 800, 200)?, y.narrow(0, 800, 200)?);
    let dir = std::env::temp_dir().join("keras_rs_activations");
    std::fs::create_dir_all(&dir)
        .map_err(|e| keras::Error::io("cannot create the output folder", e))?;
    let mut logger = ActivationLogger {
        activations_model,
        sample: x_val.narrow(0, 0, 1)?,
        dir,
    };
    model.compile("rmsprop", "binary_crossentropy", ["acc"])?;
    let h = model.fit(
        x.narrow(0, 0, 800)?,
        y.narrow(0, 0, 800)?,
        FitArgs::new()
            .epochs(3)
            .validation_data((&x_val, &y_val))
            .callback(&mut logger),
    )?;
    println!("{h}");
    Ok(())
}
