//! Image summaries (`tf.summary.image`) and Keras's weights-as-images (`write_images`),
//! PNG-encoded with the encoder the plots use.

use super::proto::TensorProto;
use super::SummaryWriter;
use crate::ops::{DType, Tensor};
use crate::utils::encode_png;
use crate::{Error, Result};

impl SummaryWriter {
    /// Images (`tf.summary.image`): `images` of shape `[k, height, width, channels]`
    /// (channels 1, 3 or 4), float values in `[0, 1]` (scaled to bytes as TensorFlow's
    /// `convert_image_dtype(..., saturate=True)`: `x * 255.5`, clamped). The first
    /// `max_outputs` images are PNG-encoded into a string tensor `[width, height, png...]`,
    /// plugin `images`.
    ///
    /// ```no_run
    /// # use keras::prelude::*;
    /// let mut w = keras::callbacks::tensorboard::SummaryWriter::create("logs")?;
    /// let img = Tensor::ones((1, 4, 6, 1), DType::F32, &Device::Cpu)?;
    /// w.image("white", &img, 0, 3)?;
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn image(
        &mut self,
        tag: &str,
        images: &Tensor,
        step: i64,
        max_outputs: usize,
    ) -> Result<()> {
        let dims = images.dims().to_vec();
        if dims.len() != 4 || ![1, 3, 4].contains(&dims[3]) {
            return Err(Error::shape(format!(
                "image summaries take a tensor of shape [k, height, width, channels] with 1, 3 \
                 or 4 channels; received shape {dims:?} for '{tag}'"
            )));
        }
        let data: Vec<f32> = images.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?;
        let tensor = image_tensor([dims[0], dims[1], dims[2], dims[3]], &data, max_outputs)?;
        self.write_tensor(tag, tensor, "images", b"", step)
    }
}

/// Keras's `_log_weight_as_image` layout of a weight: the value squeezed, then a bias `[n]`
/// as one `n x 1` image, a kernel `[a, b]` as one image (transposed so it is wider than tall),
/// a `[h, w, k]` value as `k` images of `h x w` (channels last), a 4-D value whose last
/// dimension is 1, 3 or 4 as it is; anything else has no image (`None`).
pub(crate) fn weight_images(value: &Tensor) -> Result<Option<Tensor>> {
    let value = value.to_dtype(DType::F32)?;
    let dims: Vec<usize> = value.dims().iter().copied().filter(|&d| d != 1).collect();
    let w = value.reshape(dims.as_slice())?;
    let img = match dims.len() {
        1 => w.reshape((1, dims[0], 1, 1))?,
        2 => {
            let w = if dims[0] > dims[1] { w.t()? } else { w };
            let (a, b) = w.dims2()?;
            w.contiguous()?.reshape((1, a, b, 1))?
        }
        3 => {
            let w = w.permute((2, 0, 1))?.contiguous()?;
            let (k, h, ww) = w.dims3()?;
            w.reshape((k, h, ww, 1))?
        }
        4 if [1, 3, 4].contains(&dims[3]) => w,
        _ => return Ok(None),
    };
    Ok(Some(img))
}

/// The image plugin's tensor: `[width, height, png_1, ..., png_m]` as strings.
pub(crate) fn image_tensor(
    shape: [usize; 4],
    data: &[f32],
    max_outputs: usize,
) -> Result<TensorProto> {
    let [k, h, w, c] = shape;
    let per = h * w * c;
    let mut values = vec![w.to_string().into_bytes(), h.to_string().into_bytes()];
    for i in 0..k.min(max_outputs) {
        let bytes: Vec<u8> = data[i * per..(i + 1) * per]
            .iter()
            // `as u8` saturates (NaN gives 0), as TensorFlow's saturate_cast.
            .map(|&v| (v * 255.5) as u8)
            .collect();
        values.push(encode_png(&bytes, w as u32, h as u32, c, None)?);
    }
    let n = values.len();
    Ok(TensorProto::strings(&[n], values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    #[test]
    fn png_layout() {
        let png = encode_png(&[0, 255], 2, 1, 1, None).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        // The IEND chunk's well-known CRC.
        assert_eq!(&png[png.len() - 4..], [0xae, 0x42, 0x60, 0x82]);
    }

    #[test]
    fn weights_laid_out_as_keras_does() -> Result<()> {
        let cpu = &Device::Cpu;
        let dims = |t: Option<Tensor>| t.map(|t| t.dims().to_vec());
        let bias = Tensor::zeros(5, DType::F32, cpu)?;
        assert_eq!(dims(weight_images(&bias)?), Some(vec![1, 5, 1, 1]));
        let tall = Tensor::zeros((6, 2), DType::F32, cpu)?;
        assert_eq!(dims(weight_images(&tall)?), Some(vec![1, 2, 6, 1]));
        let conv1d = Tensor::zeros((3, 4, 8), DType::F32, cpu)?;
        assert_eq!(dims(weight_images(&conv1d)?), Some(vec![8, 3, 4, 1]));
        let conv2d = Tensor::zeros((3, 3, 2, 8), DType::F32, cpu)?;
        assert_eq!(dims(weight_images(&conv2d)?), None);
        let t = image_tensor([5, 1, 2, 1], &[0.0; 10], 3)?;
        assert_eq!(t.string_val.len(), 2 + 3);
        assert_eq!(t.string_val[0], b"2");
        assert_eq!(t.string_val[1], b"1");
        Ok(())
    }
}
