//! The seeds' callback recipe ("a drone, not a paper plane"), on MNIST:
//!
//! ```python
//! callbacks = [
//!     keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True),
//!     keras.callbacks.ModelCheckpoint('best_model.keras', save_best_only=True),
//!     keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=3),
//!     ActivationLogger(),   # each layer's activations for the first validation sample
//! ]
//! history = model.fit(x, y, epochs=40, validation_split=0.2, callbacks=callbacks)
//! ```
//!
//! A wide MLP on 6,000 MNIST images overfits within a few epochs, so EarlyStopping stops it
//! and restores the best epoch's weights, ModelCheckpoint keeps the best model, and
//! ReduceLROnPlateau halves the learning rate on the way (its `learning_rate` shows in the
//! History). The ActivationLogger is a custom callback that reaches the model it is lent.
//! Everything is written to `callbacks_example/`: `best_model.keras`,
//! `activations_at_epoch_N.npz`, `history.png`.
//!
//! ```text
//! cargo run --release --example callbacks
//! ```

use keras::callbacks::{
    Callback, CallbackContext, EarlyStopping, Logs, ModelCheckpoint, ReduceLROnPlateau,
};
use keras::prelude::*;
use std::path::PathBuf;

/// The seeds' ActivationLogger: after every epoch, saves each layer's activation for the first
/// validation sample to `activations_at_epoch_N.npz`, through a model built from the layers of
/// the model it is lent (Keras's `set_model`).
struct ActivationLogger {
    dir: PathBuf,
    activations_model: Option<Model>,
    saved: usize,
}

impl Callback for ActivationLogger {
    fn set_model(&mut self, ctx: &mut CallbackContext) -> keras::Result<()> {
        let layer_outputs: Vec<KerasTensor> = ctx
            .model
            .layers()
            .iter()
            .map(|l| l.output())
            .collect::<keras::Result<_>>()?;
        self.activations_model = Some(Model::new(&[ctx.model.input()?], &layer_outputs)?);
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        _logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> keras::Result<()> {
        let Some((x_val, _)) = ctx.validation_data else {
            return Err(keras::Error::runtime("Requires validation_data."));
        };
        let validation_sample = x_val[0].narrow(0, 0, 1)?;
        let model = self.activations_model.as_mut().expect("built in set_model");
        let activations: Vec<Tensor> = model.predict(&validation_sample, EvalArgs::quiet())?;
        let names: Vec<String> = (0..activations.len()).map(|i| format!("arr_{i}")).collect();
        let arrays: Vec<(&str, &Tensor)> =
            names.iter().map(String::as_str).zip(&activations).collect();
        keras::utils::write_npz(
            self.dir.join(format!("activations_at_epoch_{epoch}.npz")),
            &arrays,
        )?;
        self.saved += 1;
        Ok(())
    }
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(7);
    let dir = PathBuf::from("callbacks_example");
    std::fs::create_dir_all(&dir)
        .map_err(|e| keras::Error::io("cannot create callbacks_example/", e))?;
    let ((x_train, y_train), _) = keras::datasets::mnist::load_data()?;
    let x = (x_train.narrow(0, 0, 6000)?.to_dtype(DType::F32)? / 255.0)?;
    let y = y_train.narrow(0, 0, 6000)?;

    let mut model = Sequential::from_layers([
        Flatten::new().input_shape([28, 28]).into(),
        Dense::new(512).activation("relu").into(),
        Dense::new(512).activation("relu").into(),
        Dense::new(10).activation("softmax").into(),
    ])?;
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])?;

    let best_path = dir.join("best_model.keras");
    let mut early_stopping = EarlyStopping::new()
        .patience(5)
        .restore_best_weights(true)
        .verbose(1);
    let mut checkpoint = ModelCheckpoint::new(&best_path).save_best_only(true);
    let mut reduce_lr = ReduceLROnPlateau::new().factor(0.5).patience(3).verbose(1);
    let mut activation_logger = ActivationLogger {
        dir: dir.clone(),
        activations_model: None,
        saved: 0,
    };
    let history = model.fit(
        &x,
        &y,
        FitArgs::new()
            .epochs(40)
            .batch_size(64)
            .validation_split(0.2)
            .verbose(2)
            .callbacks(vec![
                &mut early_stopping,
                &mut checkpoint,
                &mut reduce_lr,
                &mut activation_logger,
            ]),
    )?;
    println!("History: {history}");
    println!("keys: {:?}", history.history.keys().collect::<Vec<_>>());
    // The callbacks' state is still ours to read.
    println!(
        "EarlyStopping stopped at epoch {} (best epoch {}, val_loss {:.4}); {} activation files; {} checkpoints",
        early_stopping.stopped_epoch + 1,
        early_stopping.best_epoch + 1,
        early_stopping.best.unwrap_or(f64::NAN),
        activation_logger.saved,
        checkpoint.saved.len(),
    );

    // The best model on disk scores the best val_loss, and so does the restored model.
    let val_loss = &history.history["val_loss"];
    let best = val_loss.iter().cloned().fold(f64::INFINITY, f64::min);
    let (x_val, y_val) = (x.narrow(0, 4800, 1200)?, y.narrow(0, 4800, 1200)?);
    let mut loaded = keras::models::load_model(&best_path)?;
    let from_file = loaded.evaluate(&x_val, &y_val, EvalArgs::quiet())?;
    let restored = model.evaluate(&x_val, &y_val, EvalArgs::quiet())?;
    println!(
        "best val_loss in History {best:.6}; best_model.keras scores {:.6}; the restored model {:.6}",
        from_file.get("loss").unwrap_or(f64::NAN),
        restored.get("loss").unwrap_or(f64::NAN)
    );
    assert!((from_file.get("loss").unwrap_or(f64::NAN) - best).abs() < 1e-5);
    assert!((restored.get("loss").unwrap_or(f64::NAN) - best).abs() < 1e-5);

    history.plot(dir.join("history.png"))?;
    println!("wrote {}", dir.join("history.png").display());
    Ok(())
}
