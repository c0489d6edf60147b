//! The seeds' autoencoder, composed of an encoder model and a decoder model, each called like a
//! layer. Here both halves are Dense, on MNIST images flattened to 784 values; the seeds'
//! convolutional version (Conv2D / Conv2DTranspose) is `examples/conv_autoencoder.rs`.
//!
//! `cargo run --release --example nested_models`

use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(5);
    let encoder_input = Input::shape([784]).name("original_img").build();
    let x = Dense::new(128).activation("relu").call(&encoder_input)?;
    let encoder_output = Dense::new(16).activation("relu").call(&x)?;
    let mut encoder = Model::new(&[encoder_input], &[encoder_output])?.name("encoder");
    encoder.summary();

    let decoder_input = Input::shape([16]).name("encoded_img").build();
    let x = Dense::new(128).activation("relu").call(&decoder_input)?;
    let decoder_output = Dense::new(784).activation("sigmoid").call(&x)?;
    let decoder = Model::new(&[decoder_input], &[decoder_output])?.name("decoder");
    decoder.summary();

    let autoencoder_input = Input::shape([784]).name("img").build();
    let encoded_img = encoder.call(&autoencoder_input)?;
    let decoded_img = decoder.call(&encoded_img)?;
    let mut autoencoder = Model::new(&[autoencoder_input], &[decoded_img])?.name("autoencoder");
    autoencoder.summary();
    assert_eq!(
        autoencoder.count_params(),
        encoder.count_params() + decoder.count_params()
    );

    let ((x_train, _), _) = keras::datasets::mnist::load_data()?;
    let n = 10_000;
    let images = (x_train
        .narrow(0, 0, n)?
        .reshape((n, 784))?
        .to_dtype(DType::F32)?
        / 255.0)?;
    autoencoder.compile("adam", "binary_crossentropy", ())?;
    let h = autoencoder.fit(&images, &images, FitArgs::new().epochs(3).batch_size(128))?;
    println!("{h}");
    // The encoder alone now gives codes learned by the autoencoder: the weights are shared.
    let codes: Tensor = encoder.predict(images.narrow(0, 0, 5)?, EvalArgs::quiet())?;
    println!("codes of 5 images: {:?}", codes.dims());
    Ok(())
}
