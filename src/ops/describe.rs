//! How Keras names a tensor's dtype and shape, in configs and in messages: the one
//! `dtype_name` and its parser (`float32`, `int64`, ... <-> candle's [`DType`]), and Python's
//! tuple form of a shape (`(32, 63)`, `(5,)`).
//!
//! ```
//! use keras::ops::{dtype_from_name, dtype_name, shape_str, DType};
//! assert_eq!(dtype_name(DType::I16), "int16");
//! assert_eq!(dtype_from_name("bfloat16")?, DType::BF16);
//! assert!(dtype_from_name("int8").unwrap_err().to_string().contains("'int8'"));
//! assert_eq!(shape_str(&[5]), "(5,)");
//! # Ok::<(), keras::Error>(())
//! ```

use super::DType;
use crate::{Error, Result};

/// Keras's name of a dtype (`float32`, `int64`, `float8_e4m3fn`, ...), for every dtype candle
/// has. The MX formats (`F6E2M3`, `F6E3M2`, `F4`, `F8E8M0`) have no Keras name: they are
/// named as candle names them (`f6e2m3`, ...), which Keras refuses to load.
///
/// ```
/// use keras::ops::{dtype_name, DType};
/// assert_eq!(dtype_name(DType::F32), "float32");
/// assert_eq!(dtype_name(DType::F8E4M3), "float8_e4m3fn");
/// ```
pub fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::F16 => "float16",
        DType::BF16 => "bfloat16",
        DType::U8 => "uint8",
        DType::U32 => "uint32",
        DType::I16 => "int16",
        DType::I32 => "int32",
        DType::I64 => "int64",
        DType::F8E4M3 => "float8_e4m3fn",
        other => other.as_str(),
    }
}

/// The dtype Keras calls `name`: every name [`dtype_name`] writes, and `bool` (stored as
/// `uint8` 0/1 here: candle has no boolean dtype). Keras dtypes candle lacks (`int8`,
/// `uint16`, `uint64`, `float8_e5m2`) and unknown names are errors that say so.
///
/// ```
/// use keras::ops::{dtype_from_name, dtype_name, DType};
/// assert_eq!(dtype_from_name("int16")?, DType::I16);
/// assert_eq!(dtype_from_name(dtype_name(DType::F8E4M3))?, DType::F8E4M3);
/// let e = dtype_from_name("uint16").unwrap_err().to_string();
/// assert!(e.contains("no candle dtype"), "{e}");
/// assert!(dtype_from_name("float33").is_err());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn dtype_from_name(name: &str) -> Result<DType> {
    Ok(match name {
        "float32" => DType::F32,
        "float64" => DType::F64,
        "float16" => DType::F16,
        "bfloat16" => DType::BF16,
        "uint8" | "bool" => DType::U8,
        "uint32" => DType::U32,
        "int16" => DType::I16,
        "int32" => DType::I32,
        "int64" => DType::I64,
        "float8_e4m3fn" => DType::F8E4M3,
        "f6e2m3" => DType::F6E2M3,
        "f6e3m2" => DType::F6E3M2,
        "f4" => DType::F4,
        "f8e8m0" => DType::F8E8M0,
        "int8" | "uint16" | "uint64" | "float8_e5m2" => {
            return Err(Error::value(format!(
                "dtype '{name}' is a Keras dtype with no candle dtype, so keras-rs cannot hold \
                 it; use one of int16, int32, int64, uint8, uint32, float16, bfloat16, float32, \
                 float64, float8_e4m3fn"
            )))
        }
        other => return Err(Error::value(format!("Invalid dtype: '{other}'"))),
    })
}

/// Concrete dims as a Python tuple, as Keras's messages print shapes: `(32, 63)`, `(5,)`, `()`.
///
/// ```
/// assert_eq!(keras::ops::shape_str(&[32, 63]), "(32, 63)");
/// assert_eq!(keras::ops::shape_str(&[]), "()");
/// ```
pub fn shape_str(dims: &[usize]) -> String {
    match dims {
        [d] => format!("({d},)"),
        ds => {
            let parts: Vec<String> = ds.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [DType; 14] = [
        DType::U8,
        DType::U32,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::BF16,
        DType::F16,
        DType::F32,
        DType::F64,
        DType::F8E4M3,
        DType::F6E2M3,
        DType::F6E3M2,
        DType::F4,
        DType::F8E8M0,
    ];

    #[test]
    fn every_candle_dtype_round_trips_through_its_name() {
        let mut names = std::collections::HashSet::new();
        for d in ALL {
            let n = dtype_name(d);
            assert!(names.insert(n), "{n} written for two dtypes");
            assert_eq!(dtype_from_name(n).unwrap(), d, "{n}");
        }
        assert_eq!(dtype_name(DType::I16), "int16");
        assert_eq!(dtype_from_name("bool").unwrap(), DType::U8);
    }

    #[test]
    fn keras_dtypes_without_a_candle_twin_are_refused() {
        for n in ["int8", "uint16", "uint64", "float8_e5m2"] {
            let e = dtype_from_name(n).unwrap_err().to_string();
            assert!(
                e.contains(&format!("'{n}'")) && e.contains("no candle dtype"),
                "{e}"
            );
        }
        let e = dtype_from_name("string").unwrap_err().to_string();
        assert!(e.contains("Invalid dtype: 'string'"), "{e}");
    }

    #[test]
    fn shapes_print_as_python_tuples() {
        assert_eq!(shape_str(&[2, 3, 4]), "(2, 3, 4)");
        assert_eq!(shape_str(&[7]), "(7,)");
        assert_eq!(shape_str(&[]), "()");
    }
}
