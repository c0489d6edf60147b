//! A TensorBoard event-file reader for the tests, independent of the crate's writer: its own
//! CRC-32C and protobuf wire decoder. It checks every record's checksums and the file-version
//! record, and returns the summary values.

use std::path::{Path, PathBuf};

fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn masked(data: &[u8]) -> u32 {
    crc32c(data).rotate_right(15).wrapping_add(0xa282_ead8)
}

/// The records of a TFRecord file, every CRC checked.
fn records(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let (mut out, mut at) = (vec![], 0);
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    while at < bytes.len() {
        let len_bytes = &bytes[at..at + 8];
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
        assert_eq!(
            u32_at(at + 8),
            masked(len_bytes),
            "length CRC of a record in {path:?}"
        );
        let data = &bytes[at + 12..at + 12 + len];
        assert_eq!(
            u32_at(at + 12 + len),
            masked(data),
            "data CRC of a record in {path:?}"
        );
        out.push(data.to_vec());
        at += 16 + len;
    }
    assert_eq!(at, bytes.len(), "trailing bytes in {path:?}");
    out
}

#[derive(Debug, Clone)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

fn varint(buf: &[u8], at: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let b = buf[*at];
        *at += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

/// The (field number, value) pairs of a protobuf message.
fn fields(buf: &[u8]) -> Vec<(u64, Wire<'_>)> {
    let (mut out, mut at) = (vec![], 0);
    while at < buf.len() {
        let key = varint(buf, &mut at);
        let v = match key & 7 {
            0 => Wire::Varint(varint(buf, &mut at)),
            1 => {
                at += 8;
                Wire::Fixed64(u64::from_le_bytes(buf[at - 8..at].try_into().unwrap()))
            }
            2 => {
                let n = varint(buf, &mut at) as usize;
                at += n;
                Wire::Bytes(&buf[at - n..at])
            }
            5 => {
                at += 4;
                Wire::Fixed32
            }
            t => panic!("unexpected wire type {t}"),
        };
        out.push((key >> 3, v));
    }
    out
}

fn bytes_of<'a>(f: &[(u64, Wire<'a>)], n: u64) -> Vec<&'a [u8]> {
    f.iter()
        .filter(|(k, _)| *k == n)
        .filter_map(|(_, v)| match v {
            Wire::Bytes(b) => Some(*b),
            _ => None,
        })
        .collect()
}

fn varint_of(f: &[(u64, Wire)], n: u64) -> u64 {
    f.iter()
        .find_map(|(k, v)| match (k, v) {
            (k, Wire::Varint(x)) if *k == n => Some(*x),
            _ => None,
        })
        .unwrap_or(0)
}

/// One summary value as read back.
#[derive(Debug, Clone)]
pub struct Rec {
    pub step: i64,
    pub tag: String,
    pub plugin: String,
    pub content: Vec<u8>,
    pub dtype: u64,
    pub dims: Vec<u64>,
    pub numbers: Vec<f64>,
    pub strings: Vec<Vec<u8>>,
}

/// The one event file in `dir`: checks the file name and the file-version record, returns the
/// summary values.
pub fn read_run(dir: &Path) -> Vec<Rec> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one event file in {dir:?}: {files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("events.out.tfevents.") && name.ends_with(".v2"),
        "{name}"
    );
    let recs = records(&files[0]);
    let first = fields(&recs[0]);
    assert_eq!(bytes_of(&first, 3), [b"brain.Event:2"]);
    assert!(matches!(first[0], (1, Wire::Fixed64(t)) if f64::from_bits(t) > 1.6e9));
    let mut out = vec![];
    for r in &recs[1..] {
        let ev = fields(r);
        let step = varint_of(&ev, 2) as i64;
        for summary in bytes_of(&ev, 5) {
            for value in bytes_of(&fields(summary), 1) {
                let v = fields(value);
                let tag = String::from_utf8(bytes_of(&v, 1)[0].to_vec()).unwrap();
                let meta = fields(bytes_of(&v, 9)[0]);
                let pd = fields(bytes_of(&meta, 1)[0]);
                let plugin = String::from_utf8(bytes_of(&pd, 1)[0].to_vec()).unwrap();
                let content = bytes_of(&pd, 2).first().map_or(vec![], |c| c.to_vec());
                let t = fields(bytes_of(&v, 8)[0]);
                let dtype = varint_of(&t, 1);
                let dims = bytes_of(&t, 2)
                    .first()
                    .map(|s| {
                        bytes_of(&fields(s), 2)
                            .iter()
                            .map(|d| varint_of(&fields(d), 1))
                            .collect()
                    })
                    .unwrap_or_default();
                let raw = bytes_of(&t, 4).first().map_or(&[][..], |b| *b);
                let numbers = match dtype {
                    1 => raw
                        .chunks(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                        .collect(),
                    2 => raw
                        .chunks(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                        .collect(),
                    _ => vec![],
                };
                let strings = bytes_of(&t, 8).iter().map(|s| s.to_vec()).collect();
                out.push(Rec {
                    step,
                    tag,
                    plugin,
                    content,
                    dtype,
                    dims,
                    numbers,
                    strings,
                });
            }
        }
    }
    out
}

pub fn series<'a>(recs: &'a [Rec], tag: &str) -> Vec<&'a Rec> {
    recs.iter().filter(|r| r.tag == tag).collect()
}

/// `(step, value)` of a scalar tag, checking it is a float32 scalar of plugin `scalars`.
pub fn scalars(recs: &[Rec], tag: &str) -> Vec<(i64, f64)> {
    series(recs, tag)
        .iter()
        .map(|r| {
            assert_eq!(
                (r.plugin.as_str(), r.dtype, r.dims.len()),
                ("scalars", 1, 0),
                "{tag}"
            );
            (r.step, r.numbers[0])
        })
        .collect()
}
