//! Input-pipeline benchmark (see BENCHMARKS.md): the mnist_mlp model (Flatten -> Dense 128
//! relu -> Dropout 0.2 -> Dense 10, Adam, batch 32) trained for 3 epochs on tensors and on
//! `Dataset::from_tensor_slices((x, y)).shuffle(10000).batch(32).prefetch(2)`; seconds per
//! epoch (the mean of epochs 2 and 3); then `predict` on the 60000 training images as a
//! tensor and as a batched Dataset (median of 3).
//!
//! `cargo bench --bench data_pipeline` (Python Keras's numbers:
//! `benches/keras_bench.py data_pipeline`, with a tf.data pipeline).

use keras::callbacks::{Callback, CallbackContext};
use keras::data::Dataset;
use keras::losses::SparseCategoricalCrossentropy;
use keras::prelude::*;
use std::time::Instant;

/// Seconds of each epoch.
#[derive(Default)]
struct EpochTimes(Vec<f64>, Option<Instant>);
impl Callback for EpochTimes {
    fn on_epoch_begin(&mut self, _e: usize, _c: &mut CallbackContext) -> keras::Result<()> {
        self.1 = Some(Instant::now());
        Ok(())
    }
    fn on_epoch_end(
        &mut self,
        _e: usize,
        _l: &mut Logs,
        _c: &mut CallbackContext,
    ) -> keras::Result<()> {
        self.0
            .push(self.1.map_or(0.0, |t| t.elapsed().as_secs_f64()));
        Ok(())
    }
}

fn model() -> keras::Result<Sequential> {
    keras::utils::set_random_seed(1);
    let mut m = Sequential::from_layers([
        Flatten::new().input_shape([28, 28]).into(),
        Dense::new(128).activation("relu").into(),
        Dropout::new(0.2).into(),
        Dense::new(10).into(),
    ])?;
    m.compile(
        "adam",
        SparseCategoricalCrossentropy::new().from_logits(true),
        ["accuracy"],
    )?;
    Ok(m)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> keras::Result<()> {
    let ((x, y), _) = keras::datasets::mnist::load_data()?;
    let x = (x.to_dtype(DType::F32)? / 255.0)?;
    fn args(t: &mut EpochTimes) -> FitArgs<'_> {
        FitArgs {
            epochs: 3,
            verbose: 0,
            callbacks: vec![t],
            ..Default::default()
        }
    }
    let mut m = model()?;
    let mut t_tensors = EpochTimes::default();
    m.fit(&x, &y, args(&mut t_tensors))?;
    let ds = Dataset::from_tensor_slices((x.clone(), y.clone()))?
        .shuffle(10000)?
        .batch(32)?
        .prefetch(2)?;
    let mut m = model()?;
    let mut t_ds = EpochTimes::default();
    m.fit_dataset(&ds, args(&mut t_ds))?;
    let no_prefetch = Dataset::from_tensor_slices((x.clone(), y.clone()))?
        .shuffle(10000)?
        .batch(32)?;
    let mut m2 = model()?;
    let mut t_np = EpochTimes::default();
    m2.fit_dataset(&no_prefetch, args(&mut t_np))?;
    let mean = |v: &[f64]| (v[1] + v[2]) / 2.0;
    println!(
        "PIPELINE fit keras-rs: tensors {:.3} s/epoch, Dataset shuffle+batch+prefetch {:.3} s/epoch (without prefetch {:.3})",
        mean(&t_tensors.0),
        mean(&t_ds.0),
        mean(&t_np.0)
    );
    let xs = Dataset::from_tensor_slices(x.clone())?.batch(32)?;
    let (mut p_t, mut p_d) = (vec![], vec![]);
    for _ in 0..3 {
        let t = Instant::now();
        let a: Tensor = m.predict(&x, EvalArgs::quiet())?;
        p_t.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let b: Tensor = m.predict_dataset(&xs, EvalArgs::quiet())?;
        p_d.push(t.elapsed().as_secs_f64());
        assert_eq!(a.dims(), b.dims());
    }
    println!(
        "PIPELINE predict keras-rs: tensors {:.3} s, Dataset {:.3} s (60000 images, batch 32)",
        median(p_t),
        median(p_d)
    );
    Ok(())
}
