//! The layer library, laid out as Keras's `keras/src/layers`.
//!
//! ```
//! use keras::prelude::*;
//! let inputs = Input::new(&[28, 28]);
//! let x = Flatten::new().call(&inputs)?;
//! let x = Dense::new(128).activation("relu").call(&x)?;
//! let x = Dropout::new(0.2).call(&x)?;
//! let outputs = Dense::new(10).call(&x)?;
//! assert_eq!(outputs.shape().to_string(), "(None, 10)");
//! # Ok::<(), keras::Error>(())
//! ```

pub mod activations;
pub mod attention;
pub mod convolutional;
pub mod core;
pub mod data_format;
mod layer_config;
pub mod merging;
pub mod normalization;
pub mod pooling;
pub mod preprocessing;
mod registry;
pub mod regularization;
pub mod reshaping;
pub mod rnn;

pub use self::activations::{Activation, LeakyReLU, PReLU, ReLU, Softmax, ELU};
pub use self::core::{
    register_lambda_function, register_lambda_function_many, Dense, Embedding, Input, InputBuilder,
    InputLayer, Lambda, Masking,
};
pub use attention::{Attention, MultiHeadAttention};
pub use convolutional::{
    Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D,
};
pub use merging::{
    add, average, concatenate, concatenate_axis, dot, maximum, minimum, multiply, subtract, Add,
    Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract,
};
pub use normalization::{BatchNormalization, GroupNormalization, LayerNormalization};
pub use pooling::{
    AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, GlobalAveragePooling1D,
    GlobalAveragePooling2D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D,
};
pub use preprocessing::{
    CategoryEncoding, CenterCrop, Discretization, Hashing, Normalization, RandomContrast,
    RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom, Rescaling, Resizing,
};
pub use preprocessing::{IntegerLookup, StringLookup, TextVectorization};
pub use regularization::{
    ActivityRegularization, Dropout, GaussianDropout, GaussianNoise, SpatialDropout1D,
    SpatialDropout2D,
};
pub use reshaping::{
    Cropping1D, Cropping2D, Flatten, Permute, RepeatVector, Reshape, UpSampling1D, UpSampling2D,
    ZeroPadding1D, ZeroPadding2D,
};
pub use rnn::{Bidirectional, Recurrent, SimpleRNN, TimeDistributed, GRU, LSTM};
