//! Data sets, as `keras.datasets`. Files are read from the repository's `data/` folder or
//! from `~/.keras/datasets/`; nothing is downloaded.

pub mod mnist;
