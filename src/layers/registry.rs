//! Layers as a kind of the one registry ([`crate::serialization::registration`]): every
//! built-in layer class by its Keras class name (and Keras's aliases), one line each, each
//! made by the `from_config` beside its `get_config` in its own file. A program adds its own
//! classes with `register::<LayerRef>` (or `keras::saving::registry::register_layer`).
//!
//! ```
//! use keras::engine::LayerRef;
//! use keras::serialization::registration::deserialize;
//! use keras::serialization::{config, json};
//! let pool: LayerRef = deserialize("MaxPool2D", &config(json!({"pool_size": [3, 3]})))?;
//! assert_eq!(pool.class_name(), "MaxPooling2D");
//! # Ok::<(), keras::Error>(())
//! ```

use super::preprocessing::{
    CategoryEncoding, CenterCrop, Discretization, Hashing, IntegerLookup, Normalization,
    RandomContrast, RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
    Rescaling, Resizing, StringLookup, TextVectorization,
};
use super::rnn::RecurrentConfig;
use super::*;
use crate::engine::LayerRef;
use crate::models::{Functional, Sequential};
use crate::serialization::registration::{Builtins, Registrable};

impl Registrable for LayerRef {
    const KIND: &'static str = "layer";

    fn register_builtins(r: &mut Builtins<Self>) {
        // core
        r.add("InputLayer", InputLayer::from_config);
        r.add("Dense", Dense::from_config);
        r.add("Embedding", Embedding::from_config);
        r.add("Masking", Masking::from_config);
        r.add("Lambda", Lambda::from_config);
        // activations
        r.add("Activation", Activation::from_config);
        r.add("ReLU", ReLU::from_config);
        r.add("LeakyReLU", LeakyReLU::from_config);
        r.add("ELU", ELU::from_config);
        r.add("Softmax", Softmax::from_config);
        r.add("PReLU", PReLU::from_config);
        // attention
        r.add("Attention", Attention::from_config);
        r.add("MultiHeadAttention", MultiHeadAttention::from_config);
        // convolutional
        r.alias(&["Conv1D", "Convolution1D"], Conv1D::from_config);
        r.alias(&["Conv2D", "Convolution2D"], Conv2D::from_config);
        r.alias(
            &["Conv1DTranspose", "Convolution1DTranspose"],
            Conv1DTranspose::from_config,
        );
        r.alias(
            &["Conv2DTranspose", "Convolution2DTranspose"],
            Conv2DTranspose::from_config,
        );
        r.alias(
            &["SeparableConv2D", "SeparableConvolution2D"],
            SeparableConv2D::from_config,
        );
        r.add("DepthwiseConv2D", DepthwiseConv2D::from_config);
        // merging
        r.add("Add", Add::from_config);
        r.add("Subtract", Subtract::from_config);
        r.add("Multiply", Multiply::from_config);
        r.add("Average", Average::from_config);
        r.add("Maximum", Maximum::from_config);
        r.add("Minimum", Minimum::from_config);
        r.add("Concatenate", Concatenate::from_config);
        r.add("Dot", Dot::from_config);
        // normalization
        r.add("BatchNormalization", BatchNormalization::from_config);
        r.add("LayerNormalization", LayerNormalization::from_config);
        r.add("GroupNormalization", GroupNormalization::from_config);
        // pooling
        r.alias(&["MaxPooling1D", "MaxPool1D"], MaxPooling1D::from_config);
        r.alias(&["MaxPooling2D", "MaxPool2D"], MaxPooling2D::from_config);
        r.alias(
            &["AveragePooling1D", "AvgPool1D"],
            AveragePooling1D::from_config,
        );
        r.alias(
            &["AveragePooling2D", "AvgPool2D"],
            AveragePooling2D::from_config,
        );
        r.alias(
            &["GlobalMaxPooling1D", "GlobalMaxPool1D"],
            GlobalMaxPooling1D::from_config,
        );
        r.alias(
            &["GlobalMaxPooling2D", "GlobalMaxPool2D"],
            GlobalMaxPooling2D::from_config,
        );
        r.alias(
            &["GlobalAveragePooling1D", "GlobalAvgPool1D"],
            GlobalAveragePooling1D::from_config,
        );
        r.alias(
            &["GlobalAveragePooling2D", "GlobalAvgPool2D"],
            GlobalAveragePooling2D::from_config,
        );
        // preprocessing
        r.add("Rescaling", Rescaling::from_config);
        r.add("Normalization", Normalization::from_config);
        r.add("Resizing", Resizing::from_config);
        r.add("CenterCrop", CenterCrop::from_config);
        r.add("RandomFlip", RandomFlip::from_config);
        r.add("RandomRotation", RandomRotation::from_config);
        r.add("RandomZoom", RandomZoom::from_config);
        r.add("RandomTranslation", RandomTranslation::from_config);
        r.add("RandomCrop", RandomCrop::from_config);
        r.add("RandomContrast", RandomContrast::from_config);
        r.add("CategoryEncoding", CategoryEncoding::from_config);
        r.add("Hashing", Hashing::from_config);
        r.add("Discretization", Discretization::from_config);
        r.add("TextVectorization", TextVectorization::from_config);
        r.add("StringLookup", StringLookup::from_config);
        r.add("IntegerLookup", IntegerLookup::from_config);
        // regularization
        r.add("Dropout", Dropout::from_config);
        r.add("SpatialDropout1D", SpatialDropout1D::from_config);
        r.add("SpatialDropout2D", SpatialDropout2D::from_config);
        r.add("GaussianNoise", GaussianNoise::from_config);
        r.add("GaussianDropout", GaussianDropout::from_config);
        r.add(
            "ActivityRegularization",
            ActivityRegularization::from_config,
        );
        // reshaping
        r.add("Flatten", Flatten::from_config);
        r.add("Reshape", Reshape::from_config);
        r.add("Permute", Permute::from_config);
        r.add("RepeatVector", RepeatVector::from_config);
        r.add("UpSampling1D", UpSampling1D::from_config);
        r.add("UpSampling2D", UpSampling2D::from_config);
        r.add("ZeroPadding1D", ZeroPadding1D::from_config);
        r.add("ZeroPadding2D", ZeroPadding2D::from_config);
        r.add("Cropping1D", Cropping1D::from_config);
        r.add("Cropping2D", Cropping2D::from_config);
        // rnn
        r.add("LSTM", LSTM::from_config);
        r.add("GRU", GRU::from_config);
        r.add("SimpleRNN", SimpleRNN::from_config);
        r.add("Bidirectional", Bidirectional::from_config);
        r.add("TimeDistributed", TimeDistributed::from_config);
        // models, nested in a model
        r.alias(&["Functional", "Model"], |c| {
            Ok(Functional::from_config(c)?.layer().clone())
        });
        r.add("Sequential", |c| {
            Ok(Sequential::from_config(c)?.layer().clone())
        });
    }
}
