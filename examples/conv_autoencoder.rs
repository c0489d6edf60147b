//! The seeds' convolutional autoencoder: an encoder (Conv2D, MaxPooling2D, GlobalMaxPooling2D
//! to a 16-value code) and a decoder (Reshape, Conv2DTranspose, UpSampling2D) built as models
//! and composed into an autoencoder, trained briefly on MNIST.
//!
//! `cargo run --release --example conv_autoencoder`

use keras::layers::{Conv2D, Conv2DTranspose, GlobalMaxPooling2D, MaxPooling2D, UpSampling2D};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(3);
    let encoder_input = Input::shape([28, 28, 1]).name("original_img").build();
    let x = Conv2D::new(16, 3).activation("relu").call(&encoder_input)?;
    let x = Conv2D::new(32, 3).activation("relu").call(&x)?;
    let x = MaxPooling2D::new(3).call(&x)?;
    let x = Conv2D::new(32, 3).activation("relu").call(&x)?;
    let x = Conv2D::new(16, 3).activation("relu").call(&x)?;
    let encoder_output = GlobalMaxPooling2D::new().call(&x)?;
    let encoder = Model::new(&[encoder_input], &[encoder_output])?.name("encoder");
    encoder.summary();

    let decoder_input = Input::shape([16]).name("encoded_img").build();
    let x = Reshape::new([4, 4, 1]).call(&decoder_input)?;
    let x = Conv2DTranspose::new(16, 3).activation("relu").call(&x)?;
    let x = Conv2DTranspose::new(32, 3).activation("relu").call(&x)?;
    let x = UpSampling2D::new(3).call(&x)?;
    let x = Conv2DTranspose::new(16, 3).activation("relu").call(&x)?;
    let decoder_output = Conv2DTranspose::new(1, 3).activation("relu").call(&x)?;
    let decoder = Model::new(&[decoder_input], &[decoder_output])?.name("decoder");
    decoder.summary();

    let autoencoder_input = Input::shape([28, 28, 1]).name("img").build();
    let encoded_img = encoder.call(&autoencoder_input)?;
    let decoded_img = decoder.call(&encoded_img)?;
    let mut autoencoder = Model::new(&[autoencoder_input], &[decoded_img])?.name("autoencoder");
    autoencoder.summary();

    let ((x_train, _), _) = keras::datasets::mnist::load_data()?;
    let n = 4096;
    let images = (x_train.narrow(0, 0, n)?.to_dtype(DType::F32)? / 255.0)?.unsqueeze(3)?;
    autoencoder.compile("adam", "mse", ())?;
    let h = autoencoder.fit(&images, &images, FitArgs::new().epochs(2).batch_size(64))?;
    println!("{h}");
    Ok(())
}
