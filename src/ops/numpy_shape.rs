//! Keras's numpy shape ops on real or symbolic tensors: `matmul`, `einsum`, `reshape`,
//! `transpose`, `expand_dims`, `squeeze`, `concatenate`, `stack`, `split`.
//!
//! ```
//! use keras::ops::{self, Device, Tensor};
//! let x = Tensor::zeros((2, 3, 4), keras::ops::DType::F32, &Device::Cpu)?;
//! assert_eq!(ops::reshape(&x, &[-1, 12])?.dims(), &[2, 12]);
//! assert_eq!(ops::transpose(&x, Some(&[0, 2, 1]))?.dims(), &[2, 4, 3]);
//! assert_eq!(ops::expand_dims(&x, -1)?.dims(), &[2, 3, 4, 1]);
//! # Ok::<(), keras::Error>(())
//! ```

use super::numpy::NUMPY;
use super::operation::{apply1, Arg, Op, TensorLike};
use super::{normalize_axis, Tensor};
use crate::serialization::registration::Builtins;
use crate::serialization::{Config, Value};
use crate::{Error, Result};

fn cfg(pairs: Vec<(&str, Value)>) -> Config {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn ints(v: &[isize]) -> Value {
    Value::from(v.iter().map(|&x| x as i64).collect::<Vec<_>>())
}

fn matmul_op() -> Op {
    Op::new(
        NUMPY,
        "Matmul",
        Config::new(),
        vec![Arg::Tensor, Arg::Tensor],
        |xs| {
            let (a, b) = (&xs[0], &xs[1]);
            let y = if a.rank() == 2 && b.rank() == 2 {
                super::dense::matmul(a, b)?
            } else {
                a.broadcast_matmul(b)?
            };
            Ok(vec![y])
        },
    )
}

/// The matrix product of `x1` and `x2`, batch axes broadcast (class `Matmul`).
///
/// ```
/// use keras::ops::{self, Device, Tensor};
/// let a = Tensor::new(&[[1f32, 2.0]], &Device::Cpu)?;
/// let b = Tensor::new(&[[3f32], [4.0]], &Device::Cpu)?;
/// assert_eq!(ops::matmul(&a, &b)?.to_vec2::<f32>()?, vec![vec![11.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn matmul<T: TensorLike>(x1: &T, x2: &T) -> Result<T> {
    apply1(matmul_op(), &[x1, x2])
}

/// `subscripts` split into its inputs' letters and the output's (implicit output: the
/// letters seen once, sorted, as numpy).
fn parse_einsum(subscripts: &str, n: usize) -> Result<(Vec<Vec<char>>, Vec<char>)> {
    let bad = |why: &str| {
        Error::value(format!(
            "einsum: unsupported subscripts '{subscripts}' ({why}); supported: one or two \
             operands of distinct letters, no '...'"
        ))
    };
    let s: String = subscripts.chars().filter(|c| !c.is_whitespace()).collect();
    if s.contains("...") {
        return Err(bad("ellipsis"));
    }
    let (lhs, out) = match s.split_once("->") {
        Some((l, o)) => (l.to_string(), Some(o.chars().collect::<Vec<_>>())),
        None => (s.clone(), None),
    };
    let ins: Vec<Vec<char>> = lhs.split(',').map(|p| p.chars().collect()).collect();
    if ins.len() != n || !(1..=2).contains(&n) {
        return Err(bad(&format!("{} operands for {n} tensors", ins.len())));
    }
    for i in &ins {
        let mut u = i.clone();
        u.sort_unstable();
        u.dedup();
        if u.len() != i.len() || !i.iter().all(|c| c.is_ascii_alphabetic()) {
            return Err(bad("a letter repeated within one operand"));
        }
    }
    let out = out.unwrap_or_else(|| {
        let mut all: Vec<char> = ins.concat();
        all.sort_unstable();
        all.iter()
            .copied()
            .filter(|c| all.iter().filter(|x| *x == c).count() == 1)
            .collect()
    });
    Ok((ins, out))
}

fn prod(dims: &[usize]) -> usize {
    dims.iter().product()
}

/// Sums `x` (with letters `l`) over the letters not in `keep`.
fn sum_out(x: &Tensor, l: &[char], keep: &[char]) -> Result<(Tensor, Vec<char>)> {
    let mut x = x.clone();
    let mut l = l.to_vec();
    for i in (0..l.len()).rev() {
        if !keep.contains(&l[i]) {
            x = x.sum(i)?;
            l.remove(i);
        }
    }
    Ok((x, l))
}

fn permute_to(x: &Tensor, l: &[char], order: &[char]) -> Result<Tensor> {
    let perm: Vec<usize> = order
        .iter()
        .map(|c| l.iter().position(|x| x == c).unwrap_or(0))
        .collect();
    Ok(x.permute(perm)?.contiguous()?)
}

fn einsum_eager(subscripts: &str, xs: &[Tensor]) -> Result<Tensor> {
    let (ins, out) = parse_einsum(subscripts, xs.len())?;
    for (x, l) in xs.iter().zip(&ins) {
        if x.rank() != l.len() {
            return Err(Error::value(format!(
                "einsum: operand '{}' has {} letters but the tensor has rank {}",
                l.iter().collect::<String>(),
                l.len(),
                x.rank()
            )));
        }
    }
    if xs.len() == 1 {
        let (x, l) = sum_out(&xs[0], &ins[0], &out)?;
        return permute_to(&x, &l, &out);
    }
    let (la, lb) = (&ins[0], &ins[1]);
    let keep_a: Vec<char> = la
        .iter()
        .copied()
        .filter(|c| out.contains(c) || lb.contains(c))
        .collect();
    let keep_b: Vec<char> = lb
        .iter()
        .copied()
        .filter(|c| out.contains(c) || la.contains(c))
        .collect();
    let (a, la) = sum_out(&xs[0], la, &keep_a)?;
    let (b, lb) = sum_out(&xs[1], lb, &keep_b)?;
    let batch: Vec<char> = la
        .iter()
        .copied()
        .filter(|c| lb.contains(c) && out.contains(c))
        .collect();
    let contr: Vec<char> = la
        .iter()
        .copied()
        .filter(|c| lb.contains(c) && !out.contains(c))
        .collect();
    let free_a: Vec<char> = la.iter().copied().filter(|c| !lb.contains(c)).collect();
    let free_b: Vec<char> = lb.iter().copied().filter(|c| !la.contains(c)).collect();
    let size = |l: &[char], x: &Tensor, cs: &[char]| -> Vec<usize> {
        cs.iter()
            .map(|c| x.dims()[l.iter().position(|x| x == c).unwrap_or(0)])
            .collect()
    };
    let (db, dc) = (size(&la, &a, &batch), size(&la, &a, &contr));
    let (dfa, dfb) = (size(&la, &a, &free_a), size(&lb, &b, &free_b));
    if size(&lb, &b, &batch) != db || size(&lb, &b, &contr) != dc {
        return Err(Error::shape(format!(
            "einsum: operands of shapes {:?} and {:?} do not fit '{subscripts}'",
            a.dims(),
            b.dims()
        )));
    }
    let order_a: Vec<char> = [batch.clone(), free_a.clone(), contr.clone()].concat();
    let order_b: Vec<char> = [batch.clone(), contr.clone(), free_b.clone()].concat();
    let a3 = permute_to(&a, &la, &order_a)?.reshape((prod(&db), prod(&dfa), prod(&dc)))?;
    let b3 = permute_to(&b, &lb, &order_b)?.reshape((prod(&db), prod(&dc), prod(&dfb)))?;
    let y = a3.matmul(&b3)?;
    let dims = [db, dfa, dfb].concat();
    let y = y.reshape(dims)?;
    let ly: Vec<char> = [batch, free_a, free_b].concat();
    permute_to(&y, &ly, &out)
}

fn einsum_op(subscripts: &str, n: usize) -> Op {
    let s = subscripts.to_string();
    Op::new(
        NUMPY,
        "Einsum",
        cfg(vec![("subscripts", Value::from(subscripts))]),
        vec![Arg::Tensor; n],
        move |xs| Ok(vec![einsum_eager(&s, xs)?]),
    )
}

/// Einstein summation (class `Einsum`) of one or two operands: each letter once per operand,
/// explicit (`"bij,bjk->bik"`) or implicit output, no `...` (an error names what is missing).
///
/// ```
/// use keras::ops::{self, Device, Tensor};
/// let a = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
/// assert_eq!(ops::einsum("ij->ji", &[&a])?.to_vec2::<f32>()?, vec![vec![1.0, 3.0], vec![2.0, 4.0]]);
/// assert_eq!(ops::einsum("ij,jk->ik", &[&a, &a])?.to_vec2::<f32>()?, vec![vec![7.0, 10.0], vec![15.0, 22.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn einsum<T: TensorLike>(subscripts: &str, operands: &[&T]) -> Result<T> {
    parse_einsum(subscripts, operands.len())?;
    apply1(einsum_op(subscripts, operands.len()), operands)
}

fn reshape_op(newshape: Vec<isize>) -> Op {
    Op::new(
        NUMPY,
        "Reshape",
        cfg(vec![("newshape", ints(&newshape))]),
        vec![Arg::Tensor],
        move |xs| {
            let x = &xs[0];
            let known: usize = newshape
                .iter()
                .filter(|&&d| d >= 0)
                .map(|&d| d as usize)
                .product();
            let unknown = newshape.iter().filter(|&&d| d < 0).count();
            let n = x.elem_count();
            let fits = if unknown == 0 {
                known == n
            } else {
                known > 0 && n % known == 0
            };
            if unknown > 1 || !fits {
                return Err(Error::value(format!(
                    "cannot reshape array of size {n} into shape {newshape:?}"
                )));
            }
            let dims: Vec<usize> = newshape
                .iter()
                .map(|&d| if d < 0 { n / known.max(1) } else { d as usize })
                .collect();
            Ok(vec![x.reshape(dims)?])
        },
    )
}

/// `x` with shape `newshape`, batch axis included; one entry may be `-1` (class `Reshape`).
pub fn reshape<T: TensorLike>(x: &T, newshape: &[isize]) -> Result<T> {
    apply1(reshape_op(newshape.to_vec()), &[x])
}

fn transpose_op(axes: Option<Vec<isize>>) -> Op {
    let v = axes.as_deref().map_or(Value::Null, ints);
    Op::new(
        NUMPY,
        "Transpose",
        cfg(vec![("axes", v)]),
        vec![Arg::Tensor],
        move |xs| {
            let x = &xs[0];
            let r = x.rank();
            let perm: Vec<usize> = match &axes {
                None => (0..r).rev().collect(),
                Some(a) => a
                    .iter()
                    .map(|&i| normalize_axis(i, r))
                    .collect::<Result<_>>()?,
            };
            Ok(vec![x.permute(perm)?])
        },
    )
}

/// `x` with its axes permuted (`None`: reversed), class `Transpose`.
pub fn transpose<T: TensorLike>(x: &T, axes: Option<&[isize]>) -> Result<T> {
    apply1(transpose_op(axes.map(<[isize]>::to_vec)), &[x])
}

fn expand_dims_op(axis: isize) -> Op {
    Op::new(
        NUMPY,
        "ExpandDims",
        cfg(vec![("axis", Value::from(axis as i64))]),
        vec![Arg::Tensor],
        move |xs| {
            let a = normalize_axis(axis, xs[0].rank() + 1)?;
            Ok(vec![xs[0].unsqueeze(a)?])
        },
    )
}

/// `x` with a new axis of size 1 at `axis` (class `ExpandDims`).
pub fn expand_dims<T: TensorLike>(x: &T, axis: isize) -> Result<T> {
    apply1(expand_dims_op(axis), &[x])
}

fn squeeze_op(axis: Option<isize>) -> Op {
    let v = axis.map_or(Value::Null, |a| Value::from(a as i64));
    Op::new(
        NUMPY,
        "Squeeze",
        cfg(vec![("axis", v)]),
        vec![Arg::Tensor],
        move |xs| {
            let x = &xs[0];
            let y = match axis {
                Some(a) => {
                    let a = normalize_axis(a, x.rank())?;
                    if x.dim(a)? != 1 {
                        return Err(Error::value(format!(
                            "Cannot squeeze axis {a}, because the dimension is not 1 (shape {:?})",
                            x.dims()
                        )));
                    }
                    x.squeeze(a)?
                }
                None => {
                    let dims: Vec<usize> = x.dims().iter().copied().filter(|&d| d != 1).collect();
                    x.reshape(dims)?
                }
            };
            Ok(vec![y])
        },
    )
}

/// `x` without the axis `axis` of size 1 (`None`: every axis of size 1), class `Squeeze`.
pub fn squeeze<T: TensorLike>(x: &T, axis: Option<isize>) -> Result<T> {
    apply1(squeeze_op(axis), &[x])
}

fn list_op(class: &str, n: usize, axis: isize, stack: bool) -> Op {
    Op::new(
        NUMPY,
        class,
        cfg(vec![("axis", Value::from(axis as i64))]),
        vec![Arg::List(vec![Arg::Tensor; n])],
        move |xs| {
            let first = xs
                .first()
                .ok_or_else(|| Error::value("need at least one tensor"))?;
            let y = if stack {
                Tensor::stack(xs, normalize_axis(axis, first.rank() + 1)?)?
            } else {
                Tensor::cat(xs, normalize_axis(axis, first.rank())?)?
            };
            Ok(vec![y])
        },
    )
}

/// `xs` joined along `axis` (class `Concatenate`).
///
/// ```
/// use keras::ops::{self, Device, Tensor};
/// let a = Tensor::new(&[[1f32]], &Device::Cpu)?;
/// assert_eq!(ops::concatenate(&[a.clone(), a], -1)?.to_vec2::<f32>()?, vec![vec![1.0, 1.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn concatenate<T: TensorLike>(xs: &[T], axis: isize) -> Result<T> {
    let refs: Vec<&T> = xs.iter().collect();
    if refs.is_empty() {
        return Err(Error::value("concatenate: no inputs"));
    }
    apply1(list_op("Concatenate", xs.len(), axis, false), &refs)
}

/// `xs` stacked along a new axis `axis` (class `Stack`).
pub fn stack<T: TensorLike>(xs: &[T], axis: isize) -> Result<T> {
    let refs: Vec<&T> = xs.iter().collect();
    if refs.is_empty() {
        return Err(Error::value("stack: no inputs"));
    }
    apply1(list_op("Stack", xs.len(), axis, true), &refs)
}

/// How `split` cuts: into equal sections, or at these indices.
#[derive(Clone, Debug, PartialEq)]
pub enum Sections {
    /// This many equal parts.
    Equal(usize),
    /// Cut before each of these indices.
    At(Vec<usize>),
}

fn split_op(sections: Sections, axis: isize) -> Op {
    let v = match &sections {
        Sections::Equal(n) => Value::from(*n as u64),
        Sections::At(i) => Value::from(i.iter().map(|&x| x as u64).collect::<Vec<_>>()),
    };
    Op::new(
        NUMPY,
        "Split",
        cfg(vec![
            ("indices_or_sections", v),
            ("axis", Value::from(axis as i64)),
        ]),
        vec![Arg::Tensor],
        move |xs| {
            let x = &xs[0];
            let a = normalize_axis(axis, x.rank())?;
            let n = x.dim(a)?;
            let cuts: Vec<usize> = match &sections {
                Sections::Equal(k) => {
                    if *k == 0 || n % k != 0 {
                        return Err(Error::value(format!(
                            "array split does not result in an equal division: {n} into {k}"
                        )));
                    }
                    (1..*k).map(|i| i * n / k).collect()
                }
                Sections::At(i) => i.clone(),
            };
            let mut bounds = vec![0];
            bounds.extend(cuts.iter().map(|&c| c.min(n)));
            bounds.push(n);
            bounds
                .windows(2)
                .map(|w| Ok(x.narrow(a, w[0], w[1].saturating_sub(w[0]))?))
                .collect()
        },
    )
}

/// `x` cut along `axis` (class `Split`), one output per part.
pub fn split<T: TensorLike>(x: &T, sections: Sections, axis: isize) -> Result<Vec<T>> {
    T::apply_op(split_op(sections, axis), &[x])
}

/// Registers the shape ops' classes.
pub(crate) fn register(r: &mut Builtins<Op>) {
    let axis = |c: &crate::serialization::Cfg| c.isize_or("axis", 0);
    r.add("Matmul", |_| Ok(matmul_op()));
    r.add("Einsum", |c| {
        let n = super::operation::template_from(c).len().max(1);
        Ok(einsum_op(c.str_or("subscripts", "")?, n))
    });
    r.add("Reshape", |c| Ok(reshape_op(c.isizes("newshape")?)));
    r.add("Transpose", |c| {
        Ok(transpose_op(match c.get("axes") {
            None | Some(Value::Null) => None,
            _ => Some(c.isizes("axes")?),
        }))
    });
    r.add("ExpandDims", move |c| Ok(expand_dims_op(axis(c)?)));
    r.add("Squeeze", |c| {
        Ok(squeeze_op(
            c.get("axis").and_then(Value::as_i64).map(|a| a as isize),
        ))
    });
    r.add("Concatenate", move |c| {
        Ok(list_op("Concatenate", list_len(c), axis(c)?, false))
    });
    r.add("Stack", move |c| {
        Ok(list_op("Stack", list_len(c), axis(c)?, true))
    });
    r.add("Split", |c| {
        let s = match c.get("indices_or_sections") {
            Some(Value::Array(_)) => Sections::At(c.usizes("indices_or_sections")?),
            _ => Sections::Equal(c.usize("indices_or_sections")?),
        };
        Ok(split_op(s, c.isize_or("axis", 0)?))
    });
}

/// The number of tensors in a saved node's first (list) argument.
fn list_len(c: &crate::serialization::Cfg) -> usize {
    match super::operation::template_from(c).first() {
        Some(Arg::List(l)) => l.len(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    fn arange(dims: &[usize]) -> Tensor {
        let n: usize = dims.iter().product();
        Tensor::arange(0f32, n as f32, &Device::Cpu)
            .unwrap()
            .reshape(dims)
            .unwrap()
    }

    #[test]
    fn einsum_matches_matmul_and_transposes() {
        let a = arange(&[2, 3, 4]);
        let b = arange(&[2, 5, 4]);
        let e = einsum("bij,bkj->bik", &[&a, &b]).unwrap();
        let m = matmul(&a, &transpose(&b, Some(&[0, 2, 1])).unwrap()).unwrap();
        assert_eq!(e.to_vec3::<f32>().unwrap(), m.to_vec3::<f32>().unwrap());
        let s = einsum("ij->", &[&arange(&[2, 2])]).unwrap();
        assert_eq!(s.to_scalar::<f32>().unwrap(), 6.0);
        assert!(einsum("...ij->ij", &[&a]).is_err());
        assert!(einsum("ii->i", &[&arange(&[2, 2])]).is_err());
    }

    #[test]
    fn split_stack_squeeze_reshape() {
        let x = arange(&[2, 4]);
        let parts = split(&x, Sections::Equal(2), -1).unwrap();
        assert_eq!(
            parts[1].to_vec2::<f32>().unwrap(),
            vec![vec![2.0, 3.0], vec![6.0, 7.0]]
        );
        let parts = split(&x, Sections::At(vec![1, 3]), 1).unwrap();
        assert_eq!(
            parts.iter().map(|p| p.dims()[1]).collect::<Vec<_>>(),
            vec![1, 2, 1]
        );
        assert!(split(&x, Sections::Equal(3), 1).is_err());
        let s = stack(&[x.clone(), x.clone()], 1).unwrap();
        assert_eq!(s.dims(), &[2, 2, 4]);
        let e = expand_dims(&x, 1).unwrap();
        assert_eq!(squeeze(&e, Some(1)).unwrap().dims(), &[2, 4]);
        assert!(squeeze(&x, Some(0)).is_err());
        assert_eq!(reshape(&x, &[4, -1]).unwrap().dims(), &[4, 2]);
        assert!(reshape(&x, &[3, -1]).is_err());
        let z = Tensor::zeros((2, 1, 3), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(squeeze(&z, None).unwrap().dims(), &[2, 3]);
    }
}
