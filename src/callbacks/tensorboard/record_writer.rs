//! TFRecord framing, the container of TensorBoard event files (TensorFlow's
//! `core/lib/io/record_writer.cc`, TensorBoard's `summary/writer/record_writer.py`).
//!
//! Each record is `u64 length (LE) | u32 masked_crc32c(length bytes) | data | u32
//! masked_crc32c(data)`, the CRC being CRC-32C (Castagnoli) masked as
//! `((crc >> 15) | (crc << 17)) + 0xa282ead8`.

use std::io::Write;

/// The masked CRC-32C of `data`, as TFRecord stores it.
pub(crate) fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// `data` framed as one TFRecord.
pub(crate) fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    out
}

/// Writes one record to `w` in a single `write_all` (a record is either there or not,
/// short of a crash inside the call).
pub(crate) fn write_record(w: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
    w.write_all(&frame(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from TensorBoard's own implementation:
    /// `tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c`.
    #[test]
    fn masked_crc_matches_tensorboard() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283); // the CRC-32C check value
        assert_eq!(masked_crc32c(b"123456789"), 0xc78a_b0e5);
        assert_eq!(masked_crc32c(b""), 0xa282_ead8);
        assert_eq!(masked_crc32c(&24u64.to_le_bytes()), 0x224b_7fa3);
        assert_eq!(masked_crc32c(b"hello tensorboard"), 0xd874_6fa4);
    }

    /// The bytes `tensorboard.summary.writer.record_writer.RecordWriter` writes for the
    /// serialized `Event(wall_time=1.5, step=3, file_version="brain.Event:2")`.
    #[test]
    fn record_matches_tensorboard_record_writer() {
        let event = hex("09000000000000f83f10031a0d627261696e2e4576656e743a32");
        let want = hex(
            "1a00000000000000129bd82d09000000000000f83f10031a0d627261696e2e4576656e743a32e3c0b95c",
        );
        let mut got = vec![];
        write_record(&mut got, &event).unwrap();
        assert_eq!(got, want);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
