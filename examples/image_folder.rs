//! Training from image files in class folders, as the Keras image-classification tutorial:
//! `image_dataset_from_directory` -> `Rescaling` + `RandomRotation` / `RandomZoom` inside the
//! model -> a small CNN -> fit, then the saved `.keras` file classifies a PNG.
//!
//! The example first writes 800 MNIST digits as PNG files into `<tmp>/keras_rs_digits/<digit>/`
//! (80 per class), so it needs nothing but the MNIST copy in `data/`.
//!
//! ```text
//! cargo run --release --example image_folder
//! ```

use keras::layers::preprocessing::{RandomRotation, RandomZoom, Rescaling};
use keras::layers::{Conv2D, MaxPooling2D};
use keras::prelude::*;
use keras::utils::{image_dataset_from_directory_both, ImageDatasetArgs};
use std::path::{Path, PathBuf};

const PER_CLASS: usize = 80;

/// Writes `PER_CLASS` training digits of each class as grayscale PNGs.
fn write_digits(root: &Path) -> keras::Result<()> {
    let ((x, y), _) = keras::datasets::mnist::load_data()?;
    let pixels: Vec<u8> = x.flatten_all()?.to_vec1()?;
    let labels: Vec<u8> = y.to_vec1()?;
    let mut counts = [0usize; 10];
    for (i, &label) in labels.iter().enumerate() {
        let c = label as usize;
        if counts[c] == PER_CLASS {
            continue;
        }
        let dir = root.join(c.to_string());
        std::fs::create_dir_all(&dir)
            .map_err(|e| keras::Error::io(format!("creating {dir:?}"), e))?;
        let img = image::GrayImage::from_raw(28, 28, pixels[i * 784..(i + 1) * 784].to_vec())
            .expect("28x28 pixels");
        let path = dir.join(format!("{i:05}.png"));
        img.save(&path)
            .map_err(|e| keras::Error::runtime(format!("writing {path:?}: {e}")))?;
        counts[c] += 1;
        if counts.iter().all(|&n| n == PER_CLASS) {
            break;
        }
    }
    Ok(())
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(1337);
    let root: PathBuf = std::env::temp_dir().join("keras_rs_digits");
    let _ = std::fs::remove_dir_all(&root);
    write_digits(&root)?;

    let args = ImageDatasetArgs {
        image_size: (28, 28),
        color_mode: "grayscale",
        batch_size: Some(32),
        validation_split: Some(0.2),
        seed: Some(1337),
        ..Default::default()
    };
    let (train_ds, val_ds) = image_dataset_from_directory_both(&root, args)?;
    println!(
        "class_names: {:?}",
        train_ds.class_names.as_deref().unwrap_or_default()
    );

    let inputs = Input::new([28, 28, 1]);
    let x = Rescaling::new(1.0 / 255.0, 0.0).call(&inputs)?;
    let x = RandomRotation::new(0.05).fill_mode("constant").call(&x)?;
    let x = RandomZoom::new(0.1).fill_mode("constant").call(&x)?;
    let x = Conv2D::new(16, 3).activation("relu").call(&x)?;
    let x = MaxPooling2D::new(2).call(&x)?;
    let x = Conv2D::new(32, 3).activation("relu").call(&x)?;
    let x = MaxPooling2D::new(2).call(&x)?;
    let x = Flatten::new().call(&x)?;
    let x = Dropout::new(0.3).call(&x)?;
    let outputs = Dense::new(10).call(&x)?;
    let mut model = Model::new(&[inputs], &[outputs])?;
    model.summary();
    model.compile(
        "adam",
        keras::losses::SparseCategoricalCrossentropy::new().from_logits(true),
        ["accuracy"],
    )?;
    let history = model.fit_dataset(
        &train_ds,
        FitArgs::new()
            .epochs(15)
            .verbose(2)
            .validation_data(&val_ds),
    )?;
    let val_acc = *history.history["val_accuracy"].last().unwrap_or(&0.0);
    println!("final val_accuracy: {val_acc:.4}");

    // The preprocessing travels with the model: the loaded file takes raw pixels.
    let path = std::env::temp_dir().join("keras_rs_digits.keras");
    model.save(&path)?;
    let mut loaded = keras::saving::load_model(&path)?;
    let first = &val_ds.file_paths[0];
    let img = image::open(first)
        .map_err(|e| keras::Error::runtime(format!("{first:?}: {e}")))?
        .to_luma8();
    let x = Tensor::from_vec(img.into_raw(), (1, 28, 28, 1), &Device::Cpu)?.to_dtype(DType::F32)?;
    let logits: Tensor = loaded.predict(&x, EvalArgs::quiet())?;
    let class = logits.argmax(1)?.to_vec1::<u32>()?[0];
    println!("{} is classified as {class}", first.display());
    if val_acc < 0.8 {
        return Err(keras::Error::runtime(format!(
            "val_accuracy {val_acc:.4} is below 0.8"
        )));
    }
    Ok(())
}
