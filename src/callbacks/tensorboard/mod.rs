//! TensorBoard (filled in by the TensorBoard work).
