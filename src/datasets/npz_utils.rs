//! `.npz` files of Keras's data sets (IMDB, Reuters), as Keras 3's
//! `keras/src/datasets/npz_utils.py`: their reviews are ragged `dtype=object` arrays, which
//! NumPy can only store as a pickle stream. Like Keras's restricted unpickler, this reads the
//! pickle subset that rebuilds NumPy arrays (`numpy.ndarray`, `numpy.dtype`,
//! `multiarray._reconstruct`) and refuses any other global, so a tampered file cannot run
//! code (here nothing could run anyway: nothing is ever called, the stream is only parsed).
//! Numeric members are read as tensors by [`crate::ops::npy`].

use crate::ops::{npy, Tensor};
use crate::{Error, Result};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// One member of a data set's `.npz`.
#[derive(Clone, Debug)]
pub enum NpzArray {
    /// A numeric array (the labels).
    Array(Tensor),
    /// A 1-D object array of integer sequences (the reviews' word ids).
    Sequences(Vec<Vec<i64>>),
}

/// Reads every member of a data set's `.npz` at `path`, by name (without `.npy`).
pub fn load_npz(path: &Path) -> Result<HashMap<String, NpzArray>> {
    let f = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let bad = |e: &dyn std::fmt::Display| {
        Error::format(format!(
            "{}: not a valid .npz (zip) file: {e}",
            path.display()
        ))
    };
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|e| bad(&e))?;
    let mut out = HashMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(&e))?;
        let name = entry.name().map_err(|e| bad(&e))?.to_string();
        let Some(name) = name.strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        let what = format!("{}:{name}", path.display());
        let size = entry.size();
        let header = npy::read_header(&mut entry, size, &what)?;
        let member = if npy::is_object_header(&header) {
            let mut bytes = vec![];
            entry
                .by_ref()
                .take(size)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::format(format!("{what}: unreadable pickle data ({e})")))?;
            NpzArray::Sequences(sequences(&bytes, &what)?)
        } else {
            NpzArray::Array(npy::read_data(&mut entry, &header, size, &what)?)
        };
        out.insert(name, member);
    }
    Ok(out)
}

/// The globals a NumPy array's pickle needs, and nothing else (Keras's
/// `_ALLOWED_PICKLE_GLOBALS`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Global {
    Ndarray,
    Dtype,
    Reconstruct,
}

fn global(module: &str, name: &str) -> Result<Global> {
    match (module, name) {
        ("numpy", "ndarray") => Ok(Global::Ndarray),
        ("numpy", "dtype") => Ok(Global::Dtype),
        ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => {
            Ok(Global::Reconstruct)
        }
        _ => Err(Error::format(format!(
            "Refusing to deserialize `{module}.{name}` while loading a Keras dataset. The file \
             may be corrupted or malicious."
        ))),
    }
}

/// A value of the stream; lists, tuples and objects refer to others by their place in the
/// arena, so that a list shared through the memo is appended to in one place.
#[derive(Clone, Debug)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Text(Vec<u8>),
    Tuple(Vec<usize>),
    List(Vec<usize>),
    Global(Global),
    /// `callable(*args)`, with the state a later BUILD gave it.
    Object {
        callable: Global,
        args: usize,
        state: Option<usize>,
    },
}

struct Machine<'a> {
    data: &'a [u8],
    at: usize,
    arena: Vec<Value>,
    stack: Vec<usize>,
    marks: Vec<usize>,
    memo: HashMap<u32, usize>,
    what: &'a str,
}

impl<'a> Machine<'a> {
    fn err(&self, why: impl std::fmt::Display) -> Error {
        Error::format(format!(
            "{}: bad pickle at byte {}: {why}",
            self.what, self.at
        ))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else {
            return Err(self.err(format!("{n} bytes asked, the stream ends first")));
        };
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn uint(&mut self, n: usize) -> Result<u64> {
        let b = self.take(n)?;
        Ok(b.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64))
    }

    fn line(&mut self) -> Result<&'a str> {
        let rest = &self.data[self.at..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.err("unterminated line"))?;
        let s = std::str::from_utf8(&rest[..n]).map_err(|_| self.err("a line not UTF-8"))?;
        self.at += n + 1;
        Ok(s)
    }

    fn push(&mut self, v: Value) {
        self.arena.push(v);
        self.stack.push(self.arena.len() - 1);
    }

    fn pop(&mut self) -> Result<usize> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return Err(self.err("popped past a mark"));
        }
        self.stack.pop().ok_or_else(|| self.err("stack underflow"))
    }

    fn pop_mark(&mut self) -> Result<Vec<usize>> {
        let m = self.marks.pop().ok_or_else(|| self.err("no mark"))?;
        Ok(self.stack.split_off(m))
    }

    fn text(&mut self, len_bytes: usize) -> Result<()> {
        let n = self.uint(len_bytes)? as usize;
        let s = self.take(n)?.to_vec();
        self.push(Value::Text(s));
        Ok(())
    }

    fn append(&mut self, items: Vec<usize>) -> Result<()> {
        let list = *self
            .stack
            .last()
            .ok_or_else(|| self.err("append to nothing"))?;
        match &mut self.arena[list] {
            Value::List(l) => {
                l.extend(items);
                Ok(())
            }
            _ => Err(self.err("append to a non-list")),
        }
    }

    /// Runs the stream to its STOP; the value it leaves.
    fn run(&mut self) -> Result<usize> {
        loop {
            let op = self.take(1)?[0];
            match op {
                0x80 => drop(self.take(1)?), // PROTO
                0x95 => drop(self.take(8)?), // FRAME
                b'c' => {
                    let (m, n) = (self.line()?, self.line()?);
                    let g = global(m, n)?;
                    self.push(Value::Global(g));
                }
                0x93 => {
                    // STACK_GLOBAL
                    let (n, m) = (self.pop()?, self.pop()?);
                    let (Value::Text(m), Value::Text(n)) = (&self.arena[m], &self.arena[n]) else {
                        return Err(self.err("STACK_GLOBAL of non-strings"));
                    };
                    let g = global(&String::from_utf8_lossy(m), &String::from_utf8_lossy(n))?;
                    self.push(Value::Global(g));
                }
                b'(' => self.marks.push(self.stack.len()),
                b')' => self.push(Value::Tuple(vec![])),
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let mut items = (0..n).map(|_| self.pop()).collect::<Result<Vec<_>>>()?;
                    items.reverse();
                    self.push(Value::Tuple(items));
                }
                b']' => self.push(Value::List(vec![])),
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(items));
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                b'K' => {
                    let v = self.uint(1)? as i64;
                    self.push(Value::Int(v));
                }
                b'M' => {
                    let v = self.uint(2)? as i64;
                    self.push(Value::Int(v));
                }
                b'J' => {
                    let v = self.uint(4)? as u32 as i32 as i64;
                    self.push(Value::Int(v));
                }
                0x8a => {
                    // LONG1: n little-endian two's-complement bytes.
                    let n = self.uint(1)? as usize;
                    if n > 8 {
                        return Err(self.err(format!("an integer of {n} bytes")));
                    }
                    let raw = self.uint(n)?;
                    let shift = 64 - 8 * n as u32;
                    let v = if n == 0 {
                        0
                    } else {
                        ((raw << shift) as i64) >> shift
                    };
                    self.push(Value::Int(v));
                }
                b'N' => self.push(Value::None),
                0x88 => self.push(Value::Bool(true)),
                0x89 => self.push(Value::Bool(false)),
                // Strings and bytes: SHORT_BINSTRING, SHORT_BINBYTES, SHORT_BINUNICODE;
                // BINSTRING, BINBYTES, BINUNICODE; BINUNICODE8, BINBYTES8.
                b'U' | b'C' | 0x8c => self.text(1)?,
                b'T' | b'B' | b'X' => self.text(4)?,
                0x8d | 0x8e => self.text(8)?,
                b'q' | b'r' | 0x94 => {
                    let key = match op {
                        b'q' => self.uint(1)? as u32,
                        b'r' => self.uint(4)? as u32,
                        _ => self.memo.len() as u32,
                    };
                    let top = *self
                        .stack
                        .last()
                        .ok_or_else(|| self.err("memoize nothing"))?;
                    self.memo.insert(key, top);
                }
                b'h' | b'j' => {
                    let key = self.uint(if op == b'h' { 1 } else { 4 })? as u32;
                    let v = *self
                        .memo
                        .get(&key)
                        .ok_or_else(|| self.err(format!("memo key {key} unset")))?;
                    self.stack.push(v);
                }
                b'R' | 0x81 => {
                    // REDUCE / NEWOBJ: `callable(*args)`, never called.
                    let args = self.pop()?;
                    let f = self.pop()?;
                    let Value::Global(callable) = self.arena[f] else {
                        return Err(self.err("a call of a non-global"));
                    };
                    self.push(Value::Object {
                        callable,
                        args,
                        state: None,
                    });
                }
                b'b' => {
                    let state = self.pop()?;
                    let obj = *self
                        .stack
                        .last()
                        .ok_or_else(|| self.err("BUILD of nothing"))?;
                    match &mut self.arena[obj] {
                        Value::Object { state: s, .. } => *s = Some(state),
                        _ => return Err(self.err("BUILD of a non-object")),
                    }
                }
                b'.' => return self.pop(),
                other => return Err(self.err(format!("unsupported pickle opcode 0x{other:02x}"))),
            }
        }
    }
}

/// Reads a pickled 1-D object array of integer sequences (each a list of ints or an integer
/// NumPy array), as Keras's IMDB and Reuters files hold.
fn sequences(data: &[u8], what: &str) -> Result<Vec<Vec<i64>>> {
    let mut m = Machine {
        data,
        at: 0,
        arena: vec![],
        stack: vec![],
        marks: vec![],
        memo: HashMap::new(),
        what,
    };
    let top = m.run()?;
    let (dtype, items) = array(&m, top)?;
    if dtype.kind != 'O' {
        return Err(m.err("not an object array"));
    }
    let Value::List(items) = &m.arena[items] else {
        return Err(m.err("an object array without its list of elements"));
    };
    // Every value takes at least a byte of the stream; more means elements shared through
    // the memo, which NumPy never writes (and which could ask for any amount of memory).
    let mut budget = data.len();
    items
        .iter()
        .map(|&i| {
            let s = sequence(&m, i)?;
            budget = budget
                .checked_sub(s.len())
                .ok_or_else(|| m.err("more values than the stream holds (shared elements)"))?;
            Ok(s)
        })
        .collect()
}

/// A NumPy dtype as its pickle gives it: kind ('i', 'u', 'O'), item size, byte order.
struct Dtype {
    kind: char,
    size: usize,
    big_endian: bool,
}

/// An `ndarray` rebuilt by `_reconstruct` + BUILD: its dtype and its data (a list of objects,
/// or the raw bytes).
fn array(m: &Machine, v: usize) -> Result<(Dtype, usize)> {
    let Value::Object {
        callable: Global::Reconstruct,
        state: Some(state),
        ..
    } = m.arena[v]
    else {
        return Err(m.err("not a NumPy array"));
    };
    // (version, shape, dtype, is_fortran, data)
    let Value::Tuple(s) = &m.arena[state] else {
        return Err(m.err("an array state that is not a tuple"));
    };
    let [_, shape, dtype, _, data] = s[..] else {
        return Err(m.err(format!("an array state of {} items", s.len())));
    };
    match &m.arena[shape] {
        Value::Tuple(d) if d.len() == 1 => {}
        _ => return Err(m.err("not a 1-D array")),
    }
    Ok((dtype_of(m, dtype)?, data))
}

fn dtype_of(m: &Machine, v: usize) -> Result<Dtype> {
    let Value::Object {
        callable: Global::Dtype,
        args,
        state,
    } = m.arena[v]
    else {
        return Err(m.err("an array without a dtype"));
    };
    let Value::Tuple(a) = &m.arena[args] else {
        return Err(m.err("dtype arguments"));
    };
    let Some(Value::Text(code)) = a.first().map(|&i| &m.arena[i]) else {
        return Err(m.err("dtype without a type code"));
    };
    let code = String::from_utf8_lossy(code);
    let kind = code.chars().next().unwrap_or('?');
    let size = code
        .get(kind.len_utf8()..)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // The state's second item is the byte order: '<', '>', '|' or '='.
    let big_endian = state
        .and_then(|s| match &m.arena[s] {
            Value::Tuple(t) => t.get(1).copied(),
            _ => None,
        })
        .is_some_and(|o| matches!(&m.arena[o], Value::Text(t) if t == b">"));
    Ok(Dtype {
        kind,
        size,
        big_endian,
    })
}

/// One element: a list of ints, or an integer array.
fn sequence(m: &Machine, v: usize) -> Result<Vec<i64>> {
    match &m.arena[v] {
        Value::List(items) => items
            .iter()
            .map(|&i| match m.arena[i] {
                Value::Int(x) => Ok(x),
                Value::Bool(b) => Ok(b as i64),
                _ => Err(m.err("a sequence element that is not an integer")),
            })
            .collect(),
        Value::Object { .. } => {
            let (d, data) = array(m, v)?;
            let Value::Text(bytes) = &m.arena[data] else {
                return Err(m.err("an integer array without its bytes"));
            };
            let ok = matches!(d.kind, 'i' | 'u') && matches!(d.size, 1 | 2 | 4 | 8);
            if !ok || bytes.len() % d.size != 0 {
                return Err(m.err(format!("an array of {}{} elements", d.kind, d.size)));
            }
            Ok(bytes
                .chunks_exact(d.size)
                .map(|c| {
                    let mut b = c.to_vec();
                    if d.big_endian {
                        b.reverse();
                    }
                    let raw = b.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64);
                    let shift = 64 - 8 * d.size as u32;
                    if d.kind == 'i' {
                        ((raw << shift) as i64) >> shift
                    } else {
                        raw as i64
                    }
                })
                .collect())
        }
        _ => Err(m.err("a sequence that is not a list")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/imdb")
            .join(name)
    }

    #[test]
    fn reads_keras_layout_with_lists_and_with_arrays() {
        let a = load_npz(&fixture("imdb.npz")).unwrap();
        let b = load_npz(&fixture("imdb_p3_arrays.npz")).unwrap();
        for f in [&a, &b] {
            let NpzArray::Sequences(x) = &f["x_train"] else {
                panic!("x_train")
            };
            assert_eq!(x.len(), 30);
            assert_eq!(x[0][..3], [26, 4, 3]);
            let NpzArray::Array(y) = &f["y_test"] else {
                panic!("y_test")
            };
            assert_eq!(y.dims(), [20]);
        }
        let (NpzArray::Sequences(u), NpzArray::Sequences(v)) = (&a["x_test"], &b["x_test"]) else {
            panic!()
        };
        assert_eq!(u, v);
    }

    #[test]
    fn other_globals_and_broken_streams_are_refused() {
        // `os.system('echo')`, the classic pickle gadget.
        let evil = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00echo\x85R.";
        let e = sequences(evil, "evil.npy").unwrap_err().to_string();
        assert!(e.contains("Refusing to deserialize `os.system`"), "{e}");
        // `_reconstruct(ndarray, (0,), b'b')` with an empty dtype code: an error.
        let empty_code = b"\x80\x03cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01K\x01\x85cnumpy\ndtype\nX\x00\x00\x00\x00\x89\x88\x87R\x89]tb.";
        assert!(sequences(empty_code, "x").is_err());
        // One list referenced many times through the memo: refused, not copied out.
        let mut shared = b"\x80\x03cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01M\x00\x01\x85cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87R\x89](](K\x01K\x02K\x03K\x04K\x05eq\x00".to_vec();
        shared.extend(std::iter::repeat_n(*b"h\x00", 255).flatten());
        shared.extend(b"etb.");
        let e = sequences(&shared, "x").unwrap_err().to_string();
        assert!(e.contains("shared elements"), "{e}");
        // Every truncation of a good stream is an error, never a panic.
        let good = {
            let z = std::fs::File::open(fixture("imdb_p3_arrays.npz")).unwrap();
            let mut z = zip::ZipArchive::new(z).unwrap();
            let mut e = z.by_name("x_test.npy").unwrap();
            let size = e.size();
            npy::read_header(&mut e, size, "x").unwrap();
            let mut b = vec![];
            e.read_to_end(&mut b).unwrap();
            b
        };
        assert_eq!(sequences(&good, "x").unwrap().len(), 20);
        for n in 0..good.len() {
            assert!(sequences(&good[..n], "x").is_err(), "{n}");
        }
        // Noise: an error or a value, never a panic.
        let mut r = crate::ops::random::Rng::new(1);
        for _ in 0..200 {
            let mut g = good.clone();
            let i = r.below(g.len());
            g[i] = r.below(256) as u8;
            let _ = sequences(&g, "x");
        }
    }
}
