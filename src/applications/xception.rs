//! Xception (Chollet, 2017), as `keras.applications.Xception`.

use super::{head, input};
use crate::engine::{KerasTensor, LayerExt};
use crate::layers::{add, Activation, BatchNormalization, Conv2D, MaxPooling2D, SeparableConv2D};
use crate::models::Model;
use crate::Result;

/// The Xception network. Default input 299x299x3 (`(None, None, 3)` without the top);
/// 22,910,480 parameters with the top.
pub struct Xception {
    /// Only `None` (random initialization).
    pub weights: Option<String>,
    /// Include the classifier (global average pooling and a Dense layer).
    pub include_top: bool,
    /// `(height, width, channels)`.
    pub input_shape: Option<Vec<Option<usize>>>,
    /// Without the top: `None`, `"avg"` or `"max"` global pooling.
    pub pooling: Option<&'static str>,
    /// Number of classes of the top.
    pub classes: usize,
    /// Activation of the top.
    pub classifier_activation: &'static str,
}

impl Default for Xception {
    fn default() -> Self {
        Xception {
            weights: None,
            include_top: true,
            input_shape: None,
            pooling: None,
            classes: 1000,
            classifier_activation: "softmax",
        }
    }
}

fn sep(x: &KerasTensor, filters: usize, name: &str) -> Result<KerasTensor> {
    let x = SeparableConv2D::new(filters, 3)
        .padding("same")
        .use_bias(false)
        .name(name)
        .call(x)?;
    BatchNormalization::new()
        .name(&format!("{name}_bn"))
        .call(&x)
}

fn relu(x: &KerasTensor, name: &str) -> Result<KerasTensor> {
    Activation::new("relu").name(name).call(x)
}

fn shortcut(x: &KerasTensor, filters: usize) -> Result<KerasTensor> {
    let r = Conv2D::new(filters, 1)
        .strides(2)
        .padding("same")
        .use_bias(false)
        .call(x)?;
    BatchNormalization::new().call(&r)
}

impl Xception {
    /// Builds the model.
    pub fn build(&self) -> Result<Model> {
        let img = input(
            &self.weights,
            &self.input_shape,
            [299, 299, 3],
            self.include_top,
        )?;
        let x = Conv2D::new(32, 3)
            .strides(2)
            .use_bias(false)
            .name("block1_conv1")
            .call(&img)?;
        let x = BatchNormalization::new().name("block1_conv1_bn").call(&x)?;
        let x = relu(&x, "block1_conv1_act")?;
        let x = Conv2D::new(64, 3)
            .use_bias(false)
            .name("block1_conv2")
            .call(&x)?;
        let x = BatchNormalization::new().name("block1_conv2_bn").call(&x)?;
        let mut x = relu(&x, "block1_conv2_act")?;

        // Entry flow: blocks 2-4.
        for (b, f) in [(2, 128), (3, 256), (4, 728)] {
            let residual = shortcut(&x, f)?;
            let mut y = x.clone();
            if b > 2 {
                y = relu(&y, &format!("block{b}_sepconv1_act"))?;
            }
            y = sep(&y, f, &format!("block{b}_sepconv1"))?;
            y = relu(&y, &format!("block{b}_sepconv2_act"))?;
            y = sep(&y, f, &format!("block{b}_sepconv2"))?;
            y = MaxPooling2D::new(3)
                .strides(2)
                .padding("same")
                .name(&format!("block{b}_pool"))
                .call(&y)?;
            x = add(&[y, residual])?;
        }
        // Middle flow: blocks 5-12.
        for i in 0..8 {
            let residual = x.clone();
            let p = format!("block{}", i + 5);
            let mut y = x;
            for k in 1..=3 {
                y = relu(&y, &format!("{p}_sepconv{k}_act"))?;
                y = sep(&y, 728, &format!("{p}_sepconv{k}"))?;
            }
            x = add(&[y, residual])?;
        }
        // Exit flow.
        let residual = shortcut(&x, 1024)?;
        let y = relu(&x, "block13_sepconv1_act")?;
        let y = sep(&y, 728, "block13_sepconv1")?;
        let y = relu(&y, "block13_sepconv2_act")?;
        let y = sep(&y, 1024, "block13_sepconv2")?;
        let y = MaxPooling2D::new(3)
            .strides(2)
            .padding("same")
            .name("block13_pool")
            .call(&y)?;
        let x = add(&[y, residual])?;
        let x = sep(&x, 1536, "block14_sepconv1")?;
        let x = relu(&x, "block14_sepconv1_act")?;
        let x = sep(&x, 2048, "block14_sepconv2")?;
        let x = relu(&x, "block14_sepconv2_act")?;
        let out = head(
            x,
            self.include_top,
            self.pooling,
            self.classes,
            self.classifier_activation,
        )?;
        Ok(Model::new(&[img], &[out])?.name("xception"))
    }
}
