//! Preprocessing layers, as Keras's `keras/src/layers/preprocessing`: they run inside the
//! model, so they save and load with it.
