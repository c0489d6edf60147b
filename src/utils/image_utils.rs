//! Image decoding and resizing as Keras's TensorFlow image pipeline does it
//! (`tf.image.decode_image` then `tf.image.resize` / `smart_resize` / `resize_with_pad`),
//! for `image_dataset_from_directory`; [`smart_resize`] is public.
//!
//! Decoding (the `image` crate: PNG, JPEG, BMP, GIF) follows TensorFlow's channel rules: gray
//! is replicated to RGB, alpha is dropped for RGB and added as 255 for RGBA, 16-bit samples
//! keep their high byte, RGB becomes gray with libpng's `png_set_rgb_to_gray` weights
//! (0.299, 0.587, 0.114 in 1/32768 fixed point), a GIF gives its first frame. Differences
//! from TensorFlow: JPEG pixels come from `jpeg-decoder` rather than libjpeg-turbo (up to 3
//! levels apart in the test fixture; grayscale JPEG is made from the decoded RGB, within 1 of
//! libjpeg's luma); TensorFlow refuses BMP and GIF as grayscale and GIF or JPEG as RGBA,
//! keras-rs converts them. PNG, BMP and GIF pixels equal TensorFlow's after resizing (the
//! fixture's largest difference is 0).
//!
//! Resizing is TensorFlow's (`half_pixel_centers`, no antialiasing) in float32, computed as
//! its kernels compute it: `"bilinear"` and `"nearest"` are TensorFlow's own;
//! `"bicubic"`, `"lanczos3"` and `"lanczos5"` use [`crate::ops::image::resize`] (the
//! scale-and-translate kernels JAX and TensorFlow share). `"area"`, `"gaussian"` and
//! `"mitchellcubic"` are not implemented.

use crate::ops::{self, image::Interpolation, Tensor};
use crate::{Error, Result};
use std::path::Path;

/// The interpolations Keras's image utilities accept, in Keras's order.
pub(crate) const SUPPORTED_INTERPOLATIONS: [&str; 8] = [
    "bilinear",
    "nearest",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
];

/// A resampling method of `tf.image.resize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resample {
    Bilinear,
    Nearest,
    Kernel(Interpolation),
}

impl Resample {
    /// The method Keras names `name` (lower-cased first, as Keras does); Keras's error for an
    /// unknown name, keras-rs's for the three it does not implement.
    pub fn parse(name: &str) -> Result<Self> {
        let name = name.to_lowercase();
        Ok(match name.as_str() {
            "bilinear" => Resample::Bilinear,
            "nearest" => Resample::Nearest,
            "bicubic" => Resample::Kernel(Interpolation::Bicubic),
            "lanczos3" => Resample::Kernel(Interpolation::Lanczos3),
            "lanczos5" => Resample::Kernel(Interpolation::Lanczos5),
            "area" | "gaussian" | "mitchellcubic" => {
                return Err(Error::value(format!(
                    "interpolation={name} is not implemented in keras-rs; use one of \
                     'bilinear', 'nearest', 'bicubic', 'lanczos3', 'lanczos5'"
                )))
            }
            _ => {
                let names: Vec<String> = SUPPORTED_INTERPOLATIONS
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect();
                return Err(Error::value(format!(
                    "Argument `interpolation` should be one of ({}). Received: \
                     interpolation={name}",
                    names.join(", ")
                )));
            }
        })
    }
}

/// One image, channels last, float32 samples.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Image {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub data: Vec<f32>,
}

impl Image {
    fn at(&self, y: usize, x: usize, ch: usize) -> f32 {
        self.data[(y * self.w + x) * self.c + ch]
    }

    /// As a `(h, w, c)` float32 tensor.
    pub fn into_tensor(self) -> Result<Tensor> {
        ops::from_vec(self.data, &[self.h, self.w, self.c])
    }

    /// Rows `top..top + h`, columns `left..left + w`.
    pub fn crop(&self, top: usize, left: usize, h: usize, w: usize) -> Image {
        let mut data = Vec::with_capacity(h * w * self.c);
        for y in top..top + h {
            let row = (y * self.w + left) * self.c;
            data.extend_from_slice(&self.data[row..row + w * self.c]);
        }
        Image {
            h,
            w,
            c: self.c,
            data,
        }
    }
}

/// Decodes an image file's bytes (format from its content, as `tf.image.decode_image`) to
/// `channels` (1, 3 or 4) 8-bit channels, as float32.
pub(crate) fn decode_image(bytes: &[u8], channels: usize) -> std::result::Result<Image, String> {
    use image::DynamicImage as D;
    let img = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    // Source samples as 8-bit gray / gray+alpha / rgb / rgba, 16-bit by their high byte.
    let (src_c, src): (usize, Vec<u8>) = match img {
        D::ImageLuma8(b) => (1, b.into_raw()),
        D::ImageLumaA8(b) => (2, b.into_raw()),
        D::ImageRgb8(b) => (3, b.into_raw()),
        D::ImageRgba8(b) => (4, b.into_raw()),
        D::ImageLuma16(b) => (1, high_bytes(b.as_raw())),
        D::ImageLumaA16(b) => (2, high_bytes(b.as_raw())),
        D::ImageRgb16(b) => (3, high_bytes(b.as_raw())),
        D::ImageRgba16(b) => (4, high_bytes(b.as_raw())),
        other => (4, other.to_rgba8().into_raw()),
    };
    let mut data = Vec::with_capacity(h * w * channels);
    for px in src.chunks_exact(src_c) {
        let (gray, rgb, alpha) = match src_c {
            1 => (px[0], [px[0]; 3], 255),
            2 => (px[0], [px[0]; 3], px[1]),
            3 => (to_gray(px), [px[0], px[1], px[2]], 255),
            _ => (to_gray(px), [px[0], px[1], px[2]], px[3]),
        };
        match channels {
            1 => data.push(gray as f32),
            3 => data.extend(rgb.iter().map(|&v| v as f32)),
            _ => {
                data.extend(rgb.iter().map(|&v| v as f32));
                data.push(alpha as f32);
            }
        }
    }
    Ok(Image {
        h,
        w,
        c: channels,
        data,
    })
}

fn high_bytes(v: &[u16]) -> Vec<u8> {
    v.iter().map(|&s| (s >> 8) as u8).collect()
}

/// libpng's `png_do_rgb_to_gray` for 8-bit samples with TensorFlow's weights
/// (`png_set_rgb_to_gray(png, 1, 0.299, 0.587)`).
fn to_gray(px: &[u8]) -> u8 {
    const RC: u32 = 29_900 * 32_768 / 100_000;
    const GC: u32 = 58_700 * 32_768 / 100_000;
    const BC: u32 = 32_768 - RC - GC;
    let (r, g, b) = (px[0] as u32, px[1] as u32, px[2] as u32);
    if r == g && r == b {
        return px[0];
    }
    ((RC * r + GC * g + BC * b) >> 15) as u8
}

/// Reads and decodes the image at `path`; the error names the file.
pub(crate) fn load_image(path: &Path, channels: usize) -> Result<Image> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::io(format!("cannot read image {}", path.display()), e))?;
    decode_image(&bytes, channels).map_err(|e| {
        Error::format(format!(
            "Could not decode the image file {}: {e}",
            path.display()
        ))
    })
}

/// TensorFlow's resize scale `in / out` (float32, no `align_corners`).
fn scale(input: usize, output: usize) -> f32 {
    input as f32 / output as f32
}

/// `tf.image.resize(img, (h, w), method)` (TF 2: half-pixel centres, no antialiasing).
pub(crate) fn resize(img: &Image, h: usize, w: usize, method: Resample) -> Result<Image> {
    if h == 0 || w == 0 || img.h == 0 || img.w == 0 {
        return Err(Error::value(format!(
            "resize: cannot resize an image of shape ({}, {}, {}) to ({h}, {w})",
            img.h, img.w, img.c
        )));
    }
    let c = img.c;
    let mut data = vec![0f32; h * w * c];
    match method {
        Resample::Bilinear => {
            let ys = lerp_weights(img.h, h);
            let xs = lerp_weights(img.w, w);
            for (oy, &(y0, y1, yl)) in ys.iter().enumerate() {
                for (ox, &(x0, x1, xl)) in xs.iter().enumerate() {
                    for ch in 0..c {
                        let (tl, tr) = (img.at(y0, x0, ch), img.at(y0, x1, ch));
                        let (bl, br) = (img.at(y1, x0, ch), img.at(y1, x1, ch));
                        let top = tl + (tr - tl) * xl;
                        let bottom = bl + (br - bl) * xl;
                        data[(oy * w + ox) * c + ch] = top + (bottom - top) * yl;
                    }
                }
            }
        }
        Resample::Nearest => {
            let near = |input: usize, output: usize| -> Vec<usize> {
                let s = scale(input, output);
                (0..output)
                    .map(|i| (((i as f32 + 0.5) * s).floor() as usize).min(input - 1))
                    .collect()
            };
            let (ys, xs) = (near(img.h, h), near(img.w, w));
            for (oy, &y) in ys.iter().enumerate() {
                for (ox, &x) in xs.iter().enumerate() {
                    let src = (y * img.w + x) * c;
                    let dst = (oy * w + ox) * c;
                    data[dst..dst + c].copy_from_slice(&img.data[src..src + c]);
                }
            }
        }
        Resample::Kernel(interp) => {
            let t = Tensor::from_vec(img.data.clone(), (img.h, img.w, c), &ops::Device::Cpu)?;
            let out = ops::image::resize(&t, h, w, interp, false)?;
            data = ops::to_vec_f32(&out)?;
        }
    }
    Ok(Image { h, w, c, data })
}

/// TensorFlow's `compute_interpolation_weights` with the half-pixel scaler:
/// `(lower, upper, lerp)` per output index.
fn lerp_weights(input: usize, output: usize) -> Vec<(usize, usize, f32)> {
    let s = scale(input, output);
    (0..output)
        .map(|i| {
            let x = (i as f32 + 0.5) * s - 0.5;
            let f = x.floor();
            let lower = (f.max(0.0)) as usize;
            let upper = (x.ceil().max(0.0) as usize).min(input - 1);
            (lower.min(input - 1), upper, x - f)
        })
        .collect()
}

/// Keras's `smart_resize` on one image: the largest centred crop of the target's aspect
/// ratio, then [`resize`] (the float32 arithmetic of its TensorFlow graph).
pub(crate) fn crop_and_resize(img: &Image, h: usize, w: usize, method: Resample) -> Result<Image> {
    let (ih, iw) = (img.h as f32, img.w as f32);
    let crop_h = ((iw * h as f32) / w as f32) as usize;
    let crop_h = crop_h.min(img.h).max(1);
    let crop_w = ((ih * w as f32) / h as f32) as usize;
    let crop_w = crop_w.min(img.w).max(1);
    let top = ((img.h - crop_h) as f32 / 2.0) as usize;
    let left = ((img.w - crop_w) as f32 / 2.0) as usize;
    resize(&img.crop(top, left, crop_h, crop_w), h, w, method)
}

/// `tf.image.resize_with_pad`: resized to fit inside `(h, w)` keeping the aspect ratio, then
/// centred on zeros.
pub(crate) fn resize_with_pad(img: &Image, h: usize, w: usize, method: Resample) -> Result<Image> {
    let (fh, fw, th, tw) = (img.h as f32, img.w as f32, h as f32, w as f32);
    let ratio = (fw / tw).max(fh / th);
    let (rh_f, rw_f) = (fh / ratio, fw / ratio);
    let (rh, rw) = (rh_f.floor() as usize, rw_f.floor() as usize);
    let top = ((th - rh_f) / 2.0).floor().max(0.0) as usize;
    let left = ((tw - rw_f) / 2.0).floor().max(0.0) as usize;
    let resized = resize(img, rh.max(1), rw.max(1), method)?;
    let c = img.c;
    let mut data = vec![0f32; h * w * c];
    for y in 0..resized.h.min(h.saturating_sub(top)) {
        for x in 0..resized.w.min(w.saturating_sub(left)) {
            let src = (y * resized.w + x) * c;
            let dst = ((y + top) * w + x + left) * c;
            data[dst..dst + c].copy_from_slice(&resized.data[src..src + c]);
        }
    }
    Ok(Image { h, w, c, data })
}

/// Resizes images to `size` = `(height, width)` without distorting their aspect ratio, as
/// `keras.preprocessing.image.smart_resize`: the largest centred crop with the target's
/// aspect ratio, resized with `interpolation` (`"bilinear"`, `"nearest"`, `"bicubic"`,
/// `"lanczos3"`, `"lanczos5"`). `x` is one `(height, width, channels)` image or a
/// `(batch, height, width, channels)` batch (channels last); the result is float32.
///
/// Resizing follows TensorFlow's `tf.image.resize` (the arithmetic of Keras's image
/// datasets); Keras-JAX's eager `smart_resize` uses `jax.image.resize`, equal for
/// `"bilinear"` to float rounding.
///
/// ```
/// use keras::prelude::*;
/// let img = Tensor::arange(0f32, 24.0, &Device::Cpu)?.reshape((4, 6, 1))?;
/// let out = keras::utils::smart_resize(&img, (2, 2), "bilinear")?;
/// assert_eq!(out.dims(), &[2, 2, 1]);
/// // the centre 4x4 crop, averaged 2x2
/// assert_eq!(out.flatten_all()?.to_vec1::<f32>()?, vec![4.5, 6.5, 16.5, 18.5]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn smart_resize(x: &Tensor, size: (usize, usize), interpolation: &str) -> Result<Tensor> {
    let method = Resample::parse(interpolation)?;
    let dims = x.dims().to_vec();
    if dims.len() < 3 || dims.len() > 4 {
        return Err(Error::value(format!(
            "Expected an image array with shape `(height, width, channels)`, or \
             `(batch_size, height, width, channels)`, but got input with incorrect rank, of \
             shape {dims:?}."
        )));
    }
    let (b, h, w, c) = if dims.len() == 4 {
        (dims[0], dims[1], dims[2], dims[3])
    } else {
        (1, dims[0], dims[1], dims[2])
    };
    let v = ops::to_vec_f32(x)?;
    let mut out = Vec::with_capacity(b * size.0 * size.1 * c);
    for i in 0..b {
        let n = h * w * c;
        let img = Image {
            h,
            w,
            c,
            data: v[i * n..(i + 1) * n].to_vec(),
        };
        out.extend(crop_and_resize(&img, size.0, size.1, method)?.data);
    }
    let mut shape = vec![size.0, size.1, c];
    if dims.len() == 4 {
        shape.insert(0, b);
    }
    ops::from_vec(out, &shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(h: usize, w: usize, c: usize) -> Image {
        Image {
            h,
            w,
            c,
            data: (0..h * w * c).map(|i| i as f32).collect(),
        }
    }

    #[test]
    fn same_size_is_identity_and_upscale_clamps_edges() {
        let a = img(3, 4, 2);
        for m in [Resample::Bilinear, Resample::Nearest] {
            assert_eq!(resize(&a, 3, 4, m).unwrap(), a);
        }
        let one = Image {
            h: 1,
            w: 2,
            c: 1,
            data: vec![0.0, 4.0],
        };
        let up = resize(&one, 1, 4, Resample::Bilinear).unwrap();
        assert_eq!(up.data, vec![0.0, 1.0, 3.0, 4.0]);
        let near = resize(&one, 1, 4, Resample::Nearest).unwrap();
        assert_eq!(near.data, vec![0.0, 0.0, 4.0, 4.0]);
        assert!(resize(&one, 0, 4, Resample::Nearest).is_err());
    }

    #[test]
    fn pad_centres_and_crop_keeps_ratio() {
        let a = img(2, 4, 1);
        let p = resize_with_pad(&a, 4, 4, Resample::Bilinear).unwrap();
        assert_eq!(p.data[..4], [0.0; 4]);
        assert_eq!(p.data[4..8], a.data[..4]);
        let c = crop_and_resize(&a, 2, 2, Resample::Nearest).unwrap();
        assert_eq!(c.data, vec![1.0, 2.0, 5.0, 6.0]);
    }

    #[test]
    fn parse_names() {
        assert_eq!(Resample::parse("Bilinear").unwrap(), Resample::Bilinear);
        let e = Resample::parse("cubic").unwrap_err().to_string();
        assert!(e.starts_with("Argument `interpolation` should be one of ('bilinear', "));
        assert!(e.ends_with("Received: interpolation=cubic"));
        assert!(Resample::parse("area")
            .unwrap_err()
            .to_string()
            .contains("keras-rs"));
    }

    #[test]
    fn decode_rules() {
        assert!(decode_image(b"not an image", 3).is_err());
        let mut png = Vec::new();
        let rgba = image::RgbaImage::from_raw(2, 1, vec![10, 20, 30, 40, 7, 7, 7, 0]).unwrap();
        image::DynamicImage::ImageRgba8(rgba)
            .write_to(
                &mut std::io::Cursor::new(&mut png),
                image::ImageOutputFormat::Png,
            )
            .unwrap();
        assert_eq!(
            decode_image(&png, 3).unwrap().data,
            vec![10., 20., 30., 7., 7., 7.]
        );
        assert_eq!(decode_image(&png, 4).unwrap().data[7], 0.0);
        let gray = decode_image(&png, 1).unwrap().data;
        assert_eq!(
            gray,
            vec![((9797 * 10 + 19234 * 20 + 3737 * 30) >> 15) as f32, 7.0]
        );
    }
}
