//! Any bytes given to `load_model_from_bytes` give a model or an error, never a panic, a hang
//! or an unbounded allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keras::saving::load_model_from_bytes(data);
});
