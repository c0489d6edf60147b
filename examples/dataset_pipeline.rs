//! The tutorials' input pipeline on MNIST:
//! `Dataset::from_tensor_slices((x, y)).shuffle(10000).batch(32).map(augment).prefetch(2)`,
//! with a test-set `Dataset` as `validation_data`, next to the same model fed tensors.
//!
//! The `map` shifts each image by up to one pixel in each direction (a random draw per image,
//! repeatable after `set_random_seed`), on two worker threads; `prefetch` prepares batches on
//! a background thread while the model trains on the previous one.
//!
//! ```text
//! cargo run --release --example dataset_pipeline
//! ```

use keras::data::Dataset;
use keras::losses::SparseCategoricalCrossentropy;
use keras::ops::random::Rng;
use keras::prelude::*;
use std::time::Instant;

/// Shifts every image of a `(batch, 28, 28)` batch by up to `max` pixels, zero-filled.
fn random_shift(images: &Tensor, rng: &mut Rng, max: i64) -> keras::Result<Tensor> {
    let dims = images.dims().to_vec();
    let (n, h, w) = (dims[0], dims[1] as i64, dims[2] as i64);
    let src: Vec<f32> = images.flatten_all()?.to_vec1()?;
    let mut out = vec![0f32; src.len()];
    let span = (2 * max + 1) as u64;
    for i in 0..n {
        let dy = (rng.next_u64() % span) as i64 - max;
        let dx = (rng.next_u64() % span) as i64 - max;
        let (img, dst) = (
            &src[i * (h * w) as usize..],
            &mut out[i * (h * w) as usize..],
        );
        for y in 0..h {
            let sy = y - dy;
            if !(0..h).contains(&sy) {
                continue;
            }
            for x in 0..w {
                let sx = x - dx;
                if (0..w).contains(&sx) {
                    dst[(y * w + x) as usize] = img[(sy * w + sx) as usize];
                }
            }
        }
    }
    Ok(Tensor::from_vec(out, dims, images.device())?)
}

fn model() -> keras::Result<Sequential> {
    let mut model = Sequential::from_layers([
        Flatten::new().input_shape([28, 28]).into(),
        Dense::new(128).activation("relu").into(),
        Dropout::new(0.2).into(),
        Dense::new(10).into(),
    ])?;
    model.compile(
        "adam",
        SparseCategoricalCrossentropy::new().from_logits(true),
        ["accuracy"],
    )?;
    Ok(model)
}

fn main() -> keras::Result<()> {
    let epochs = 5;
    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let x_train = (x_train.to_dtype(DType::F32)? / 255.0)?;
    let x_test = (x_test.to_dtype(DType::F32)? / 255.0)?;

    // The tensor path.
    keras::utils::set_random_seed(1337);
    let mut on_tensors = model()?;
    let t = Instant::now();
    on_tensors.fit(&x_train, &y_train, FitArgs::new().epochs(epochs).verbose(2))?;
    let tensor_secs = t.elapsed().as_secs_f64() / epochs as f64;
    let tensor_acc = on_tensors
        .evaluate(&x_test, &y_test, EvalArgs::quiet())?
        .get("accuracy")
        .unwrap_or(0.0);

    // The pipeline.
    keras::utils::set_random_seed(1337);
    let train_ds = Dataset::from_tensor_slices((x_train, y_train))?
        .shuffle(10000)?
        .batch(32)?
        .map_random_with(|(x, y), rng| Ok((random_shift(&x, rng, 1)?, y)), 2, None)
        .prefetch(2)?;
    let test_ds = Dataset::from_tensor_slices((x_test.clone(), y_test.clone()))?.batch(32)?;
    let mut on_dataset = model()?;
    on_dataset.summary();
    let t = Instant::now();
    let history = on_dataset.fit_dataset(
        &train_ds,
        FitArgs::new().epochs(epochs).validation_data(&test_ds),
    )?;
    let dataset_secs = t.elapsed().as_secs_f64() / epochs as f64;
    println!("History: {history}");
    let logs = on_dataset.evaluate_dataset(&test_ds, EvalArgs::quiet())?;
    let dataset_acc = logs.get("accuracy").unwrap_or(0.0);
    let predictions: Tensor = on_dataset.predict_dataset(&test_ds, EvalArgs::quiet())?;
    println!(
        "predictions: {:?} (in the test set's order)",
        predictions.dims()
    );

    println!("tensors:  test accuracy {tensor_acc:.4}, {tensor_secs:.2}s per epoch");
    println!("Dataset:  test accuracy {dataset_acc:.4}, {dataset_secs:.2}s per epoch (validating each epoch)");
    if dataset_acc < 0.97 || (dataset_acc - tensor_acc).abs() > 0.01 {
        return Err(keras::Error::runtime(format!(
            "the pipeline's accuracy {dataset_acc:.4} is not that of the tensor path {tensor_acc:.4}"
        )));
    }
    Ok(())
}
