//! The seeds' convolutional residual connections: an identity shortcut around three
//! `padding="same"` convolutions, and a 1x1 strided projection where the main path is
//! downsampled by max pooling. Trained briefly on random images.
//!
//! `cargo run --release --example residual_conv`

use keras::layers::{add, Conv2D, GlobalAveragePooling2D, MaxPooling2D};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(2);
    let conv = |filters| Conv2D::new(filters, 3).activation("relu").padding("same");
    let inputs = Input::new((16, 16, 3));
    let x = conv(32).call(&inputs)?;

    // Identity residual: the feature maps keep their size.
    let y = conv(32).call(&x)?;
    let y = conv(32).call(&y)?;
    let y = conv(32).call(&y)?;
    let x = add(&[y, x])?;

    // Linear residual: a strided 1x1 convolution brings the shortcut to the new shape.
    let y = conv(64).call(&x)?;
    let y = conv(64).call(&y)?;
    let y = MaxPooling2D::new(2).strides(2).call(&y)?;
    let residual = Conv2D::new(64, 1).strides(2).padding("same").call(&x)?;
    let y = add(&[y, residual])?;
    println!("after the projection shortcut: {}", y.shape());

    let out = Dense::new(1).call(&GlobalAveragePooling2D::new().call(&y)?)?;
    let mut model = Model::new(&[inputs], &[out])?;
    model.summary();
    let images = keras::random::normal(&[128, 16, 16, 3])?;
    let target = images
        .mean_keepdim(1)?
        .mean_keepdim(2)?
        .mean_keepdim(3)?
        .reshape((128, 1))?;
    model.compile("adam", "mse", ["mae"])?;
    let h = model.fit(&images, &target, FitArgs::new().epochs(3).batch_size(32))?;
    println!("{h}");
    Ok(())
}
