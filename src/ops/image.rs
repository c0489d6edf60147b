//! Image resampling, as Keras-JAX's `keras.ops.image`: `resize` (JAX's `jax.image.resize`:
//! half-pixel centres, a weight matrix per spatial axis) and `affine_transform` (JAX's
//! `scipy.ndimage.map_coordinates` at each output pixel's inverse-mapped input position).
//!
//! Images are `channels_last`: `(batch, height, width, channels)` or one `(height, width,
//! channels)` image. The kernels are plain loops over the pixels in float32, in the order
//! JAX computes them, so the results equal Keras-JAX's to float32 rounding.
//!
//! ```
//! use keras::ops::{image, Tensor, Device};
//! let x = Tensor::new(&[[[0f32], [1.0]], [[2.0], [3.0]]], &Device::Cpu)?; // (2, 2, 1)
//! let y = image::resize(&x, 4, 4, image::Interpolation::Bilinear, false)?;
//! assert_eq!(y.dims(), &[4, 4, 1]);
//! let v = y.flatten_all()?.to_vec1::<f32>()?;
//! assert_eq!(&v[..4], &[0.0, 0.25, 0.75, 1.0]);
//! # Ok::<(), keras::Error>(())
//! ```

use super::{DType, Tensor};
use crate::{Error, Result};

/// How pixels between the input's samples are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// The nearest input pixel.
    Nearest,
    /// Linear in each axis (a triangle kernel).
    Bilinear,
    /// Keys cubic kernel (`"bicubic"`; resize only).
    Bicubic,
    /// Lanczos kernel of radius 3 (resize only).
    Lanczos3,
    /// Lanczos kernel of radius 5 (resize only).
    Lanczos5,
}

impl Interpolation {
    /// The interpolation Keras names `name`.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "nearest" => Interpolation::Nearest,
            "bilinear" => Interpolation::Bilinear,
            "bicubic" => Interpolation::Bicubic,
            "lanczos3" => Interpolation::Lanczos3,
            "lanczos5" => Interpolation::Lanczos5,
            other => {
                return Err(Error::value(format!(
                    "Invalid value for argument `interpolation`. Expected of one \
                     ('bilinear', 'nearest', 'lanczos3', 'lanczos5', 'bicubic'). \
                     Received: interpolation={other}"
                )))
            }
        })
    }

    /// Keras's name of the interpolation.
    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Nearest => "nearest",
            Interpolation::Bilinear => "bilinear",
            Interpolation::Bicubic => "bicubic",
            Interpolation::Lanczos3 => "lanczos3",
            Interpolation::Lanczos5 => "lanczos5",
        }
    }
}

/// How `affine_transform` fills points outside the input image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillMode {
    /// With `fill_value`.
    Constant,
    /// With the nearest edge pixel (`aaaa|abcd|dddd`).
    Nearest,
    /// By wrapping around (`abcd|abcd|abcd`).
    Wrap,
    /// By mirroring about the edge pixel's centre (`dcb|abcd|cba`).
    Mirror,
    /// By reflecting about the edge (`dcba|abcd|dcba`).
    Reflect,
}

impl FillMode {
    /// The fill mode Keras names `name`.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "constant" => FillMode::Constant,
            "nearest" => FillMode::Nearest,
            "wrap" => FillMode::Wrap,
            "mirror" => FillMode::Mirror,
            "reflect" => FillMode::Reflect,
            other => {
                return Err(Error::value(format!(
                    "Invalid value for argument `fill_mode`. Expected of one \
                     {{'constant', 'nearest', 'wrap', 'mirror', 'reflect'}}. \
                     Received: fill_mode={other}"
                )))
            }
        })
    }

    /// Keras's name of the fill mode.
    pub fn name(self) -> &'static str {
        match self {
            FillMode::Constant => "constant",
            FillMode::Nearest => "nearest",
            FillMode::Wrap => "wrap",
            FillMode::Mirror => "mirror",
            FillMode::Reflect => "reflect",
        }
    }

    /// The in-range index JAX reads for `index` on an axis of `size` (its `_INDEX_FIXERS`).
    fn fix(self, index: i64, size: i64) -> i64 {
        match self {
            FillMode::Constant => index,
            FillMode::Nearest => index.clamp(0, size - 1),
            FillMode::Wrap => index.rem_euclid(size),
            FillMode::Mirror => mirror(index, size),
            FillMode::Reflect => (mirror(2 * index + 1, 2 * size + 1) - 1).div_euclid(2),
        }
    }
}

/// JAX's `_mirror_index_fixer`: a triangular wave of half-period `size - 1`.
fn mirror(index: i64, size: i64) -> i64 {
    let s = size - 1;
    if s == 0 {
        return 0;
    }
    ((index + s).rem_euclid(2 * s) - s).abs()
}

/// An image batch as float32 data with its geometry; `batched` says whether the caller gave
/// a batch axis.
pub(crate) struct Images {
    pub data: Vec<f32>,
    pub b: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub batched: bool,
}

impl Images {
    /// Reads a rank-3 or rank-4 `channels_last` tensor.
    pub fn read(x: &Tensor, op: &str) -> Result<Self> {
        let (b, h, w, c, batched) = match *x.dims() {
            [b, h, w, c] => (b, h, w, c, true),
            [h, w, c] => (1, h, w, c, false),
            _ => {
                return Err(Error::value(format!(
                    "{op}: Invalid images rank: expected rank 3 (single image) or rank 4 (batch \
                     of images). Received input with shape: images.shape={:?}",
                    x.dims()
                )))
            }
        };
        Ok(Images {
            data: super::to_vec_f32(x)?,
            b,
            h,
            w,
            c,
            batched,
        })
    }

    /// The tensor of `data` laid out as `(b, h, w, c)` (without the batch axis when the input
    /// had none), on `like`'s device, in float32.
    pub fn tensor(self, like: &Tensor) -> Result<Tensor> {
        let dims: Vec<usize> = if self.batched {
            vec![self.b, self.h, self.w, self.c]
        } else {
            vec![self.h, self.w, self.c]
        };
        Ok(super::from_vec(self.data, &dims)?.to_device(like.device())?)
    }
}

/// One axis of JAX's `compute_weight_mat`: for each output index, the input indices and their
/// (normalized) weights.
fn weight_mat(
    m: usize,
    n: usize,
    interpolation: Interpolation,
    antialias: bool,
) -> Vec<Vec<(usize, f32)>> {
    let scale = (n as f64 / m as f64) as f32;
    let inv_scale = 1.0f32 / scale;
    let kernel_scale = if antialias { inv_scale.max(1.0) } else { 1.0 };
    let kernel = |x: f32| -> f32 {
        match interpolation {
            Interpolation::Bicubic => {
                if x >= 2.0 {
                    0.0
                } else if x >= 1.0 {
                    ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
                } else {
                    ((1.5 * x - 2.5) * x) * x + 1.0
                }
            }
            Interpolation::Lanczos3 | Interpolation::Lanczos5 => {
                let r = if interpolation == Interpolation::Lanczos3 {
                    3.0f32
                } else {
                    5.0
                };
                let pi = std::f32::consts::PI;
                if x > r {
                    0.0
                } else if x > 1e-3 {
                    let y = r * (pi * x).sin() * (pi * x / r).sin();
                    y / (pi * pi * x * x)
                } else {
                    1.0
                }
            }
            _ => (1.0 - x.abs()).max(0.0),
        }
    };
    let eps = 1000.0 * f32::EPSILON;
    (0..n)
        .map(|j| {
            let sample = (j as f32 + 0.5) * inv_scale - 0.0 * inv_scale - 0.5;
            if !(sample >= -0.5 && sample <= m as f32 - 0.5) {
                return vec![];
            }
            let w: Vec<(usize, f32)> = (0..m)
                .map(|i| (i, kernel((sample - i as f32).abs() / kernel_scale)))
                .filter(|&(_, w)| w != 0.0)
                .collect();
            let total: f32 = w.iter().map(|&(_, w)| w).sum();
            if total.abs() > eps {
                w.into_iter().map(|(i, w)| (i, w / total)).collect()
            } else {
                vec![]
            }
        })
        .collect()
}

/// Resamples the rows (`axis` 1) or columns (`axis` 2) of a `(b, h, w, c)` batch to `n`.
fn resample_axis(img: &Images, axis: usize, n: usize, weights: &[Vec<(usize, f32)>]) -> Images {
    let (b, h, w, c) = (img.b, img.h, img.w, img.c);
    let (oh, ow) = if axis == 1 { (n, w) } else { (h, n) };
    let mut out = vec![0f32; b * oh * ow * c];
    for bi in 0..b {
        for y in 0..oh {
            for x in 0..ow {
                let o = ((bi * oh + y) * ow + x) * c;
                let taps = if axis == 1 { &weights[y] } else { &weights[x] };
                for &(i, wt) in taps {
                    let (sy, sx) = if axis == 1 { (i, x) } else { (y, i) };
                    let s = ((bi * h + sy) * w + sx) * c;
                    for ch in 0..c {
                        out[o + ch] += wt * img.data[s + ch];
                    }
                }
            }
        }
    }
    Images {
        data: out,
        b,
        h: oh,
        w: ow,
        c,
        batched: img.batched,
    }
}

/// JAX's `_resize_nearest` along one axis: output `j` reads input `floor((j + 0.5) * m / n)`.
fn nearest_indices(m: usize, n: usize) -> Vec<usize> {
    (0..n)
        .map(|j| {
            let f = ((j as f32 + 0.5) * m as f32) / n as f32;
            (f.floor() as usize).min(m.saturating_sub(1))
        })
        .collect()
}

/// Resizes images to `(height, width)` as `jax.image.resize` (Keras-JAX's
/// `keras.ops.image.resize` without cropping or padding): half-pixel centres; `antialias`
/// widens the kernel when downsampling. The result is float32.
///
/// ```
/// use keras::ops::{image, Tensor, Device};
/// let x = Tensor::arange(0f32, 16.0, &Device::Cpu)?.reshape((1, 4, 4, 1))?;
/// let y = image::resize(&x, 2, 2, image::Interpolation::Nearest, false)?;
/// assert_eq!(y.flatten_all()?.to_vec1::<f32>()?, vec![5.0, 7.0, 13.0, 15.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn resize(
    images: &Tensor,
    height: usize,
    width: usize,
    interpolation: Interpolation,
    antialias: bool,
) -> Result<Tensor> {
    let mut img = Images::read(images, "resize")?;
    if height == 0 || width == 0 {
        return Err(Error::value(format!(
            "resize: the target size must be positive. Received: size=({height}, {width})"
        )));
    }
    if img.h == 0 || img.w == 0 {
        return Err(Error::value(format!(
            "resize: cannot resize an empty image of shape {:?}",
            images.dims()
        )));
    }
    if interpolation == Interpolation::Nearest {
        let rows = nearest_indices(img.h, height);
        let cols = nearest_indices(img.w, width);
        let (b, c) = (img.b, img.c);
        let mut out = Vec::with_capacity(b * height * width * c);
        for bi in 0..b {
            for &r in &rows {
                for &q in &cols {
                    let s = ((bi * img.h + r) * img.w + q) * c;
                    out.extend_from_slice(&img.data[s..s + c]);
                }
            }
        }
        img = Images {
            data: out,
            b,
            h: height,
            w: width,
            c,
            batched: img.batched,
        };
        return img.tensor(images);
    }
    if img.h != height {
        let wm = weight_mat(img.h, height, interpolation, antialias);
        img = resample_axis(&img, 1, height, &wm);
    }
    if img.w != width {
        let wm = weight_mat(img.w, width, interpolation, antialias);
        img = resample_axis(&img, 2, width, &wm);
    }
    img.tensor(images)
}

/// Keras's projective transform `[a0, a1, a2, b0, b1, b2, c0, c1]`: output pixel `(x, y)`
/// reads the input at `(a0 x + a1 y + a2, b0 x + b1 y + b2)` (Keras-JAX ignores `c0, c1`'s
/// division; they are 0 in every Keras layer).
pub type Transform = [f32; 8];

/// Applies one transform per image (or one for all) as Keras-JAX's
/// `keras.ops.image.affine_transform`: `interpolation` nearest or bilinear, points outside
/// the input filled by `fill_mode` (with `fill_value` for `Constant`). The result is float32.
///
/// ```
/// use keras::ops::{image, Tensor, Device};
/// let x = Tensor::arange(0f32, 9.0, &Device::Cpu)?.reshape((3, 3, 1))?;
/// // Shift right by one pixel: output x reads input x - 1.
/// let t = [1.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0];
/// let y = image::affine_transform(&x, &[t], image::Interpolation::Nearest, image::FillMode::Constant, 0.0)?;
/// assert_eq!(y.flatten_all()?.to_vec1::<f32>()?, vec![0.0, 0.0, 1.0, 0.0, 3.0, 4.0, 0.0, 6.0, 7.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn affine_transform(
    images: &Tensor,
    transforms: &[Transform],
    interpolation: Interpolation,
    fill_mode: FillMode,
    fill_value: f64,
) -> Result<Tensor> {
    let img = Images::read(images, "affine_transform")?;
    if !matches!(
        interpolation,
        Interpolation::Nearest | Interpolation::Bilinear
    ) {
        return Err(Error::value(format!(
            "Invalid value for argument `interpolation`. Expected of one {{'nearest', \
             'bilinear'}}. Received: interpolation={}",
            interpolation.name()
        )));
    }
    if transforms.len() != 1 && transforms.len() != img.b {
        return Err(Error::value(format!(
            "affine_transform: {} transforms for a batch of {} images",
            transforms.len(),
            img.b
        )));
    }
    let (b, h, w, c) = (img.b, img.h, img.w, img.c);
    let cval = fill_value as f32;
    let mut out = vec![0f32; img.data.len()];
    let (hi, wi) = (h as i64, w as i64);
    let read = |bi: usize, r: i64, q: i64, ch: usize| -> f32 {
        let valid = fill_mode != FillMode::Constant || (0..hi).contains(&r) && (0..wi).contains(&q);
        if !valid {
            return cval;
        }
        let r = fill_mode.fix(r, hi).clamp(0, hi - 1) as usize;
        let q = fill_mode.fix(q, wi).clamp(0, wi - 1) as usize;
        img.data[((bi * h + r) * w + q) * c + ch]
    };
    for bi in 0..b {
        let t = transforms[if transforms.len() == 1 { 0 } else { bi }];
        let [a0, a1, a2, b0, b1, b2, c0, c1] = t;
        for r in 0..h {
            for q in 0..w {
                let o = ((bi * h + r) * w + q) * c;
                for ch in 0..c {
                    let (rf, qf, cf) = (r as f32, q as f32, ch as f32);
                    // JAX's einsum of the (row, col, channel) indices with the swapped matrix.
                    let y = rf * b1 + qf * b0 + cf * c0 + b2;
                    let x = rf * a1 + qf * a0 + cf * c1 + a2;
                    out[o + ch] = if interpolation == Interpolation::Nearest {
                        read(bi, round_away(y), round_away(x), ch)
                    } else {
                        let (y0, x0) = (y.floor(), x.floor());
                        let (wy1, wx1) = (y - y0, x - x0);
                        let (wy0, wx0) = (1.0 - wy1, 1.0 - wx1);
                        let (yi, xi) = (to_index(y0), to_index(x0));
                        let mut acc = (wy0 * wx0) * read(bi, yi, xi, ch);
                        acc += (wy0 * wx1) * read(bi, yi, xi + 1, ch);
                        acc += (wy1 * wx0) * read(bi, yi + 1, xi, ch);
                        acc += (wy1 * wx1) * read(bi, yi + 1, xi + 1, ch);
                        acc
                    };
                }
            }
        }
    }
    Images { data: out, ..img }.tensor(images)
}

/// `lax.round` (half away from zero) as an index.
fn to_index(v: f32) -> i64 {
    if v.is_nan() {
        return i64::MIN / 4;
    }
    (v as i32) as i64
}

fn round_away(v: f32) -> i64 {
    to_index(v.round())
}

/// Crops `(b, h, w, c)` or `(h, w, c)` images to rows `top..top + height` and columns
/// `left..left + width`, clipped to the image as Python slicing does.
pub fn crop(
    images: &Tensor,
    top: usize,
    left: usize,
    height: usize,
    width: usize,
) -> Result<Tensor> {
    let r = images.rank();
    if r != 3 && r != 4 {
        return Err(Error::value(format!(
            "crop: expected rank 3 or 4 images. Received: images.shape={:?}",
            images.dims()
        )));
    }
    let (ha, wa) = (r - 3, r - 2);
    let (h, w) = (images.dim(ha)?, images.dim(wa)?);
    let (t, l) = (top.min(h), left.min(w));
    let (nh, nw) = ((t + height).min(h) - t, (l + width).min(w) - l);
    Ok(images.narrow(ha, t, nh)?.narrow(wa, l, nw)?)
}

/// Rounds and clips float results back into an integer dtype (Keras's `_saturate_cast`
/// after a resize of integer images); float dtypes are cast as they are.
pub fn saturate_cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    let (lo, hi) = match dtype {
        DType::U8 => (0.0, 255.0),
        DType::U32 => (0.0, u32::MAX as f64),
        DType::I16 => (i16::MIN as f64, i16::MAX as f64),
        DType::I32 => (i32::MIN as f64, i32::MAX as f64),
        DType::I64 => (i64::MIN as f64, i64::MAX as f64),
        _ => return super::cast(x, dtype),
    };
    let v: Vec<f64> = super::to_vec_f64(x)?
        .into_iter()
        .map(|v| v.round().clamp(lo, hi))
        .collect();
    Ok(super::from_vec(v, x.dims())?
        .to_dtype(dtype)?
        .to_device(x.device())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{to_vec_f32, Device};

    fn img(h: usize, w: usize) -> Tensor {
        Tensor::arange(0f32, (h * w) as f32, &Device::Cpu)
            .unwrap()
            .reshape((1, h, w, 1))
            .unwrap()
    }

    #[test]
    fn index_fixers_follow_jax() {
        let f = |m: FillMode| (-5..9).map(|i| m.fix(i, 4)).collect::<Vec<_>>();
        assert_eq!(
            f(FillMode::Wrap),
            [3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0]
        );
        assert_eq!(
            f(FillMode::Nearest),
            [0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3]
        );
        // reflect: dcba|abcd|dcba
        assert_eq!(
            f(FillMode::Reflect),
            [3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0]
        );
        // mirror: dcb|abcd|cba
        assert_eq!(
            f(FillMode::Mirror),
            [1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]
        );
    }

    #[test]
    fn identity_transform_and_same_size_resize_change_nothing() {
        let x = img(3, 5);
        let id = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        for i in [Interpolation::Nearest, Interpolation::Bilinear] {
            let y = affine_transform(&x, &[id], i, FillMode::Reflect, 0.0).unwrap();
            assert_eq!(to_vec_f32(&y).unwrap(), to_vec_f32(&x).unwrap());
            let y = resize(&x, 3, 5, i, false).unwrap();
            assert_eq!(to_vec_f32(&y).unwrap(), to_vec_f32(&x).unwrap());
        }
    }

    #[test]
    fn bilinear_downsampling_averages_neighbours() {
        let y = resize(&img(4, 4), 2, 2, Interpolation::Bilinear, false).unwrap();
        assert_eq!(to_vec_f32(&y).unwrap(), vec![2.5, 4.5, 10.5, 12.5]);
        let e = resize(
            &Tensor::zeros((2, 2), DType::F32, &Device::Cpu).unwrap(),
            1,
            1,
            Interpolation::Bilinear,
            false,
        );
        assert!(e.unwrap_err().to_string().contains("rank 3"));
    }

    #[test]
    fn crop_clips_like_slicing() {
        let y = crop(&img(4, 4), 1, 2, 5, 5).unwrap();
        assert_eq!(y.dims(), &[1, 3, 2, 1]);
    }
}
