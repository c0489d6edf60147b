//! Any text given to `model_from_json` gives a model or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = keras::saving::model_from_json(s);
    }
});
