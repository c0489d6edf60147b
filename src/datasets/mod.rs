//! Data sets, as `keras.datasets`. Files are read from the repository's `data/` folder, from
//! `$KERAS_RS_DATA` or from Keras's cache (`~/.keras/datasets/`); nothing is downloaded.

pub mod imdb;
pub mod mnist;
mod npz_utils;
