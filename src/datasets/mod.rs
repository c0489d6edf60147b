//! Data sets, as `keras.datasets`. Files are read from `$KERAS_RS_DATA`, from Keras's cache
//! (`~/.keras/datasets/`) or, for MNIST, from the repository's `data/` folder; nothing is
//! downloaded.

pub mod imdb;
pub mod mnist;
mod npz_utils;
